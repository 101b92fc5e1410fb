//! The message content on its way to the server: read from the queue file, through the
//! MIME processor when the message must be downgraded to 7 bits or checked or its
//! header addresses rewritten, dot-stuffed, long lines broken.
//!
//! Postfix counterparts: the content part of `smtp_loop()` and `smtp_text_out()`,
//! `smtp_header_out()`, `smtp_header_rewrite()`, `smtp_body_rewrite()` and
//! `smtp_hbc_logger()` in `smtp/smtp_proto.c`. smtp_header_checks (with its MIME and
//! nested twins) and smtp_body_checks run through `global::header_body_checks`, with
//! the actions a delivery agent can carry out; smtp_generic_maps rewrites the addresses
//! of the message's own sender and recipient headers after the header checks (see
//! generic.rs). Without downgrading or checks the MIME processor only splits headers
//! from body (`MIME_OPT_DISABLE_MIME`), so attachments are left alone.

use crate::chat::Except;
use crate::proto::Session;
use crate::state::{Fail, State};
use global::header_body_checks::{Callbacks, Outcome, clip};
use global::record::rec_type;
use rfc822::mime::{HeaderClass, HeaderInfo, MimeOptions, MimeSink, MimeState, RecType};
use std::io::{BufReader, Seek, SeekFrom};

/// How sending the content failed.
pub enum ContentError {
    /// The connection: the session is over.
    Net(Except),
    /// The queue file, the MIME processor or a table: the status after the failure.
    Corrupt(i32),
    /// A header or body check table could not be read (`SMTP_ERR_DATA`).
    Data,
}

/// Whether the message must be downgraded to 7 bits for this server
/// (`SMTP_MIME_DOWNGRADE()`).
pub fn downgrading(state: &State, session: &Session) -> bool {
    !state.settings.disable_mime_oconv
        && session.features & crate::proto::feature::EIGHTBITMIME == 0
        && state.request.encoding != "7bit"
}

/// The message from the queue file, as it goes on the wire.
pub fn send_content(state: &mut State, session: &mut Session) -> Result<(), ContentError> {
    let settings = state.settings;
    let limit = settings.smtp_line_limit;
    let mut file = state.request.file();
    if let Err(e) = file.seek(SeekFrom::Start(state.request.data_offset as u64)) {
        log::msg_fatal!("seek queue file: {}", sys::os_error(&e));
    }
    let mut input = BufReader::new(file);
    let mut buf = Vec::new();
    let mut prev_type = 0u8;
    let queue_id = state.request.queue_id.clone();
    let downgrade = downgrading(state, session);
    let any_checks = settings.header_checks.is_some() || settings.body_checks.is_some();
    // Generic maps alone do not make the client look inside MIME parts.
    let mut mime = (downgrade || any_checks || settings.generic.is_some()).then(|| {
        let options = if downgrade {
            MimeOptions::DOWNGRADE | MimeOptions::REPORT_NESTING
        } else if !any_checks {
            MimeOptions::DISABLE_MIME
        } else {
            MimeOptions::NONE
        };
        MimeState::new(
            options,
            settings.mime_limits,
            Rewrite {
                wire: Wire::new(limit, &queue_id),
                settings,
                error: false,
            },
        )
    });
    let mut plain = Wire::new(limit, &queue_id);
    let kind = loop {
        let kind: u8 = global::record::rec_get(&mut input, &mut buf, 0).unwrap_or_default();
        if kind != rec_type::NORM && kind != rec_type::CONT {
            break kind;
        }
        let wire = match &mut mime {
            Some(mime) => {
                let rec = if kind == rec_type::NORM {
                    RecType::Norm
                } else {
                    RecType::Cont
                };
                mime.update(rec, &buf);
                if mime.sink().error {
                    return Err(ContentError::Data);
                }
                &mut mime.sink_mut().wire
            }
            None => {
                plain.text(kind, &buf);
                &mut plain
            }
        };
        session.chat.content(&wire.out).map_err(ContentError::Net)?;
        wire.out.clear();
        prev_type = kind;
    };
    if let Some(mut mime) = mime {
        let errors = mime.update(RecType::NonText, b"");
        if mime.sink().error {
            return Err(ContentError::Data);
        }
        session
            .chat
            .content(&mime.sink().wire.out)
            .map_err(ContentError::Net)?;
        if let Some(detail) = errors.detail() {
            // smtp_mime_fail(): the session is left in DATA and dropped.
            return Err(message_fail(state, session, detail.dsn, detail.text));
        }
        prev_type = 0;
    }
    if prev_type == rec_type::CONT {
        session.chat.content(b"\r\n").map_err(ContentError::Net)?;
    }
    if kind != rec_type::XTRA {
        log::msg_warn!(
            "{}: bad record type: {} in message content",
            state.request.queue_id,
            kind
        );
        return Err(message_fail(
            state,
            session,
            "5.3.0",
            "unreadable mail queue entry",
        ));
    }
    Ok(())
}

/// The message cannot go out whole: the recipients left fail with `dsn` and `text`
/// (`smtp_mesg_fail()`), and the session, stuck in DATA, is dropped.
fn message_fail(state: &mut State, session: &mut Session, dsn: &str, text: &str) -> ContentError {
    session.broken = true;
    let relay = session.namaddrport.clone();
    let status = state.misc_fail(
        Fail::Message,
        Some(&relay),
        None,
        &crate::chat::Resp::fake(dsn),
        text.to_string(),
    );
    ContentError::Corrupt(status)
}

/// The MIME processor's sink: header and body checks and generic maps, then the wire
/// (`smtp_header_rewrite()`, `smtp_body_rewrite()`).
struct Rewrite<'a> {
    wire: Wire,
    settings: &'a crate::settings::Settings,
    /// A check table could not be read: nothing more goes out.
    error: bool,
}

