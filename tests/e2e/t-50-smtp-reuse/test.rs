//! Connection reuse through the connection cache: three messages, one after the other,
//! to a destination in smtp_connection_cache_destinations go over one connection (the
//! server sees one EHLO, then RSET before each later MAIL FROM, and no QUIT); the
//! delivery lines say `conn_use=2` and `conn_use=3`, and scache logs its statistics
//! lines. With smtp_connection_reuse_count_limit = 1 a connection is used twice and
//! then ended with QUIT. Postfix's smtp and scache against ironpost's, the same
//! scenario: the same server transcript, delivery lines and statistics. Without a listed
//! destination, the queue manager asks for caching when deliveries come back to back:
//! Postfix's qmgr and ironpost's alike.

use e2e::{Instance, free_port, wait_until};
use std::process::{Child, Command, Stdio};

/// A server on a TCP port or a UNIX-domain socket (LMTP: one recipient a message, so
/// one reply to the end of the data either way) that writes `CONNECT` for each
/// connection and every command to the transcript.
const SERVER: &str = r#"
import os, socketserver, sys
where, transcript = sys.argv[1], sys.argv[2]
class H(socketserver.StreamRequestHandler):
    def out(self, text):
        self.wfile.write((text + "\r\n").encode()); self.wfile.flush()
    def log(self, line):
        with open(transcript, "a") as f: f.write(line + "\n")
    def handle(self):
        # A peer gone before the greeting (the test's own probe) breaks the write.
        try: self.talk()
        except OSError: self.log("CLOSED")
    def talk(self):
        self.log("CONNECT")
        self.out("220 mx.reuse.test ESMTP scripted")
        while True:
            raw = self.rfile.readline()
            if not raw: self.log("CLOSED"); return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.log(line.split(":")[0] if line.startswith(("MAIL", "RCPT")) else line)
            verb = line.split(" ")[0].upper()
            if verb in ("EHLO", "HELO", "LHLO"):
                self.out("250-mx.reuse.test\r\n250-PIPELINING\r\n250 8BITMIME")
            elif verb == "DATA":
                self.out("354 End data with <CR><LF>.<CR><LF>")
                while self.rfile.readline().rstrip(b"\r\n") != b".": pass
                self.log(".")
                self.out("250 2.0.0 Ok: queued as REUSE1")
            elif verb == "QUIT": self.out("221 2.0.0 Bye"); self.log("CLOSED"); return
            else: self.out("250 2.0.0 Ok")
