//! One message in the active queue: its envelope, read from the queue file.
//!
//! Postfix counterpart: `qmgr/qmgr_message.c` (`qmgr_message_alloc`,
//! `qmgr_message_read`). The size record gives the content's offset and length and the
//! recipient count; the sender record produces the `from=<...>, size=N, nrcpt=N (queue
//! active)` line, as Postfix's `opened()` does; each `R` record becomes a recipient that
//! remembers its offset, so that the delivery agent can mark it done in place. `D` and
//! `/` records are recipients already done. `A` records carry the client and SASL
//! attributes that the agents put in their logs.
//!
//! The recipients are read a slice at a time (`qmgr_message_realloc`): a read stops after
//! as many recipients as the caller allows and remembers where the next one is
//! (`rcpt_offset`); the next read starts there. The first read looks at every
//! non-recipient record (skipping the rest of a plain recipient list by jumping to the
//! content, whose extracted segment may hold more envelope records); later reads look
//! only at recipients. Recipients that the caller has routed leave `rcpts`, so that
//! only a slice is ever in memory.

use global::mail_queue::ACTIVE;
use global::record::{RecError, rec_attr_map, rec_get, rec_type};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom};

/// The queue file with its read position kept here, so that each record's offset costs
/// no system call (Postfix's VSTREAM knows its position the same way).
struct Tracked {
    inner: BufReader<File>,
    pos: u64,
}

impl Read for Tracked {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Tracked {
    /// Skips `count` bytes, within the buffer when it can.
    fn skip(&mut self, count: i64) -> std::io::Result<()> {
        self.inner.seek_relative(count)?;
        self.pos = self.pos.wrapping_add_signed(count);
        Ok(())
    }

    /// Goes to byte `target`.
    fn seek_to(&mut self, target: u64) -> std::io::Result<()> {
        self.pos = self.inner.seek(SeekFrom::Start(target))?;
        Ok(())
    }
}

/// The bits of a size record's flags field that may be set (`QMGR_READ_FLAG_USER`).
/// MIXED_RCPT_OTHER (1) and the four DSN NOTIFY bits shifted left by one (2, 4, 8, 16):
/// cleanup sets NOTIFY_NEVER for a BCC recipient that smtpd's access action added.
const READ_FLAG_USER: i32 = 0x1f;
/// Recipient records are mixed with other envelope records, so a read that has its
/// recipients must still look at every record (`QMGR_READ_FLAG_MIXED_RCPT_OTHER`, also
/// the assumption for a size record without flags).
const READ_FLAG_MIXED_RCPT_OTHER: i32 = 1 << 0;
/// Some recipient asked for DSN NOTIFY=SUCCESS (`QMGR_READ_FLAG_NOTIFY_SUCCESS`).
pub const READ_FLAG_NOTIFY_SUCCESS: i32 = 1 << 2;
/// The most recipients one read takes, to keep the scheduler responsive.
const READ_MAX: i64 = 5000;
/// Trace flags that the queue manager passes on (`DEL_REQ_TRACE_FLAGS_MASK`).
const TRACE_FLAGS_MASK: i32 = 1 << 8 | 1 << 9 | 1 << 10 | 1 << 13;

/// One recipient (Postfix's `RECIPIENT`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipient {
    /// Where its `R` record is, so the agent can mark it done.
    pub offset: i64,
    /// DSN ORCPT.
    pub dsn_orcpt: String,
    /// DSN NOTIFY bits.
    pub dsn_notify: i32,
    /// The address before rewriting (`O` record).
    pub orig_addr: String,
    /// The address (internal form).
    pub address: String,
}

