//! The envelope segment: checked, rewritten and written to the queue file.
//!
//! Postfix counterpart: `cleanup/cleanup_envelope.c`. The queue file starts with the size
//! record (`C`), its fixed-width fields zero until the message is complete. Then each
//! record the client sends: a time (`T`, the first one wins, followed by cleanup's own
//! `A create_time=`), the full name (`F`), the sender (`S`, once, rewritten), named
//! attributes (`A`, some of which set the header rewriting context, tracing or DSN
//! values), and the recipients (`R`, rewritten, with their `O` original and DSN records
//! in front). Records that are not part of the queue file format (`f` extra flags) change
//! the processing. A record out of place rejects the message with Postfix's warning.
//! `M` ends the envelope; it is written when the content starts.

use crate::out::QueueSink;
use crate::state::{FLAG_INRCPT, FLAG_WARN_SEEN, QMGR_MIXED_RCPT_OTHER, SMTPUTF8_REQUESTED};
use crate::state::{Segment, State, attr};
use global::cleanup_user::{FLAG_DISCARD, FLAG_HOLD};
use global::dsn_mask;
use global::record::{rec_attr_map, rec_type};
use global::rewrite_clnt::{RULE_LOCAL, RULE_REMOTE};
use util::eight_bit;

/// Not part of the queue file format: extra processing flags (`REC_TYPE_FLGS`).
pub const REC_FLGS: u8 = b'f';
/// Not part of the queue file format: Milter state follows (`REC_TYPE_MILT_COUNT`).
pub const REC_MILT_COUNT: u8 = b'm';
/// VERP delimiters (`REC_TYPE_VERP`).
const REC_VERP: u8 = b'V';
/// The records that start (or end) the recipient list of the envelope.
const ENV_RECIPIENT: &[u8] = b"MDRO/Kon";
/// The flags an `f` record may set (`CLEANUP_FLAG_MASK_EXTRA`).
const FLAG_MASK_EXTRA: u32 = FLAG_HOLD | FLAG_DISCARD;
/// The trace flags (`DEL_REQ_TRACE_FLAGS_MASK`): verify, expand, record, delayed.
const TRACE_FLAGS_MASK: u32 = (1 << 8) | (1 << 9) | (1 << 10) | (1 << 13);

/// The size record with its six fixed-width fields (`REC_TYPE_SIZE_FORMAT`).
pub fn size_record(fields: [u64; 6]) -> String {
    let [a, b, c, d, e, f] = fields;
    format!("{a:15} {b:15} {c:15} {d:15} {e:15} {f:15}")
}

/// `atoi`: leading white space, an optional sign, digits; 0 if none.
pub fn atoi(text: &str) -> i64 {
    let text = text.trim_start_matches(util::name_value::is_space);
    let (sign, digits) = match text.as_bytes().first() {
        Some(b'-') => (-1, &text[1..]),
        Some(b'+') => (1, &text[1..]),
        _ => (1, text),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    sign * digits[..end].parse::<i64>().unwrap_or(0)
}

/// Whether `text` is all digits (`alldig`; an empty string is, as in Postfix).
pub fn alldig(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit())
}

