//! `check_client_access`, `check_helo_access`, `check_sender_access`,
//! `check_recipient_access`, `check_ccert_access`, `check_sasl_access` and
//! `check_etrn_access`: the lookup keys tried, and what a
//! table's answer means.
//!
//! Postfix counterpart: `check_namadr_access()`, `check_domain_access()`,
//! `check_addr_access()`, `check_mail_access()`, `check_ccert_access()`,
//! `check_sasl_access()`, `check_domain_access()` (for ETRN) and
//! `check_table_result()` in `smtpd/smtpd_check.c`. A client certificate is looked up by
//! its fingerprint, then by its public key's (both with `smtpd_tls_fingerprint_digest`,
//! computed by crates/tls at the handshake), the first answer other than DUNNO deciding;
//! the issuer need not be trusted. A mail address is looked up as trivial-rewrite
//! resolves it; a recipient with routing operators (`user%host@domain`) that a table
//! permits is let through only with `allow_untrusted_routing`. Keys go from specific to
//! general: the whole address, without its `+extension`, the domain and its parents,
//! `localpart@`; for clients the name and its parents, then the address and its shorter
//! octet prefixes. Only a whole key is shown to pattern tables (regexp, pcre). What the
//! answer means is [`super::action`]'s.

use super::list::AccessKind;
use super::reply::Verdict;
use super::{Checker, Facts, Subject};
use global::maps::{Maps, MapsError};
use global::resolve_clnt::{FLAG_FAIL, FLAG_ROUTED};

/// One key to try: the text, and whether it is only part of the address (pattern
/// tables skip those).
pub(super) struct Key {
    text: String,
    partial: bool,
}

fn whole(text: impl Into<String>) -> Key {
    Key {
        text: text.into(),
        partial: false,
    }
}

fn part(text: impl Into<String>) -> Key {
    Key {
        text: text.into(),
        partial: true,
    }
}

/// `name` and its parent domains: `a.b.c`, then `b.c`, `c` (parent style) or `.b.c`,
/// `.c`.
pub(super) fn domain_keys(name: &str, parent_style: bool, first_whole: bool, keys: &mut Vec<Key>) {
    let name = name.to_ascii_lowercase();
    keys.push(if first_whole {
        whole(name.clone())
    } else {
        part(name.clone())
    });
    let mut rest = name.as_str();
    while let Some((_, parent)) = rest.split_once('.') {
        keys.push(part(if parent_style {
            parent.to_string()
        } else {
            format!(".{parent}")
        }));
        rest = parent;
    }
}

/// The address and its shorter prefixes: `1.2.3.4`, `1.2.3`, `1.2`, `1` (IPv6: the
/// address, then its prefixes at each `:`).
pub(super) fn addr_keys(addr: &str, keys: &mut Vec<Key>) {
    keys.push(whole(addr));
    let sep = if addr.contains(':') { ':' } else { '.' };
    let mut rest = addr;
    while let Some((prefix, _)) = rest.rsplit_once(sep) {
        if prefix.is_empty() {
            break;
        }
        keys.push(part(prefix));
        rest = prefix;
    }
}

impl Checker {
    /// The keys for `address` (`check_mail_access()`).
    fn mail_keys(&self, address: &str) -> Vec<Key> {
        if address.is_empty() {
            return vec![whole(self.tables.null_key.clone())];
        }
        let lower = address.to_ascii_lowercase();
        let (local, domain) = match lower.rsplit_once('@') {
            Some((l, d)) => (l.to_string(), Some(d.to_string())),
            None => (lower.clone(), None),
        };
        let delims = self.tables.addr.delimiters();
        let bare_local = (!delims.is_empty())
            .then(|| local.find(|c| delims.contains(c)))
            .flatten()
            .filter(|&i| i > 0)
            .map(|i| local[..i].to_string());
        let mut keys = vec![whole(lower)];
        if let (Some(bare), Some(domain)) = (&bare_local, &domain) {
            keys.push(part(format!("{bare}@{domain}")));
        }
        if let Some(domain) = &domain {
            domain_keys(domain, self.tables.parent_style, false, &mut keys);
        }
        keys.push(part(format!("{local}@")));
        if let Some(bare) = bare_local {
            keys.push(part(format!("{bare}@")));
        }
        keys
    }