/// The envelope of a queue file (the parts of Postfix's `QMGR_MESSAGE` read from it).
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// The queue ID.
    pub id: String,
    /// Where the content starts (the `M` record).
    pub data_offset: i64,
    /// The content's size as the size record says.
    pub data_size: i64,
    /// The message size shown in the log and sent to the agents.
    pub cont_length: i64,
    /// Recipients still to deliver, as the size record says.
    pub rcpt_unread: i32,
    /// SMTPUTF8 flags.
    pub smtputf8: i32,
    /// When the message arrived (seconds, microseconds).
    pub arrival: (i64, i64),
    /// When it entered the active queue.
    pub active: (i64, i64),
    /// When it was created (for lifetimes).
    pub create_time: i64,
    /// The envelope sender.
    pub sender: String,
    /// `encoding` attribute.
    pub encoding: String,
    /// DSN ENVID.
    pub dsn_envid: String,
    /// DSN RET.
    pub dsn_ret: i32,
    /// Trace flags (`sendmail -v`, `-bv`).
    pub tflags: i32,
    /// Where the trace flags record is, for `sendmail -v` (killed after the first
    /// report, so that a later attempt sends none).
    pub tflags_offset: i64,
    /// Content filter from the `L` record.
    pub filter_xport: Option<String>,
    /// Inspection transport from the `I` record.
    pub inspect_xport: Option<String>,
    /// Redirect address from the `>` record.
    pub redirect_addr: Option<String>,
    /// When the next delay warning is due (0: none, -1: sent).
    pub warn_time: i64,
    /// Where the `W` record is, to mark the warning sent.
    pub warn_offset: i64,
    /// The client and SASL attributes the agents log, in the delivery request's order:
    /// name, address, port, protocol, HELO, SASL method, username, sender, log ident,
    /// rewrite context.
    pub client: Client,
    /// The recipients still to deliver.
    pub rcpts: Vec<Recipient>,
    /// `postsuper -e`: return it to the sender now (from the file's mode, not its
    /// records).
    pub force_expire: bool,
    /// `postqueue -i`: revive its dead destinations (from the file's mode).
    pub unthrottle: bool,
    /// The size record's flags (`rflags`).
    pub rflags: i32,
    /// Where the next unread recipient is; 0 when all have been read.
    pub rcpt_offset: i64,
    /// Every non-recipient record has been looked at.
    seen_all_non_rcpt: bool,
    /// The sender record has been read (the sender may be empty).
    seen_sender: bool,
    /// When recipients were last read (seconds).
    pub refill_time: i64,
}

/// Who sent the message, for the agents' logs.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// Client host name.
    pub name: String,
    /// Client address.
    pub addr: String,
    /// Client port.
    pub port: String,
    /// SMTP, ESMTP...
    pub proto: String,
    /// HELO name.
    pub helo: String,
    /// SASL method.
    pub sasl_method: String,
    /// SASL user name.
    pub sasl_username: String,
    /// SASL sender.
    pub sasl_sender: String,
    /// Log ident.
    pub log_ident: String,
    /// Address rewriting context (`local` by default).
    pub rewrite_context: String,
}

/// Postfix's `%.200s`: at most 200 bytes of `text` (cut at a character boundary).
fn clip(text: &str) -> &str {
    let mut end = text.len().min(200);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// DSN notify flags as Postfix takes them: digits only, NEVER alone or any of SUCCESS,
/// FAILURE and DELAY (`DSN_NOTIFY_OK`).
fn dsn_notify(text: &str) -> Option<i32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i32 = text.parse().ok()?;
    (n == 1 || (n != 0 && n & !0xe == 0)).then_some(n)
}

/// The per-recipient records seen before the `R` record they belong to.
#[derive(Default)]
struct Pending {
    orig_rcpt: Option<String>,
    dsn_orcpt: Option<String>,
    dsn_notify: i32,
}

impl Message {
    /// Opens and reads `path` (in the active queue) as message `id`, which entered the
    /// active queue at `active`, with at most `limit` recipients; logs the `from=` line as
    /// Postfix does. Err (after a logged warning) when the file is damaged or gone: it
    /// goes to the corrupt queue; a file that cannot be opened for another reason ends
    /// qmgr with a `fatal:` line, as in Postfix. Only complete files reach here (mode u=rwx, see scan.rs), so no
    /// lock is needed.
    pub fn read(path: &str, id: &str, active: (i64, i64), limit: i64) -> Result<Message, ()> {
        let mut message = Message {
            id: id.to_string(),
            active,
            rflags: READ_FLAG_MIXED_RCPT_OTHER,
            ..Message::default()
        };
        message.read_more(path, limit)?;
        Ok(message)
    }

    /// The first read's recipient limit (`qmgr_message_read`): what the active queue has
    /// left of `qmgr_message_recipient_limit` beside the `in_memory` recipients, but at
    /// least `minimum`, and no more than one read takes.
    pub fn first_limit(qmgr_rcpt_limit: i64, in_memory: i64, minimum: i64) -> i64 {
        (qmgr_rcpt_limit - in_memory).max(minimum).min(READ_MAX)
    }

    /// A later read's recipient limit: the message's free slots, no more than one read
    /// takes.
    pub fn refill_limit(free_slots: i64) -> i64 {
        free_slots.min(READ_MAX)
    }

