//! `permit_mx_backup`: relay for a domain that lists this host as a backup MX.
//!
//! Postfix counterparts: `permit_mx_backup()`, `i_am_mx()`, `has_my_addr()`,
//! `permit_mx_primary()` and `all_auth_mx_addr()` in `smtpd/smtpd_check.c`. Our own
//! destinations (final and relay_domains, or an address without a domain) permit as
//! permit_auth_destination would; a source-routed address (unless
//! `allow_untrusted_routing`) or an address literal does not. Otherwise the domain's MX
//! hosts are split into the primaries (the lowest preference) and the rest: the domain
//! permits when this host is not a primary but is one of the rest, and, with
//! permit_mx_backup_networks set, every address of every primary matches it. A host is
//! this one when mydestination lists its name or one of its addresses is ours
//! (inet_interfaces, proxy_interfaces). A DNS lookup that fails turns a later rejection
//! into a deferral (DEFER_IF_REJECT), as in Postfix.

use super::reply::{Refusal, Verdict};
use super::{Checker, Facts, Subject};
use dns::hostdb::HostDb;
use dns::{RrData, RrType, Status};
use global::resolve_clnt::{CLASS_FINAL, CLASS_RELAY, FLAG_FAIL, FLAG_ROUTED};
use smtp_proto::ErrorClass;

impl Checker {
    /// `permit_mx_backup` for the recipient (in any stage: deferrals name the recipient).
    pub(super) fn permit_mx_backup(&mut self, facts: &Facts) -> Verdict {
        let Some(recipient) = facts.recipient else {
            return Verdict::Dunno;
        };
        let subject = &Subject {
            name: recipient.to_string(),
            class: super::RECIPIENT,
        };
        let reply = self.resolve(facts.sender.unwrap_or(""), recipient);
        if reply.flags & FLAG_FAIL != 0 {
            return self.lookup_failure(recipient);
        }
        let Some((_, domain)) = reply.recipient.rsplit_once('@') else {
            return Verdict::Permit;
        };
        if reply.flags & FLAG_ROUTED != 0 && !self.untrusted_routing {
            return Verdict::Dunno;
        }
        if reply.flags & (CLASS_FINAL | CLASS_RELAY) != 0 {
            return Verdict::Permit;
        }
        if domain.starts_with('[') && domain.ends_with(']') {
            return Verdict::Dunno;
        }
        let domain = dns::smtp_addr::to_ascii(domain);
        let resolver = dns::Resolver::system();
        let mut mx = match resolver.lookup(&domain, RrType::Mx, Default::default()) {
            Ok(records) => records,
            Err(e) => {
                // A name without MX records, or with a null MX, is not backed up here.
                if matches!(e.status, Status::Retry | Status::Policy) {
                    let text = format!("Unable to look up mail exchanger information: {}", why(&e));
                    self.mx_defer_if_reject(subject, &text);
                }
                return Verdict::Dunno;
            }
        };
        mx.sort_by_key(|rr| rr.pref);
        let best = mx.first().map_or(0, |rr| rr.pref);
        let hosts = |primary: bool| -> Vec<String> {
            mx.iter()
                .filter(|rr| (rr.pref == best) == primary)
                .filter_map(|rr| match &rr.data {
                    RrData::Mx(host) => Some(host.clone()),
                    _ => None,
                })
                .collect()
        };
        let (primaries, backups) = (hosts(true), hosts(false));
        if self.i_am_mx(&primaries, subject) {
            return Verdict::Dunno;
        }
        if backups.is_empty() || !self.i_am_mx(&backups, subject) {
            return Verdict::Dunno;
        }
        if self.tables.mx_networks.is_some()
            && !primaries
                .iter()
                .all(|host| self.all_auth_mx_addr(host, subject))
        {
            return Verdict::Dunno;
        }
        Verdict::Permit
    }

    /// Whether one of `hosts` is this host: by name first (mydestination), then by
    /// address, so that the address lookups are done only when no name matches.
    fn i_am_mx(&mut self, hosts: &[String], subject: &Subject) -> bool {
        if hosts
            .iter()
            .any(|host| self.tables.local.is_local(host).unwrap_or(false))
        {
            return true;
        }
        hosts.iter().any(|host| self.has_my_addr(host, subject))
    }

    /// Whether `host` has one of our addresses; a host that cannot be looked up defers
    /// a later rejection.
    fn has_my_addr(&mut self, host: &str, subject: &Subject) -> bool {
        let resolver = dns::Resolver::system();
        let db = dns::hostdb::FilesDns::system(&resolver);
        match db.name_to_addrs(host, self.tables.inet) {
            Ok(addrs) => addrs
                .iter()
                .any(|addr| self.tables.own_addrs.contains(addr)),
            Err(e) => {
                let text = format!("Unable to look up mail exchanger host {host}: {}", e.text());
                self.mx_defer_if_reject(subject, &text);
                false
            }
        }
    }

    /// Whether every address of the primary MX `host` matches permit_mx_backup_networks.
    fn all_auth_mx_addr(&mut self, host: &str, subject: &Subject) -> bool {
        let Some(networks) = &self.tables.mx_networks else {
            return true;
        };
        let resolver = dns::Resolver::system();
        let types = self.tables.inet.address_types();
        let records =
            match resolver.lookup_types(host, &types, Default::default(), Default::default()) {
                Ok(records) => records,
                Err(e) => {
                    let text = format!(
                        "Unable to look up host {host} as mail exchanger: {}",
                        why(&e)
                    );
                    self.mx_defer_if_reject(subject, &text);
                    return false;
                }
            };
        for addr in records.iter().filter_map(|rr| rr.addr()) {
            match networks.matches(&[host, &addr.to_string()]) {
                Ok(true) => {}
                Ok(false) => return false,
                Err(_) => {
                    log::msg_warn!(
                        "all_auth_mx_addr: permit_mx_backup_networks lookup error for \
                         address {addr} for {host}"
                    );
                    let text = format!("Unable to verify host {host} as mail exchanger");
                    self.mx_defer_if_reject(subject, &text);
                    return false;
                }
            }
        }
        true
    }

    /// DEFER_IF_REJECT with `450 4.4.4 <name>: Class rejected: TEXT`.
    fn mx_defer_if_reject(&mut self, subject: &Subject, text: &str) {
        let text = format!("<{}>: {} rejected: {text}", subject.name, subject.class);
        let refusal = Refusal::new(450, "4.4.4", &text, ErrorClass::Policy, false);
        self.defer_if_reject(refusal);
    }
}

/// Why a DNS lookup failed, as the deferral says it.
fn why(e: &dns::DnsError) -> &'static str {
    if e.status == Status::Policy {
        "DNS reply filter policy"
    } else {
        e.h_errno.text()
    }
}
