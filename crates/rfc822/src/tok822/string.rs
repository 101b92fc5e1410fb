//! Writing a token list back as text, in internal (unquoted) or external (quoted) form.
//!
//! Postfix counterpart: `global/tok822_parse.c` (`tok822_internalize()`,
//! `tok822_externalize()`, `strip_address()`, `tok822_append_space()`).
//!
//! Whitespace is not kept by the scanner; writing puts one space after a comma or group
//! colon, before `<`, and between two adjacent words, except inside a parsed address
//! (see [`Addr::parsed`]). In external form an address is internalized and then its local
//! part quoted with [`quote_822_local`](crate::quote::quote_822_local), which is how Postfix
//! gets `"foo bar"@example.com` out of a tree holding `foo bar@example.com` after rewriting.

use super::{Addr, StrFlags, Token};
use crate::quote::{QuoteFlags, quote_822_local_into};

/// Postfix's `MAX_NONADDR_LENGTH`: how much phrase and comment text one address expression
/// may carry with [`StrFlags::TRNC`].
const MAX_NONADDR_LENGTH: usize = 250;

/// How much of the stripped text the warning shows (Postfix's `%.100s`).
const WARNING_TEXT_LENGTH: usize = 100;

/// `tokens` in internal form: quoted-strings unquoted, comments kept (`tok822_internalize()`
/// into a new buffer).
pub fn internalize(tokens: &[Token], flags: StrFlags) -> String {
    let mut out = String::new();
    internalize_into(&mut out, tokens, flags);
    out
}

/// Appends `tokens` in internal form to `out`, which [`StrFlags::WIPE`] clears first
/// (`tok822_internalize()`). `tokens` is a top-level list, from [`super::parse`] or
/// [`super::scan`]; use [`Addr::internalize`] for the tokens of one address.
pub fn internalize_into(out: &mut String, tokens: &[Token], flags: StrFlags) {
    internalize_list(out, tokens, flags, false);
}

/// `tokens` in external form, quoted as in a message header (`tok822_externalize()` into a
/// new buffer).
pub fn externalize(tokens: &[Token], flags: StrFlags) -> String {
    let mut out = String::new();
    externalize_into(&mut out, tokens, flags);
    out
}

/// Appends `tokens` in external form to `out`, which [`StrFlags::WIPE`] clears first
/// (`tok822_externalize()`). With [`StrFlags::TRNC`], an address expression with too much
/// other text is reduced to `<address>` and a warning is logged.
pub fn externalize_into(out: &mut String, tokens: &[Token], flags: StrFlags) {
    externalize_list(out, tokens, flags, false, &mut log_warning);
}

/// Logs a warning the way Postfix does, through `msg_warn`.
pub(super) fn log_warning(text: &str) {
    log::msg_warn!("{text}");
}

/// Whether a space goes after `tokens[i]` (`tok822_append_space()`); never between the
/// tokens of a parsed address (`glued`).
fn append_space(tokens: &[Token], i: usize, glued: bool) -> bool {
    let (Some(token), Some(next)) = (tokens.get(i), tokens.get(i + 1)) else {
        return false;
    };
    if glued {
        return false;
    }
    matches!(token, Token::Op(',') | Token::StartGroup)
        || *next == Token::Op('<')
        || (token.is_word() && next.is_word())
}

/// [`internalize_into`] of a list whose tokens are `glued` (those of a parsed address) or
/// not (a top-level list).
pub(super) fn internalize_list(out: &mut String, tokens: &[Token], flags: StrFlags, glued: bool) {
    if flags.contains(StrFlags::WIPE) {
        out.clear();
    }
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Op(',') => {
                out.push(',');
                if flags.contains(StrFlags::LINE) {
                    out.push('\n');
                    continue;
                }
            }
            Token::Addr(addr) => internalize_list(out, &addr.tokens, StrFlags::NONE, addr.parsed),
            Token::Comment(text) | Token::Atom(text) | Token::QuotedString(text) => {
                out.push_str(text)
            }
            Token::DomainLiteral(text) => {
                out.push('[');
                out.push_str(text);
                out.push(']');
            }
            Token::StartGroup => out.push(':'),
            Token::Op(op) => out.push(*op),
        }
        if append_space(tokens, i, glued) {
            out.push(' ');
        }
    }
}

