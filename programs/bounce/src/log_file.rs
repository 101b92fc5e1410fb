//! The per-message logs in the bounce/, defer/ and trace/ queue directories: appending
//! a recipient's status, and reading the entries back for a notice.
//!
//! Postfix counterparts: `bounce/bounce_append_service.c` (the writer) and
//! `global/bounce_log.c` (the reader, which showq uses too). An entry is a blank line,
//! optionally the old `<recipient>: reason` line (backwards_bounce_logfile_compatibility),
//! then `name=value` lines (recipient, original_recipient, offset, dsn_orig_rcpt,
//! notify_flags, status, action, diag_type/diag_text, mta_type/mta_mname, reason) and a
//! blank line. The format is Postfix's byte for byte, so that Postfix's bounce, showq and
//! postcat read our logs and we read theirs. The file is locked while it is appended to
//! and fsynced before the client hears success; a failed write is truncated back.

use global::queue_read;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;

/// One recipient as the protocol and the logs carry it (Postfix's `RECIPIENT`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipient {
    /// The address as delivered.
    pub address: String,
    /// The address before rewriting and expansion; empty if the same.
    pub orig_addr: String,
    /// Where its record is in the queue file (0: none).
    pub offset: i64,
    /// The DSN ORCPT value.
    pub dsn_orcpt: String,
    /// DSN NOTIFY bits (0: none given).
    pub dsn_notify: i32,
}

/// A delivery status (Postfix's `DSN`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dsn {
    /// The enhanced status code.
    pub status: String,
    /// The DSN action (failed, delayed, delivered, deliverable...).
    pub action: String,
    /// The text.
    pub reason: String,
    /// Diagnostic type (smtp...), with the text below.
    pub dtype: String,
    /// Diagnostic text (the remote server's reply).
    pub dtext: String,
    /// Remote MTA type (dns...), with the name below.
    pub mtype: String,
    /// Remote MTA name.
    pub mname: String,
}

/// DSN NOTIFY bits (Postfix's `DSN_NOTIFY_*`).
pub mod notify {
    /// NOTIFY=FAILURE.
    pub const FAILURE: i32 = 1 << 2;
    /// NOTIFY=DELAY.
    pub const DELAY: i32 = 1 << 3;
    /// Every recipient, whatever it asked for (postmaster copies and reports).
    pub const OVERRIDE: i32 = 0xffff;
}

/// The path of `queue_id`'s log in `service`'s queue directory.
pub fn path(layout: &global::mail_queue::Layout, service: &str, queue_id: &str) -> String {
    layout.path(service, queue_id)
}

/// Appends one entry (`bounce_append_service`). Any failure is fatal, as in Postfix:
/// the client then sees a broken connection and keeps the recipient for later.
pub fn append(
    path: &str,
    oldlog_compat: bool,
    service: &str,
    queue_id: &str,
    rcpt: &Recipient,
    dsn: &Dsn,
) {
    let open = || {
        OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
    };
    // A hashed queue's subdirectory may not exist yet (mail_queue_open).
    let mut file = match open() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let _ = global::mail_queue::mkdirs(path);
            open()
        }
        other => other,
    }
    .unwrap_or_else(|e| log::msg_fatal!("open file {service} {queue_id}: {}", sys::os_error(&e)));
    // The reader of a defer log (showq, the bounce service itself) takes the same lock.
    if let Err(e) = file.lock() {
        log::msg_fatal!("lock file {service} {queue_id}: {}", sys::os_error(&e));
    }
    let orig_length = file.seek(SeekFrom::End(0)).unwrap_or_else(|e| {
        log::msg_fatal!("seek file {service} {queue_id}: {}", sys::os_error(&e))
    });
    let entry = format_entry(oldlog_compat, rcpt, dsn);
    let written = file
        .write_all(entry.as_bytes())
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        if let Err(e) = file.set_len(orig_length) {
            log::msg_fatal!("truncate file {service} {queue_id}: {}", sys::os_error(&e));
        }
        log::msg_fatal!("append file {service} {queue_id}: {}", sys::os_error(&e));
    }
}

