//! Delivery requests: one entry sent to a delivery agent over `private/<transport>`,
//! and the agent's status.
//!
//! Postfix counterparts: `qmgr/qmgr_deliver.c` and the agent side in
//! `global/deliver_request.c`. The agent announces `delivery_request_protocol`; the
//! request is one attribute list (flags, queue, queue ID, content offset and size,
//! nexthop, encoding, SMTPUTF8, sender, DSN ENVID and RET, the time stamps, the client
//! and SASL attributes, the recipient count), then one list per recipient (original
//! recipient, recipient, offset, DSN ORCPT, DSN NOTIFY). The agent delivers, marks each
//! delivered or bounced recipient done in the queue file itself and writes the bounce
//! and defer logs itself; it answers with a status (the DSN of a site problem, if any)
//! and 0 when every recipient was dealt with, else non-zero.
//!
//! The lists are written by global's RequestHead and rcpt_print, which local's
//! deliver_pass uses too. As in Postfix, the conversation is driven by the scheduler's
//! event loop: a [`Delivery`] is a non-blocking connection that moves on whenever its
//! socket is ready (greeting, request, status), so the scheduler never waits for an
//! agent and no thread is woken per delivery.

use crate::message::{Message, Recipient};
use global::deliver_request::RequestHead;
use global::rcpt_print::rcpt_print;
use ipc::{Attrs, Flavor, mail_attr};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Delete successful recipients and bounce the others (`DEL_REQ_FLAG_DEFLT`).
const FLAG_DEFLT: i32 = 1 << 0 | 1 << 1;
/// Bounce only (`DEL_REQ_FLAG_BOUNCE`): for mail with an inspection transport.
const FLAG_BOUNCE: i32 = 1 << 1;

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every recipient was dealt with (delivered or bounced).
    Ok,
    /// Some recipients were deferred.
    Defer,
    /// The agent failed or could not be reached.
    Crash,
}

/// The agent's answer: its status and the site problem it reported (`status reason`,
/// empty when none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// The DSN status of a site problem (`4.4.1`), empty when there was none.
    pub dsn_status: String,
    /// Its text.
    pub reason: String,
}

