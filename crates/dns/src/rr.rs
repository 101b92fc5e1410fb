//! Resource records as Postfix keeps them: the data of one answer record with its query
//! name, reply name, TTL and preference, its text form, and list operations.
//!
//! Postfix counterparts: `dns/dns_rr.c` (records, the list limit, preference sorting,
//! shuffling), `dns/dns_strrecord.c` (the text form that reply filters match),
//! `dns/dns_strtype.c` (type names), `dns/dns_sa_to_rr.c`, `dns/dns_rr_to_pa.c` and
//! `dns/dns_rr_eq_sa.c` (address records to and from socket addresses).

use std::cmp::Ordering;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::random::Random;

/// Postfix's `var_dns_rr_list_limit`: no list grows past this many records (20 times the
/// default number of addresses the SMTP client tries), whatever a server sends.
pub const RR_LIST_LIMIT: usize = 100;

/// The record types ironpost looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RrType {
    /// IPv4 address.
    A,
    /// Name server.
    Ns,
    /// Alias.
    Cname,
    /// Start of authority (negative-answer TTLs).
    Soa,
    /// Reverse mapping.
    Ptr,
    /// Mail exchanger.
    Mx,
    /// Text (RBL reasons).
    Txt,
    /// IPv6 address.
    Aaaa,
    /// DANE certificate association.
    Tlsa,
}

impl RrType {
    /// The type's number on the wire.
    pub fn code(self) -> u16 {
        match self {
            RrType::A => 1,
            RrType::Ns => 2,
            RrType::Cname => 5,
            RrType::Soa => 6,
            RrType::Ptr => 12,
            RrType::Mx => 15,
            RrType::Txt => 16,
            RrType::Aaaa => 28,
            RrType::Tlsa => 52,
        }
    }

    /// `dns_strtype()`: the name Postfix logs.
    pub fn name(self) -> &'static str {
        match self {
            RrType::A => "A",
            RrType::Ns => "NS",
            RrType::Cname => "CNAME",
            RrType::Soa => "SOA",
            RrType::Ptr => "PTR",
            RrType::Mx => "MX",
            RrType::Txt => "TXT",
            RrType::Aaaa => "AAAA",
            RrType::Tlsa => "TLSA",
        }
    }

    /// The type named `name` (any case), if ironpost handles it (`dns_type()`).
    pub fn from_name(name: &str) -> Option<RrType> {
        Self::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// The type with wire number `code`, if ironpost handles it.
    pub fn from_code(code: u16) -> Option<RrType> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Every type ironpost handles.
    const ALL: [RrType; 9] = [
        RrType::A,
        RrType::Ns,
        RrType::Cname,
        RrType::Soa,
        RrType::Ptr,
        RrType::Mx,
        RrType::Txt,
        RrType::Aaaa,
        RrType::Tlsa,
    ];
}

impl fmt::Display for RrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The data of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RrData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// A mail exchanger's host name (the preference is [`Rr::pref`]).
    Mx(String),
    /// A reverse-mapped host name.
    Ptr(String),
    /// An alias target.
    Cname(String),
    /// A name server.
    Ns(String),
    /// The first character-string of a TXT record, unprintable bytes turned into spaces,
    /// at most 1023 bytes (what Postfix keeps).
    Txt(String),
    /// The five numbers of an SOA record (the names are not kept, as in Postfix).
    Soa([u32; 5]),
    /// A TLSA record: usage, selector, matching type, association data.
    Tlsa(u8, u8, u8, Vec<u8>),
}

/// One resource record, as Postfix's `DNS_RR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rr {
    /// The name that was asked for (before any CNAME).
    pub qname: String,
    /// The record's owner name as the reply gave it.
    pub rname: String,
    /// Seconds the record may be cached.
    pub ttl: u32,
    /// MX preference; for address records, the preference of the MX host they belong to.
    pub pref: u16,
    /// Whether a validating resolver vouched for the reply (the AD bit), when asked.
    pub dnssec_valid: bool,
    /// The data.
    pub data: RrData,
}

impl Rr {
    /// The record's type.
    pub fn rtype(&self) -> RrType {
        match self.data {
            RrData::A(_) => RrType::A,
            RrData::Aaaa(_) => RrType::Aaaa,
            RrData::Mx(_) => RrType::Mx,
            RrData::Ptr(_) => RrType::Ptr,
            RrData::Cname(_) => RrType::Cname,
            RrData::Ns(_) => RrType::Ns,
            RrData::Txt(_) => RrType::Txt,
            RrData::Soa(_) => RrType::Soa,
            RrData::Tlsa(..) => RrType::Tlsa,
        }
    }

