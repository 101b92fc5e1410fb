//! The SMTP client's settings that no other test changes, differential: the same mail
//! through Postfix 3.7's smtp and through ironpost's, both under ironpost's queue
//! manager, against scripted servers on loopback addresses (and a DNS server on
//! loopback, e2e::dns, where names are looked up). Each case compares the client's log
//! lines (queue IDs, delays and the servers' port taken out), what the servers saw
//! (connections, the peer's address, every command line), and the bounce notices where
//! there are some:
//!
//! - per-stage timeouts (smtp_*_timeout = 2s): a server that says nothing after the
//!   connection, after EHLO, MAIL, RCPT (with and without PIPELINING), DATA and the
//!   final dot, one that stops reading the message (smtp_data_xfer_timeout), and
//!   smtp_connect_timeout against a listener whose backlog is full;
//! - smtp_mx_address_limit and smtp_mx_session_limit over MX hosts with several
//!   addresses each: which addresses are tried;
//! - smtp_helo_name, smtp_bind_address, and inet_protocols = all with
//!   smtp_address_preference over a host with A and AAAA (::1) records;
//! - smtp_host_lookup = native (the chroot's hosts file; the MX lookup still goes to
//!   DNS) and dns, native; smtp_dns_support_level = disabled and disable_dns_lookups
//!   (no MX lookup, the hosts file only);
//! - sender_dependent_relayhost_maps (Postfix's trivial-rewrite on Postfix's side);
//! - the "SMTPUTF8 is required, but was not offered" bounce, and
//!   smtp_connection_reuse_time_limit (which messages share a connection).

use e2e::child::KillOnDrop;
use e2e::dns::DnsServer;
use e2e::{IRONPOST_DAEMONS, Instance, free_port, wait_until};
use std::path::Path;
use std::process::{Command, Stdio};

/// The scripted servers: one per address, each with its mode (ok, 421, rcpt450, a
/// stall-STAGE that goes silent at that stage, or blackhole: a listener whose backlog
/// is full); "+pipe" offers PIPELINING. Every connection (with its number per address
/// and the peer's address) and command line is written to the transcript as
/// "ADDR #N LINE".
const SERVER: &str = r#"
import socket, socketserver, sys, threading, time
port, transcript = int(sys.argv[1]), sys.argv[2]
modes = dict(a.split("=", 1) for a in sys.argv[3:])
lock = threading.Lock()
conns = {}
class H(socketserver.StreamRequestHandler):
    def out(self, text):
        self.wfile.write((text + "\r\n").encode()); self.wfile.flush()
    def log(self, line):
        with lock:
            with open(transcript, "a") as f: f.write("%s #%d %s\n" % (self.me, self.n, line))
    def stall(self):
        self.log("STALL")
        while self.rfile.readline(): pass
        self.log("CLOSED")
    def handle(self):
        self.me = self.request.getsockname()[0]
        flags = modes[self.me].split("+")
        mode = flags[0]
        with lock:
            conns[self.me] = conns.get(self.me, 0) + 1
            self.n = conns[self.me]
        self.log("CONNECT from %s" % self.client_address[0])
        if mode == "421":
            self.out("421 4.3.2 t71.sink.test Service shutting down"); return
        if mode == "stall-banner": return self.stall()
        self.out("220 t71.sink.test ESMTP scripted")
        while True:
            raw = self.rfile.readline()
            if not raw: return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ")[0].split(":")[0].upper()
            self.log(line)
            if mode == "stall-" + verb.lower(): return self.stall()
            if verb == "EHLO":
                pipe = "250-PIPELINING\r\n" if "pipe" in flags else ""
                self.out("250-t71.sink.test\r\n%s250 8BITMIME" % pipe)
            elif verb == "HELO": self.out("250 t71.sink.test")
            elif verb == "MAIL": self.out("250 2.1.0 Ok")
            elif verb == "RCPT":
                addr = line[line.index("<") + 1:line.index(">")]
                if mode == "rcpt450": self.out("450 4.2.0 <%s>: Recipient address rejected: Greylisted" % addr)
                else: self.out("250 2.1.5 Ok")
            elif verb == "DATA":
                self.out("354 End data with <CR><LF>.<CR><LF>")
                if mode == "stall-body":
                    # Read nothing more, however long the client takes to fill its
                    # buffers; it times out writing.
                    self.log("STALL"); time.sleep(3600)
                while True:
                    raw = self.rfile.readline()
                    if not raw: return
                    if raw.rstrip(b"\r\n") == b".": break
                self.log(".")
                if mode == "stall-dot": return self.stall()
                self.out("250 2.0.0 Ok: queued")
            elif verb == "RSET": self.out("250 2.0.0 Ok")
            elif verb == "QUIT": self.out("221 2.0.0 Bye"); return
            else: self.out("502 5.5.2 Error: command not recognized")
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    def server_bind(self):
        # A small receive window, so that a server that stops reading soon blocks
        # the client's writes.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        socketserver.ThreadingTCPServer.server_bind(self)
