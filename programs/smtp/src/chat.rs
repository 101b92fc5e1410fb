//! Session I/O: the one place every byte between the client and a server passes.
//!
//! Postfix counterparts: `smtp/smtp_chat.c` (`smtp_chat_cmd()`, `smtp_chat_resp()`) and
//! the deadlines of `global/smtp_stream.c`. Commands are buffered and sent in one write
//! when the client must wait for replies, so that a pipelined group leaves as one
//! segment, as Postfix's VSTREAM buffer does. Every read and write is bounded by the
//! timeout of the protocol stage. At `-v` (or for a server or next hop in
//! `debug_peer_list`) each command is logged `> host[addr]:port: COMMAND` and each reply
//! line `< host[addr]:port: reply`, as Postfix's verbose SMTP client does. For a server in
//! `smtp_transcript_peer_list` every command, content byte, reply line and the TLS
//! handshake also go to the session's transcript (global::transcript). Every command and
//! every reply line kept is also in the session's history (`Out: `, `In:  `), with the
//! classes of the errors seen, for the postmaster's notice (crate::chat_notify).

use smtp_proto::server_reply;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Why a session broke (Postfix's `SMTP_ERR_EOF`, `SMTP_ERR_TIME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Except {
    /// The server hung up or the connection broke.
    Eof,
    /// A read or write took longer than the stage's timeout.
    Time,
    /// Local data could not be read: a check table failed (`SMTP_ERR_DATA`).
    Data,
}

impl From<std::io::Error> for Except {
    fn from(e: std::io::Error) -> Except {
        match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => Except::Time,
            _ => Except::Eof,
        }
    }
}

/// The connection: TCP, or a UNIX-domain socket for LMTP.
pub enum Conn {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A UNIX-domain stream socket.
    Unix(UnixStream),
    /// TLS over TCP, after STARTTLS.
    Tls(Box<tls::ClientStream<TcpStream>>),
    /// TLS done by tlsproxy: the plaintext stream to it (crate::tlsproxy_clnt).
    Proxy(Box<Proxied>),
    /// A failed TLS handshake left nothing to talk to.
    Gone,
}

impl Conn {
    fn set_timeout(&self, limit: Duration) -> std::io::Result<()> {
        let limit = Some(limit.max(Duration::from_millis(1)));
        match self {
            Conn::Tcp(s) => s.set_read_timeout(limit).and(s.set_write_timeout(limit)),
            Conn::Unix(s) => s.set_read_timeout(limit).and(s.set_write_timeout(limit)),
            Conn::Tls(s) => {
                let s = s.get_ref();
                s.set_read_timeout(limit).and(s.set_write_timeout(limit))
            }
            Conn::Proxy(p) => {
                let s = p.stream.get_ref();
                s.set_read_timeout(limit).and(s.set_write_timeout(limit))
            }
            Conn::Gone => Ok(()),
        }
    }
}

/// A session whose TLS runs in tlsproxy: the stream (its buffer may already hold the
/// server's first reply) and what tlsproxy's handshake negotiated, which goes with the
/// stream into the connection cache.
pub struct Proxied {
    /// The plaintext stream to tlsproxy.
    pub stream: std::io::BufReader<UnixStream>,
    /// The TLS context tlsproxy sent (`tls_proxy_context_print()`'s attributes).
    pub context: ipc::Attrs,
    /// The same, as a summary to log and judge by.
    pub summary: tls::Summary,
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.read(buf),
            Conn::Unix(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
            Conn::Proxy(p) => p.stream.read(buf),
            Conn::Gone => Ok(0),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.write(buf),
            Conn::Unix(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
            Conn::Proxy(p) => p.stream.get_mut().write(buf),
            Conn::Gone => Err(ErrorKind::BrokenPipe.into()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Tls(s) => s.flush(),
            _ => Ok(()),
        }
    }
}

/// One server reply (Postfix's `SMTP_RESP`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resp {
    /// The reply code; 0 when the reply had none.
    pub code: u32,
    /// The enhanced status code: the server's when it gave one of the reply's class,
    /// else `X.0.0` from the reply code, `5.5.0` for a reply without a code.
    pub dsn: String,
    /// The reply's lines, joined with newlines.
    pub text: String,
}

impl Resp {
    /// A reply the client makes up to report a local problem (`SMTP_RESP_FAKE`).
    pub fn fake(dsn: &str) -> Resp {
        Resp {
            code: 0,
            dsn: dsn.to_string(),
            text: String::new(),
        }
    }

    /// The reply on one line, as it goes into log lines (`translit(str, "\n", " ")`).
    pub fn one_line(&self) -> String {
        self.text.replace('\n', " ")
    }
}

