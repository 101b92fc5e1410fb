//! Splitting `name = value` text.
//!
//! Postfix counterpart: `util/split_nameval.c`. Whitespace around the name and the value is
//! dropped; the error texts are Postfix's.

/// Splits `text` into a name and a value, or says what is missing.
pub fn split(text: &str) -> Result<(&str, &str), &'static str> {
    let text = text.trim_start_matches(is_space);
    if text.is_empty() || text.starts_with('=') {
        return Err("missing attribute name");
    }
    let name_end = text.find(|c| is_space(c) || c == '=').unwrap_or(text.len());
    let (name, rest) = text.split_at(name_end);
    let Some(value) = rest.trim_start_matches(is_space).strip_prefix('=') else {
        return Err("missing '=' after attribute name");
    };
    Ok((name, value.trim_matches(is_space)))
}

/// C `isspace` in the C locale.
pub fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits() {
        assert_eq!(split("  a =  b c  "), Ok(("a", "b c")));
        assert_eq!(split("a=b=c"), Ok(("a", "b=c")));
        assert_eq!(split("a ="), Ok(("a", "")));
        assert_eq!(split(" = b"), Err("missing attribute name"));
        assert_eq!(split("a b"), Err("missing '=' after attribute name"));
    }
}