/// The text of one entry.
pub fn format_entry(oldlog_compat: bool, rcpt: &Recipient, dsn: &Dsn) -> String {
    let quote = |a: &str| rfc822::quote::quote_822_local(a, rfc822::quote::QuoteFlags::DEFAULT);
    let mut out = String::from("\n");
    if oldlog_compat {
        let shown = if rcpt.address.is_empty() {
            String::new()
        } else {
            quote(&rcpt.address)
        };
        out.push_str(&format!("<{shown}>: {}\n", dsn.reason));
    }
    let recipient = if rcpt.address.is_empty() {
        "<>".to_string()
    } else {
        quote(&rcpt.address)
    };
    out.push_str(&format!("recipient={recipient}\n"));
    if !rcpt.orig_addr.is_empty() && !util_eq_caseless(&rcpt.address, &rcpt.orig_addr) {
        out.push_str(&format!("original_recipient={}\n", quote(&rcpt.orig_addr)));
    }
    if rcpt.offset > 0 {
        out.push_str(&format!("offset={}\n", rcpt.offset));
    }
    if !rcpt.dsn_orcpt.is_empty() {
        out.push_str(&format!("dsn_orig_rcpt={}\n", rcpt.dsn_orcpt));
    }
    if rcpt.dsn_notify != 0 {
        out.push_str(&format!("notify_flags={}\n", rcpt.dsn_notify));
    }
    let mut field = |name: &str, value: &str| {
        if !value.is_empty() {
            out.push_str(&format!("{name}={value}\n"));
        }
    };
    field("status", &dsn.status);
    field("action", &dsn.action);
    if !dsn.dtype.is_empty() && !dsn.dtext.is_empty() {
        field("diag_type", &dsn.dtype);
        field("diag_text", &dsn.dtext);
    }
    if !dsn.mtype.is_empty() && !dsn.mname.is_empty() {
        field("mta_type", &dsn.mtype);
        field("mta_mname", &dsn.mname);
    }
    field("reason", &dsn.reason);
    out.push('\n');
    out
}