/// Parses the reply lines a server sent: the code and the status (the last part of
/// `smtp_chat_resp()`, in smtp_proto::server_reply).
pub fn parse_reply(lines: &[String]) -> Resp {
    let reply = server_reply::parse_reply(lines, global::dsn_util::dsn_valid);
    Resp {
        code: reply.code,
        dsn: reply.dsn,
        text: reply.text,
    }
}

/// A session's connection with its buffers and its name for the log.
pub struct Chat {
    conn: Conn,
    input: Vec<u8>,
    output: Vec<u8>,
    /// `host[addr]:port` (`host[addr]` for a UNIX-domain socket).
    pub namaddrport: String,
    /// `line_length_limit`: the longest reply line kept; the rest is skipped.
    line_limit: usize,
    /// Whether PIPELINING was negotiated (garbage replies are then worth a warning).
    pub pipelining: bool,
    /// The queue ID, for warnings.
    pub queue_id: String,
    /// `smtp` or `lmtp`: the warnings say ESMTP or LMTP.
    pub lmtp: bool,
    /// The session's transcript, for a listed server.
    transcript: Option<global::transcript::Transcript>,
    /// `smtp_reply_filter`: replaces reply lines as they come.
    pub reply_filter: Option<std::rc::Rc<dyn dict::Dict>>,
    /// The commands and replies of the session (Postfix's `session->history`).
    pub history: global::chat_notify::History,
    /// The classes of the errors the session had (global::chat_notify::mail_error).
    pub error_mask: u32,
}

impl Chat {
    /// A session over `conn`.
    pub fn new(conn: Conn, namaddrport: String, line_limit: usize) -> Chat {
        // host[addr]:port, or host[addr] for a UNIX-domain socket.
        let (name, addr) = namaddrport
            .split_once('[')
            .and_then(|(name, rest)| Some((name, rest.split_once(']')?.0)))
            .unwrap_or((&namaddrport, &namaddrport));
        let transcript = global::transcript::open(name, addr, &namaddrport);
        Chat {
            conn,
            input: Vec::new(),
            output: Vec::new(),
            namaddrport,
            line_limit,
            pipelining: false,
            queue_id: String::new(),
            lmtp: false,
            transcript,
            reply_filter: None,
            history: Default::default(),
            error_mask: 0,
        }
    }

    /// A session over `conn` for the delivery `state` (its queue ID for warnings, the
    /// protocol, smtp_reply_filter).
    pub fn for_delivery(conn: Conn, namaddrport: String, state: &crate::state::State) -> Chat {
        let settings = state.settings;
        let mut chat = Chat::new(conn, namaddrport, settings.line_limit);
        chat.queue_id = state.request.queue_id.clone();
        chat.lmtp = settings.lmtp;
        chat.reply_filter = settings.reply_filter.clone();
        chat
    }

    /// Sets the timeout of the next reads and writes (`smtp_stream_setup()`).
    pub fn stage(&mut self, limit: Duration) {
        if let Err(e) = self.conn.set_timeout(limit) {
            log::msg_warn!("set socket timeout: {}", sys::os_error(&e));
        }
    }

    /// Queues one command (`smtp_chat_cmd()`).
    pub fn cmd(&mut self, command: &str) {
        if log::verbose() > 0 {
            log::msg_info!("> {}: {command}", self.namaddrport);
        }
        self.history.append("Out: ", command);
        let start = self.output.len();
        self.output.extend_from_slice(command.as_bytes());
        self.output.extend_from_slice(b"\r\n");
        if let Some(t) = self.transcript.as_mut() {
            if command.len() > 10 && command[..10].eq_ignore_ascii_case("MAIL FROM:") {
                t.queue_id(&self.queue_id);
            }
            t.client_bytes(&self.output[start..]);
        }
    }

    /// Bytes of message content, already dot-stuffed and with line ends.
    pub fn content(&mut self, bytes: &[u8]) -> Result<(), Except> {
        if let Some(t) = self.transcript.as_mut() {
            t.client_bytes(bytes);
        }
        self.output.extend_from_slice(bytes);
        if self.output.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(())
    }

    /// How many bytes wait to be sent.
    pub fn pending(&self) -> usize {
        self.output.len()
    }

    /// Sends what is queued.
    pub fn flush(&mut self) -> Result<(), Except> {
        if !self.output.is_empty() {
            let out = std::mem::take(&mut self.output);
            self.conn.write_all(&out)?;
        }
        Ok(())
    }