impl Outcome {
    fn crash(reason: &str) -> Outcome {
        Outcome {
            status: Status::Crash,
            dsn_status: "4.3.0".to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Everything a delivery needs, owned, to be sent to another thread.
pub struct Request {
    /// The transport (master.cf service).
    pub transport: String,
    /// The request list.
    pub attrs: Attrs,
    /// One list per recipient.
    pub rcpts: Vec<Attrs>,
    /// How long to wait for the agent's greeting.
    pub ipc_timeout: Duration,
    /// How long to wait for the status.
    pub daemon_timeout: Duration,
}

/// The request for `rcpts` of `message` to `nexthop` through `transport`, with the
/// destination's own flags `dflags` (the on-demand connection cache).
pub fn request(
    message: &Message,
    transport: &str,
    nexthop: &str,
    dflags: i32,
    rcpts: &[Recipient],
    timeouts: (Duration, Duration),
) -> Request {
    let flags = message.tflags
        | dflags
        | if message.inspect_xport.is_some() {
            FLAG_BOUNCE
        } else {
            FLAG_DEFLT
        };
    let stats = global::msg_stats::MsgStats {
        incoming_arrival: message.arrival,
        active_arrival: message.active,
        ..Default::default()
    };
    let c = &message.client;
    let attrs = RequestHead {
        flags,
        queue_name: global::mail_queue::ACTIVE,
        queue_id: &message.id,
        data_offset: message.data_offset,
        data_size: message.cont_length,
        nexthop,
        encoding: &message.encoding,
        smtputf8: message.smtputf8,
        sender: &message.sender,
        dsn_envid: &message.dsn_envid,
        dsn_ret: message.dsn_ret,
        msg_stats: &stats,
        client_name: &c.name,
        client_addr: &c.addr,
        client_port: &c.port,
        client_proto: &c.proto,
        client_helo: &c.helo,
        sasl_method: &c.sasl_method,
        sasl_username: &c.sasl_username,
        sasl_sender: &c.sasl_sender,
        log_ident: &c.log_ident,
        rewrite_context: &c.rewrite_context,
        rcpt_count: rcpts.len() as i32,
    }
    .attrs();
    let rcpts = rcpts
        .iter()
        .map(|r| {
            let rcpt = global::rcpt_print::Recipient {
                offset: r.offset,
                dsn_orcpt: r.dsn_orcpt.clone(),
                dsn_notify: r.dsn_notify as u32,
                orig_addr: r.orig_addr.clone(),
                address: r.address.clone(),
            };
            rcpt_print(Attrs::new(), &rcpt)
        })
        .collect();
    Request {
        transport: transport.to_string(),
        attrs,
        rcpts,
        ipc_timeout: timeouts.0,
        daemon_timeout: timeouts.1,
    }
}

/// Connects to the agent at `path`, non-blocking (Postfix's `mail_connect` with
/// NON_BLOCKING): the socket is made non-blocking and closed on exec as it is created,
/// with no timeouts to set, since nothing on it ever blocks. When the agent's listen
/// queue is full, a non-blocking connect fails at once where a blocking one waits; that
/// case waits, up to `ipc_timeout`, as global's mail_connect does.
fn connect(path: &str, ipc_timeout: Duration) -> std::io::Result<UnixStream> {
    use sys::nix::errno::Errno;
    use sys::nix::sys::socket::{self, AddressFamily, SockFlag, SockType, UnixAddr};
    let made = socket::socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    );
    let connected = made.and_then(|fd| {
        let address = UnixAddr::new(path)?;
        socket::connect(std::os::fd::AsRawFd::as_raw_fd(&fd), &address)?;
        Ok(fd)
    });
    match connected {
        Ok(fd) => {
            if log::verbose() > 0 {
                log::msg_info!("connect to subsystem {path}");
            }
            Ok(UnixStream::from(fd))
        }
        Err(Errno::EAGAIN) => {
            let (class, name) = path.split_once('/').unwrap_or(("private", path));
            let stream = global::mail_connect::connect(class, name, ipc_timeout)?;
            stream.set_nonblocking(true)?;
            Ok(stream)
        }
        Err(e) => {
            let e = std::io::Error::from(e);
            if log::verbose() > 0 {
                log::msg_info!("connect to subsystem {path}: {}", sys::os_error(&e));
            }
            Err(e)
        }
    }
}

/// Where a delivery's conversation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Waiting out a transport rate delay before connecting.
    Delay,
    /// Connected, waiting for the agent's `delivery_request_protocol` greeting.
    Greeting,
    /// Writing the request.
    Sending,
    /// Waiting for the agent's status.
    Status,
}

/// One delivery request in progress (Postfix's `qmgr_deliver` and its callbacks).
pub struct Delivery {
    request: Request,
    step: Step,
    stream: Option<UnixStream>,
    /// Bytes from the agent not yet used.
    input: Vec<u8>,
    /// The request, and how much of it was written.
    output: Vec<u8>,
    written: usize,
    /// When the current step times out (or, while delayed, when to connect).
    deadline: Instant,
}

/// The bytes of one complete attribute list (`name\0value\0...\0`) at the start of
/// `input`, if it is all there.
fn complete_list(input: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let name_end = at + input[at..].iter().position(|&b| b == 0)?;
        if name_end == at {
            return Some(at + 1);
        }
        at = name_end + 1;
        at += input[at..].iter().position(|&b| b == 0)? + 1;
    }
}

impl Delivery {
    /// A delivery of `request` that connects after `delay`.
    pub fn new(request: Request, delay: Duration) -> Delivery {
        Delivery {
            request,
            step: Step::Delay,
            stream: None,
            input: Vec::new(),
            output: Vec::new(),
            written: 0,
            deadline: Instant::now() + delay,
        }
    }

    /// The socket and whether it waits to write (else to read); None while delayed.
    pub fn socket(&self) -> Option<(&UnixStream, bool)> {
        self.stream
            .as_ref()
            .map(|s| (s, self.step == Step::Sending))
    }

