//! Lists of names that turn into bit masks (`receive_override_options = no_milters, ...`).
//!
//! Postfix counterpart: `util/name_mask.c` with its default flags: names are separated by
//! commas and white space, match exactly, and an unknown name is an error that names the
//! parameter, the word and the whole value.

/// The mask for the names in `text`, each looked up in `table`.
pub fn name_mask(param: &str, table: &[(&str, u32)], text: &str) -> Result<u32, String> {
    let mut mask = 0;
    for word in text
        .split([',', ' ', '\t', '\r', '\n'])
        .filter(|w| !w.is_empty())
    {
        match table.iter().find(|(name, _)| *name == word) {
            Some((_, bits)) => mask |= bits,
            None => return Err(format!("unknown {param} value \"{word}\" in \"{text}\"")),
        }
    }
    Ok(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[(&str, u32)] = &[("one", 1), ("two", 2), ("four", 4)];

    #[test]
    fn names_become_bits() {
        assert_eq!(name_mask("p", TABLE, ""), Ok(0));
        assert_eq!(name_mask("p", TABLE, "one,\tfour"), Ok(5));
        assert_eq!(name_mask("p", TABLE, " two two "), Ok(2));
    }

    #[test]
    fn unknown_names_are_named() {
        assert_eq!(
            name_mask("p", TABLE, "one, One"),
            Err("unknown p value \"One\" in \"one, One\"".to_string())
        );
    }
}
