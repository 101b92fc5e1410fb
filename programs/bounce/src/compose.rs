//! Composing a notice: what the original queue file says about the message, and the
//! MIME parts of an RFC 3464 delivery status notification.
//!
//! Postfix counterpart: `bounce/bounce_notify_util.c`. A notice is `multipart/report;
//! report-type=delivery-status` with three parts: the template's text and one
//! human-readable line per recipient (`text/plain`); the machine-readable report
//! (`message/delivery-status`, or `message/global-delivery-status` when the original
//! asked for SMTPUTF8) with the per-message fields (Reporting-MTA, X-Postfix-Queue-ID,
//! X-Postfix-Sender, Arrival-Date) and per-recipient fields (Final-Recipient,
//! Original-Recipient, Action, Status, Remote-MTA, Diagnostic-Code, Will-Retry-Until);
//! and the original message (`message/rfc822`) or its headers only
//! (`text/rfc822-headers`; `message/global` and `message/global-headers` with SMTPUTF8),
//! as the DSN RET parameter, the notice kind and bounce_size_limit decide.

use crate::log_file::{Dsn, Recipient};
use crate::post::{Notice, SMTPUTF8_REQUESTED};
use crate::settings::Settings;
use crate::template::{Class, Template};
use global::queue_read::{self, Got, RecStream};
use global::record::rec_type;
use std::fs::File;
use std::io::{BufReader, SeekFrom};
use util::line_wrap::line_wrap;

/// Return the whole message (`DSN_RET_FULL`).
pub const RET_FULL: i32 = 1 << 0;
/// Return the headers only (`DSN_RET_HDRS`).
pub const RET_HDRS: i32 = 1 << 1;

/// Lines of the human-readable report are wrapped at this width...
const WRAP_LENGTH: usize = 79;
/// ...with continuation lines indented this much.
const WRAP_INDENT: usize = 4;

/// What a notice is about (`BOUNCE_INFO`).
pub struct Info {
    /// The queue ID of the original.
    pub queue_id: String,
    /// SMTPUTF8 flags of the original.
    pub smtputf8: i32,
    /// The transfer encoding of the notice: 8bit, 7bit or unknown (None).
    pub mime_encoding: Option<&'static str>,
    /// DSN ENVID of the original.
    pub dsn_envid: String,
    /// The MIME boundary, `QUEUEID.TIME/myhostname`.
    pub boundary: String,
    /// The entries of the log, or None when there is no log.
    pub entries: Option<Vec<(Recipient, Dsn)>>,
    /// The original queue file, when it could be opened.
    pub orig: Option<RecStream<BufReader<File>>>,
    /// The original sender, quoted as Postfix quotes it here: a backslash before each
    /// 8-bit byte, so not always UTF-8 (MAILER-DAEMON@$myhostname for the null sender).
    pub sender: Vec<u8>,
    /// Arrival time of the original (0: unknown).
    pub arrival_time: i64,
    /// Where the content starts in the queue file (0: unknown).
    pub orig_offs: u64,
    /// The content size from the size record.
    pub message_size: i64,
    /// The original's Message-ID, for threaded notices.
    pub orig_msgid: String,
}

