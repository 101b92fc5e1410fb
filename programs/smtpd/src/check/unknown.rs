//! Names that must exist in the DNS: `reject_unknown_helo_hostname`,
//! `reject_unknown_sender_domain` and `reject_unknown_recipient_domain`.
//!
//! Postfix counterparts: `reject_unknown_hostname()`, `reject_unknown_mailhost()` and
//! `reject_unknown_address()` in `smtpd/smtpd_check.c`. A HELO name needs an A, AAAA or
//! MX record; an address domain that is not ours (not a final destination, not an
//! address literal) needs an MX, A or AAAA record, and a null MX refuses mail for good.
//! A temporary DNS failure defers, by default only if nothing else rejects
//! (`unknown_*_tempfail_action`).

use super::reply::{Refusal, Verdict};
use super::{Checker, Facts};
use dns::{ReqFlags, ResFlags, RrType, Status};
use global::resolve_clnt::{CLASS_FINAL, FLAG_FAIL};
use smtp_proto::ErrorClass;

/// The settings of these checks.
#[derive(Debug, Clone, Copy)]
pub struct UnknownCodes {
    /// `unknown_hostname_reject_code`.
    pub hostname: u16,
    /// `unknown_address_reject_code`.
    pub address: u16,
    /// `unknown_helo_hostname_tempfail_action` is defer_if_permit (else defer).
    pub hostname_defer_if_permit: bool,
    /// `unknown_address_tempfail_action` is defer_if_permit (else defer).
    pub address_defer_if_permit: bool,
}

impl UnknownCodes {
    /// The settings main.cf gives.
    pub fn from_config(config: &params::Config) -> UnknownCodes {
        use params::decl::smtpd as s;
        let action = |p: &'static params::Param| {
            let value = config.str(p).unwrap_or_else(|e| crate::settings::fatal(e));
            match value.trim() {
                "defer_if_permit" => true,
                "defer" => false,
                other => log::msg_fatal!("bad {} value: {other}", p.name),
            }
        };
        let code = |p: &'static params::Param| {
            let n = config.int(p).unwrap_or_else(|e| crate::settings::fatal(e));
            u16::try_from(n).unwrap_or(450)
        };
        UnknownCodes {
            hostname: code(&s::UNKNOWN_HOSTNAME_REJECT_CODE),
            address: code(&s::UNKNOWN_ADDRESS_REJECT_CODE),
            hostname_defer_if_permit: action(&s::UNKNOWN_HELO_HOSTNAME_TEMPFAIL_ACTION),
            address_defer_if_permit: action(&s::UNKNOWN_ADDRESS_TEMPFAIL_ACTION),
        }
    }
}

impl Checker {
    /// `reject_unknown_helo_hostname`; an address literal must be a valid address.
    pub(super) fn unknown_helo(&mut self, facts: &Facts) -> Verdict {
        let Some(helo) = facts.helo else {
            return Verdict::Dunno;
        };
        if helo.starts_with('[') {
            let inner = helo
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .filter(|h| !h.is_empty())
                .unwrap_or(helo);
            let inner = inner.strip_prefix("IPv6:").unwrap_or(inner);
            if util::valid_hostname::valid_hostaddr(inner) {
                return Verdict::Dunno;
            }
            let text = format!("<{helo}>: Helo command rejected: invalid ip address");
            return self.syntax_refusal(self.codes.invalid_hostname, &text);
        }
        let resolver = dns::Resolver::system();
        let types = [RrType::A, RrType::Aaaa, RrType::Mx];
        let status =
            match resolver.lookup_types(helo, &types, ResFlags::default(), ReqFlags::STOP_OK) {
                Ok(_) => return Verdict::Dunno,
                Err(e) => e.status,
            };
        let subject = format!("<{helo}>: Helo command rejected:");
        match status {
            Status::NullMx => Verdict::Dunno,
            Status::Policy => {
                log::msg_warn!(
                    "{helo}: address or MX lookup error: DNS reply filter drops all results"
                );
                Verdict::Dunno
            }
            status => {
                let (code, defer) = (
                    self.unknown_codes.hostname,
                    self.unknown_codes.hostname_defer_if_permit,
                );
                self.not_found(status, &subject, "Host not found", code, "4.7.1", defer)
            }
        }
    }

    /// `reject_unknown_sender_domain` (`sender` true) and
    /// `reject_unknown_recipient_domain`.
    pub(super) fn unknown_domain(&mut self, facts: &Facts, sender: bool) -> Verdict {
        let (address, other) = if sender {
            (facts.sender.filter(|s| !s.is_empty()), facts.recipient)
        } else {
            (facts.recipient, facts.sender)
        };
        let Some(address) = address else {
            return Verdict::Dunno;
        };
        let reply = self.resolve(other.unwrap_or(""), address);
        if reply.flags & FLAG_FAIL != 0 {
            return self.lookup_failure(address);
        }
        let Some((_, domain)) = reply.recipient.rsplit_once('@') else {
            return Verdict::Dunno;
        };
        if reply.flags & CLASS_FINAL != 0 || (domain.starts_with('[') && domain.ends_with(']')) {
            return Verdict::Dunno;
        }
        let domain = dns::smtp_addr::to_ascii(domain);
        let class = if sender {
            super::SENDER
        } else {
            super::RECIPIENT
        };
        let resolver = dns::Resolver::system();
        let types = [RrType::Mx, RrType::A, RrType::Aaaa];
        let status =
            match resolver.lookup_types(&domain, &types, ResFlags::default(), ReqFlags::MAILHOST) {
                Ok(_) => return Verdict::Dunno,
                Err(e) => e.status,
            };
        let detail = if sender { "4.1.8" } else { "4.1.2" };
        let subject = format!("<{address}>: {class} rejected:");
        match status {
            Status::Policy => {
                log::msg_warn!(
                    "{domain}: MX or address lookup error: DNS reply filter drops all results"
                );
                Verdict::Dunno
            }
            Status::NullMx => {
                let (code, dsn) = if sender {
                    (550, "4.7.27")
                } else {
                    (556, "4.1.10")
                };
                let text = format!("{subject} Domain {domain} does not accept mail (nullMX)");
                self.refusal(code, dsn, &text, ErrorClass::Policy)
            }
            status => {
                let (code, defer) = (
                    self.unknown_codes.address,
                    self.unknown_codes.address_defer_if_permit,
                );
                self.not_found(status, &subject, "Domain not found", code, detail, defer)
            }
        }
    }

    /// A name that is not there: a temporary failure defers (now or if nothing else
    /// rejects, as the tempfail action says), anything else refuses with `code`.
    fn not_found(
        &mut self,
        status: Status,
        subject: &str,
        missing: &str,
        code: u16,
        dsn: &str,
        defer_if_permit: bool,
    ) -> Verdict {
        if status == Status::Retry {
            let text = format!("{subject} {missing}");
            let refusal = Refusal::new(450, dsn, &text, ErrorClass::Policy, false);
            return self.tempfail(refusal, defer_if_permit);
        }
        let why = if status == Status::Inval {
            "Malformed DNS server reply"
        } else {
            missing
        };
        self.refusal(code, dsn, &format!("{subject} {why}"), ErrorClass::Policy)
    }

    /// A temporary failure: DEFER_IF_PERMIT (unless under `warn_if_reject`) or a deferral
    /// now.
    fn tempfail(&mut self, refusal: Refusal, defer_if_permit: bool) -> Verdict {
        if defer_if_permit {
            self.defer_if_permit(refusal)
        } else {
            Verdict::Refuse(refusal)
        }
    }
}