class S(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
class U(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
if where.startswith("/"):
    os.umask(0)
    U(where, H).serve_forever()
else:
    S(("127.0.0.1", int(where)), H).serve_forever()
"#;

/// An instance with ironpost's master and log daemon, and ironpost's smtp, lmtp and scache
/// too when `ours`.
fn instance(name: &str, ours: bool) -> Option<Instance> {
    let mut daemons = vec!["master", "postlogd"];
    if ours {
        daemons.extend(["smtp", "lmtp", "scache"]);
    }
    let side = if ours { "ours" } else { "postfix" };
    Instance::with_daemons(&format!("{name}-{side}"), &daemons)
}

/// What one run saw.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    transcript: Vec<String>,
    deliveries: Vec<String>,
    statistics: Vec<String>,
}

fn run(ours: bool, count_limit: Option<&str>, lmtp: bool) -> Option<Seen> {
    // Each scenario its own name: the tests of one process share its pid, which the
    // instance directory's name carries.
    let name = match (lmtp, count_limit) {
        (true, _) => "t-50-lmtp",
        (false, Some(_)) => "t-50-limit",
        (false, None) => "t-50",
    };
    let mut mx = instance(name, ours)?;
    let port = free_port();
    let socket = mx.dir.join("sink/lmtp.sock");
    mx.set_main_cf("relay_domains", "reuse.e2e.test");
    mx.set_main_cf("connection_cache_status_update_time", "3s");
    // scache's own limit on how long it keeps a session (2s by default).
    mx.set_main_cf("connection_cache_ttl_limit", "30s");
    let client = if lmtp { "lmtp" } else { "smtp" };
    if lmtp {
        // A path in a list names a file of patterns, so the socket's path is a table
        // key.
        mx.write("etc/cache_dest", &format!("{} yes\n", socket.display()));
        mx.set_main_cf(
            "lmtp_connection_cache_destinations",
            "texthash:@DIR@/etc/cache_dest",
        );
        mx.write(
            "etc/transport",
            &format!("reuse.e2e.test lmtp:unix:{}\n", socket.display()),
        );
    } else {
        mx.set_main_cf("smtp_connection_cache_destinations", "127.0.0.1");
        mx.write(
            "etc/transport",
            &format!("reuse.e2e.test smtp:[127.0.0.1]:{port}\n"),
        );
    }
    mx.set_main_cf(&format!("{client}_connection_cache_time_limit"), "30s");
    if let Some(limit) = count_limit {
        mx.set_main_cf(&format!("{client}_connection_reuse_count_limit"), limit);
    }
    let transcript = mx.dir.join("sink/transcript");
    let place = if lmtp {
        socket.display().to_string()
    } else {
        port.to_string()
    };
    let mut server = start_server(&place, &transcript);
    wait_until(5, || {
        if lmtp {
            std::os::unix::net::UnixStream::connect(&socket).is_ok()
        } else {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        }
    });
    mx.start();
    for n in 0..3 {
        let to = format!("r{n}@reuse.e2e.test");
        mx.send(
            mx.smtp_port,
            "user@vmail.e2e.test",
            &to,
            &format!("t50-{n}"),
        )
        .unwrap();
        let needle = format!("to=<{to}>");
        if !wait_until(30, || {
            mx.log()
                .lines()
                .any(|l| l.contains(&needle) && l.contains("status=sent"))
        }) {
            mx.keep_for_inspection();
            stop(&mut server);
            panic!("no delivery to {to}:\n{}", mx.log());
        }
        // The client logs the delivery before it hands the session to scache.
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    // scache logs each interval's statistics once it is over; two intervals after the
    // last delivery every lookup has been counted.
    std::thread::sleep(std::time::Duration::from_secs(7));
    stop(&mut server);
    let log = mx.log();
    let deliveries = log
        .lines()
        .filter(|l| l.contains(&format!("/{client}[")) && l.contains(" to=<"))
        .map(|l| {
            let m = &l[l.find("to=<").unwrap()..];
            let m = match (m.find(", delay="), m.find(", dsn=")) {
                (Some(a), Some(b)) => format!("{}{}", &m[..a], &m[b..]),
                _ => m.to_string(),
            };
            m.replace(&format!("]:{port}"), "]:PORT")
                .replace(&socket.display().to_string(), "SOCKET")
        })
        .collect();
    // How the lookups fall into intervals depends on timing: the counts are summed.
    let mut sums = [(0u32, 0u32); 2];
    let mut most = Vec::new();
    for line in log.lines().filter(|l| l.contains("/scache[")) {
        let Some((_, stat)) = line.split_once("statistics: ") else {
            continue;
        };
        let kind = match stat {
            s if s.starts_with("domain lookup") => 0,
            s if s.starts_with("address lookup") => 1,
            s if s.starts_with("max simultaneous") => {
                most.push(stat.to_string());
                continue;
            }
            _ => continue,
        };
        let count = |name: &str| -> u32 {
            stat.split(' ')
                .find_map(|w| w.strip_prefix(name))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        sums[kind].0 += count("hits=");
        sums[kind].1 += count("miss=");
    }
    most.sort();
    most.dedup();
    let mut statistics: Vec<String> = ["domain", "address"]
        .iter()
        .zip(sums)
        .map(|(kind, (hits, miss))| format!("{kind} lookup hits={hits} miss={miss}"))
        .collect();
    statistics.extend(most);
    // The test's own probe for the listening port is a connection that says nothing.
    let lines: Vec<String> = std::fs::read_to_string(&transcript)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    let mut transcript = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i] == "CONNECT" && lines.get(i + 1).is_some_and(|l| l == "CLOSED") {
            i += 2;
            continue;
        }
        transcript.push(lines[i].clone());
        i += 1;
    }
    Some(Seen {
        transcript,
        deliveries,
        statistics,
    })
}

/// The scripted server on `place` (a TCP port or a socket path), writing to `transcript`.
fn start_server(place: &str, transcript: &std::path::Path) -> Child {
    Command::new("python3")
        .args(["-c", SERVER, place])
        .arg(transcript)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3")
}

fn stop(server: &mut Child) {
    let _ = server.kill();
    let _ = server.wait();
}

impl Seen {
    /// How many connections the server took.
    fn connections(&self) -> usize {
        self.transcript.iter().filter(|l| *l == "CONNECT").count()
    }
}

#[test]
fn three_messages_over_one_connection_as_postfix() {
    let Some(postfix) = run(false, None, false) else {
        return;
    };
    let Some(ours) = run(true, None, false) else {
        return;
    };
    assert_eq!(postfix.connections(), 1, "{postfix:#?}");
    assert!(
        postfix.deliveries.iter().any(|l| l.contains("conn_use=3")),
        "{postfix:#?}"
    );
    assert_eq!(ours, postfix);
}

#[test]
fn reuse_count_limit_as_postfix() {
    let Some(postfix) = run(false, Some("1"), false) else {
        return;
    };
    let Some(ours) = run(true, Some("1"), false) else {
        return;
    };
    assert_eq!(postfix.connections(), 2, "{postfix:#?}");
    assert_eq!(ours, postfix);
}

#[test]
fn lmtp_over_a_unix_socket_as_postfix() {
    let Some(postfix) = run(false, None, true) else {
        return;
    };
    let Some(ours) = run(true, None, true) else {
        return;
    };
    assert_eq!(postfix.connections(), 1, "{postfix:#?}");
    assert_eq!(ours, postfix);
}

/// On-demand connection caching, decided by the queue manager: twelve messages deferred
/// while the server is down go out together after `postqueue -f`, one at a time
/// (destination concurrency 1). No destination is listed in
/// smtp_connection_cache_destinations, so sessions are cached only because the queue
/// manager sees back-to-back deliveries and asks for it with the request's CONN_LOAD and
/// CONN_STORE flags (`qmgr_entry_select`): the first delivery after the flush ends with
/// QUIT, the second is back to back and stores its session, the rest reuse it. Returns
/// the connections the server took and the largest `conn_use=` of the delivery lines.
fn on_demand(our_qmgr: bool) -> Option<(usize, u32)> {
    const MESSAGES: usize = 12;
    let mut daemons = vec!["master", "postlogd", "smtp", "lmtp", "scache"];
    if our_qmgr {
        daemons.push("qmgr");
    }
    let side = if our_qmgr { "ours" } else { "postfix" };
    let mut mx = Instance::with_daemons(&format!("t-50-demand-{side}"), &daemons)?;
    let port = free_port();
    mx.set_main_cf("relay_domains", "reuse.e2e.test");
    mx.set_main_cf("connection_cache_ttl_limit", "30s");
    mx.set_main_cf("smtp_connection_cache_time_limit", "30s");
    mx.set_main_cf("smtp_destination_concurrency_limit", "1");
    mx.write(
        "etc/transport",
        &format!("reuse.e2e.test smtp:[127.0.0.1]:{port}\n"),
    );
    mx.start();
    let count = |mx: &Instance, status: &str| {
        mx.log()
            .lines()
            .filter(|l| l.contains("/smtp[") && l.contains(status))
            .filter(|l| l.contains("@reuse.e2e.test>"))
            .count()
    };
    for n in 0..MESSAGES {
        let to = format!("d{n}@reuse.e2e.test");
        mx.send(
            mx.smtp_port,
            "user@vmail.e2e.test",
            &to,
            &format!("t50d-{n}"),
        )
        .unwrap();
    }
    // The server is not there yet: the first attempt is refused and the rest wait for
    // the dead destination.
    if !wait_until(30, || {
        mx.log().matches("status=deferred").count() >= MESSAGES
    }) {
        mx.keep_for_inspection();
        panic!("not all deferred:\n{}", mx.log());
    }
    let transcript = mx.dir.join("sink/transcript");
    let mut server = start_server(&port.to_string(), &transcript);
    wait_until(5, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let flush = mx.command("postqueue", &["-f"]);
    assert!(flush.status.success(), "{flush:?}");
    let delivered = wait_until(60, || count(&mx, "status=sent") >= MESSAGES);
    stop(&mut server);
    if !delivered {
        mx.keep_for_inspection();
        panic!("not all delivered:\n{}", mx.log());
    }
    let most_used = mx
        .log()
        .lines()
        .filter(|l| l.contains("/smtp[") && l.contains("status=sent"))
        .filter_map(|l| l.split_once("conn_use=")?.1.split(',').next()?.parse().ok())
        .max()
        .unwrap_or(1);
    let lines = std::fs::read_to_string(&transcript).unwrap_or_default();
    let connections = lines.lines().filter(|l| *l == "CONNECT").count()
        - lines.matches("CONNECT\nCLOSED\n").count();
    Some((connections, most_used))
}

#[test]
fn back_to_back_deliveries_reuse_connections_with_either_queue_manager() {
    let Some((postfix_connections, postfix_most)) = on_demand(false) else {
        return;
    };
    let Some((connections, most)) = on_demand(true) else {
        return;
    };
    // One connection, or two when the first delivery after the flush is not back to back
    // with the refused attempt; every later message over the cached one.
    assert!(
        postfix_most >= 10 && postfix_connections <= 2,
        "Postfix's qmgr: {postfix_connections} connections, conn_use up to {postfix_most}"
    );
    assert!(
        most >= 10 && connections <= 2,
        "ironpost's qmgr: {connections} connections, conn_use up to {most}"
    );
}
