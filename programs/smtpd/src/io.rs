//! Session I/O: the one place every byte between smtpd and its client passes.
//!
//! Postfix counterparts: `smtpd/smtpd_chat.c` (`smtpd_chat_query()`,
//! `smtpd_chat_reply()`) and the deadlines of `global/smtp_stream.c`. Bytes read from
//! the client go into the protocol core's [`Input`]; replies are buffered and flushed
//! before the next read, so that a pipelined group is answered in one write as Postfix
//! does. Each read and write is bounded by `smtpd_timeout`.
//!
//! The [`Tap`] sees every command line and every reply line: at `-v` (or for a client in
//! `debug_peer_list`) it logs them as Postfix's verbose smtpd does (`< name[addr]:
//! COMMAND`, `> name[addr]: reply`). For a client in `smtpd_transcript_peer_list` it also
//! feeds global::transcript with every byte read, every reply line and the TLS handshake.
//! TLS sits underneath it ([`Link`], the [`Wire`] of a network session): after STARTTLS
//! (or at connect in wrapper mode) the plain socket is replaced by crates/tls's stream,
//! so the tap sees the decrypted dialogue (Postfix's `tls_bio_ops.c` under
//! `smtpd_chat.c`).

use server::single::Stream;
use smtp_proto::{Input, Reply};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use tls::{ServerTls, Summary, TlsStream};

/// How a session ended before its QUIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hangup {
    /// The client closed the connection or it broke (`lost connection`).
    Lost,
    /// No input for `smtpd_timeout` (`timeout`).
    Timeout,
}

/// The transport under the session: the plain connection, then possibly TLS.
pub trait Wire: Read + Write {
    /// Sets the limit for each read and write.
    fn set_deadline(&mut self, limit: Duration) -> std::io::Result<()>;

    /// Runs the TLS handshake as server within `timeout` and continues inside TLS; the
    /// failure is logged by crates/tls. A transport without TLS (standard input, a
    /// test script) refuses.
    fn start_tls(&mut self, _tls: &ServerTls, _peer: &str, _timeout: Duration) -> Option<Summary> {
        None
    }

    /// Ends TLS cleanly (close_notify) at the end of a session that ended by protocol,
    /// as Postfix's `tls_server_stop()`; nothing without TLS.
    fn shutdown(&mut self) {}

    /// Reads into `buf` what has already arrived, without waiting; 0 when nothing has
    /// (or at end of file, which the next read finds again). The improper-pipelining
    /// check needs it: Postfix peeks at the socket (`peekfd()`) when its buffer is
    /// empty. A transport that cannot tell (TLS, standard input) says 0.
    fn read_ready(&mut self, _buf: &mut [u8]) -> usize {
        0
    }

    /// Whether another process accepted the connection and passed it on (a `pass`
    /// service behind postscreen), which then did the pre-greeting check itself.
    fn handed_over(&self) -> bool {
        false
    }
}

/// A network session's transport: the connection as accepted, then inside TLS.
pub enum Link {
    /// Before TLS (or without it).
    Plain(Stream),
    /// After the handshake.
    Tls(Box<TlsStream<TcpStream, ()>>),
    /// A failed handshake left nothing to talk to.
    Gone,
}

impl Read for Link {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Link::Plain(s) => s.read(buf),
            Link::Tls(s) => s.read(buf),
            Link::Gone => Ok(0),
        }
    }
}

impl Write for Link {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Link::Plain(s) => s.write(buf),
            Link::Tls(s) => s.write(buf),
            Link::Gone => Err(ErrorKind::BrokenPipe.into()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Link::Plain(s) => s.flush(),
            Link::Tls(s) => s.flush(),
            Link::Gone => Ok(()),
        }
    }
}

impl Wire for Link {
    fn set_deadline(&mut self, limit: Duration) -> std::io::Result<()> {
        match self {
            Link::Plain(s) => s.set_deadline(limit),
            Link::Tls(s) => {
                // crates/tls bounds its waits with poll; the socket's own limits stay.
                s.set_timeout(Some(limit).filter(|l| !l.is_zero()));
                Ok(())
            }
            Link::Gone => Ok(()),
        }
    }

