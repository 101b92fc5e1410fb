//! Quoting the local part of an address (internal form to external form) and back.
//!
//! Postfix counterparts: `global/quote_822_local.c` and `global/quote_flags.c`.
//!
//! A local part that is an RFC 822 dot-string (atoms separated by single dots) is left
//! alone; anything else becomes a quoted-string, with a backslash before `"`, `\` and CR.
//! Only the local part is quoted: the text after the last `@` (the domain) and a source
//! route prefix (`@a,@b:`) are copied unchanged. Non-ASCII text counts as ordinary text
//! with [`QuoteFlags::EIGHT_BIT_CLEAN`], which every Postfix caller sets (SMTPUTF8 local
//! parts stay unquoted).

use std::fmt;
use std::ops::BitOr;

use crate::{c_bytes, c_str, into_string};

/// How [`quote_822_local`] and [`crate::quote821::quote_821_local`] behave
/// (Postfix's `QUOTE_FLAG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuoteFlags(u8);

/// The flag names as Postfix's `quote_flags_to_string()` spells them, in its order.
const FLAG_NAMES: [(&str, QuoteFlags); 4] = [
    ("8bitclean", QuoteFlags::EIGHT_BIT_CLEAN),
    ("expose_at", QuoteFlags::EXPOSE_AT),
    ("append", QuoteFlags::APPEND),
    ("bare_localpart", QuoteFlags::BARE_LOCALPART),
];

impl QuoteFlags {
    /// No flags: non-ASCII bytes are escaped, `@` is special, the result replaces the buffer.
    pub const NONE: QuoteFlags = QuoteFlags(0);
    /// Non-ASCII text is ordinary text (`QUOTE_FLAG_8BITCLEAN`).
    pub const EIGHT_BIT_CLEAN: QuoteFlags = QuoteFlags(1 << 0);
    /// `@` in the local part is ordinary text (`QUOTE_FLAG_EXPOSE_AT`).
    pub const EXPOSE_AT: QuoteFlags = QuoteFlags(1 << 1);
    /// The `_into` functions append to the buffer instead of replacing it
    /// (`QUOTE_FLAG_APPEND`).
    pub const APPEND: QuoteFlags = QuoteFlags(1 << 2);
    /// The whole text is a local part; there is no `@domain` (`QUOTE_FLAG_BARE_LOCALPART`).
    pub const BARE_LOCALPART: QuoteFlags = QuoteFlags(1 << 3);
    /// What Postfix's `quote_822_local()` uses (`QUOTE_FLAG_DEFAULT`).
    pub const DEFAULT: QuoteFlags = QuoteFlags::EIGHT_BIT_CLEAN;

    /// Whether every flag in `other` is set.
    pub const fn contains(self, other: QuoteFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// These flags without those in `other`.
    pub const fn without(self, other: QuoteFlags) -> QuoteFlags {
        QuoteFlags(self.0 & !other.0)
    }

    /// Parses `|`-separated names, in any case (`8bitclean|bare_localpart`), as Postfix's
    /// `quote_flags_from_string()`; an unknown name is an error naming it.
    pub fn from_names(names: &str) -> Result<QuoteFlags, String> {
        let mut flags = QuoteFlags::NONE;
        for name in names.split('|').filter(|n| !n.is_empty()) {
            match FLAG_NAMES
                .iter()
                .find(|(known, _)| known.eq_ignore_ascii_case(name))
            {
                Some(&(_, flag)) => flags = flags | flag,
                None => return Err(format!("unknown quote flag \"{name}\" in \"{names}\"")),
            }
        }
        Ok(flags)
    }
}

impl BitOr for QuoteFlags {
    type Output = QuoteFlags;

    fn bitor(self, other: QuoteFlags) -> QuoteFlags {
        QuoteFlags(self.0 | other.0)
    }
}

/// The names joined by `|`, as Postfix's `quote_flags_to_string()` writes them; empty for
/// no flags.
impl fmt::Display for QuoteFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = FLAG_NAMES
            .iter()
            .filter(|(_, flag)| self.contains(*flag))
            .map(|(name, _)| *name)
            .collect();
        f.write_str(&names.join("|"))
    }
}

/// The local part of `mbox` in external form: `foo bar@example.com` becomes
/// `"foo bar"@example.com`. [`QuoteFlags::APPEND`] has no effect here.
pub fn quote_822_local(mbox: &str, flags: QuoteFlags) -> String {
    let mut dst = String::new();
    quote_822_local_into(&mut dst, mbox, flags.without(QuoteFlags::APPEND));
    dst
}

/// [`quote_822_local`] into `dst`, replacing its contents unless `flags` has
/// [`QuoteFlags::APPEND`].
///
/// Without [`QuoteFlags::EIGHT_BIT_CLEAN`], Postfix puts a backslash before each non-ASCII
/// byte, which would not be UTF-8; this function puts one before each non-ASCII character
/// instead, which unquotes to the same text. [`quote_822_local_bytes`] is byte-exact.
pub fn quote_822_local_into(dst: &mut String, mbox: &str, flags: QuoteFlags) {
    let mut out = Vec::with_capacity(mbox.len() + 2);
    quote_822(&mut out, c_str(mbox).as_bytes(), flags, true);
    if !flags.contains(QuoteFlags::APPEND) {
        dst.clear();
    }
    dst.push_str(&into_string(out));
}

