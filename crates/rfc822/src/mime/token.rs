//! Splitting a header value into RFC 822 tokens, the way the MIME processor reads
//! `Content-Type:` and `Content-Transfer-Encoding:`.
//!
//! Postfix counterpart: `global/header_token.c`. White space (space, tab, CR, LF) and
//! comments are skipped, a quoted-string is one token (unfolded and unquoted), each special
//! or control character is a token of its own, and anything else up to the next of those is
//! an atom. Non-ASCII bytes are atom text.

/// The RFC 822 specials, the default set (`LEX_822_SPECIALS`).
pub const RFC822_SPECIALS: &[u8] = b"()<>@,;:\\\".[]";

/// The RFC 2045 tspecials, for parameters of `Content-Type:` (`RFC2045_TSPECIALS`).
pub const RFC2045_TSPECIALS: &[u8] = b"()<>@,;:\\\"/[]?=";

/// What kind of token a [`HeaderToken`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// An atom: text without specials, controls or white space (`HEADER_TOK_TOKEN`).
    Atom,
    /// A quoted-string, without its quotes and backslashes (`HEADER_TOK_QSTRING`).
    QuotedString,
    /// A special or control character; the value is that character.
    Special(u8),
}

/// One token of a header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderToken {
    /// The token's kind.
    pub kind: TokenKind,
    /// The token's text.
    pub value: Vec<u8>,
}

impl HeaderToken {
    /// Whether this is an atom equal to `word`, ignoring ASCII case (Postfix's
    /// `TOKEN_MATCH`).
    pub fn is_atom(&self, word: &str) -> bool {
        self.kind == TokenKind::Atom && self.value.eq_ignore_ascii_case(word.as_bytes())
    }
}

/// C `iscntrl()` for ASCII; bytes above 127 are not control characters.
fn is_cntrl(c: u8) -> bool {
    c.is_ascii_control()
}

fn is_lwsp(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Reads tokens from `*input` into `tokens` (`header_token()`), keeping at most `max`.
///
/// With a `terminator` (which must be in `specials`), parsing stops after it and tokens
/// beyond `max` are skipped; without one, parsing stops when `max` tokens are stored. The
/// terminator itself is not stored. `*input` is advanced past what was read. Returns the
/// number of tokens stored, or `None` when the input ended before any token (a
/// terminator alone yields `Some(0)`). The input ends at its end or at a NUL byte.
///
/// With `-v`, logs the first three tokens as Postfix does.
pub fn header_token(
    tokens: &mut Vec<HeaderToken>,
    max: usize,
    input: &mut &[u8],
    specials: &[u8],
    terminator: Option<u8>,
) -> Option<usize> {
    tokens.clear();
    let text = *input;
    let at = |i: usize| text.get(i).copied().unwrap_or(0);
    let mut cp = 0;
    let mut ch;
    loop {
        ch = at(cp);
        if ch == 0 || (terminator.is_none() && tokens.len() >= max) {
            break;
        }
        cp += 1;
        let store = tokens.len() < max;

        if is_lwsp(ch) {
            continue;
        }
        if Some(ch) == terminator {
            break;
        }

        // Comments nest, and a backslash quotes the next character.
        if ch == b'(' {
            let mut level = 1usize;
            loop {
                let c = at(cp);
                if c == 0 {
                    break;
                }
                cp += 1;
                if c == b'(' {
                    level += 1;
                } else if c == b')' {
                    level -= 1;
                    if level == 0 {
                        break;
                    }
                } else if c == b'\\' {
                    if at(cp) == 0 {
                        break;
                    }
                    cp += 1;
                }
            }
            continue;
        }

        // A quoted-string is unfolded: the white space before a line break goes, the
        // indentation after it stays. An unterminated one still counts.
        if ch == b'"' {
            let mut value = Vec::new();
            loop {
                let mut c = at(cp);
                if c == 0 {
                    break;
                }
                cp += 1;
                if c == b'"' {
                    break;
                }
                if c == b'\n' {
                    if store {
                        let keep = value
                            .iter()
                            .rposition(|&b| !is_lwsp(b))
                            .map_or(0, |i| i + 1);
                        value.truncate(keep);
                    }
                    continue;
                }
                if c == b'\\' {
                    c = at(cp);
                    if c == 0 {
                        break;
                    }
                    cp += 1;
                }
                if store {
                    value.push(c);
                }
            }
            if store {
                tokens.push(HeaderToken {
                    kind: TokenKind::QuotedString,
                    value,
                });
            }
            continue;
        }

        if specials.contains(&ch) || is_cntrl(ch) {
            if store {
                tokens.push(HeaderToken {
                    kind: TokenKind::Special(ch),
                    value: vec![ch],
                });
            }
            continue;
        }

        let start = cp - 1;
        while cp < text.len() {
            let c = text[cp];
            if c == 0 || is_lwsp(c) || is_cntrl(c) || specials.contains(&c) {
                break;
            }
            cp += 1;
        }
        if store {
            tokens.push(HeaderToken {
                kind: TokenKind::Atom,
                value: text[start..cp].to_vec(),
            });
        }
    }

    // Nothing but white space and comments after the last terminator.
    if tokens.is_empty() && ch == 0 {
        return None;
    }
    *input = &text[cp..];
    if log::verbose() > 0 {
        let value = |i: usize| {
            tokens
                .get(i)
                .map_or_else(String::new, |t| super::printable(&t.value))
        };
        log::msg_info!("header_token: {} {} {}", value(0), value(1), value(2));
    }
    Some(tokens.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(text: &[u8], max: usize, term: Option<u8>) -> Vec<Vec<String>> {
        let mut input = text;
        let mut tokens = Vec::new();
        let mut out = Vec::new();
        while let Some(n) = header_token(&mut tokens, max, &mut input, RFC2045_TSPECIALS, term) {
            assert_eq!(n, tokens.len());
            out.push(
                tokens
                    .iter()
                    .map(|t| String::from_utf8_lossy(&t.value).into_owned())
                    .collect(),
            );
            if term.is_none() {
                break;
            }
        }
        out
    }

    #[test]
    fn content_type_parameters() {
        let got = parse_all(
            b" multipart/mixed (a (nested) comment);\n\tboundary=\"a b\\\"c\"; x=y",
            3,
            Some(b';'),
        );
        assert_eq!(
            got,
            vec![
                vec!["multipart", "/", "mixed"],
                vec!["boundary", "=", "a b\"c"],
                vec!["x", "=", "y"],
            ]
        );
    }

    #[test]
    fn empty_items_and_unfolding() {
        assert_eq!(
            parse_all(b" ; ;", 3, Some(b';')),
            vec![Vec::<String>::new(); 2]
        );
        let got = parse_all(b"b=\"one  \n  two\"", 3, Some(b';'));
        assert_eq!(got, vec![vec!["b", "=", "one  two"]]);
        assert_eq!(
            parse_all(b" (only a comment", 3, Some(b';')),
            Vec::<Vec<String>>::new()
        );
    }

    #[test]
    fn stops_after_max_without_terminator() {
        let mut input: &[u8] = b" 8bit rest";
        let mut tokens = Vec::new();
        assert_eq!(
            header_token(&mut tokens, 1, &mut input, RFC822_SPECIALS, None),
            Some(1)
        );
        assert_eq!(tokens[0].value, b"8bit");
        assert_eq!(input, b" rest");
    }
}
