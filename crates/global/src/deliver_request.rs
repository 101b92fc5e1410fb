//! The delivery agent's side of the delivery request protocol.
//!
//! Postfix counterparts: `global/deliver_request.c`, `global/deliver_request.h` (the
//! `DEL_REQ_FLAG_*` and `DEL_RCPT_STAT_*` values) and `global/mail_open_ok.c`. A
//! delivery agent announces `delivery_request_protocol` as soon as the queue manager
//! connects (the master runs a limited number of agents, and the queue manager must not
//! block writing to one that is busy); the queue manager may then change its mind and
//! hang up. Otherwise it sends the request: one list with the message's attributes and
//! its time stamps, then one list per recipient, each read strictly (a list that is not
//! exactly Postfix's is refused). The agent opens the queue file read-write with a
//! shared lock, so that a queue manager restarted in the middle of a delivery never
//! hands out the same file again, delivers, and answers with the status of the site
//! (a DSN, empty when there was no site problem) and 0 when every recipient was dealt
//! with (`DEL_STAT_FINAL`), else -1 (`DEL_STAT_DEFER`).

use crate::dsn_print::{Dsn, dsn_print};
use crate::mail_queue::Layout;
use crate::msg_stats::MsgStats;
use crate::rcpt_print::{Recipient, rcpt_scan};
use ipc::{Attrs, Flavor, mail_attr};
use std::fs::File;
use std::io::{BufRead, Write};
use sys::nix::fcntl::{Flock, FlockArg};
use util::eight_bit::{to_bytes, to_text};

/// Delete recipients that were delivered (`DEL_REQ_FLAG_SUCCESS`).
pub const DEL_REQ_FLAG_SUCCESS: i32 = 1 << 0;
/// Delete recipients that were bounced (`DEL_REQ_FLAG_BOUNCE`).
pub const DEL_REQ_FLAG_BOUNCE: i32 = 1 << 1;
/// Both: what an ordinary delivery asks (`DEL_REQ_FLAG_DEFLT`).
pub const DEL_REQ_FLAG_DEFLT: i32 = DEL_REQ_FLAG_SUCCESS | DEL_REQ_FLAG_BOUNCE;
/// An address probe from the verify service: deliver nothing, answer it
/// (`DEL_REQ_FLAG_MTA_VRFY`).
pub const DEL_REQ_FLAG_MTA_VRFY: i32 = 1 << 8;
/// A user's address probe (sendmail -bv): deliver nothing, report
/// (`DEL_REQ_FLAG_USR_VRFY`).
pub const DEL_REQ_FLAG_USR_VRFY: i32 = 1 << 9;
/// Deliver and report (sendmail -v) (`DEL_REQ_FLAG_RECORD`).
pub const DEL_REQ_FLAG_RECORD: i32 = 1 << 10;
/// Consult the opportunistic connection cache (`DEL_REQ_FLAG_CONN_LOAD`).
pub const DEL_REQ_FLAG_CONN_LOAD: i32 = 1 << 11;
/// Update the opportunistic connection cache (`DEL_REQ_FLAG_CONN_STORE`).
pub const DEL_REQ_FLAG_CONN_STORE: i32 = 1 << 12;
/// Report deliveries that were delayed (`DEL_REQ_FLAG_REC_DLY_SENT`).
pub const DEL_REQ_FLAG_REC_DLY_SENT: i32 = 1 << 13;
/// The flags that ask for a trace record (`DEL_REQ_TRACE_FLAGS_MASK`).
pub const DEL_REQ_TRACE_FLAGS_MASK: i32 =
    DEL_REQ_FLAG_MTA_VRFY | DEL_REQ_FLAG_USR_VRFY | DEL_REQ_FLAG_RECORD | DEL_REQ_FLAG_REC_DLY_SENT;
/// The flags that mean "deliver nothing" (`DEL_REQ_TRACE_ONLY_MASK`).
pub const DEL_REQ_TRACE_ONLY_MASK: i32 = DEL_REQ_FLAG_MTA_VRFY | DEL_REQ_FLAG_USR_VRFY;

/// `DEL_REQ_TRACE_FLAGS(f)`: the tracing part of request flags.
pub fn trace_flags(flags: i32) -> i32 {
    flags & DEL_REQ_TRACE_FLAGS_MASK
}

