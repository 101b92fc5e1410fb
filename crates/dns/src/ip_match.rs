//! IPv4 address patterns with wildcard fields, as in `reject_rbl_client
//! zen.example.org=127.0.0.[2..11]`.
//!
//! Postfix counterpart: `util/ip_match.c`. A pattern is four fields separated by `.`, each
//! a decimal octet or `[...]` holding `;`-separated octets and `low..high` ranges; the whole
//! pattern may be inside `[]`. Errors are Postfix's, with the offending token marked:
//! `need "." at "1.2.3>;<4"`.

use std::fmt;
use std::net::Ipv4Addr;

/// One element of a `[...]` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Octet(u8),
    Range(u8, u8),
}

/// One address field: a plain octet, or a bracketed list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    Octet(u8),
    List(Vec<Item>),
}

/// A parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpPattern {
    fields: Vec<Field>,
}

/// A token of the pattern language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Octet(u8),
    /// A number above 255.
    BadNumber,
    Char(u8),
    End,
}

/// A tokenizer that remembers where its last token started, for error context.
struct Tokens<'a> {
    text: &'a [u8],
    pos: usize,
    start: usize,
}

impl Tokens<'_> {
    fn next(&mut self) -> Token {
        self.start = self.pos;
        let Some(&ch) = self.text.get(self.pos) else {
            return Token::End;
        };
        if !ch.is_ascii_digit() {
            self.pos += 1;
            return Token::Char(ch);
        }
        let digits = self.text[self.pos..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let value = self.text[self.pos..self.pos + digits]
            .iter()
            .try_fold(0u32, |v, d| {
                Some(v * 10 + u32::from(d - b'0')).filter(|v| *v <= 255)
            });
        self.pos += digits;
        value
            .and_then(|v| u8::try_from(v).ok())
            .map_or(Token::BadNumber, Token::Octet)
    }

    /// Postfix's error text with the last token marked.
    fn error(&self, what: &str) -> String {
        let text =
            |range: std::ops::Range<usize>| String::from_utf8_lossy(&self.text[range]).into_owned();
        format!(
            "{what} at \"{}>{}<{}\"",
            text(0..self.start),
            text(self.start..self.pos),
            text(self.pos..self.text.len())
        )
    }
}

impl IpPattern {
    /// `ip_match_parse()`.
    pub fn parse(pattern: &str) -> Result<IpPattern, String> {
        let mut text = pattern.as_bytes();
        if text.first() == Some(&b'[') {
            let Some(close) = matching_bracket(text) else {
                return Err("missing \"]\" character".to_string());
            };
            if close + 1 == text.len() {
                text = &text[1..close];
            }
        }
        if text.is_empty() {
            return Err("empty address pattern".to_string());
        }
        let mut tokens = Tokens {
            text,
            pos: 0,
            start: 0,
        };
        let mut fields = Vec::new();
        loop {
            fields.push(match tokens.next() {
                Token::Octet(v) => Field::Octet(v),
                Token::Char(b'[') => Field::List(list(&mut tokens)?),
                _ => return Err(tokens.error("need decimal number 0..255 or \"[\"")),
            });
            if fields.len() == 4 {
                if tokens.pos < text.len() {
                    tokens.next();
                    return Err(tokens.error("garbage after pattern"));
                }
                return Ok(IpPattern { fields });
            }
            if tokens.next() != Token::Char(b'.') {
                return Err(tokens.error("need \".\""));
            }
        }
    }

    /// `ip_match_execute()`: whether `addr` matches.
    pub fn matches(&self, addr: Ipv4Addr) -> bool {
        self.fields
            .iter()
            .zip(addr.octets())
            .all(|(field, octet)| match field {
                Field::Octet(v) => *v == octet,
                Field::List(items) => items.iter().any(|item| match *item {
                    Item::Octet(v) => v == octet,
                    Item::Range(low, high) => (low..=high).contains(&octet),
                }),
            })
    }
}

