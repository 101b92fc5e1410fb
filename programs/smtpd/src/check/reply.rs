//! What a restriction answers: nothing to say, permit, or a refusal with its reply.
//!
//! Postfix counterpart: `smtpd_check_reject()` and `smtpd_check_dsn_fix()`-style
//! defaults in `smtpd/smtpd_check.c`. A refusal's reply is `CODE X.Y.Z TEXT`; under
//! `soft_bounce` a 5xx becomes 4xx before it is logged or sent, as in Postfix.

use smtp_proto::ErrorClass;

/// A restriction's refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The whole reply, `554 5.7.1 <x@y>: Relay access denied`.
    pub reply: String,
    /// The error class (for `notify_classes`).
    pub class: ErrorClass,
}

impl Refusal {
    /// `CODE DSN TEXT`, soft-bounced when asked; the status's class digit follows the
    /// code's, as in Postfix (`REJECT 4.1.1 text` gives `554 5.1.1`).
    pub fn new(code: u16, dsn: &str, text: &str, class: ErrorClass, soft_bounce: bool) -> Refusal {
        let code = if soft_bounce && code / 100 == 5 {
            code - 100
        } else {
            code
        };
        let dsn = format!("{}{}", code / 100, dsn.get(1..).unwrap_or_default());
        Refusal {
            reply: format!("{code} {dsn} {text}"),
            class,
        }
    }
}

/// What one restriction (or a whole list) decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing: go on with the next restriction (`SMTPD_CHECK_DUNNO`).
    Dunno,
    /// Accept: stop this list (`SMTPD_CHECK_OK`).
    Permit,
    /// Refuse.
    Refuse(Refusal),
}

impl Verdict {
    /// The verdict as the decision trace shows it.
    pub fn shown(&self) -> String {
        match self {
            Verdict::Dunno => "DUNNO".into(),
            Verdict::Permit => "permit".into(),
            Verdict::Refuse(r) => format!("reject: {}", r.reply),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_bounce_and_dsn() {
        let r = Refusal::new(554, "5.7.1", "<x>: no", ErrorClass::Policy, true);
        assert_eq!(r.reply, "454 4.7.1 <x>: no");
        let r = Refusal::new(554, "4.1.1", "<x>: no", ErrorClass::Policy, false);
        assert_eq!(r.reply, "554 5.1.1 <x>: no");
    }
}
