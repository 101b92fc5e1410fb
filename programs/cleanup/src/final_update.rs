//! The size record, filled in once the message is complete.
//!
//! Postfix counterpart: `cleanup/cleanup_final.c`. The first record of the queue file was
//! written with zeros in its fixed-width fields; now that the content offsets, the
//! recipient count, the queue manager hints and the SMTPUTF8 flags are known, the record
//! is written again over itself. Its size does not change: the fields are 15 characters
//! wide.

use crate::envelope::size_record;
use crate::out::QueueSink;
use crate::state::State;
use global::record::{rec_put, rec_type};

impl<W: QueueSink> State<'_, W> {
    /// Rewrites the size record with the final values (`cleanup_final`).
    pub fn final_update(&mut self) {
        let fields = [
            self.xtra_offset.saturating_sub(self.data_offset),
            self.data_offset,
            self.rcpt_count,
            u64::from(self.qmgr_opts),
            self.cont_length,
            u64::from(self.smtputf8),
        ];
        let mut record = Vec::new();
        // Writing into memory cannot fail.
        let _ = rec_put(&mut record, rec_type::SIZE, size_record(fields).as_bytes());
        if let Err(e) = self.dst.write_at(0, &record) {
            self.write_error(&e);
        }
    }
}