/// [`quote_822_local`] on bytes, exactly as Postfix's `quote_822_local_flags()`.
pub fn quote_822_local_bytes(dst: &mut Vec<u8>, mbox: &[u8], flags: QuoteFlags) {
    if !flags.contains(QuoteFlags::APPEND) {
        dst.clear();
    }
    quote_822(dst, c_bytes(mbox), flags, false);
}

/// The byte offset where the local part of `mbox` starts: after a source route
/// (`@a,@b:user@domain`), or 0.
pub(crate) fn local_part_start(mbox: &[u8]) -> usize {
    match mbox.first() {
        Some(b'@') => mbox
            .iter()
            .position(|&b| b == b':')
            .map_or(0, |colon| colon + 1),
        _ => 0,
    }
}

/// Whether a byte is an ASCII control character (C `iscntrl()` in the C locale).
pub(crate) fn is_cntrl(ch: u8) -> bool {
    ch < 0x20 || ch == 0x7f
}

/// The core of [`quote_822_local_bytes`]; `utf8` escapes whole characters, not bytes.
fn quote_822(dst: &mut Vec<u8>, mbox: &[u8], flags: QuoteFlags, utf8: bool) {
    let start = local_part_start(mbox);
    let end = if flags.contains(QuoteFlags::BARE_LOCALPART) {
        mbox.len()
    } else {
        mbox[start..]
            .iter()
            .rposition(|&b| b == b'@')
            .map_or(mbox.len(), |at| start + at)
    };
    if is_822_dot_string(&mbox[start..end], flags) {
        dst.extend_from_slice(mbox);
    } else {
        dst.extend_from_slice(&mbox[..start]);
        make_quoted_string(dst, &mbox[start..end], flags, b"\"\\\r", utf8);
        dst.extend_from_slice(&mbox[end..]);
    }
}

/// Whether a local part is a sequence of atoms separated by single dots. The set of
/// characters that force quoting is RFC 822's specials plus space and controls.
fn is_822_dot_string(local: &[u8], flags: QuoteFlags) -> bool {
    if local.is_empty() || local[0] == b'.' || local[local.len() - 1] == b'.' {
        return false;
    }
    local.windows(2).all(|pair| pair != b"..")
        && local.iter().all(|&ch| {
            !((ch > 127 && !flags.contains(QuoteFlags::EIGHT_BIT_CLEAN))
                || ch == b' '
                || is_cntrl(ch)
                || (ch == b'@' && !flags.contains(QuoteFlags::EXPOSE_AT))
                || b"()<>,;:\\\"[]".contains(&ch))
        })
}

/// Appends `local` as a quoted-string, with a backslash before each byte in `escape` and,
/// without [`QuoteFlags::EIGHT_BIT_CLEAN`], before non-ASCII bytes (or characters, with
/// `utf8`: a UTF-8 continuation byte then gets none).
pub(crate) fn make_quoted_string(
    dst: &mut Vec<u8>,
    local: &[u8],
    flags: QuoteFlags,
    escape: &[u8],
    utf8: bool,
) {
    dst.push(b'"');
    for &ch in local {
        let high = ch > 127
            && !flags.contains(QuoteFlags::EIGHT_BIT_CLEAN)
            && !(utf8 && (0x80..0xc0).contains(&ch));
        if high || escape.contains(&ch) {
            dst.push(b'\\');
        }
        dst.push(ch);
    }
    dst.push(b'"');
}

/// The internal form of `mbox`: quotes and backslash escapes removed from the local part
/// (`"foo bar"@example.com` becomes `foo bar@example.com`). Text after the last unquoted
/// `@` and a source route prefix are kept as they are.
pub fn unquote_822_local(mbox: &str) -> String {
    into_string(unquote_822_local_bytes(c_str(mbox).as_bytes()))
}

