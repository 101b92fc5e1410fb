//! The SMTP client's mail exchanger routing against a DNS server on loopback (e2e::dns),
//! differential: the same mail through Postfix's smtp and through ironpost's, both
//! chrooted and resolving through the instance's queue/etc/resolv.conf. The cases: two
//! MX hosts listed out of order, the preferred one refusing connections (the other gets
//! the mail); a preferred MX host that greets with 421 and one that greets with 554
//! (smtp_skip_5xx_greeting: the next one gets the mail); three hosts where the first
//! two greet badly (those sessions do not count against smtp_mx_session_limit); a preferred host that
//! puts the recipient off with 450 (the next host gets it); two hosts of equal
//! preference, both refusing; a domain without MX records (its A record); an MX host
//! without an address; a domain that does not exist; and a dead MX host with
//! smtp_fallback_relay. The client's log lines (connection errors, the servers'
//! replies, each recipient's status with its relay and reason, delays left out), the
//! bounce notices and what each server received are compared.

use e2e::child::KillOnDrop;
use e2e::dns::DnsServer;
use e2e::{free_port, wait_until};
use std::process::{Command, Stdio};

/// Where the DNS server listens (t-22 uses 127.0.0.153).
const DNS_ADDR: &str = "127.0.0.154";
/// Where the DNS server of the session-limit test listens, which runs alongside.
const DNS_ADDR_LIMITS: &str = "127.0.0.163";

/// The zone. The servers listen on 127.0.0.31 (takes mail), .32 (the fallback relay),
/// .33 (greets with 421), .34 (greets with 554), .35 and .38 (450 to every recipient),
/// .39 (takes mail); nothing listens on .36 and .37.
const ZONE: &str = r#"{
    "pref.e2e.test": [["MX", "20 mx-b.pref.e2e.test"], ["MX", "10 mx-a.pref.e2e.test"]],
    "mx-a.pref.e2e.test": [["A", "127.0.0.36"]],
    "mx-b.pref.e2e.test": [["A", "127.0.0.31"]],
    "greet.e2e.test": [["MX", "10 mx421.e2e.test"], ["MX", "20 mx554.e2e.test"], ["MX", "30 mx-ok.e2e.test"]],
    "greet2.e2e.test": [["MX", "10 mx421.e2e.test"], ["MX", "20 mx-ok.e2e.test"]],
    "later.e2e.test": [["MX", "10 mx450.e2e.test"], ["MX", "20 mx-ok.e2e.test"]],
    "mx421.e2e.test": [["A", "127.0.0.33"]],
    "mx554.e2e.test": [["A", "127.0.0.34"]],
    "mx450.e2e.test": [["A", "127.0.0.35"]],
    "mx-ok.e2e.test": [["A", "127.0.0.31"]],
    "eq.e2e.test": [["MX", "10 eq1.e2e.test"], ["MX", "10 eq2.e2e.test"]],
    "eq1.e2e.test": [["A", "127.0.0.36"]],
    "eq2.e2e.test": [["A", "127.0.0.37"]],
    "nomx.e2e.test": [["A", "127.0.0.31"]],
    "noaddr.e2e.test": [["MX", "10 ghost.e2e.test"]],
    "fb.e2e.test": [["MX", "10 mx-dead.e2e.test"]],
    "mx-dead.e2e.test": [["A", "127.0.0.36"]],
    "lim.e2e.test": [["MX", "10 mx450.e2e.test"], ["MX", "20 mx450b.e2e.test"], ["MX", "30 mx-ok.e2e.test"]],
    "mx450b.e2e.test": [["A", "127.0.0.38"]],
    "rand.e2e.test": [["MX", "10 mx-ok.e2e.test"], ["MX", "10 mx-ok2.e2e.test"]],
    "mx-ok2.e2e.test": [["A", "127.0.0.39"]],
    "dbg.e2e.test": [["MX", "20 mx-b.dbg.e2e.test"], ["MX", "10 mx-a.dbg.e2e.test"]],
    "mx-a.dbg.e2e.test": [["A", "127.0.0.36"]],
    "mx-b.dbg.e2e.test": [["A", "127.0.0.31"]]
}"#;