    /// Reads up to `limit` more recipients into `rcpts`, from where the last read
    /// stopped (`qmgr_message_realloc`). On Err the message is as it was.
    pub fn read_more(&mut self, path: &str, limit: i64) -> Result<(), ()> {
        if log::verbose() > 0 {
            log::msg_info!("{}: recipient limit {limit}", self.id);
        }
        if limit <= 0 {
            log::msg_panic!("{}: no recipient slots available", self.id);
        }
        if self.rcpt_offset != 0 && !self.rcpts.is_empty() {
            log::msg_panic!("{}: recipient list not empty on recipient reload", self.id);
        }
        // Opened for update, as Postfix's qmgr_message_open does (O_RDWR), so a file
        // qmgr may read but not write stops qmgr here too rather than later.
        let file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(file) => file,
            // A file that vanished (e.g. postsuper -d) is skipped; the caller's move to
            // corrupt/ then finds nothing to move.
            Err(e) if e.kind() == ErrorKind::NotFound => {
                log::msg_warn!("open {ACTIVE} {}: {}", self.id, sys::os_error(&e));
                return Err(());
            }
            // Any other failure (EACCES on a file of the wrong owner, EMFILE, ...) is a
            // local problem, not a damaged message: stop, as Postfix's qmgr does, and
            // leave the file in active/ for the next qmgr once the admin has fixed it.
            Err(e) => log::msg_fatal!("open {ACTIVE} {}: {}", self.id, sys::os_error(&e)),
        };
        let mut input = Tracked {
            inner: BufReader::new(file),
            pos: 0,
        };
        let (save_offset, save_unread) = (self.rcpt_offset, self.rcpt_unread);
        if self.rcpt_offset != 0 {
            if let Err(e) = input.seek_to(self.rcpt_offset as u64) {
                log::msg_fatal!("seek file {path}: {}", sys::os_error(&e));
            }
            self.rcpt_offset = 0;
        }
        let scanned = self.scan(&mut input, limit);
        if scanned.is_err() {
            self.rcpt_offset = save_offset;
            self.rcpt_unread = save_unread;
            self.rcpts.clear();
        }
        scanned
    }

    /// Reads records until `limit` recipients are in or the end record, Postfix's checks
    /// included; Err after a logged warning.
    fn scan(&mut self, input: &mut Tracked, limit: i64) -> Result<(), ()> {
        let mut buf = Vec::new();
        let mut pending = Pending::default();
        loop {
            let mut offset = input.pos as i64;
            let mut expected: &[u8] = b"MCTcFILSDRO/WVA>K<ionEDRO/PreAFIL>Kon";
            if offset == self.data_offset && offset > 0 {
                // Skip the content: only the extracted segment follows.
                input.skip(self.data_size).map_err(|_| ())?;
                offset += self.data_size;
                expected = b"X";
            }
            let kind = match rec_get(input, &mut buf, 0) {
                Ok(kind) => kind,
                Err(RecError::Eof | RecError::Bad(_)) => {
                    log::msg_warn!("{}: message rejected: missing end record", self.id);
                    return Err(());
                }
            };
            let text = String::from_utf8_lossy(&buf).into_owned();
            if log::verbose() > 1 {
                log::msg_info!("record {} {text}", kind as char);
            }
            if kind == rec_type::PTR {
                let Some(target) = text.trim().parse::<u64>().ok() else {
                    log::msg_warn!("{}: bad pointer record: {text}", self.id);
                    return Err(());
                };
                input.seek_to(target).map_err(|_| ())?;
                continue;
            }
            if !expected.contains(&kind) {
                log::msg_warn!(
                    "Unexpected record type '{}' at offset {offset}",
                    kind as char
                );
                return Err(());
            }
            if kind == rec_type::END {
                self.seen_all_non_rcpt = true;
                break;
            }
            let (kind, text) = match attr_record(kind, &text) {
                Some(mapped) => mapped,
                None => {
                    log::msg_warn!("{}: bad attribute record: {text}", self.id);
                    return Err(());
                }
            };
            match kind {
                rec_type::RCPT => {
                    // Past the slice, recipients are only skipped over.
                    if self.rcpt_offset != 0 {
                        continue;
                    }
                    self.rcpts.push(Recipient {
                        offset,
                        dsn_orcpt: pending.dsn_orcpt.take().unwrap_or_default(),
                        dsn_notify: std::mem::take(&mut pending.dsn_notify),
                        orig_addr: pending.orig_rcpt.take().unwrap_or_default(),
                        address: text,
                    });
                    self.rcpt_unread -= 1;
                    if self.rcpts.len() as i64 >= limit {
                        self.rcpt_offset = input.pos as i64;
                        if self.seen_all_non_rcpt {
                            break;
                        }
                        if self.rflags & READ_FLAG_MIXED_RCPT_OTHER != 0 {
                            continue;
                        }
                        // A plain list of recipients: past the content, nothing else
                        // follows; before it, only the extracted segment may hold more.
                        if offset > self.data_offset {
                            self.seen_all_non_rcpt = true;
                            break;
                        }
                        if let Err(e) = input.seek_to(self.data_offset as u64) {
                            log::msg_fatal!("seek file {}: {}", self.id, sys::os_error(&e));
                        }
                    }
                }
                rec_type::DONE | rec_type::DRCP => {
                    if self.rcpt_offset == 0 {
                        pending = Pending::default();
                        self.rcpt_unread -= 1;
                    }
                }
                rec_type::DSN_ORCPT | rec_type::ORCP if self.rcpt_offset != 0 => {}
                rec_type::DSN_NOTIFY if self.rcpt_offset != 0 => {}
                rec_type::DSN_ORCPT | rec_type::DSN_NOTIFY | rec_type::ORCP => {
                    self.record(kind, text, offset, &mut pending)?;
                }
                _ if self.seen_all_non_rcpt => {}
                _ => self.record(kind, text, offset, &mut pending)?,
            }
        }
        // Per-recipient records after the last recipient (Postfix words the first
        // without "address" here).
        if let Some(old) = pending.dsn_orcpt {
            log::msg_warn!(
                "{}: ignoring out-of-order DSN original recipient <{}>",
                self.id,
                clip(&old)
            );
        }
        if let Some(old) = pending.orig_rcpt {
            log::msg_warn!(
                "{}: ignoring out-of-order original recipient <{}>",
                self.id,
                clip(&old)
            );
        }
        self.refill_time = crate::scheduler::now_tv().0;
        self.defaults();
        if self.arrival.0 == 0 {
            log::msg_warn!("{}: message rejected: missing arrival time record", self.id);
        } else if !self.seen_sender {
            log::msg_warn!("{}: message rejected: missing sender record", self.id);
        } else if self.data_offset == 0 {
            log::msg_warn!("{}: message rejected: missing size record", self.id);
        } else {
            return Ok(());
        }
        Err(())
    }

    /// Takes one record into the message.
    fn record(
        &mut self,
        kind: u8,
        text: String,
        offset: i64,
        pending: &mut Pending,
    ) -> Result<(), ()> {
        match kind {
            // A per-recipient record whose recipient never came: Postfix warns and
            // drops it rather than pin it on the wrong recipient.
            rec_type::DSN_ORCPT => {
                if let Some(old) = pending.dsn_orcpt.replace(text) {
                    log::msg_warn!(
                        "{}: ignoring out-of-order DSN original recipient address <{}>",
                        self.id,
                        clip(&old)
                    );
                }
            }
            rec_type::DSN_NOTIFY => {
                if pending.dsn_notify != 0 {
                    log::msg_warn!(
                        "{}: ignoring out-of-order DSN notify flags <{}>",
                        self.id,
                        pending.dsn_notify
                    );
                    pending.dsn_notify = 0;
                }
                match dsn_notify(&text) {
                    Some(n) => pending.dsn_notify = n,
                    None => {
                        log::msg_warn!(
                            "{}: ignoring malformed DSN notify flags <{}>",
                            self.id,
                            clip(&text)
                        )
                    }
                }
            }
            rec_type::ORCP => {
                if let Some(old) = pending.orig_rcpt.replace(text) {
                    log::msg_warn!(
                        "{}: ignoring out-of-order original recipient <{}>",
                        self.id,
                        clip(&old)
                    );
                }
            }
            rec_type::SIZE => return self.size_record(&text),
            rec_type::TIME if self.arrival.0 == 0 => self.arrival = time_record(&text),
            rec_type::CTIME if self.create_time == 0 => {
                self.create_time = text.trim().parse().unwrap_or(0);
            }
            rec_type::FILT => self.filter_xport = Some(text),
            rec_type::INSP => self.inspect_xport = Some(text),
            rec_type::RDR => self.redirect_addr = Some(text),
            rec_type::FROM if !self.seen_sender => {
                self.seen_sender = true;
                self.sender = text;
                crate::opened::log(self);
            }
            rec_type::DSN_ENVID => self.dsn_envid = text,
            rec_type::DSN_RET => match text.parse::<i32>() {
                Ok(n @ 1..=2) => self.dsn_ret = n,
                _ => log::msg_warn!(
                    "{}: ignoring malformed DSN RET flags in queue file record:{text}",
                    self.id
                ),
            },
            rec_type::WARN if self.warn_offset == 0 => {
                self.warn_offset = offset;
                self.warn_time = text.trim().parse().unwrap_or(0);
            }
            rec_type::ATTR => {
                if text.starts_with("trace_flags=") {
                    self.tflags_offset = offset;
                }
                self.attribute(&text);
            }
            _ => {}
        }
        Ok(())
    }

    /// The size record: data size, data offset, recipient count, flags, content length,
    /// SMTPUTF8 flags.
    fn size_record(&mut self, text: &str) -> Result<(), ()> {
        if self.data_offset != 0 {
            return Ok(());
        }
        let fields: Vec<i64> = text
            .split_whitespace()
            .map_while(|f| f.parse().ok())
            .collect();
        if fields.len() < 3 {
            log::msg_warn!("{}: message rejected: weird size record", self.id);
            return Err(());
        }
        let field = |i: usize| fields.get(i).copied().unwrap_or(0);
        self.data_size = field(0);
        self.data_offset = field(1);
        self.rcpt_unread = field(2) as i32;
        // Without a flags field (Postfix < 2.4 files) recipients may be anywhere.
        if fields.len() >= 4 {
            self.rflags = field(3) as i32;
        }
        let rflags = self.rflags;
        self.cont_length = field(4);
        self.smtputf8 = field(5) as i32;
        if self.data_offset <= 0 || self.data_size <= 0 || self.cont_length < 0 {
            log::msg_warn!("{}: invalid size record: {text}", self.id);
            return Err(());
        }
        if rflags & !READ_FLAG_USER != 0 {
            log::msg_warn!("{}: invalid flags in size record: {text}", self.id);
            return Err(());
        }
        if self.cont_length == 0 {
            self.cont_length = self.data_size;
        }
        Ok(())
    }

    /// A named attribute: the ones the delivery request carries.
    fn attribute(&mut self, text: &str) {
        let Some((name, value)) = text.split_once('=') else {
            return;
        };
        let value = value.to_string();
        let client = &mut self.client;
        match name {
            "encoding" => self.encoding = value,
            "trace_flags" => self.tflags = value.parse::<i32>().unwrap_or(0) & TRACE_FLAGS_MASK,
            // The log_ forms win over the actual ones (they survive a content filter).
            "log_client_name" => client.name = value,
            "log_client_address" => client.addr = value,
            "log_client_port" => client.port = value,
            "log_protocol_name" => client.proto = value,
            "log_helo_name" => client.helo = value,
            "client_name" if client.name.is_empty() => client.name = value,
            "client_address" if client.addr.is_empty() => client.addr = value,
            "client_port" if client.port.is_empty() => client.port = value,
            "protocol_name" if client.proto.is_empty() => client.proto = value,
            "helo_name" if client.helo.is_empty() => client.helo = value,
            "sasl_method" => client.sasl_method = value,
            "sasl_username" => client.sasl_username = value,
            "sasl_sender" => client.sasl_sender = value,
            "log_ident" => client.log_ident = value,
            "rewrite_context" => client.rewrite_context = value,
            _ => {}
        }
    }

    /// What Postfix fills in when the file did not say.
    fn defaults(&mut self) {
        if self.client.rewrite_context.is_empty() {
            self.client.rewrite_context = "local".to_string();
        }
        if self.create_time == 0 {
            self.create_time = self.arrival.0;
        }
        if self.rcpt_unread < 0 || (self.rcpt_offset == 0 && self.rcpt_unread != 0) {
            log::msg_warn!("{}: rcpt count mismatch ({})", self.id, self.rcpt_unread);
            self.rcpt_unread = 0;
        }
    }
}