/// The checks' logging and PREPEND (`smtp_hbc_logger()`, and `smtp_text_out()` as the
/// prepend call-back).
impl Callbacks for Rewrite<'_> {
    fn log(&mut self, action: &str, place: &str, content: &str, text: &str) {
        let queue_id = &self.wire.queue_id;
        let content = clip(content, 60);
        if text.is_empty() {
            log::msg_info!("{queue_id}: {action}: {place} {content}");
        } else {
            log::msg_info!("{queue_id}: {action}: {place} {content}: {text}");
        }
    }

    fn can_prepend(&self) -> bool {
        true
    }

    fn prepend(&mut self, text: &str) {
        self.wire
            .text(rec_type::NORM, &util::eight_bit::to_bytes(text));
    }
}

impl MimeSink for Rewrite<'_> {
    fn header(
        &mut self,
        class: HeaderClass,
        info: Option<&'static HeaderInfo>,
        text: &mut Vec<u8>,
        _offset: u64,
    ) {
        if self.error {
            return;
        }
        let settings = self.settings;
        if let Some(checks) = &settings.header_checks {
            match checks.check(class, info, text, self) {
                Outcome::Keep => {}
                Outcome::Ignore => return,
                Outcome::Replace(new) => *text = util::eight_bit::to_bytes(&new).into_owned(),
                Outcome::Error => {
                    log::msg_warn!("{}: smtp header checks lookup error", self.wire.queue_id);
                    self.error = true;
                    return;
                }
            }
        }
        if let (Some(generic), Some(info), HeaderClass::Primary) = (&settings.generic, info, class)
            && let Some(new) = generic.header(info, text)
        {
            *text = new;
        }
        self.wire.header(class, info, text, 0);
    }

    fn body(&mut self, rec: RecType, text: &[u8], offset: u64) {
        if self.error {
            return;
        }
        let settings = self.settings;
        let Some(checks) = &settings.body_checks else {
            return self.wire.body(rec, text, offset);
        };
        match checks.check(text, self) {
            Outcome::Keep => self.wire.body(rec, text, offset),
            Outcome::Ignore => {}
            Outcome::Replace(new) => self
                .wire
                .body(rec, &util::eight_bit::to_bytes(&new), offset),
            Outcome::Error => {
                log::msg_warn!("{}: smtp body checks lookup error", self.wire.queue_id);
                self.error = true;
            }
        }
    }
}

/// Message content on its way to the wire: dot-stuffed, long lines broken; also the
/// MIME processor's sink when nothing is checked (`smtp_header_out()`, `smtp_text_out()`).
struct Wire {
    out: Vec<u8>,
    limit: usize,
    space_left: usize,
    queue_id: String,
    /// The line break was logged (`logged_line_length_limit`).
    logged_break: bool,
}

impl Wire {
    fn new(limit: usize, queue_id: &str) -> Wire {
        Wire {
            out: Vec::new(),
            limit,
            space_left: limit,
            queue_id: queue_id.to_string(),
            logged_break: false,
        }
    }

    fn text(&mut self, kind: u8, text: &[u8]) {
        if text_out(&mut self.out, kind, text, self.limit, &mut self.space_left)
            && !self.logged_break
        {
            log::msg_info!(
                "{}: breaking line > {} bytes with <CR><LF>SPACE",
                self.queue_id,
                self.limit
            );
            self.logged_break = true;
        }
    }
}

impl MimeSink for Wire {
    fn header(
        &mut self,
        _class: HeaderClass,
        _info: Option<&'static HeaderInfo>,
        text: &mut Vec<u8>,
        _offset: u64,
    ) {
        for line in text.split(|&b| b == b'\n') {
            self.text(rec_type::NORM, line);
        }
    }

    fn body(&mut self, rec: RecType, text: &[u8], _offset: u64) {
        let kind = if rec == RecType::Cont {
            rec_type::CONT
        } else {
            rec_type::NORM
        };
        self.text(kind, text);
    }
}

/// One record of content as it goes on the wire; whether a line was broken.
fn text_out(
    out: &mut Vec<u8>,
    kind: u8,
    text: &[u8],
    limit: usize,
    space_left: &mut usize,
) -> bool {
    let mut data = text;
    let mut broke = false;
    loop {
        if *space_left == limit && data.first() == Some(&b'.') {
            out.push(b'.');
        }
        if limit > 0 && data.len() >= *space_left {
            out.extend_from_slice(&data[..*space_left]);
            out.extend_from_slice(b"\r\n");
            data = &data[*space_left..];
            *space_left = limit;
            if !data.is_empty() || kind == rec_type::CONT {
                out.push(b' ');
                *space_left -= 1;
                broke = true;
            }
            if data.is_empty() {
                break;
            }
        } else {
            out.extend_from_slice(data);
            if kind == rec_type::CONT {
                *space_left -= data.len();
            } else {
                out.extend_from_slice(b"\r\n");
                *space_left = limit;
            }
            break;
        }
    }
    broke
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(records: &[(u8, &str)], limit: usize) -> String {
        let mut out = Vec::new();
        let mut space = limit;
        for (kind, text) in records {
            text_out(&mut out, *kind, text.as_bytes(), limit, &mut space);
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn dots_are_stuffed_and_long_lines_broken() {
        let n = rec_type::NORM;
        assert_eq!(
            wire(&[(n, ".x"), (n, "a.b"), (n, "")], 998),
            "..x\r\na.b\r\n\r\n"
        );
        assert_eq!(wire(&[(n, "abcdefgh")], 5), "abcde\r\n fgh\r\n");
        let c = rec_type::CONT;
        assert_eq!(wire(&[(c, "abc"), (n, "de")], 998), "abcde\r\n");
    }
}
