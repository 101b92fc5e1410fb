//! The extracted segment: recipients and other records taken from the headers after the
//! content, and the end of the queue file.
//!
//! Postfix counterpart: `cleanup/cleanup_extracted.c`. The segment starts with `X`; what
//! header and body checks decided (a content filter `L`, a redirect `>`) and the 8-bit
//! encoding the headers declared (`A encoding=8bit`) are written before the first
//! recipient; recipients (`sendmail -t`) are rewritten as in the envelope; the `E`
//! record ends the message, after the automatic BCC recipient (`always_bcc`) and those
//! of header and body checks.

use crate::envelope::REC_FLGS;
use crate::out::QueueSink;
use crate::state::{FLAG_END_SEEN, FLAG_INRCPT, QMGR_MIXED_RCPT_OTHER, State, attr};
use global::cleanup_user::FLAG_BCC_OK;
use global::record::{rec_attr_map, rec_type};
use util::eight_bit;

/// The records that start (or end) the recipient list of the extracted segment.
const EXT_RECIPIENT: &[u8] = b"EDRO/Kon";

impl<W: QueueSink> State<'_, W> {
    /// One extracted record (`cleanup_extracted_process`).
    pub fn extracted(&mut self, kind: u8, data: &mut [u8]) {
        let text = eight_bit::to_text(data).into_owned();
        if log::verbose() > 0 {
            log::msg_info!(
                "extracted envelope {} {}",
                kind as char,
                eight_bit::shown(&text)
            );
        }
        if kind == REC_FLGS {
            self.extra_flags(&text);
            return;
        }
        if !rec_type::EXTRACT.contains(&kind) || kind == 0 {
            self.reject_bad(format_args!(
                "message rejected: unexpected record type {kind} in extracted envelope"
            ));
            return;
        }
        // A DSN attribute stands for the record type it maps to.
        let (mut kind, mut text, mut data) = (kind, text, data.to_vec());
        if kind == rec_type::ATTR {
            match util::name_value::split(&text) {
                Err(why) => {
                    self.reject_bad(format_args!(
                        "message rejected: malformed attribute: {why}: {:.100}",
                        text
                    ));
                    return;
                }
                Ok((name, "")) => {
                    log::msg_warn!(
                        "{}: spurious null attribute value for \"{name}\" -- ignored",
                        self.queue_id
                    );
                    return;
                }
                Ok((name, value)) => {
                    if let Some(mapped) = rec_attr_map(name) {
                        let value = value.to_string();
                        data = eight_bit::to_bytes(&value).into_owned();
                        (kind, text) = (mapped, value);
                    }
                }
            }
        }
        if self.flags & FLAG_INRCPT == 0 && EXT_RECIPIENT.contains(&kind) {
            self.start_extracted_recipients();
        }
        match kind {
            rec_type::RCPT => self.recipient_record(&text),
            rec_type::DONE | rec_type::DRCP => self.end_recipient(),
            rec_type::DSN_ORCPT => self.dsn_orcpt_record(text),
            rec_type::DSN_NOTIFY => self.dsn_notify_record(&text, &text, "dsn"),
            rec_type::ORCP => {
                if self.orig_rcpt.is_some() {
                    log::msg_warn!(
                        "{}: ignoring out-of-order original recipient record <{:.200}>",
                        self.queue_id,
                        text
                    );
                }
                self.orig_rcpt = Some(text);
            }
            rec_type::END => {
                self.flags &= !FLAG_INRCPT;
                self.flags |= FLAG_END_SEEN;
                self.extracted_finish();
            }
            _ => {
                if self.flags & FLAG_INRCPT != 0 {
                    self.qmgr_opts |= QMGR_MIXED_RCPT_OTHER;
                }
                self.out(kind, &data);
            }
        }
    }

    /// Before the first extracted recipient (or the end): what the content decided.
    fn start_extracted_recipients(&mut self) {
        if let Some(filter) = self.filter.clone() {
            self.out(rec_type::FILT, &eight_bit::to_bytes(&filter));
        }
        if let Some(redirect) = self.redirect.clone() {
            self.out(rec_type::RDR, &eight_bit::to_bytes(&redirect));
        }
        if let Some(encoding) = self.attr.get(attr::ENCODING).cloned() {
            self.out_str(rec_type::ATTR, &format!("{}={encoding}", attr::ENCODING));
        }
        self.flags |= FLAG_INRCPT;
    }

    /// The last records: automatic BCC recipients, then `E` (`cleanup_extracted_finish`).
    fn extracted_finish(&mut self) {
        if self.flags & FLAG_BCC_OK != 0
            && self.recip.is_some()
            && !self.settings.always_bcc.is_empty()
        {
            let bcc = self.settings.always_bcc.clone();
            self.addr_bcc(&bcc);
        }
        let hbc = std::mem::take(&mut self.hbc_rcpt);
        if self.out_ok() && self.recip.is_some() {
            for bcc in hbc {
                self.addr_bcc(&bcc);
            }
        }
        self.out_str(rec_type::END, "");
    }
}
