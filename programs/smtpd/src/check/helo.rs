//! HELO name checks: `reject_invalid_helo_hostname` and `reject_non_fqdn_helo_hostname`.
//!
//! Postfix counterparts: `reject_invalid_hostaddr()`, `reject_invalid_hostname()` and
//! `reject_non_fqdn_hostname()` in `smtpd/smtpd_check.c`. A name is checked without a
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
}
