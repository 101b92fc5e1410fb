//! The TLSA records of one server for the dane and dane-only levels: which name is
//! asked, and what the answer means.
//!
//! Postfix counterpart: `tls_dane_resolve()`, `resolve_host()` and `dane_lookup()` in
//! `tls/tls_dane.c`. Postfix validates no DNSSEC itself: with smtp_dns_support_level =
//! dnssec it asks with the DO bit and trusts the AD bit of the (local) resolver, as
//! crates/dns does. TLSA records are looked up only for a host whose address records
//! were validated, or whose name before a CNAME is (or with
//! smtp_tls_force_insecure_host_tlsa_lookup); the name asked is `_PORT._tcp.` and the
//! host's name after CNAMEs when validated, then, when that has none and differs, the
//! name before. Records of a reply that was
//! not validated count as none; PKIX usages (0, 1) and the private-use matching type
//! are dropped with Postfix's warning.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use dns::{ResFlags, Resolver, Rr, RrData, RrType, Status};
use tls::dane::Tlsa;

/// How long an answer is kept at least and at most, in seconds (Postfix's
/// `TLS_DANE_CACHE_TTL_MIN` and `TLS_DANE_CACHE_TTL_MAX`).
const TTL_MIN: u32 = 1;
const TTL_MAX: u32 = 100;
/// How many names the cache holds (Postfix's `CACHE_SIZE`).
const CACHE_SIZE: usize = 20;

/// The answers of the process, by TLSA name, each until it expires (Postfix's
/// `dane_cache`): a warning about a record comes once per answer, not per use.
#[derive(Default)]
pub struct Cache(RefCell<HashMap<String, (Found, Instant)>>);

/// What the lookup found (Postfix's `TLS_DANE` flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// No validated TLSA records (`TLS_DANE_FLAG_NORRS`).
    None,
    /// Validated records, none of them of a usage and type DANE for SMTP takes
    /// (`TLS_DANE_FLAG_EMPTY`).
    Unusable,
    /// The records, and the name they were found under (the base domain).
    Records(String, Vec<Tlsa>),
    /// The lookup failed (`TLS_DANE_FLAG_ERROR`); the warning was logged.
    Error,
}

/// `tls_dane_resolve()`: the TLSA records for the server of address record `host_rr`
/// on `port`; `force` is smtp_tls_force_insecure_host_tlsa_lookup, `verbose`
/// (smtp_tls_loglevel 2 and up) logs each record kept.
pub fn resolve(
    cache: &Cache,
    resolver: &Resolver,
    port: u16,
    host_rr: &Rr,
    force: bool,
    verbose: bool,
) -> Found {
    let lookup = |host: &str| lookup(cache, resolver, port, host, verbose);
    let rname = host_rr.rname.trim_end_matches('.');
    let qname = host_rr.qname.trim_end_matches('.');
    let is_cname = !rname.eq_ignore_ascii_case(qname);
    if !force && !host_rr.dnssec_valid {
        // A host in an unsigned zone has no TLSA records worth asking for, unless the
        // name before a CNAME is in a signed one.
        let secure = if is_cname {
            qname_secure(resolver, qname)
        } else {
            Some(false)
        };
        match secure {
            None => return Found::Error,
            Some(false) => return Found::None,
            Some(true) => {}
        }
    }
    // The name after CNAMEs only when validated; a lookup error there is final.
    if host_rr.dnssec_valid {
        let found = lookup(rname);
        if found != Found::None || !is_cname {
            return found;
        }
    }
    lookup(qname)
}

/// `qname_secure()`: whether the CNAME record of `qname` was validated; None (after
/// Postfix's warning) when it cannot be looked up.
fn qname_secure(resolver: &Resolver, qname: &str) -> Option<bool> {
    let flags = ResFlags {
        dnssec: true,
        ..ResFlags::default()
    };
    match resolver.lookup(qname, RrType::Cname, flags) {
        Ok(records) => Some(records.first().is_some_and(|rr| rr.dnssec_valid)),
        Err(e) => {
            let why = if e.status == Status::NotFound {
                "no longer a CNAME".to_string()
            } else {
                e.why
            };
            log::msg_warn!("DNSSEC status lookup error for {qname}: {why}");
            None
        }
    }
}

/// `resolve_host()`: the TLSA records of `_PORT._tcp.HOST`, from the cache while they
/// last. A failed lookup is made twice when the name is new, as in Postfix, whose cache
/// entry for a failure has expired the moment it is made (`ctable_locate()`, then
/// `ctable_refresh()`), so the warning comes twice too.
fn lookup(cache: &Cache, resolver: &Resolver, port: u16, host: &str, verbose: bool) -> Found {
    let name = format!("_{port}._tcp.{host}");
    let now = Instant::now();
    let mut map = cache.0.borrow_mut();
    let (found, ttl) = match map.get(&name) {
        Some((found, expires)) if now < *expires => return found.clone(),
        Some(_) => lookup_once(resolver, &name, host, verbose),
        None => match lookup_once(resolver, &name, host, verbose) {
            (Found::Error, _) => lookup_once(resolver, &name, host, verbose),
            found => found,
        },
    };
    // One more second for the clock's granularity, as in Postfix; a failure is kept
    // already expired.
    let expires = match ttl {
        Some(ttl) => now + Duration::from_secs(1 + u64::from(ttl.clamp(TTL_MIN, TTL_MAX))),
        None => now,
    };
    if map.len() >= CACHE_SIZE
        && !map.contains_key(&name)
        && let Some(oldest) = map
            .iter()
            .min_by_key(|(_, (_, expires))| *expires)
            .map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
    map.insert(name, (found.clone(), expires));
    found
}

/// `dane_lookup()`: one lookup of the TLSA records at `name` for `host`, and how many
/// seconds the answer holds (None for a failure).
fn lookup_once(resolver: &Resolver, name: &str, host: &str, verbose: bool) -> (Found, Option<u32>) {
    let flags = ResFlags {
        dnssec: true,
        ..ResFlags::default()
    };
    match resolver.lookup(name, RrType::Tlsa, flags) {
        Ok(records) => {
            let ttl = records.first().map(|rr| rr.ttl);
            if !records.first().is_some_and(|rr| rr.dnssec_valid) {
                return (Found::None, ttl);
            }
            let mut kept = Vec::new();
            for rr in &records {
                let RrData::Tlsa(usage, selector, mtype, data) = &rr.data else {
                    continue;
                };
                let rname = rr.rname.trim_end_matches('.');
                let qname = rr.qname.trim_end_matches('.');
                let owner = if rname.eq_ignore_ascii_case(qname) {
                    rname.to_string()
                } else {
                    format!("{qname} -> {rname}")
                };
                match Tlsa::parse(*usage, *selector, *mtype, data, &owner) {
                    Ok(tlsa) => {
                        if verbose {
                            log::msg_info!(
                                "DNSSEC-signed TLSA record: {rname}: {usage} {selector} {mtype} {}",
                                tls::dane::dump(data)
                            );
                        }
                        kept.push(tlsa);
                    }
                    Err(warning) => log::msg_warn!("{warning}"),
                }
            }
            if kept.is_empty() {
                (Found::Unusable, ttl)
            } else {
                (Found::Records(host.to_string(), kept), ttl)
            }
        }
        Err(e) if e.status == Status::NotFound => (Found::None, Some(TTL_MIN)),
        Err(e) => {
            log::msg_warn!("DANE TLSA lookup problem: {}", e.why);
            (Found::Error, None)
        }
    }
}