/// An attribute record whose name has a record type of its own becomes that record.
fn attr_record(kind: u8, text: &str) -> Option<(u8, String)> {
    if kind != rec_type::ATTR {
        return Some((kind, text.to_string()));
    }
    let (name, value) = text.split_once('=')?;
    if name.is_empty() {
        return None;
    }
    Some(match rec_attr_map(name) {
        Some(mapped) => (mapped, value.to_string()),
        None => (kind, text.to_string()),
    })
}

/// A `T` record: `seconds` or `seconds microseconds`.
fn time_record(text: &str) -> (i64, i64) {
    let mut fields = text
        .split_whitespace()
        .map(|f| f.parse::<i64>().unwrap_or(0));
    (fields.next().unwrap_or(0), fields.next().unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use global::record::rec_put;

    /// A queue file as cleanup writes it: the size record first, with the content's
    /// size and offset filled in once known.
    fn queue_file(envelope: &[(u8, &str)], size_fields: Option<&str>) -> Vec<u8> {
        let rcpts = envelope
            .iter()
            .filter(|(k, _)| *k == rec_type::RCPT)
            .count()
            + 1;
        queue_file_with(envelope, size_fields, rcpts, 0)
    }

    /// The same with a given recipient count and read flags in the size record.
    fn queue_file_with(
        envelope: &[(u8, &str)],
        size_fields: Option<&str>,
        rcpts: usize,
        rflags: i32,
    ) -> Vec<u8> {
        let mut head = Vec::new();
        for &(kind, data) in envelope {
            rec_put(&mut head, kind, data.as_bytes()).unwrap();
        }
        rec_put(&mut head, rec_type::MESG, b"").unwrap();
        let mut content = Vec::new();
        rec_put(&mut content, rec_type::NORM, b"Subject: test").unwrap();
        rec_put(&mut content, rec_type::NORM, b"").unwrap();
        rec_put(&mut content, rec_type::NORM, b"body").unwrap();
        let mut tail = Vec::new();
        rec_put(&mut tail, rec_type::XTRA, b"").unwrap();
        rec_put(&mut tail, rec_type::RCPT, b"late@example.com").unwrap();
        rec_put(&mut tail, rec_type::END, b"").unwrap();
        // The size record has a fixed width, so its own length is known in advance.
        let size_len = 2 + 6 * 15 + 5;
        let offset = size_len + head.len();
        let fields = size_fields.map(str::to_string).unwrap_or_else(|| {
            format!(
                "{:>15} {:>15} {:>15} {:>15} {:>15} {:>15}",
                content.len(),
                offset,
                rcpts,
                rflags,
                content.len(),
                0
            )
        });
        let mut file = Vec::new();
        rec_put(&mut file, rec_type::SIZE, fields.as_bytes()).unwrap();
        file.extend(head);
        file.extend(content);
        file.extend(tail);
        file
    }

    fn read(file: &[u8]) -> Result<Message, ()> {
        let path = write(file);
        let got = Message::read(&path, "ABC123", (2, 0), 100);
        let _ = std::fs::remove_file(&path);
        got
    }

    /// `file` in a file of its own; its path.
    fn write(file: &[u8]) -> String {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!("ironpost-qmgr-msg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!("F{n}"));
        std::fs::write(&path, file).unwrap();
        path.display().to_string()
    }

    /// The log lines of this test process from the first call on (one sink for all
    /// tests).
    fn capture() -> &'static log::Capture {
        static CAPTURE: std::sync::OnceLock<log::Capture> = std::sync::OnceLock::new();
        CAPTURE.get_or_init(|| {
            let capture = log::Capture::default();
            log::add_sink(Box::new(capture.clone()));
            capture
        })
    }

    /// A file that vanished from active/ is skipped with Postfix's warning (queue name
    /// and ID, not a path); any other open failure is fatal, which the e2e test
    /// t-57-triage-faults checks, as it ends the process.
    #[test]
    fn vanished_file_is_a_warning() {
        let capture = capture();
        let path = write(b"");
        std::fs::remove_file(&path).unwrap();
        assert!(Message::read(&path, "GONE123", (2, 0), 100).is_err());
        let line = "warning: open active GONE123: No such file or directory";
        let lines = capture.lines();
        assert!(lines.iter().any(|l| l == line), "{lines:?}");
    }

    fn addresses(message: &Message) -> Vec<&str> {
        message.rcpts.iter().map(|r| r.address.as_str()).collect()
    }

    /// The warnings reading `file` as message `id` logs.
    fn warnings_of(id: &str, file: &[u8]) -> Vec<String> {
        let capture = capture();
        let path = write(file);
        let _ = Message::read(&path, id, (2, 0), 100);
        let _ = std::fs::remove_file(&path);
        capture
            .lines()
            .into_iter()
            .filter(|l| l.starts_with(&format!("warning: {id}: ")))
            .collect()
    }

    #[test]
    fn out_of_order_recipient_records_are_dropped_with_postfix_warnings() {
        // Two original recipients, two DSN records of each kind, for one recipient: the
        // earlier of each pair is dropped; the later goes with the recipient.
        let envelope = [
            (rec_type::TIME, "1700000000"),
            (rec_type::FROM, "sender@example.com"),
            (rec_type::ORCP, "first@example.com"),
            (rec_type::ORCP, "second@example.com"),
            (rec_type::DSN_ORCPT, "rfc822;one@example.com"),
            (rec_type::DSN_ORCPT, "rfc822;two@example.com"),
            (rec_type::DSN_NOTIFY, "2"),
            (rec_type::DSN_NOTIFY, "4"),
            (rec_type::RCPT, "a@example.com"),
            // Left over at the end: nothing follows them but the content.
            (rec_type::ORCP, "stray@example.com"),
            (rec_type::DSN_ORCPT, "rfc822;stray@example.com"),
        ];
        let file = queue_file(&envelope, None);
        assert_eq!(
            warnings_of("OOO1", &file),
            [
                "warning: OOO1: ignoring out-of-order original recipient <first@example.com>",
                "warning: OOO1: ignoring out-of-order DSN original recipient address <rfc822;one@example.com>",
                "warning: OOO1: ignoring out-of-order DSN notify flags <2>",
            ]
        );
        let message = read(&file).unwrap();
        assert_eq!(message.rcpts[0].orig_addr, "second@example.com");
        assert_eq!(message.rcpts[0].dsn_orcpt, "rfc822;two@example.com");
        assert_eq!(message.rcpts[0].dsn_notify, 4);
        // The strays went with the next recipient, late@example.com (in the extracted
        // segment); only strays after the last recipient are warned about at the end.
        let mut tail_only = queue_file(&envelope[..9], None);
        let end = tail_only.len() - 2;
        let mut strays = Vec::new();
        rec_put(&mut strays, rec_type::ORCP, &[b'x'; 250]).unwrap();
        rec_put(&mut strays, rec_type::DSN_ORCPT, b"rfc822;y@example.com").unwrap();
        tail_only.splice(end..end, strays);
        let warnings = warnings_of("OOO2", &tail_only);
        assert_eq!(
            warnings[3..],
            [
                "warning: OOO2: ignoring out-of-order DSN original recipient <rfc822;y@example.com>".to_string(),
                format!(
                    "warning: OOO2: ignoring out-of-order original recipient <{}>",
                    "x".repeat(200)
                ),
            ]
        );
    }

    #[test]
    fn dsn_notify_flags_as_postfix_takes_them() {
        assert_eq!(dsn_notify("1"), Some(1));
        assert_eq!(dsn_notify("14"), Some(14));
        assert_eq!(dsn_notify("3"), None);
        assert_eq!(dsn_notify("0"), None);
        assert_eq!(dsn_notify("+2"), None);
        assert_eq!(dsn_notify(""), None);
    }

    #[test]
    fn recipients_are_read_a_slice_at_a_time() {
        let envelope = [
            (rec_type::TIME, "1700000000"),
            (rec_type::FROM, "sender@example.com"),
            (rec_type::RCPT, "a@example.com"),
            (rec_type::ORCP, "C@example.com"),
            (rec_type::RCPT, "c@example.com"),
            (rec_type::RCPT, "d@example.com"),
            (rec_type::DONE, "e@example.com"),
            (rec_type::RCPT, "f@example.com"),
        ];
        let file = queue_file_with(&envelope, None, 6, 0);
        let path = write(&file);
        let mut message = Message::read(&path, "ABC123", (2, 0), 2).unwrap();
        assert_eq!(addresses(&message), ["a@example.com", "c@example.com"]);
        assert_eq!(message.rcpts[1].orig_addr, "C@example.com");
        // The next read starts at d; the size record's count, less those read.
        assert_eq!(file[message.rcpt_offset as usize], rec_type::RCPT);
        assert_eq!(message.rcpt_unread, 4);
        // The first read went on to the extracted segment for the other records, and
        // saw no recipient there.
        assert!(message.seen_all_non_rcpt);
        message.rcpts.clear();
        message.read_more(&path, 2).unwrap();
        // A done recipient takes no slot.
        assert_eq!(addresses(&message), ["d@example.com", "f@example.com"]);
        assert_eq!(message.rcpt_unread, 1);
        assert_ne!(message.rcpt_offset, 0);
        message.rcpts.clear();
        message.read_more(&path, 2).unwrap();
        // The last one is past the content.
        assert_eq!(addresses(&message), ["late@example.com"]);
        assert_eq!((message.rcpt_offset, message.rcpt_unread), (0, 0));
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn mixed_records_are_all_read_before_the_first_slice_is_used() {
        let envelope = [
            (rec_type::TIME, "1700000000"),
            (rec_type::RCPT, "a@example.com"),
            (rec_type::RCPT, "b@example.com"),
            (rec_type::FROM, "sender@example.com"),
        ];
        let file = queue_file_with(&envelope, None, 3, READ_FLAG_MIXED_RCPT_OTHER);
        let path = write(&file);
        // The sender comes after the slice: the read goes on for it.
        let mut message = Message::read(&path, "ABC123", (2, 0), 1).unwrap();
        assert_eq!(message.sender, "sender@example.com");
        assert_eq!(addresses(&message), ["a@example.com"]);
        message.rcpts.clear();
        message.read_more(&path, 5).unwrap();
        assert_eq!(addresses(&message), ["b@example.com", "late@example.com"]);
        // A damaged file leaves the message as it was.
        let mut damaged = Message::read(&path, "ABC123", (2, 0), 1).unwrap();
        damaged.rcpts.clear();
        std::fs::write(&path, &file[..file.len() - 3]).unwrap();
        let before = (damaged.rcpt_offset, damaged.rcpt_unread);
        assert!(damaged.read_more(&path, 5).is_err());
        assert_eq!((damaged.rcpt_offset, damaged.rcpt_unread), before);
        assert!(damaged.rcpts.is_empty());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn slice_sizes() {
        // The first read: what is left of the active queue's limit, at least the
        // minimum, at most 5000.
        assert_eq!(Message::first_limit(20000, 0, 10), 5000);
        assert_eq!(Message::first_limit(100, 30, 10), 70);
        assert_eq!(Message::first_limit(100, 95, 10), 10);
        assert_eq!(Message::first_limit(100, 300, 10), 10);
        // Later reads: the free slots, at most 5000.
        assert_eq!(Message::refill_limit(60), 60);
        assert_eq!(Message::refill_limit(20010), 5000);
    }

    #[test]
    fn envelope_recipients_and_offsets() {
        let envelope = [
            (rec_type::TIME, "1700000000 5"),
            (rec_type::ATTR, "log_client_name=client.example"),
            (rec_type::FROM, "sender@example.com"),
            (rec_type::ORCP, "Orig@example.com"),
            (rec_type::ATTR, "notify_flags=2"),
            (rec_type::RCPT, "one@example.com"),
            (rec_type::DONE, "gone@example.com"),
        ];
        let file = queue_file(&envelope, None);
        let message = read(&file).unwrap();
        assert_eq!(message.sender, "sender@example.com");
        assert_eq!(message.arrival, (1700000000, 5));
        assert_eq!(message.client.name, "client.example");
        assert_eq!(message.client.rewrite_context, "local");
        let rcpts: Vec<&str> = message.rcpts.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(rcpts, ["one@example.com", "late@example.com"]);
        let first = &message.rcpts[0];
        assert_eq!(
            (first.orig_addr.as_str(), first.dsn_notify),
            ("Orig@example.com", 2)
        );
        // The offset is where the R record starts, for the agent to mark it done.
        assert_eq!(file[first.offset as usize], rec_type::RCPT);
        assert_eq!(message.rcpt_unread, 0);
    }

    #[test]
    fn damaged_files_are_refused() {
        let no_sender = [(rec_type::TIME, "1700000000")];
        assert!(read(&queue_file(&no_sender, None)).is_err());
        let weird = [(rec_type::TIME, "1"), (rec_type::FROM, "s@example.com")];
        assert!(read(&queue_file(&weird, Some("12"))).is_err());
        let mut truncated = queue_file(&weird, None);
        truncated.truncate(truncated.len() - 3);
        assert!(read(&truncated).is_err());
    }

    #[test]
    fn attribute_records_map_to_their_types() {
        assert_eq!(
            attr_record(rec_type::ATTR, "dsn_orig_rcpt=rfc822;a@b"),
            Some((rec_type::DSN_ORCPT, "rfc822;a@b".to_string()))
        );
        assert_eq!(attr_record(rec_type::ATTR, "=x"), None);
        assert_eq!(time_record("1700000000 123456"), (1700000000, 123456));
        assert_eq!(time_record("1700000000"), (1700000000, 0));
    }
}