class S6(S):
    address_family = socket.AF_INET6
keep = []
for addr, mode in modes.items():
    if mode == "blackhole":
        # A backlog of 0 holds one connection: the filler's. Later SYNs are dropped,
        # so a client's connect() waits.
        s = socket.socket(); s.bind((addr, port)); s.listen(0)
        f = socket.socket(); f.connect((addr, port)); keep += [s, f]
        continue
    server = (S6 if ":" in addr else S)((addr, port), H)
    threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"#;

/// Starts the servers (`modes`: "ADDR=MODE") on `port`.
fn servers(port: u16, transcript: &Path, modes: &[&str]) -> KillOnDrop {
    e2e::child::spawn_ready(
        Command::new("python3")
            .args(["-c", SERVER, &port.to_string()])
            .arg(transcript)
            .args(modes)
            .stderr(Stdio::null()),
    )
    .expect("the scripted servers did not start")
}

/// An instance for one side, its servers' port and transcript.
struct Setup {
    mx: Instance,
    port: u16,
    transcript: std::path::PathBuf,
}

fn setup(mx: Instance) -> Setup {
    let port = free_port();
    mx.set_main_cf("smtp_tcp_port", &port.to_string());
    let transcript = mx.dir.join("sink/transcript");
    Setup {
        mx,
        port,
        transcript,
    }
}

/// Adds master.cf lines.
fn add_services(mx: &Instance, services: &str) {
    let master = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write("etc/master.cf", &format!("{master}{}", mx.expand(services)));
}

/// Whether a log line is the SMTP client's: postfix/smtp, or postfix/SERVICE/smtp for
/// a service with its own syslog_name (relay in the stock master.cf).
fn client(line: &str) -> bool {
    line.split_once(" postfix/")
        .and_then(|(_, rest)| rest.split_once('['))
        .is_some_and(|(name, _)| name == "smtp" || name.ends_with("/smtp"))
}

/// Waits until the client has a status line for each of `rcpts`; on a timeout keeps
/// the instance and fails.
#[track_caller]
fn await_status(mx: &Instance, rcpts: &[&str], secs: u64) {
    let done = || {
        let log = mx.log();
        rcpts.iter().all(|r| {
            let needle = format!("to=<{r}>");
            log.lines()
                .any(|l| client(l) && l.contains(&needle) && l.contains(" status="))
        })
    };
    if !wait_until(secs, done) {
        mx.keep_for_inspection();
        panic!("no status for all of {rcpts:?}:\n{}", mx.log());
    }
}

/// The client's log messages, normalised, sorted (parallel deliveries log in any order).
fn client_lines(setup: &Setup) -> Vec<String> {
    let mut lines: Vec<String> = setup
        .mx
        .log()
        .lines()
        .filter(|l| client(l))
        .filter_map(|l| e2e::client::message(l, setup.port))
        .collect();
    lines.sort();
    lines
}

