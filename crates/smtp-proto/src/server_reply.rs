//! The other side of the dialogue: a server's replies as the SMTP and LMTP client reads
//! them, and the EHLO (LHLO) keywords in the reply to EHLO.
//!
//! Postfix counterparts: `smtp_chat_resp()` in `smtp/smtp_chat.c` (a line is the last of
//! its reply when three digits are followed by a space or nothing; a line that is
//! neither a last nor a continuation line is kept in the text and reading goes on; the
//! reply code and the enhanced status code come from the last line, a status of another
//! class than the code being replaced by `X.0.0`, a reply without a code getting
//! `5.5.0`), `printable()` as it cleans each line, and the EHLO loop of `smtp_helo()` in
//! `smtp/smtp_proto.c` (the first line names the server, each later line a keyword
//! with its parameters). The client's I/O (programs/smtp/src/chat.rs) and the fuzz
//! target smtp_reply use these.

/// What a reply line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// `DDD text` or `DDD`: the reply's last line.
    Last,
    /// `DDD-text`: more lines follow.
    More,
    /// Neither: kept, and the reply goes on.
    Garbage,
}

/// What kind of reply line `line` is.
pub fn line_kind(line: &str) -> LineKind {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 3 {
        match line.as_bytes().get(3) {
            Some(b'-') => return LineKind::More,
            Some(b' ') | None => return LineKind::Last,
            _ => {}
        }
    }
    LineKind::Garbage
}

/// A reply line as text, control characters (and bytes of text that is not UTF-8 outside
/// printable ASCII) as `?` (`printable(..., '?')`).
pub fn printable(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(text) => text
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect(),
        Err(_) => raw
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    char::from(b)
                } else {
                    '?'
                }
            })
            .collect(),
    }
}

/// A whole reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerReply {
    /// The reply code; 0 when the last line has none.
    pub code: u32,
    /// The enhanced status code: the server's when it gave one of the reply's class,
    /// else `X.0.0` from the reply code, `5.5.0` for a reply without a 2xx, 4xx or 5xx
    /// code.
    pub dsn: String,
    /// The lines, joined with newlines.
    pub text: String,
}

/// The reply made of `lines`; `dsn_valid` is the length of the status code at the start
/// of a text, 0 when there is none (`dsn_valid()`, global's).
pub fn parse_reply(lines: &[String], dsn_valid: impl Fn(&str) -> usize) -> ServerReply {
    let text = lines.join("\n");
    let last = lines.last().map(String::as_str).unwrap_or("");
    let digits = last.bytes().take_while(u8::is_ascii_digit).count();
    let mut dsn = "5.5.0".to_string();
    let mut code = 0;
    if digits == 3 {
        code = last[..3].parse().unwrap_or(0);
        let class = last.as_bytes()[0];
        if b"245".contains(&class) {
            let rest = last[3..].trim_start_matches(' ');
            let len = dsn_valid(rest);
            dsn = if len > 0 && rest.as_bytes()[0] == class {
                rest[..len].to_string()
            } else {
                format!("{}.0.0", char::from(class))
            };
        }
    }
    ServerReply { code, dsn, text }
}

/// One keyword line of an EHLO reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EhloLine<'a> {
    /// The keyword as the server wrote it.
    pub keyword: &'a str,
    /// The line after the reply code and its `-` or space: the keyword and its
    /// parameters.
    pub rest: &'a str,
}

impl<'a> EhloLine<'a> {
    /// The parameters: what follows the keyword and its delimiter (a space, a tab, or the
    /// `=` of the old `AUTH=` form).
    pub fn params(&self) -> &'a str {
        let rest = self.rest;
        &rest[rest.find(['\t', ' ', '=']).map_or(rest.len(), |at| at + 1)..]
    }

    /// The words of the parameters, split at spaces, tabs and `=`.
    pub fn words(&self) -> impl Iterator<Item = &'a str> {
        self.rest
            .split([' ', '\t', '='])
            .filter(|w| !w.is_empty())
            .skip(1)
    }
}

/// The name the server gave on the first line of its EHLO reply, and the keyword lines
/// after it (lines without a keyword are skipped).
pub fn ehlo_lines(text: &str) -> (Option<&str>, Vec<EhloLine<'_>>) {
    let mut name = None;
    let mut keywords = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut parts = line.splitn(2, ['-', ' ']);
        parts.next();
        let rest = parts.next().unwrap_or("");
        let Some(word) = rest.split([' ', '\t', '=']).find(|w| !w.is_empty()) else {
            continue;
        };
        if n == 0 {
            name = Some(word);
        } else {
            keywords.push(EhloLine {
                keyword: word,
                rest,
            });
        }
    }
    (name, keywords)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Enough of `dsn_valid()` for the tests: `D.D.D`.
    fn valid(text: &str) -> usize {
        let b = text.as_bytes();
        if b.len() >= 5
            && b[1] == b'.'
            && b[3] == b'.'
            && b.iter().take(5).all(|c| c.is_ascii_digit() || *c == b'.')
            && b.get(5).is_none_or(|c| *c == b' ')
        {
            5
        } else {
            0
        }
    }

    fn reply(lines: &[&str]) -> ServerReply {
        parse_reply(
            &lines.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
            valid,
        )
    }

    #[test]
    fn codes_and_status() {
        let r = reply(&["250 2.0.0 Ok: queued as 4ABC"]);
        assert_eq!((r.code, r.dsn.as_str()), (250, "2.0.0"));
        let r = reply(&[
            "550-5.1.1 first",
            "550 5.1.1 <x@y>: Recipient address rejected",
        ]);
        assert_eq!((r.code, r.dsn.as_str()), (550, "5.1.1"));
        assert_eq!(
            r.text,
            "550-5.1.1 first\n550 5.1.1 <x@y>: Recipient address rejected"
        );
        // A status of another class than the code is not the reply's status.
        assert_eq!(reply(&["451 5.1.1 odd"]).dsn, "4.0.0");
        assert_eq!(reply(&["354 go ahead"]).dsn, "5.5.0");
        assert_eq!(reply(&["garbage"]).code, 0);
        assert_eq!(reply(&["421 closing"]).dsn, "4.0.0");
    }

    #[test]
    fn line_kinds() {
        assert_eq!(line_kind("250-PIPELINING"), LineKind::More);
        assert_eq!(line_kind("250 OK"), LineKind::Last);
        assert_eq!(line_kind("250"), LineKind::Last);
        assert_eq!(line_kind("25 x"), LineKind::Garbage);
        assert_eq!(line_kind("2500 x"), LineKind::Garbage);
        assert_eq!(printable(b"a\tb\x7f"), "a?b?");
        assert_eq!(printable(b"\xff ok"), "? ok");
    }

    #[test]
    fn ehlo_keywords() {
        let (name, lines) = ehlo_lines(
            "250-mx.example ESMTP\n250-SIZE 1000\n250-AUTH=LOGIN PLAIN\n250-\n250 8BITMIME",
        );
        assert_eq!(name, Some("mx.example"));
        let words: Vec<(&str, &str, Vec<&str>)> = lines
            .iter()
            .map(|l| (l.keyword, l.params(), l.words().collect()))
            .collect();
        assert_eq!(
            words,
            [
                ("SIZE", "1000", vec!["1000"]),
                ("AUTH", "LOGIN PLAIN", vec!["LOGIN", "PLAIN"]),
                ("8BITMIME", "", vec![]),
            ]
        );
    }
}
