//! Extracting the address from the argument of MAIL FROM, RCPT TO and VRFY.
//!
//! Postfix counterpart: `extract_addr()` in `smtpd/smtpd.c`. Postfix is lenient here by
//! default: the argument goes through the RFC 822 address parser, so `<a@b>`, `a@b`,
//! `<<a@b>>`, `Name <a@b>` (as one word) and `<"a b"@c>` all work, and a source route
//! `<@x,@y:a@b>` is cut down to `a@b`. It is refused when it holds more than one
//! address, when it is empty where an address is required (RCPT, VRFY), and, with
//! `strict_rfc821_envelopes = yes`, when it is not in `<>` or holds anything besides the
//! address, or starts with `@`. The address comes out in internal form (quotes removed
//! from the local part), which is what queue files and lookups use.
//!
//! Postfix then asks the rewriting service whether the address resolves
//! (`smtpd_check_addr()`, skipped in stand-alone mode); that is the session's step, with
//! the same reply and warning ([`Notice::IllegalAddress`](crate::Notice::IllegalAddress)).
//!
//! Bytes that are not UTF-8 (from a client when `smtputf8_enable = no`) are carried through
//! the address parser with `util::eight_bit`; the address comes out in that form.

use crate::text;
use crate::token::Token;
use rfc822::tok822::{self, Token as Tok};
use util::eight_bit;

/// How MAIL, RCPT and VRFY want their address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrRules {
    /// `<>` is allowed (MAIL FROM).
    pub allow_empty: bool,
    /// `strict_rfc821_envelopes` (VRFY is never strict).
    pub strict_rfc821: bool,
}

/// The internal-form address in `arg`, or `None` when Postfix finds it illegal (the
/// caller replies `501 5.1.7 Bad sender address syntax` or `501 5.1.3 Bad recipient
/// address syntax`, and logs [`Notice::IllegalAddress`](crate::Notice::IllegalAddress)).
pub fn extract_addr(arg: &Token, rules: AddrRules) -> Option<String> {
    let raw = text::c_str(&arg.text);
    let inner = match raw {
        [b'<', inner @ .., b'>'] => inner,
        _ => raw,
    };
    // Cut a source route: everything up to the first colon.
    let inner = match inner.iter().position(|&b| b == b':') {
        Some(colon) if inner.first() == Some(&b'@') => &inner[colon + 1..],
        _ => inner,
    };
    let tree = tok822::parse(&eight_bit::to_text(inner));
    let mut addrs = tree.iter().filter_map(|t| match t {
        Tok::Addr(addr) => Some(addr),
        _ => None,
    });
    let addr = addrs.next();
    let more = addrs.next().is_some();
    let non_addr = tree
        .iter()
        .any(|t| !matches!(t, Tok::Addr(_) | Tok::Op('<') | Tok::Op('>')));
    if more || (rules.strict_rfc821 && (non_addr || raw.first() != Some(&b'<'))) {
        return None;
    }
    let addr = addr.map(|a| a.internalize()).unwrap_or_default();
    if (addr.is_empty() && !rules.allow_empty) || (rules.strict_rfc821 && addr.starts_with('@')) {
        return None;
    }
    Some(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LENIENT: AddrRules = AddrRules {
        allow_empty: true,
        strict_rfc821: false,
    };
    const STRICT: AddrRules = AddrRules {
        allow_empty: true,
        strict_rfc821: true,
    };
    const RCPT: AddrRules = AddrRules {
        allow_empty: false,
        strict_rfc821: false,
    };

    fn extract(arg: &str, rules: AddrRules) -> Option<String> {
        extract_addr(
            &Token {
                text: arg.as_bytes().to_vec(),
                bad: false,
            },
            rules,
        )
    }

    #[test]
    fn lenient_forms() {
        assert_eq!(extract("<a@b>", LENIENT).as_deref(), Some("a@b"));
        assert_eq!(extract("a@b", LENIENT).as_deref(), Some("a@b"));
        assert_eq!(extract("<<a@b>>", LENIENT).as_deref(), Some("a@b"));
        assert_eq!(extract("<>", LENIENT).as_deref(), Some(""));
        assert_eq!(extract("<@r1,@r2:a@b>", LENIENT).as_deref(), Some("a@b"));
        assert_eq!(extract("<\"a b\"@c>", LENIENT).as_deref(), Some("a b@c"));
        assert_eq!(extract("<a@b c@d>", LENIENT), None);
        assert_eq!(extract("<>", RCPT), None);
    }

    #[test]
    fn strict_forms() {
        assert_eq!(extract("<a@b>", STRICT).as_deref(), Some("a@b"));
        assert_eq!(extract("a@b", STRICT), None);
        assert_eq!(extract("<a@b (c)>", STRICT), None);
        assert_eq!(extract("<@b>", STRICT), None);
    }

    #[test]
    fn eight_bit_bytes_are_carried() {
        let token = Token {
            text: b"<\xe9@b>".to_vec(),
            bad: false,
        };
        let addr = extract_addr(&token, LENIENT).unwrap();
        assert_eq!(&*eight_bit::to_bytes(&addr), b"\xe9@b");
    }
}
