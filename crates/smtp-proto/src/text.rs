//! The byte-string helpers that smtpd's replies and log lines are made with.
//!
//! Postfix counterparts: `util/printable.c`, `util/unescape.c` (`escape()`),
//! `util/stringops.h` (`neuter()`, `alldig()`, `allprint()`), `util/sys_defs.h` (`ISSPACE`,
//! `ISPRINT`), `util/valid_utf8_string.c` and `global/off_cvt.c`. Client input is bytes,
//! not text: a command line may hold 8-bit characters (with `smtputf8_enable = no`) or a
//! NUL. Postfix's strings are C strings, so text handed to a `%s` ends at the first NUL;
//! [`c_str`] is that cut, and the helpers here apply it where Postfix's callers would.

/// The part of `bytes` that a C string holds: everything before the first NUL.
pub fn c_str(bytes: &[u8]) -> &[u8] {
    bytes
        .iter()
        .position(|&b| b == 0)
        .map_or(bytes, |nul| &bytes[..nul])
}

/// Whether `b` is white space to smtpd's tokenizer (C's `isspace()` in the C locale).
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Whether `b` is a printable ASCII character, space included (`ISASCII && ISPRINT`).
pub fn is_print(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

/// Whether `text` is non-empty and all ASCII digits (`alldig()`).
pub fn alldig(text: &[u8]) -> bool {
    !text.is_empty() && text.iter().all(u8::is_ascii_digit)
}

/// Whether the C string in `text` is non-empty and all printable ASCII (`allprint()`).
pub fn allprint(text: &[u8]) -> bool {
    let text = c_str(text);
    !text.is_empty() && text.iter().all(|&b| is_print(b))
}

/// Whether `text` is UTF-8 by RFC 3629 (`valid_utf8_string()`): no over-long forms, no
/// surrogates, nothing above U+10FFFF. A NUL is a valid character.
pub fn valid_utf8(text: &[u8]) -> bool {
    std::str::from_utf8(text).is_ok()
}

/// A string of digits as a non-negative file offset, `None` when it is not all digits or
/// does not fit (`off_cvt_string()`; Postfix's `off_t` is 64 bits, signed).
pub fn off_cvt(digits: &[u8]) -> Option<u64> {
    let mut value: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    u64::try_from(value).ok()
}

/// The C string in `text` with each character that is neither printable ASCII nor (when
/// `utf8` is on, Postfix's `util_utf8_enable`, which smtpd sets from `smtputf8_enable`)
/// part of a UTF-8-looking multi-byte sequence replaced by `replacement` (`printable()`).
///
/// Postfix's test for a multi-byte sequence is loose (a lead byte 0xC2..0xFE followed by
/// continuation bytes), and so is this one, so that the same bytes survive.
pub fn printable(text: &[u8], replacement: u8, utf8: bool) -> Vec<u8> {
    let mut out = c_str(text).to_vec();
    let mut i = 0;
    while i < out.len() {
        let ch = out[i];
        let continues = |j: usize, out: &[u8]| out.get(j).is_some_and(|&c| (128..192).contains(&c));
        if is_print(ch) {
            // Printable ASCII stays.
        } else if utf8 && (194..=254).contains(&ch) && continues(i + 1, &out) {
            while continues(i + 1, &out) {
                i += 1;
            }
        } else {
            out[i] = replacement;
        }
        i += 1;
    }
    out
}

/// [`printable`] as text for a log line or reply; bytes that are still not UTF-8 (an 8-bit
/// sequence that only looked like UTF-8) show as U+FFFD.
pub fn printable_text(text: &[u8], replacement: u8, utf8: bool) -> String {
    String::from_utf8_lossy(&printable(text, replacement, utf8)).into_owned()
}

/// `text` with backslash escapes for everything that is not printable ASCII, and `\\` for a
/// backslash (`escape()`): what smtpd logs when it shows raw client input, such as
/// pipelined commands or a non-SMTP command.
pub fn escape(text: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    for &ch in text {
        match ch {
            b'\\' => out.push_str("\\\\"),
            _ if is_print(ch) => out.push(char::from(ch)),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x0b => out.push_str("\\v"),
            _ => out.push_str(&format!("\\{ch:03o}")),
        }
    }
    out
}

/// `text` with every byte from `special` replaced by `replacement` (`neuter()`).
pub fn neuter(text: &mut [u8], special: &[u8], replacement: u8) {
    for b in text.iter_mut().filter(|b| special.contains(b)) {
        *b = replacement;
    }
}

/// At most `max` bytes of `text`, as `%.Ns` prints it (which may split a UTF-8 character;
/// the caller shows the result with [`String::from_utf8_lossy`]).
pub fn truncated(text: &[u8], max: usize) -> &[u8] {
    &text[..text.len().min(max)]
}

/// Whether two byte strings are equal ignoring ASCII case (`strcasecmp() == 0`).
pub fn eq_nocase(a: &[u8], b: &str) -> bool {
    a.eq_ignore_ascii_case(b.as_bytes())
}

/// The rest of `text` after `prefix` when `text` starts with it, ignoring ASCII case
/// (`strncasecmp(text, prefix, strlen(prefix)) == 0`).
pub fn strip_prefix_nocase<'a>(text: &'a [u8], prefix: &str) -> Option<&'a [u8]> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix.as_bytes())
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_keeps_utf8_only_when_enabled() {
        assert_eq!(printable("é\x01".as_bytes(), b'?', true), "é?".as_bytes());
        assert_eq!(printable("é".as_bytes(), b'?', false), b"??");
        assert_eq!(printable(b"a\xffb\0c", b'?', true), b"a?b");
    }

    #[test]
    fn escape_as_postfix_logs_it() {
        assert_eq!(escape(b"MAIL\r\n\\\x01\xff"), "MAIL\\r\\n\\\\\\001\\377");
    }

    #[test]
    fn offsets_stop_at_overflow() {
        assert_eq!(off_cvt(b"9223372036854775807"), Some(i64::MAX as u64));
        assert_eq!(off_cvt(b"9223372036854775808"), None);
        assert_eq!(off_cvt(b"12a"), None);
        assert_eq!(off_cvt(b""), Some(0));
    }

    #[test]
    fn allprint_stops_at_nul() {
        assert!(allprint(b"a\0\x01"));
        assert!(!allprint(b"\0a"));
        assert!(!allprint(b"a\x7f"));
    }
}