    /// `dns_sa_to_rr()`: an address record for `host` with preference `pref`, as the SMTP
    /// client makes for numeric hosts and native lookups.
    pub fn from_addr(host: &str, pref: u16, addr: IpAddr) -> Rr {
        Rr {
            qname: host.to_string(),
            rname: host.to_string(),
            ttl: 0,
            pref,
            dnssec_valid: false,
            data: match addr {
                IpAddr::V4(a) => RrData::A(a),
                IpAddr::V6(a) => RrData::Aaaa(a),
            },
        }
    }

    /// The address of an A or AAAA record (`dns_rr_to_sa()`).
    pub fn addr(&self) -> Option<IpAddr> {
        match self.data {
            RrData::A(a) => Some(IpAddr::V4(a)),
            RrData::Aaaa(a) => Some(IpAddr::V6(a)),
            _ => None,
        }
    }

    /// The host name an MX, PTR, CNAME or NS record points to.
    pub fn host(&self) -> Option<&str> {
        match &self.data {
            RrData::Mx(h) | RrData::Ptr(h) | RrData::Cname(h) | RrData::Ns(h) => Some(h),
            _ => None,
        }
    }

    /// `DNS_RR_EQ_SA()`: whether this address record holds `addr` (same family only).
    pub fn eq_addr(&self, addr: IpAddr) -> bool {
        self.addr() == Some(addr)
    }
}

/// `dns_strrecord()`: `name. TTL IN TYPE data`, the text `smtp_dns_reply_filter` and
/// `smtpd_dns_reply_filter` patterns match.
impl fmt::Display for Rr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}. {} IN {} ",
            self.rname,
            self.ttl,
            self.rtype().name()
        )?;
        match &self.data {
            RrData::A(a) => write!(f, "{a}"),
            RrData::Aaaa(a) => write!(f, "{a}"),
            RrData::Ptr(h) | RrData::Cname(h) | RrData::Ns(h) => write!(f, "{h}."),
            RrData::Mx(h) => write!(f, "{} {h}.", self.pref),
            RrData::Txt(t) => f.write_str(t),
            RrData::Tlsa(usage, selector, mtype, data) => {
                write!(f, "{usage} {selector} {mtype} ")?;
                data.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
            RrData::Soa([serial, refresh, retry, expire, ttl]) => {
                write!(f, "- - {serial} {refresh} {retry} {expire} {ttl}")
            }
        }
    }
}

/// Which address family goes first among addresses of equal preference
/// (`smtp_address_preference`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrPref {
    /// No family first (`any`): preference alone (`dns_rr_compare_pref_any`).
    Any,
    /// IPv4 first (`dns_rr_compare_pref_ipv4`).
    Ipv4,
    /// IPv6 first (`dns_rr_compare_pref_ipv6`, also `dns_rr_compare_pref`).
    Ipv6,
}

impl AddrPref {
    /// Parses `smtp_address_preference` (or `lmtp_...`, named by `param`): `ipv6`,
    /// `ipv4` or `any`, with Postfix's error text.
    pub fn parse(param: &str, value: &str) -> Result<AddrPref, String> {
        match value {
            "any" | "" => Ok(AddrPref::Any),
            "ipv4" => Ok(AddrPref::Ipv4),
            "ipv6" => Ok(AddrPref::Ipv6),
            _ => Err(format!("bad {param} value: {value}")),
        }
    }

    /// The order of `a` and `b`: preference, then the preferred family.
    pub fn compare(self, a: &Rr, b: &Rr) -> Ordering {
        let family_rank = |rr: &Rr| match (self, rr.rtype()) {
            (AddrPref::Ipv6, RrType::Aaaa) | (AddrPref::Ipv4, RrType::A) => 0,
            (AddrPref::Ipv6, RrType::A) | (AddrPref::Ipv4, RrType::Aaaa) => 1,
            _ => 0,
        };
        a.pref
            .cmp(&b.pref)
            .then_with(|| family_rank(a).cmp(&family_rank(b)))
    }
}

/// `dns_rr_sort()`: sorts by `pref`, keeping the order of records that compare equal
/// (glibc's qsort, which Postfix uses, is a stable merge sort).
pub fn sort(list: &mut [Rr], pref: AddrPref) {
    list.sort_by(|a, b| pref.compare(a, b));
}

