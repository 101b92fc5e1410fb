//! SMTP replies as smtpd sends them.
//!
//! Postfix counterpart: `vsmtpd_chat_reply()` in `smtpd/smtpd_chat.c`. A reply is one or
//! more lines `CODE-text` ... `CODE text`; the text of each reply is Postfix's, enhanced
//! status code included (RFC 2034 asks for one in every reply but the greeting and the
//! HELO/EHLO answers, and Postfix follows that). What smtpd does to every reply on the way
//! out is here too: `soft_bounce` turns 5xx into 4xx (and a 5.x.x detail into 4.x.x), and a
//! 421 or 521 reply ends the session. The reject footer (`smtpd_reject_footer`, with its
//! `$name` expansion) is the session's, before it hands the text to [`Reply::from_text`].

use std::fmt;

/// One SMTP reply: its lines without CRLF. Lines are bytes because some replies echo
/// client input (`555 5.5.4 Unsupported option: ...`), which may be 8-bit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    lines: Vec<Vec<u8>>,
}

impl Reply {
    /// A one-line reply, such as `250 2.0.0 Ok`.
    pub fn new(text: impl Into<Vec<u8>>) -> Reply {
        Reply {
            lines: vec![text.into()],
        }
    }

    /// A reply from text that may hold several lines separated by CRLF, as smtpd splits
    /// milter replies and replies with a footer: every line but the last gets `-` after
    /// its code (Postfix's "contact footer kludge").
    pub fn from_text(text: &[u8]) -> Reply {
        let mut lines: Vec<Vec<u8>> = split_crlf(text).into_iter().map(<[u8]>::to_vec).collect();
        let last = lines.len().saturating_sub(1);
        for line in &mut lines[..last] {
            if let Some(b) = line.get_mut(3) {
                *b = b'-';
            }
        }
        Reply { lines }
    }

    /// A multi-line reply with code `code`: `CODE-first`, ..., `CODE last` (the EHLO
    /// reply).
    pub fn multiline<I, S>(code: u16, texts: I) -> Reply
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let texts: Vec<S> = texts.into_iter().collect();
        let last = texts.len().saturating_sub(1);
        let lines = texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let mut line = format!("{code}{}", if i == last { ' ' } else { '-' }).into_bytes();
                line.extend_from_slice(text.as_ref());
                line
            })
            .collect();
        Reply { lines }
    }

    /// The lines, without CRLF.
    pub fn lines(&self) -> &[Vec<u8>] {
        &self.lines
    }

    /// The three-digit reply code, if the reply starts with one.
    pub fn code(&self) -> Option<u16> {
        let first = self.lines.first()?;
        let digits = first.get(..3)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    }

    /// Whether this is a 4xx or 5xx reply.
    pub fn is_reject(&self) -> bool {
        matches!(
            self.lines.first().and_then(|l| l.first()),
            Some(b'4' | b'5')
        )
    }

    /// Whether smtpd hangs up after sending this reply (421 or 521).
    pub fn ends_session(&self) -> bool {
        self.lines
            .first()
            .is_some_and(|l| l.starts_with(b"421") || l.starts_with(b"521"))
    }

    /// The reply under `soft_bounce = yes`: every 5xx line becomes 4xx, and its enhanced
    /// status code 5.x.x becomes 4.x.x.
    pub fn soft_bounce(mut self) -> Reply {
        for line in &mut self.lines {
            if line.first() == Some(&b'5') {
                line[0] = b'4';
                if let Some(b) = line.get_mut(4).filter(|b| **b == b'5') {
                    *b = b'4';
                }
            }
        }
        self
    }

    /// Appends the reply as it goes on the wire: each line followed by CRLF.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        for line in &self.lines {
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
        }
    }

    /// The reply as it goes on the wire.
    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out);
        out
    }
}

/// Shows the reply's lines separated by CRLF (8-bit bytes that are not UTF-8 as U+FFFD),
/// as Postfix's reply buffer holds it: what log lines such as `NOQUEUE: reject: ...` quote.
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 {
                f.write_str("\r\n")?;
            }
            f.write_str(&String::from_utf8_lossy(line))?;
        }
        Ok(())
    }
}

/// The lines of `text`, split at CRLF; a CRLF at the very end ends the last line.
fn split_crlf(text: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.windows(2).position(|w| w == b"\r\n") {
        lines.push(&rest[..i]);
        rest = &rest[i + 2..];
    }
    if !rest.is_empty() || lines.is_empty() {
        lines.push(rest);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiline_and_wire_format() {
        let reply = Reply::multiline(250, ["mail.example", "PIPELINING", "CHUNKING"]);
        assert_eq!(
            reply.to_wire(),
            b"250-mail.example\r\n250-PIPELINING\r\n250 CHUNKING\r\n"
        );
        assert_eq!(reply.code(), Some(250));
        assert!(!reply.is_reject());
    }

    #[test]
    fn text_with_crlf_becomes_lines() {
        let reply = Reply::from_text(b"550 5.7.1 no\r\n550 5.7.1 see footer\r\n");
        assert_eq!(reply.to_wire(), b"550-5.7.1 no\r\n550 5.7.1 see footer\r\n");
        assert_eq!(Reply::from_text(b"250 ok").to_wire(), b"250 ok\r\n");
    }

    #[test]
    fn soft_bounce_and_hangup() {
        let reply = Reply::new("554 5.5.1 Error: no valid recipients").soft_bounce();
        assert_eq!(reply.to_string(), "454 4.5.1 Error: no valid recipients");
        assert!(Reply::new("421 4.4.2 x Error: timeout exceeded").ends_session());
        assert!(Reply::new("521 5.5.1 Error: command not implemented").ends_session());
        assert!(!Reply::new("550 5.5.1 x").ends_session());
    }
}
