//! What-if mode (`trivial-rewrite -W address=... [sender=...] [context=local|remote]
//! [class=regular|verify]`): the service's own answer to one rewrite and one resolve
//! request, without serving anybody.
//!
//! Postfix counterpart: none (Postfix's trivial-rewrite answers only its clients; see
//! global::whatif). The state is built by the same `service()` the daemon runs, and the
//! requests go through the same handlers the service loop calls, so the answer is the one
//! cleanup and qmgr would get. `postwhatif` wraps the tables in `debug:`, so the lookups
//! that decided (transport_maps keys, relocated_maps...) come out as log answers.

use crate::TrivialRewrite;
use global::whatif::{WhatIf, emit, finish};
use ipc::{Attrs, mail_attr};

/// Answers the question and exits: 0 when the address resolves, 2 when it fails.
pub fn run(query: WhatIf) -> ! {
    let Some(address) = query.arg("address") else {
        log::msg_fatal!("what-if: address=... is required");
    };
    let sender = query.arg("sender").unwrap_or("");
    let context = query.arg("context").unwrap_or("local");
    let service: TrivialRewrite = crate::service(&query.config);

    let request = Attrs::new()
        .str(mail_attr::REQ, "rewrite")
        .str(mail_attr::RULE, context)
        .str("address", address);
    let Some(rewritten) = service.rewrite(&request) else {
        finish(2);
    };
    let rewritten = rewritten
        .get_str(mail_attr::ADDR)
        .unwrap_or_default()
        .to_string();
    emit(
        &Attrs::new()
            .str("kind", "rewrite")
            .str("context", context)
            .str("address", address)
            .str("result", &rewritten),
    );

    let resolver = match query.arg("class") {
        Some("verify") => &service.verify,
        _ => &service.regular,
    };
    let request = Attrs::new()
        .str(mail_attr::REQ, "resolve")
        .str("sender", sender)
        .str("address", &rewritten);
    let Some(answer) = service.resolve(&request, resolver) else {
        finish(2);
    };
    // The flags attribute comes twice (Postfix's reply shape); the second is the answer.
    let flags = answer
        .iter()
        .rev()
        .find(|(name, _)| *name == mail_attr::FLAGS.as_bytes())
        .and_then(|(_, value)| std::str::from_utf8(value).ok()?.parse::<i32>().ok())
        .unwrap_or(0);
    let text = |name: &str| answer.get_str(name).unwrap_or_default().to_string();
    emit(
        &Attrs::new()
            .str("kind", "resolve")
            .str("address", &rewritten)
            .str("sender", sender)
            .str("transport", &text(mail_attr::TRANSPORT))
            .str("nexthop", &text(mail_attr::NEXTHOP))
            .str("recipient", &text(mail_attr::RECIP))
            .int("flags", flags),
    );
    let failed = flags & global::resolve_clnt::FLAG_FAIL != 0;
    finish(if failed { 2 } else { 0 })
}
