//! Sending one query to the configured name servers and bringing back one reply.
//!
//! Postfix counterpart: none of its own; Postfix relies on `res_nsend()`, and this follows
//! glibc's `res_send.c`: each of `attempts` rounds asks every server in turn (from the next
//! one each query with `rotate`), waiting `timeout` for each; a datagram that is not the
//! reply to this query (another id, another question, not a response) is ignored; SERVFAIL,
//! NOTIMP and REFUSED move on to the next server; a truncated UDP reply is asked again over
//! TCP of the same server. Replies are bounded by the protocol (64 KiB), and every wait by
//! the timeout, so a hostile or dead server costs at most `attempts` x servers x `timeout`.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use hickory_proto::op::{Header, Query};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};

use crate::resolv_conf::ResolvConf;

/// The largest DNS message (a TCP length prefix is 16 bits; so is a UDP length).
const MAX_MESSAGE: usize = 65535;
/// The reply codes after which glibc tries the next server.
const NEXT_SERVER_RCODES: [u16; 3] = [2, 4, 5]; // SERVFAIL, NOTIMP, REFUSED

/// What to send: the encoded query, its id and its question (to recognise the reply).
pub(crate) struct Request<'a> {
    pub bytes: &'a [u8],
    pub id: u16,
    pub question: &'a Query,
}

/// Sends `request` as `conf` says, starting at server `first`. The error is the reply code
/// of the last server that answered with one of the "next server" codes, if any.
pub(crate) fn send(
    conf: &ResolvConf,
    request: &Request<'_>,
    first: usize,
) -> Result<Vec<u8>, Option<u16>> {
    let servers = &conf.nameservers;
    let mut last_rcode = None;
    for _ in 0..conf.attempts.max(1) {
        for k in 0..servers.len() {
            let server = servers[(first + k) % servers.len()];
            let mut tcp = conf.use_vc;
            // UDP, then TCP of the same server if the reply was truncated.
            while let Ok(reply) = exchange(server, request, conf.timeout, tcp) {
                let rcode = rcode(&reply);
                if NEXT_SERVER_RCODES.contains(&rcode) {
                    last_rcode = Some(rcode);
                    break;
                }
                if tcp || !truncated(&reply) {
                    return Ok(reply);
                }
                tcp = true;
            }
        }
    }
    Err(last_rcode)
}

/// One question to one server over UDP or TCP, within `timeout`.
fn exchange(
    server: SocketAddr,
    request: &Request<'_>,
    timeout: Duration,
    tcp: bool,
) -> io::Result<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    if tcp {
        exchange_tcp(server, request, deadline)
    } else {
        exchange_udp(server, request, deadline)
    }
}

fn exchange_udp(
    server: SocketAddr,
    request: &Request<'_>,
    deadline: Instant,
) -> io::Result<Vec<u8>> {
    let local = match server {
        SocketAddr::V4(_) => SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        SocketAddr::V6(_) => SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)),
    };
    let socket = UdpSocket::bind(local)?;
    // Connected: the kernel drops datagrams from other addresses, and an ICMP "port
    // unreachable" ends the wait at once (ECONNREFUSED), as with glibc.
    socket.connect(server)?;
    socket.send(request.bytes)?;
    let mut buf = vec![0; MAX_MESSAGE];
    loop {
        socket.set_read_timeout(Some(remaining(deadline)?))?;
        let len = socket.recv(&mut buf)?;
        if is_reply(&buf[..len], request) {
            buf.truncate(len);
            return Ok(buf);
        }
    }
}

fn exchange_tcp(
    server: SocketAddr,
    request: &Request<'_>,
    deadline: Instant,
) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect_timeout(&server, remaining(deadline)?)?;
    let len = u16::try_from(request.bytes.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "query too long"))?;
    stream.set_write_timeout(Some(remaining(deadline)?))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(request.bytes);
    stream.write_all(&framed)?;
    let mut read = |buf: &mut [u8]| -> io::Result<()> {
        stream.set_read_timeout(Some(remaining(deadline)?))?;
        stream.read_exact(buf)
    };
    let mut prefix = [0; 2];
    read(&mut prefix)?;
    let mut reply = vec![0; usize::from(u16::from_be_bytes(prefix))];
    read(&mut reply)?;
    if is_reply(&reply, request) {
        Ok(reply)
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidData, "not the reply"))
    }
}

/// The time left before `deadline`, or a timeout error when there is none.
fn remaining(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::ErrorKind::TimedOut.into())
    } else {
        Ok(left)
    }
}

/// Whether `reply` answers `request`: a response with its id and the same single question
/// (names compared in any case), as glibc's `res_queriesmatch()` requires.
fn is_reply(reply: &[u8], request: &Request<'_>) -> bool {
    let mut decoder = BinDecoder::new(reply);
    let Ok(header) = Header::read(&mut decoder) else {
        return false;
    };
    if header.metadata.id != request.id
        || header.metadata.message_type != hickory_proto::op::MessageType::Response
        || header.counts.queries != 1
    {
        return false;
    }
    Query::read(&mut decoder).is_ok_and(|q| {
        q.query_type() == request.question.query_type()
            && q.query_class() == request.question.query_class()
            && q.name().eq_ignore_root(request.question.name())
    })
}

/// The AD bit of a reply that [`is_reply`] accepted.
pub(crate) fn authentic(reply: &[u8]) -> bool {
    reply.get(3).is_some_and(|flags| flags & 0x20 != 0)
}

/// The TC bit of a reply that [`is_reply`] accepted.
fn truncated(reply: &[u8]) -> bool {
    reply.get(2).is_some_and(|flags| flags & 0x02 != 0)
}

/// The RCODE of a reply that [`is_reply`] accepted.
pub(crate) fn rcode(reply: &[u8]) -> u16 {
    reply.get(3).map_or(0, |flags| u16::from(flags & 0x0f))
}
