//! Splitting lists and command lines into tokens.
//!
//! Postfix counterparts: `util/mystrtok.c` (`mystrtok`, `mystrtokq`) and `util/extpar.c`.
//! Postfix lists are separated by whitespace and/or commas; master.cf command arguments may
//! group words with `{ }` (Postfix 3.0), whose outer braces and the whitespace just inside
//! them are removed.

/// The separators of Postfix parameter lists (`CHARS_COMMA_SP`).
pub const COMMA_SPACE: &str = ", \t\r\n";

/// The separators of whitespace-only lists (`CHARS_SPACE`).
pub const SPACE: &str = " \t\r\n";

/// Splits `text` at any of the `separators`, dropping empty tokens.
pub fn split<'a>(text: &'a str, separators: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    text.split(move |c| separators.contains(c))
        .filter(|t| !t.is_empty())
}

/// Splits like [`split`], but keeps `{ ... }` groups (with nested braces) as one token.
/// An unbalanced `{` is returned as an error naming the text from the brace on.
pub fn split_braced<'a>(text: &'a str, separators: &str) -> Result<Vec<&'a str>, String> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if separators.as_bytes().contains(&bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut depth = 0usize;
        while i < bytes.len() {
            match bytes[i] {
                b'{' => depth += 1,
                b'}' if depth > 0 => depth -= 1,
                c if depth == 0 && separators.as_bytes().contains(&c) => break,
                _ => {}
            }
            i += 1;
        }
        if depth > 0 {
            return Err(format!("missing '}}' in \"{}\"", &text[start..]));
        }
        tokens.push(&text[start..i]);
    }
    Ok(tokens)
}

/// Removes the outer `{ }` of a grouped token and the whitespace just inside them
/// (`extpar` with `EXTPAR_FLAG_STRIP`). Text without braces is returned as is.
pub fn strip_braces(token: &str) -> Result<&str, String> {
    let Some(inner) = token.strip_prefix('{') else {
        return Ok(token);
    };
    match inner.strip_suffix('}') {
        Some(inner) => Ok(inner.trim_matches(|c| SPACE.contains(c))),
        None => Err(format!("syntax error after '}}' in \"{token}\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists() {
        let got: Vec<_> = split("a, b,,c\td", COMMA_SPACE).collect();
        assert_eq!(got, ["a", "b", "c", "d"]);
    }

    #[test]
    fn braces() {
        let got = split_braced("-o { a = b c } x{y z}w -v", SPACE).unwrap();
        assert_eq!(got, ["-o", "{ a = b c }", "x{y z}w", "-v"]);
        assert_eq!(strip_braces("{ a = b c }"), Ok("a = b c"));
        assert!(split_braced("-o { a", SPACE).is_err());
    }
}
