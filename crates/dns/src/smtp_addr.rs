//! From a destination to the ordered list of addresses the SMTP client tries: mail
//! exchangers by preference, their addresses by family, equal preferences shuffled, and
//! the reason (status and text for the DSN) when there is nothing to try.
//!
//! Postfix counterpart: `smtp/smtp_addr.c`: `smtp_domain_addr()` (MX lookup; a null MX is
//! 5.1.0; no MX record falls back to the domain's own addresses; the list is cut at the
//! first address of this machine, "mail for X loops back to myself" when nothing better
//! is left), `smtp_host_addr()` (a host without MX lookup), `smtp_addr_one()` (numeric
//! host, DNS A/AAAA per `inet_protocols`, then the native name service), and
//! `smtp_balance_inet_proto()` (neither family crowds out the other under
//! `smtp_mx_address_limit`).

use std::net::IpAddr;

use crate::hostdb::AiError;
use crate::inet_proto::InetProtocols;
use crate::lookup::ReqFlags;
use crate::random::Random;
use crate::resolver::{ResFlags, Resolver};
use crate::rr::{self, AddrPref, RR_LIST_LIMIT, Rr, RrType, append_limited};
use crate::status::Status;

/// The native name service: the addresses of a host (see [`crate::native`]).
pub type NativeLookup<'a> = &'a dyn Fn(&str) -> Result<Vec<IpAddr>, AiError>;

/// The SMTP client settings that decide the address list.
#[derive(Clone)]
pub struct Settings<'a> {
    /// `smtp_host_lookup` includes `dns`.
    pub dns: bool,
    /// `smtp_host_lookup` includes `native`; the lookup to use.
    pub native: Option<NativeLookup<'a>>,
    /// `inet_protocols`.
    pub inet: InetProtocols,
    /// `smtp_address_preference`.
    pub address_preference: AddrPref,
    /// `smtp_randomize_addresses`.
    pub randomize_addresses: bool,
    /// `smtp_mx_address_limit` (0: none).
    pub mx_address_limit: usize,
    /// `smtp_balance_inet_protocols`.
    pub balance_inet_protocols: bool,
    /// `ignore_mx_lookup_error`.
    pub ignore_mx_lookup_error: bool,
    /// `smtp_defer_if_no_mx_address_found`.
    pub defer_if_no_mx_address_found: bool,
    /// `smtp_dns_support_level = dnssec`.
    pub dnssec: bool,
    /// smtp_tls_dane_insecure_mx_policy above may: the addresses of MX hosts are looked
    /// up with DNSSEC even when the MX RRset was not validated (their TLSA records may
    /// still authenticate them).
    pub insecure_mx_dnssec: bool,
    /// `smtp_dns_resolver_options` (for address lookups; MX lookups never search).
    pub resolver_options: ResFlags,
    /// Whether to look for this machine among the addresses (Postfix's
    /// `SMTP_MISC_FLAG_LOOP_DETECT`: SMTP yes, LMTP no).
    pub loop_detect: bool,
    /// This machine's addresses (`inet_interfaces`).
    pub own_addrs: Vec<IpAddr>,
    /// Addresses a proxy receives mail for this machine on (`proxy_interfaces`).
    pub proxy_addrs: Vec<IpAddr>,
}

impl Settings<'_> {
    /// Postfix 3.7's defaults: DNS only, both families, any order, shuffled, five
    /// addresses, balanced, loop detection on, no own addresses.
    pub fn new(inet: InetProtocols) -> Settings<'static> {
        Settings {
            dns: true,
            native: None,
            inet,
            address_preference: AddrPref::Any,
            randomize_addresses: true,
            mx_address_limit: 5,
            balance_inet_protocols: true,
            ignore_mx_lookup_error: false,
            defer_if_no_mx_address_found: false,
            dnssec: false,
            insecure_mx_dnssec: false,
            resolver_options: ResFlags::default(),
            loop_detect: true,
            own_addrs: Vec::new(),
            proxy_addrs: Vec::new(),
        }
    }
}

/// Why there is no address (Postfix's `DSN_BUF` status and reason).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Why {
    /// Enhanced status code, e.g. `4.4.3`; empty when nothing went wrong.
    pub status: String,
    /// The text for the log and the DSN.
    pub reason: String,
}