    /// The keys and the subject of an access check of `kind`; None when the fact is not
    /// known yet (no HELO, not in a transaction).
    pub(super) fn access_keys(
        &self,
        kind: AccessKind,
        facts: &Facts,
    ) -> Option<(Vec<Key>, Subject)> {
        let mut keys = Vec::new();
        let subject = match kind {
            AccessKind::Client => {
                // "unknown" is looked up too: a table may list it.
                domain_keys(&facts.peer.name, self.tables.parent_style, true, &mut keys);
                addr_keys(&facts.peer.addr, &mut keys);
                Subject {
                    name: facts.peer.namaddr.clone(),
                    class: "Client host",
                }
            }
            AccessKind::ReverseClient => {
                let name = &facts.peer.reverse_name;
                domain_keys(name, self.tables.parent_style, true, &mut keys);
                addr_keys(&facts.peer.addr, &mut keys);
                Subject {
                    name: name.clone(),
                    class: "Unverified Client host",
                }
            }
            AccessKind::Helo => {
                let helo = facts.helo?;
                domain_keys(helo, self.tables.parent_style, true, &mut keys);
                Subject {
                    name: helo.to_string(),
                    class: "Helo command",
                }
            }
            AccessKind::Sender => {
                let sender = facts.sender?;
                keys = self.mail_keys(sender);
                Subject {
                    name: sender.to_string(),
                    class: super::SENDER,
                }
            }
            AccessKind::Recipient => {
                let recipient = facts.recipient?;
                keys = self.mail_keys(recipient);
                Subject {
                    name: recipient.to_string(),
                    class: super::RECIPIENT,
                }
            }
            AccessKind::Ccert => {
                let Some(cert) = facts.tls.and_then(|tls| tls.peer_cert.as_ref()) else {
                    if !self.policy.ask_ccert {
                        log::msg_warn!(
                            "check_ccert_access is requested, but \"smtpd_tls_ask_ccert = no\""
                        );
                    }
                    return None;
                };
                keys.push(whole(cert.fingerprint.clone()));
                keys.push(whole(cert.pkey_fingerprint.clone()));
                Subject {
                    name: cert.subject_cn.clone(),
                    class: "Client certificate",
                }
            }
            AccessKind::Etrn => {
                let domain = self.etrn_domain.clone()?;
                domain_keys(&domain, self.tables.parent_style, true, &mut keys);
                Subject {
                    name: domain,
                    class: "Etrn command",
                }
            }
            AccessKind::Sasl => {
                if !self.sasl_enable {
                    log::msg_warn!("restriction `{}' ignored: no SASL support", kind.name());
                    return None;
                }
                let user = facts.sasl_username.filter(|u| !u.is_empty())?;
                keys.push(whole(user));
                // The reply shows the name with its unprintable characters as '_'.
                let shown = user
                    .chars()
                    .map(|c| {
                        if c.is_ascii_graphic() || c == ' ' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                Subject {
                    name: shown,
                    class: "SASL login name",
                }
            }
        };
        Some((keys, subject))
    }

    /// `check_*_access table`: the first key the table has decides.
    pub(super) fn check_access(
        &mut self,
        kind: AccessKind,
        table: &str,
        facts: &Facts,
        depth: usize,
    ) -> (Verdict, Option<String>) {
        let Some((mut keys, subject)) = self.access_keys(kind, facts) else {
            return (Verdict::Dunno, None);
        };
        if !self.tables.access.contains_key(table) {
            return (self.server_error(), None);
        }
        // A mail address is looked up as the resolving service gives it back
        // (check_mail_access()): rewritten, its local domain stripped and routing
        // operators turned into domains, and case-folded.
        let mail = match kind {
            AccessKind::Sender => facts.sender.map(|s| (s, facts.recipient)),
            AccessKind::Recipient => facts.recipient.map(|r| (r, facts.sender)),
            _ => None,
        };
        let mut routed = false;
        if let Some((address, context)) = mail.filter(|(a, _)| !a.is_empty()) {
            let reply = self.resolve(context.unwrap_or(""), address);
            if reply.flags & FLAG_FAIL != 0 {
                return (self.lookup_failure(address), None);
            }
            if !reply.recipient.contains('@') {
                log::msg_warn!(
                    "check_mail_access: no @domain in address: {}",
                    reply.recipient
                );
                return (Verdict::Dunno, None);
            }
            keys = self.mail_keys(&reply.recipient);
            routed = kind == AccessKind::Recipient && reply.flags & FLAG_ROUTED != 0;
        }
        if kind == AccessKind::Ccert {
            // Each fingerprint is a lookup of its own: a DUNNO for the certificate still
            // lets its public key decide.
            let mut last = (Verdict::Dunno, None);
            for key in keys {
                last = self.check_access_keys(kind, table, &[key], &subject, facts, depth);
                if last.0 != Verdict::Dunno {
                    break;
                }
            }
            return last;
        }
        let (verdict, key) = self.check_access_keys(kind, table, &keys, &subject, facts, depth);
        // A source-routed recipient is too suspicious for a table to let through,
        // unless allow_untrusted_routing says otherwise.
        if verdict == Verdict::Permit && routed && !self.untrusted_routing {
            return (Verdict::Dunno, key);
        }
        (verdict, key)
    }

    /// The first of `keys` that the (opened) table `table` has decides.
    fn check_access_keys(
        &mut self,
        kind: AccessKind,
        table: &str,
        keys: &[Key],
        subject: &Subject,
        facts: &Facts,
        depth: usize,
    ) -> (Verdict, Option<String>) {
        let found = match self.tables.access.get(table) {
            Some(maps) => first_found(maps, keys),
            None => return (self.server_error(), None),
        };
        match found {
            Ok(None) => (Verdict::Dunno, None),
            Ok(Some((key, value))) => {
                // What the warnings name: the address when an address key matched, else
                // the name or address that was looked up whole.
                let datum = match kind {
                    AccessKind::Client | AccessKind::ReverseClient => {
                        if facts.peer.addr.starts_with(&key) {
                            facts.peer.addr.clone()
                        } else if kind == AccessKind::Client {
                            facts.peer.name.clone()
                        } else {
                            facts.peer.reverse_name.clone()
                        }
                    }
                    // The certificate's name is for the reply; the warnings name
                    // the fingerprint that matched.
                    AccessKind::Ccert => key.clone(),
                    // The address as it was looked up: resolved and folded, or the
                    // null sender's key.
                    AccessKind::Sender | AccessKind::Recipient => keys[0].text.clone(),
                    _ => subject.name.clone(),
                };
                let mut verdict = self.table_result(table, &value, &datum, subject, facts, depth);
                if kind == AccessKind::ReverseClient {
                    verdict = self.forbid_allowlist(kind.name(), verdict, &subject.name);
                }
                (verdict, Some(format!("{key} -> {value}")))
            }
            // The table already logged its warning; the answer is an access result of
            // its own, as Postfix's check_access gives it.
            Err(_) => (
                self.table_result(table, TABLE_FAILED, &subject.name, subject, facts, depth),
                None,
            ),
        }
    }
}

impl Checker {
    /// `permit_tls_clientcerts` (`all`: `permit_tls_all_clientcerts`): a trusted
    /// certificate permits with `all`; otherwise the certificate's fingerprint, then its
    /// public key's, is looked up in `relay_clientcerts` (the issuer need not be
    /// trusted).
    pub(super) fn permit_tls_clientcerts(&self, facts: &Facts, all: bool) -> Verdict {
        let Some(tls) = facts.tls else {
            return Verdict::Dunno;
        };
        let trusted = matches!(tls.trust, tls::Trust::Trusted | tls::Trust::Verified);
        if all && trusted {
            return Verdict::Permit;
        }
        let Some(cert) = &tls.peer_cert else {
            if !self.policy.ask_ccert {
                let name = if all {
                    "permit_tls_all_clientcerts"
                } else {
                    "permit_tls_clientcerts"
                };
                log::msg_warn!("{name} is requested, but \"smtpd_tls_ask_ccert = no\"");
            }
            return Verdict::Dunno;
        };
        let Some(maps) = &self.tables.relay_ccerts else {
            return Verdict::Dunno;
        };
        for print in [&cert.fingerprint, &cert.pkey_fingerprint] {
            match maps.find(print, false) {
                Ok(Some(_)) => return Verdict::Permit,
                Ok(None) => {}
                Err(_) => {
                    log::msg_warn!(
                        "relay_clientcerts: lookup error for fingerprint '{}', \
                         pkey fingerprint {}",
                        cert.fingerprint,
                        cert.pkey_fingerprint
                    );
                    // Postfix hands the table's error code up; a deferral is the nearest
                    // safe answer.
                    return self.lookup_failure(&facts.peer.namaddr);
                }
            }
        }
        Verdict::Dunno
    }

    /// `forbid_allowlist()`: a restriction about unverified facts must not permit (but a
    /// DISCARD, which also permits, is fine).
    pub(super) fn forbid_allowlist(&self, name: &str, verdict: Verdict, target: &str) -> Verdict {
        if verdict != Verdict::Permit || self.effects.discard {
            return verdict;
        }
        log::msg_warn!("restriction {name} returns OK for {target}");
        log::msg_warn!("this is not allowed for security reasons");
        log::msg_warn!("use DUNNO instead of OK if you want to make an exception");
        self.server_error()
    }
}

/// The first key `maps` has, with its value.
/// The access result that stands for a failed table lookup (Postfix's check_access).
pub(super) const TABLE_FAILED: &str = "451 4.3.5 Server configuration error";

pub(super) fn first_found(
    maps: &Maps,
    keys: &[Key],
) -> Result<Option<(String, String)>, MapsError> {
    for key in keys {
        if let Some(value) = maps.find(&key.text, key.partial)? {
            return Ok(Some((key.text.clone(), value)));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(keys: &[Key]) -> Vec<(String, bool)> {
        keys.iter().map(|k| (k.text.clone(), k.partial)).collect()
    }

    #[test]
    fn client_keys_from_specific_to_general() {
        let mut keys = Vec::new();
        domain_keys("Mail.Example.COM", true, true, &mut keys);
        addr_keys("192.0.2.1", &mut keys);
        assert_eq!(
            texts(&keys),
            vec![
                ("mail.example.com".into(), false),
                ("example.com".into(), true),
                ("com".into(), true),
                ("192.0.2.1".into(), false),
                ("192.0.2".into(), true),
                ("192.0".into(), true),
                ("192".into(), true),
            ]
        );
        let mut dotted = Vec::new();
        domain_keys("a.b", false, false, &mut dotted);
        assert_eq!(
            texts(&dotted),
            vec![("a.b".into(), true), (".b".into(), true)]
        );
    }
}
