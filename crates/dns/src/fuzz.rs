//! The entry point of the fuzz target for DNS answer handling (fuzz/fuzz_targets/
//! dns_answer.rs): what the lookup code makes of any reply bytes, without a resolver.
//!
//! Postfix counterpart: none (`dns_get_answer()` in `dns/dns_lookup.c` is what is
//! exercised). Not part of the crate's interface.

use crate::answer::{self, Extracted};
use crate::rr::{Rr, RrType};
use crate::status::Status;

/// What a reply yields for a question.
#[derive(Debug)]
pub enum Outcome {
    /// The header or the question did not parse.
    Unparsable,
    /// Records of the requested type.
    Found(Vec<Rr>),
    /// A CNAME to follow.
    Alias(String),
    /// Nothing usable.
    Failed(Status),
}

/// `reply` as the answer to `orig_name`, type `rtype` (with names checked or not, as
/// the C library's emulation does not), and the SOA records of its authority section.
pub fn answer(
    reply: &[u8],
    orig_name: &str,
    rtype: RrType,
    check_names: bool,
) -> (Outcome, Vec<Rr>) {
    let Some(mut parsed) = answer::parse(reply) else {
        return (Outcome::Unparsable, Vec::new());
    };
    let mut maybe_secure = true;
    let outcome = match answer::answers(
        &mut parsed,
        orig_name,
        rtype,
        &mut maybe_secure,
        check_names,
    ) {
        Extracted::Found(list) => Outcome::Found(list),
        Extracted::Alias(target) => Outcome::Alias(target),
        Extracted::Failed(status) => Outcome::Failed(status),
    };
    let soa = answer::parse(reply)
        .map(|mut parsed| answer::authority_soa(&mut parsed, orig_name))
        .unwrap_or_default();
    (outcome, soa)
}
