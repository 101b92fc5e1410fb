//! Splitting a command line into words the way smtpd does.
//!
//! Postfix counterpart: `smtpd/smtpd_token.c`. Words are separated by white space, but a
//! `<...>` or `"..."` group is one word with whatever it holds (spaces included), and such
//! groups nest: inside `<...>` a `"` opens a quoted string and a `<` a deeper bracket;
//! inside `"..."` only `"` counts. A backslash takes the next byte literally (both stay in
//! the word). `TO:` and `FROM:` end a word at their colon, so that `MAIL FROM:<a@b>` is
//! `MAIL`, `FROM:`, `<a@b>`. A group left open at the end of the line makes its word
//! [`Token::bad`] (smtpd answers `501 5.1.7 Bad sender address syntax` and the like).
//! Quotes and brackets stay in the word: the address parser needs the external form.
//!
//! The line is a C string to Postfix: a NUL ends it.

use crate::text::{c_str, is_space};

/// One word of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The word, quotes, brackets and backslashes included.
    pub text: Vec<u8>,
    /// A `<` or `"` group in it was not closed (Postfix's `SMTPD_TOK_ERROR`).
    pub bad: bool,
}

/// The words of `line` (smtpd's `argv`; `argv[0]` is the command name).
pub fn tokenize(line: &[u8]) -> Vec<Token> {
    let line = c_str(line);
    let mut words = Vec::new();
    let mut pos = 0;
    while let Some(token) = next_token(line, &mut pos) {
        words.push(token);
    }
    words
}

/// The word starting at or after `*pos`, if any (`smtp_next_token()`).
fn next_token(line: &[u8], pos: &mut usize) -> Option<Token> {
    let mut token = Token {
        text: Vec::new(),
        bad: false,
    };
    while let Some(&c) = line.get(*pos) {
        *pos += 1;
        if is_space(c) {
            while line.get(*pos).is_some_and(|&b| is_space(b)) {
                *pos += 1;
            }
            if !token.text.is_empty() {
                break;
            }
        } else if c == b'<' {
            quoted(line, pos, &mut token, b'<', b'>');
        } else if c == b'"' {
            quoted(line, pos, &mut token, b'"', b'"');
        } else if c == b':' {
            token.text.push(c);
            if token.text.eq_ignore_ascii_case(b"to:") || token.text.eq_ignore_ascii_case(b"from:")
            {
                break;
            }
        } else {
            if c == b'\\' {
                token.text.push(c);
                let Some(&next) = line.get(*pos) else { break };
                *pos += 1;
                token.text.push(next);
                continue;
            }
            token.text.push(c);
        }
    }
    (!token.text.is_empty()).then_some(token)
}

/// Takes a `<...>` or `"..."` group, its opening `start` already read, up to the `last`
/// that closes it (`smtp_quoted()`).
fn quoted(line: &[u8], pos: &mut usize, token: &mut Token, start: u8, last: u8) {
    // What closes each open group, innermost last; its length is bounded by the line's.
    let mut wanted = vec![last];
    token.text.push(start);
    while let Some(&c) = line.get(*pos) {
        *pos += 1;
        token.text.push(c);
        let want = wanted.last().copied().unwrap_or(last);
        if c == b'\\' {
            let Some(&next) = line.get(*pos) else { break };
            *pos += 1;
            token.text.push(next);
        } else if c == want {
            if wanted.len() == 1 {
                return;
            }
            wanted.pop();
        } else if c == b'"' {
            wanted.push(b'"');
        } else if c == b'<' && want == b'>' {
            wanted.push(b'>');
        }
    }
    token.bad = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<(String, bool)> {
        tokenize(line.as_bytes())
            .into_iter()
            .map(|t| (String::from_utf8(t.text).unwrap(), t.bad))
            .collect()
    }

    fn ok(list: &[&str]) -> Vec<(String, bool)> {
        list.iter().map(|w| (w.to_string(), false)).collect()
    }

    #[test]
    fn mail_from_splits_at_the_colon() {
        assert_eq!(
            words("MAIL FROM:<a@b> SIZE=10"),
            ok(&["MAIL", "FROM:", "<a@b>", "SIZE=10"])
        );
        assert_eq!(words("mail from: <a@b>"), ok(&["mail", "from:", "<a@b>"]));
        assert_eq!(words("RCPT TO:<a b@c>"), ok(&["RCPT", "TO:", "<a b@c>"]));
        assert_eq!(words("MAIL FROM : x"), ok(&["MAIL", "FROM", ":", "x"]));
        assert_eq!(words("X a:b"), ok(&["X", "a:b"]));
    }

    #[test]
    fn groups_nest_and_quote() {
        assert_eq!(
            words("M <\"a>b\" <c>>x y"),
            ok(&["M", "<\"a>b\" <c>>x", "y"])
        );
        assert_eq!(words("M \"a <b\" c"), ok(&["M", "\"a <b\"", "c"]));
        assert_eq!(words("M a\\ b"), ok(&["M", "a\\ b"]));
    }

    #[test]
    fn open_groups_are_bad() {
        assert_eq!(
            words("MAIL FROM:<a@b"),
            vec![
                ("MAIL".into(), false),
                ("FROM:".into(), false),
                ("<a@b".into(), true)
            ]
        );
        assert_eq!(
            words("M \"a\\"),
            vec![("M".into(), false), ("\"a\\".into(), true)]
        );
    }

    #[test]
    fn nul_ends_the_line_and_blank_lines_have_no_words() {
        assert_eq!(words("NOOP\0 junk"), ok(&["NOOP"]));
        assert!(words(" \t ").is_empty());
        assert_eq!(words("a\\"), ok(&["a\\"]));
    }
}