impl Why {
    fn soft(&self) -> bool {
        self.status.starts_with('4')
    }

    fn hard(&self) -> bool {
        self.status.starts_with('5')
    }

    /// `dsb_simple()`.
    fn set(&mut self, status: &str, reason: String) {
        self.status = status.to_string();
        self.reason = reason;
    }
}

/// The outcome: the addresses to try in order (possibly none), why some or all are
/// missing, the best MX record, and whether this machine was found among them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddrList {
    /// Address records, each with the preference of its MX host.
    pub addrs: Vec<Rr>,
    /// Meaningful when `addrs` is empty.
    pub why: Why,
    /// The most preferred MX record, when the destination had MX records.
    pub mx: Option<Rr>,
    /// Whether this machine is one of the mail exchangers.
    pub found_myself: bool,
}

/// The lookups with one set of settings and one source of randomness.
pub struct SmtpAddr<'a> {
    resolver: &'a Resolver,
    settings: Settings<'a>,
    random: &'a mut dyn Random,
}

impl<'a> SmtpAddr<'a> {
    /// Lookups through `resolver` with `settings`, shuffling with `random`.
    pub fn new(resolver: &'a Resolver, settings: Settings<'a>, random: &'a mut dyn Random) -> Self {
        SmtpAddr {
            resolver,
            settings,
            random,
        }
    }

    /// `smtp_domain_addr()`: the addresses of the mail exchangers of `name`.
    pub fn domain_addr(&mut self, name: &str) -> AddrList {
        let aname = to_ascii(name);
        let flags = ResFlags {
            dnssec: self.settings.dnssec,
            ..ResFlags::default()
        };
        let mut out = AddrList::default();
        let mx_names = match self.resolver.lookup(&aname, RrType::Mx, flags) {
            Ok(list) => list,
            Err(e) if e.status == Status::NotFound => return self.host_addr(&aname),
            Err(e) => {
                let (status, fallback) = match e.status {
                    Status::Inval => ("5.4.4", true),
                    Status::NullMx => ("5.1.0", false),
                    Status::Policy => ("4.7.0", false),
                    Status::Fail => ("5.4.3", true),
                    _ => ("4.4.3", true),
                };
                if fallback && self.settings.ignore_mx_lookup_error {
                    // The host lookup starts with a clean reason, as in Postfix.
                    return self.host_addr(&aname);
                }
                out.why.set(status, e.why);
                return out;
            }
        };
        let mut mx_names = mx_names;
        rr::sort(&mut mx_names, AddrPref::Any);
        let best_pref = mx_names.first().map(|mx| mx.pref);
        out.mx = mx_names.first().cloned();
        let mut addrs = self.addr_list(&mx_names, &mut out.why);
        if addrs.is_empty() {
            if self.settings.defer_if_no_mx_address_found && out.why.hard() {
                out.why.status.replace_range(..1, "4");
            }
            log::msg_warn!("no MX host for {name} has a valid address record");
            return out;
        }
        let best_found = addrs.first().map(|a| a.pref);
        if self.settings.loop_detect
            && let Some(self_pref) = self.find_self(&addrs)
        {
            out.found_myself = true;
            if let Some(cut) = addrs.iter().position(|a| a.pref == self_pref) {
                addrs.truncate(cut);
            }
            if addrs.is_empty() {
                if best_pref != best_found {
                    out.why
                        .set("4.4.4", format!("unable to find primary relay for {name}"));
                } else {
                    out.why
                        .set("5.4.6", format!("mail for {name} loops back to myself"));
                }
            }
        }
        if addrs.len() > 1 {
            self.order(&mut addrs);
        }
        out.addrs = addrs;
        out
    }

    /// `smtp_host_addr()`: the addresses of `host` itself (no MX lookup).
    pub fn host_addr(&mut self, host: &str) -> AddrList {
        let ahost = to_ascii(host);
        let flags = ResFlags {
            dnssec: self.settings.dnssec,
            ..ResFlags::default()
        };
        let mut out = AddrList::default();
        let mut addrs = Vec::new();
        self.addr_one(&mut addrs, &ahost, flags, 0, &mut out.why);
        if !addrs.is_empty() && self.settings.loop_detect && self.find_self(&addrs).is_some() {
            out.why
                .set("5.4.6", format!("mail for {host} loops back to myself"));
            return out;
        }
        if addrs.len() > 1 {
            if self.settings.randomize_addresses {
                rr::shuffle(&mut addrs, self.random);
            }
            // Only with two families is there an order to impose beyond the shuffle.
            if self.settings.inet.both() {
                rr::sort(&mut addrs, self.settings.address_preference);
            }
            self.balance(&mut addrs);
        }
        out.addrs = addrs;
        out
    }