/// Postfix's `strcasecmp_utf8` for the original-recipient test: the same address in
/// another case is not worth a line.
fn util_eq_caseless(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

/// An open log being read (`BOUNCE_LOG`).
pub struct LogReader<R> {
    input: R,
    /// Its name in warnings (the queue path).
    name: String,
    /// Status and action for an old-style entry, which has neither.
    compat_status: &'static str,
    compat_action: &'static str,
    /// Whether UTF-8 text is printable (smtputf8_enable, Postfix's util_utf8_enable).
    utf8: bool,
}

impl LogReader<BufReader<File>> {
    /// Opens `service`'s log of `queue_id`; Ok(None) when there is none.
    pub fn open(
        layout: &global::mail_queue::Layout,
        service: &str,
        queue_id: &str,
        utf8: bool,
    ) -> std::io::Result<Option<Self>> {
        let path = path(layout, service, queue_id);
        match File::open(&path) {
            Ok(file) => Ok(Some(LogReader::new(
                BufReader::new(file),
                &path,
                service,
                utf8,
            ))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl<R: BufRead + Seek> LogReader<R> {
    /// A reader of `input`, a log of `service`.
    pub fn new(input: R, name: &str, service: &str, utf8: bool) -> Self {
        let (compat_status, compat_action) = if service == global::mail_queue::DEFER {
            ("4.0.0", "delayed")
        } else {
            ("5.0.0", "failed")
        };
        LogReader {
            input,
            name: name.to_string(),
            compat_status,
            compat_action,
            utf8,
        }
    }

    /// The next entry, with Postfix's place holders for what it lacks; None at the end.
    /// Control and non-ASCII characters show as '?' (a log is later mailed and piped).
    pub fn read(&mut self) -> Option<(Recipient, Dsn)> {
        let mut rcpt = Recipient::default();
        let mut dsn = Dsn::default();
        let mut found = false;
        let mut raw = Vec::new();
        loop {
            raw.clear();
            match self.input.read_until(b'\n', &mut raw) {
                Ok(0) | Err(_) => {
                    // An entry cut short at the end of the file is not an entry.
                    return None;
                }
                Ok(_) => {}
            }
            if raw.last() == Some(&b'\n') {
                raw.pop();
            }
            if raw.is_empty() {
                if found {
                    break;
                }
                continue;
            }
            let line = masked(&raw, self.utf8);
            found = true;
            if line.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                self.attribute(&line, &mut rcpt, &mut dsn);
                continue;
            }
            // An old-style entry: "<recipient>: text".
            let Some(rest) = line.strip_prefix('<') else {
                log::msg_warn!("{}: malformed record: {:.30}...", self.name, line);
                continue;
            };
            let Some((recipient, text)) = rest.split_once(">: ") else {
                log::msg_warn!("{}: malformed record: {:.30}...", self.name, line);
                continue;
            };
            rcpt.address = if recipient.is_empty() {
                "(MAILER-DAEMON)".to_string()
            } else {
                recipient.to_string()
            };
            dsn.reason = text.trim_start().to_string();
        }
        let fill = |field: &mut String, value: &str| {
            if field.is_empty() {
                *field = value.to_string();
            }
        };
        fill(&mut rcpt.address, "(recipient address unavailable)");
        fill(&mut dsn.status, self.compat_status);
        fill(&mut dsn.action, self.compat_action);
        fill(&mut dsn.reason, "(description unavailable)");
        Some((rcpt, dsn))
    }

    /// One `name=value` line of a new-style entry.
    fn attribute(&self, line: &str, rcpt: &mut Recipient, dsn: &mut Dsn) {
        let (name, value) = match util::name_value::split(line) {
            Ok(pair) => pair,
            Err(why) => {
                log::msg_warn!("{}: malformed record: {why}", self.name);
                return;
            }
        };
        let or_daemon = |v: &str| {
            if v.is_empty() {
                "(MAILER-DAEMON)".to_string()
            } else {
                v.to_string()
            }
        };
        match name {
            "recipient" => rcpt.address = or_daemon(value),
            "original_recipient" => rcpt.orig_addr = or_daemon(value),
            "dsn_orig_rcpt" => rcpt.dsn_orcpt = value.to_string(),
            "notify_flags" => {
                let flags = queue_read::atol(value.as_bytes()) as i32;
                if flags > 0 && global::dsn_mask::notify_ok(flags as u32) {
                    rcpt.dsn_notify = flags;
                }
            }
            "offset" => {
                let offset = queue_read::atol(value.as_bytes());
                if offset > 0 {
                    rcpt.offset = offset;
                }
            }
            "status" => dsn.status = value.to_string(),
            "action" => dsn.action = value.to_string(),
            "diag_type" => dsn.dtype = value.to_string(),
            "diag_text" => dsn.dtext = value.to_string(),
            "mta_type" => dsn.mtype = value.to_string(),
            "mta_mname" => dsn.mname = value.to_string(),
            "reason" => dsn.reason = value.to_string(),
            _ => log::msg_warn!("{}: unknown attribute name: {name}, ignored", self.name),
        }
    }
}

/// A log line with what is not printable shown as '?' (Postfix's `printable`).
fn masked(raw: &[u8], utf8: bool) -> String {
    match std::str::from_utf8(raw) {
        Ok(text) => util::printable::printable(text, utf8).into_owned(),
        Err(_) => raw
            .iter()
            .map(|&b| {
                if b == b' ' || b.is_ascii_graphic() {
                    b as char
                } else {
                    '?'
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn reader(text: &str, service: &str) -> LogReader<Cursor<Vec<u8>>> {
        LogReader::new(
            Cursor::new(text.as_bytes().to_vec()),
            "defer/X",
            service,
            false,
        )
    }

    /// An entry in the layout of those Postfix 3.7's bounce service writes (see
    /// golden/requests/append.ref, which tests/requests.rs compares whole).
    const POSTFIX_ENTRY: &str = "\n<nobody@vmail.e2e.test>: user unknown\nrecipient=nobody@vmail.e2e.test\noffset=287\nstatus=5.0.0\naction=failed\nreason=user unknown\n\n";

    #[test]
    fn entry_format_is_postfixs() {
        let rcpt = Recipient {
            address: "nobody@vmail.e2e.test".into(),
            orig_addr: "Nobody@vmail.e2e.test".into(),
            offset: 287,
            ..Default::default()
        };
        let dsn = Dsn {
            status: "5.0.0".into(),
            action: "failed".into(),
            reason: "user unknown".into(),
            ..Default::default()
        };
        assert_eq!(format_entry(true, &rcpt, &dsn), POSTFIX_ENTRY);
        let bare = format_entry(false, &rcpt, &dsn);
        assert!(!bare.contains('<'));
    }

    #[test]
    fn entries_read_back() {
        let text = format!(
            "{POSTFIX_ENTRY}\nrecipient=b@x\noriginal_recipient=a@x\ndsn_orig_rcpt=rfc822;a@x\nnotify_flags=4\nstatus=5.1.1\naction=failed\ndiag_type=smtp\ndiag_text=550 no\nmta_type=dns\nmta_mname=mx.x\nreason=host said\n\n"
        );
        let mut log = reader(&text, "bounce");
        let (r, d) = log.read().unwrap();
        assert_eq!(r.address, "nobody@vmail.e2e.test");
        assert_eq!(r.offset, 287);
        assert_eq!(d.reason, "user unknown");
        let (r, d) = log.read().unwrap();
        assert_eq!(r.orig_addr, "a@x");
        assert_eq!(r.dsn_orcpt, "rfc822;a@x");
        assert_eq!(r.dsn_notify, notify::FAILURE);
        assert_eq!((d.dtype.as_str(), d.dtext.as_str()), ("smtp", "550 no"));
        assert_eq!((d.mtype.as_str(), d.mname.as_str()), ("dns", "mx.x"));
        assert!(log.read().is_none());
    }

    #[test]
    fn old_style_entries_get_the_logs_default_status() {
        let mut log = reader("<a@x>: it failed\n\n", "defer");
        let (r, d) = log.read().unwrap();
        assert_eq!(r.address, "a@x");
        assert_eq!(d.reason, "it failed");
        assert_eq!((d.status.as_str(), d.action.as_str()), ("4.0.0", "delayed"));
        let mut log = reader("<>: x\n\nrecipient=\n\n", "bounce");
        let (r, d) = log.read().unwrap();
        assert_eq!(r.address, "(MAILER-DAEMON)");
        assert_eq!((d.status.as_str(), d.action.as_str()), ("5.0.0", "failed"));
        let (r, d) = log.read().unwrap();
        assert_eq!(r.address, "(MAILER-DAEMON)");
        assert_eq!(d.reason, "(description unavailable)");
    }

    #[test]
    fn control_characters_are_masked() {
        let mut log = reader("recipient=a@x\nreason=bad\tthing \u{e9}\n\n", "bounce");
        let (_, d) = log.read().unwrap();
        assert_eq!(d.reason, "bad?thing ??");
    }
}
