//! The address mappings one address goes through, by its class: its own canonical table
//! (sender_ or recipient_canonical_maps), then canonical_maps, then masquerading.
//!
//! Postfix counterparts: the `CLEANUP_FLAG_MAP_OK` blocks of `cleanup/cleanup_addr.c`
//! (envelope addresses, in internal form) and of `cleanup_rewrite_sender` and
//! `cleanup_rewrite_recip` in `cleanup/cleanup_message.c` (header addresses, as token
//! trees), with the `_internal` and `_tree` wrappers of `cleanup_map11.c` and
//! `cleanup_masquerade.c`: each mapping works on the external (quoted) form, and each
//! address form converts to it and back around every step, as Postfix does. Nothing is
//! mapped unless the client asked for address mapping (`CLEANUP_FLAG_MAP_OK`).

use crate::out::QueueSink;
use crate::state::State;
use crate::tables::{ENV_FROM, EXT_PROP_CANONICAL, HDR_FROM};
use global::cleanup_user::FLAG_MAP_OK;
use rfc822::quote::{QuoteFlags, quote_822_local, unquote_822_local};
use rfc822::tok822::Addr;

/// An address that can be mapped in its external form.
pub trait Mappable {
    /// Runs `step` on the external form and takes the result back; whether it changed.
    fn via_external(&mut self, step: impl FnOnce(&mut String) -> bool) -> bool;
}

/// An envelope address, in internal form.
impl Mappable for String {
    fn via_external(&mut self, step: impl FnOnce(&mut String) -> bool) -> bool {
        let mut external = quote_822_local(self, QuoteFlags::DEFAULT);
        let changed = step(&mut external);
        *self = unquote_822_local(&external);
        changed
    }
}

/// A header address: its tokens are scanned again from the result.
impl Mappable for Addr {
    fn via_external(&mut self, step: impl FnOnce(&mut String) -> bool) -> bool {
        let mut external = self.externalize();
        let changed = step(&mut external);
        self.replace_external(&external);
        changed
    }
}

impl<W: QueueSink> State<'_, W> {
    /// Applies the mappings of address class `class` (one of `tables::ENV_FROM`,
    /// `ENV_RCPT`, `HDR_FROM`, `HDR_RCPT`) to `addr`; whether it changed.
    pub fn map_address(&mut self, addr: &mut impl Mappable, class: u32) -> bool {
        if self.flags & FLAG_MAP_OK == 0 {
            return false;
        }
        let tables = &self.settings.tables;
        let own = if class & (ENV_FROM | HDR_FROM) != 0 {
            &tables.send_canon
        } else {
            &tables.rcpt_canon
        };
        let propagate = tables.ext_prop & EXT_PROP_CANONICAL != 0;
        let mut changed = false;
        for canon in [own, &tables.comm_canon].into_iter().flatten() {
            if canon.classes & class != 0 {
                changed |= addr.via_external(|e| self.map11_external(e, &canon.maps, propagate));
            }
        }
        if !tables.masq_domains.is_empty() && tables.masq_classes & class != 0 {
            changed |= addr.via_external(|e| self.masquerade_external(e));
        }
        changed
    }
}
