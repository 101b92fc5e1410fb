//! A small authoritative DNS server for the tests, on 127.0.0.1 at a random port (UDP and
//! TCP on the same port), serving a zone written as a text table, one record per line:
//!
//! ```text
//! example.com      MX   10 mx1.example.com
//! mx1.example.com  A    192.0.2.1
//! example.com      SOA  ns.example.com hostmaster.example.com 1 7200 900 86400 60
//! broken.example   SERVFAIL
//! ```
//!
//! Types: A, AAAA, MX, PTR, CNAME, NS, TXT (the rest of the line, or several "quoted"
//! strings), SOA. A name with no record type but a directive behaves so for every query:
//! `SERVFAIL`, `REFUSED`, `FORMERR` (that reply code), `TIMEOUT` (no reply at all),
//! `TRUNCATE` (over UDP an empty truncated reply, over TCP the records), `GARBAGE` (a
//! reply whose answer does not parse), `SECURE` (the records with the AD bit set, as a
//! validating resolver sends them). The name `*` matches every name. Otherwise: the
//! records of the asked type; else a lone CNAME (never followed, so the client follows
//! it); else NODATA if the name has other records, NXDOMAIN if not, with the SOA of the
//! closest enclosing zone in the authority section. UDP replies over 512 bytes (or the
//! query's EDNS size) are truncated, as a real server does.
//!
//! Every query is logged as `name TYPE udp|tcp` for the tests to check what was asked,
//! followed by ` +edns`, ` +do` and ` +ad` when the query has EDNS0, the DO bit, the AD bit.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, PTR, SOA, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// How often the server threads look at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// One line of the zone table.
enum Entry {
    Record(Box<Record>),
    Directive(String),
}

struct Zone {
    entries: Vec<(String, Entry)>,
}

/// A running server; it stops when dropped.
pub struct TestServer {
    /// The port of both the UDP and the TCP socket.
    pub port: u16,
    log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server for the zone in `table`.
    pub fn start(table: &str) -> TestServer {
        let zone = Arc::new(Zone::parse(table));
        let (udp, tcp) = bind_pair();
        let port = udp.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = vec![
            spawn_udp(udp, zone.clone(), log.clone(), stop.clone()),
            spawn_tcp(tcp, zone, log.clone(), stop.clone()),
        ];
        TestServer {
            port,
            log,
            stop,
            threads,
        }
    }

    /// The address clients reach the server at.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The queries received so far, `name TYPE transport`.
    pub fn queries(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Forgets the queries received so far.
    pub fn clear(&self) {
        self.log.lock().unwrap().clear();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A new private directory for one test.
pub fn scratch(test: &str) -> PathBuf {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ironpost-dns-{}-{}-{test}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Every log record goes to one capture, installed once per test binary.
pub fn capture() -> log::Capture {
    static CAPTURE: Mutex<Option<log::Capture>> = Mutex::new(None);
    let mut capture = CAPTURE.lock().unwrap();
    capture
        .get_or_insert_with(|| {
            let capture = log::Capture::default();
            log::retain_sinks(|_| false);
            log::add_sink(Box::new(capture.clone()));
            capture
        })
        .clone()
}

/// Whether the capture holds `line`.
pub fn logged(line: &str) -> bool {
    capture().lines().iter().any(|l| l == line)
}

fn bind_pair() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if let Ok(tcp) = TcpListener::bind(("127.0.0.1", port)) {
            return (udp, tcp);
        }
    }
    panic!("no free port pair");
}

fn spawn_udp(
    socket: UdpSocket,
    zone: Arc<Zone>,
    log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    socket.set_read_timeout(Some(POLL)).unwrap();
    std::thread::spawn(move || {
        let mut buf = vec![0; 65536];
        while !stop.load(Ordering::Relaxed) {
            let Ok((len, peer)) = socket.recv_from(&mut buf) else {
                continue;
            };
            if let Some(reply) = zone.answer(&buf[..len], false, &log) {
                let _ = socket.send_to(&reply, peer);
            }
        }
    })
}

fn spawn_tcp(
    listener: TcpListener,
    zone: Arc<Zone>,
    log: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((stream, _)) => serve_tcp(stream, &zone, &log, &stop),
                Err(_) => std::thread::sleep(POLL),
            }
        }
    })
}

/// Answers length-prefixed queries on one connection until the client closes it.
fn serve_tcp(mut stream: TcpStream, zone: &Zone, log: &Mutex<Vec<String>>, stop: &AtomicBool) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(POLL)).unwrap();
    let mut pending = Vec::new();
    let mut buf = [0; 4096];
    while !stop.load(Ordering::Relaxed) {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                continue;
            }
            Err(_) => return,
        }
        while pending.len() >= 2 {
            let len = usize::from(u16::from_be_bytes([pending[0], pending[1]]));
            if pending.len() < 2 + len {
                break;
            }
            let query: Vec<u8> = pending.drain(..2 + len).skip(2).collect();
            if let Some(reply) = zone.answer(&query, true, log) {
                let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
                framed.extend_from_slice(&reply);
                let _ = stream.write_all(&framed);
            }
        }
    }
}

impl Zone {
    fn parse(table: &str) -> Zone {
        let mut entries = Vec::new();
        for line in table.lines() {
            let line = line.split(" #").next().unwrap().trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (owner, rest) = line
                .split_once(char::is_whitespace)
                .expect("a type or directive");
            let owner = owner.to_ascii_lowercase();
            let rest = rest.trim_start();
            let (kind, data) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            let data = data.trim();
            let entry = match record(&owner, kind, data) {
                Some(record) => Entry::Record(Box::new(record)),
                None => Entry::Directive(kind.to_string()),
            };
            entries.push((owner, entry));
        }
        Zone { entries }
    }

