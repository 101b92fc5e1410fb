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
    /// `CODE DSN TEXT`, soft-bounced when asked.
    pub fn new(code: u16, dsn: &str, text: &str, class: ErrorClass, soft_bounce: bool) -> Refusal {
        let (code, dsn) = if soft_bounce && code / 100 == 5 {
            (code - 100, format!("4{}", dsn.get(1..).unwrap_or_default()))
        } else {
            (code, dsn.to_string())
        };
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

/// The default enhanced status code for a code (`4.7.1` or `5.7.1`), or the one that
/// starts `text` (`5.1.1 ...`), with the text after it.
pub fn dsn_split(code: u16, text: &str) -> (String, &str) {
    let first = text.split_ascii_whitespace().next().unwrap_or_default();
    let parts: Vec<&str> = first.split('.').collect();
    let is_dsn = parts.len() == 3
        && parts[0].len() == 1
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && matches!(parts[0], "2" | "4" | "5");
    if is_dsn {
        let rest = text[first.len()..].trim_start();
        return (first.to_string(), rest);
    }
    (format!("{}.7.1", code / 100), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_bounce_and_dsn() {
        let r = Refusal::new(554, "5.7.1", "<x>: no", ErrorClass::Policy, true);
        assert_eq!(r.reply, "454 4.7.1 <x>: no");
        assert_eq!(dsn_split(550, "5.1.1 gone"), ("5.1.1".to_string(), "gone"));
        assert_eq!(
            dsn_split(450, "busy now"),
            ("4.7.1".to_string(), "busy now")
        );
    }
}