    /// Runs the TLS handshake after the server's 220 to STARTTLS and goes on inside
    /// TLS; whether it worked (the failure is logged by crates/tls). Input the server
    /// sent ahead of the handshake is dropped, as Postfix purges its buffer.
    pub fn start_tls(&mut self, engine: &tls::ClientTls, props: &tls::StartProps<'_>) -> bool {
        self.input.clear();
        self.output.clear();
        let Conn::Tcp(tcp) = std::mem::replace(&mut self.conn, Conn::Gone) else {
            return false;
        };
        let mut log = |severity, text: &str| log::write(severity, text);
        match engine.connect(tcp, props, &mut log) {
            Ok(stream) => {
                if let Some(t) = self.transcript.as_mut() {
                    t.tls(&stream.summary().transcript_line());
                }
                self.conn = Conn::Tls(Box::new(stream));
                true
            }
            Err(_) => false,
        }
    }

    /// The TCP connection, before TLS.
    pub fn tcp(&self) -> Option<&TcpStream> {
        match &self.conn {
            Conn::Tcp(tcp) => Some(tcp),
            _ => None,
        }
    }

    /// Goes on through tlsproxy, which now holds the TCP connection and has run the
    /// handshake; input the server sent ahead of it is dropped, as Postfix purges its
    /// buffers.
    pub fn proxied(&mut self, proxied: Proxied) {
        self.input.clear();
        self.output.clear();
        if let Some(t) = self.transcript.as_mut() {
            t.tls(&proxied.summary.transcript_line());
        }
        self.conn = Conn::Proxy(Box::new(proxied));
    }

    /// The connection's socket, for the connection cache, when nothing is left unread
    /// or unsent and TLS is not in this process (with tlsproxy's, the TLS context
    /// goes along); the session has nothing to talk to afterwards.
    pub fn take_socket(&mut self) -> Option<(std::os::fd::OwnedFd, Option<ipc::Attrs>)> {
        if !self.input.is_empty() || !self.output.is_empty() {
            return None;
        }
        if let Conn::Proxy(p) = &self.conn
            && !p.stream.buffer().is_empty()
        {
            return None;
        }
        match std::mem::replace(&mut self.conn, Conn::Gone) {
            Conn::Tcp(tcp) => Some((tcp.into(), None)),
            Conn::Unix(unix) => Some((unix.into(), None)),
            Conn::Proxy(p) => Some((p.stream.into_inner().into(), Some(p.context))),
            other => {
                self.conn = other;
                None
            }
        }
    }

    /// What the TLS handshake negotiated, inside TLS.
    pub fn tls_summary(&self) -> Option<&tls::Summary> {
        match &self.conn {
            Conn::Tls(s) => Some(s.summary()),
            Conn::Proxy(p) => Some(&p.summary),
            _ => None,
        }
    }

    /// The socket's send buffer size, raised to `least` when smaller (what Postfix does
    /// for PIPELINING, so that a group of commands never blocks the writer).
    pub fn send_buffer(&self, least: usize) -> usize {
        use std::os::fd::AsFd;
        use sys::nix::sys::socket::{getsockopt, setsockopt, sockopt::SndBuf};
        let fd = match &self.conn {
            Conn::Tcp(s) => s.as_fd(),
            Conn::Unix(s) => s.as_fd(),
            Conn::Tls(s) => s.get_ref().as_fd(),
            Conn::Proxy(p) => p.stream.get_ref().as_fd(),
            Conn::Gone => return least,
        };
        let size = match getsockopt(&fd, SndBuf) {
            Ok(size) => size,
            Err(e) => log::msg_fatal!("smtp_helo: getsockopt: {}", e.desc()),
        };
        if size < least {
            if let Err(e) = setsockopt(&fd, SndBuf, &least) {
                log::msg_fatal!("smtp_helo: setsockopt: {}", e.desc());
            }
            return least;
        }
        size
    }

    /// Whether the session runs inside TLS.
    pub fn in_tls(&self) -> bool {
        matches!(self.conn, Conn::Tls(_) | Conn::Proxy(_))
    }

    /// Ends TLS with close_notify, when there is TLS.
    pub fn shutdown(&mut self) {
        if let Conn::Tls(s) = &mut self.conn {
            let _ = s.shutdown();
        }
    }