impl Info {
    /// Reads what a notice needs from the original queue file `queue_name/queue_id`
    /// (`bounce_mail_alloc`). A missing original is no error (the notice says it is
    /// unavailable); an unreadable one is fatal, so the request is tried again later.
    pub fn new(
        settings: &Settings,
        queue_name: &str,
        queue_id: &str,
        encoding: &str,
        smtputf8: i32,
        dsn_envid: &str,
        entries: Option<Vec<(Recipient, Dsn)>>,
    ) -> Info {
        let mime_encoding = if settings.smtputf8_enable || encoding == "8bit" {
            Some("8bit")
        } else if encoding == "7bit" {
            Some("7bit")
        } else {
            if !encoding.is_empty() {
                log::msg_warn!("{queue_id}: unknown encoding: {encoding:.200}");
            }
            None
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut info = Info {
            queue_id: queue_id.to_string(),
            smtputf8,
            mime_encoding,
            dsn_envid: dsn_envid.to_string(),
            boundary: format!("{queue_id}.{now}/{}", settings.myhostname),
            entries,
            orig: None,
            sender: Vec::new(),
            arrival_time: 0,
            orig_offs: 0,
            message_size: 0,
            orig_msgid: String::new(),
        };
        let path = settings.layout.path(queue_name, queue_id);
        let file = match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
        {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return info,
            Err(e) => log::msg_fatal!("open {queue_name} {queue_id}: {}", sys::os_error(&e)),
        };
        // A shared lock keeps a restarted queue manager away from the file meanwhile.
        if let Err(e) = file.try_lock_shared() {
            let e: std::io::Error = match e {
                std::fs::TryLockError::Error(e) => e,
                std::fs::TryLockError::WouldBlock => {
                    std::io::Error::from_raw_os_error(sys::libc::EWOULDBLOCK)
                }
            };
            log::msg_fatal!("cannot get shared lock on {path}: {}", sys::os_error(&e));
        }
        let mut input = RecStream::new(BufReader::new(file), &path);
        info.read_envelope(settings, &mut input);
        info.orig = Some(input);
        info
    }

    /// The envelope records a notice uses, and the Message-ID for threaded notices.
    fn read_envelope(&mut self, settings: &Settings, input: &mut RecStream<BufReader<File>>) {
        let threaded = settings.threaded;
        let mut buf = Vec::new();
        let mut prev = 0u8;
        let mut all_headers_seen = false;
        let mut skip_message = false;
        let mut in_envelope = true;
        while let Got::Rec(kind) = input.get_raw(&mut buf, 0, queue_read::DEFAULT) {
            let text = String::from_utf8_lossy(&buf);
            match kind {
                rec_type::SIZE => {
                    if self.message_size == 0 {
                        let mut fields = text.split_whitespace();
                        self.message_size = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
                        self.orig_offs = fields.next().and_then(|f| f.parse().ok()).unwrap_or(0);
                    }
                    self.message_size = self.message_size.max(0);
                }
                rec_type::TIME if self.arrival_time == 0 => {
                    self.arrival_time = queue_read::atol(&buf).max(0);
                }
                rec_type::FROM => {
                    // The null sender is shown as Postfix's mail_addr_mail_daemon().
                    let daemon = format!("MAILER-DAEMON@{}", settings.myhostname);
                    let sender = if buf.is_empty() {
                        daemon.as_bytes()
                    } else {
                        &buf
                    };
                    rfc822::quote::quote_822_local_bytes(
                        &mut self.sender,
                        sender,
                        rfc822::quote::QuoteFlags::NONE,
                    );
                }
                rec_type::MESG => {
                    if self.sender.is_empty() {
                        log::msg_warn!(
                            "{}: no sender before message content record",
                            self.queue_id
                        );
                    }
                    self.orig_offs = input.offset();
                    if threaded {
                        in_envelope = false;
                    } else {
                        skip_message = true;
                    }
                }
                rec_type::NORM | rec_type::CONT if !in_envelope => {
                    if !threaded || all_headers_seen || prev == rec_type::CONT {
                        // Nothing to learn here.
                    } else if rfc822::mime::header_opts::is_header(&buf) > 0 {
                        let is_msgid = rfc822::mime::header_opts::header_info(&buf)
                            .is_some_and(|h| h.kind == rfc822::mime::HeaderType::MessageId);
                        if is_msgid {
                            let value = text
                                .split_once(':')
                                .map_or("", |(_, v)| v)
                                .trim_matches([' ', '\t', '\r', '\n']);
                            if value.starts_with('<') && value.ends_with('>') {
                                self.orig_msgid = value.to_string();
                            } else {
                                log::msg_warn!("{}: ignoring malformed Message-ID", self.queue_id);
                            }
                        }
                    } else if buf.first().is_some_and(u8::is_ascii_whitespace) {
                        // The rest of a header.
                    } else {
                        all_headers_seen = true;
                        skip_message = true;
                    }
                }
                rec_type::XTRA => {
                    if self.orig_msgid.is_empty() && threaded {
                        all_headers_seen = true;
                    }
                    in_envelope = true;
                }
                _ => {}
            }
            if self.orig_offs > 0
                && self.arrival_time > 0
                && !self.sender.is_empty()
                && (!threaded || all_headers_seen || !self.orig_msgid.is_empty())
            {
                break;
            }
            if skip_message {
                let _ = input.seek(SeekFrom::Start(
                    self.orig_offs + self.message_size.max(0) as u64,
                ));
                skip_message = false;
            }
            prev = kind;
        }
    }
}

/// Whether a notice is the postmaster's copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copy {
    /// To the sender (or the report's requester).
    Sender,
    /// To the postmaster.
    Postmaster,
}

