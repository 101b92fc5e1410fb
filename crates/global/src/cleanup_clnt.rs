//! A message on its way into the queue: the client side of the cleanup service, and the
//! envelope of mail that the mail system makes itself.
//!
//! Postfix counterparts: `global/mail_stream.c` (`mail_stream_service`,
//! `mail_stream_finish`) and `global/post_mail.c` (`post_mail_fopen`,
//! `post_mail_fclose`). The service (`public/$cleanup_service_name`) announces
//! `protocol=cleanup_protocol` with the new file's queue ID; the client sends its
//! `flags`, then the message as records (envelope, `M`, content, `X`, extracted records,
//! `E`), and reads `status` and `reason`. Every mail source uses this one client: smtpd,
//! pickup, the bounce service's notices, the verify service's probes and the local
//! agent's forwarding.

use crate::cleanup_user::STAT_WRITE;
use crate::record::{rec_put, rec_type};
use ipc::{Attrs, Flavor, mail_attr};
use std::io::{BufReader, BufWriter, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// How to reach the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connect {
    /// Once; a failure is returned.
    Once,
    /// Retrying as `mail_connect_wait` does (fatal after its tries).
    Wait,
}

/// Why the service could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// It could not be reached: `connect to public/cleanup: ...`.
    Connect(String),
    /// It did not answer as cleanup does: `unable to contact the cleanup service`.
    Protocol(String),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Connect(text) | OpenError::Protocol(text) => f.write_str(text),
        }
    }
}

/// One message being written to cleanup.
pub struct CleanupStream {
    writer: BufWriter<UnixStream>,
    reader: BufReader<Polled>,
    /// The queue ID cleanup gave the new file.
    pub queue_id: String,
    failed: bool,
}

/// The reading side: cleanup's greeting and status are waited for in poll()
/// ([`sys::process::read_polled`]), as cleanup takes in the message while we wait.
struct Polled(UnixStream);

impl std::io::Read for Polled {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        sys::process::read_polled(&self.0, buf)
    }
}

impl CleanupStream {
    /// Connects to `public/service`, reads the queue ID and sends `flags`
    /// (`mail_stream_service`); Err with Postfix's text when the service cannot be
    /// reached or does not speak the protocol.
    pub fn open(
        service: &str,
        ipc_timeout: Duration,
        flags: u32,
        connect: Connect,
    ) -> Result<CleanupStream, OpenError> {
        let stream = match connect {
            Connect::Wait => crate::mail_connect::connect_wait("public", service, ipc_timeout),
            Connect::Once => {
                crate::mail_connect::connect("public", service, ipc_timeout).map_err(|e| {
                    OpenError::Connect(format!(
                        "connect to public/{service}: {}",
                        sys::os_error(&e)
                    ))
                })?
            }
        };
        let unable = || OpenError::Protocol(format!("unable to contact the {service} service"));
        let writer = stream.try_clone().map_err(|_| unable())?;
        let mut reader = BufReader::new(Polled(stream));
        let hello = match ipc::attr::read(&mut reader, Flavor::Null) {
            Ok(Some(hello)) if hello.get_str(mail_attr::PROTO) == Ok(mail_attr::PROTO_CLEANUP) => {
                hello
            }
            _ => return Err(unable()),
        };
        let queue_id = hello
            .get_str(mail_attr::QUEUEID)
            .map_err(|_| unable())?
            .to_string();
        let mut writer = BufWriter::new(writer);
        let request = Attrs::new().int(mail_attr::FLAGS, flags as i32);
        ipc::attr::write(&mut writer, Flavor::Null, &request)
            .and_then(|()| writer.flush())
            .map_err(|_| unable())?;
        Ok(CleanupStream {
            writer,
            reader,
            queue_id,
            failed: false,
        })
    }

    /// Sends one record; after a failed write nothing more is sent and [`finish`]
    /// reports `STAT_WRITE`.
    ///
    /// [`finish`]: CleanupStream::finish
    pub fn record(&mut self, kind: u8, data: &[u8]) {
        if !self.failed && rec_put(&mut self.writer, kind, data).is_err() {
            self.failed = true;
        }
    }

    /// Sends a named attribute record (`name=value`).
    pub fn attr(&mut self, name: &str, value: &[u8]) {
        let mut data = format!("{name}=").into_bytes();
        data.extend_from_slice(value);
        self.record(rec_type::ATTR, &data);
    }

    /// Pushes what is buffered to cleanup.
    pub fn flush(&mut self) {
        if !self.failed && self.writer.flush().is_err() {
            self.failed = true;
        }
    }