/// `DEL_REQ_TRACE_ONLY(f)`: whether this is a probe that delivers nothing.
pub fn trace_only(flags: i32) -> bool {
    flags & DEL_REQ_TRACE_ONLY_MASK != 0
}

/// The recipient is deliverable (`DEL_RCPT_STAT_OK`).
pub const DEL_RCPT_STAT_OK: i32 = 0;
/// The recipient was deferred (`DEL_RCPT_STAT_DEFER`).
pub const DEL_RCPT_STAT_DEFER: i32 = 1;
/// The recipient bounced (`DEL_RCPT_STAT_BOUNCE`).
pub const DEL_RCPT_STAT_BOUNCE: i32 = 2;

/// Every recipient was delivered or bounced (`DEL_STAT_FINAL`).
pub const DEL_STAT_FINAL: i32 = 0;
/// Some recipient stays in the queue (`DEL_STAT_DEFER`).
pub const DEL_STAT_DEFER: i32 = -1;

/// The protocol a delivery agent announces.
pub const PROTO_DELIVER: &str = "delivery_request_protocol";

/// One delivery request (Postfix's `DELIVER_REQUEST`).
#[derive(Debug)]
pub struct DeliverRequest {
    /// The queue file, open read-write with a shared lock (None only while the request
    /// is being read).
    fp: Option<Flock<File>>,
    /// Its path, for messages.
    pub path: String,
    /// The queue it is in.
    pub queue_name: String,
    /// The queue ID.
    pub queue_id: String,
    /// `DEL_REQ_FLAG_*`.
    pub flags: i32,
    /// Where the message content starts in the queue file.
    pub data_offset: i64,
    /// The content's size.
    pub data_size: i64,
    /// The next hop: the destination, or the error text for the error agent.
    pub nexthop: String,
    /// `7bit`, `8bit` or empty.
    pub encoding: String,
    /// The SMTPUTF8 flags (`smtputf8`, the send options).
    pub smtputf8: i32,
    /// The envelope sender.
    pub sender: String,
    /// DSN ENVID.
    pub dsn_envid: String,
    /// DSN RET.
    pub dsn_ret: i32,
    /// The time stamps.
    pub msg_stats: MsgStats,
    /// The client's name, for Received: headers and the like.
    pub client_name: String,
    /// The client's address.
    pub client_addr: String,
    /// The client's port.
    pub client_port: String,
    /// The protocol the mail came in with (`ESMTP`).
    pub client_proto: String,
    /// The client's HELO name.
    pub client_helo: String,
    /// The SASL method.
    pub sasl_method: String,
    /// The SASL user name.
    pub sasl_username: String,
    /// The SASL sender.
    pub sasl_sender: String,
    /// The log identifier of the original submission.
    pub log_ident: String,
    /// The address rewriting context (`local` or `remote`).
    pub rewrite_context: String,
    /// The recipients.
    pub rcpt_list: Vec<Recipient>,
    /// The status of the site, reported with the final status (`hop_status`).
    pub hop_status: Option<Dsn>,
}

impl DeliverRequest {
    /// The queue file, open read-write with a shared lock.
    pub fn file(&self) -> &File {
        match &self.fp {
            Some(fp) => fp,
            None => log::msg_panic!("{}: queue file not open", self.queue_id),
        }
    }

    /// What a notice about the whole message needs.
    pub fn envelope(&self) -> crate::bounce::Envelope<'_> {
        crate::bounce::Envelope {
            queue: &self.queue_name,
            id: &self.queue_id,
            encoding: &self.encoding,
            smtputf8: self.smtputf8,
            sender: &self.sender,
            dsn_envid: &self.dsn_envid,
            dsn_ret: self.dsn_ret,
        }
    }
}

/// The common attributes of a request, in Postfix's order.
const COMMON: [&str; 23] = [
    "flags",
    "queue_name",
    "queue_id",
    "offset",
    "size",
    "nexthop",
    "encoding",
    "smtputf8",
    "sender",
    "envelope_id",
    "ret_flags",
    "time",
    "log_client_name",
    "log_client_address",
    "log_client_port",
    "log_protocol_name",
    "log_helo_name",
    "sasl_method",
    "sasl_username",
    "sasl_sender",
    "log_ident",
    "rewrite_context",
    "recipient_count",
];

