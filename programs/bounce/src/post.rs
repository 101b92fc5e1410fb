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
//! The connection and the envelope are global::cleanup_clnt's, as for every mail source.

use crate::settings::Settings;
use global::cleanup_clnt::{CleanupStream, OpenError};
use global::record::rec_type;

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
    stream: CleanupStream,
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
        let mut flags = settings.cleanup_flags;
        if smtputf8 & SMTPUTF8_REQUESTED != 0 {
            flags |= global::cleanup_user::FLAG_SMTPUTF8;
        }
        let post = global::cleanup_clnt::Post {
            service: &settings.cleanup_service,
            ipc_timeout: settings.ipc_timeout,
            flags,
            sender,
            recipient,
            trace_flags: 0,
            myhostname: &settings.myhostname,
            mail_name: &settings.mail_name_raw,
        };
        match post.open() {
            Ok(stream) => {
                let id = stream.queue_id.clone();
                Some((Post { stream }, id))
            }
            Err(OpenError::Connect(why)) => {
                log::msg_warn!("{why}");
                None
            }
            Err(OpenError::Protocol(why)) => log::msg_fatal!("{why}"),
        }
    }

    /// Ends the notice and returns cleanup's status, 0 for success
    /// (`post_mail_fclose`).
    pub fn close(self) -> u32 {
        self.stream.finish(&[]).0
    }
}

impl Notice for Post {
    fn record(&mut self, kind: u8, data: &[u8]) {
        self.stream.record(kind, data);
    }

    fn failed(&self) -> bool {
        self.stream.failed()
    }
}