/// Sends one message per case (from, to, the status to wait for) in turn and keeps
/// each case's client log messages in their order.
fn cases_in_turn(setup: &Setup, cases: &[(&str, &str, &str)]) -> Vec<Vec<String>> {
    let mx = &setup.mx;
    let mut out = Vec::new();
    for (n, (from, to, want)) in cases.iter().enumerate() {
        let before = mx.log().lines().count();
        if let Err(e) = mx.send(mx.smtp_port, from, to, &format!("t71-{n}")) {
            mx.keep_for_inspection();
            panic!("sending to {to} failed: {e}\n{}", mx.log());
        }
        let needle = format!("to=<{to}>");
        let done = |l: &str| client(l) && l.contains(&needle) && l.contains(want);
        if !wait_until(60, || mx.log().lines().skip(before).any(done)) {
            mx.keep_for_inspection();
            panic!("no {want} for {to}:\n{}", mx.log());
        }
        out.push(
            mx.log()
                .lines()
                .skip(before)
                .filter(|l| client(l))
                .filter_map(|l| e2e::client::message(l, setup.port))
                .collect(),
        );
    }
    out
}

/// What the servers received (sorted), once the transcript has been quiet for a
/// second: a session's QUIT may still be on its way when its status is logged.
fn received(transcript: &Path) -> Vec<String> {
    let size = || std::fs::metadata(transcript).map(|m| m.len()).unwrap_or(0);
    let mut last = size();
    for _ in 0..10 {
        std::thread::sleep(std::time::Duration::from_secs(1));
        let now = size();
        if now == last {
            break;
        }
        last = now;
    }
    e2e::client::received(transcript)
}

/// The bounce notices' lines once `count` notices reached the mailbox.
fn notices(mx: &Instance, count: usize) -> Vec<String> {
    if !wait_until(30, || mx.mailbox().len() >= count) {
        mx.keep_for_inspection();
        panic!("fewer than {count} notices:\n{}", mx.log());
    }
    e2e::delivered::notice_lines(&mx.mailbox(), &[], str::to_string)
}

/// The stages at which a server goes silent: domain, server address, mode.
const STAGES: [(&str, &str, &str); 9] = [
    ("banner.t71.test", "127.0.0.71", "stall-banner"),
    ("ehlo.t71.test", "127.0.0.72", "stall-ehlo"),
    ("mail.t71.test", "127.0.0.73", "stall-mail"),
    ("rcpt.t71.test", "127.0.0.74", "stall-rcpt"),
    ("data.t71.test", "127.0.0.75", "stall-data"),
    ("dot.t71.test", "127.0.0.76", "stall-dot"),
    ("body.t71.test", "127.0.0.78", "stall-body"),
    ("pipe.t71.test", "127.0.0.77", "stall-rcpt+pipe"),
    ("connect.t71.test", "127.0.0.79", "blackhole"),
];

fn run_timeouts(ours: bool) -> Option<(Vec<String>, Vec<String>)> {
    let mut setup = setup(e2e::client::instance("t-71-timeouts", ours, "smtp")?);
    let (mx, port) = (&setup.mx, setup.port);
    for stage in [
        "connect",
        "helo",
        "mail",
        "rcpt",
        "data_init",
        "data_xfer",
        "data_done",
        "rset",
        "quit",
    ] {
        mx.set_main_cf(&format!("smtp_{stage}_timeout"), "2s");
    }
    let transport: String = STAGES
        .iter()
        .map(|(domain, addr, _)| format!("{domain} smtp:[{addr}]:{port}\n"))
        .collect();
    mx.write("etc/transport", &transport);
    let modes: Vec<String> = STAGES.iter().map(|(_, a, m)| format!("{a}={m}")).collect();
    let modes: Vec<&str> = modes.iter().map(String::as_str).collect();
    let _servers = servers(port, &setup.transcript, &modes);
    setup.mx.start();
    let mx = &setup.mx;
    let rcpts: Vec<String> = STAGES.iter().map(|(d, _, _)| format!("u@{d}")).collect();
    let rcpts: Vec<&str> = rcpts.iter().map(String::as_str).collect();
    let (body, others): (Vec<&str>, Vec<&str>) =
        rcpts.iter().partition(|r| r.starts_with("u@body."));
    e2e::client::send_to_many(mx, "stages", &others);
    // Four megabytes: more than the client's socket buffers take while the server
    // reads nothing.
    let big = "import smtplib, sys\n\
        s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=60)\n\
        s.sendmail('user@vmail.e2e.test', [sys.argv[2]], 'Subject: big\\r\\n\\r\\n' + ('x' * 76 + '\\r\\n') * 55000)\n\
        s.quit()\n";
    let out = Command::new("python3")
        .args(["-c", big, &mx.smtp_port.to_string(), body[0]])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    await_status(mx, &rcpts, 60);
    // The stalled servers see the client hang up (but the one that reads no more).
    let closed = || {
        std::fs::read_to_string(&setup.transcript)
            .unwrap_or_default()
            .matches(" CLOSED")
            .count()
            >= STAGES.len() - 2
    };
    wait_until(15, closed);
    Some((client_lines(&setup), received(&setup.transcript)))
}