/// [`unquote_822_local`] on bytes, exactly as Postfix's `unquote_822_local()`.
pub fn unquote_822_local_bytes(mbox: &[u8]) -> Vec<u8> {
    let mbox = c_bytes(mbox);
    let start = local_part_start(mbox);
    let mut dst = mbox[..start].to_vec();
    let mut in_quote = false;
    // Where the last unquoted '@' went in the output, and where it is in the input.
    let mut bare_at: Option<(usize, usize)> = None;
    let mut i = start;
    while i < mbox.len() {
        match mbox[i] {
            b'"' => {
                in_quote = !in_quote;
                i += 1;
                continue;
            }
            b'@' if !in_quote => bare_at = Some((dst.len(), i)),
            b'\\' => {
                // A trailing backslash escapes nothing and is dropped.
                if i + 1 == mbox.len() {
                    break;
                }
                i += 1;
            }
            _ => {}
        }
        dst.push(mbox[i]);
        i += 1;
    }
    if let Some((dst_pos, src_pos)) = bare_at {
        dst.truncate(dst_pos);
        dst.extend_from_slice(&mbox[src_pos..]);
    }
    dst
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(mbox: &str) -> String {
        quote_822_local(mbox, QuoteFlags::DEFAULT)
    }

    #[test]
    fn dot_strings_stay_unquoted() {
        assert_eq!(q("wietse@porcupine.org"), "wietse@porcupine.org");
        assert_eq!(q("a.b.c@d"), "a.b.c@d");
        assert_eq!(q("user+ext@d"), "user+ext@d");
        assert_eq!(q("no-domain"), "no-domain");
    }

    #[test]
    fn specials_force_quotes_on_the_local_part_only() {
        assert_eq!(q("foo bar@example.com"), "\"foo bar\"@example.com");
        assert_eq!(q("a..b@c"), "\"a..b\"@c");
        assert_eq!(q(".a@c"), "\".a\"@c");
        assert_eq!(q("a.@c"), "\"a.\"@c");
        assert_eq!(q("a@b@c"), "\"a@b\"@c");
        assert_eq!(q("a\"b\\c\rd@e f"), "\"a\\\"b\\\\c\\\rd\"@e f");
        assert_eq!(q(""), "\"\"");
        assert_eq!(q("@d"), "\"\"@d");
    }

    #[test]
    fn source_route_is_not_quoted() {
        assert_eq!(q("@a,@b:x y@d"), "@a,@b:\"x y\"@d");
        assert_eq!(q("@a,@b:xy@d"), "@a,@b:xy@d");
        assert_eq!(q("@a"), "\"\"@a");
    }

    #[test]
    fn flags_change_what_counts_as_local_part() {
        let bare = QuoteFlags::DEFAULT | QuoteFlags::BARE_LOCALPART;
        assert_eq!(quote_822_local("a@b", bare), "\"a@b\"");
        let expose = QuoteFlags::DEFAULT | QuoteFlags::EXPOSE_AT;
        assert_eq!(quote_822_local("a@b@c", expose), "a@b@c");
        let mut dst = String::from("To: ");
        quote_822_local_into(&mut dst, "x y@z", QuoteFlags::DEFAULT | QuoteFlags::APPEND);
        assert_eq!(dst, "To: \"x y\"@z");
        quote_822_local_into(&mut dst, "x@z", QuoteFlags::DEFAULT);
        assert_eq!(dst, "x@z");
    }

    #[test]
    fn eight_bit_text() {
        assert_eq!(q("jörg@example.de"), "jörg@example.de");
        assert_eq!(quote_822_local("é@x", QuoteFlags::NONE), "\"\\é\"@x");
        let mut raw = Vec::new();
        quote_822_local_bytes(&mut raw, "é@x".as_bytes(), QuoteFlags::NONE);
        assert_eq!(raw, b"\"\\\xc3\\\xa9\"@x");
        assert_eq!(unquote_822_local_bytes(&raw), "é@x".as_bytes());
    }

    #[test]
    fn unquote_keeps_the_domain() {
        assert_eq!(
            unquote_822_local("\"foo bar\"@example.com"),
            "foo bar@example.com"
        );
        assert_eq!(unquote_822_local("\"a@b\"@c\"d"), "a@b@c\"d");
        assert_eq!(unquote_822_local("a\\@b"), "a@b");
        assert_eq!(unquote_822_local("trailing\\"), "trailing");
        assert_eq!(unquote_822_local("@r:\"x y\"@d"), "@r:x y@d");
        assert_eq!(unquote_822_local("a@\"b c\""), "a@\"b c\"");
        assert_eq!(unquote_822_local(""), "");
    }

    #[test]
    fn nul_ends_the_text() {
        assert_eq!(q("a b\0c@d"), "\"a b\"");
        assert_eq!(unquote_822_local("\"a\"\0@b"), "a");
    }

    #[test]
    fn quote_then_unquote_is_identity() {
        let cases = [
            "foo bar@example.com",
            "a\"b\\c@d",
            "x@y@z",
            "@r,@s:l p@d",
            "\\",
            "\"",
            "tab\there@x",
            "ü ber@x",
        ];
        for s in cases {
            for flags in [
                QuoteFlags::DEFAULT,
                QuoteFlags::NONE,
                QuoteFlags::DEFAULT | QuoteFlags::BARE_LOCALPART,
            ] {
                assert_eq!(
                    unquote_822_local(&quote_822_local(s, flags)),
                    s,
                    "{s:?} {flags}"
                );
            }
        }
    }

    #[test]
    fn flag_names() {
        let all = QuoteFlags::from_names("8BITCLEAN|expose_at|append|bare_localpart").unwrap();
        assert_eq!(all.to_string(), "8bitclean|expose_at|append|bare_localpart");
        assert_eq!(QuoteFlags::NONE.to_string(), "");
        assert!(QuoteFlags::from_names("8bitclean|bogus").is_err());
    }
}
