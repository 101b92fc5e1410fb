//! `check_{client,reverse_client,helo,sender,recipient}_{mx,ns,a}_access`: access tables
//! asked about the MX hosts, DNS servers or addresses of a name.
//!
//! Postfix counterpart: `check_server_access()` in `smtpd/smtpd_check.c`. The name (or
//! an address's domain) gives a list of hosts: its MX hosts (the name itself when it has
//! no MX record), its name servers (a parent domain's when it has none), or for `_a_`
//! the name itself. Each host is looked up in the table by name (not for `_a_`), then by
//! each of its addresses; the first entry found decides. An address literal is looked up
//! as an address. These restrictions may not permit (OK is refused with Postfix's
//! warnings), since DNS data is the client's to choose.

use super::list::AccessKind;
use super::reply::Verdict;
use super::{Checker, Facts};
use dns::hostdb::HostDb;
use dns::{ResFlags, RrData, RrType, Status};

impl Checker {
    /// One `check_*_{mx,ns,a}_access` restriction (`name` as main.cf writes it).
    pub(super) fn check_server(
        &mut self,
        kind: AccessKind,
        rtype: RrType,
        table: &str,
        name: &str,
        facts: &Facts,
        depth: usize,
    ) -> (Verdict, Option<String>) {
        let Some((_, subject)) = self.access_keys(kind, facts) else {
            return (Verdict::Dunno, None);
        };
        let looked_up = match kind {
            AccessKind::Client => facts.peer.name.clone(),
            AccessKind::ReverseClient => facts.peer.reverse_name.clone(),
            _ => subject.name.clone(),
        };
        let unknown = matches!(kind, AccessKind::Client | AccessKind::ReverseClient)
            && looked_up.eq_ignore_ascii_case(dns::peer::CLIENT_NAME_UNKNOWN);
        if unknown || looked_up.is_empty() {
            return (Verdict::Dunno, None);
        }
        let Some(maps) = self.tables.access.get(table) else {
            return (self.server_error(), None);
        };
        let domain = looked_up
            .rsplit_once('@')
            .map_or(looked_up.as_str(), |(_, d)| d);
        let result =
            if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
                if rtype == RrType::Ns {
                    return (Verdict::Dunno, None);
                }
                let bare = literal.strip_prefix("IPv6:").unwrap_or(literal);
                if !util::valid_hostname::valid_hostaddr(bare) {
                    return (Verdict::Dunno, None);
                }
                let mut keys = Vec::new();
                super::access::addr_keys(bare, &mut keys);
                super::access::first_found(maps, &keys)
                    .map(|f| f.map(|(k, v)| (k, v, bare.to_string())))
            } else {
                let domain = dns::smtp_addr::to_ascii(domain);
                let Some(hosts) = self.server_hosts(&domain, &looked_up, rtype) else {
                    return (Verdict::Dunno, None);
                };
                self.first_server_entry(maps, &hosts, rtype, &subject)
            };
        let (key, value, datum) = match result {
            Ok(Some(found)) => found,
            Ok(None) => return (Verdict::Dunno, None),
            // The table already logged its warning (see check_access).
            Err(_) => {
                let verdict = self.table_result(
                    table,
                    super::access::TABLE_FAILED,
                    &subject.name,
                    &subject,
                    facts,
                    depth,
                );
                return (verdict, None);
            }
        };
        let verdict = self.table_result(table, &value, &datum, &subject, facts, depth);
        let verdict = self.forbid_allowlist(name, verdict, &looked_up);
        (verdict, Some(format!("{key} -> {value}")))
    }

    /// The hosts to check: MX or NS host names, or the domain itself; None (with
    /// Postfix's warning) when the DNS has no answer.
    fn server_hosts(&self, domain: &str, name: &str, rtype: RrType) -> Option<Vec<String>> {
        if rtype == RrType::A {
            return Some(vec![domain.to_string()]);
        }
        let resolver = dns::Resolver::system();
        let lookup = |d: &str| resolver.lookup(d, rtype, ResFlags::default());
        let mut asked = domain.to_string();
        let mut result = lookup(&asked);
        if let Err(e) = &result {
            if e.status == Status::NullMx {
                return None;
            }
            if e.status == Status::NotFound {
                if rtype == RrType::Mx {
                    return Some(vec![domain.to_string()]);
                }
                // No NS records: a parent domain's.
                let mut rest = domain;
                while let Some((_, parent)) = rest.split_once('.') {
                    if parent.is_empty() {
                        break;
                    }
                    asked = parent.to_string();
                    result = lookup(parent);
                    if !matches!(&result, Err(e) if e.status == Status::NotFound) {
                        break;
                    }
                    rest = parent;
                }
            }
        }
        match result {
            Ok(records) => Some(
                records
                    .iter()
                    .filter_map(|rr| match &rr.data {
                        RrData::Mx(host) => Some(host.clone()),
                        RrData::Ns(host) => Some(host.clone()),
                        _ => None,
                    })
                    .collect(),
            ),
            Err(e) => {
                let shown = if asked.contains('.') || asked == domain {
                    asked.as_str()
                } else {
                    name
                };
                let why = if e.status == Status::Policy {
                    "DNS reply filter policy".to_string()
                } else {
                    e.h_errno.text().to_string()
                };
                log::msg_warn!("Unable to look up {} host for {shown}: {why}", rtype);
                None
            }
        }
    }

    /// The first table entry for the hosts: by name (not for `_a_`), then by address.
    fn first_server_entry(
        &self,
        maps: &global::maps::Maps,
        hosts: &[String],
        rtype: RrType,
        subject: &super::Subject,
    ) -> Result<Option<(String, String, String)>, global::maps::MapsError> {
        let resolver = dns::Resolver::system();
        let db = dns::hostdb::FilesDns::system(&resolver);
        for host in hosts {
            let mut keys = Vec::new();
            if util::valid_hostname::valid_hostaddr(host) {
                super::access::addr_keys(host, &mut keys);
                if let Some((k, v)) = super::access::first_found(maps, &keys)? {
                    return Ok(Some((k, v, host.clone())));
                }
                continue;
            }
            if rtype != RrType::A {
                super::access::domain_keys(host, self.tables.parent_style, true, &mut keys);
                if let Some((k, v)) = super::access::first_found(maps, &keys)? {
                    return Ok(Some((k, v, host.clone())));
                }
            }
            let addrs = match db.name_to_addrs(host, self.tables.inet) {
                Ok(addrs) => addrs,
                Err(e) => {
                    if rtype != RrType::A {
                        log::msg_warn!(
                            "Unable to look up {rtype} host {host} for {} {}: {}",
                            subject.class,
                            subject.name,
                            e.text()
                        );
                    }
                    continue;
                }
            };
            for addr in addrs {
                let text = addr.to_string();
                let mut keys = Vec::new();
                super::access::addr_keys(&text, &mut keys);
                if let Some((k, v)) = super::access::first_found(maps, &keys)? {
                    return Ok(Some((k, v, text)));
                }
            }
        }
        Ok(None)
    }
}