#[test]
fn stage_timeouts_equal_postfix() {
    let Some(postfix) = run_timeouts(false) else {
        return;
    };
    let Some(ours) = run_timeouts(true) else {
        return;
    };
    for want in [
        "timed out while receiving the initial server greeting",
        "timed out while sending message body",
        "connect to 127.0.0.79[127.0.0.79]:PORT: Connection timed out",
    ] {
        assert!(
            postfix.0.iter().any(|l| l.contains(want)),
            "{want}: {postfix:#?}"
        );
    }
    assert_eq!(ours.0, postfix.0);
    assert_eq!(ours.1, postfix.1);
}

/// MX hosts with several addresses: five that greet with 421 (sessions that do not
/// count, so smtp_mx_address_limit = 3 stops the tries), two MX hosts whose servers
/// put the recipient off with 450 (smtp_mx_session_limit = 2 stops them), and two MX
/// hosts whose four addresses refuse connections. A domain whose MX lookup fails
/// (SERVFAIL), with and without ignore_mx_lookup_error.
const MX_ZONE: &str = r#"{
    "addrlim.t71.test": [["MX", "10 many421.t71.test"]],
    "many421.t71.test": [["A", "127.0.0.81"], ["A", "127.0.0.82"], ["A", "127.0.0.83"],
                         ["A", "127.0.0.84"], ["A", "127.0.0.85"]],
    "sesslim.t71.test": [["MX", "10 many450a.t71.test"], ["MX", "20 many450b.t71.test"]],
    "many450a.t71.test": [["A", "127.0.0.86"]],
    "many450b.t71.test": [["A", "127.0.0.87"], ["A", "127.0.0.88"], ["A", "127.0.0.89"]],
    "refuse.t71.test": [["MX", "10 dead1.t71.test"], ["MX", "20 dead2.t71.test"]],
    "dead1.t71.test": [["A", "127.0.0.91"], ["A", "127.0.0.92"]],
    "dead2.t71.test": [["A", "127.0.0.93"], ["A", "127.0.0.94"]],
    "mxfail.t71.test": [["SERVFAIL", ""]]
}"#;

/// An instance whose smtp services (chrooted) resolve through a DNS server on
/// `dns_addr` serving `zone`.
fn with_dns(mx: &Instance, dns_addr: &str, zone: &str) -> Option<DnsServer> {
    e2e::dns::resolve_in_jail(mx, dns_addr);
    e2e::dns::chroot_smtp(mx);
    DnsServer::start(dns_addr, zone, &mx.dir.join("log/dns-queries"))
}

