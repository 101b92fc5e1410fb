//! What-if mode (`cleanup -W [sender=...] recipient=...`): what cleanup would make of an
//! envelope sender and recipients (canonical maps, masquerading, virtual aliases, automatic
//! BCC), without a queue file.
//!
//! Postfix counterpart: none (see global::whatif). The message state is the one
//! `cleanup_service` makes, over a queue file in memory, with the settings `main` reads and
//! the real rewriting service; the sender and recipients go through the same envelope
//! functions as `S` and `R` records (addr.rs), with the flags smtpd and pickup send
//! (`CLEANUP_FLAG_MASK_EXTERNAL`). The queue file's `S` and `R` records are then the answer
//! (`kind=sender`, `kind=recipient`); each table or rule that changed an address is noted
//! by the state's decisions, logged here at `-v` as `WHATIF: rule: subject -> result`.

use crate::init::Settings;
use crate::state::State;
use global::record::{RecError, rec_get, rec_type};
use global::rewrite_clnt::RewriteClient;
use global::whatif::{WhatIf, emit, finish};
use ipc::Attrs;
use std::io::Cursor;

/// The queue ID the decisions are logged under.
const QUEUE_ID: &str = "WHATIF";

/// Answers the question and exits: 0 when cleanup would take the message, 2 when it
/// would not (a table lookup failed, an alias loop...).
pub fn run(query: WhatIf) -> ! {
    let settings = Settings::from_config(&query.config).unwrap_or_else(|e| global::fatal_config(e));
    let rewrite = global::rewrite_clnt::Settings::from_config(&query.config)
        .unwrap_or_else(|e| global::fatal_config(e));
    let mut rewriter = RewriteClient::new(rewrite);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut state = State::new(
        &settings,
        &mut rewriter,
        Cursor::new(Vec::new()),
        QUEUE_ID,
        now,
    );
    state.control(global::cleanup_user::FLAG_MASK_EXTERNAL);
    // The decisions are logged at -v only; the caller picks them out by the queue ID.
    log::raise_verbose(1);
    state.addr_sender(query.arg("sender").unwrap_or(""));
    for recipient in query.all("recipient") {
        state.orig_rcpt = Some(recipient.to_string());
        state.addr_recipient(recipient);
        state.orig_rcpt = None;
        state.dsn_orcpt = None;
    }
    log::set_verbose(0);
    let errs = state.errs;
    let file = state.dst.into_inner().into_inner();
    let mut input = file.as_slice();
    let mut buf = Vec::new();
    let mut original = String::new();
    loop {
        match rec_get(&mut input, &mut buf, 0) {
            Ok(rec_type::FROM) => emit(&Attrs::new().str("kind", "sender").bytes("result", &buf)),
            Ok(rec_type::ORCP) => original = String::from_utf8_lossy(&buf).into_owned(),
            Ok(rec_type::RCPT) => emit(
                &Attrs::new()
                    .str("kind", "recipient")
                    .str("original", &original)
                    .bytes("result", &buf),
            ),
            Ok(_) => {}
            Err(RecError::Eof | RecError::Bad(_)) => break,
        }
    }
    emit(
        &Attrs::new()
            .str("kind", "status")
            .int("status", errs as i32)
            .str("text", global::cleanup_user::cleanup_strerror(errs)),
    );
    finish(if errs == 0 { 0 } else { 2 })
}