    fn shutdown(&mut self) {
        if let Link::Tls(s) = self {
            // The client may be gone already; there is nothing left to tell it.
            let _ = s.shutdown();
        }
    }

    fn read_ready(&mut self, buf: &mut [u8]) -> usize {
        match self {
            Link::Plain(s) => s.read_ready(buf),
            Link::Tls(_) | Link::Gone => 0,
        }
    }

    fn handed_over(&self) -> bool {
        matches!(self, Link::Plain(s) if s.handed_over())
    }

    fn start_tls(&mut self, tls: &ServerTls, peer: &str, timeout: Duration) -> Option<Summary> {
        let socket = match std::mem::replace(self, Link::Gone) {
            Link::Plain(Stream::Tcp(s) | Stream::Passed { socket: s, .. }) => s,
            other => {
                *self = other;
                return None;
            }
        };
        let stream = tls
            .accept(socket, (), peer, timeout, &mut |sev, text| {
                log::write(sev, text)
            })
            .ok()?;
        let summary = stream.summary().cloned();
        *self = Link::Tls(Box::new(stream));
        summary
    }
}

impl Wire for Stream {
    fn set_deadline(&mut self, limit: Duration) -> std::io::Result<()> {
        let limit = Some(limit).filter(|l| !l.is_zero());
        match self {
            Stream::Tcp(s) | Stream::Passed { socket: s, .. } => {
                s.set_read_timeout(limit)?;
                s.set_write_timeout(limit)
            }
            Stream::Unix(s) => {
                s.set_read_timeout(limit)?;
                s.set_write_timeout(limit)
            }
            // Standard input has no deadline (sendmail -bs is interactive).
            Stream::Stdio(..) => Ok(()),
        }
    }

    fn read_ready(&mut self, buf: &mut [u8]) -> usize {
        use std::os::fd::AsRawFd;
        let fd = match self {
            Stream::Tcp(s) | Stream::Passed { socket: s, .. } => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
            Stream::Stdio(..) => return 0,
        };
        // One non-blocking receive; the socket itself stays blocking. Nothing there yet
        // (EAGAIN) or a broken connection: the next blocking read tells which.
        let flags = sys::nix::sys::socket::MsgFlags::MSG_DONTWAIT;
        sys::nix::sys::socket::recv(fd, buf, flags).unwrap_or(0)
    }

    fn handed_over(&self) -> bool {
        matches!(self, Stream::Passed { .. })
    }
}

/// What the session said and heard, for verbose logging and the saved transcript.
pub struct Tap {
    namaddr: String,
    /// The session's transcript, for a listed client.
    transcript: Option<global::transcript::Transcript>,
}

impl Tap {
    /// A tap for the client `namaddr` (`name[addr]`), with a transcript when the client is
    /// in smtpd_transcript_peer_list.
    pub fn new(namaddr: &str) -> Tap {
        let (name, addr) = namaddr
            .strip_suffix(']')
            .and_then(|s| s.split_once('['))
            .unwrap_or((namaddr, namaddr));
        Tap {
            namaddr: namaddr.to_string(),
            transcript: global::transcript::open(name, addr, namaddr),
        }
    }

    /// Bytes as read from the client (inside TLS, decrypted).
    fn read(&mut self, bytes: &[u8]) {
        if let Some(t) = self.transcript.as_mut() {
            t.client_bytes(bytes);
        }
    }

    /// What the handshake negotiated.
    fn tls(&mut self, summary: &Summary) {
        if let Some(t) = self.transcript.as_mut() {
            t.tls(&summary.transcript_line());
        }
    }

    /// A command line as read (without its line end). AUTH's initial response is not
    /// shown: PLAIN's carries the password (Postfix logs it at -v; we never log one).
    pub fn command(&self, line: &[u8]) {
        if log::verbose() > 0 {
            let text = String::from_utf8_lossy(line);
            let words: Vec<&str> = text.split_ascii_whitespace().collect();
            if words.len() > 2 && words[0].eq_ignore_ascii_case("AUTH") {
                let (verb, mech) = (words[0], words[1]);
                log::msg_info!(
                    "< {}: {verb} {mech} (initial response not logged)",
                    self.namaddr
                );
                return;
            }
            log::msg_info!("< {}: {}", self.namaddr, text);
        }
    }

