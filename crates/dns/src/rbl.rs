//! DNS block and allow lists: is this client address (or this domain) listed, with which
//! codes, and why.
//!
//! Postfix counterpart: `find_dnsxl_addr()`, `find_dnsxl_domain()`, `rbl_pagein()` and
//! `rbl_match_addr()` in `smtpd/smtpd_check.c`. The query is the reversed address (or the
//! domain) under the list's domain; an A record means "listed", optionally only when it
//! matches the `domain=pattern` the administrator wrote; the TXT records give the reason
//! (joined by " / ", at most 500 bytes). A lookup that neither finds nor denies is a soft
//! result, logged as Postfix logs it, so that a dead list blocks no mail. Caching the
//! results for a session is the caller's business.

use std::net::IpAddr;

use crate::hostdb::reversed;
use crate::ip_match::IpPattern;
use crate::resolver::{ResFlags, Resolver};
use crate::rr::{Rr, RrData, RrType};
use crate::status::Status;

/// Postfix's `RBL_TXT_LIMIT`.
const TXT_LIMIT: usize = 500;

/// What a list says about a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dnsxl {
    /// Not listed (or listed with codes the pattern does not accept).
    NotListed,
    /// The list could not be asked; give the client the benefit of the doubt.
    Soft,
    /// Listed.
    Listed(Listing),
}

/// A listing: the A records and the reason text, if the list publishes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The A records (the reply codes).
    pub a: Vec<Rr>,
    /// The TXT records joined with " / ", at most 500 bytes.
    pub txt: Option<String>,
}

/// `find_dnsxl_addr()`: looks `addr` up in `rbl_domain` (`domain` or `domain=pattern`).
/// The error is a bad pattern (Postfix stops with `fatal: RBL reply error: ...`).
pub fn find_addr(resolver: &Resolver, rbl_domain: &str, addr: IpAddr) -> Result<Dnsxl, String> {
    find(resolver, &format!("{}.{rbl_domain}", reversed(addr)))
}

/// `find_dnsxl_domain()`: looks up the domain of `what` (an address or a domain) in
/// `rbl_domain`. Address literals and names ending in a numeric label are not looked up.
pub fn find_domain(resolver: &Resolver, rbl_domain: &str, what: &str) -> Result<Dnsxl, String> {
    let domain = what.rsplit_once('@').map_or(what, |(_, domain)| domain);
    let last_label = domain.rsplit('.').next().unwrap_or(domain);
    if domain.is_empty()
        || domain.starts_with('[')
        || last_label.bytes().all(|b| b.is_ascii_digit())
    {
        return Ok(Dnsxl::NotListed);
    }
    let ascii = crate::smtp_addr::to_ascii(domain);
    if !crate::valid::valid_hostname(&ascii, false) {
        return Ok(Dnsxl::NotListed);
    }
    find(resolver, &format!("{ascii}.{rbl_domain}"))
}

/// The lookup of `query` (`name` or `name=pattern`), then the pattern test.
fn find(resolver: &Resolver, query: &str) -> Result<Dnsxl, String> {
    let (name, pattern) = match query.split_once('=') {
        Some((name, pattern)) => (name, Some(pattern)),
        None => (query, None),
    };
    let pattern = pattern
        .map(IpPattern::parse)
        .transpose()
        .map_err(|e| format!("RBL reply error: {e}"))?;
    let result = lookup(resolver, name);
    Ok(match (result, pattern) {
        (Dnsxl::Listed(listing), Some(pattern)) if !matches(&listing, &pattern) => Dnsxl::NotListed,
        (result, _) => result,
    })
}

/// `rbl_pagein()`: the A and TXT records of `query`.
pub fn lookup(resolver: &Resolver, query: &str) -> Dnsxl {
    let a = match resolver.lookup(query, RrType::A, ResFlags::default()) {
        Ok(a) => a,
        Err(e) if e.status == Status::NotFound => return Dnsxl::NotListed,
        Err(e) => {
            log::msg_warn!("{query}: RBL lookup error: {}", e.why);
            return Dnsxl::Soft;
        }
    };
    let txt = match resolver.lookup(query, RrType::Txt, ResFlags::default()) {
        Ok(records) => Some(join_txt(&records)),
        Err(e) => {
            if e.status == Status::Policy {
                log::msg_warn!("{query}: TXT lookup error: DNS reply filter drops all results");
            }
            None
        }
    };
    Dnsxl::Listed(Listing { a, txt })
}

/// The TXT strings joined with " / " within Postfix's limit. As in Postfix, a string that
/// follows when fewer than four bytes are left is appended without the separator.
fn join_txt(records: &[Rr]) -> String {
    let mut text = String::new();
    let mut parts = records
        .iter()
        .filter_map(|rr| match &rr.data {
            RrData::Txt(part) => Some(part),
            _ => None,
        })
        .peekable();
    while let Some(part) = parts.next() {
        if text.len() >= TXT_LIMIT {
            break;
        }
        text.push_str(crate::valid::clip_to(part, TXT_LIMIT - text.len()));
        if parts.peek().is_some() && TXT_LIMIT - text.len() > 3 {
            text.push_str(" / ");
        }
    }
    text
}

/// `rbl_match_addr()`: whether any A record matches `pattern`.
fn matches(listing: &Listing, pattern: &IpPattern) -> bool {
    listing.a.iter().any(|rr| match rr.data {
        RrData::A(addr) => pattern.matches(addr),
        _ => {
            log::msg_warn!(
                "rbl_match_addr: skipping record type {} for query {}",
                rr.rtype(),
                rr.qname
            );
            false
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txt(text: &str) -> Rr {
        Rr {
            data: RrData::Txt(text.to_string()),
            ..Rr::from_addr("q", 0, "127.0.0.2".parse().unwrap())
        }
    }

    #[test]
    fn txt_joined_within_limit() {
        assert_eq!(join_txt(&[txt("one"), txt("two")]), "one / two");
        let long = "x".repeat(498);
        assert_eq!(join_txt(&[txt(&long), txt("more")]), format!("{long}mo"));
        let joined = join_txt(&[txt(&"y".repeat(490)), txt("abcdefghij")]);
        assert_eq!(joined.len(), 500);
        assert!(joined.ends_with(" / abcdefg"));
    }
}
