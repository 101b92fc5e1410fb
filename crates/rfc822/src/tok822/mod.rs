//! Postfix's token model of address lists: scanning, parsing into address groups, and
//! conversion back to internal or external text.
//!
//! Postfix counterparts: `global/tok822.h`, `tok822_node.c` and `tok822_tree.c` (the token
//! and tree types, [`addresses`] for `tok822_grep(tree, TOK822_ADDR)`), with the rest of
//! `tok822_parse.c` in the submodules.
//!
//! A header value becomes a list of [`Token`]s: words, comments, operators, and
//! [`Token::Addr`] nodes that each hold the tokens of one address. The tokens around an
//! address (a phrase, `<` and `>`, comments, group names) stay in the list, so that the
//! header can be written back with only the addresses changed, which is what cleanup's
//! header rewriting does:
//!
//! ```
//! use rfc822::tok822::{self, StrFlags};
//!
//! let mut tree = tok822::parse("\"Joe Q.\" <joe@example.com>, bob (Bob)");
//! let found: Vec<String> = tok822::addresses(&tree).iter().map(|a| a.internalize()).collect();
//! assert_eq!(found, ["joe@example.com", "bob"]);
//! for addr in tok822::addresses_mut(&mut tree) {
//!     let ext = addr.externalize();
//!     if !ext.contains('@') {
//!         addr.replace_external(&format!("{ext}@example.org"));
//!     }
//! }
//! let header = tok822::externalize(&tree, StrFlags::HEAD);
//! assert_eq!(header, "\"Joe Q.\" <joe@example.com>,\nbob@example.org (Bob)");
//! ```

mod parse;
mod print;
mod scan;
mod string;

use std::ops::BitOr;

pub use parse::{parse, parse_limit};
pub use print::print_tree;
pub use scan::{scan, scan_addr, scan_limit};
pub use string::{externalize, externalize_into, internalize, internalize_into};

/// Characters that are single-character operator tokens. RFC 822's specials plus `%` and
/// `!` (real-world routing operators) and `|` (for aliases files), as in Postfix.
pub const OPERATORS: &str = "|%!()<>@,;:\\\".[]";

/// One token of an address list (Postfix's `TOK822`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A run of non-special characters, backslash escapes removed.
    Atom(String),
    /// The text of a quoted-string, without the quotes and backslash escapes; also an atom
    /// that holds a space, a control or an operator character (from a backslash escape), so
    /// that it is quoted when written out.
    QuotedString(String),
    /// A comment in its external form, parentheses, nesting and backslashes included.
    Comment(String),
    /// The text of a domain literal, without the brackets and backslash escapes.
    DomainLiteral(String),
    /// A one-character operator from [`OPERATORS`] (`<`, `@`, `,`, ...).
    Op(char),
    /// The `:` that starts a named group (`group: a@b, c@d;`).
    StartGroup,
    /// One address: its tokens, clustered by [`parse`] or produced by [`scan_addr`].
    Addr(Addr),
}

impl Token {
    /// Whether this is a word-like token (not an operator): no whitespace is needed around
    /// operators when writing text, but two words need a space between them.
    fn is_word(&self) -> bool {
        !matches!(self, Token::Op(_) | Token::StartGroup)
    }
}

/// The tokens of one address (Postfix's `TOK822_ADDR` node and its sub-list).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Addr {
    /// The address's tokens, e.g. `joe`, `@`, `example`, `.`, `com`.
    pub tokens: Vec<Token>,
    /// Whether [`parse`] clustered these tokens. Postfix writes a parsed address's tokens
    /// without spaces between them (in Postfix: each token's owner is the address node),
    /// but a token list from [`scan_addr`] or [`Addr::replace_external`] has no owner and
    /// gets a space between adjacent words, like a top-level list. `parse("a b@c")` thus
    /// internalizes as `ab@c` and `scan_addr("a b@c")` as `a b@c`.
    pub parsed: bool,
}

impl Addr {
    /// The address in internal form, as `tok822_internalize(addr->head, TOK822_STR_DEFL)`:
    /// what queue files, tables and the resolver see.
    pub fn internalize(&self) -> String {
        let mut out = String::new();
        string::internalize_list(&mut out, &self.tokens, StrFlags::NONE, self.parsed);
        out
    }

    /// The address in external form, as `tok822_externalize(addr->head, TOK822_STR_DEFL)`:
    /// what Postfix sends to the rewriting service.
    pub fn externalize(&self) -> String {
        let mut out = String::new();
        string::externalize_list(
            &mut out,
            &self.tokens,
            StrFlags::NONE,
            self.parsed,
            &mut string::log_warning,
        );
        out
    }

    /// Replaces the tokens with those of `external`, as Postfix does with the reply of the
    /// rewriting service (`addr->head = tok822_scan(reply)` in `tok822_rewrite()`).
    pub fn replace_external(&mut self, external: &str) {
        *self = scan_addr(external);
    }
}

/// The addresses in a parsed list, in order (`tok822_grep(tree, TOK822_ADDR)`).
pub fn addresses(tree: &[Token]) -> Vec<&Addr> {
    tree.iter()
        .filter_map(|token| match token {
            Token::Addr(addr) => Some(addr),
            _ => None,
        })
        .collect()
}

/// The addresses in a parsed list, for rewriting in place.
pub fn addresses_mut(tree: &mut [Token]) -> Vec<&mut Addr> {
    tree.iter_mut()
        .filter_map(|token| match token {
            Token::Addr(addr) => Some(addr),
            _ => None,
        })
        .collect()
}

/// How [`internalize_into`] and [`externalize_into`] write (Postfix's `TOK822_STR_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StrFlags(u8);

impl StrFlags {
    /// Append to the buffer, spaces after commas, no truncation (`TOK822_STR_NONE`).
    pub const NONE: StrFlags = StrFlags(0);
    /// Clear the buffer first (`TOK822_STR_WIPE`).
    pub const WIPE: StrFlags = StrFlags(1 << 0);
    /// Postfix's "null-terminate the result" (`TOK822_STR_TERM`); a Rust string always is
    /// complete, so this flag changes nothing and exists to keep Postfix's combinations.
    pub const TERM: StrFlags = StrFlags(1 << 1);
    /// A line break instead of a space after each comma (`TOK822_STR_LINE`); header folding
    /// joins the short lines again.
    pub const LINE: StrFlags = StrFlags(1 << 2);
    /// Reduce an address expression to `<address>` when it carries more than 250 bytes of
    /// other text (phrase, comments), with a warning (`TOK822_STR_TRNC`; CERT CA-2003-07,
    /// old Sendmail overflowed on such headers). [`externalize_into`] only.
    pub const TRNC: StrFlags = StrFlags(1 << 3);
    /// For most conversions: WIPE | TERM (`TOK822_STR_DEFL`).
    pub const DEFL: StrFlags = StrFlags(Self::WIPE.0 | Self::TERM.0);
    /// For writing a header value after its name: TERM | LINE | TRNC (`TOK822_STR_HEAD`).
    pub const HEAD: StrFlags = StrFlags(Self::TERM.0 | Self::LINE.0 | Self::TRNC.0);

    /// Whether every flag in `other` is set.
    pub const fn contains(self, other: StrFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for StrFlags {
    type Output = StrFlags;

    fn bitor(self, other: StrFlags) -> StrFlags {
        StrFlags(self.0 | other.0)
    }
}