fn not_7bit(info: &Info) -> bool {
    info.mime_encoding
        .is_some_and(|e| !e.eq_ignore_ascii_case("7bit"))
}

/// The notice headers and the first part's MIME header (`bounce_header`).
pub fn header(
    out: &mut dyn Notice,
    settings: &Settings,
    info: &Info,
    template: &mut Template,
    dest: &str,
    copy: Copy,
) {
    let quoted = rfc822::quote::quote_822_local(dest, rfc822::quote::QuoteFlags::DEFAULT);
    for line in template.headers(settings.std_from, &quoted, copy == Copy::Postmaster) {
        out.line(&line);
    }
    if !info.orig_msgid.is_empty() {
        out.line(&format!("References: {}", info.orig_msgid));
        out.line(&format!("In-Reply-To: {}", info.orig_msgid));
    }
    out.line(&format!(
        "Auto-Submitted: {}",
        if copy == Copy::Postmaster {
            "auto-generated"
        } else {
            "auto-replied"
        }
    ));
    out.line("MIME-Version: 1.0");
    out.line("Content-Type: multipart/report; report-type=delivery-status;");
    out.line(&format!("\tboundary=\"{}\"", info.boundary));
    if let Some(encoding) = info.mime_encoding {
        let shown = if encoding.eq_ignore_ascii_case("7bit") {
            template.encoding()
        } else {
            encoding
        };
        out.line(&format!("Content-Transfer-Encoding: {shown}"));
    }
    out.line("");
    out.line("This is a MIME-encapsulated message.");
    out.line("");
    out.line(&format!("--{}", info.boundary));
    out.line("Content-Description: Notification");
    let charset = template.charset().to_string();
    let charset = if !charset.eq_ignore_ascii_case("us-ascii") {
        charset
    } else if not_7bit(info) {
        "utf-8".to_string()
    } else {
        "us-ascii".to_string()
    };
    out.line(&format!("Content-Type: text/plain; charset={charset}"));
    if not_7bit(info) {
        out.line(&format!(
            "Content-Transfer-Encoding: {}",
            info.mime_encoding.unwrap_or_default()
        ));
    }
    out.line("");
}

/// The template's text (`bounce_boilerplate`).
pub fn boilerplate(
    out: &mut dyn Notice,
    settings: &Settings,
    config: &params::Config,
    template: &mut Template,
) {
    for line in template.expand(settings, config) {
        out.line(&line);
    }
}

fn print_wrap(out: &mut dyn Notice, text: &str) {
    for line in line_wrap(text, WRAP_LENGTH, WRAP_INDENT) {
        out.line(&line);
    }
}

/// One recipient's human-readable line (`bounce_recipient_log`).
pub fn recipient_log(out: &mut dyn Notice, rcpt: &Recipient, dsn: &Dsn) {
    out.line("");
    if rcpt.orig_addr.is_empty() {
        print_wrap(out, &format!("<{}>: {}", rcpt.address, dsn.reason));
    } else {
        print_wrap(
            out,
            &format!(
                "<{}> (expanded from <{}>): {}",
                rcpt.address, rcpt.orig_addr, dsn.reason
            ),
        );
    }
}

/// Whether an entry goes into a notice that reports the recipients with `filter` in
/// their NOTIFY (recipients without NOTIFY always do).
fn wanted(rcpt: &Recipient, filter: i32) -> bool {
    rcpt.dsn_notify == 0 || rcpt.dsn_notify & filter != 0
}

/// The human-readable report (`bounce_diagnostic_log`): how many recipients it names.
/// Without a log a non-delivery notice says so and counts as one.
pub fn diagnostic_log(out: &mut dyn Notice, info: &Info, class: Class, filter: i32) -> usize {
    match &info.entries {
        None => {
            if class == Class::Failure {
                out.line("");
                out.line("\t--- Delivery report unavailable ---");
                1
            } else {
                0
            }
        }
        Some(entries) => {
            let mut count = 0;
            for (rcpt, dsn) in entries.iter().filter(|(r, _)| wanted(r, filter)) {
                count += 1;
                recipient_log(out, rcpt, dsn);
            }
            count
        }
    }
}

