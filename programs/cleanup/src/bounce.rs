//! Bouncing a message that cleanup does not accept, for clients that ask for it.
//!
//! Postfix counterpart: `cleanup/cleanup_bounce.c`. Local submissions (pickup), mail the
//! local agent forwards and mail re-queued with "postsuper -r" set
//! `CLEANUP_FLAG_BOUNCE`: their client has no one to tell that the message was refused
//! (a header check's REJECT, no recipients, a message too large). cleanup then reads
//! the recipients back from the queue file it wrote, hands each to the bounce service
//! with the reason (the REJECT text, or the status's own), has the bounce service send
//! the non-delivery notice to the sender, and, once that worked, removes the message and
//! answers success: the message is dealt with. If the bounce service fails, the client
//! gets the failure and keeps the message to try again.

use crate::envelope::{alldig, atoi};
use crate::out::{QueueSink, record_size};
use crate::state::{State, attr};
use global::bounce::{BOUNCE_FLAG_CLEAN, Envelope, NO_RELAY_AGENT, bounce_append, bounce_flush};
use global::cleanup_user::{
    FLAG_BOUNCE, FLAG_DISCARD, STAT_BAD, STAT_CONT, STAT_DEFER, STAT_RCPT, STAT_SIZE, STAT_WRITE,
    cleanup_stat_detail,
};
use global::dsn_mask::{self, RET_HDRS};
use global::dsn_print::Dsn;
use global::dsn_util::dsn_split;
use global::rcpt_print::Recipient;
use global::record::{rec_attr_map, rec_get, rec_type};
use util::eight_bit;

/// The errors after which a message cannot be bounced (`CLEANUP_STAT_MASK_CANT_BOUNCE`):
/// it may be incomplete, or the problem is temporary.
const CANT_BOUNCE: u32 = STAT_BAD | STAT_WRITE | STAT_DEFER | STAT_RCPT;

/// The recipient attributes collected before its `R` record.
#[derive(Default)]
struct Pending {
    dsn_orcpt: Option<String>,
    dsn_notify: u32,
    orig_rcpt: Option<String>,
}

impl<W: QueueSink> State<'_, W> {
    /// Whether the failed message is to be bounced (`CAN_BOUNCE`).
    pub fn can_bounce(&self) -> bool {
        self.errs != 0
            && self.errs & CANT_BOUNCE == 0
            && self.sender.is_some()
            && self.flags & FLAG_BOUNCE != 0
    }

    /// Bounces every recipient and sends the notice (`cleanup_bounce`). Afterwards the
    /// status is 0 and the message marked for removal, or `STAT_WRITE`.
    pub fn bounce(&mut self) {
        let (status, text) = match &self.reason {
            Some(reason) => {
                let (code, text) = dsn_split("5.0.0", reason);
                (code.to_string(), text.to_string())
            }
            None => {
                let detail = cleanup_stat_detail(self.errs);
                (detail.dsn.to_string(), detail.text.to_string())
            }
        };
        let any = self.bounce_recipients(&status, &text);
        if self.errs & STAT_WRITE == 0 && !any {
            // No recipients: the notice still goes to the sender.
            let unknown = Recipient {
                address: "unknown".to_string(),
                ..Recipient::default()
            };
            let (id, stats) = (&self.queue_id, self.msg_stats());
            let dsn = Dsn::simple(&status, &text);
            let conf = &self.settings.status;
            let flags = BOUNCE_FLAG_CLEAN;
            if bounce_append(conf, flags, id, &stats, &unknown, NO_RELAY_AGENT, &dsn) != 0 {
                self.errs |= STAT_WRITE;
            }
        }
        if self.errs & STAT_WRITE == 0 {
            self.bounce_notify();
        }
        self.errs &= STAT_WRITE;
        if self.errs == 0 {
            self.flags |= FLAG_DISCARD;
        }
    }

    /// Appends each recipient of the queue file to the bounce log, as it is read;
    /// whether there was one.
    fn bounce_recipients(&mut self, status: &str, text: &str) -> bool {
        let settings = self.settings;
        let id = self.queue_id.clone();
        let stats = self.msg_stats();
        let dsn = Dsn::simple(status, text);
        let mut reader = match self.dst.read_back() {
            Ok(reader) => reader,
            Err(e) => log::msg_fatal!("{id}: seek queue file: {}", sys::os_error(&e)),
        };
        let mut any = false;
        let mut failed = false;
        let mut pending = Pending::default();
        let mut offset = 0u64;
        let mut buf = Vec::new();
        while !failed && let Ok(kind) = rec_get(&mut reader, &mut buf, 0) {
            let at = offset;
            offset += record_size(buf.len());
            if kind == rec_type::END {
                break;
            }
            let mut text_value = eight_bit::to_text(&buf).into_owned();
            let mut kind = kind;
            if kind == rec_type::ATTR {
                let Ok((name, value)) = util::name_value::split(&text_value) else {
                    continue;
                };
                if value.is_empty() {
                    continue;
                }
                if let Some(mapped) = rec_attr_map(name) {
                    (kind, text_value) = (mapped, value.to_string());
                }
            }
            match kind {
                rec_type::DSN_ORCPT => pending.dsn_orcpt = Some(text_value),
                rec_type::DSN_NOTIFY => {
                    let notify = atoi(&text_value) as u32;
                    let ok = alldig(&text_value) && notify > 0 && dsn_mask::notify_ok(notify);
                    pending.dsn_notify = if ok { notify } else { 0 };
                }
                rec_type::ORCP => pending.orig_rcpt = Some(text_value),
                rec_type::RCPT => {
                    let done = std::mem::take(&mut pending);
                    let rcpt = Recipient {
                        offset: at as i64,
                        dsn_orcpt: done.dsn_orcpt.unwrap_or_default(),
                        dsn_notify: done.dsn_notify,
                        orig_addr: done.orig_rcpt.unwrap_or_else(|| text_value.clone()),
                        address: text_value,
                    };
                    any = true;
                    let flags = BOUNCE_FLAG_CLEAN;
                    failed = bounce_append(
                        &settings.status,
                        flags,
                        &id,
                        &stats,
                        &rcpt,
                        NO_RELAY_AGENT,
                        &dsn,
                    ) != 0;
                }
                rec_type::DRCP | rec_type::DONE => pending = Pending::default(),
                _ => {}
            }
        }
        drop(reader);
        if failed {
            self.errs |= STAT_WRITE;
        }
        any
    }

    /// Has the bounce service send the notice to the sender.
    fn bounce_notify(&mut self) {
        let settings = self.settings;
        let encoding = self.attr.get(attr::ENCODING).map_or("", String::as_str);
        // Content that was rejected is not sent back: only its headers.
        let dsn_ret = if self.errs & (STAT_CONT | STAT_SIZE) != 0 {
            RET_HDRS
        } else {
            self.dsn_ret
        };
        let msg = Envelope {
            queue: global::mail_queue::INCOMING,
            id: &self.queue_id,
            encoding,
            smtputf8: self.smtputf8 as i32,
            sender: self.sender.as_deref().unwrap_or(""),
            dsn_envid: self.dsn_envid.as_deref().unwrap_or(""),
            dsn_ret: dsn_ret as i32,
        };
        let verp = self
            .verp_delims
            .as_deref()
            .filter(|_| !settings.verp_bounce_off);
        if bounce_flush(&settings.status, BOUNCE_FLAG_CLEAN, &msg, verp) != 0 {
            log::msg_warn!("{}: bounce message failure", self.queue_id);
            self.errs |= STAT_WRITE;
        }
    }
}
