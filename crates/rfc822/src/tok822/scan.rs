//! Tokenizing external-form text into a flat token list.
//!
//! Postfix counterpart: `global/tok822_parse.c` (`tok822_scan_limit()`, `tok822_comment()`,
//! `tok822_quote_atom()`, `tok822_scan_addr()`).
//!
//! The scanner never fails. An unterminated quoted-string, domain literal or comment runs to
//! the end of the text; a backslash takes the next character literally (a trailing one is
//! dropped); CR, LF and TAB inside a word become spaces. Comments nest, counted with an
//! integer rather than recursion, so deep nesting costs nothing extra. Each step consumes at
//! least one byte, so scanning is linear in the length of the text.

use super::{Addr, OPERATORS, Token};
use crate::quote::is_cntrl;
use crate::{c_str, into_string};

/// Whether Postfix treats a byte as white space between tokens (`IS_SPACE_TAB_CR_LF`).
fn is_space_tab_cr_lf(ch: u8) -> bool {
    matches!(ch, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_operator(ch: u8) -> bool {
    OPERATORS.as_bytes().contains(&ch)
}

/// The tokens of `text`, without any grouping into addresses (`tok822_scan()`).
pub fn scan(text: &str) -> Vec<Token> {
    scan_limit(text, 0)
}

/// [`scan`] that stops after `limit` tokens, or never with 0 (`tok822_scan_limit()`;
/// cleanup passes `token_limit`).
pub fn scan_limit(text: &str, limit: usize) -> Vec<Token> {
    let s = c_str(text).as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let ch = s[i];
        i += 1;
        if is_space_tab_cr_lf(ch) {
            continue;
        }
        let token = match ch {
            b'(' => Token::Comment(comment(s, &mut i)),
            b'[' => Token::DomainLiteral(collect_skip_last(s, &mut i, b']')),
            b'"' => Token::QuotedString(collect_skip_last(s, &mut i, b'"')),
            b'\\' => atom(s, &mut i),
            _ if is_operator(ch) => Token::Op(char::from(ch)),
            _ => atom(s, &mut i),
        };
        tokens.push(token);
        if limit > 0 && tokens.len() >= limit {
            break;
        }
    }
    tokens
}

/// The text of `external` as one address whose tokens are not grouped further
/// (`tok822_scan_addr()`), for data that holds one address and nothing else.
pub fn scan_addr(external: &str) -> Addr {
    Addr {
        tokens: scan(external),
        parsed: false,
    }
}

/// Collects word characters from `s[*i..]` while `more` holds, honouring backslashes
/// (Postfix's `COLLECT` macro); CR, LF and TAB become spaces.
fn collect(s: &[u8], i: &mut usize, more: impl Fn(u8) -> bool) -> String {
    let mut text = Vec::new();
    while *i < s.len() {
        let mut ch = s[*i];
        if ch == b'\\' {
            *i += 1;
            match s.get(*i) {
                Some(&next) => ch = next,
                None => break,
            }
        } else if !more(ch) {
            break;
        }
        text.push(if is_space_tab_cr_lf(ch) { b' ' } else { ch });
        *i += 1;
    }
    into_string(text)
}

/// The contents of a quoted-string or domain literal up to the closing `close`, which is
/// consumed if present.
fn collect_skip_last(s: &[u8], i: &mut usize, close: u8) -> String {
    let text = collect(s, i, |ch| ch != close);
    if *i < s.len() {
        *i += 1;
    }
    text
}

/// An atom starting at the byte before `*i` (which may be a backslash). An atom holding a
/// character that would need quoting becomes a quoted-string, so that writing it out in
/// external form quotes it (`tok822_quote_atom()`); non-ASCII text needs no quoting.
fn atom(s: &[u8], i: &mut usize) -> Token {
    *i -= 1;
    let text = collect(s, i, |ch| !is_space_tab_cr_lf(ch) && !is_operator(ch));
    if text
        .bytes()
        .any(|ch| ch == b' ' || is_cntrl(ch) || is_operator(ch))
    {
        Token::QuotedString(text)
    } else {
        Token::Atom(text)
    }
}

/// A comment after its `(`, kept in external form with its parentheses and backslashes:
/// Postfix stores comments that way so that writing them out needs no parsing.
fn comment(s: &[u8], i: &mut usize) -> String {
    let mut text = vec![b'('];
    let mut level = 1usize;
    while *i < s.len() {
        let ch = s[*i];
        text.push(ch);
        *i += 1;
        match ch {
            b'(' => level += 1,
            b')' => {
                level -= 1;
                if level == 0 {
                    break;
                }
            }
            b'\\' => match s.get(*i) {
                Some(&next) => {
                    text.push(next);
                    *i += 1;
                }
                None => break,
            },
            _ => {}
        }
    }
    into_string(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Token::*;

    fn atom(text: &str) -> Token {
        Atom(text.to_string())
    }

    fn qs(text: &str) -> Token {
        QuotedString(text.to_string())
    }

    #[test]
    fn words_and_operators() {
        assert_eq!(
            scan("a.b@c"),
            [atom("a"), Op('.'), atom("b"), Op('@'), atom("c")]
        );
        assert_eq!(scan(" x | y "), [atom("x"), Op('|'), atom("y")]);
        assert_eq!(scan(")]"), [Op(')'), Op(']')]);
        assert!(scan(" \t\r\n").is_empty());
    }

    #[test]
    fn quoted_strings_and_literals() {
        assert_eq!(scan("\"a \\\"b\\\\\""), [qs("a \"b\\")]);
        assert_eq!(scan("\"a\r\nb"), [qs("a  b")]);
        assert_eq!(
            scan("[1.2.3.4]x"),
            [DomainLiteral("1.2.3.4".into()), atom("x")]
        );
        assert_eq!(scan("[a\\]b"), [DomainLiteral("a]b".into())]);
        assert_eq!(scan("\""), [qs("")]);
    }

    #[test]
    fn comments_nest_and_keep_external_form() {
        assert_eq!(
            scan("(a (b) \\) c)d"),
            [Comment("(a (b) \\) c)".into()), atom("d")]
        );
        assert_eq!(scan("(((x"), [Comment("(((x".into())]);
        assert_eq!(scan("(x\\"), [Comment("(x\\".into())]);
        let deep = "(".repeat(100_000);
        assert_eq!(scan(&deep), [Comment(deep.clone())]);
    }

    #[test]
    fn escaped_specials_make_quoted_strings() {
        assert_eq!(scan("a\\ b"), [qs("a b")]);
        assert_eq!(scan("a\\@b@c"), [qs("a@b"), Op('@'), atom("c")]);
        assert_eq!(scan("\\"), [atom("")]);
        assert_eq!(scan("a\\\tb"), [qs("a b")]);
        assert_eq!(scan("jörg"), [atom("jörg")]);
    }

    #[test]
    fn limit_and_nul() {
        assert_eq!(scan_limit("a b c d", 2), [atom("a"), atom("b")]);
        assert_eq!(scan("a\0b"), [atom("a")]);
    }

    #[test]
    fn scan_addr_is_unparsed() {
        let addr = scan_addr("a b@c");
        assert!(!addr.parsed);
        assert_eq!(addr.internalize(), "a b@c");
    }
}
