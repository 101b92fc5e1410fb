//! Text made safe for a log line: every byte that is not printable shows as '?'.
//!
//! Postfix counterpart: `util/printable.c`, which `msg_output.c` applies to every log
//! record. A client's command, a header or a table value may carry a newline, a tab or
//! stray 8-bit bytes; logged as they are, they would split or corrupt the line that
//! pflogsumm and fail2ban read. Printable is ASCII 0x20-0x7e, and, when `utf8` is on
//! (Postfix's `util_utf8_enable`, from smtputf8_enable), any well-formed UTF-8 character.
//! Bytes carried by `eight_bit` that are not UTF-8 show as one '?' each.

use crate::eight_bit;
use std::borrow::Cow;

/// `text` with each byte that is not printable replaced by '?'.
pub fn printable(text: &str, utf8: bool) -> Cow<'_, str> {
    if text.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let mut buf = [0; 4];
        let encoded = c.encode_utf8(&mut buf);
        let shown = c.is_ascii_graphic()
            || c == ' '
            || (utf8 && !c.is_ascii() && eight_bit::is_utf8(encoded));
        if shown {
            out.push(c);
        } else {
            let bytes = eight_bit::to_bytes(encoded).len();
            out.extend(std::iter::repeat_n('?', bytes));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_and_stray_bytes_show_as_question_marks() {
        assert_eq!(printable("plain text", true), "plain text");
        assert_eq!(printable("a\n\tb\r\x7f", true), "a??b??");
        assert_eq!(printable("caf\u{e9}", true), "caf\u{e9}");
        assert_eq!(printable("caf\u{e9}", false), "caf??");
        let stray = crate::eight_bit::to_text(b"x\xffy").into_owned();
        assert_eq!(printable(&stray, true), "x?y");
    }
}