/// The message's part of a delivery request as its sender writes it: the queue manager
/// (`qmgr_deliver.c`) and an agent that passes a recipient on to another
/// (`deliver_pass.c`) send the same list, the one [`deliver_request_read`] reads; the
/// recipients follow, one [`rcpt_print`](crate::rcpt_print::rcpt_print) list each. Text
/// that came in with 8-bit bytes goes out with the same bytes.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    /// `DEL_REQ_FLAG_*`.
    pub flags: i32,
    /// The queue the file is in.
    pub queue_name: &'a str,
    /// The queue ID.
    pub queue_id: &'a str,
    /// Where the message content starts in the queue file.
    pub data_offset: i64,
    /// The content's size.
    pub data_size: i64,
    /// The next hop.
    pub nexthop: &'a str,
    /// `7bit`, `8bit` or empty.
    pub encoding: &'a str,
    /// The SMTPUTF8 flags.
    pub smtputf8: i32,
    /// The envelope sender.
    pub sender: &'a str,
    /// DSN ENVID.
    pub dsn_envid: &'a str,
    /// DSN RET.
    pub dsn_ret: i32,
    /// The time stamps.
    pub msg_stats: &'a MsgStats,
    /// The client's name.
    pub client_name: &'a str,
    /// The client's address.
    pub client_addr: &'a str,
    /// The client's port.
    pub client_port: &'a str,
    /// The protocol the mail came in with.
    pub client_proto: &'a str,
    /// The client's HELO name.
    pub client_helo: &'a str,
    /// The SASL method.
    pub sasl_method: &'a str,
    /// The SASL user name.
    pub sasl_username: &'a str,
    /// The SASL sender.
    pub sasl_sender: &'a str,
    /// The log identifier of the original submission.
    pub log_ident: &'a str,
    /// The address rewriting context.
    pub rewrite_context: &'a str,
    /// How many recipient lists follow.
    pub rcpt_count: i32,
}

impl RequestHead<'_> {
    /// The attribute list, in Postfix's order ([`COMMON`]).
    pub fn attrs(&self) -> Attrs {
        let stats = crate::msg_stats::base64_encode(&self.msg_stats.encode());
        Attrs::new()
            .int(mail_attr::FLAGS, self.flags)
            .bytes("queue_name", &to_bytes(self.queue_name))
            .bytes(mail_attr::QUEUEID, &to_bytes(self.queue_id))
            .str("offset", &self.data_offset.to_string())
            .str("size", &self.data_size.to_string())
            .bytes(mail_attr::NEXTHOP, &to_bytes(self.nexthop))
            .bytes(mail_attr::ENCODING, &to_bytes(self.encoding))
            .int("smtputf8", self.smtputf8)
            .bytes("sender", &to_bytes(self.sender))
            .bytes(mail_attr::DSN_ENVID, &to_bytes(self.dsn_envid))
            .int(mail_attr::DSN_RET, self.dsn_ret)
            .str("time", &stats)
            .bytes("log_client_name", &to_bytes(self.client_name))
            .bytes("log_client_address", &to_bytes(self.client_addr))
            .bytes("log_client_port", &to_bytes(self.client_port))
            .bytes("log_protocol_name", &to_bytes(self.client_proto))
            .bytes("log_helo_name", &to_bytes(self.client_helo))
            .bytes("sasl_method", &to_bytes(self.sasl_method))
            .bytes("sasl_username", &to_bytes(self.sasl_username))
            .bytes("sasl_sender", &to_bytes(self.sasl_sender))
            .bytes("log_ident", &to_bytes(self.log_ident))
            .bytes(mail_attr::RWR_CONTEXT, &to_bytes(self.rewrite_context))
            .int("recipient_count", self.rcpt_count)
    }
}

