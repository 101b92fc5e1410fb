//! Posting a notice through the cleanup service.
//!
//! Postfix counterpart: `global/post_mail.c` (`post_mail_fopen_nowait`,
//! `post_mail_fprintf`, `post_mail_fclose`). The notice goes to cleanup as mail made
//! inside the system: cleanup's queue ID is read first, then the flags
//! (`CLEANUP_FLAG_MASK_INTERNAL`, content inspection per internal_mail_filter_classes,
//! SMTPUTF8 when the bounced mail asked for it), then a minimal envelope (time,
//! `log_message_origin=local`, `trace_flags=0`, sender, one recipient), a `Received:`
//! and `Date:` header, the content as the composer writes it, and the end records.
//! Cleanup adds what else a message needs (Message-Id:, full addresses) and answers a
//! status. A notice that is given up before its end records is discarded by cleanup.
//! The connection protocol is the one pickup (programs/pickup) speaks to cleanup, with
//! global's cleanup_user flags and record writer.

use crate::settings::Settings;
use global::record::{rec_put, rec_type};
use ipc::{Attrs, Flavor, mail_attr};
use std::io::{BufReader, BufWriter, Write};
use std::os::unix::net::UnixStream;

/// Where a notice's text goes: the cleanup service, or a test's record list.
pub trait Notice {
    /// One complete line of content (a `N` record).
    fn line(&mut self, text: &str) {
        self.record(rec_type::NORM, text.as_bytes());
    }
    /// One record as it is (a copy of the original message keeps its `L` records).
    fn record(&mut self, kind: u8, data: &[u8]);
    /// Whether a write failed.
    fn failed(&self) -> bool;
}

/// A notice on its way to cleanup.
pub struct Post {
    out: BufWriter<UnixStream>,
    input: BufReader<UnixStream>,
    failed: bool,
}

/// SMTPUTF8 requested by the original (`SMTPUTF8_FLAG_REQUESTED`).
pub const SMTPUTF8_REQUESTED: i32 = 1 << 0;

impl Post {
    /// Connects to cleanup and sends the envelope and first headers
    /// (`post_mail_fopen_nowait`); None after a logged warning when cleanup cannot be
    /// reached. Also returns the new queue ID.
    pub fn open(
        settings: &Settings,
        sender: &str,
        recipient: &str,
        smtputf8: i32,
    ) -> Option<(Post, String)> {
        let service = &settings.cleanup_service;
        let stream = match global::mail_connect::connect("public", service, settings.ipc_timeout) {
            Ok(stream) => stream,
            Err(e) => {
                log::msg_warn!("connect to public/{service}: {}", sys::os_error(&e));
                return None;
            }
        };
        let unable = || -> ! { log::msg_fatal!("unable to contact the {service} service") };
        let reading = stream.try_clone().unwrap_or_else(|_| unable());
        let mut input = BufReader::new(reading);
        let id = match ipc::attr::read(&mut input, Flavor::Null) {
            Ok(Some(hello)) if hello.get_str(mail_attr::PROTO) == Ok(mail_attr::PROTO_CLEANUP) => {
                hello
                    .get_str(mail_attr::QUEUEID)
                    .map(str::to_string)
                    .unwrap_or_else(|_| unable())
            }
            _ => unable(),
        };
        let mut flags = settings.cleanup_flags;
        if smtputf8 & SMTPUTF8_REQUESTED != 0 {
            flags |= global::cleanup_user::FLAG_SMTPUTF8;
        }
        let mut out = BufWriter::new(stream);
        if ipc::attr::write(
            &mut out,
            Flavor::Null,
            &Attrs::new().int(mail_attr::FLAGS, flags as i32),
        )
        .is_err()
        {
            unable();
        }
        let mut post = Post {
            out,
            input,
            failed: false,
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let date = global::mail_date::mail_date(now.as_secs() as i64);
        let time = format!("{} {}", now.as_secs(), now.subsec_micros());
        post.record(rec_type::TIME, time.as_bytes());
        post.record(rec_type::ATTR, b"log_message_origin=local");
        post.record(
            rec_type::ATTR,
            format!("{}=0", mail_attr::TRACE_FLAGS).as_bytes(),
        );
        post.record(rec_type::FROM, sender.as_bytes());
        post.record(rec_type::RCPT, recipient.as_bytes());
        post.record(rec_type::MESG, b"");
        post.line(&format!(
            "Received: by {} ({})",
            settings.myhostname, settings.mail_name_raw
        ));
        post.line(&format!("\tid {id}; {date}"));
        post.line(&format!("Date: {date}"));
        Some((post, id))
    }

    /// Ends the notice and returns cleanup's status, 0 for success
    /// (`post_mail_fclose`).
    pub fn close(mut self) -> u32 {
        if self.failed {
            return global::cleanup_user::STAT_WRITE;
        }
        self.record(rec_type::XTRA, b"");
        self.record(rec_type::END, b"");
        if self.failed || self.out.flush().is_err() {
            return global::cleanup_user::STAT_WRITE;
        }
        match ipc::attr::read(&mut self.input, Flavor::Null) {
            Ok(Some(reply)) => reply
                .get_int(mail_attr::STATUS)
                .map_or(global::cleanup_user::STAT_WRITE, |s| s as u32),
            _ => global::cleanup_user::STAT_WRITE,
        }
    }
}

impl Notice for Post {
    fn record(&mut self, kind: u8, data: &[u8]) {
        if !self.failed && rec_put(&mut self.out, kind, data).is_err() {
            self.failed = true;
        }
    }

    fn failed(&self) -> bool {
        self.failed
    }
}
