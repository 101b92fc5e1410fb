//! Enhanced status codes (RFC 3463) at the start of a reason text.
//!
//! Postfix counterpart: `global/dsn_util.c` (`dsn_valid`, `dsn_split`, `dsn_prepend`). A
//! code is a class digit (2, 4 or 5), a dot, one to three digits, a dot, and one to three
//! digits, ending the text or followed by white space. A reason such as a header check's
//! REJECT text may start with one; otherwise a default code goes in front. cleanup's
//! check actions, the delivery agents' status clients and the error agent use these.

/// The length of the status code at the start of `text`, 0 when there is none
/// (`dsn_valid`).
pub fn dsn_valid(text: &str) -> usize {
    let b = text.as_bytes();
    if b.len() < 2 || !matches!(b[0], b'2' | b'4' | b'5') || b[1] != b'.' {
        return 0;
    }
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let second = digits(2);
    if !(1..=3).contains(&second) || b.get(2 + second) != Some(&b'.') {
        return 0;
    }
    let start = 3 + second;
    let third = digits(start);
    let end = start + third;
    if !(1..=3).contains(&third) || b.get(end).is_some_and(|c| !is_space(*c)) {
        return 0;
    }
    end
}

/// C `isspace`.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// The status code of `text` (or `default`) and the text after it (`dsn_split`).
pub fn dsn_split<'a>(default: &'a str, text: &'a str) -> (&'a str, &'a str) {
    let text = text.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
    let len = dsn_valid(text);
    let (code, rest) = if len > 0 {
        (&text[..len], text.get(len + 1..).unwrap_or(""))
    } else {
        (&default[..dsn_valid(default)], text)
    };
    let rest = rest.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
    (code, rest)
}

/// `text` with its status code, `default` when it has none (`dsn_prepend`).
pub fn dsn_prepend(default: &str, text: &str) -> String {
    let (code, rest) = dsn_split(default, text);
    format!("{code} {rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_recognized() {
        assert_eq!(dsn_valid("5.7.1"), 5);
        assert_eq!(dsn_valid("4.123.456 text"), 9);
        assert_eq!(dsn_valid("5.7.1x"), 0);
        assert_eq!(dsn_valid("3.7.1"), 0);
        assert_eq!(dsn_valid("5.1234.1"), 0);
        assert_eq!(dsn_valid("5.7"), 0);
    }

    #[test]
    fn a_default_goes_in_front() {
        assert_eq!(dsn_prepend("5.7.1", "go away"), "5.7.1 go away");
        assert_eq!(dsn_prepend("5.7.1", " 4.2.0   later"), "4.2.0 later");
        assert_eq!(dsn_prepend("5.7.1", "5.7.0"), "5.7.0 ");
    }
}