    /// Shuffle (if enabled), sort by preference and family, balance the families.
    fn order(&mut self, addrs: &mut Vec<Rr>) {
        if self.settings.randomize_addresses {
            rr::shuffle(addrs, self.random);
        }
        rr::sort(addrs, self.settings.address_preference);
        self.balance(addrs);
    }

    /// `smtp_addr_list()`: the addresses of every MX host, in MX order.
    fn addr_list(&mut self, mx_names: &[Rr], why: &mut Why) -> Vec<Rr> {
        let flags = ResFlags {
            dnssec: mx_names.first().is_some_and(|mx| mx.dnssec_valid)
                || self.settings.insecure_mx_dnssec,
            ..ResFlags::default()
        };
        let mut addrs = Vec::new();
        for mx in mx_names {
            let Some(host) = mx.host() else { continue };
            if self.addr_one(&mut addrs, host, flags, mx.pref, why) {
                break;
            }
        }
        addrs
    }

    /// `smtp_addr_one()`: appends the addresses of `host` with preference `pref`, or
    /// updates `why`. A soft status set earlier is never made hard. Returns whether the
    /// list is full.
    fn addr_one(
        &mut self,
        addrs: &mut Vec<Rr>,
        host: &str,
        flags: ResFlags,
        pref: u16,
        why: &mut Why,
    ) -> bool {
        let inet = self.settings.inet;
        if let Ok(addr) = host.parse::<IpAddr>()
            && inet.accepts(&addr)
        {
            return append_limited(addrs, vec![Rr::from_addr(host, pref, addr)], RR_LIST_LIMIT);
        }
        if self.settings.dns {
            let flags = ResFlags {
                defnames: flags.defnames || self.settings.resolver_options.defnames,
                dnsrch: flags.dnsrch || self.settings.resolver_options.dnsrch,
                ..flags
            };
            match self.resolver.lookup_types(
                host,
                &inet.address_types(),
                flags,
                ReqFlags::default(),
            ) {
                Ok(mut list) => {
                    list.iter_mut().for_each(|rr| rr.pref = pref);
                    return append_limited(addrs, list, RR_LIST_LIMIT);
                }
                Err(e) => {
                    let soft_or = |hard: &'static str, soft: &'static str| {
                        if why.soft() { soft } else { hard }
                    };
                    let status = match e.status {
                        Status::Fail => soft_or("5.4.3", "4.4.3"),
                        Status::Inval | Status::NotFound => soft_or("5.4.4", "4.4.4"),
                        Status::Policy => "4.7.0",
                        _ => "4.4.3",
                    };
                    why.set(status, e.why);
                    if e.status != Status::NotFound {
                        return false;
                    }
                }
            }
        }
        let Some(native) = self.settings.native else {
            return false;
        };
        match native(host) {
            Err(e) => {
                let nohost = matches!(e, AiError::Again | AiError::NoData | AiError::NoName);
                let status = match (why.soft() || e.is_temporary(), nohost) {
                    (true, true) => "4.4.4",
                    (true, false) => "4.3.0",
                    (false, true) => "5.4.4",
                    (false, false) => "5.3.0",
                };
                why.set(status, format!("unable to look up host {host}: {e}"));
                false
            }
            Ok(found) => {
                let mut any = false;
                for addr in found {
                    if !inet.accepts(&addr) {
                        log::msg_info!(
                            "skipping address family {} for host {host}",
                            if addr.is_ipv4() { 2 } else { 10 }
                        );
                        continue;
                    }
                    any = true;
                    if append_limited(addrs, vec![Rr::from_addr(host, pref, addr)], RR_LIST_LIMIT) {
                        return true;
                    }
                }
                if !any {
                    let status = if why.soft() { "4.4.4" } else { "5.4.4" };
                    why.set(status, format!("{host}: host not found"));
                }
                false
            }
        }
    }

