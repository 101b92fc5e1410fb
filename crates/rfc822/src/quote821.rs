//! Quoting the local part of an address for SMTP commands (`MAIL FROM:<...>`, `RCPT TO:<...>`).
//!
//! Postfix counterpart: `global/quote_821_local.c`. It differs from [`crate::quote`] in
//! three ways that SMTP needs: a source route is not special (the whole text before the
//! last `@` is the local part), [`QuoteFlags::BARE_LOCALPART`] is ignored, and LF is
//! escaped inside the quoted-string as well as CR, `"` and `\`.

use crate::quote::{QuoteFlags, is_cntrl, make_quoted_string};
use crate::{c_bytes, c_str, into_string};

/// The local part of `addr` in RFC 821 external form; Postfix's `quote_821_local()` is this
/// with [`QuoteFlags::EIGHT_BIT_CLEAN`]. [`QuoteFlags::APPEND`] has no effect here.
pub fn quote_821_local(addr: &str, flags: QuoteFlags) -> String {
    let mut dst = String::new();
    quote_821_local_into(&mut dst, addr, flags.without(QuoteFlags::APPEND));
    dst
}

/// [`quote_821_local`] into `dst`, replacing its contents unless `flags` has
/// [`QuoteFlags::APPEND`]. Non-ASCII text without [`QuoteFlags::EIGHT_BIT_CLEAN`] is
/// escaped per character, as in [`crate::quote::quote_822_local_into`].
pub fn quote_821_local_into(dst: &mut String, addr: &str, flags: QuoteFlags) {
    let mut out = Vec::with_capacity(addr.len() + 2);
    quote_821(&mut out, c_str(addr).as_bytes(), flags, true);
    if !flags.contains(QuoteFlags::APPEND) {
        dst.clear();
    }
    dst.push_str(&into_string(out));
}

/// [`quote_821_local`] on bytes, exactly as Postfix's `quote_821_local_flags()`.
pub fn quote_821_local_bytes(dst: &mut Vec<u8>, addr: &[u8], flags: QuoteFlags) {
    if !flags.contains(QuoteFlags::APPEND) {
        dst.clear();
    }
    quote_821(dst, c_bytes(addr), flags, false);
}

fn quote_821(dst: &mut Vec<u8>, addr: &[u8], flags: QuoteFlags, utf8: bool) {
    let at = addr.iter().rposition(|&b| b == b'@').unwrap_or(addr.len());
    if is_821_dot_string(&addr[..at], flags) {
        dst.extend_from_slice(addr);
    } else {
        make_quoted_string(dst, &addr[..at], flags, b"\r\n\"\\", utf8);
        dst.extend_from_slice(&addr[at..]);
    }
}

/// Whether a local part is an RFC 821 dot-string; the same character rules as RFC 822's.
fn is_821_dot_string(local: &[u8], flags: QuoteFlags) -> bool {
    if local.is_empty() || local[0] == b'.' || local[local.len() - 1] == b'.' {
        return false;
    }
    local.windows(2).all(|pair| pair != b"..")
        && local.iter().all(|&ch| {
            !((ch > 127 && !flags.contains(QuoteFlags::EIGHT_BIT_CLEAN))
                || ch == b' '
                || is_cntrl(ch)
                || (ch == b'@' && !flags.contains(QuoteFlags::EXPOSE_AT))
                || b"<>()[]\\,;:\"".contains(&ch))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(addr: &str) -> String {
        quote_821_local(addr, QuoteFlags::EIGHT_BIT_CLEAN)
    }

    #[test]
    fn quotes_like_822_without_source_routes() {
        assert_eq!(q("user@example.com"), "user@example.com");
        assert_eq!(q("a b@c"), "\"a b\"@c");
        assert_eq!(q("@r:u@d"), "\"@r:u\"@d");
        assert_eq!(q(""), "\"\"");
        assert_eq!(q("a\nb@c"), "\"a\\\nb\"@c");
        assert_eq!(q("ü@x"), "ü@x");
    }

    #[test]
    fn bare_localpart_is_ignored() {
        let flags = QuoteFlags::EIGHT_BIT_CLEAN | QuoteFlags::BARE_LOCALPART;
        assert_eq!(quote_821_local("a@b", flags), "a@b");
    }
}
