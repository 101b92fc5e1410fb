//! Lists of names that turn into bit masks (`receive_override_options = no_milters, ...`).
//!
//! Postfix counterpart: `util/name_mask.c`: names are separated by commas and white space,
//! match exactly (or in any case, `NAME_MASK_ANY_CASE`), and an unknown name is an error
//! that names the parameter, the word and the whole value.

/// The mask for the names in `text`, each looked up in `table` exactly (Postfix's
/// default flags).
pub fn name_mask(param: &str, table: &[(&str, u32)], text: &str) -> Result<u32, String> {
    name_mask_opt(param, table, text, false)
}

/// The mask for the names in `text`; with `any_case`, names match in any case.
pub fn name_mask_opt(
    param: &str,
    table: &[(&str, u32)],
    text: &str,
    any_case: bool,
) -> Result<u32, String> {
    let mut mask = 0;
    for word in text
        .split([',', ' ', '\t', '\r', '\n'])
        .filter(|w| !w.is_empty())
    {
        let same = |name: &str| {
            if any_case {
                name.eq_ignore_ascii_case(word)
            } else {
                name == word
            }
        };
        match table.iter().find(|(name, _)| same(name)) {
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
    fn any_case_when_asked() {
        assert_eq!(name_mask_opt("p", TABLE, "One,TWO", true), Ok(3));
        assert!(name_mask_opt("p", TABLE, "One", false).is_err());
    }

    #[test]
    fn unknown_names_are_named() {
        assert_eq!(
            name_mask("p", TABLE, "one, One"),
            Err("unknown p value \"One\" in \"one, One\"".to_string())
        );
    }
}
