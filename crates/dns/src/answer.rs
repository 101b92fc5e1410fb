//! Taking the records of the requested type (or the CNAME to follow) out of a reply, with
//! Postfix's checks on every name in it.
//!
//! Postfix counterpart: `dns_get_answer()`, `dns_get_rr()`, `dns_get_alias()` and
//! `valid_rr_name()` in `dns/dns_lookup.c`. A record that cannot be decoded spoils the
//! whole reply (`DNS_RETRY`); an owner or target name that fails `valid_hostname()` is
//! `DNS_INVAL`, with Postfix's warning; a numeric name passes with a warning; an MX
//! record pointing to the root is a null MX; TXT keeps the first string, printable.

use hickory_proto::op::{Header, Query};
use hickory_proto::rr::{DNSClass, Name, RData, Record};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};

use crate::rr::{RR_LIST_LIMIT, Rr, RrData, RrType, append_limited};
use crate::status::Status;
use crate::valid::{check_hostname, clip};

/// Postfix's `DNS_NAME_LEN`: a TXT string is kept up to one byte less.
const DNS_NAME_LEN: usize = 1024;

/// What a reply holds for the question.
#[derive(Debug)]
pub(crate) enum Extracted {
    /// Records of the requested type.
    Found(Vec<Rr>),
    /// Only a CNAME: the lookup goes on with its target (`DNS_RECURSE`).
    Alias(String),
    /// Nothing usable, or a reply to reject.
    Failed(Status),
}

/// The parts of a reply the extraction needs.
pub(crate) struct Parsed<'a> {
    header: Header,
    question: String,
    decoder: BinDecoder<'a>,
    check_names: bool,
}

impl Parsed<'_> {
    /// The reply's AD bit.
    pub(crate) fn authentic(&self) -> bool {
        self.header.metadata.authentic_data
    }

    /// Ignores the AD bit, as glibc clears it unless the resolver is trusted to validate
    /// (`options trust-ad`, or Postfix's `RES_TRUSTAD` when it asks for DNSSEC).
    pub(crate) fn distrust_ad(&mut self) {
        self.header.metadata.authentic_data = false;
    }
}

/// Reads the header and skips the question of `reply`; `None` when they do not parse.
pub(crate) fn parse(reply: &[u8]) -> Option<Parsed<'_>> {
    let mut decoder = BinDecoder::new(reply);
    let header = Header::read(&mut decoder).ok()?;
    let mut question = String::from("*unparsable*");
    for i in 0..header.counts.queries {
        let query = Query::read(&mut decoder).ok()?;
        if i == 0 {
            question = name_text(query.name());
        }
    }
    Some(Parsed {
        header,
        question,
        decoder,
        check_names: true,
    })
}

/// `dns_get_answer()`: the answers of type `rtype` for `orig_name` (the name the caller
/// asked for, kept in every record). `maybe_secure` turns false once an alias was not
/// validated, as in Postfix.
/// With `check_names` false, names are not checked (the C library's leniency, for name
/// service emulation).
pub(crate) fn answers(
    parsed: &mut Parsed<'_>,
    orig_name: &str,
    rtype: RrType,
    maybe_secure: &mut bool,
    check_names: bool,
) -> Extracted {
    parsed.check_names = check_names;
    let count = parsed.header.counts.answers;
    extract(parsed, count, orig_name, rtype, maybe_secure)
}

/// The SOA records of the authority section of a negative reply (their TTL is how long
/// the "not found" holds). A reply that does not yield them yields none: the answer is
/// still "not found".
pub(crate) fn authority_soa(parsed: &mut Parsed<'_>, orig_name: &str) -> Vec<Rr> {
    let answers = parsed.header.counts.answers;
    for _ in 0..answers {
        if Record::read(&mut parsed.decoder).is_err() {
            return Vec::new();
        }
    }
    let count = parsed.header.counts.authorities;
    match extract(parsed, count, orig_name, RrType::Soa, &mut true) {
        Extracted::Found(list) => list,
        _ => Vec::new(),
    }
}