fn run_mx_limits(ours: bool) -> Option<(Vec<Vec<String>>, Vec<String>)> {
    let mut setup = setup(e2e::client::instance("t-71-mx", ours, "smtp")?);
    let mx = &setup.mx;
    mx.set_main_cf("smtp_mx_address_limit", "3");
    mx.set_main_cf("smtp_mx_session_limit", "2");
    mx.set_main_cf("smtp_randomize_addresses", "no");
    let _dns = with_dns(mx, "127.0.0.171", MX_ZONE)?;
    add_services(
        mx,
        "smtpign unix - - y - - smtp -o ignore_mx_lookup_error=yes\n",
    );
    mx.write(
        "etc/transport",
        "noign.t71.test smtp:mxfail.t71.test\nign.t71.test smtpign:mxfail.t71.test\n",
    );
    let mut modes: Vec<String> = (81..=85).map(|n| format!("127.0.0.{n}=421")).collect();
    modes.extend((86..=89).map(|n| format!("127.0.0.{n}=rcpt450")));
    let modes: Vec<&str> = modes.iter().map(String::as_str).collect();
    let _servers = servers(setup.port, &setup.transcript, &modes);
    setup.mx.start();
    let from = "user@vmail.e2e.test";
    let seen = cases_in_turn(
        &setup,
        &[
            (from, "a@addrlim.t71.test", "status=deferred"),
            (from, "b@sesslim.t71.test", "status=deferred"),
            (from, "c@refuse.t71.test", "status=deferred"),
            (from, "d@noign.t71.test", "status=deferred"),
            (from, "e@ign.t71.test", "status=deferred"),
        ],
    );
    Some((seen, received(&setup.transcript)))
}

#[test]
fn mx_address_and_session_limits_equal_postfix() {
    let Some(postfix) = run_mx_limits(false) else {
        return;
    };
    let Some(ours) = run_mx_limits(true) else {
        return;
    };
    assert!(
        postfix.1.iter().any(|l| l.starts_with("127.0.0.83 "))
            && !postfix.1.iter().any(|l| l.starts_with("127.0.0.84 ")),
        "{postfix:#?}"
    );
    e2e::client::assert_cases_equal(
        &ours.0,
        &postfix.0,
        &[
            "addrlim",
            "sesslim",
            "refuse",
            "mx error",
            "mx error ignored",
        ],
        &["Connection refused", "type=MX", "type=A"],
    );
    assert_eq!(ours.1, postfix.1);
}

/// A host with an A and an AAAA (::1) record, and one with AAAA alone.
const INET_ZONE: &str = r#"{
    "v6.t71.test": [["A", "127.0.0.95"], ["AAAA", "::1"]],
    "only6.t71.test": [["AAAA", "::1"]]
}"#;

/// What a run saw: the client's log messages per case, what the servers received, and
/// the bounce notices' lines.
type Seen = (Vec<Vec<String>>, Vec<String>, Vec<String>);

fn run_identity(ours: bool) -> Option<Seen> {
    let mut setup = setup(e2e::client::instance("t-71-identity", ours, "smtp")?);
    let (mx, port) = (&setup.mx, setup.port);
    mx.set_main_cf("smtp_helo_name", "helo.t71.example");
    let _dns = with_dns(mx, "127.0.0.172", INET_ZONE)?;
    add_services(
        mx,
        "smtpbind unix - - y - - smtp -o smtp_bind_address=127.0.0.2\n\
         smtp6 unix - - y - - smtp -o inet_protocols=all -o smtp_address_preference=ipv6\n\
         smtp4 unix - - y - - smtp -o inet_protocols=all -o smtp_address_preference=ipv4\n",
    );
    mx.write(
        "etc/transport",
        &format!(
            "helo.t71.test smtp:[127.0.0.95]:{port}\n\
             bind.t71.test smtpbind:[127.0.0.95]:{port}\n\
             pref6.t71.test smtp6:[v6.t71.test]:{port}\n\
             pref4.t71.test smtp4:[v6.t71.test]:{port}\n\
             only6.t71.test smtp6:[only6.t71.test]:{port}\n\
             no6.t71.test smtp:[only6.t71.test]:{port}\n"
        ),
    );
    let _servers = servers(port, &setup.transcript, &["127.0.0.95=ok", "::1=ok"]);
    setup.mx.start();
    let from = "user@vmail.e2e.test";
    let seen = cases_in_turn(
        &setup,
        &[
            (from, "a@helo.t71.test", "status=sent"),
            (from, "b@bind.t71.test", "status=sent"),
            (from, "c@pref6.t71.test", "status=sent"),
            (from, "d@pref4.t71.test", "status=sent"),
            (from, "e@only6.t71.test", "status=sent"),
            (from, "f@no6.t71.test", "status=bounced"),
        ],
    );
    Some((seen, received(&setup.transcript), notices(&setup.mx, 1)))
}

