//! Writing an envelope recipient, once, after virtual alias expansion.
//!
//! Postfix counterpart: `cleanup/cleanup_out_recipient.c`. With address mapping on and
//! virtual_alias_maps set, the recipient is first expanded (map1n.rs) and each resulting
//! address is written with the original recipient and DSN attributes of the one it came
//! from. A recipient is written as its DSN attributes (`A notify_flags=`,
//! `A dsn_orig_rcpt=`), its original address (`O`) and itself (`R`), unless the same
//! recipient was written before: with `enable_original_recipient` recipients that differ
//! in their original address or DSN attributes are kept apart, without it only the
//! address counts. The comparison ignores case, and remembers at most
//! `duplicate_filter_limit` recipients.
//!
//! DSN: a recipient that asked for NOTIFY=SUCCESS and was expanded gets an "expanded"
//! delivery status now (through the trace service), and its expansions ask for the other
//! notifications only (RFC 3461's option b); an address probe (`sendmail -bv`, the verify
//! service) of an alias with several addresses is answered "deliverable" for the alias
//! itself instead of being sent to each of them.

use crate::out::QueueSink;
use crate::state::{State, attr};
use crate::tables::EXT_PROP_VIRTUAL;
use global::bounce::{BOUNCE_FLAG_CLEAN, NO_RELAY_AGENT};
use global::cleanup_user::{FLAG_MAP_OK, STAT_WRITE};
use global::deliver_request::DEL_REQ_FLAG_MTA_VRFY;
use global::dsn_mask::{NOTIFY_NEVER, NOTIFY_SUCCESS};
use global::dsn_print::Dsn;
use global::msg_stats::MsgStats;
use global::rcpt_print::Recipient;
use global::record::rec_type;
use util::eight_bit;

impl<W: QueueSink> State<'_, W> {
    /// Writes recipient `recip` with original recipient `orcpt` and its DSN attributes,
    /// expanding virtual aliases (`cleanup_out_recipient`).
    pub fn out_recipient(
        &mut self,
        dsn_orcpt: Option<&str>,
        dsn_notify: u32,
        orcpt: &str,
        recip: &str,
    ) {
        let dsn_orcpt = dsn_orcpt.unwrap_or("");
        let tables = &self.settings.tables;
        let virt = tables
            .virt_alias
            .as_ref()
            .filter(|_| self.flags & FLAG_MAP_OK != 0);
        let Some(maps) = virt else {
            self.write_recipient(dsn_orcpt, dsn_notify, orcpt, recip);
            return;
        };
        let propagate = tables.ext_prop & EXT_PROP_VIRTUAL != 0;
        let expansion = self.map1n_internal(recip, maps, propagate);
        let rcpt = Recipient {
            offset: 0,
            dsn_orcpt: dsn_orcpt.to_string(),
            dsn_notify,
            orig_addr: orcpt.to_string(),
            address: recip.to_string(),
        };
        if expansion.len() > 1 && self.tflags as i32 & DEL_REQ_FLAG_MTA_VRFY != 0 {
            let dsn = Dsn::simple("2.0.0", "aliased to multiple recipients");
            let (id, stats) = (&self.queue_id, self.msg_stats());
            let status = &self.settings.status;
            global::sent::sent(
                status,
                DEL_REQ_FLAG_MTA_VRFY,
                id,
                &stats,
                &rcpt,
                NO_RELAY_AGENT,
                &dsn,
            );
            return;
        }
        let mut dsn_notify = dsn_notify;
        if dsn_notify & NOTIFY_SUCCESS != 0 && (expansion.len() > 1 || expansion[0] != recip) {
            self.trace_expanded(&rcpt);
            dsn_notify = if dsn_notify == NOTIFY_SUCCESS {
                NOTIFY_NEVER
            } else {
                dsn_notify & !NOTIFY_SUCCESS
            };
        }
        for address in &expansion {
            self.write_recipient(dsn_orcpt, dsn_notify, orcpt, address);
        }
    }

    /// The message's time stamps for the status clients: cleanup has only the arrival
    /// time (all the delay is before the queue manager).
    pub fn msg_stats(&self) -> MsgStats {
        MsgStats {
            incoming_arrival: self.arrival_time,
            ..MsgStats::default()
        }
    }

    /// Records in the trace log that `rcpt` was expanded, for its DSN SUCCESS notice
    /// (`cleanup_trace_append`); the log goes when the message is not accepted.
    fn trace_expanded(&mut self, rcpt: &Recipient) {
        if self.trace_path.is_none() {
            let path = self
                .settings
                .layout
                .path(global::mail_queue::TRACE, &self.queue_id);
            crate::incomplete::note(&path);
            self.trace_path = Some(path);
        }
        let dsn = Dsn {
            action: "expanded".to_string(),
            ..Dsn::simple("2.0.0", "alias expanded")
        };
        let (id, stats) = (&self.queue_id, self.msg_stats());
        let status = &self.settings.status;
        let flags = BOUNCE_FLAG_CLEAN;
        if global::trace::trace_append(status, flags, id, &stats, rcpt, NO_RELAY_AGENT, &dsn) != 0 {
            log::msg_warn!("{}: trace logfile update error", self.queue_id);
            self.errs |= STAT_WRITE;
        }
    }

    /// Writes one recipient unless it is a duplicate.
    fn write_recipient(&mut self, dsn_orcpt: &str, dsn_notify: u32, orcpt: &str, recip: &str) {
        let seen = if self.settings.enable_orcpt {
            self.dups
                .been_here(&format!("{dsn_orcpt}\n{dsn_notify}\n{orcpt}\n{recip}"))
        } else {
            self.dups.been_here(recip)
        };
        if seen {
            return;
        }
        if dsn_notify != 0 {
            self.out_str(
                rec_type::ATTR,
                &format!("{}={dsn_notify}", attr::DSN_NOTIFY),
            );
        }
        if !dsn_orcpt.is_empty() {
            let record = format!("{}={dsn_orcpt}", attr::DSN_ORCPT);
            self.out(rec_type::ATTR, &eight_bit::to_bytes(&record));
        }
        self.out(rec_type::ORCP, &eight_bit::to_bytes(orcpt));
        self.out(rec_type::RCPT, &eight_bit::to_bytes(recip));
        self.rcpt_count += 1;
    }
}