    /// When it needs attention even without I/O.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    fn path(&self) -> String {
        format!("private/{}", self.request.transport)
    }

    /// Moves the conversation on as far as it goes without waiting; the outcome once it
    /// has ended.
    pub fn advance(&mut self, now: Instant) -> Option<Outcome> {
        loop {
            let before = self.step;
            let ended = match self.step {
                Step::Delay => self.connect(now)?,
                Step::Greeting => self.greeting(now)?,
                Step::Sending => self.send(now)?,
                Step::Status => self.status(now)?,
            };
            if let Some(outcome) = ended {
                return Some(outcome);
            }
            // A step that reads begins at the poll that says there is something to
            // read: the greeting cannot be there as the connection is made, nor the
            // status as the request is written, and a read to hear EAGAIN is a wasted
            // system call (Postfix's qmgr too returns to its event loop there).
            if self.step == before || matches!(self.step, Step::Greeting | Step::Status) {
                return None;
            }
        }
    }

    /// Connects when the delay is over. The outer None: not yet.
    fn connect(&mut self, now: Instant) -> Option<Option<Outcome>> {
        if now < self.deadline {
            return None;
        }
        match connect(&self.path(), self.request.ipc_timeout) {
            Ok(stream) => {
                self.stream = Some(stream);
                self.step = Step::Greeting;
                self.deadline = now + self.request.ipc_timeout;
                Some(None)
            }
            Err(e) => {
                log::msg_warn!(
                    "connect to transport {}: {}",
                    self.path(),
                    sys::os_error(&e)
                );
                Some(Some(Outcome::crash("mail transport unavailable")))
            }
        }
    }

    /// Reads what the agent has sent, until a whole attribute list is in or nothing is
    /// left to read: Ok(true) at end of file.
    fn fill(&mut self) -> std::io::Result<bool> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(true);
        };
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return Ok(true),
                Ok(n) => {
                    self.input.extend_from_slice(&buf[..n]);
                    // A whole list is all this step needs: no read just to hear EAGAIN.
                    if complete_list(&self.input).is_some() {
                        return Ok(false);
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
    }

    /// Takes one complete attribute list off the input, if there is one.
    fn take_list(&mut self) -> Option<std::io::Result<Option<Attrs>>> {
        let len = complete_list(&self.input)?;
        let list: Vec<u8> = self.input.drain(..len).collect();
        Some(ipc::attr::read(&mut list.as_slice(), Flavor::Null))
    }

    /// The connection's name in warnings: mail_connect()'s stream path.
    fn stream_path(&self) -> String {
        format!("{} socket", self.path())
    }

    fn greeting(&mut self, now: Instant) -> Option<Option<Outcome>> {
        let filled = self.fill();
        // Whatever went wrong, Postfix's attr_scan() failed ("premature disconnect" is
        // for a failed FIONREAD only, which a closed connection does not make).
        let complete = match self.take_list() {
            Some(Ok(Some(a))) => a.get_str(mail_attr::PROTO) == Ok("delivery_request_protocol"),
            Some(_) => false,
            None if filled.is_err() || filled.is_ok_and(|eof| eof) || now >= self.deadline => false,
            None => return None,
        };
        if !complete {
            log::msg_warn!("{}: malformed response", self.stream_path());
            return Some(Some(Outcome::crash("mail transport unavailable")));
        }
        let mut output = Vec::new();
        for list in std::iter::once(&self.request.attrs).chain(&self.request.rcpts) {
            if let Err(e) = ipc::attr::write(&mut output, Flavor::Null, list) {
                log::msg_panic!("qmgr_deliver: encode request: {e}");
            }
        }
        self.output = output;
        self.step = Step::Sending;
        self.deadline = now + self.request.ipc_timeout;
        Some(None)
    }

    fn send(&mut self, now: Instant) -> Option<Option<Outcome>> {
        let stream = self.stream.as_mut()?;
        while self.written < self.output.len() {
            match stream.write(&self.output[self.written..]) {
                Ok(n) => self.written += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if now < self.deadline {
                        return None;
                    }
                    let e = std::io::Error::from(ErrorKind::TimedOut);
                    return Some(Some(self.write_failed(&e)));
                }
                Err(e) => return Some(Some(self.write_failed(&e))),
            }
        }
        if log::verbose() > 0 {
            log::msg_info!(
                "qmgr_deliver: site `{}'",
                self.request.attrs.get_str(mail_attr::NEXTHOP).unwrap_or("")
            );
        }
        self.output = Vec::new();
        self.step = Step::Status;
        self.deadline = now + self.request.daemon_timeout;
        Some(None)
    }

    fn write_failed(&self, e: &std::io::Error) -> Outcome {
        log::msg_warn!(
            "write to process ({}): {}",
            self.request.transport,
            sys::os_error(e)
        );
        Outcome::crash("unknown mail transport error")
    }

    fn status(&mut self, now: Instant) -> Option<Option<Outcome>> {
        let filled = self.fill();
        let socket = self.stream_path();
        match self.take_list() {
            Some(Ok(Some(reply))) => Some(Some(final_reply(&socket, &reply))),
            // A reply cut short by the agent's death is malformed to Postfix's
            // attr_scan(), as a broken one is.
            Some(_) => {
                log::msg_warn!("{socket}: malformed response");
                Some(Some(Outcome::crash("unknown mail transport error")))
            }
            None if filled.is_err() || filled.is_ok_and(|eof| eof) => {
                log::msg_warn!("{socket}: malformed response");
                Some(Some(Outcome::crash("unknown mail transport error")))
            }
            None if now >= self.deadline => {
                log::msg_warn!(
                    "{}: timeout receiving delivery status from transport: {}",
                    self.request.attrs.get_str(mail_attr::QUEUEID).unwrap_or(""),
                    self.request.transport
                );
                Some(Some(Outcome::crash("unknown mail transport error")))
            }
            None => None,
        }
    }
}