/// The scripted servers: one per address, each with its behaviour; every connection
/// and command is written to the transcript as "ADDR LINE".
const SERVER: &str = r#"
import socketserver, sys, threading
port, transcript = int(sys.argv[1]), sys.argv[2]
modes = dict(a.split("=") for a in sys.argv[3:])
lock = threading.Lock()
class H(socketserver.StreamRequestHandler):
    def out(self, text):
        self.wfile.write((text + "\r\n").encode()); self.wfile.flush()
    def log(self, line):
        with lock:
            with open(transcript, "a") as f: f.write("%s %s\n" % (self.me, line))
    def handle(self):
        self.me = self.request.getsockname()[0]
        mode = modes[self.me]
        name = "mx" + self.me.split(".")[-1] + ".sink.test"
        self.log("CONNECT")
        if mode == "421":
            self.out("421 4.3.2 %s Service shutting down" % name); return
        if mode == "554": self.out("554 5.3.2 %s Service currently unavailable" % name)
        else: self.out("220 %s ESMTP scripted" % name)
        while True:
            raw = self.rfile.readline()
            if not raw: return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ")[0].split(":")[0].upper()
            if verb in ("MAIL", "RCPT", "DATA", "QUIT"): self.log(line)
            if verb == "EHLO": self.out("250-%s\r\n250-PIPELINING\r\n250 8BITMIME" % name)
            elif verb == "HELO": self.out("250 %s" % name)
            elif verb == "MAIL": self.out("250 2.1.0 Ok")
            elif verb == "RCPT":
                addr = line[line.index("<") + 1:line.index(">")]
                if mode == "rcpt450": self.out("450 4.2.0 <%s>: Recipient address rejected: Greylisted" % addr)
                else: self.out("250 2.1.5 Ok")
            elif verb == "DATA":
                self.out("354 End data with <CR><LF>.<CR><LF>")
                while self.rfile.readline().rstrip(b"\r\n") != b".": pass
                self.out("250 2.0.0 Ok: queued as AT%s" % self.me.split(".")[-1])
            elif verb == "RSET": self.out("250 2.0.0 Ok")
            elif verb == "QUIT": self.out("221 2.0.0 Bye"); return
            else: self.out("502 5.5.2 Error: command not recognized")
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
servers = [S((addr, port), H) for addr in modes]
for s in servers: threading.Thread(target=s.serve_forever, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"#;

/// The debug_peer_list services' other settings: no session is cached for a later
/// delivery (each case's sessions are its own).
const DBG: &str = "-o smtp_connection_cache_on_demand=no";

/// Starts the servers on `port` of their addresses.
fn servers(port: u16, transcript: &std::path::Path) -> KillOnDrop {
    e2e::child::spawn_ready(
        Command::new("python3")
            .args(["-c", SERVER, &port.to_string()])
            .arg(transcript)
            .args([
                "127.0.0.31=ok",
                "127.0.0.32=ok",
                "127.0.0.33=421",
                "127.0.0.34=554",
                "127.0.0.35=rcpt450",
                "127.0.0.38=rcpt450",
                "127.0.0.39=ok",
            ])
            .stderr(Stdio::null()),
    )
    .expect("the scripted servers did not start")
}

/// The recipients, each with the status its delivery ends in.
const CASES: [(&str, &str); 10] = [
    ("a@pref.e2e.test", "status=sent"),
    ("b@greet2.e2e.test", "status=sent"),
    ("c@greet.e2e.test", "status="),
    ("d@later.e2e.test", "status=sent"),
    ("e@eq.e2e.test", "status=deferred"),
    ("f@nomx.e2e.test", "status=sent"),
    ("g@noaddr.e2e.test", "status="),
    ("h@nx.e2e.test", "status=bounced"),
    ("i@fb.e2e.test", "status=sent"),
    ("j@pref.e2e.test", "status=sent"),
];

/// What one run saw: the client's log lines for each case in order, the notices, and
/// what the servers received.
type Seen = (Vec<Vec<String>>, Vec<String>, Vec<String>);

/// A running instance whose smtp resolves through the loopback DNS server, with the
/// scripted servers, its servers' port and their transcript.
struct Setup {
    mx: e2e::Instance,
    port: u16,
    transcript: std::path::PathBuf,
    _dns: DnsServer,
    _servers: KillOnDrop,
}

/// `main_cf` holds settings of the test's own, set before the instance starts.
fn setup(name: &str, ours: bool, dns_addr: &str, main_cf: &[(&str, &str)]) -> Option<Setup> {
    let mut mx = e2e::client::instance(name, ours, "smtp")?;
    let port = free_port();
    e2e::dns::resolve_in_jail(&mx, dns_addr);
    mx.set_main_cf("smtp_tcp_port", &port.to_string());
    mx.set_main_cf("transport_maps", "texthash:@DIR@/etc/transport");
    // The debug_peer_list cases (debug_peer_equal_postfix), each recipient through
    // the service whose list it tests.
    mx.write(
        "etc/transport",
        &format!(
            "fb.e2e.test fallback:\npa@dbg.e2e.test dbgnexthop:\npb@nomx.e2e.test dbgnexthop:\n\
             pc@dbg.e2e.test dbghost:\npd@greet2.e2e.test dbghost:\npe@nomx.e2e.test dbghost:\n\
             pf@nomx.e2e.test dbgbracket:[127.0.0.31]:{port}\npg@nomx.e2e.test dbgbracket:\n\
             ph@dbg.e2e.test dbgcache:\npi@dbg.e2e.test dbgcache:\n"
        ),
    );
    for (name, value) in main_cf {
        mx.set_main_cf(name, value);
    }
    e2e::dns::chroot_smtp(&mx);
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write(
        "etc/master.cf",
        &format!(
            "{master_cf}fallback unix - - y - - smtp -o smtp_fallback_relay=[127.0.0.32]\n\
             dbgnexthop unix - - y - - smtp -o debug_peer_list=dbg.e2e.test {DBG}\n\
             dbghost unix - - y - - smtp -o debug_peer_list=mx-b.dbg.e2e.test,mx421.e2e.test {DBG}\n\
             dbgbracket unix - - y - - smtp -o debug_peer_list=[127.0.0.31]:{port} {DBG}\n\
             dbgcache unix - - y - - smtp -o debug_peer_list=mx-b.dbg.e2e.test \
             -o smtp_connection_cache_destinations=dbg.e2e.test \
             -o smtp_connection_cache_time_limit=60s\n"
        ),
    );
    let transcript = mx.dir.join("sink/transcript");
    let dns_log = mx.dir.join("log/dns-queries");
    let dns = DnsServer::start(dns_addr, ZONE, &dns_log)?;
    let servers = servers(port, &transcript);
    mx.start();
    Some(Setup {
        mx,
        port,
        transcript,
        _dns: dns,
        _servers: servers,
    })
}

fn run(ours: bool) -> Option<Seen> {
    let setup = setup("t-47", ours, DNS_ADDR, &[])?;
    let (mx, port, transcript) = (&setup.mx, setup.port, &setup.transcript);
    let mut per_case = Vec::new();
    for (n, (to, want)) in CASES.iter().enumerate() {
        let client = |l: &str| l.contains("postfix/smtp[") || l.contains("postfix/fallback[");
        let log = e2e::client::send_and_wait(mx, to, &format!("t47-{n}"), want, client);
        let mut lines: Vec<String> = log
            .iter()
            .filter(|l| client(l))
            .filter_map(|l| e2e::client::message(l, port))
            .collect();
        // Hosts of equal preference are tried in either order, and the reason names
        // the last one.
        if to.contains("@eq.") {
            lines = lines
                .iter()
                .map(|l| {
                    l.replace("eq1.e2e.test[127.0.0.36]", "EQ")
                        .replace("eq2.e2e.test[127.0.0.37]", "EQ")
                })
                .collect();
            lines.sort();
        }
        per_case.push(lines);
    }
    // The bounce notices reach the virtual mailbox.
    let bounced = CASES.iter().filter(|(_, w)| *w == "status=bounced").count();
    wait_until(30, || mx.mailbox().len() >= bounced);
    let notices = e2e::delivered::notice_lines(&mx.mailbox(), &[], str::to_string);
    let received = e2e::client::received(transcript);
    Some((per_case, notices, received))
}

#[test]
fn mx_routing_equal_postfix() {
    let Some(postfix) = run(false) else { return };
    let Some(ours) = run(true) else { return };
    e2e::client::assert_cases_equal(
        &ours.0,
        &postfix.0,
        &CASES.map(|(to, _)| to),
        &[
            "connect to mx-a.pref.e2e.test[127.0.0.36]:PORT: Connection refused",
            "relay=mx-b.pref.e2e.test[127.0.0.31]:PORT",
            "refused to talk to me: 421 4.3.2",
            "relay=nomx.e2e.test[127.0.0.31]:PORT",
            "relay=127.0.0.32[127.0.0.32]:PORT",
        ],
    );
    assert_eq!(ours.1, postfix.1);
    assert_eq!(ours.2, postfix.2);
}

/// smtp_mx_session_limit (2 by default): two hosts that put the recipient off with 450
/// use up the sessions, and the third, which would take the mail, is never tried (the
/// mail is deferred with the second host's reply). Two hosts of equal preference are
/// tried in random order: sixteen messages, each in its own session, reach both.
fn run_limits(ours: bool) -> Option<(Vec<String>, Vec<String>)> {
    // Without a cached session that could carry all sixteen messages to whichever host
    // came first (smtp_connection_cache_on_demand caches when mail queues up, as it does
    // on a slow machine), each message picks among the equal-preference hosts afresh.
    let setup = setup(
        "t-47-limits",
        ours,
        DNS_ADDR_LIMITS,
        &[("smtp_connection_cache_on_demand", "no")],
    )?;
    let (mx, port, transcript) = (&setup.mx, setup.port, &setup.transcript);
    mx.send(
        mx.smtp_port,
        "user@vmail.e2e.test",
        "k@lim.e2e.test",
        "t47-lim",
    )
    .unwrap();
    let status = |l: &str| l.contains("postfix/smtp[") && l.contains(" status=");
    if !wait_until(60, || mx.log().lines().any(status)) {
        mx.keep_for_inspection();
        panic!("no status for k@lim.e2e.test:\n{}", mx.log());
    }
    let limited: Vec<String> = mx
        .log()
        .lines()
        .filter(|l| l.contains("postfix/smtp["))
        .filter_map(|l| {
            l.split_once("]: ")
                .map(|(_, m)| e2e::client::normalize(m, port))
        })
        .collect();
    for n in 0..16 {
        mx.send(
            mx.smtp_port,
            "user@vmail.e2e.test",
            &format!("r{n}@rand.e2e.test"),
            &format!("t47-rand-{n}"),
        )
        .unwrap();
    }
    let sent = || {
        mx.log()
            .lines()
            .filter(|l| l.contains("@rand.e2e.test>") && l.contains("status=sent"))
            .count()
    };
    if !wait_until(90, || sent() == 16) {
        mx.keep_for_inspection();
        panic!("not all sixteen sent:\n{}", mx.log());
    }
    let mut reached: Vec<String> = std::fs::read_to_string(transcript)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("@rand.e2e.test>"))
        .filter_map(|l| l.split_once(' ').map(|(addr, _)| addr.to_string()))
        .collect();
    reached.sort();
    reached.dedup();
    Some((limited, reached))
}