/// The saved SMTP session transcripts of the message (global::transcript), one
/// `Session transcript: PATH` line each after the recipients' lines, in the postmaster's
/// copies only: an ironpost addition, without Postfix counterpart. A transcript holds the
/// other party's words and a local path means nothing to a sender, so the sender's notice
/// never names one; the postmaster reads it where the notice says (`posttrace -t` also
/// finds it). Nothing is written when no transcript was saved, so the notice is Postfix's.
pub fn transcripts(out: &mut dyn Notice, paths: &[String]) {
    if paths.is_empty() {
        return;
    }
    out.line("");
    for path in paths {
        out.line(&format!("Session transcript: {path}"));
    }
}

/// Whether `address` is UTF-8 that is not ASCII (the "utf-8" address type).
fn is_utf8_address(address: &str) -> bool {
    !address.is_empty() && !address.is_ascii()
}

/// The report part's MIME header and per-message fields (`bounce_header_dsn`).
pub fn header_dsn(out: &mut dyn Notice, settings: &Settings, info: &Info) {
    let global = info.smtputf8 & SMTPUTF8_REQUESTED != 0;
    out.line("");
    out.line(&format!("--{}", info.boundary));
    out.line("Content-Description: Delivery report");
    out.line(&format!(
        "Content-Type: message/{}delivery-status",
        if global { "global-" } else { "" }
    ));
    if not_7bit(info) && global {
        out.line(&format!(
            "Content-Transfer-Encoding: {}",
            info.mime_encoding.unwrap_or_default()
        ));
    }
    out.line("");
    out.line(&format!("Reporting-MTA: dns; {}", settings.myhostname));
    if !info.dsn_envid.is_empty() {
        out.line(&format!("Original-Envelope-Id: {}", info.dsn_envid));
    }
    out.line(&format!(
        "X-{}-Queue-ID: {}",
        settings.mail_name, info.queue_id
    ));
    if !info.sender.is_empty() {
        let utf8 = std::str::from_utf8(&info.sender).is_ok_and(is_utf8_address);
        let kind = if info.smtputf8 != 0 && utf8 {
            "utf-8"
        } else {
            "rfc822"
        };
        let mut line = format!("X-{}-Sender: {kind}; ", settings.mail_name).into_bytes();
        line.extend_from_slice(&info.sender);
        out.record(rec_type::NORM, &line);
    }
    if info.arrival_time > 0 {
        out.line(&format!(
            "Arrival-Date: {}",
            global::mail_date::mail_date(info.arrival_time)
        ));
    }
}

/// One recipient's fields (`bounce_recipient_dsn`).
pub fn recipient_dsn(
    out: &mut dyn Notice,
    settings: &Settings,
    info: &Info,
    class: Class,
    rcpt: &Recipient,
    dsn: &Dsn,
) {
    let kind = |address: &str| {
        if info.smtputf8 != 0 && is_utf8_address(address) {
            "utf-8"
        } else {
            "rfc822"
        }
    };
    out.line("");
    out.line(&format!(
        "Final-Recipient: {}; {}",
        kind(&rcpt.address),
        rcpt.address
    ));
    // Postfix always reports the original recipient, from ORCPT or its own record.
    if !rcpt.dsn_orcpt.is_empty() {
        out.line(&format!("Original-Recipient: {}", rcpt.dsn_orcpt));
    } else if !rcpt.orig_addr.is_empty() {
        out.line(&format!(
            "Original-Recipient: {}; {}",
            kind(&rcpt.orig_addr),
            rcpt.orig_addr
        ));
    }
    let action = if class == Class::Failure {
        "failed"
    } else {
        &dsn.action
    };
    out.line(&format!("Action: {action}"));
    out.line(&format!("Status: {}", dsn.status));
    if !dsn.mtype.is_empty() && !dsn.mname.is_empty() {
        print_wrap(out, &format!("Remote-MTA: {}; {}", dsn.mtype, dsn.mname));
    }
    if !dsn.dtype.is_empty() && !dsn.dtext.is_empty() {
        print_wrap(
            out,
            &format!("Diagnostic-Code: {}; {}", dsn.dtype, dsn.dtext),
        );
    } else {
        print_wrap(
            out,
            &format!("Diagnostic-Code: X-{}; {}", settings.mail_name, dsn.reason),
        );
    }
    if class == Class::Delay {
        out.line(&format!(
            "Will-Retry-Until: {}",
            global::mail_date::mail_date(info.arrival_time + settings.max_queue_time)
        ));
    }
}