    /// The reply to `query`, or none (for `TIMEOUT` and unparsable queries).
    fn answer(&self, query: &[u8], tcp: bool, log: &Mutex<Vec<String>>) -> Option<Vec<u8>> {
        let request = Message::from_vec(query).ok()?;
        let question = request.queries.first()?.clone();
        let qname = question
            .name()
            .to_ascii()
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let qtype = question.query_type();
        let flags = match &request.edns {
            Some(edns) if edns.flags().dnssec_ok => " +edns +do",
            Some(_) => " +edns",
            None => "",
        };
        let ad = if request.metadata.authentic_data {
            " +ad"
        } else {
            ""
        };
        log.lock().unwrap().push(format!(
            "{qname} {qtype} {}{flags}{ad}",
            if tcp { "tcp" } else { "udp" }
        ));
        let mut reply = Message::response(request.metadata.id, OpCode::Query);
        reply.metadata.recursion_desired = request.metadata.recursion_desired;
        reply.metadata.recursion_available = true;
        reply.add_query(question);
        let directive = self.entries.iter().find_map(|(owner, entry)| match entry {
            Entry::Directive(d) if owner == &qname || owner == "*" => Some(d.as_str()),
            _ => None,
        });
        match directive {
            Some("TIMEOUT") => return None,
            Some("SERVFAIL") => reply.metadata.response_code = ResponseCode::ServFail,
            Some("REFUSED") => reply.metadata.response_code = ResponseCode::Refused,
            Some("FORMERR") => reply.metadata.response_code = ResponseCode::FormErr,
            Some("TRUNCATE") if !tcp => reply.metadata.truncation = true,
            Some("GARBAGE") => return Some(garbage(&reply)),
            Some("SECURE") => {
                reply.metadata.authentic_data = true;
                self.fill(&mut reply, &qname, qtype);
            }
            _ => self.fill(&mut reply, &qname, qtype),
        }
        let bytes = reply.to_vec().ok()?;
        let limit = request
            .edns
            .as_ref()
            .map_or(512, |e| usize::from(e.max_payload()));
        if tcp || bytes.len() <= limit {
            return Some(bytes);
        }
        reply.answers.clear();
        reply.authorities.clear();
        reply.metadata.truncation = true;
        reply.to_vec().ok()
    }

    /// The records for `qname`: answers, or a negative reply with the zone's SOA.
    fn fill(&self, reply: &mut Message, qname: &str, qtype: RecordType) {
        let records: Vec<&Record> = self
            .entries
            .iter()
            .filter_map(|(owner, entry)| match entry {
                Entry::Record(r) if owner == qname => Some(&**r),
                _ => None,
            })
            .collect();
        let of_type: Vec<Record> = records
            .iter()
            .filter(|r| r.record_type() == qtype)
            .map(|r| (*r).clone())
            .collect();
        let cname = records
            .iter()
            .find(|r| r.record_type() == RecordType::CNAME);
        if !of_type.is_empty() {
            reply.add_answers(of_type);
        } else if let Some(cname) = cname {
            reply.add_answer((*cname).clone());
        } else {
            if records.is_empty() {
                reply.metadata.response_code = ResponseCode::NXDomain;
            }
            if let Some(soa) = self.soa_for(qname) {
                reply.add_authority(soa);
            }
        }
    }

    /// The SOA of the longest zone name that `qname` is in.
    fn soa_for(&self, qname: &str) -> Option<Record> {
        self.entries
            .iter()
            .filter_map(|(owner, entry)| match entry {
                Entry::Record(r) if r.record_type() == RecordType::SOA => Some((owner, &**r)),
                _ => None,
            })
            .filter(|(owner, _)| qname == owner.as_str() || qname.ends_with(&format!(".{owner}")))
            .max_by_key(|(owner, _)| owner.len())
            .map(|(_, r)| r.clone())
    }
}

/// A reply that claims one answer record and carries bytes that are not one.
fn garbage(reply: &Message) -> Vec<u8> {
    let mut bytes = reply.to_vec().unwrap();
    bytes[7] = 1; // ANCOUNT = 1
    bytes.extend_from_slice(&[0xc0, 0xff, 0x00]);
    bytes
}

fn name(text: &str) -> Name {
    let mut name = Name::from_ascii(text).unwrap();
    name.set_fqdn(true);
    name
}

/// A record line's record, or `None` for a directive.
fn record(owner: &str, kind: &str, data: &str) -> Option<Record> {
    let words: Vec<&str> = data.split_whitespace().collect();
    let rdata = match kind {
        "A" => RData::A(A(data.parse().unwrap())),
        "AAAA" => RData::AAAA(AAAA(data.parse().unwrap())),
        "MX" => RData::MX(MX::new(words[0].parse().unwrap(), name(words[1]))),
        "PTR" => RData::PTR(PTR(name(data))),
        "CNAME" => RData::CNAME(CNAME(name(data))),
        "NS" => RData::NS(NS(name(data))),
        "TXT" => RData::TXT(TXT::new(txt_strings(data))),
        "SOA" => {
            let n: Vec<u32> = words[2..].iter().map(|w| w.parse().unwrap()).collect();
            RData::SOA(SOA::new(
                name(words[0]),
                name(words[1]),
                n[0],
                n[1] as i32,
                n[2] as i32,
                n[3] as i32,
                n[4],
            ))
        }
        _ => return None,
    };
    Some(Record::from_rdata(name(owner), 300, rdata))
}

/// `"one" "two"` as two strings; anything else as one.
fn txt_strings(data: &str) -> Vec<String> {
    if !data.starts_with('"') {
        return vec![data.to_string()];
    }
    data.split('"')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}
