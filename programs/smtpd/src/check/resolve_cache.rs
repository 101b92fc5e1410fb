//! The resolved address cache: what trivial-rewrite said about a (sender, address)
//! pair, kept for the life of the process so that the restrictions and the address
//! check of one command (and of later sessions) ask the service once per pair.
//!
//! Postfix counterpart: `smtpd/smtpd_resolve.c` (a `ctable` of 100 entries, made by
//! `smtpd_resolve_init(100)` in `smtpd.c`, keyed by sender and address). On a miss both
//! addresses are first rewritten in the local context, the pair resolved, and the
//! recipient in the answer case-folded, as Postfix's `resolve_pagein()` does; the least
//! recently used entry makes room for a new one.

use global::resolve_clnt::Resolved;
use global::rewrite_clnt::{RULE_LOCAL, RewriteClient};

/// How many answers are kept (`smtpd_resolve_init(100)`).
const CACHE_SIZE: usize = 100;

/// One cached answer.
struct Entry {
    sender: String,
    address: String,
    answer: Resolved,
    /// When it was last used, in lookups since start.
    used: u64,
}

/// The cache.
#[derive(Default)]
pub struct ResolveCache {
    entries: Vec<Entry>,
    /// Lookups so far, the clock of `used`.
    clock: u64,
}

impl ResolveCache {
    /// The answer for `address` from `sender` (`smtpd_resolve_addr()`).
    /// `utf8` is smtputf8_enable: case folding covers all of Unicode, not ASCII only.
    pub fn resolve(
        &mut self,
        rewriter: &mut RewriteClient,
        utf8: bool,
        sender: &str,
        address: &str,
    ) -> Resolved {
        self.clock += 1;
        if let Some(entry) = self
            .entries
            .iter_mut()
            .find(|e| e.sender == sender && e.address == address)
        {
            entry.used = self.clock;
            return entry.answer.clone();
        }
        let answer = page_in(rewriter, utf8, sender, address);
        let entry = Entry {
            sender: sender.to_string(),
            address: address.to_string(),
            answer: answer.clone(),
            used: self.clock,
        };
        if self.entries.len() < CACHE_SIZE {
            self.entries.push(entry);
        } else if let Some(oldest) = self.entries.iter_mut().min_by_key(|e| e.used) {
            *oldest = entry;
        }
        answer
    }
}

/// `resolve_pagein()`: both addresses rewritten in the local context, the pair
/// resolved, and the recipient case-folded.
fn page_in(rewriter: &mut RewriteClient, utf8: bool, sender: &str, address: &str) -> Resolved {
    let sender = rewriter.rewrite_internal(RULE_LOCAL, sender);
    let query = rewriter.rewrite_internal(RULE_LOCAL, address);
    let mut answer = rewriter.resolve(&sender, &query);
    // Full Unicode case folding (ICU's u_strFoldCase() in Postfix): "STRAẞE" and
    // "straße" both become "strasse", which lowercasing would not make of them.
    answer.recipient = if utf8 {
        dict::casefold(&answer.recipient)
    } else {
        answer.recipient.to_ascii_lowercase()
    };
    answer
}