/// What [`StrFlags::TRNC`] would reduce the current address expression to: the last
/// address seen, or `<>`.
#[derive(Clone, Copy)]
enum LastAddr<'a> {
    /// No address in this expression yet: it is never truncated.
    None,
    /// The null address `<>`.
    Null,
    Addr(&'a Addr),
}

/// The state of [`StrFlags::TRNC`] for the current address expression (text between
/// commas): where it starts in the output, its address, and that address's length.
struct Truncation<'a> {
    start: usize,
    addr: LastAddr<'a>,
    addr_len: usize,
}

impl<'a> Truncation<'a> {
    fn new(out: &str) -> Truncation<'a> {
        Truncation {
            start: out.len(),
            addr: LastAddr::None,
            addr_len: 0,
        }
    }

    /// Replaces the expression with `<address>` when its non-address text is too long.
    fn enforce(&self, out: &mut String, warn: &mut dyn FnMut(&str)) {
        let addr = match self.addr {
            LastAddr::None => return,
            LastAddr::Null => None,
            LastAddr::Addr(addr) => Some(addr),
        };
        if out.len().saturating_sub(self.addr_len) <= self.start + MAX_NONADDR_LENGTH {
            return;
        }
        let shown: String = out[self.start..]
            .bytes()
            .take(WARNING_TEXT_LENGTH)
            .map(printable)
            .collect();
        warn(&format!(
            "stripping too many comments from address: {shown}..."
        ));
        out.truncate(self.start);
        out.push('<');
        if let Some(addr) = addr.filter(|a| !a.tokens.is_empty()) {
            append_address(out, addr);
        }
        out.push('>');
    }
}

/// Appends an address in external form: internalized, then the local part quoted.
/// Postfix does not quote individual words here because the rules for when a local part
/// needs quotes apply to the whole local part, not to its atoms.
fn append_address(out: &mut String, addr: &Addr) {
    let mut internal = String::new();
    internalize_list(&mut internal, &addr.tokens, StrFlags::NONE, addr.parsed);
    quote_822_local_into(
        out,
        &internal,
        QuoteFlags::EIGHT_BIT_CLEAN | QuoteFlags::APPEND,
    );
}

/// A byte as Postfix's `printable()` shows it in a log record: printable ASCII as is,
/// anything else (also each byte of a UTF-8 character) as `?`.
fn printable(byte: u8) -> char {
    if byte.is_ascii_graphic() || byte == b' ' {
        char::from(byte)
    } else {
        '?'
    }
}

/// [`externalize_into`] of a list whose tokens are `glued` or not (see
/// [`internalize_list`]), with the truncation warning passed to `warn`.
pub(super) fn externalize_list<'a>(
    out: &mut String,
    tokens: &'a [Token],
    flags: StrFlags,
    glued: bool,
    warn: &mut dyn FnMut(&str),
) {
    if flags.contains(StrFlags::WIPE) {
        out.clear();
    }
    let truncate = flags.contains(StrFlags::TRNC);
    let mut trunc = Truncation::new(out);
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Op(',') => {
                if truncate {
                    trunc.enforce(out, warn);
                }
                out.push(',');
                out.push(if flags.contains(StrFlags::LINE) {
                    '\n'
                } else {
                    ' '
                });
                trunc = Truncation::new(out);
                continue;
            }
            Token::Addr(addr) => {
                let before = out.len();
                append_address(out, addr);
                trunc.addr = LastAddr::Addr(addr);
                trunc.addr_len = out.len() - before;
            }
            Token::Atom(text) | Token::Comment(text) => out.push_str(text),
            Token::QuotedString(text) => {
                out.push('"');
                copy_quoted(out, text, &['"', '\\', '\r', '\n']);
                out.push('"');
            }
            Token::DomainLiteral(text) => {
                out.push('[');
                copy_quoted(out, text, &['\\', '\r', '\n']);
                out.push(']');
            }
            Token::StartGroup => out.push(':'),
            Token::Op('<') => {
                if tokens.get(i + 1) == Some(&Token::Op('>')) {
                    trunc.addr = LastAddr::Null;
                    trunc.addr_len = 0;
                }
                out.push('<');
            }
            Token::Op(op) => out.push(*op),
        }
        if append_space(tokens, i, glued) {
            out.push(' ');
        }
    }
    if truncate {
        trunc.enforce(out, warn);
    }
}

