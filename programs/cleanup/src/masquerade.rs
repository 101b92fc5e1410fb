//! Address masquerading: `user@host.example.com` becomes `user@example.com`.
//!
//! Postfix counterpart: `cleanup/cleanup_masquerade.c`. The first domain in
//! `masquerade_domains` that is the address's domain or a parent of it decides: a parent
//! replaces the domain, the domain itself leaves the address alone, and a `!domain` that
//! matches also leaves it alone (so `!sub.example.com, example.com` keeps that subdomain).
//! Domains compare case-insensitively. Local parts in `masquerade_exceptions` are never
//! masqueraded; a table error there defers the message.

use crate::out::QueueSink;
use crate::state::State;
use global::cleanup_user::STAT_WRITE;
use params::decl::cleanup::MASQUERADE_EXCEPTIONS;

/// The masquerade domain `domain` (case-folded) should become, if any: the first entry of
/// `masq_domains` that matches decides.
pub fn masquerade_domain(domain: &str, masq_domains: &[String]) -> Option<String> {
    for entry in masq_domains {
        let bangs = entry.len() - entry.trim_start_matches('!').len();
        let truncate = bangs % 2 == 0;
        let masq = dict::casefold(&entry[bangs..]);
        if masq.is_empty() {
            continue;
        }
        let (d, m) = (domain.as_bytes(), masq.as_bytes());
        if m.len() == d.len() {
            if m == d {
                return None;
            }
        } else if m.len() < d.len() {
            let start = d.len() - m.len();
            if d[start - 1] == b'.' && &d[start..] == m {
                return truncate.then_some(masq);
            }
        }
    }
    None
}

impl<W: QueueSink> State<'_, W> {
    /// Masquerades `addr` (external form) in place; whether it changed
    /// (`cleanup_masquerade_external`).
    pub fn masquerade_external(&mut self, addr: &mut String) -> bool {
        let tables = &self.settings.tables;
        let Some(at) = addr.rfind('@') else {
            return false;
        };
        let domain = dict::casefold(&addr[at + 1..]);
        if let Some(exceptions) = &tables.masq_exceptions {
            let excluded = match exceptions.matches(&[&addr[..at]]) {
                Ok(excluded) => excluded,
                Err(_) => {
                    // Postfix logs this at the info level.
                    log::msg_info!(
                        "{}: {} map lookup problem -- message not accepted, try again later",
                        self.queue_id,
                        MASQUERADE_EXCEPTIONS.name
                    );
                    self.errs |= STAT_WRITE;
                    false
                }
            };
            if excluded {
                return false;
            }
        }
        let Some(masq) = masquerade_domain(&domain, &tables.masq_domains) else {
            return false;
        };
        if log::verbose() > 0 {
            log::msg_info!("masquerade: {domain} -> {masq}");
        }
        let new = format!("{}@{masq}", &addr[..at]);
        self.decisions
            .note(&self.queue_id, "masquerade_domains", addr, &new);
        *addr = new;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::masquerade_domain;

    fn list(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn the_first_matching_entry_decides() {
        let domains = list("!sub.example.com example.com");
        assert_eq!(
            masquerade_domain("a.example.com", &domains).as_deref(),
            Some("example.com")
        );
        assert_eq!(masquerade_domain("x.sub.example.com", &domains), None);
        assert_eq!(masquerade_domain("example.com", &domains), None);
        assert_eq!(masquerade_domain("badexample.com", &domains), None);
        let domains = list("!!example.com");
        assert_eq!(
            masquerade_domain("a.example.com", &domains).as_deref(),
            Some("example.com")
        );
    }
}
