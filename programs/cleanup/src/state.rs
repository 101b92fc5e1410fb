//! The state of one message while cleanup processes it, and where its records go next.
//!
//! Postfix counterparts: `cleanup/cleanup_state.c` and the `CLEANUP_STATE` structure of
//! `cleanup/cleanup.h`. Postfix switches a function pointer as the message moves from
//! the envelope to the content to the extracted segment; here [`Segment`] says which
//! handler gets the next record, and [`Handler`] holds the state, inside the MIME
//! processor while the content segment is read (the processor calls back into it).

use crate::decision::Decisions;
use crate::init::Settings;
use crate::out::{Output, QueueSink};
use crate::rewrite::Rewrite;
use global::cleanup_user::{FLAG_DISCARD, FLAG_SMTPUTF8, STAT_BAD};
use global::record::rec_type;
use rfc822::mime::{MimeErrors, MimeState};
use std::collections::HashMap;

/// Processing recipient records (`CLEANUP_FLAG_INRCPT`).
pub const FLAG_INRCPT: u32 = 1 << 16;
/// A `W` record was seen (`CLEANUP_FLAG_WARN_SEEN`).
pub const FLAG_WARN_SEEN: u32 = 1 << 17;
/// The `E` record was seen (`CLEANUP_FLAG_END_SEEN`).
pub const FLAG_END_SEEN: u32 = 1 << 18;

/// SMTPUTF8 was requested, or is needed (`SMTPUTF8_FLAG_REQUESTED`).
pub const SMTPUTF8_REQUESTED: u32 = 1 << 0;
/// A header is not ASCII (`SMTPUTF8_FLAG_HEADER`).
pub const SMTPUTF8_HEADER: u32 = 1 << 1;
/// The sender is not ASCII (`SMTPUTF8_FLAG_SENDER`).
pub const SMTPUTF8_SENDER: u32 = 1 << 2;

/// Recipient records are mixed with others (`QMGR_READ_FLAG_MIXED_RCPT_OTHER`).
pub const QMGR_MIXED_RCPT_OTHER: u32 = 1 << 0;

/// Named attributes (Postfix's `MAIL_ATTR_*` names used here).
pub mod attr {
    /// Where the message came from, for log records.
    pub const LOG_ORIGIN: &str = "log_message_origin";
    /// The protocol the message came in with, for log records.
    pub const LOG_PROTO_NAME: &str = "log_protocol_name";
    /// The client's HELO name, for log records.
    pub const LOG_HELO_NAME: &str = "log_helo_name";
    /// An expiration time base, written by cleanup.
    pub const CREATE_TIME: &str = "create_time";
    /// DSN NOTIFY of a recipient.
    pub const DSN_NOTIFY: &str = "notify_flags";
    /// DSN ORCPT of a recipient.
    pub const DSN_ORCPT: &str = "dsn_orig_rcpt";
    /// The rewriting context for headers.
    pub const RWR_CONTEXT: &str = "rewrite_context";
    /// The content encoding cleanup detected.
    pub const ENCODING: &str = "encoding";
    /// Requested tracing (sendmail -v, -bv).
    pub const TRACE_FLAGS: &str = "trace_flags";
    /// The value of the encoding attribute for 8-bit content.
    pub const ENC_8BIT: &str = "8bit";
}

/// Which part of the message the next record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// Before the first record: the size record comes first (`cleanup_envelope`).
    EnvelopeStart,
    /// The envelope (`cleanup_envelope_process`).
    Envelope,
    /// After `M`: the content starts with the next record (`cleanup_message`).
    ContentStart,
    /// Headers and body (`cleanup_message_headerbody`).
    Content,
    /// After `X`: the extracted segment starts with the next record (`cleanup_extracted`).
    ExtractedStart,
    /// The extracted segment (`cleanup_extracted_process`).
    Extracted,
}

/// The duplicate recipient filter (Postfix's `been_here` with `BH_FLAG_FOLD`): keys are
/// case-folded; after `limit` keys (0: no limit) new ones are no longer remembered.
#[derive(Debug, Default)]
pub struct BeenHere {
    seen: std::collections::HashSet<String>,
    limit: usize,
}

impl BeenHere {
    /// A filter that remembers at most `limit` keys (0: all).
    pub fn new(limit: usize) -> BeenHere {
        BeenHere {
            seen: Default::default(),
            limit,
        }
    }

    /// Whether `key` was seen before; remembers it if there is room.
    pub fn been_here(&mut self, key: &str) -> bool {
        let folded = dict::casefold(key);
        let found = self.seen.contains(&folded);
        if !found && (self.limit == 0 || self.seen.len() < self.limit) {
            self.seen.insert(folded);
        }
        if log::verbose() > 0 {
            log::msg_info!("been_here: {key}: {}", i32::from(found));
        }
        found
    }
}