/// The items of a `[...]` field, after its `[`.
fn list(tokens: &mut Tokens<'_>) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    loop {
        let Token::Octet(low) = tokens.next() else {
            return Err(tokens.error("need decimal number 0..255"));
        };
        let mut look = tokens.next();
        if look == Token::Char(b'.') {
            let range = (tokens.next() == Token::Char(b'.'))
                .then(|| tokens.next())
                .and_then(|t| match t {
                    Token::Octet(high) if low <= high => Some(high),
                    _ => None,
                });
            let Some(high) = range else {
                return Err(tokens.error("numeric range error"));
            };
            items.push(Item::Range(low, high));
            look = tokens.next();
        } else {
            items.push(Item::Octet(low));
        }
        match look {
            Token::Char(b';') => continue,
            Token::Char(b']') => return Ok(items),
            _ => return Err(tokens.error("need \";\" or \"]\"")),
        }
    }
}

/// The index of the `]` that closes the `[` at the start of `text`.
fn matching_bracket(text: &[u8]) -> Option<usize> {
    let mut level = 0;
    for (i, &ch) in text.iter().enumerate() {
        match ch {
            b'[' => level += 1,
            b']' => {
                level -= 1;
                if level == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `ip_match_dump()`: the pattern as it was written, minus outer brackets.
impl fmt::Display for IpPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match field {
                Field::Octet(v) => write!(f, "{v}")?,
                Field::List(items) => {
                    f.write_str("[")?;
                    for (j, item) in items.iter().enumerate() {
                        if j > 0 {
                            f.write_str(";")?;
                        }
                        match item {
                            Item::Octet(v) => write!(f, "{v}")?,
                            Item::Range(low, high) => write!(f, "{low}..{high}")?,
                        }
                    }
                    f.write_str("]")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(pattern: &str) -> String {
        IpPattern::parse(pattern).unwrap_err()
    }

    #[test]
    fn patterns_parse_and_print() {
        for pattern in ["127.0.0.2", "127.0.[0..1].[2;4;10..20]", "10.[7].0.1"] {
            assert_eq!(IpPattern::parse(pattern).unwrap().to_string(), pattern);
        }
        assert_eq!(
            IpPattern::parse("[[10;11].0.0.1]").unwrap().to_string(),
            "[10;11].0.0.1"
        );
    }

    #[test]
    fn errors_mark_the_token() {
        assert_eq!(err("127.0.0"), "need \".\" at \"127.0.0><\"");
        assert_eq!(
            err("127.0.0."),
            "need decimal number 0..255 or \"[\" at \"127.0.0.><\""
        );
        assert_eq!(
            err("127.0.256.1"),
            "need decimal number 0..255 or \"[\" at \"127.0.>256<.1\""
        );
        assert_eq!(
            err("127.0.0.1/8"),
            "garbage after pattern at \"127.0.0.1>/<8\""
        );
        assert_eq!(
            err("127.0.0.[9..3]"),
            "numeric range error at \"127.0.0.[9..>3<]\""
        );
        assert_eq!(
            err("127.0.0.[9.y]"),
            "numeric range error at \"127.0.0.[9.>y<]\""
        );
        assert_eq!(
            err("127.0.0.[]"),
            "need decimal number 0..255 at \"127.0.0.[>]<\""
        );
        assert_eq!(
            err("127.0.0.[2,3]"),
            "need \";\" or \"]\" at \"127.0.0.[2>,<3]\""
        );
        assert_eq!(err("[127.0.0.1"), "missing \"]\" character");
        assert_eq!(err(""), "empty address pattern");
        assert_eq!(err("[]"), "empty address pattern");
    }

    #[test]
    fn matching() {
        let pattern = IpPattern::parse("127.0.[0..1].[2;4;10..20]").unwrap();
        let yes = ["127.0.0.2", "127.0.1.4", "127.0.0.10", "127.0.1.20"];
        let no = ["127.0.0.3", "127.0.2.2", "127.0.0.21", "128.0.0.2"];
        for addr in yes {
            assert!(pattern.matches(addr.parse().unwrap()), "{addr}");
        }
        for addr in no {
            assert!(!pattern.matches(addr.parse().unwrap()), "{addr}");
        }
    }
}
