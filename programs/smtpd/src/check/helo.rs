//! HELO name checks: `reject_invalid_helo_hostname`, `reject_non_fqdn_helo_hostname`
//! and the deprecated `permit_naked_ip_address`.
//!
//! Postfix counterparts: `reject_invalid_hostaddr()`, `reject_invalid_hostname()` and
//! `reject_non_fqdn_hostname()` in `smtpd/smtpd_check.c`, and `generic_checks()` for
//! `permit_naked_ip_address`. A name is checked without a
//! trailing dot; an address literal `[1.2.3.4]` must hold a valid address.

use super::Checker;
use super::reply::Verdict;
use util::valid_hostname::{valid_hostaddr, valid_hostname};

/// The HELO name as the checks see it: without one trailing dot.
fn bare(helo: &str) -> &str {
    helo.strip_suffix('.').unwrap_or(helo)
}

/// An address literal's address, when `helo` is one.
fn literal(helo: &str) -> Option<&str> {
    let inner = helo.strip_prefix('[')?.strip_suffix(']')?;
    Some(inner.strip_prefix("IPv6:").unwrap_or(inner))
}

impl Checker {
    /// `reject_invalid_helo_hostname`.
    pub(super) fn invalid_helo(&self, helo: Option<&str>) -> Verdict {
        let Some(helo) = helo else {
            return Verdict::Dunno;
        };
        let valid = match literal(helo) {
            Some(addr) => valid_hostaddr(addr),
            None => valid_hostname(bare(helo)),
        };
        if valid {
            return Verdict::Dunno;
        }
        let text = format!("<{helo}>: Helo command rejected: Invalid name");
        self.syntax_refusal(self.codes.invalid_hostname, &text)
    }

    /// `reject_non_fqdn_helo_hostname`.
    pub(super) fn non_fqdn_helo(&self, helo: Option<&str>) -> Verdict {
        let Some(helo) = helo else {
            return Verdict::Dunno;
        };
        if literal(helo).is_some() || (valid_hostname(bare(helo)) && bare(helo).contains('.')) {
            return Verdict::Dunno;
        }
        let text = format!("<{helo}>: Helo command rejected: need fully-qualified hostname");
        self.syntax_refusal(self.codes.non_fqdn, &text)
    }

    /// `permit_naked_ip_address`: a HELO name of digits, dots and colons permits when
    /// it is a valid address. Postfix warns at each use that the restriction is
    /// deprecated.
    pub(super) fn naked_ip_address(&self, helo: Option<&str>) -> Verdict {
        log::msg_warn!(
            "restriction permit_naked_ip_address is deprecated. \
             Use permit_mynetworks or permit_sasl_authenticated instead"
        );
        let Some(helo) = helo else {
            return Verdict::Dunno;
        };
        if !helo
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b':')
        {
            return Verdict::Dunno;
        }
        if valid_hostaddr(helo) {
            return Verdict::Permit;
        }
        let text = format!("<{helo}>: Helo command rejected: invalid ip address");
        self.syntax_refusal(self.codes.invalid_hostname, &text)
    }
}