/// Appends `text` with a backslash before each character in `special`.
fn copy_quoted(out: &mut String, text: &str, special: &[char]) {
    for ch in text.chars() {
        if special.contains(&ch) {
            out.push('\\');
        }
        out.push(ch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tok822::{parse, scan, scan_addr};

    fn ext(tokens: &[Token], flags: StrFlags) -> (String, Vec<String>) {
        let mut out = String::new();
        let mut warnings = Vec::new();
        externalize_list(&mut out, tokens, flags, false, &mut |w| {
            warnings.push(w.to_string())
        });
        (out, warnings)
    }

    #[test]
    fn internal_and_external_forms() {
        let tree = parse("\"foo bar\"@example.com (x), <a\\ b@c>");
        assert_eq!(
            internalize(&tree, StrFlags::DEFL),
            "foo bar@example.com (x), <a b@c>"
        );
        assert_eq!(
            externalize(&tree, StrFlags::DEFL),
            "\"foo bar\"@example.com (x), <\"a b\"@c>"
        );
        assert_eq!(
            externalize(&tree, StrFlags::DEFL | StrFlags::LINE),
            "\"foo bar\"@example.com (x),\n<\"a b\"@c>"
        );
    }

    #[test]
    fn append_and_wipe() {
        let tree = parse("a@b");
        let mut out = String::from("To: ");
        externalize_into(&mut out, &tree, StrFlags::HEAD);
        assert_eq!(out, "To: a@b");
        externalize_into(&mut out, &tree, StrFlags::DEFL);
        assert_eq!(out, "a@b");
    }

    #[test]
    fn quoted_text_is_escaped() {
        let tokens = [
            Token::QuotedString("a\"b\\c\r\nd".into()),
            Token::DomainLiteral("x]\\y".into()),
        ];
        assert_eq!(
            externalize(&tokens, StrFlags::DEFL),
            "\"a\\\"b\\\\c\\\r\\\nd\" [x]\\\\y]"
        );
    }

    #[test]
    fn parsed_addresses_have_no_inner_spaces() {
        let tree = parse("a b@c");
        assert_eq!(internalize(&tree, StrFlags::DEFL), "a, b@c");
        assert_eq!(scan_addr("x y@z").externalize(), "x y@z");
        assert_eq!(internalize(&scan("x y@z"), StrFlags::DEFL), "x y@z");
    }

    #[test]
    fn long_phrases_are_stripped_with_a_warning() {
        let phrase = "p".repeat(300);
        let tree = parse(&format!("\"{phrase}\" <a b@c>, d@e"));
        let (out, warnings) = ext(&tree, StrFlags::DEFL | StrFlags::TRNC);
        assert_eq!(out, "<ab@c>, d@e");
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("stripping too many comments from address: \"ppp"));
        assert!(warnings[0].ends_with("p..."));
        let (untouched, none) = ext(&tree, StrFlags::DEFL);
        assert!(untouched.len() > 300 && none.is_empty());
    }

    #[test]
    fn long_text_without_address_is_kept() {
        let tree = vec![Token::Comment(format!("({})", "c".repeat(400)))];
        let (out, warnings) = ext(&tree, StrFlags::DEFL | StrFlags::TRNC);
        assert_eq!(out.len(), 402);
        assert!(warnings.is_empty());
    }

    #[test]
    fn null_address_strips_to_angle_brackets() {
        let tree = parse(&format!("({}) <>", "c".repeat(300)));
        let (out, warnings) = ext(&tree, StrFlags::DEFL | StrFlags::TRNC);
        assert_eq!(out, "<>");
        assert_eq!(warnings.len(), 1);
    }
}