impl DeliverRequest {
    /// The request's own list, to pass it on (`deliver_pass_send_request`); the caller
    /// sets the next hop and the recipient count it sends.
    pub fn head(&self) -> RequestHead<'_> {
        RequestHead {
            flags: self.flags,
            queue_name: &self.queue_name,
            queue_id: &self.queue_id,
            data_offset: self.data_offset,
            data_size: self.data_size,
            nexthop: &self.nexthop,
            encoding: &self.encoding,
            smtputf8: self.smtputf8,
            sender: &self.sender,
            dsn_envid: &self.dsn_envid,
            dsn_ret: self.dsn_ret,
            msg_stats: &self.msg_stats,
            client_name: &self.client_name,
            client_addr: &self.client_addr,
            client_port: &self.client_port,
            client_proto: &self.client_proto,
            client_helo: &self.client_helo,
            sasl_method: &self.sasl_method,
            sasl_username: &self.sasl_username,
            sasl_sender: &self.sasl_sender,
            log_ident: &self.log_ident,
            rewrite_context: &self.rewrite_context,
            rcpt_count: self.rcpt_list.len() as i32,
        }
    }
}

/// The final reply to a request as its sender reads it (`deliver_pass_final_reply`,
/// `qmgr_deliver_final_status`): exactly the list [`deliver_request_done`] writes, the
/// site's status and the numeric status. None when it is anything else.
pub fn deliver_reply_scan(reply: &Attrs) -> Option<(Dsn, i32)> {
    let expected = dsn_print(Attrs::new(), &Dsn::default()).int(mail_attr::STATUS, 0);
    if !reply.names().eq(expected.names()) {
        return None;
    }
    let text = |i: usize| to_text(reply.value(i)).into_owned();
    // Written as an unsigned number: DEL_STAT_DEFER arrives as 4294967295.
    let status = std::str::from_utf8(reply.value(7))
        .ok()?
        .parse::<u32>()
        .ok()? as i32;
    let dsn = Dsn {
        status: text(0),
        dtype: text(1),
        dtext: text(2),
        mtype: text(3),
        mname: text(4),
        action: text(5),
        reason: text(6),
    };
    Some((dsn, status))
}

/// What reading a request gave.
pub enum Incoming {
    /// A request to deliver.
    Request(Box<DeliverRequest>),
    /// The queue manager hung up without a request: nothing to answer.
    Gone,
    /// The request was refused (logged); answer it with [`deliver_request_done`] and
    /// [`DEL_STAT_DEFER`], as Postfix does.
    Refused,
}

/// Announces the protocol and reads a request from the queue manager
/// (`deliver_request_read`), opening the queue file from `layout`.
pub fn deliver_request_read(stream: &mut (impl BufRead + Write), layout: &Layout) -> Incoming {
    let hello = Attrs::new().str(mail_attr::PROTO, PROTO_DELIVER);
    if let Err(e) = ipc::attr::write(stream, Flavor::Null, &hello).and_then(|()| stream.flush()) {
        if log::verbose() > 0 {
            log::msg_warn!("send initial response: {}", sys::os_error(&e));
        }
        return Incoming::Gone;
    }
    // The queue manager may hang up instead of sending a request.
    match stream.fill_buf() {
        Ok([]) | Err(_) => return Incoming::Gone,
        Ok(_) => {}
    }
    match deliver_request_get(stream, layout) {
        Some(request) => Incoming::Request(Box::new(request)),
        None => Incoming::Refused,
    }
}