    /// `smtp_find_self()`: the preference of the first address this machine (or its
    /// proxy) listens on.
    fn find_self(&self, addrs: &[Rr]) -> Option<u16> {
        let settings = &self.settings;
        addrs
            .iter()
            .find(|rr| {
                rr.addr().is_some_and(|a| {
                    settings.own_addrs.contains(&a) || settings.proxy_addrs.contains(&a)
                })
            })
            .map(|rr| rr.pref)
    }

    /// `smtp_balance_inet_proto()`: when both families are present and the list is longer
    /// than the limit, keep enough of each (the list order is kept).
    fn balance(&self, addrs: &mut Vec<Rr>) {
        let limit = self.settings.mx_address_limit.min(RR_LIST_LIMIT);
        if limit == 0 || !self.settings.balance_inet_protocols {
            return;
        }
        let v4 = addrs.iter().filter(|rr| rr.rtype() == RrType::A).count();
        let v6 = addrs.len() - v4;
        if v4 == 0 || v6 == 0 || v4 + v6 <= limit {
            return;
        }
        let (mut v4_target, mut v6_target) = if v6 <= limit / 2 {
            (limit - v6, v6)
        } else if v4 <= limit / 2 {
            (v4, limit - v4)
        } else {
            let first_is_v4 = usize::from(addrs[0].rtype() == RrType::A);
            let v4_target = (limit + first_is_v4) / 2;
            (v4_target, limit - v4_target)
        };
        addrs.retain(|rr| {
            let target = if rr.rtype() == RrType::A {
                &mut v4_target
            } else {
                &mut v6_target
            };
            let keep = *target > 0;
            *target = target.saturating_sub(1);
            keep
        });
    }
}

/// A domain in ASCII (IDNA) form for lookups; names that are ASCII already, or cannot be
/// converted, are used as they are (Postfix's `midna_domain_to_ascii()` use).
pub fn to_ascii(name: &str) -> String {
    if name.is_ascii() {
        return name.to_string();
    }
    hickory_proto::rr::Name::from_utf8(name)
        .map(|n| n.to_ascii().trim_end_matches('.').to_string())
        .unwrap_or_else(|_| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::Sequence;
    use crate::resolv_conf::ResolvConf;

    fn rr(addr: &str, pref: u16) -> Rr {
        Rr::from_addr("mx.example", pref, addr.parse().unwrap())
    }

    fn balanced(list: &[Rr], limit: usize) -> Vec<String> {
        let resolver = Resolver::new(ResolvConf::default());
        let mut random = Sequence::new(&[0]);
        let settings = Settings {
            mx_address_limit: limit,
            ..Settings::new(InetProtocols::ALL)
        };
        let lookups = SmtpAddr::new(&resolver, settings, &mut random);
        let mut list = list.to_vec();
        lookups.balance(&mut list);
        list.iter()
            .map(|rr| rr.addr().unwrap().to_string())
            .collect()
    }

    #[test]
    fn balancing_keeps_both_families() {
        let v6: Vec<Rr> = (1..=6).map(|n| rr(&format!("2001:db8::{n}"), 10)).collect();
        let mut list = v6.clone();
        list.push(rr("192.0.2.1", 20));
        // One IPv4 address survives a limit the IPv6 ones would fill.
        assert_eq!(
            balanced(&list, 5),
            [
                "2001:db8::1",
                "2001:db8::2",
                "2001:db8::3",
                "2001:db8::4",
                "192.0.2.1"
            ]
        );
        // Plenty of both: the first address's family gets the odd one.
        let mut list = v6;
        list.extend((1..=6).map(|n| rr(&format!("192.0.2.{n}"), 20)));
        let kept = balanced(&list, 5);
        assert_eq!(kept.iter().filter(|a| a.contains(':')).count(), 3);
        // Under the limit, or one family: unchanged.
        assert_eq!(balanced(&list[..3], 5).len(), 3);
        assert_eq!(balanced(&list, 0).len(), 12);
    }

    #[test]
    fn idna() {
        assert_eq!(to_ascii("example.com"), "example.com");
        assert_eq!(to_ascii("bücher.example"), "xn--bcher-kva.example");
    }
}
