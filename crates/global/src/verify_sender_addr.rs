//! The sender address of address verification probes: making it, and recognizing it.
//!
//! Postfix counterparts: `global/verify_sender_addr.c` and `global/safe_ultostr.c`. The
//! probe sender is address_verify_sender, canonicalized by trivial-rewrite (so a bare
//! `double-bounce` gets `@$myorigin`); with address_verify_sender_ttl, the number of the
//! current time slot is appended to its local part in base 31 with digits that contain
//! no vowels (`probe` becomes `probeQC`), so a site that lists the probe sender cannot
//! keep up. The verify service makes the address; smtpd recognizes it in MAIL FROM and
//! RCPT TO (this slot or the ones next to it, to allow for clock drift between machines)
//! and lets it through, so that two sites probing each other never cache each other as
//! undeliverable.

use crate::rewrite_clnt::{RULE_LOCAL, RewriteClient};

/// Base 31 digits without vowels, so a time stamp never spells a word (Postfix's
/// `safe_chars`, of which base 31 uses the first 31).
const SAFE_CHARS: &[u8] = b"0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
/// The base of the time stamp (`VERIFY_BASE`).
const VERIFY_BASE: u64 = 31;

/// `value` in `base` with the safe digits (`safe_ultostr` without padding; 0 is empty).
pub fn safe_ultostr(mut value: u64, base: u64) -> String {
    let mut out = Vec::new();
    while value != 0 {
        out.push(SAFE_CHARS[(value % base) as usize]);
        value /= base;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

/// The number the safe digits at the start of `text` spell in `base`, and the rest of
/// `text`; None when there is no digit or the number overflows (`safe_strtoul`).
pub fn safe_strtoul(text: &str, base: u64) -> Option<(u64, &str)> {
    let digits = text
        .bytes()
        .take_while(|b| SAFE_CHARS[..base as usize].contains(b))
        .count();
    if digits == 0 {
        return None;
    }
    let mut sum: u64 = 0;
    for b in text[..digits].bytes() {
        let value = SAFE_CHARS.iter().position(|&c| c == b)? as u64;
        sum = sum.checked_mul(base)?.checked_add(value)?;
    }
    Some((sum, &text[digits..]))
}

/// address_verify_sender and address_verify_sender_ttl.
#[derive(Debug, Clone)]
pub struct ProbeSender {
    /// address_verify_sender: empty or `<>` for the null sender.
    pub sender: String,
    /// address_verify_sender_ttl in seconds; 0 for a fixed address.
    pub ttl: i64,
}

impl ProbeSender {
    /// The settings in main.cf.
    pub fn from_config(config: &params::Config) -> Result<ProbeSender, params::ConfigError> {
        use params::decl::verify::{ADDRESS_VERIFY_SENDER, ADDRESS_VERIFY_SENDER_TTL};
        Ok(ProbeSender {
            sender: config.str(&ADDRESS_VERIFY_SENDER)?,
            ttl: config.time(&ADDRESS_VERIFY_SENDER_TTL)?,
        })
    }

    fn null(&self) -> bool {
        self.sender.is_empty() || self.sender == "<>"
    }

    /// The sender before canonicalization at time `now`: None for the null sender, else
    /// address_verify_sender with the time slot in its local part. A value that starts
    /// with '@', or whose first '@' ends it, is fatal.
    pub fn bare(&self, now: i64) -> Option<String> {
        if self.null() {
            return None;
        }
        let sender = &self.sender;
        if sender.starts_with('@') {
            log::msg_fatal!(
                "parameter address_verify_sender: value \"{sender}\" must not start with '@'"
            );
        }
        if sender.find('@') == Some(sender.len() - 1) {
            log::msg_fatal!(
                "parameter address_verify_sender: value \"{sender}\" must not end with '@'"
            );
        }
        if self.ttl <= 0 {
            return Some(sender.clone());
        }
        let stamp = safe_ultostr((now / self.ttl) as u64, VERIFY_BASE);
        Some(match sender.split_once('@') {
            Some((local, domain)) => format!("{local}{stamp}@{domain}"),
            None => format!("{sender}{stamp}"),
        })
    }

    /// The probe sender address at time `now`, canonicalized (`make_verify_sender_addr`);
    /// empty for the null sender.
    pub fn make(&self, rewrite: &mut RewriteClient, now: i64) -> String {
        match self.bare(now) {
            None => String::new(),
            Some(bare) => rewrite.rewrite_internal(RULE_LOCAL, &bare),
        }
    }

    /// Whether `their_addr` is a probe sender of this site for the time slot of `now` or
    /// one next to it: the address without its time stamp, else None
    /// (`valid_verify_sender_addr`). `canonical` is address_verify_sender as
    /// trivial-rewrite canonicalizes it, without a time stamp.
    pub fn valid(&self, canonical: &str, their_addr: &str, now: i64) -> Option<String> {
        if self.null() {
            return their_addr.is_empty().then(String::new);
        }
        let my_at = canonical.find('@');
        let base_len = my_at.unwrap_or(canonical.len());
        let theirs = their_addr.as_bytes();
        if theirs.len() < base_len
            || !theirs[..base_len].eq_ignore_ascii_case(&canonical.as_bytes()[..base_len])
        {
            return None;
        }
        let their_at = their_addr.find('@');
        match (their_at, my_at) {
            (None, Some(_)) => return None,
            (Some(t), Some(m))
                if their_addr[t..].to_lowercase() == canonical[m..].to_lowercase() => {}
            (Some(_), _) => return None,
            (None, None) => {}
        }
        let rest = their_addr.get(base_len..)?;
        if self.ttl > 0 {
            let (their_epoch, after) = safe_strtoul(rest, VERIFY_BASE)?;
            if !(after.starts_with('@') || after.is_empty()) {
                return None;
            }
            let my_epoch = (now / self.ttl) as u64;
            if their_epoch + 1 < my_epoch || their_epoch > my_epoch + 1 {
                return None;
            }
        } else if !(rest.starts_with('@') || rest.is_empty()) {
            return None;
        }
        Some(canonical.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_stamps_use_safe_base_31_digits() {
        assert_eq!(safe_ultostr(0, 31), "");
        assert_eq!(safe_ultostr(30, 31), "Z");
        assert_eq!(safe_ultostr(31, 31), "10");
        assert_eq!(safe_ultostr(31 * 31 * 12 + 10, 31), "D0B");
        assert_eq!(safe_strtoul("D0B@x", 31), Some((31 * 31 * 12 + 10, "@x")));
        assert_eq!(safe_strtoul("@x", 31), None);
        // 'a' is not a digit of base 31 (nor of any: it is a vowel).
        assert_eq!(safe_strtoul("1a", 31), Some((1, "a")));
        assert_eq!(safe_strtoul("ZZZZZZZZZZZZZZZZZZ", 31), None);
    }

    fn sender(s: &str, ttl: i64) -> ProbeSender {
        ProbeSender {
            sender: s.into(),
            ttl,
        }
    }

    #[test]
    fn the_sender_gets_the_time_slot_in_its_local_part() {
        assert_eq!(sender("", 0).bare(5), None);
        assert_eq!(sender("<>", 3600).bare(5), None);
        assert_eq!(
            sender("double-bounce", 0).bare(5).as_deref(),
            Some("double-bounce")
        );
        // 100000 / 3600 = 27 = "W" in safe base 31.
        assert_eq!(
            sender("probe@example.com", 3600).bare(100000).as_deref(),
            Some("probeW@example.com")
        );
        assert_eq!(
            sender("probe", 3600).bare(100000).as_deref(),
            Some("probeW")
        );
    }

    #[test]
    fn a_probe_sender_is_recognized_in_its_time_window() {
        let s = sender("probe", 3600);
        let canonical = "probe@example.com";
        let now = 100000; // slot 27, "W"
        assert_eq!(
            s.valid(canonical, "probeW@example.com", now).as_deref(),
            Some(canonical)
        );
        assert_eq!(
            s.valid(canonical, "PROBEV@EXAMPLE.COM", now).as_deref(),
            Some(canonical)
        );
        assert_eq!(
            s.valid(canonical, "probeX@example.com", now).as_deref(),
            Some(canonical)
        );
        // Two slots away, another domain, no domain, no stamp, garbage after it.
        for bad in [
            "probeY@example.com",
            "probeW@example.org",
            "probeW",
            "probe@example.com",
            "probeWa@example.com",
            "other@example.com",
        ] {
            assert_eq!(s.valid(canonical, bad, now), None, "{bad}");
        }
        let fixed = sender("probe", 0);
        assert_eq!(
            fixed.valid(canonical, "Probe@Example.com", now).as_deref(),
            Some(canonical)
        );
        assert_eq!(fixed.valid(canonical, "probes@example.com", now), None);
        let null = sender("<>", 0);
        assert_eq!(null.valid("", "", now).as_deref(), Some(""));
        assert_eq!(null.valid("", "x@y", now), None);
    }
}