#[test]
fn helo_name_bind_address_and_address_families_equal_postfix() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        testkit::skip("this host has no IPv6 loopback address");
        return;
    }
    let Some(postfix) = run_identity(false) else {
        return;
    };
    let Some(ours) = run_identity(true) else {
        return;
    };
    for want in [
        "127.0.0.95 #1 EHLO helo.t71.example",
        "127.0.0.95 #2 CONNECT from 127.0.0.2",
        "::1 #1 CONNECT from ::1",
    ] {
        assert!(postfix.1.iter().any(|l| l == want), "{want}: {postfix:#?}");
    }
    e2e::client::assert_cases_equal(
        &ours.0,
        &postfix.0,
        &["helo", "bind", "pref6", "pref4", "only6", "no6"],
        &[
            "relay=v6.t71.test[::1]:PORT",
            "relay=v6.t71.test[127.0.0.95]:PORT",
        ],
    );
    assert_eq!(ours.1, postfix.1);
    assert_eq!(ours.2, postfix.2);
}

/// Names in DNS: an MX record whose host is only in the jail's hosts file, and a host
/// with an A record; native.t71.test is only in the hosts file, and nat2.t71.test is
/// there too (with another address than its MX host's, for the client without DNS).
const NATIVE_ZONE: &str = r#"{
    "nat2.t71.test": [["MX", "10 mxnat.t71.test"]],
    "dnsonly.t71.test": [["A", "127.0.0.97"]]
}"#;

fn run_native(ours: bool) -> Option<Seen> {
    let mut setup = setup(e2e::client::instance("t-71-native", ours, "smtp")?);
    let (mx, port) = (&setup.mx, setup.port);
    let _dns = with_dns(mx, "127.0.0.173", NATIVE_ZONE)?;
    // The chrooted client's hosts file (nsswitch.conf says files, then dns).
    mx.write(
        "queue/etc/hosts",
        "127.0.0.1 localhost\n127.0.0.96 native.t71.test nat2.t71.test\n127.0.0.98 mxnat.t71.test\n",
    );
    add_services(
        mx,
        "smtpnat unix - - y - - smtp -o smtp_host_lookup=native\n\
         smtpboth unix - - y - - smtp -o smtp_host_lookup=dns,native\n\
         smtpnodns unix - - y - - smtp -o smtp_dns_support_level=disabled\n\
         smtpnodns2 unix - - y - - smtp -o disable_dns_lookups=yes\n",
    );
    mx.write(
        "etc/transport",
        &format!(
            "a.t71n.test smtpnat:[native.t71.test]:{port}\n\
             b.t71n.test smtpnat:nat2.t71.test:{port}\n\
             c.t71n.test smtpboth:[dnsonly.t71.test]:{port}\n\
             d.t71n.test smtpboth:[native.t71.test]:{port}\n\
             e.t71n.test smtp:[native.t71.test]:{port}\n\
             f.t71n.test smtpnat:[nowhere.t71.test]:{port}\n\
             g.t71n.test smtpboth:nat2.t71.test:{port}\n\
             h.t71n.test smtpnodns:nat2.t71.test:{port}\n\
             i.t71n.test smtpnodns2:nat2.t71.test:{port}\n"
        ),
    );
    let _servers = servers(
        port,
        &setup.transcript,
        &["127.0.0.96=ok", "127.0.0.97=ok", "127.0.0.98=ok"],
    );
    setup.mx.start();
    let from = "user@vmail.e2e.test";
    let seen = cases_in_turn(
        &setup,
        &[
            (from, "a@a.t71n.test", "status=sent"),
            (from, "b@b.t71n.test", "status=sent"),
            (from, "c@c.t71n.test", "status=sent"),
            (from, "d@d.t71n.test", "status=sent"),
            (from, "e@e.t71n.test", "status=bounced"),
            (from, "f@f.t71n.test", "status=bounced"),
            (from, "g@g.t71n.test", "status=sent"),
            (from, "h@h.t71n.test", "status=sent"),
            (from, "i@i.t71n.test", "status=sent"),
        ],
    );
    Some((seen, received(&setup.transcript), notices(&setup.mx, 2)))
}