/// One message being processed.
pub struct State<'a, W: QueueSink> {
    /// main.cf.
    pub settings: &'a Settings,
    /// The rewriting service.
    pub rewriter: &'a mut dyn Rewrite,
    /// The queue file.
    pub dst: Output<W>,
    /// The queue ID.
    pub queue_id: String,
    /// When the queue file was made (seconds), for the Message-Id.
    pub ctime: u64,
    /// The arrival time from the `T` record: seconds, microseconds; 0 seconds: none yet.
    pub arrival_time: (i64, i64),
    /// The sender's full name.
    pub fullname: Option<String>,
    /// The envelope sender, in internal form.
    pub sender: Option<String>,
    /// The last envelope recipient, in internal form.
    pub recip: Option<String>,
    /// The original recipient of the next recipient.
    pub orig_rcpt: Option<String>,
    /// The client's flags and cleanup's own (`FLAG_*`).
    pub flags: u32,
    /// Tracing requested (`DEL_REQ_TRACE_FLAGS`).
    pub tflags: u32,
    /// Hints for the queue manager, in the size record.
    pub qmgr_opts: u32,
    /// What went wrong (`STAT_*`).
    pub errs: u32,
    /// The errors that stop processing.
    pub err_mask: u32,
    /// The known primary headers seen, one bit per [`crate::message::header_bit`].
    pub headers_seen: u64,
    /// Received: headers counted.
    pub hop_count: usize,
    /// `Resent-` once a Resent- header was seen, else empty.
    pub resent: &'static str,
    /// The duplicate recipient filter.
    pub dups: BeenHere,
    /// Where the next record goes.
    pub segment: Segment,
    /// Offset of the content (after the `M` record).
    pub data_offset: u64,
    /// Offset of the `X` record.
    pub xtra_offset: u64,
    /// Content length for the size record.
    pub cont_length: u64,
    /// Recipient records written.
    pub rcpt_count: u64,
    /// Why the message was refused, for the client.
    pub reason: Option<String>,
    /// The same as an SMTP reply.
    pub smtp_reply: Option<String>,
    /// Named attributes of the message (`nvtable`).
    pub attr: HashMap<String, String>,
    /// MIME errors found.
    pub mime_errs: MimeErrors,
    /// The context for rewriting header addresses; None: headers are not rewritten.
    pub hdr_rewrite_context: Option<&'static str>,
    /// A content filter from header/body checks.
    pub filter: Option<String>,
    /// A redirect target from header/body checks.
    pub redirect: Option<String>,
    /// DSN envelope ID.
    pub dsn_envid: Option<String>,
    /// DSN RET.
    pub dsn_ret: u32,
    /// DSN NOTIFY of the next recipient.
    pub dsn_notify: u32,
    /// DSN ORCPT of the next recipient.
    pub dsn_orcpt: Option<String>,
    /// VERP delimiters.
    pub verp_delims: Option<String>,
    /// SMTPUTF8 flags (`SMTPUTF8_*`), in the size record.
    pub smtputf8: u32,
    /// BCC recipients from header/body checks.
    pub hbc_rcpt: Vec<String>,
    /// What the tables and rules changed.
    pub decisions: Decisions,
    /// The trace log this message made (DSN SUCCESS of expanded aliases), to remove when
    /// the message is not accepted.
    pub trace_path: Option<String>,
}