fn extract(
    parsed: &mut Parsed<'_>,
    count: u16,
    orig_name: &str,
    rtype: RrType,
    maybe_secure: &mut bool,
) -> Extracted {
    let ad = parsed.authentic();
    let mut found = Vec::new();
    let mut alias = None;
    let mut not_found = Status::NotFound;
    for _ in 0..count {
        let Ok(record) = Record::read(&mut parsed.decoder) else {
            return Extracted::Failed(Status::Retry);
        };
        if record.dns_class != DNSClass::IN {
            log::msg_warn!("dns_get_fixed: bad class: {}", u16::from(record.dns_class));
            return Extracted::Failed(Status::Retry);
        }
        let type_code = u16::from(record.record_type());
        let type_name = RrType::from_code(type_code).map_or_else(
            || format!("Unknown type {type_code}"),
            |t| t.name().to_string(),
        );
        let rname = name_text(&record.name);
        let root_query = orig_name == "." && rname.is_empty();
        let checked = |name: &str, location: &str, type_name: &str| {
            !parsed.check_names || valid_rr_name(name, location, type_name, &parsed.question)
        };
        if !root_query && !checked(&rname, "resource name", &type_name) {
            return Extracted::Failed(Status::Inval);
        }
        if type_code == rtype.code() {
            let host = |name: &Name| {
                let text = name_text(name);
                checked(&text, "resource data", &type_name)
                    .then_some(text)
                    .ok_or(Status::Inval)
            };
            match record_data(&record.data, host) {
                Ok((pref, data)) => {
                    let rr = Rr {
                        qname: orig_name.to_string(),
                        rname,
                        ttl: record.ttl,
                        pref,
                        dnssec_valid: *maybe_secure && ad,
                        data,
                    };
                    if append_limited(&mut found, vec![rr], RR_LIST_LIMIT) {
                        break;
                    }
                }
                Err(Status::NullMx) => return Extracted::Failed(Status::NullMx),
                Err(status) if not_found != Status::Retry => not_found = status,
                Err(_) => {}
            }
        } else if let RData::CNAME(target) = &record.data {
            let target = name_text(&target.0);
            if !checked(&target, "resource data", "CNAME") {
                return Extracted::Failed(Status::Inval);
            }
            alias = Some(target);
            *maybe_secure &= ad;
        }
    }
    if !found.is_empty() {
        Extracted::Found(found)
    } else if let Some(target) = alias {
        Extracted::Alias(target)
    } else {
        Extracted::Failed(not_found)
    }
}

/// `dns_get_rr()`: the preference and data of a record of a requested type; `host` turns
/// a name in the data into text, or refuses it.
fn record_data(
    data: &RData,
    host: impl Fn(&Name) -> Result<String, Status>,
) -> Result<(u16, RrData), Status> {
    Ok(match data {
        RData::A(a) => (0, RrData::A(a.0)),
        RData::AAAA(a) => (0, RrData::Aaaa(a.0)),
        RData::MX(mx) if mx.exchange.is_root() => return Err(Status::NullMx),
        RData::MX(mx) => (mx.preference, RrData::Mx(host(&mx.exchange)?)),
        RData::PTR(ptr) => (0, RrData::Ptr(host(&ptr.0)?)),
        RData::CNAME(cname) => (0, RrData::Cname(host(&cname.0)?)),
        RData::NS(ns) => (0, RrData::Ns(host(&ns.0)?)),
        RData::TXT(txt) => (
            0,
            RrData::Txt(printable(txt.txt_data.first().map(|s| &s[..]))),
        ),
        RData::SOA(soa) => (
            0,
            RrData::Soa([
                soa.serial,
                soa.refresh as u32,
                soa.retry as u32,
                soa.expire as u32,
                soa.minimum,
            ]),
        ),
        RData::TLSA(tlsa) => (
            0,
            RrData::Tlsa(
                tlsa.cert_usage.into(),
                tlsa.selector.into(),
                tlsa.matching.into(),
                tlsa.cert_data.clone(),
            ),
        ),
        // A type that decodes as something else than asked (e.g. an unknown encoding).
        _ => return Err(Status::Retry),
    })
}