/// The machine-readable report (`bounce_diagnostic_dsn`): how many recipients it names.
pub fn diagnostic_dsn(
    out: &mut dyn Notice,
    settings: &Settings,
    info: &Info,
    class: Class,
    filter: i32,
) -> usize {
    match &info.entries {
        None => usize::from(class == Class::Failure),
        Some(entries) => {
            let mut count = 0;
            for (rcpt, dsn) in entries.iter().filter(|(r, _)| wanted(r, filter)) {
                count += 1;
                recipient_dsn(out, settings, info, class, rcpt, dsn);
            }
            count
        }
    }
}

/// The original message, whole or its headers, and the final boundary
/// (`bounce_original`).
pub fn original(
    out: &mut dyn Notice,
    settings: &Settings,
    info: &mut Info,
    class: Class,
    mut ret: i32,
) {
    // A large message is returned as headers only, so its MIME structure stays whole.
    if settings.size_limit > 0
        && info.orig.is_some()
        && (info.message_size <= 0 || info.message_size > settings.size_limit)
    {
        ret = RET_HDRS;
    }
    let headers_only = ret == RET_HDRS;
    let undelivered = matches!(class, Class::Failure | Class::Delay);
    out.line("");
    out.line(&format!("--{}", info.boundary));
    out.line(&format!(
        "Content-Description: {}{}",
        if undelivered { "Undelivered " } else { "" },
        if headers_only {
            "Message Headers"
        } else {
            "Message"
        }
    ));
    let content_type = match (info.smtputf8 & SMTPUTF8_REQUESTED != 0, headers_only) {
        (true, true) => "message/global-headers",
        (true, false) => "message/global",
        (false, true) => "text/rfc822-headers",
        (false, false) => "message/rfc822",
    };
    out.line(&format!("Content-Type: {content_type}"));
    if not_7bit(info) {
        out.line(&format!(
            "Content-Transfer-Encoding: {}",
            info.mime_encoding.unwrap_or_default()
        ));
    }
    out.line("");
    let offset = info.orig_offs;
    let positioned = match &mut info.orig {
        Some(input) if offset > 0 => input.seek(SeekFrom::Start(offset)).is_ok(),
        _ => false,
    };
    let Some(input) = info.orig.as_mut().filter(|_| positioned) else {
        out.line("\t--- Undelivered message unavailable ---");
        return;
    };
    // Cleanup removed any Return-Path: when the message arrived; header checks in the
    // notice's path work better with one.
    let mut return_path = b"Return-Path: <".to_vec();
    return_path.extend_from_slice(&info.sender);
    return_path.push(b'>');
    out.record(rec_type::NORM, &return_path);
    let mut buf = Vec::new();
    while let Got::Rec(kind) = input.get_raw(&mut buf, 0, queue_read::DEFAULT) {
        if kind != rec_type::NORM && kind != rec_type::CONT {
            break;
        }
        // Each record is tested, the pieces of a long line too, as Postfix does.
        if headers_only {
            let is_header = buf.first().is_some_and(|&b| b == b' ' || b == b'\t')
                || rfc822::mime::header_opts::is_header(&buf) > 0;
            if !is_header {
                break;
            }
        }
        out.record(kind, &buf);
        if out.failed() {
            break;
        }
    }
    out.line("");
    out.line(&format!("--{}--", info.boundary));
}

/// Marks the recipients of the log done in the original queue file (`bounce_delrcpt`).
pub fn delrcpt(info: &mut Info) {
    let Some(input) = info.orig.as_mut() else {
        return;
    };
    let Some(entries) = &info.entries else {
        return;
    };
    let path = input.path.clone();
    for (rcpt, _) in entries {
        if rcpt.offset > 0 {
            global::deliver_completed::deliver_completed(
                input.inner_mut().get_ref(),
                &path,
                rcpt.offset,
            );
        }
    }
}
