//! One-to-one address mapping: canonical_maps, sender_canonical_maps and
//! recipient_canonical_maps.
//!
//! Postfix counterpart: `cleanup/cleanup_map11.c`. The address is looked up again as long
//! as the table maps it to something else, at most ten times (a table that maps `a` to `b`
//! and `b` to `a` would otherwise loop); an address that maps to itself, in any case, ends
//! the search. A value with several addresses uses the first, with a warning. A table that
//! fails defers the message. Each change is noted as a decision.

use crate::out::QueueSink;
use crate::state::State;
use global::mail_addr_find::Form;
use global::mail_addr_map::AddrMap;
use global::maps::Maps;

/// How often a result is looked up again (`MAX_RECURSION`).
const MAX_RECURSION: usize = 10;

impl<W: QueueSink> State<'_, W> {
    /// Maps `addr` (external form) in place; whether it changed (`cleanup_map11_external`).
    pub fn map11_external(&mut self, addr: &mut String, maps: &Maps, propagate: bool) -> bool {
        let mut did_rewrite = false;
        let context = &self.settings.tables.context;
        for _ in 0..MAX_RECURSION {
            let mut lookup = AddrMap {
                maps,
                context,
                rewriter: &mut *self.rewriter,
            };
            match lookup.map(addr, propagate, Form::External, Form::External) {
                Ok(Some(new)) => {
                    if new.len() > 1 {
                        log::msg_warn!(
                            "{}: multi-valued {} entry for {addr}",
                            self.queue_id,
                            maps.title()
                        );
                    }
                    let first = new.into_iter().next().unwrap_or_default();
                    did_rewrite |= first != *addr;
                    let to_self = dict::casefold(&first) == dict::casefold(addr);
                    self.decisions
                        .note(&self.queue_id, maps.title(), addr, &first);
                    *addr = first;
                    if to_self {
                        return did_rewrite;
                    }
                }
                Ok(None) => return did_rewrite,
                Err(_) => {
                    self.lookup_problem(maps.title(), Some(addr));
                    return did_rewrite;
                }
            }
        }
        log::msg_warn!(
            "{}: unreasonable {} map nesting for {addr} -- message not accepted, try again later",
            self.queue_id,
            maps.title()
        );
        did_rewrite
    }
}