/// Reads the request and opens the queue file (`deliver_request_get`); None after a
/// logged refusal.
fn deliver_request_get(stream: &mut impl BufRead, layout: &Layout) -> Option<DeliverRequest> {
    const MYNAME: &str = "deliver_request_get";
    let common = ipc::attr::read(stream, Flavor::Null).ok().flatten();
    let Some(mut request) = common.as_ref().and_then(scan_common) else {
        log::msg_warn!("{MYNAME}: error receiving common attributes");
        return None;
    };
    let rcpt_count = common
        .as_ref()
        .and_then(|a| a.get_int("recipient_count"))
        .unwrap_or(0);
    if !mail_open_ok(layout, &request.queue_name, &request.queue_id) {
        return None;
    }
    log::work::queue_id(&request.queue_id);
    // Not reset after a hand-over from another agent (deliver_pass).
    if request.msg_stats.agent_handoff.0 == 0 {
        request.msg_stats.agent_handoff = crate::msg_stats::now();
    }
    for _ in 0..rcpt_count.max(0) {
        let list = ipc::attr::read(stream, Flavor::Null).ok().flatten();
        let Some(rcpt) = list.as_ref().and_then(rcpt_scan) else {
            log::msg_warn!("{MYNAME}: error receiving recipient attributes");
            return None;
        };
        request.rcpt_list.push(rcpt);
    }
    if request.rcpt_list.is_empty() {
        log::msg_warn!(
            "{}: no recipients in delivery request for destination {}",
            request.queue_id,
            request.nexthop
        );
        return None;
    }
    let path = layout.path(&request.queue_name, &request.queue_id);
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
    {
        Ok(file) => file,
        // Running out of resources must not throw mail away: back off and retry.
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => log::msg_fatal!(
            "open {} {}: {}",
            request.queue_name,
            request.queue_id,
            sys::os_error(&e)
        ),
        Err(e) => {
            log::msg_warn!(
                "open {} {}: {}",
                request.queue_name,
                request.queue_id,
                sys::os_error(&e)
            );
            return None;
        }
    };
    if log::verbose() > 0 {
        log::msg_info!("{MYNAME}: file {path}");
    }
    let fp = match Flock::lock(file, FlockArg::LockSharedNonblock) {
        Ok(fp) => fp,
        Err((_, errno)) => log::msg_fatal!("shared lock {path}: {}", errno.desc()),
    };
    request.fp = Some(fp);
    request.path = path;
    Some(request)
}

/// The request's common attributes, if they are exactly Postfix's; the file is not
/// open yet.
fn scan_common(attrs: &Attrs) -> Option<DeliverRequest> {
    if !attrs.names_are(&COMMON) {
        return None;
    }
    let text = |i: usize| to_text(attrs.value(i)).into_owned();
    let int = |i: usize| {
        let v = std::str::from_utf8(attrs.value(i)).ok()?;
        v.parse::<u32>().ok().map(|v| v as i32)
    };
    let long = |i: usize| {
        std::str::from_utf8(attrs.value(i))
            .ok()?
            .parse::<i64>()
            .ok()
    };
    let stats = crate::msg_stats::base64_decode(attrs.value(11))?;
    let msg_stats = match MsgStats::decode(&stats) {
        Some(stats) => stats,
        None => {
            log::msg_warn!(
                "msg_stats_scan: size mis-match: {} != {}",
                stats.len(),
                crate::msg_stats::SIZE
            );
            return None;
        }
    };
    Some(DeliverRequest {
        fp: None,
        path: String::new(),
        flags: int(0)?,
        queue_name: text(1),
        queue_id: text(2),
        data_offset: long(3)?,
        data_size: long(4)?,
        nexthop: text(5),
        encoding: text(6),
        smtputf8: int(7)?,
        sender: text(8),
        dsn_envid: text(9),
        dsn_ret: int(10)?,
        msg_stats,
        client_name: text(12),
        client_addr: text(13),
        client_port: text(14),
        client_proto: text(15),
        client_helo: text(16),
        sasl_method: text(17),
        sasl_username: text(18),
        sasl_sender: text(19),
        log_ident: text(20),
        rewrite_context: text(21),
        rcpt_list: Vec::new(),
        hop_status: None,
    })
}

/// Whether queue file `id` in `queue` may be opened (`mail_open_ok`): good names, and
/// a complete regular file (queue_read checks and logs the file's side).
fn mail_open_ok(layout: &Layout, queue: &str, id: &str) -> bool {
    if !crate::mail_queue::name_ok(queue) {
        log::msg_warn!("bad mail queue name: {queue}");
        return false;
    }
    crate::mail_queue::id_ok(id) && crate::queue_read::open_ok(&layout.path(queue, id)).is_some()
}

/// Answers the queue manager (`deliver_request_done`): the site's status (`hop_status`,
/// an empty status when there was no site problem) and `status` (`DEL_STAT_FINAL` or
/// `DEL_STAT_DEFER`); then waits until the queue manager hangs up, as some systems
/// lose data written just before a close.
pub fn deliver_request_done(
    stream: &mut (impl BufRead + Write),
    hop_status: Option<&Dsn>,
    status: i32,
) -> std::io::Result<()> {
    let none = Dsn::default();
    let hop = hop_status.unwrap_or(&none);
    if log::verbose() > 0 {
        log::msg_info!("deliver_request_final: send: \"{}\" {status}", hop.reason);
    }
    let reply = dsn_print(Attrs::new(), hop).int(mail_attr::STATUS, status);
    let sent = ipc::attr::write(stream, Flavor::Null, &reply).and_then(|()| stream.flush());
    if let Err(e) = &sent
        && log::verbose() > 0
    {
        log::msg_warn!("send final status: {}", sys::os_error(e));
    }
    let mut byte = [0u8; 1];
    let _ = stream.read(&mut byte);
    sent
}