    /// Whether a write failed.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Ends the message: the `X` record, `extra` (the extracted segment's records), the
    /// `E` record; then cleanup's status and reason (`mail_stream_finish`). A stream that
    /// failed, or a missing answer, is `STAT_WRITE`.
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
        self.status()
    }

    /// Cleanup's status and reason for a message whose records the caller wrote itself
    /// (through `Write`), end record included; `STAT_WRITE` when there is no answer.
    pub fn status(&mut self) -> (u32, String) {
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

/// Records may also be written with `record::rec_put` on the stream itself (pickup copies
/// a maildrop file that way); errors are the caller's to handle.
impl Write for CleanupStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }
}

/// What mail the system makes itself needs to know (`post_mail_fopen`).
pub struct Post<'a> {
    /// cleanup_service_name.
    pub service: &'a str,
    /// ipc_timeout.
    pub ipc_timeout: Duration,
    /// The cleanup flags.
    pub flags: u32,
    /// The envelope sender.
    pub sender: &'a str,
    /// The one recipient.
    pub recipient: &'a str,
    /// The trace flags the delivery agents get (DEL_REQ_FLAG_MTA_VRFY for a probe).
    pub trace_flags: i32,
    /// myhostname, for the Received: header.
    pub myhostname: &'a str,
    /// mail_name, for the Received: header.
    pub mail_name: &'a str,
}

impl Post<'_> {
    /// The envelope and first headers of a message from inside the mail system: the
    /// arrival time, `log_message_origin=local`, the trace flags, sender, recipient,
    /// then `Received:` and `Date:`; the caller writes the rest of the content and
    /// finishes the stream.
    pub fn open(&self) -> Result<CleanupStream, OpenError> {
        let mut stream =
            CleanupStream::open(self.service, self.ipc_timeout, self.flags, Connect::Once)?;
        for (kind, data) in self.envelope(&stream.queue_id, std::time::SystemTime::now()) {
            stream.record(kind, &data);
        }
        Ok(stream)
    }

    /// The records `open` sends, for a message with queue ID `id` posted at `now`.
    pub fn envelope(&self, id: &str, now: std::time::SystemTime) -> Vec<(u8, Vec<u8>)> {
        let now = now
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let date = crate::mail_date::mail_date(now.as_secs() as i64);
        let text = |s: String| s.into_bytes();
        vec![
            (
                rec_type::TIME,
                text(format!("{} {}", now.as_secs(), now.subsec_micros())),
            ),
            (rec_type::ATTR, text("log_message_origin=local".into())),
            (
                rec_type::ATTR,
                text(format!("{}={}", mail_attr::TRACE_FLAGS, self.trace_flags)),
            ),
            (rec_type::FROM, text(self.sender.into())),
            (rec_type::RCPT, text(self.recipient.into())),
            (rec_type::MESG, Vec::new()),
            (
                rec_type::NORM,
                text(format!(
                    "Received: by {} ({})",
                    self.myhostname, self.mail_name
                )),
            ),
            (rec_type::NORM, text(format!("\tid {id}; {date}"))),
            (rec_type::NORM, text(format!("Date: {date}"))),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_mail_has_postfix_s_envelope_and_first_headers() {
        let post = Post {
            service: "cleanup",
            ipc_timeout: Duration::from_secs(1),
            flags: 0,
            sender: "double-bounce@mail.example",
            recipient: "u@x",
            trace_flags: 256,
            myhostname: "mail.example",
            mail_name: "Postfix",
        };
        let recs = post.envelope("4AbCd", std::time::SystemTime::now());
        let kinds: Vec<u8> = recs.iter().map(|r| r.0).collect();
        assert_eq!(
            kinds,
            [
                rec_type::TIME,
                rec_type::ATTR,
                rec_type::ATTR,
                rec_type::FROM,
                rec_type::RCPT,
                rec_type::MESG,
                rec_type::NORM,
                rec_type::NORM,
                rec_type::NORM,
            ]
        );
        assert_eq!(recs[1].1, b"log_message_origin=local");
        assert_eq!(recs[2].1, b"trace_flags=256");
        assert_eq!(recs[6].1, b"Received: by mail.example (Postfix)");
        assert!(recs[7].1.starts_with(b"\tid 4AbCd; "));
    }

    #[test]
    fn an_unreachable_service_is_an_error_in_postfix_s_words() {
        let missing = CleanupStream::open(
            "ironpost-no-such-service",
            Duration::from_secs(1),
            0,
            Connect::Once,
        );
        let Err(OpenError::Connect(error)) = missing else {
            panic!("not a connect error");
        };
        assert!(
            error.starts_with("connect to public/ironpost-no-such-service: "),
            "{error}"
        );
    }
}
