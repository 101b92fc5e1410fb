//! ETRN: its order and syntax.
//!
//! Postfix counterpart: the syntax half of `etrn_cmd()` in `smtpd/smtpd.c` (the rest asks
//! the flush service). Its replies have no enhanced status code, as in Postfix. The
//! session calls [`etrn_helo_check`], then its milters, then [`etrn_domain`], then
//! `smtpd_etrn_restrictions` and the flush service (`250 Queuing started`, `459 <DOMAIN>:
//! service unavailable`, `458 Unable to queue messages`; in stand-alone mode always 458).

use crate::notice::Reject;
use crate::token::Token;
use util::valid_hostname::{valid_hostname, valid_mailhost_literal};

/// `503 Error: send HELO/EHLO first` under `smtpd_helo_required`.
pub fn etrn_helo_check(helo_required: bool, helo_seen: bool) -> Result<(), Reject> {
    if helo_required && !helo_seen {
        return Err(Reject::policy("503 Error: send HELO/EHLO first"));
    }
    Ok(())
}

/// The domain to flush: one word, a host name or an address literal, after an optional
/// `@` or `#`. `in_mail`: a mail transaction is in progress, which ETRN may not interrupt.
pub fn etrn_domain(in_mail: bool, args: &[Token]) -> Result<String, Reject> {
    if in_mail {
        return Err(Reject::protocol("503 Error: MAIL transaction in progress"));
    }
    let [_, domain] = args else {
        return Err(Reject::protocol("500 Syntax: ETRN domain"));
    };
    let domain = match domain.text.first() {
        Some(b'@' | b'#') => &domain.text[1..],
        _ => &domain.text[..],
    };
    match std::str::from_utf8(domain) {
        Ok(d) if valid_hostname(d) || valid_mailhost_literal(d) => Ok(d.to_string()),
        _ => Err(Reject::protocol("501 Error: invalid parameter syntax")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tokenize;

    #[test]
    fn domains() {
        let domain =
            |line: &[u8]| etrn_domain(false, &tokenize(line)).map_err(|r| r.reply.to_string());
        assert_eq!(domain(b"ETRN @example.com"), Ok("example.com".to_string()));
        assert_eq!(domain(b"ETRN [127.0.0.1]"), Ok("[127.0.0.1]".to_string()));
        assert_eq!(
            domain(b"ETRN a b"),
            Err("500 Syntax: ETRN domain".to_string())
        );
        assert_eq!(
            domain(b"ETRN -x"),
            Err("501 Error: invalid parameter syntax".to_string())
        );
        assert!(etrn_domain(true, &tokenize(b"ETRN x")).is_err());
    }
}
