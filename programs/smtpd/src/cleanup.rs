//! The queue file being written: smtpd's connection to the cleanup service.
//!
//! Postfix counterparts: `global/mail_stream.c` (`mail_stream_service()`,
//! `mail_stream_finish()`) and the record writing of `mail_open_stream()`, `rcpt_cmd()`
//! and `data_cmd()` in `smtpd/smtpd.c`. Cleanup announces itself with the queue id; smtpd
//! sends the request flags, then the envelope, content and end records as the client
//! sends them (never a whole message in memory), and reads cleanup's status after the
//! end record: 0 means the queue file is complete and synced. A write error is kept and
//! reported as Postfix's `CLEANUP_STAT_WRITE` at the end. Dropping the stream without
//! finishing it makes cleanup discard the file.

use global::cleanup_user::STAT_WRITE;
use global::record::{rec_put, rec_type};
use ipc::{Attrs, Flavor, mail_attr};
use std::io::{BufReader, BufWriter, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// A connection to cleanup with a queue file behind it.
pub struct CleanupStream {
    writer: BufWriter<UnixStream>,
    reader: BufReader<UnixStream>,
    /// The queue id cleanup gave.
    pub queue_id: String,
    failed: bool,
}

impl CleanupStream {
    /// Connects to `public/SERVICE`, waiting for it as Postfix does, and sends `flags`.
    /// None when cleanup does not speak its protocol.
    pub fn open(service: &str, ipc_timeout: Duration, flags: u32) -> Option<CleanupStream> {
        let stream = global::mail_connect::connect_wait("public", service, ipc_timeout);
        let writer = stream.try_clone().ok()?;
        let mut reader = BufReader::new(stream);
        let hello = ipc::attr::read(&mut reader, Flavor::Null).ok()??;
        if hello.get_str(mail_attr::PROTO) != Ok(mail_attr::PROTO_CLEANUP) {
            return None;
        }
        let queue_id = hello.get_str(mail_attr::QUEUEID).ok()?.to_string();
        let mut writer = BufWriter::new(writer);
        let request = Attrs::new().int(mail_attr::FLAGS, flags as i32);
        ipc::attr::write(&mut writer, Flavor::Null, &request).ok()?;
        writer.flush().ok()?;
        Some(CleanupStream {
            writer,
            reader,
            queue_id,
            failed: false,
        })
    }

    /// Writes one record (a failure is remembered for [`finish`](Self::finish)).
    pub fn record(&mut self, kind: u8, data: &[u8]) {
        if !self.failed && rec_put(&mut self.writer, kind, data).is_err() {
            self.failed = true;
        }
    }

    /// Writes a `name=value` attribute record.
    pub fn attr(&mut self, name: &str, value: &[u8]) {
        let mut data = format!("{name}=").into_bytes();
        data.extend_from_slice(value);
        self.record(rec_type::ATTR, &data);
    }

    /// Sends what is buffered (after each recipient, as Postfix flushes).
    pub fn flush(&mut self) {
        if !self.failed && self.writer.flush().is_err() {
            self.failed = true;
        }
    }

    /// Ends the message with `extra` records (what access actions asked for) in the
    /// extracted segment, and waits for cleanup's verdict: the status (`CLEANUP_STAT_*`)
    /// and its reason, if any.
    pub fn finish(mut self, extra: &[(u8, Vec<u8>)]) -> (u32, String) {
        self.record(rec_type::XTRA, b"");
        for (kind, data) in extra {
            self.record(*kind, data);
        }
        self.record(rec_type::END, b"");
        self.flush();
        if self.failed {
            return (STAT_WRITE, String::new());
        }
        match ipc::attr::read(&mut self.reader, Flavor::Null) {
            Ok(Some(reply)) => match reply.get_int(mail_attr::STATUS) {
                Some(status) => (
                    status as u32,
                    String::from_utf8_lossy(reply.get_bytes(mail_attr::WHY).unwrap_or_default())
                        .into_owned(),
                ),
                None => (STAT_WRITE, String::new()),
            },
            _ => (STAT_WRITE, String::new()),
        }
    }
}

/// The reply to a message that cleanup did not queue (`status` non-zero), as Postfix's
/// `data_cmd()` words it: cleanup's own SMTP reply when it gave one, else the text of the
/// most severe problem.
pub fn refused_reply(status: u32, why: &str) -> String {
    use global::cleanup_user::{STAT_BAD, STAT_CONT, STAT_DEFER, cleanup_stat_detail};
    let is_smtp_reply = why.len() >= 3
        && matches!(why.as_bytes()[0], b'4' | b'5')
        && why.as_bytes()[1..3].iter().all(u8::is_ascii_digit);
    if is_smtp_reply {
        return why.to_string();
    }
    let detail = cleanup_stat_detail(status);
    let with_reason = detail.status & (STAT_DEFER | STAT_CONT) != 0 && !why.is_empty();
    if with_reason {
        format!("{} {why}", detail.smtp)
    } else if detail.status == STAT_BAD || detail.status == 0 {
        let bad = cleanup_stat_detail(STAT_BAD);
        format!("{} {} Error: internal error {status}", bad.smtp, bad.dsn)
    } else {
        format!("{} {} Error: {}", detail.smtp, detail.dsn, detail.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use global::cleanup_user::{STAT_CONT, STAT_SIZE};

    #[test]
    fn replies_for_refused_messages() {
        assert_eq!(
            refused_reply(STAT_SIZE, ""),
            "552 5.3.4 Error: message file too big"
        );
        assert_eq!(
            refused_reply(STAT_CONT, "550 5.7.1 no spam"),
            "550 5.7.1 no spam"
        );
        assert_eq!(
            refused_reply(STAT_CONT, "5.7.1 no spam"),
            "550 5.7.1 no spam"
        );
        assert_eq!(
            refused_reply(1 << 20, ""),
            "451 4.3.0 Error: internal error 1048576"
        );
    }
}