impl<W: QueueSink> State<'_, W> {
    /// The first envelope record: the size record goes first (`cleanup_envelope`).
    pub fn envelope_start(&mut self, kind: u8, data: &mut [u8]) {
        self.out_str(rec_type::SIZE, &size_record([0; 6]));
        self.segment = Segment::Envelope;
        self.envelope(kind, data);
    }

    /// One envelope record (`cleanup_envelope_process`).
    pub fn envelope(&mut self, kind: u8, data: &mut [u8]) {
        let text = eight_bit::to_text(data).into_owned();
        if log::verbose() > 0 {
            log::msg_info!(
                "initial envelope {} {}",
                kind as char,
                eight_bit::shown(&text)
            );
        }
        if kind == REC_FLGS {
            self.extra_flags(&text);
            return;
        }
        if kind == REC_MILT_COUNT {
            // Milter state from smtpd follows on the stream; ironpost has no Milter
            // support yet, so the message cannot be processed as the client meant.
            self.reject_bad(format_args!(
                "message rejected: Milter state from the client is not supported"
            ));
            return;
        }
        // A DSN attribute stands for the record type it maps to.
        let mut mapped = (kind, text.clone());
        let mut name_value = None;
        if kind == rec_type::ATTR {
            match util::name_value::split(&text) {
                Err(why) => {
                    self.reject_bad(format_args!(
                        "message rejected: malformed attribute: {why}: {:.100}",
                        text
                    ));
                    return;
                }
                Ok((_, "")) => {
                    let name = util::name_value::split(&text).map_or("", |(n, _)| n);
                    log::msg_warn!(
                        "{}: spurious null attribute value for \"{name}\" -- ignored",
                        self.queue_id
                    );
                    return;
                }
                Ok((name, value)) => {
                    if let Some(t) = rec_attr_map(name) {
                        mapped = (t, value.to_string());
                    }
                    name_value = Some((name.to_string(), value.to_string()));
                }
            }
        }
        if !rec_type::ENVELOPE.contains(&kind) || kind == 0 {
            self.reject_bad(format_args!(
                "message rejected: unexpected record type {kind} in envelope"
            ));
            return;
        }
        if self.flags & FLAG_INRCPT == 0
            && ENV_RECIPIENT.contains(&kind)
            && !self.start_recipients()
        {
            return;
        }
        let (mapped_kind, mapped_text) = mapped;
        match kind {
            rec_type::RCPT => {
                self.recipient_record(&text);
                return;
            }
            rec_type::DONE | rec_type::DRCP => {
                self.end_recipient();
                return;
            }
            _ => {}
        }
        match mapped_kind {
            rec_type::DSN_ORCPT => {
                self.dsn_orcpt_record(mapped_text);
                return;
            }
            rec_type::DSN_NOTIFY => {
                self.dsn_notify_record(&mapped_text, &text, "DSN");
                return;
            }
            _ => {}
        }
        if kind == rec_type::ORCP {
            if let Some(old) = &self.orig_rcpt {
                log::msg_warn!(
                    "{}: ignoring out-of-order original recipient record <{:.200}>",
                    self.queue_id,
                    old
                );
            }
            self.orig_rcpt = Some(text);
            return;
        }
        if kind == rec_type::MESG {
            self.segment = Segment::ContentStart;
            self.flags &= !FLAG_INRCPT;
            return;
        }
        if self.flags & FLAG_INRCPT != 0 {
            // Tell the queue manager that recipients are mixed with other records.
            self.qmgr_opts |= QMGR_MIXED_RCPT_OTHER;
        }
        self.envelope_other(kind, data, mapped_kind, &mapped_text, name_value);
    }

    /// An `R` record, in the envelope or the extracted segment: the recipient, with the
    /// record itself as its original address unless an `O` record came first.
    pub(crate) fn recipient_record(&mut self, text: &str) {
        if self.sender.is_none() {
            self.reject_bad(format_args!(
                "message rejected: envelope recipient precedes sender"
            ));
            return;
        }
        if self.orig_rcpt.is_none() {
            self.orig_rcpt = Some(text.to_string());
        }
        self.addr_recipient(text);
        self.end_recipient();
    }

    /// A DSN original recipient record, in the envelope or the extracted segment; a
    /// second one before its recipient replaces the first, with Postfix's warning.
    pub(crate) fn dsn_orcpt_record(&mut self, text: String) {
        if let Some(old) = &self.dsn_orcpt {
            log::msg_warn!(
                "{}: ignoring out-of-order DSN original recipient record <{:.200}>",
                self.queue_id,
                old
            );
        }
        self.dsn_orcpt = Some(text);
    }

    /// The envelope records that are not about recipients.
    fn envelope_other(
        &mut self,
        kind: u8,
        data: &[u8],
        mapped_kind: u8,
        mapped_text: &str,
        name_value: Option<(String, String)>,
    ) {
        let text = eight_bit::to_text(data).into_owned();
        match kind {
            rec_type::SIZE => {
                // Our own size record counts, except for the SMTPUTF8 request of mail
                // that "postsuper -r" re-queues. Postfix 3.7's scan never matches its
                // format, so the flag stays as the client flags set it.
                self.smtputf8 &= SMTPUTF8_REQUESTED;
                return;
            }
            rec_type::TIME => {
                if self.arrival_time.0 == 0 {
                    let sec = atoi(&text);
                    let rest = text.trim_start_matches(|c: char| c.is_ascii_digit());
                    self.arrival_time = (sec, atoi(rest));
                    self.out(kind, data);
                }
                // Our own expiration time base, for each time record.
                self.out_str(
                    rec_type::ATTR,
                    &format!("{}={}", attr::CREATE_TIME, unix_now()),
                );
                return;
            }
            rec_type::FULL => {
                if self.fullname.is_none() {
                    self.fullname = Some(text);
                    self.out(kind, data);
                }
                return;
            }
            rec_type::FROM => {
                if self.sender.is_some() {
                    self.reject_bad(format_args!(
                        "message rejected: multiple envelope sender records"
                    ));
                    return;
                }
                self.addr_sender(&text);
                return;
            }
            rec_type::WARN => {
                if self.flags & FLAG_WARN_SEEN == 0 {
                    self.flags |= FLAG_WARN_SEEN;
                    self.out(kind, data);
                }
                return;
            }
            REC_VERP => {
                self.verp_record(&text, data);
                return;
            }
            _ => {}
        }
        match mapped_kind {
            // Our own expiration time base replaces the client's.
            rec_type::CTIME => {}
            rec_type::DSN_ENVID => {
                if !mapped_text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
                    self.reject_bad(format_args!("message rejected: bad DSN envelope ID record"));
                    return;
                }
                self.dsn_envid = Some(mapped_text.to_string());
                self.out(kind, data);
            }
            rec_type::DSN_RET => {
                let value = atoi(mapped_text) as u32;
                if !alldig(mapped_text)
                    || value == 0
                    || (value != dsn_mask::RET_FULL && value != dsn_mask::RET_HDRS)
                {
                    self.reject_bad(format_args!(
                        "message rejected: bad DSN RET record <{:.200}>",
                        text
                    ));
                    return;
                }
                self.dsn_ret = value;
                self.out(kind, data);
            }
            _ if kind == rec_type::ATTR => {
                if let Some((name, value)) = name_value {
                    self.attribute(&name, &value, data);
                }
            }
            _ => self.out(kind, data),
        }
    }

    /// A named attribute: counted, some of them acted upon, then written.
    fn attribute(&mut self, name: &str, value: &str, data: &[u8]) {
        if self.attr.len() >= self.settings.qattr_count_limit {
            self.reject_bad(format_args!(
                "message rejected: attribute count exceeds limit {}",
                self.settings.qattr_count_limit
            ));
            return;
        }
        if name == attr::RWR_CONTEXT {
            // The client says whose headers these are (see local_header_rewrite_clients).
            if value == RULE_LOCAL {
                self.hdr_rewrite_context = Some(RULE_LOCAL);
            } else if value == RULE_REMOTE {
                self.hdr_rewrite_context =
                    (!self.settings.remote_rwr_domain.is_empty()).then_some(RULE_REMOTE);
            } else {
                self.reject_bad(format_args!(
                    "message rejected: bad rewriting context: {:.100}",
                    value
                ));
                return;
            }
        }
        if name == attr::TRACE_FLAGS {
            if !alldig(value) {
                self.reject_bad(format_args!(
                    "message rejected: bad TFLAG record <{:.200}>",
                    String::from_utf8_lossy(data)
                ));
                return;
            }
            if self.tflags == 0 {
                self.tflags = atoi(value) as u32 & TRACE_FLAGS_MASK;
            }
        }
        self.attr.insert(name.to_string(), value.to_string());
        self.out(rec_type::ATTR, data);
    }

    /// The first recipient record (or the end of the envelope): the sender and the time
    /// must be known by now; a delay warning time is due if asked for.
    fn start_recipients(&mut self) -> bool {
        if self.sender.is_none() {
            self.reject_bad(format_args!(
                "message rejected: missing sender envelope record"
            ));
            return false;
        }
        if self.arrival_time.0 == 0 {
            self.reject_bad(format_args!(
                "message rejected: missing time envelope record"
            ));
            return false;
        }
        if self.flags & FLAG_WARN_SEEN == 0
            && self.sender.as_deref().is_some_and(|s| !s.is_empty())
            && self.settings.delay_warn_time > 0
        {
            let due = self.arrival_time.0 + self.settings.delay_warn_time;
            self.out_str(rec_type::WARN, &format!("{due:15}"));
        }
        self.flags |= FLAG_INRCPT;
        true
    }

    /// After a recipient: its original recipient and DSN attributes are used up.
    pub fn end_recipient(&mut self) {
        self.orig_rcpt = None;
        self.dsn_orcpt = None;
        self.dsn_notify = 0;
    }

    /// A DSN NOTIFY record (also in the extracted segment, where Postfix words the
    /// warning with `dsn` in lower case).
    pub fn dsn_notify_record(&mut self, value: &str, raw: &str, word: &str) {
        if self.dsn_notify != 0 {
            log::msg_warn!(
                "{}: ignoring out-of-order DSN notify record <{}>",
                self.queue_id,
                self.dsn_notify
            );
            self.dsn_notify = 0;
        }
        let notify = atoi(value) as u32;
        if !alldig(value) || notify == 0 || !dsn_mask::notify_ok(notify) {
            log::msg_warn!(
                "{}: ignoring malformed {word} notify record <{:.200}>",
                self.queue_id,
                raw
            );
        } else {
            self.dsn_notify = notify;
            self.qmgr_opts |= notify << 1;
        }
    }

    /// An `f` record: the hold and discard flags may be set this way.
    pub fn extra_flags(&mut self, text: &str) {
        let extra = atoi(text) as u32;
        if extra & !FLAG_MASK_EXTRA != 0 {
            log::msg_warn!("{}: ignoring bad extra flags: 0x{extra:x}", self.queue_id);
        } else {
            self.flags |= extra;
        }
    }

    /// VERP delimiters: kept for a sender that can get bounces, when they are two
    /// characters from `verp_delimiter_filter`.
    fn verp_record(&mut self, text: &str, data: &[u8]) {
        if self.verp_delims.is_some() {
            return;
        }
        let filter = &self.settings.verp_filter;
        let bad = if text.chars().count() != 2 {
            Some("bad VERP delimiter character count")
        } else if !text.chars().next().is_some_and(|c| filter.contains(c)) {
            Some("bad first VERP delimiter character")
        } else if !text.chars().nth(1).is_some_and(|c| filter.contains(c)) {
            Some("bad second VERP delimiter character")
        } else {
            None
        };
        if self.sender.as_deref().is_none_or(str::is_empty) {
            log::msg_warn!("{}: ignoring VERP request for null sender", self.queue_id);
        } else if bad.is_some() {
            log::msg_warn!(
                "{}: ignoring bad VERP request: \"{:.100}\"",
                self.queue_id,
                text
            );
        } else {
            self.verp_delims = Some(text.to_string());
            self.out(REC_VERP, data);
        }
    }
}

/// Seconds since the epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