/// The status list: the DSN (status, diag_type, diag_text, mta_type, mta_mname, action,
/// reason), then the numeric status under the same name as the DSN status.
fn final_reply(path: &str, reply: &Attrs) -> Outcome {
    let values: Vec<(&[u8], &[u8])> = reply.iter().collect();
    let names: Vec<&[u8]> = values.iter().map(|(n, _)| *n).collect();
    let expected: [&[u8]; 8] = [
        b"status",
        b"diag_type",
        b"diag_text",
        b"mta_type",
        b"mta_mname",
        b"action",
        b"reason",
        b"status",
    ];
    let numeric = values
        .get(7)
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
        .and_then(|v| v.parse::<u32>().ok());
    let (true, Some(numeric)) = (names == expected, numeric) else {
        log::msg_warn!("{path}: malformed response");
        return Outcome::crash("unknown mail transport error");
    };
    let text = |i: usize| util::eight_bit::to_text(values[i].1).into_owned();
    let (mut dsn_status, mut reason) = (text(0), text(6));
    // Sanitise what the agent says about a site problem.
    if !dsn_status.is_empty() {
        if global::dsn_util::dsn_valid(&dsn_status) == 0 {
            dsn_status = "4.0.0".to_string();
        }
        if reason.is_empty() {
            reason = "unknown error".to_string();
        }
    }
    Outcome {
        status: if numeric != 0 {
            Status::Defer
        } else {
            Status::Ok
        },
        dsn_status,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: &str, reason: &str, numeric: i32) -> Attrs {
        Attrs::new()
            .str("status", status)
            .str("diag_type", "")
            .str("diag_text", "")
            .str("mta_type", "")
            .str("mta_mname", "")
            .str("action", "")
            .str("reason", reason)
            .int("status", numeric)
    }

    #[test]
    fn attribute_lists_are_taken_only_when_complete() {
        assert_eq!(complete_list(b"\0"), Some(1));
        assert_eq!(
            complete_list(b"protocol\0delivery_request_protocol\0\0rest"),
            Some(36)
        );
        assert_eq!(
            complete_list(b"protocol\0delivery_request_protocol\0"),
            None
        );
        assert_eq!(complete_list(b"protocol\0deliv"), None);
        assert_eq!(complete_list(b""), None);
    }

    #[test]
    fn final_replies() {
        let ok = final_reply("private/x", &reply("", "", 0));
        assert_eq!(ok.status, Status::Ok);
        let site = final_reply("private/x", &reply("4.4.1", "connect to x: refused", 1));
        assert_eq!(site.status, Status::Defer);
        assert_eq!(site.reason, "connect to x: refused");
        let short = final_reply("private/x", &Attrs::new().int("status", 0));
        assert_eq!(short.status, Status::Crash);
        let weird = final_reply("private/x", &reply("9.9", "", 1));
        assert_eq!(
            (weird.dsn_status.as_str(), weird.reason.as_str()),
            ("4.0.0", "unknown error")
        );
    }
}
