//! Backslash escapes in parameter values, resolved to the bytes they stand for.
//!
//! Postfix counterpart: `util/unescape.c` (`unescape`). cleanup reads
//! message_reject_characters and message_strip_characters with it, pipe the `eol=`
//! attribute of its command line: `\a \b \f \n \r \t \v`, one to three octal digits
//! (a value above 255 keeps its low eight bits, as C's char assignment does), and a
//! backslash before any other character stands for that character. A backslash at the
//! very end is dropped.

/// The bytes that `text` stands for (`unescape`).
pub fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes().peekable();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let Some(escaped) = bytes.next() else {
            break;
        };
        out.push(match escaped {
            b'a' => 7,
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 11,
            b'0'..=b'7' => {
                let mut value = u32::from(escaped - b'0');
                for _ in 0..2 {
                    match bytes.peek() {
                        Some(&d @ b'0'..=b'7') => {
                            value = (value << 3) | u32::from(d - b'0');
                            bytes.next();
                        }
                        _ => break,
                    }
                }
                value as u8
            }
            other => other,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn escapes_become_bytes() {
        assert_eq!(unescape(r"\0\f\t"), b"\0\x0c\t");
        assert_eq!(unescape(r"a\101\0101\q\"), b"aA\x081q");
        assert_eq!(unescape(r"\777"), [0xff]);
        assert_eq!(unescape(r"a\tb\101\\\q"), b"a\tbA\\q");
        assert_eq!(unescape(r"\015\012"), b"\r\n");
        assert_eq!(unescape(r"\a\b\v\n\r\8"), b"\x07\x08\x0b\n\r8");
        assert_eq!(unescape("plain"), b"plain");
    }
}
