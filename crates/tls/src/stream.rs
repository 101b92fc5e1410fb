//! The session's byte stream, plain or inside TLS, with one tap that sees every
//! plaintext byte read or written (for smtpd's verbose `< host[addr]: ...` lines and
//! ironpost's saved session transcripts, which must work inside TLS too). Synchronous and
//! poll-based: every wait for the peer is bounded by a timeout. Postfix counterpart:
//! `tls/tls_bio_ops.c` (timed TLS I/O over a plain descriptor) and `tls_stream.c`
//! (TLS under a VSTREAM).

use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use crate::summary::Summary;

/// Sees the session's plaintext. Both methods default to nothing.
pub trait Tap {
    /// Bytes the peer sent, as the application reads them.
    fn read(&mut self, _data: &[u8]) {}
    /// Bytes the application sends, before encryption.
    fn written(&mut self, _data: &[u8]) {}
}

/// No tap.
impl Tap for () {}

/// Waits until `io` is readable, within what remains of `deadline`.
fn wait_readable(fd: &impl AsRawFd, deadline: Option<Instant>) -> io::Result<()> {
    let Some(deadline) = deadline else {
        return Ok(());
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::from(io::ErrorKind::TimedOut));
    }
    sys::fdpass::read_wait(fd.as_raw_fd(), left).map_err(|e| {
        if e.raw_os_error() == Some(sys::libc::ETIMEDOUT) {
            io::Error::from(io::ErrorKind::TimedOut)
        } else {
            e
        }
    })
}

/// A plain stream with the tap (before STARTTLS, or a session without TLS).
pub struct Plain<S, T> {
    io: S,
    tap: T,
}

impl<S: Read + Write, T: Tap> Plain<S, T> {
    /// Wraps `io`.
    pub fn new(io: S, tap: T) -> Self {
        Plain { io, tap }
    }

    /// The stream and tap, to hand to [`crate::ServerTls::accept`] after STARTTLS.
    pub fn into_parts(self) -> (S, T) {
        (self.io, self.tap)
    }
}

impl<S: Read, T: Tap> Read for Plain<S, T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.io.read(buf)?;
        self.tap.read(&buf[..n]);
        Ok(n)
    }
}

impl<S: Write, T: Tap> Write for Plain<S, T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.io.write(buf)?;
        self.tap.written(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.io.flush()
    }
}

/// A server-side TLS stream. Reads wait at most the timeout set with
/// [`TlsStream::set_timeout`] for the peer; writes go out at once.
pub struct TlsStream<S, T> {
    conn: rustls::ServerConnection,
    io: S,
    tap: T,
    timeout: Option<Duration>,
    summary: Option<Summary>,
}

impl<S: Read + Write + AsRawFd, T: Tap> TlsStream<S, T> {
    pub(crate) fn new(conn: rustls::ServerConnection, io: S, tap: T) -> Self {
        TlsStream {
            conn,
            io,
            tap,
            timeout: None,
            summary: None,
        }
    }

    pub(crate) fn connection(&self) -> &rustls::ServerConnection {
        &self.conn
    }

    pub(crate) fn set_summary(&mut self, summary: Summary) {
        self.summary = Some(summary);
    }

    /// What was negotiated (for the Received: header and the log).
    pub fn summary(&self) -> Option<&Summary> {
        self.summary.as_ref()
    }

    /// The peer's certificate chain, leaf first, when it sent one.
    pub fn peer_certificates(&self) -> Option<&[rustls::pki_types::CertificateDer<'static>]> {
        self.conn.peer_certificates()
    }

    /// Bounds every later wait for the peer (smtpd_timeout); None waits forever.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// Sends whatever rustls has queued.
    fn flush_tls(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            self.conn.write_tls(&mut self.io)?;
        }
        self.io.flush()
    }

    /// Reads one batch of records from the peer; Ok(false) at end of file.
    fn fill(&mut self, deadline: Option<Instant>) -> io::Result<bool> {
        wait_readable(&self.io, deadline)?;
        if self.conn.read_tls(&mut self.io)? == 0 {
            return Ok(false);
        }
        if let Err(e) = self.conn.process_new_packets() {
            // Send the alert that says why, then fail.
            let _ = self.flush_tls();
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
        Ok(true)
    }

    /// The handshake, all of it within `timeout`.
    pub(crate) fn handshake(&mut self, timeout: Duration) -> io::Result<()> {
        let deadline = Some(Instant::now() + timeout);
        while self.conn.is_handshaking() {
            self.flush_tls()?;
            if self.conn.is_handshaking() && !self.fill(deadline)? {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "lost connection during the TLS handshake",
                ));
            }
        }
        self.flush_tls()
    }

    /// Sends close_notify (Postfix's `SSL_shutdown` at the end of a session).
    pub fn shutdown(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        self.flush_tls()
    }

    /// The underlying stream, e.g. for the peer address.
    pub fn get_ref(&self) -> &S {
        &self.io
    }
}

impl<S: Read + Write + AsRawFd, T: Tap> Read for TlsStream<S, T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let deadline = self.timeout.map(|t| Instant::now() + t);
        loop {
            match self.conn.reader().read(buf) {
                Ok(n) => {
                    self.tap.read(&buf[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // The peer closed without close_notify: end of file all the same, as
                // for Postfix's smtpd ("lost connection"), on this read and the next.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            if !self.fill(deadline)? {
                return Ok(0);
            }
            // Key updates and alerts may need an answer.
            self.flush_tls()?;
        }
    }
}

impl<S: Read + Write + AsRawFd, T: Tap> Write for TlsStream<S, T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // rustls takes at most its buffer limit (64 KiB) per call; everything is sent
        // before returning, so the next call finds the buffer empty again, and memory
        // stays bounded whatever the caller writes.
        let n = self.conn.writer().write(buf)?;
        self.tap.written(&buf[..n]);
        self.flush_tls()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_tls()
    }
}