#[test]
fn mx_session_limit_and_random_order_equal_postfix() {
    let Some(postfix) = run_limits(false) else {
        return;
    };
    let Some(ours) = run_limits(true) else { return };
    assert!(
        postfix.0.iter().any(|l| l.contains("status=deferred")
            && l.contains("host mx450b.e2e.test[127.0.0.38] said: 450"))
            && postfix.1 == ["127.0.0.31", "127.0.0.39"],
        "{postfix:#?}"
    );
    assert_eq!(ours.0, postfix.0);
    assert_eq!(ours.1, postfix.1);
}

/// debug_peer_list in the client (Postfix 3.6 and later): the next hop is matched once
/// per delivery (by name, with the address "noaddr"), then each server by name and
/// address when its session begins; the level is raised once and restored when a
/// matched server's session ends. The cases, each through a service with its own list:
/// the next-hop domain (every session of the delivery verbose, the connection refused by
/// the first MX host included; another next hop not), one MX host name and a host that
/// greets with 421 (only their sessions verbose: not the refused connection before the
/// first, not the fallback after the second, not the other name of the same address),
/// and a bracketed next hop with its port (matched as the transport writes it, not by the
/// server's address), and one MX host name again for two deliveries where the second
/// takes the first one's session from the connection cache (verbose again, from its
/// RSET on). The lines compared are the verbose ones both clients log (the
/// `> host[addr]:port: ` / `< ` transcript, the server features, the connection
/// attempts, deliver_message) with the status lines.
fn run_debug_peer(ours: bool) -> Option<Vec<Vec<String>>> {
    // The cached session outlives the pause between two deliveries (scache keeps one
    // at most connection_cache_ttl_limit, 2s by default).
    let setup = setup(
        "t-47-debug",
        ours,
        DNS_ADDR_DEBUG,
        &[("connection_cache_ttl_limit", "60s")],
    )?;
    let (mx, port) = (&setup.mx, setup.port);
    let mut per_case = Vec::new();
    for (n, to) in DEBUG_CASES.iter().enumerate() {
        let client = |l: &str| l.contains("postfix/smtp[");
        let before = mx.log().lines().count();
        e2e::client::send_and_wait(mx, to, &format!("t47-dbg-{n}"), "status=sent", client);
        // The session ends (QUIT, and its transcript) after the status line: wait
        // until the log has been still for a second so that none of it spills into
        // the next case.
        let mut seen = 0;
        while seen != mx.log().lines().count() {
            seen = mx.log().lines().count();
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        per_case.push(
            mx.log()
                .lines()
                .skip(before)
                .filter(|l| client(l))
                .filter_map(|l| e2e::client::message(l, port))
                .filter(|m| DEBUG_LINES.iter().any(|p| m.starts_with(p)) || m.contains("to=<"))
                .map(|m| m.replace(&format!(" port {port}..."), " port PORT..."))
                .collect(),
        );
    }
    Some(per_case)
}

/// The debug_peer_list test's recipients (each sent), routed by etc/transport.
const DEBUG_CASES: [&str; 9] = [
    "pa@dbg.e2e.test",
    "pb@nomx.e2e.test",
    "pc@dbg.e2e.test",
    "pd@greet2.e2e.test",
    "pe@nomx.e2e.test",
    "pf@nomx.e2e.test",
    "pg@nomx.e2e.test",
    "ph@dbg.e2e.test",
    "pi@dbg.e2e.test",
];

/// Where the DNS server of the debug_peer_list test listens.
const DNS_ADDR_DEBUG: &str = "127.0.0.164";

/// The beginnings of the verbose lines compared, and of the connection errors.
const DEBUG_LINES: [&str; 7] = [
    "> ",
    "< ",
    "server features: ",
    "Using ESMTP PIPELINING",
    "smtp_connect_addr: trying: ",
    "deliver_message: from ",
    "connect to ",
];

#[test]
fn debug_peer_equal_postfix() {
    let Some(postfix) = run_debug_peer(false) else {
        return;
    };
    let Some(ours) = run_debug_peer(true) else {
        return;
    };
    let verbose = |case: &[String]| case.iter().any(|l| l.starts_with("> "));
    let connects = |case: &[String]| {
        case.iter()
            .filter(|l| l.starts_with("smtp_connect_addr: trying: "))
            .count()
    };
    // Which cases Postfix's client logs verbosely: the whole next hop (both MX hosts'
    // connection attempts), then only the matched servers' sessions, then the
    // bracketed next hop but not its server's address under another next hop, and
    // both sessions of the listed server, the cached one too.
    let shape: Vec<(bool, usize)> = postfix.iter().map(|c| (verbose(c), connects(c))).collect();
    assert!(
        postfix[8].iter().any(|l| l.contains(", conn_use=2, ")),
        "{postfix:#?}"
    );
    assert_eq!(
        shape,
        [
            (true, 2),
            (false, 0),
            (true, 0),
            (true, 0),
            (false, 0),
            (true, 1),
            (false, 0),
            (true, 0),
            (true, 0)
        ],
        "{postfix:#?}"
    );
    assert!(
        postfix[3]
            .iter()
            .any(|l| l.starts_with("< mx421.e2e.test[127.0.0.33]:PORT: 421"))
            && !postfix[3]
                .iter()
                .any(|l| l.contains("mx-ok.e2e.test[127.0.0.31]:PORT: ")),
        "{postfix:#?}"
    );
    e2e::client::assert_cases_equal(&ours, &postfix, &DEBUG_CASES, &["status=sent"]);
}