/// The first string of a TXT record as Postfix keeps it: unprintable bytes become spaces,
/// at most `DNS_NAME_LEN - 1` bytes.
fn printable(first: Option<&[u8]>) -> String {
    first
        .map(|bytes| {
            bytes
                .iter()
                .take(DNS_NAME_LEN - 1)
                .map(|&b| {
                    if (0x20..0x7f).contains(&b) {
                        b as char
                    } else {
                        ' '
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `valid_rr_name()`: whether a name found in a reply may be used. Numeric names pass with
/// a warning; malformed ones fail with `valid_hostname()`'s warning and Postfix's context.
fn valid_rr_name(name: &str, location: &str, type_name: &str, question: &str) -> bool {
    let gripe = if util::valid_hostname::valid_hostaddr(name) {
        "numeric domain name"
    } else if let Err(why) = check_hostname(name, true) {
        log::msg_warn!("{why}");
        "malformed domain name"
    } else {
        return true;
    };
    log::msg_warn!(
        "{gripe} in {location} of {type_name} record for {question}: {}",
        clip(name)
    );
    gripe == "numeric domain name"
}

/// A name as `dn_expand()` prints it: labels joined by dots without the final one,
/// characters special in master files escaped with a backslash, unprintable bytes as
/// `\DDD` in decimal; the root is the empty string.
pub(crate) fn name_text(name: &Name) -> String {
    let mut text = String::new();
    for (i, label) in name.iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        for &b in label {
            match b {
                b'.' | b';' | b'\\' | b'(' | b')' | b'@' | b'$' | b'"' => {
                    text.push('\\');
                    text.push(b as char);
                }
                0x21..=0x7e => text.push(b as char),
                _ => text.push_str(&format!("\\{b:03}")),
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_print_as_dn_expand_does() {
        let name = Name::from_labels(vec![&b"a b"[..], b"x.y", b"com"]).unwrap();
        assert_eq!(name_text(&name), "a\\032b.x\\.y.com");
        assert_eq!(name_text(&Name::root()), "");
        assert_eq!(
            name_text(&Name::from_ascii("Mail.Example.").unwrap()),
            "Mail.Example"
        );
    }

    #[test]
    fn txt_is_first_string_printable() {
        assert_eq!(printable(Some(b"listed\x01here\n")), "listed here ");
        assert_eq!(printable(None), "");
    }

    /// A reply with an MX, a CNAME and a TXT record, encoded.
    fn sample_reply() -> Vec<u8> {
        use hickory_proto::op::{Message, OpCode};
        use hickory_proto::rr::rdata::{CNAME, MX, TXT};
        let name = |n: &str| Name::from_ascii(n).unwrap();
        let mut reply = Message::response(7, OpCode::Query);
        reply.add_query(Query::query(
            name("example.com."),
            hickory_proto::rr::RecordType::MX,
        ));
        for data in [
            RData::MX(MX::new(10, name("mx.example.com."))),
            RData::CNAME(CNAME(name("other.example."))),
            RData::TXT(TXT::new(vec!["text".into()])),
        ] {
            reply.add_answer(Record::from_rdata(name("example.com."), 60, data));
        }
        reply.to_vec().unwrap()
    }

    fn extract_all(bytes: &[u8]) -> Option<Extracted> {
        let mut parsed = parse(bytes)?;
        Some(answers(
            &mut parsed,
            "example.com",
            RrType::Mx,
            &mut true,
            true,
        ))
    }

    #[test]
    fn damaged_replies_never_panic() {
        let good = sample_reply();
        match extract_all(&good) {
            Some(Extracted::Found(list)) => assert_eq!(
                list[0].to_string(),
                "example.com. 60 IN MX 10 mx.example.com."
            ),
            other => panic!("{other:?}"),
        }
        for len in 0..good.len() {
            let _ = extract_all(&good[..len]);
        }
        for i in 0..good.len() {
            for value in [0x00, 0x3f, 0xc0, 0xff] {
                let mut bad = good.clone();
                bad[i] = value;
                let _ = extract_all(&bad);
            }
        }
    }

    #[test]
    fn rr_names() {
        assert!(valid_rr_name(
            "mx.example.com",
            "resource data",
            "MX",
            "example.com"
        ));
        assert!(valid_rr_name(
            "192.0.2.1",
            "resource data",
            "MX",
            "example.com"
        ));
        assert!(!valid_rr_name(
            "bad_-.x",
            "resource data",
            "MX",
            "example.com"
        ));
    }
}