    /// One line of a reply.
    pub fn reply(&mut self, line: &[u8]) {
        if let Some(t) = self.transcript.as_mut() {
            t.server_line(line);
        }
        if log::verbose() > 0 {
            log::msg_info!("> {}: {}", self.namaddr, String::from_utf8_lossy(line));
        }
    }
}

/// The largest read at once; the core bounds what it keeps of a line.
const READ_SIZE: usize = 4096;

/// The client connection with its input buffer and pending replies.
pub struct SessionIo<W: Wire> {
    wire: W,
    /// Bytes received and not yet consumed by the protocol core.
    pub input: Input,
    output: Vec<u8>,
    /// The transcript tap.
    pub tap: Tap,
    /// Bytes read from the client in all (for the `(N bytes)` of lost-connection lines).
    pub received: u64,
    /// `smtpd_timeout`, set again on the TLS stream after a handshake.
    timeout: Duration,
}

impl<W: Wire> SessionIo<W> {
    /// Session I/O over `wire` with `smtpd_timeout` as the deadline.
    pub fn new(mut wire: W, timeout: Duration, tap: Tap) -> SessionIo<W> {
        if let Err(e) = wire.set_deadline(timeout) {
            log::msg_warn!("set timeout: {}", sys::os_error(&e));
        }
        SessionIo {
            wire,
            input: Input::new(),
            output: Vec::new(),
            tap,
            received: 0,
            timeout,
        }
    }

    /// STARTTLS after its 220 (or wrapper mode at connect): sends what is queued,
    /// discards what the client sent ahead in plaintext (the command injection Postfix
    /// closed in 2.8.4: nothing read before the handshake may count as read inside TLS),
    /// and continues inside TLS. A failed handshake is a lost connection, as Postfix's
    /// `vstream_longjmp(SMTP_ERR_EOF)`.
    pub fn start_tls(
        &mut self,
        tls: &ServerTls,
        starttls_timeout: Duration,
    ) -> Result<Summary, Hangup> {
        self.flush()?;
        self.input.purge();
        let summary = self
            .wire
            .start_tls(tls, &self.tap.namaddr, starttls_timeout)
            .ok_or(Hangup::Lost)?;
        self.tap.tls(&summary);
        if let Err(e) = self.wire.set_deadline(self.timeout) {
            log::msg_warn!("set timeout: {}", sys::os_error(&e));
        }
        Ok(summary)
    }

    /// Queues a reply (each line shown to the tap).
    pub fn reply(&mut self, reply: &Reply) {
        for line in reply.lines() {
            self.tap.reply(line);
        }
        reply.write_to(&mut self.output);
    }

    /// Sends what is queued and ends TLS cleanly, when the session ended by protocol.
    pub fn close(&mut self) {
        if self.flush().is_ok() {
            self.wire.shutdown();
        }
    }

    /// Sends the queued replies.
    pub fn flush(&mut self) -> Result<(), Hangup> {
        if self.output.is_empty() {
            return Ok(());
        }
        let result = self
            .wire
            .write_all(&self.output)
            .and_then(|()| self.wire.flush());
        self.output.clear();
        result.map_err(|e| hangup(&e))
    }

    /// Takes in what the client has already sent, without waiting, when nothing is
    /// pending: input that arrived in a packet of its own after the last read is early
    /// all the same.
    pub fn collect(&mut self) {
        if !self.input.pending().is_empty() {
            return;
        }
        let mut buf = [0u8; READ_SIZE];
        let n = self.wire.read_ready(&mut buf);
        if n > 0 {
            self.tap.read(&buf[..n]);
            self.received += n as u64;
            self.input.push(&buf[..n]);
        }
    }

    /// Whether the connection was passed on by another process (see [`Wire::handed_over`]).
    pub fn handed_over(&self) -> bool {
        self.wire.handed_over()
    }

