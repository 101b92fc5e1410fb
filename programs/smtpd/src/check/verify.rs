//! Address verification in the restrictions: `reject_unverified_sender` and
//! `reject_unverified_recipient`, and the probe sender that is never refused.
//!
//! Postfix counterparts: `reject_unverified_address()` in `smtpd/smtpd_check.c` and
//! `valid_verify_sender_addr()` in `global/verify_sender_addr.c` as `mail_cmd()` and
//! `rcpt_cmd()` in `smtpd/smtpd.c` use it. The verify service is asked about the address,
//! again every address_verify_poll_delay up to address_verify_poll_count times while its
//! probe is in progress. A deliverable address passes; one in progress or deferred gets
//! the `*_defer_code` (a 4xx kept as DEFER_IF_PERMIT under the default tempfail action),
//! one that bounced the `*_reject_code`; `*_reject_reason`, when set, replaces the
//! service's reason. A probe that arrives here with this site's own probe sender (MAIL
//! FROM, or a RCPT TO that some other site's probe for our sender sends) is not checked
//! at all, so that two sites that verify each other never cache each other as bad.

use super::reply::{Refusal, Verdict};
use super::{Checker, Facts, RECIPIENT, SENDER};
use global::verify_clnt::{DEL_RCPT_STAT_TODO, VRFY_STAT_OK, VerifyClient};
use global::verify_sender_addr::ProbeSender;
use smtp_proto::ErrorClass;
use std::time::Duration;

/// `DEL_RCPT_STAT_OK`: the address is deliverable.
const STAT_OK: i32 = 0;
/// `DEL_RCPT_STAT_DEFER`: its probe was deferred.
const STAT_DEFER: i32 = 1;
/// `DEL_RCPT_STAT_BOUNCE`: its probe bounced.
const STAT_BOUNCE: i32 = 2;

/// The settings of one of the two restrictions (`unverified_sender_*` or
/// `unverified_recipient_*`).
#[derive(Debug, Clone)]
pub struct Unverified {
    /// `*_reject_code`: the address bounces.
    reject: u16,
    /// `*_defer_code`: the probe is in progress or was deferred.
    defer: u16,
    /// `*_reject_reason`; empty gives the service's reason.
    reason: String,
    /// `*_tempfail_action` is defer_if_permit (else defer).
    defer_if_permit: bool,
}

/// What the verification restrictions need: the service, its polling, the two settings
/// and the probe sender.
pub struct Verification {
    client: VerifyClient,
    /// address_verify_service_name, for the service failure warning.
    service: String,
    /// address_verify_poll_count.
    poll_count: i32,
    /// address_verify_poll_delay.
    poll_delay: Duration,
    sender: Unverified,
    recipient: Unverified,
    /// address_verify_sender and its time stamp setting.
    probe: ProbeSender,
    /// address_verify_sender canonicalized, once asked (trivial-rewrite may not be up
    /// before the first session).
    probe_canonical: Option<String>,
}

impl Verification {
    /// The settings main.cf gives; a bad tempfail action is fatal, as in Postfix.
    pub fn from_config(config: &params::Config) -> Verification {
        use crate::settings::fatal;
        use params::decl::smtpd as s;
        use params::decl::verify as v;
        let code = |p: &'static params::Param| {
            let n = config.int(p).unwrap_or_else(|e| fatal(e));
            u16::try_from(n).unwrap_or(450)
        };
        let text = |p: &'static params::Param| config.str(p).unwrap_or_else(|e| fatal(e));
        let action = |p: &'static params::Param| match text(p).trim() {
            "defer_if_permit" => true,
            "defer" => false,
            other => log::msg_fatal!("bad configuration: {} = {other}", p.name),
        };
        let unverified = |reject, defer, reason, tempfail| Unverified {
            reject: code(reject),
            defer: code(defer),
            reason: text(reason),
            defer_if_permit: action(tempfail),
        };
        Verification {
            client: VerifyClient::from_config(config).unwrap_or_else(|e| fatal(e)),
            service: text(&params::decl::cleanup::ADDRESS_VERIFY_SERVICE_NAME),
            poll_count: i32::try_from(
                config
                    .int(&v::ADDRESS_VERIFY_POLL_COUNT)
                    .unwrap_or_else(|e| fatal(e)),
            )
            .unwrap_or(1),
            poll_delay: Duration::from_secs(
                config
                    .time(&v::ADDRESS_VERIFY_POLL_DELAY)
                    .unwrap_or_else(|e| fatal(e))
                    .max(1) as u64,
            ),
            sender: unverified(
                &s::UNVERIFIED_SENDER_REJECT_CODE,
                &s::UNVERIFIED_SENDER_DEFER_CODE,
                &s::UNVERIFIED_SENDER_REJECT_REASON,
                &s::UNVERIFIED_SENDER_TEMPFAIL_ACTION,
            ),
            recipient: unverified(
                &s::UNVERIFIED_RECIPIENT_REJECT_CODE,
                &s::UNVERIFIED_RECIPIENT_DEFER_CODE,
                &s::UNVERIFIED_RECIPIENT_REJECT_REASON,
                &s::UNVERIFIED_RECIPIENT_TEMPFAIL_ACTION,
            ),
            probe: ProbeSender::from_config(config).unwrap_or_else(|e| fatal(e)),
            probe_canonical: None,
        }
    }
}

