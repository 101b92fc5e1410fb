//! `strict_smtputf8`: a non-ASCII envelope address needs MAIL ... SMTPUTF8.
//!
//! Postfix counterpart: the `var_strict_smtputf8` blocks of `mail_cmd()`, `rcpt_cmd()` and
//! `vrfy_cmd()` in `smtpd/smtpd.c`. Postfix has never refused 8-bit local parts by
//! default; with `strict_smtputf8 = yes` it does, and under the `compatibility_level`
//! default `smtputf8_enable = no` it logs that it accepted one.

use crate::notice::{Notice, Reject};
use crate::reply::Reply;

/// Checks address `addr` (internal form) of a transaction that did (`declared`) or did not
/// declare SMTPUTF8. `role` is `sender` or `recipient` for the compatibility notice, which
/// is given when `compat_warning` (Postfix's `warn_compat_break_smtputf8_enable`) is on.
pub fn smtputf8_check(
    addr: &str,
    declared: bool,
    strict_smtputf8: bool,
    compat_warning: bool,
    role: &'static str,
) -> Result<Option<Notice>, Reject> {
    if declared || addr.is_ascii() {
        return Ok(None);
    }
    if strict_smtputf8 {
        return Err(Reject::plain(Reply::new(
            "553 5.6.7 Must declare SMTPUTF8 to send unicode address",
        )));
    }
    Ok(compat_warning.then(|| Notice::CompatSmtputf8 {
        role,
        addr: addr.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_and_compat() {
        assert_eq!(smtputf8_check("a@b", false, true, true, "sender"), Ok(None));
        assert_eq!(smtputf8_check("é@b", true, true, true, "sender"), Ok(None));
        let err = smtputf8_check("é@b", false, true, false, "sender").unwrap_err();
        assert_eq!(
            err.reply.to_string(),
            "553 5.6.7 Must declare SMTPUTF8 to send unicode address"
        );
        let notice = smtputf8_check("é@b", false, false, true, "recipient").unwrap();
        assert!(matches!(
            notice,
            Some(Notice::CompatSmtputf8 {
                role: "recipient",
                ..
            })
        ));
    }
}
