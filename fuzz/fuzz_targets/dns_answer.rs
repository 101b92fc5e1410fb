//! Fuzz target: DNS answer handling (crates/dns: answer.rs, Postfix's dns_get_answer()
//! in dns/dns_lookup.c), through dns::fuzz. Any reply bytes, as the answer to any of the
//! types the mail system asks for, with or without name checks, never make it panic, and
//! what comes out holds together:
//! - found records are of the requested type, for the name asked, at most
//!   RR_LIST_LIMIT of them;
//! - with name checks, every host name in them (MX, PTR, NS, CNAME targets) and an
//!   alias target is a valid host name or a numeric address, as Postfix's
//!   valid_rr_name() allows;
//! - a TXT string is printable ASCII and at most 1023 bytes;
//! - the authority section yields only SOA records;
//! - the same bytes give the same outcome twice.
//!
//! Input: byte 0 the type (by index in TYPES) and, in its top bit, whether names are
//! checked; the rest is the reply as it came off the wire.
#![no_main]

use dns::fuzz::{Outcome, answer};
use dns::{RrData, RrType};
use libfuzzer_sys::fuzz_target;
use std::sync::Once;

const TYPES: [RrType; 8] = [
    RrType::A,
    RrType::Aaaa,
    RrType::Mx,
    RrType::Ptr,
    RrType::Txt,
    RrType::Ns,
    RrType::Cname,
    RrType::Tlsa,
];

/// The name asked for.
const QNAME: &str = "example.com";

fn host_ok(name: &str) -> bool {
    util::valid_hostname::valid_hostaddr(name) || dns::valid::check_hostname(name, true).is_ok()
}

fuzz_target!(|data: &[u8]| {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| log::retain_sinks(|_| false));
    let [select, reply @ ..] = data else {
        return;
    };
    let rtype = TYPES[usize::from(select & 0x7f) % TYPES.len()];
    let check_names = select & 0x80 != 0;
    let (outcome, soa) = answer(reply, QNAME, rtype, check_names);
    match &outcome {
        Outcome::Found(list) => {
            assert!(!list.is_empty(), "found nothing");
            assert!(
                list.len() <= dns::rr::RR_LIST_LIMIT,
                "{} records",
                list.len()
            );
            for rr in list {
                assert_eq!(rr.rtype(), rtype, "{rr:?}");
                assert_eq!(rr.qname, QNAME);
                if check_names && let Some(host) = rr.host() {
                    assert!(host_ok(host), "{host:?} passed the name checks");
                }
                if let RrData::Txt(text) = &rr.data {
                    assert!(text.len() <= 1023, "TXT of {} bytes", text.len());
                    assert!(
                        text.bytes().all(|b| (0x20..0x7f).contains(&b)),
                        "unprintable TXT {text:?}"
                    );
                }
            }
        }
        Outcome::Alias(target) => {
            if check_names {
                assert!(host_ok(target), "alias {target:?} passed the name checks");
            }
        }
        Outcome::Unparsable | Outcome::Failed(_) => {}
    }
    for rr in &soa {
        assert_eq!(rr.rtype(), RrType::Soa, "{rr:?}");
    }
    let (again, soa_again) = answer(reply, QNAME, rtype, check_names);
    assert_eq!(format!("{outcome:?}"), format!("{again:?}"));
    assert_eq!(soa, soa_again);
});
