//! Whether the resolver validates DNSSEC: the process learns it from the first reply
//! with the AD bit, and until then, once, asks a probe question (dnssec_probe) and
//! warns when that answer is not validated either.
//!
//! Postfix counterpart: `dns/dns_sec.c` (`dns_sec_probe()`) and the
//! `DNS_SEC_FLAG_AVAILABLE` bookkeeping of `dns_query()` in `dns/dns_lookup.c`. The
//! state is per process, as Postfix's `dns_sec_stats`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::resolver::{ResFlags, Resolver};
use crate::rr::RrType;
use crate::status::Status;

/// A reply with the AD bit was seen (`DNS_SEC_FLAG_AVAILABLE`).
const AVAILABLE: u8 = 1;
/// The probe was sent, or is not to be (`DNS_SEC_FLAG_DONT_PROBE`).
const DONT_PROBE: u8 = 2;

static STATS: AtomicU8 = AtomicU8::new(0);
/// dnssec_probe, as the daemon set it; None for Postfix's default.
static PROBE: Mutex<Option<String>> = Mutex::new(None);

/// Postfix's default dnssec_probe.
pub const DEFAULT_PROBE: &str = "ns:.";

/// Sets dnssec_probe (`type:name`, empty for no probe) for this process.
pub fn set_probe(spec: &str) {
    *PROBE.lock().unwrap_or_else(|e| e.into_inner()) = Some(spec.trim().to_string());
}

/// Records a reply whose AD bit survived (the resolver is trusted to validate).
pub(crate) fn note_reply(authentic: bool) {
    if authentic {
        STATS.fetch_or(AVAILABLE, Ordering::Relaxed);
    }
}

/// After a lookup that asked for DNSSEC: the probe, unless validation was seen or the
/// probe was sent already.
pub(crate) fn after_lookup(resolver: &Resolver, flags: ResFlags) {
    if !flags.dnssec || STATS.load(Ordering::Relaxed) & (AVAILABLE | DONT_PROBE) != 0 {
        return;
    }
    probe(resolver, flags);
}

/// `dns_sec_probe()`.
fn probe(resolver: &Resolver, flags: ResFlags) {
    // Set first: the probe's own lookup must not probe again.
    STATS.fetch_or(DONT_PROBE, Ordering::Relaxed);
    let spec = PROBE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(|| DEFAULT_PROBE.to_string());
    if spec.is_empty() {
        return;
    }
    let parsed = spec.split_once(':').and_then(|(qtype, qname)| {
        let rtype = RrType::from_name(qtype)?;
        (!qname.is_empty()).then_some((rtype, qname))
    });
    let Some((rtype, qname)) = parsed else {
        log::msg_fatal!("malformed dnssec_probe value: {spec} format is qtype:qname");
    };
    let result = resolver.lookup(qname, rtype, flags);
    let available = STATS.load(Ordering::Relaxed) & AVAILABLE != 0;
    if !available {
        log::msg_warn!("DNSSEC validation may be unavailable");
    } else if log::verbose() > 0 {
        log::msg_info!("dnssec_probe '{spec}' received a response that is DNSSEC validated");
    }
    match result {
        Err(e) if matches!(e.status, Status::Retry | Status::Fail) => {
            log::msg_warn!(
                "reason: dnssec_probe '{spec}' received no response: {}",
                e.why
            );
        }
        _ if !available => {
            log::msg_warn!(
                "reason: dnssec_probe '{spec}' received a response that is not DNSSEC validated"
            );
        }
        _ => {}
    }
}