    /// Sends what is queued, then waits for more client input.
    pub fn fill(&mut self) -> Result<(), Hangup> {
        self.flush()?;
        let mut buf = [0u8; READ_SIZE];
        loop {
            match self.wire.read(&mut buf) {
                Ok(0) => {
                    self.input.close();
                    return Err(Hangup::Lost);
                }
                Ok(n) => {
                    self.tap.read(&buf[..n]);
                    self.received += n as u64;
                    self.input.push(&buf[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(hangup(&e)),
            }
        }
    }
}

/// A read or write error as the way the session ended.
fn hangup(e: &std::io::Error) -> Hangup {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => Hangup::Timeout,
        _ => Hangup::Lost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client that sends `input` in one piece, then closes.
    struct Script {
        input: std::io::Cursor<Vec<u8>>,
        written: Vec<u8>,
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Wire for Script {
        fn set_deadline(&mut self, _: Duration) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn starttls_without_a_socket_is_a_lost_connection_and_drops_plaintext() {
        let certs = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../crates/tls/tests/golden/certs"
        );
        let settings = tls::ServerSettings {
            level: tls::SecurityLevel::May,
            files: tls::CertKeyFiles {
                cert_file: format!("{certs}/rsa.pem"),
                key_file: format!("{certs}/rsa.key"),
                ..Default::default()
            },
            ..Default::default()
        };
        let engine = ServerTls::new(&settings, &mut |_, text| panic!("{text}")).unwrap();
        let script = Script {
            input: std::io::Cursor::new(b"STARTTLS\r\nMAIL FROM:<x>\r\n".to_vec()),
            written: Vec::new(),
        };
        let mut io = SessionIo::new(script, Duration::from_secs(1), Tap::new("x[1.2.3.4]"));
        io.fill().unwrap();
        io.input.purge();
        io.reply(&Reply::new("220 2.0.0 Ready to start TLS"));
        io.input.push(b"MAIL FROM:<injected>\r\n");
        assert_eq!(
            io.start_tls(&engine, Duration::from_secs(1)).unwrap_err(),
            Hangup::Lost
        );
        assert_eq!(io.wire.written, b"220 2.0.0 Ready to start TLS\r\n");
        assert!(io.input.pending().is_empty());
    }

    /// Early input is taken in without waiting, and only when nothing is pending.
    #[test]
    fn collect_takes_what_arrived_without_waiting() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let stream = Stream::Tcp(server);
        assert!(!stream.handed_over());
        let mut io = SessionIo::new(stream, Duration::from_secs(5), Tap::new("x[1.2.3.4]"));
        let started = std::time::Instant::now();
        io.collect();
        assert!(io.input.pending().is_empty());
        assert!(started.elapsed() < Duration::from_secs(1), "collect waited");
        client.write_all(b"EHLO x\r\n").unwrap();
        let arrived = (0..200).any(|_| {
            io.collect();
            std::thread::sleep(Duration::from_millis(10));
            !io.input.pending().is_empty()
        });
        assert!(arrived);
        assert_eq!(io.input.pending(), b"EHLO x\r\n");
        client.write_all(b"QUIT\r\n").unwrap();
        std::thread::sleep(Duration::from_millis(50));
        io.collect();
        assert_eq!(
            io.input.pending(),
            b"EHLO x\r\n",
            "read while input was pending"
        );
        // The stream blocks again: the next fill waits for and gets the rest.
        assert_eq!(io.fill(), Ok(()));
        assert_eq!(io.input.pending(), b"EHLO x\r\nQUIT\r\n");
        assert_eq!(io.received, 14);
    }

    #[test]
    fn replies_wait_for_the_next_read_and_eof_is_lost() {
        let script = Script {
            input: std::io::Cursor::new(b"NOOP\r\n".to_vec()),
            written: Vec::new(),
        };
        let mut io = SessionIo::new(script, Duration::from_secs(1), Tap::new("x[1.2.3.4]"));
        io.reply(&Reply::new("220 ok"));
        assert!(io.wire.written.is_empty());
        assert_eq!(io.fill(), Ok(()));
        assert_eq!(io.wire.written, b"220 ok\r\n");
        assert_eq!(io.input.pending(), b"NOOP\r\n");
        assert_eq!(io.received, 6);
        assert_eq!(io.fill(), Err(Hangup::Lost));
        assert!(io.input.is_closed());
    }
}
