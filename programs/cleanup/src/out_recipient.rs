//! Writing an envelope recipient, once.
//!
//! Postfix counterpart: `cleanup/cleanup_out_recipient.c`. A recipient is written as its
//! DSN attributes (`A notify_flags=`, `A dsn_orig_rcpt=`), its original address (`O`) and
//! itself (`R`), unless the same recipient was written before: with
//! `enable_original_recipient` recipients that differ in their original address or DSN
//! attributes are kept apart, without it only the address counts. The comparison ignores
//! case, and remembers at most `duplicate_filter_limit` recipients.

use crate::out::QueueSink;
use crate::state::{State, attr};
use global::record::rec_type;
use util::eight_bit;

impl<W: QueueSink> State<'_, W> {
    /// Writes recipient `recip` with original recipient `orcpt` and its DSN attributes,
    /// unless it is a duplicate (`cleanup_out_recipient`).
    pub fn out_recipient(
        &mut self,
        dsn_orcpt: Option<&str>,
        dsn_notify: u32,
        orcpt: &str,
        recip: &str,
    ) {
        let dsn_orcpt = dsn_orcpt.unwrap_or("");
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