#[test]
fn native_host_lookup_equal_postfix() {
    let Some(postfix) = run_native(false) else {
        return;
    };
    let Some(ours) = run_native(true) else {
        return;
    };
    e2e::client::assert_cases_equal(
        &ours.0,
        &postfix.0,
        &[
            "native",
            "mx-native",
            "dns",
            "dns-native",
            "dns-only",
            "nowhere",
            "mx-both",
            "dns disabled",
            "disable_dns_lookups",
        ],
        &[
            "relay=native.t71.test[127.0.0.96]:PORT",
            "relay=mxnat.t71.test[127.0.0.98]:PORT",
            "relay=nat2.t71.test[127.0.0.96]:PORT",
        ],
    );
    assert_eq!(ours.1, postfix.1);
    assert_eq!(ours.2, postfix.2);
}

/// sender_dependent_relayhost_maps: by full address, by domain, DUNNO (relayhost),
/// the null sender's key, a sender without an entry, and a relay domain.
fn run_sender_relay(ours: bool) -> Option<(Vec<Vec<String>>, Vec<String>)> {
    // trivial-rewrite decides, so on Postfix's side it is Postfix's.
    let daemons: Vec<&str> = IRONPOST_DAEMONS
        .iter()
        .copied()
        .filter(|d| ours || !["smtp", "lmtp", "trivial-rewrite"].contains(d))
        .collect();
    let side = if ours { "ours" } else { "postfix" };
    let mx = Instance::with_daemons(&format!("t-71-sdrh-{side}"), &daemons)?;
    let mut setup = setup(mx);
    let (mx, port) = (&setup.mx, setup.port);
    mx.set_main_cf("relayhost", &format!("[127.0.0.101]:{port}"));
    mx.set_main_cf("relay_domains", "relay.e2e.test, relay2.t71.test");
    mx.set_main_cf("sender_dependent_relayhost_maps", "texthash:@DIR@/etc/sdrh");
    mx.write(
        "etc/sdrh",
        &format!(
            "special@vmail.e2e.test [127.0.0.102]:{port}\n\
             @other.t71.test [127.0.0.102]:{port}\n\
             dunno@vmail.e2e.test DUNNO\n\
             <> [127.0.0.102]:{port}\n"
        ),
    );
    let _servers = servers(
        port,
        &setup.transcript,
        &["127.0.0.101=ok+pipe", "127.0.0.102=ok+pipe"],
    );
    setup.mx.start();
    let seen = cases_in_turn(
        &setup,
        &[
            ("user@vmail.e2e.test", "a@far.t71.test", "status=sent"),
            ("special@vmail.e2e.test", "b@far.t71.test", "status=sent"),
            ("x@other.t71.test", "c@far.t71.test", "status=sent"),
            ("dunno@vmail.e2e.test", "d@far.t71.test", "status=sent"),
            ("", "e@far.t71.test", "status=sent"),
            ("special@vmail.e2e.test", "f@relay2.t71.test", "status=sent"),
        ],
    );
    Some((seen, received(&setup.transcript)))
}

