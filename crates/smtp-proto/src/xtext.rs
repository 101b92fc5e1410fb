//! Decoding the `xtext` of DSN parameters (RFC 3461) and the `utf-8-addr-xtext` of
//! ORCPT=utf-8 (RFC 6533).
//!
//! Postfix counterparts: `global/xtext.c` (`xtext_unquote()`) and `global/uxtext.c`
//! (`uxtext_unquote()`). Both decode to bytes: `+00` and `\x{0}` give a NUL, and
//! `\x{D800}` gives the three bytes Postfix writes for it, which are not UTF-8. What to do
//! with such bytes is the caller's business (ENVID keeps the part before a NUL and must be
//! printable; ORCPT keeps them).

/// The value of one hexadecimal digit, either case.
fn hex(b: u8) -> Option<u32> {
    char::from(b).to_digit(16)
}

/// Decodes xtext: `+XX` (two hex digits, either case) is the byte XX, anything else is
/// itself. `None` when a `+` is not followed by two hex digits.
pub fn xtext_decode(quoted: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(quoted.len());
    let mut i = 0;
    while let Some(&b) = quoted.get(i) {
        if b == b'+' {
            let hi = hex(*quoted.get(i + 1)?)?;
            let lo = hex(*quoted.get(i + 2)?)?;
            out.push((hi << 4 | lo) as u8);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(out)
}

/// Decodes RFC 6533's utf-8-addr-xtext as Postfix does: `\x{HEX}` is the code point HEX
/// (at most U+10FFFF) in UTF-8, anything else, `+` included, is itself. `None` when a
/// `\x{` is not closed by `}` after hex digits only, or names a code point that is too
/// large.
pub fn uxtext_decode(quoted: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(quoted.len());
    let mut i = 0;
    while let Some(&b) = quoted.get(i) {
        if quoted[i..].starts_with(b"\\x{") {
            i += 3;
            let mut code: u32 = 0;
            loop {
                let c = *quoted.get(i)?;
                i += 1;
                if c == b'}' {
                    break;
                }
                code = code << 4 | hex(c)?;
                if code > 0x10ffff {
                    return None;
                }
            }
            push_utf8(&mut out, code);
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(out)
}

/// Appends `code` in UTF-8's bit layout, surrogates included (Postfix does not refuse
/// them, and a Rust `char` cannot hold them).
fn push_utf8(out: &mut Vec<u8>, code: u32) {
    // Each `as u8` below keeps the low bits, as intended.
    if code < 0x80 {
        out.push(code as u8);
    } else if code < 0x800 {
        out.extend([0xc0 | (code >> 6) as u8, 0x80 | (code & 0x3f) as u8]);
    } else if code < 0x10000 {
        out.extend([
            0xe0 | (code >> 12) as u8,
            0x80 | ((code >> 6) & 0x3f) as u8,
            0x80 | (code & 0x3f) as u8,
        ]);
    } else {
        out.extend([
            0xf0 | (code >> 18) as u8,
            0x80 | ((code >> 12) & 0x3f) as u8,
            0x80 | ((code >> 6) & 0x3f) as u8,
            0x80 | (code & 0x3f) as u8,
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xtext() {
        assert_eq!(xtext_decode(b"a+2Bb+2c"), Some(b"a+b,".to_vec()));
        assert_eq!(xtext_decode(b"a+00"), Some(b"a\0".to_vec()));
        assert_eq!(xtext_decode(b"a+2"), None);
        assert_eq!(xtext_decode(b"a+g0"), None);
        assert_eq!(xtext_decode(b""), Some(Vec::new()));
    }

    #[test]
    fn uxtext() {
        assert_eq!(uxtext_decode(b"a\\x{40}b+40"), Some(b"a@b+40".to_vec()));
        assert_eq!(
            uxtext_decode(b"\\x{E9}\\x{1F600}"),
            Some("é😀".as_bytes().to_vec())
        );
        assert_eq!(uxtext_decode(b"\\x{D800}"), Some(vec![0xed, 0xa0, 0x80]));
        assert_eq!(uxtext_decode(b"\\x{}"), Some(vec![0]));
        assert_eq!(uxtext_decode(b"\\x{110000}"), None);
        assert_eq!(uxtext_decode(b"\\x{41"), None);
        assert_eq!(uxtext_decode(b"\\x{4G}"), None);
        assert_eq!(uxtext_decode(b"\\x41"), Some(b"\\x41".to_vec()));
    }
}