/// A queue manager's connection for the protocol: reads buffered, writes direct.
pub struct Client<S>(std::io::BufReader<S>);

impl<S: std::io::Read> Client<S> {
    /// Wraps a connection.
    pub fn new(stream: S) -> Client<S> {
        // 1 kB, not std's 8 kB: the standard library zeroes a new reader's buffer on its
        // first read, once per delivery here, and under callgrind an 8 kB buffer cost
        // virtual 12,000 instructions per delivery more (of 144,000) with the same two
        // receive calls for a one-recipient request.
        Client(std::io::BufReader::with_capacity(1024, stream))
    }
}

impl<S: std::io::Read> std::io::Read for Client<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl<S: std::io::Read> BufRead for Client<S> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.0.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.0.consume(amount)
    }
}

impl<S: std::io::Read + Write> Write for Client<S> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.get_mut().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.get_mut().flush()
    }
}

/// One connection from the queue manager, start to end: read the request, `deliver`
/// it, answer with its status (`DEL_STAT_FINAL` or `DEL_STAT_DEFER`) and the request's
/// hop status; a refused request is answered `DEL_STAT_DEFER`, as in Postfix.
pub fn deliver_request_serve<S: std::io::Read + Write>(
    stream: S,
    layout: &Layout,
    deliver: impl FnOnce(&mut DeliverRequest) -> i32,
) {
    let mut client = Client::new(stream);
    match deliver_request_read(&mut client, layout) {
        Incoming::Gone => {}
        Incoming::Refused => {
            let _ = deliver_request_done(&mut client, None, DEL_STAT_DEFER);
        }
        Incoming::Request(mut request) => {
            let status = deliver(&mut request);
            let _ = deliver_request_done(&mut client, request.hop_status.as_ref(), status);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rcpt_print::rcpt_print;
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::net::UnixStream;

    /// A queue with one complete file, `active/ID`.
    fn queue(what: &str, id: &str) -> Layout {
        let dir = crate::scratch_dir(what);
        std::fs::create_dir_all(dir.join("active")).unwrap();
        let path = dir.join("active").join(id);
        std::fs::write(&path, b"C....").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
        Layout {
            base: dir,
            hash_queue_names: Vec::new(),
            hash_queue_depth: 1,
            long_queue_ids: false,
        }
    }

    /// The request as the queue manager sends it.
    fn request(id: &str, rcpts: &[Recipient]) -> Vec<Attrs> {
        let stats = MsgStats {
            incoming_arrival: (1000, 1),
            active_arrival: (1001, 2),
            ..MsgStats::default()
        };
        let mut attrs = Attrs::new();
        for (name, value) in COMMON.iter().zip([
            "257",
            "active",
            id,
            "120",
            "345",
            "example.com",
            "8bit",
            "0",
            "sender@example.com",
            "",
            "0",
            &crate::msg_stats::base64_encode(&stats.encode()),
            "client.example",
            "192.0.2.1",
            "25",
            "ESMTP",
            "helo.example",
            "",
            "",
            "",
            "4ABCDEF",
            "remote",
            &rcpts.len().to_string(),
        ]) {
            attrs = attrs.str(name, value);
        }
        let mut lists = vec![attrs];
        lists.extend(rcpts.iter().map(|r| rcpt_print(Attrs::new(), r)));
        lists
    }

    /// Runs one connection: the queue manager's side sends `lists` (or hangs up when
    /// there are none) and returns the agent's final reply.
    fn exchange(
        layout: &Layout,
        lists: Vec<Attrs>,
        deliver: impl FnOnce(&mut DeliverRequest) -> i32,
    ) -> Option<Attrs> {
        let (agent, qmgr) = UnixStream::pair().unwrap();
        let peer = std::thread::spawn(move || {
            let mut reader = std::io::BufReader::new(&qmgr);
            let hello = ipc::attr::read(&mut reader, Flavor::Null).unwrap().unwrap();
            assert_eq!(hello.get_str(mail_attr::PROTO), Ok(PROTO_DELIVER));
            if lists.is_empty() {
                return None;
            }
            let mut writer = &qmgr;
            for list in &lists {
                ipc::attr::write(&mut writer, Flavor::Null, list).unwrap();
            }
            let reply = ipc::attr::read(&mut reader, Flavor::Null).unwrap();
            drop(reader);
            reply
        });
        deliver_request_serve(agent, layout, deliver);
        peer.join().unwrap()
    }

    fn rcpt(address: &str, offset: i64) -> Recipient {
        Recipient {
            offset,
            address: address.into(),
            orig_addr: address.into(),
            ..Recipient::default()
        }
    }

    /// `attrs` without its attribute number `at`.
    fn without(attrs: &Attrs, at: usize) -> Attrs {
        (attrs.iter().enumerate())
            .filter_map(|(i, pair)| (i != at).then_some(pair))
            .collect()
    }

    #[test]
    fn a_request_is_read_and_answered() {
        let id = "4ABCDEF123";
        let layout = queue("deliver-request", id);
        let rcpts = [rcpt("a@example.com", 200), rcpt("b@example.com", 230)];
        let sent = request(id, &rcpts);
        let common = sent[0].clone();
        let reply = exchange(&layout, sent, |request| {
            // Passed on, it is the same list but for the hand-over time stamp.
            let passed = request.head().attrs();
            assert_eq!(passed.name(11), b"time");
            assert_eq!(without(&passed, 11), without(&common, 11));
            assert_eq!(request.queue_id, id);
            assert_eq!(request.flags, 257);
            assert_eq!((request.data_offset, request.data_size), (120, 345));
            assert_eq!(request.nexthop, "example.com");
            assert_eq!(request.sender, "sender@example.com");
            assert_eq!(request.msg_stats.active_arrival, (1001, 2));
            assert!(request.msg_stats.agent_handoff.0 > 0);
            assert_eq!(request.rcpt_list, rcpts);
            assert_eq!(request.client_helo, "helo.example");
            assert!(request.file().metadata().unwrap().is_file());
            request.hop_status = Some(Dsn::simple("4.4.1", "site down"));
            DEL_STAT_DEFER
        })
        .unwrap();
        assert_eq!(reply.get_str("status"), Ok("4.4.1"));
        assert_eq!(reply.get_str("reason"), Ok("site down"));
        assert_eq!(reply.len(), 8);
        assert_eq!(reply.value(7), b"4294967295");
        let site = Dsn::simple("4.4.1", "site down");
        assert_eq!(deliver_reply_scan(&reply), Some((site, DEL_STAT_DEFER)));
        let short = without(&reply, 5);
        assert_eq!(deliver_reply_scan(&short), None);
    }

    #[test]
    fn bad_requests_are_refused_and_a_hang_up_is_no_error() {
        let id = "4ABCDEF124";
        let layout = queue("deliver-request-bad", id);
        let mut lists = request(id, &[rcpt("a@example.com", 200)]);
        let first = &lists[0];
        let swapped: Attrs = [first.get(1).unwrap(), first.get(0).unwrap()]
            .into_iter()
            .chain(first.iter().skip(2))
            .collect();
        lists[0] = swapped;
        let reply = exchange(&layout, lists, |_| panic!("delivered")).unwrap();
        assert_eq!(reply.get_str("status"), Ok(""));
        assert_eq!(reply.value(7), b"4294967295");
        // No recipients, and a queue file that is not there.
        let none = exchange(&layout, request(id, &[]), |_| panic!("delivered")).unwrap();
        assert_eq!(none.value(7), b"4294967295");
        let gone = request("4ABCDEF999", &[rcpt("a@example.com", 200)]);
        let missing = exchange(&layout, gone, |_| panic!("delivered")).unwrap();
        assert_eq!(missing.value(7), b"4294967295");
        assert!(exchange(&layout, Vec::new(), |_| panic!("delivered")).is_none());
    }
}