#[test]
fn sender_dependent_relayhost_equal_postfix() {
    let Some(postfix) = run_sender_relay(false) else {
        return;
    };
    let Some(ours) = run_sender_relay(true) else {
        return;
    };
    e2e::client::assert_cases_equal(
        &ours.0,
        &postfix.0,
        &["none", "address", "domain", "dunno", "null", "relay domain"],
        &[
            "relay=127.0.0.101[127.0.0.101]:PORT",
            "relay=127.0.0.102[127.0.0.102]:PORT",
        ],
    );
    assert_eq!(ours.1, postfix.1);
}

/// Sends from user@vmail.e2e.test to `to` with SMTPUTF8 requested.
fn send_utf8(mx: &Instance, to: &str, subject: &str) {
    let script = "import smtplib, sys\n\
        s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)\n\
        s.sendmail('user@vmail.e2e.test', [sys.argv[2]], \
        ('Subject: %s\\r\\n\\r\\nbody\\r\\n' % sys.argv[3]).encode(), mail_options=['SMTPUTF8'])\n\
        s.quit()\n";
    let out = Command::new("python3")
        .args(["-c", script, &mx.smtp_port.to_string(), to, subject])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// A UTF-8 recipient to a server without SMTPUTF8 bounces; an ASCII one with SMTPUTF8
/// requested goes through. Then smtp_connection_reuse_time_limit = 5s with sessions
/// kept for 15s: two messages in a row share a connection; a third, sent once the
/// first connection is past the limit, opens a new one, which the fourth reuses.
fn run_utf8_reuse(ours: bool) -> Option<(Vec<String>, Vec<String>, Vec<String>)> {
    let mut setup = setup(e2e::client::instance("t-71-utf8-reuse", ours, "smtp")?);
    let (mx, port) = (&setup.mx, setup.port);
    mx.set_main_cf("smtp_connection_cache_destinations", "127.0.0.104");
    mx.set_main_cf("smtp_connection_cache_time_limit", "15s");
    mx.set_main_cf("smtp_connection_reuse_time_limit", "5s");
    mx.write(
        "etc/transport",
        &format!(
            "utf8.t71.test smtp:[127.0.0.103]:{port}\nreuse.t71.test smtp:[127.0.0.104]:{port}\n"
        ),
    );
    let _servers = servers(
        port,
        &setup.transcript,
        &["127.0.0.103=ok+pipe", "127.0.0.104=ok+pipe"],
    );
    setup.mx.start();
    let mx = &setup.mx;
    send_utf8(mx, "j\u{f6}rg@utf8.t71.test", "utf8");
    await_status(mx, &["j\u{f6}rg@utf8.t71.test"], 60);
    send_utf8(mx, "ascii@utf8.t71.test", "ascii");
    await_status(mx, &["ascii@utf8.t71.test"], 60);
    for n in 1..=4 {
        if n == 3 {
            std::thread::sleep(std::time::Duration::from_secs(7));
        }
        let to = format!("m{n}@reuse.t71.test");
        mx.send(
            mx.smtp_port,
            "user@vmail.e2e.test",
            &to,
            &format!("reuse {n}"),
        )
        .unwrap();
        await_status(mx, &[to.as_str()], 60);
    }
    Some((
        client_lines(&setup),
        received(&setup.transcript),
        notices(mx, 1),
    ))
}

#[test]
fn smtputf8_bounce_and_reuse_time_limit_equal_postfix() {
    let Some(postfix) = run_utf8_reuse(false) else {
        return;
    };
    let Some(ours) = run_utf8_reuse(true) else {
        return;
    };
    assert!(
        postfix
            .0
            .iter()
            .any(|l| l.contains("SMTPUTF8 is required, but was not offered by host"))
            && postfix
                .1
                .iter()
                .any(|l| l == "127.0.0.104 #1 RCPT TO:<m2@reuse.t71.test>")
            && postfix
                .1
                .iter()
                .any(|l| l == "127.0.0.104 #2 RCPT TO:<m3@reuse.t71.test>"),
        "{postfix:#?}"
    );
    assert_eq!(ours.0, postfix.0);
    assert_eq!(ours.1, postfix.1);
    assert_eq!(ours.2, postfix.2);
}