    /// Reads one reply, after sending what is queued (`smtp_chat_resp()`).
    pub fn resp(&mut self) -> Result<Resp, Except> {
        self.flush()?;
        let mut lines: Vec<String> = Vec::new();
        let mut kept = 0usize;
        loop {
            let (raw, complete) = self.read_line()?;
            let line = server_reply::printable(&raw);
            if let Some(t) = self.transcript.as_mut() {
                t.server_line(line.as_bytes());
            }
            if !complete {
                log::msg_warn!(
                    "{}: response longer than {}: {:.30}...",
                    self.namaddrport,
                    self.line_limit,
                    line
                );
            }
            if log::verbose() > 0 {
                log::msg_info!("< {}: {:.100}", self.namaddrport, line);
            }
            // Past line_length_limit bytes of reply, lines go neither into the history
            // nor into the reply (a defence against endless multi-line replies).
            let kept_line = kept < self.line_limit;
            if kept_line {
                self.history.append("In:  ", &line);
            }
            // smtp_reply_filter: the replacement is what the client reads and reports.
            let line = match &self.reply_filter {
                Some(filter) => match filter.lookup(&line) {
                    Ok(Some(new)) => {
                        log::msg_info!(
                            "{}: replacing server reply \"{line}\" with \"{new}\"",
                            self.namaddrport
                        );
                        if kept_line {
                            self.history.append("Replaced-by: ", "");
                            self.history.append("     ", &new);
                        }
                        new
                    }
                    Ok(None) => line,
                    Err(_) => {
                        log::msg_warn!(
                            "{}: table {} lookup error for {line}",
                            self.queue_id,
                            filter.spec()
                        );
                        return Err(Except::Data);
                    }
                },
                None => line,
            };
            let kind = server_reply::line_kind(&line);
            if kept_line {
                kept += line.len() + 1;
                lines.push(line.clone());
            }
            match kind {
                server_reply::LineKind::Last => break,
                server_reply::LineKind::More => {}
                server_reply::LineKind::Garbage => {
                    self.error_mask |= global::chat_notify::mail_error::PROTOCOL;
                    if self.pipelining {
                        log::msg_warn!(
                            "{}: non-{} response from {}: {:.100}",
                            self.queue_id,
                            if self.lmtp { "LMTP" } else { "ESMTP" },
                            self.namaddrport,
                            line
                        );
                    }
                }
            }
        }
        Ok(parse_reply(&lines))
    }

    /// One line without its CR LF, at most `line_limit` bytes (the rest up to the LF is
    /// skipped); whether the line was complete.
    fn read_line(&mut self) -> Result<(Vec<u8>, bool), Except> {
        let mut skipped = false;
        let mut line = Vec::new();
        loop {
            if let Some(at) = self.input.iter().position(|&b| b == b'\n') {
                let rest = self.input.split_off(at + 1);
                let mut got = std::mem::replace(&mut self.input, rest);
                got.pop();
                if got.last() == Some(&b'\r') {
                    got.pop();
                }
                if !skipped {
                    line.extend_from_slice(&got);
                }
                if line.len() > self.line_limit {
                    line.truncate(self.line_limit);
                    skipped = true;
                }
                return Ok((line, !skipped));
            }
            if !skipped && line.len() + self.input.len() > self.line_limit {
                line.append(&mut self.input);
                line.truncate(self.line_limit);
                skipped = true;
            } else if skipped {
                self.input.clear();
            }
            let mut buf = [0u8; 4096];
            let n = self.conn.read(&mut buf)?;
            if n == 0 {
                return Err(Except::Eof);
            }
            self.input.extend_from_slice(&buf[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(lines: &[&str]) -> Resp {
        parse_reply(&lines.iter().map(|l| l.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_history_has_commands_and_replies_and_garbage_is_a_protocol_error() {
        let (ours, mut theirs) = UnixStream::pair().unwrap();
        let mut chat = Chat::new(Conn::Unix(ours), "h[a]".into(), 2048);
        theirs
            .write_all(b"250 Ok\r\nnonsense\r\n250-first\r\n250 last\r\n")
            .unwrap();
        chat.cmd("NOOP");
        chat.resp().unwrap();
        assert_eq!(chat.error_mask, 0);
        chat.cmd("RSET");
        chat.resp().unwrap();
        assert_eq!(chat.error_mask, global::chat_notify::mail_error::PROTOCOL);
        assert_eq!(
            chat.history.transcript(false),
            [
                " Out: NOOP",
                " In:  250 Ok",
                " Out: RSET",
                " In:  nonsense",
                " In:  250-first",
                " In:  250 last",
            ]
        );
    }

    #[test]
    fn replies_on_one_line() {
        let r = reply(&[
            "550-5.1.1 first",
            "550 5.1.1 <x@y>: Recipient address rejected",
        ]);
        assert_eq!((r.code, r.dsn.as_str()), (550, "5.1.1"));
        assert_eq!(
            r.one_line(),
            "550-5.1.1 first 550 5.1.1 <x@y>: Recipient address rejected"
        );
    }
}
