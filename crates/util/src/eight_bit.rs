//! Carrying bytes that are not UTF-8 through code that works on text, and back unchanged.
//!
//! Postfix counterpart: none; Postfix's strings are bytes, so a Latin-1 address from an
//! old client goes through trivial-rewrite as it came. ironpost's address code works on
//! `str`. [`to_text`] turns each byte that is not part of a UTF-8 character into one
//! character of the private use range U+10FF80..U+10FFFF (the idea of Python's
//! "surrogateescape", whose surrogates a Rust `str` cannot hold), and [`to_bytes`] turns
//! those characters back into the bytes. UTF-8 comes through as itself, so text that never
//! held such a byte is not touched; a UTF-8 character that is itself in that range is
//! carried byte by byte, so that `to_bytes(&to_text(b)) == b` for all bytes `b`. A carried
//! byte is not ASCII, so parsing that splits at ASCII characters (RFC 822 tokens, `@`,
//! `.`) treats it as Postfix treats an 8-bit byte.

use std::borrow::Cow;

/// Where the carried bytes 0x80..=0xFF are: U+10FF80..=U+10FFFF.
const BASE: u32 = 0x10FF00;

/// The byte that `c` carries, if it is one of the carrying characters.
fn carried(c: char) -> Option<u8> {
    let code = c as u32;
    (code >= BASE + 0x80).then(|| (code - BASE) as u8)
}

/// The character that carries byte `b` (always 0x80 or more: ASCII is valid UTF-8).
fn carry(b: u8) -> char {
    char::from_u32(BASE + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// `bytes` as text: UTF-8 as is, any other byte carried by a private use character.
pub fn to_text(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && !text.chars().any(|c| carried(c).is_some())
    {
        return Cow::Borrowed(text);
    }
    let mut text = String::with_capacity(bytes.len() * 2);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if carried(c).is_some() {
                text.extend(c.encode_utf8(&mut [0; 4]).bytes().map(carry));
            } else {
                text.push(c);
            }
        }
        text.extend(chunk.invalid().iter().copied().map(carry));
    }
    Cow::Owned(text)
}

/// The bytes that `text` (from [`to_text`], perhaps changed since) stands for.
pub fn to_bytes(text: &str) -> Cow<'_, [u8]> {
    if !text.chars().any(|c| carried(c).is_some()) {
        return Cow::Borrowed(text.as_bytes());
    }
    let mut bytes = Vec::with_capacity(text.len());
    for c in text.chars() {
        match carried(c) {
            Some(b) => bytes.push(b),
            None => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    Cow::Owned(bytes)
}

/// `text` for a log line: a carried byte shows as U+FFFD, as any byte that is not UTF-8
/// does in ironpost's logs.
pub fn shown(text: &str) -> Cow<'_, str> {
    match to_bytes(text) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
    }
}

/// Whether the bytes that `text` stands for are UTF-8 (Postfix's `valid_utf8_string`).
pub fn is_utf8(text: &str) -> bool {
    std::str::from_utf8(&to_bytes(text)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_untouched() {
        for text in ["", "user@example.com", "jörg@bücher.example", "\u{10FF7F}"] {
            assert!(matches!(to_text(text.as_bytes()), Cow::Borrowed(t) if t == text));
            assert!(matches!(to_bytes(text), Cow::Borrowed(b) if b == text.as_bytes()));
            assert!(is_utf8(text));
        }
    }

    #[test]
    fn other_bytes_are_carried() {
        let latin1 = b"j\xf6rg@b\xfccher.example";
        let text = to_text(latin1);
        assert_eq!(text, "j\u{10FFF6}rg@b\u{10FFFC}cher.example");
        assert!(!is_utf8(&text));
        assert_eq!(shown(&text), "j\u{FFFD}rg@b\u{FFFD}cher.example");
        // What text code does to it keeps the bytes: here, appending a UTF-8 domain.
        let local = &text[..text.find('@').unwrap()];
        let appended = format!("{local}@bücher.example");
        assert_eq!(&*to_bytes(&appended), b"j\xf6rg@b\xc3\xbccher.example");
    }

    /// Every string of up to two bytes, and every carrying character in UTF-8 among other
    /// bytes, comes back as it was.
    #[test]
    fn every_byte_string_comes_back() {
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for a in 0..=255u8 {
            cases.push(vec![a]);
            for b in 0..=255u8 {
                cases.push(vec![a, b]);
            }
        }
        for b in 0x80..=0xFFu8 {
            let mut own = String::from("x");
            own.push(carry(b));
            cases.push(own.clone().into_bytes());
            cases.push([own.as_bytes(), b"\xff", own.as_bytes()].concat());
            cases.push([&own.as_bytes()[..3], b"y"].concat());
        }
        for case in cases {
            let text = to_text(&case);
            assert_eq!(&*to_bytes(&text), &case[..], "{}", case.escape_ascii());
            assert_eq!(is_utf8(&text), std::str::from_utf8(&case).is_ok());
        }
    }
}