impl<'a, W: QueueSink> State<'a, W> {
    /// The state of a new message written to `dst` (`cleanup_state_alloc`).
    pub fn new(
        settings: &'a Settings,
        rewriter: &'a mut dyn Rewrite,
        dst: W,
        queue_id: &str,
        ctime: u64,
    ) -> State<'a, W> {
        let mut attrs = HashMap::new();
        attrs.insert(attr::LOG_ORIGIN.to_string(), "local".to_string());
        State {
            settings,
            rewriter,
            dst: Output::new(dst, settings.size_limit),
            queue_id: queue_id.to_string(),
            ctime,
            arrival_time: (0, 0),
            fullname: None,
            sender: None,
            recip: None,
            orig_rcpt: None,
            flags: 0,
            tflags: 0,
            qmgr_opts: 0,
            errs: 0,
            err_mask: 0,
            headers_seen: 0,
            hop_count: 0,
            resent: "",
            dups: BeenHere::new(settings.dup_filter_limit),
            segment: Segment::EnvelopeStart,
            data_offset: 0,
            xtra_offset: 0,
            cont_length: 0,
            rcpt_count: 0,
            reason: None,
            smtp_reply: None,
            attr: attrs,
            mime_errs: MimeErrors::NONE,
            hdr_rewrite_context: Some(global::rewrite_clnt::RULE_LOCAL),
            filter: None,
            redirect: None,
            dsn_envid: None,
            dsn_ret: 0,
            dsn_notify: 0,
            dsn_orcpt: None,
            verp_delims: None,
            smtputf8: 0,
            hbc_rcpt: Vec::new(),
            decisions: Decisions::default(),
            trace_path: None,
        }
    }

    /// Takes the client's flags (`cleanup_control`): with "bounce bad mail" only errors
    /// that make the message incomplete stop processing, so that the rest can be bounced.
    pub fn control(&mut self, flags: u32) {
        use global::cleanup_user::{FLAG_BOUNCE, STAT_DEFER, STAT_SIZE, STAT_WRITE};
        if log::verbose() > 0 {
            log::msg_info!(
                "cleanup flags = {}",
                global::cleanup_user::cleanup_strflags(flags)
            );
        }
        self.flags = flags;
        self.err_mask = if flags & FLAG_BOUNCE != 0 {
            STAT_BAD | STAT_WRITE | STAT_SIZE | STAT_DEFER
        } else {
            !0
        };
        if flags & FLAG_SMTPUTF8 != 0 {
            self.smtputf8 = SMTPUTF8_REQUESTED;
        }
    }

    /// Whether records are still processed and written (`CLEANUP_OUT_OK`).
    pub fn out_ok(&self) -> bool {
        self.errs & self.err_mask == 0 && self.flags & FLAG_DISCARD == 0
    }

    /// A non-ASCII header: remember it, and ask for SMTPUTF8 if the client wants that
    /// detected (`cleanup_out_header`).
    pub fn note_8bit_header(&mut self) {
        self.smtputf8 |= SMTPUTF8_HEADER;
        if self.flags & global::cleanup_user::FLAG_AUTOUTF8 != 0 {
            self.smtputf8 |= SMTPUTF8_REQUESTED;
        }
    }

    /// Rejects the message as malformed, with Postfix's warning text after the queue ID.
    pub fn reject_bad(&mut self, why: std::fmt::Arguments<'_>) {
        log::msg_warn!("{}: {why}", self.queue_id);
        self.errs |= STAT_BAD;
    }

    /// A table of `title` could not be searched (about `address`, when there is one): the
    /// message is not accepted now, and the client will try again later.
    pub fn lookup_problem(&mut self, title: &str, address: Option<&str>) {
        let about = address.map(|a| format!(" for {a}")).unwrap_or_default();
        log::msg_warn!(
            "{}: {title} map lookup problem{about} -- message not accepted, try again later",
            self.queue_id
        );
        self.errs |= global::cleanup_user::STAT_WRITE;
    }

    /// The sender for log records, in `info_log_address_format`.
    pub fn logged_sender(&self) -> String {
        let sender = self.sender.as_deref().unwrap_or("");
        self.settings.addr_form.format(sender).into_owned()
    }

    /// The last recipient for log records, `unknown` when there is none yet.
    pub fn logged_recip(&self) -> String {
        let recip = self.recip.as_deref().unwrap_or("unknown");
        self.settings.addr_form.format(recip).into_owned()
    }
}

/// The state, and the MIME processor that holds it while the content is read.
pub enum Handler<'a, W: QueueSink> {
    /// Envelope and extracted segments.
    Plain(State<'a, W>),
    /// The content segment: the processor calls the state back.
    Mime(MimeState<State<'a, W>>),
    /// Only while switching between the two.
    Switching,
}

impl<'a, W: QueueSink> Handler<'a, W> {
    /// The message state.
    pub fn state(&mut self) -> &mut State<'a, W> {
        match self {
            Handler::Plain(state) => state,
            Handler::Mime(mime) => mime.sink_mut(),
            Handler::Switching => unreachable!("handler used while switching"),
        }
    }

    /// The message state, when processing is over.
    pub fn into_state(self) -> State<'a, W> {
        match self {
            Handler::Plain(state) => state,
            // A message that ended inside its content failed: what the processor still
            // holds is dropped, as in Postfix.
            Handler::Mime(mime) => mime.into_sink(),
            Handler::Switching => unreachable!("handler used while switching"),
        }
    }

    /// Processes one record from the client (`CLEANUP_RECORD`).
    pub fn record(&mut self, kind: u8, data: &mut [u8]) {
        match self.state().segment {
            Segment::EnvelopeStart => self.state().envelope_start(kind, data),
            Segment::Envelope => self.state().envelope(kind, data),
            Segment::ContentStart => {
                let Handler::Plain(state) = std::mem::replace(self, Handler::Switching) else {
                    unreachable!("content starts in the envelope")
                };
                *self = Handler::Mime(crate::message::start(state));
                self.content(kind, data);
            }
            Segment::Content => self.content(kind, data),
            Segment::ExtractedStart => {
                let state = self.state();
                state.out_str(rec_type::XTRA, "");
                state.segment = Segment::Extracted;
                state.extracted(kind, data);
            }
            Segment::Extracted => self.state().extracted(kind, data),
        }
    }

    /// A content record: text goes through the MIME processor; `X` ends the content.
    fn content(&mut self, kind: u8, data: &mut [u8]) {
        let Handler::Mime(mime) = self else {
            unreachable!("content outside the MIME processor")
        };
        if !crate::message::content(mime, kind, data) {
            return;
        }
        let Handler::Mime(mime) = std::mem::replace(self, Handler::Switching) else {
            unreachable!("content outside the MIME processor")
        };
        *self = Handler::Plain(mime.into_sink());
    }
}