/// At most `limit` bytes of `text`, cut at a character boundary (printf's `%.250s`).
fn truncated(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl Checker {
    /// `reject_unverified_sender` (`sender` true) and `reject_unverified_recipient`.
    pub(super) fn unverified(&mut self, facts: &Facts, sender: bool) -> Verdict {
        let address = if sender {
            facts.sender
        } else {
            facts.recipient
        };
        let Some(address) = address.filter(|a| !a.is_empty()) else {
            return Verdict::Dunno;
        };
        if log::verbose() > 0 {
            log::msg_info!("reject_unverified_address: {address}");
        }
        let v = &mut self.verification;
        let (settings, class, dsn) = if sender {
            (v.sender.clone(), SENDER, "4.1.7")
        } else {
            (v.recipient.clone(), RECIPIENT, "4.1.1")
        };
        let answer = v.client.query_poll(address, v.poll_count, v.poll_delay);
        let soft = self.policy.soft_bounce;
        if answer.request_status != VRFY_STAT_OK {
            log::msg_warn!("{} service failure", v.service);
            let text = format!("<{address}>: {class} rejected: address verification problem");
            let refusal = Refusal::new(450, dsn, &text, ErrorClass::Policy, soft);
            return self.verify_tempfail(refusal, settings.defer_if_permit);
        }
        let code = match answer.addr_status {
            STAT_OK => 0,
            DEL_RCPT_STAT_TODO | STAT_DEFER => settings.defer,
            STAT_BOUNCE => settings.reject,
            other => {
                log::msg_warn!("unknown address verification status {other}");
                0
            }
        };
        let why = if code >= 400 && !settings.reason.is_empty() {
            settings.reason.as_str()
        } else {
            answer.why.as_str()
        };
        match code / 100 {
            0 | 2 => Verdict::Dunno,
            4 => {
                let text = format!(
                    "<{address}>: {class} rejected: unverified address: {}",
                    truncated(why, 250)
                );
                let refusal = Refusal::new(code, dsn, &text, ErrorClass::Policy, soft);
                self.verify_tempfail(refusal, settings.defer_if_permit)
            }
            _ => {
                let text = format!("<{address}>: {class} rejected: undeliverable address: {why}");
                self.refusal(code, dsn, &text, ErrorClass::Policy)
            }
        }
    }

    /// DEFER_IF_PERMIT under the tempfail action, else the deferral now.
    fn verify_tempfail(&mut self, refusal: Refusal, defer_if_permit: bool) -> Verdict {
        if defer_if_permit {
            self.defer_if_permit(refusal)
        } else {
            Verdict::Refuse(refusal)
        }
    }

    /// This site's own probe sender without its time stamp when `addr` is one
    /// (`valid_verify_sender_addr()`): MAIL FROM takes it in place of the address, and
    /// RCPT TO accepts it unchecked.
    pub fn probe_sender(&mut self, addr: &str) -> Option<String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let v = &mut self.verification;
        if v.probe.sender.is_empty() || v.probe.sender == "<>" {
            return v.probe.valid("", addr, now);
        }
        let canonical = match &v.probe_canonical {
            Some(c) => c.clone(),
            None => {
                let c = self
                    .rewriter
                    .rewrite_internal(global::rewrite_clnt::RULE_LOCAL, &v.probe.sender);
                v.probe_canonical = Some(c.clone());
                c
            }
        };
        v.probe.valid(&canonical, addr, now)
    }
}

#[cfg(test)]
mod tests {
    use super::truncated;

    #[test]
    fn reasons_are_cut_at_a_character() {
        assert_eq!(truncated("abc", 250), "abc");
        assert_eq!(truncated("abcdef", 3), "abc");
        assert_eq!(truncated("aé", 2), "a");
    }
}