/// `dns_rr_shuffle()`: every record has the same chance of landing first, then each of the
/// rest of landing second, and so on (one of n! orders, each as likely).
pub fn shuffle<T>(list: &mut [T], random: &mut dyn Random) {
    let len = list.len();
    for i in 0..len.saturating_sub(1) {
        let r = i + random.below(len - i);
        list.swap(i, r);
    }
}

/// `dns_rr_append()` with Postfix's list limit: appends `more` to `list` unless that makes
/// it longer than `limit`, in which case the excess is dropped with Postfix's warning.
/// Returns whether the list is now truncated (callers stop adding when it is).
pub fn append_limited(list: &mut Vec<Rr>, more: Vec<Rr>, limit: usize) -> bool {
    if list.len() + more.len() <= limit {
        list.extend(more);
        return false;
    }
    let first = list.first().or(more.first()).cloned();
    list.extend(more);
    list.truncate(limit);
    if let Some(first) = first {
        log::msg_warn!(
            "DNS record count limit ({limit}) exceeded -- dropping excess record(s) after \
             qname={} qtype={}",
            first.qname,
            first.rtype().name()
        );
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::Sequence;

    fn rr(pref: u16, data: RrData) -> Rr {
        Rr {
            qname: "example.com".into(),
            rname: "example.com".into(),
            ttl: 300,
            pref,
            dnssec_valid: false,
            data,
        }
    }

    #[test]
    fn text_forms_match_dns_strrecord() {
        let mx = rr(10, RrData::Mx("mx.example.com".into()));
        assert_eq!(mx.to_string(), "example.com. 300 IN MX 10 mx.example.com.");
        let a = rr(0, RrData::A(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(a.to_string(), "example.com. 300 IN A 192.0.2.1");
        let txt = rr(0, RrData::Txt("listed".into()));
        assert_eq!(txt.to_string(), "example.com. 300 IN TXT listed");
        let tlsa = rr(0, RrData::Tlsa(3, 1, 1, vec![0xab, 0x01]));
        assert_eq!(tlsa.to_string(), "example.com. 300 IN TLSA 3 1 1 ab01");
        let soa = rr(0, RrData::Soa([1, 2, 3, 4, 5]));
        assert_eq!(soa.to_string(), "example.com. 300 IN SOA - - 1 2 3 4 5");
    }

    #[test]
    fn sorting_by_preference_then_family() {
        let v4 = |p| rr(p, RrData::A(Ipv4Addr::LOCALHOST));
        let v6 = |p| rr(p, RrData::Aaaa(Ipv6Addr::LOCALHOST));
        let mut list = vec![v4(20), v4(10), v6(10)];
        sort(&mut list, AddrPref::Ipv6);
        let order: Vec<_> = list.iter().map(|r| (r.pref, r.rtype())).collect();
        assert_eq!(
            order,
            [(10, RrType::Aaaa), (10, RrType::A), (20, RrType::A)]
        );
        sort(&mut list, AddrPref::Ipv4);
        assert_eq!(list[0].rtype(), RrType::A);
        // "any" keeps the order of equal preferences.
        let mut list = vec![v6(10), v4(10)];
        sort(&mut list, AddrPref::Any);
        assert_eq!(list[0].rtype(), RrType::Aaaa);
        assert_eq!(
            AddrPref::parse("smtp_address_preference", "ipv4"),
            Ok(AddrPref::Ipv4)
        );
        assert_eq!(
            AddrPref::parse("smtp_address_preference", "IPv4"),
            Err("bad smtp_address_preference value: IPv4".into())
        );
    }

    #[test]
    fn shuffle_uses_the_random_source() {
        let mut items = [1, 2, 3, 4];
        // i=0 swaps with 0+2, i=1 with 1+0, i=2 with 2+1.
        shuffle(&mut items, &mut Sequence::new(&[2, 0, 1]));
        assert_eq!(items, [3, 2, 4, 1]);
    }

    #[test]
    fn list_limit() {
        let a = || rr(0, RrData::A(Ipv4Addr::LOCALHOST));
        let mut list = vec![a(), a()];
        assert!(!append_limited(&mut list, vec![a()], 3));
        assert!(append_limited(&mut list, vec![a()], 3));
        assert_eq!(list.len(), 3);
    }
}
