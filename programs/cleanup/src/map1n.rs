//! One-to-many address mapping: virtual alias expansion.
//!
//! Postfix counterpart: `cleanup/cleanup_map1n.c`. The recipient becomes the list of
//! addresses its virtual_alias_maps entry gives; each of those is looked up in turn, until
//! none has an entry. An address whose expansion contains itself (`a -> a, b`) is kept
//! and not expanded again, so that aliases can deliver a copy to the original address.
//! Three limits stop runaway tables, each deferring the message with "4.6.0 Alias
//! expansion error": more than `virtual_alias_expansion_limit` addresses, a chain deeper
//! than `virtual_alias_recursion_limit`, or a result longer than
//! `virtual_alias_address_length_limit` (an alias that grows each time around). A table
//! that fails defers the message too. On any such error the recipient stays as it was.

use crate::out::QueueSink;
use crate::state::State;
use global::cleanup_user::STAT_DEFER;
use global::mail_addr_find::Form;
use global::mail_addr_map::AddrMap;
use global::maps::Maps;
use std::collections::HashSet;

/// The reason given to the client when expansion fails.
const EXPANSION_ERROR: &str = "4.6.0 Alias expansion error";

impl<W: QueueSink> State<'_, W> {
    /// The addresses `addr` (internal form) expands into (`cleanup_map1n_internal`).
    pub fn map1n_internal(&mut self, addr: &str, maps: &Maps, propagate: bool) -> Vec<String> {
        let settings = self.settings;
        let mut list = vec![addr.to_string()];
        // Addresses that expanded into themselves, case-folded (`been_here` with
        // BH_FLAG_FOLD).
        let mut expanded_to_self: HashSet<String> = HashSet::new();
        let mut arg = 0;
        while arg < list.len() {
            if list.len() > settings.virt_expan_limit {
                return self.expansion_failed(addr, maps, "map expansion size for", STAT_DEFER);
            }
            let mut count = 0;
            loop {
                if expanded_to_self.contains(&dict::casefold(&list[arg])) {
                    break;
                }
                if count >= settings.virt_recur_limit {
                    return self.expansion_failed(addr, maps, "map nesting for", STAT_DEFER);
                }
                let mut lookup = AddrMap {
                    maps,
                    context: &settings.tables.context,
                    rewriter: &mut *self.rewriter,
                };
                let found = match lookup.map(&list[arg], propagate, Form::Internal, Form::Internal)
                {
                    Ok(Some(found)) => found,
                    Ok(None) => break,
                    Err(_) => {
                        self.lookup_problem(maps.title(), Some(addr));
                        return self.expansion_error(addr, 0);
                    }
                };
                let lhs = std::mem::take(&mut list[arg]);
                self.decisions
                    .note(&self.queue_id, maps.title(), &lhs, &found.join(", "));
                for (i, new) in found.into_iter().enumerate() {
                    if new.len() > settings.virt_addrlen_limit {
                        let shown: String = new.chars().take(300).collect();
                        log::msg_warn!(
                            "{}: unreasonable {} result {shown}... -- message not accepted, try again later",
                            self.queue_id,
                            maps.title()
                        );
                        return self.expansion_error(addr, STAT_DEFER);
                    }
                    if dict::casefold(&lhs) == dict::casefold(&new) {
                        expanded_to_self.insert(dict::casefold(&lhs));
                    }
                    if i == 0 {
                        list[arg] = new;
                    } else {
                        list.push(new);
                    }
                }
                count += 1;
            }
            arg += 1;
        }
        list
    }

    /// A limit was reached: says which, and fails the expansion.
    fn expansion_failed(&mut self, addr: &str, maps: &Maps, what: &str, err: u32) -> Vec<String> {
        log::msg_warn!(
            "{}: unreasonable {} {what} {addr} -- message not accepted, try again later",
            self.queue_id,
            maps.title()
        );
        self.expansion_error(addr, err)
    }

    /// The expansion failed: the message is not accepted, the recipient stays as it was.
    fn expansion_error(&mut self, addr: &str, err: u32) -> Vec<String> {
        self.errs |= err;
        self.reason = Some(EXPANSION_ERROR.to_string());
        vec![addr.to_string()]
    }
}
