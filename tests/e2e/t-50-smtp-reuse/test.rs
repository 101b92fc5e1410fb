//! Connection reuse through the connection cache: three messages, one after the other,
//! to a destination in smtp_connection_cache_destinations go over one connection (the
//! server sees one EHLO, then RSET before each later MAIL FROM, and no QUIT); the
//! delivery lines say `conn_use=2` and `conn_use=3`, and scache logs its statistics
//! lines. With smtp_connection_reuse_count_limit = 1 a connection is used twice and
//! then ended with QUIT. Postfix's smtp and scache against ironpost's, the same
//! scenario: the same server transcript, delivery lines and statistics.

use e2e::{Instance, free_port, wait_until};
use std::process::{Child, Command, Stdio};

/// A server that writes `CONNECT` for each connection and every command to the
/// transcript.
const SERVER: &str = r#"
import socketserver, sys
port, transcript = int(sys.argv[1]), sys.argv[2]
class H(socketserver.StreamRequestHandler):
    def out(self, text):
        self.wfile.write((text + "\r\n").encode()); self.wfile.flush()
    def log(self, line):
        with open(transcript, "a") as f: f.write(line + "\n")
    def handle(self):
        self.log("CONNECT")
        self.out("220 mx.reuse.test ESMTP scripted")
        while True:
            raw = self.rfile.readline()
            if not raw: self.log("CLOSED"); return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.log(line.split(":")[0] if line.startswith(("MAIL", "RCPT")) else line)
            verb = line.split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
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
S(("127.0.0.1", port), H).serve_forever()
"#;

/// An instance with ironpost's master and log daemon, and ironpost's smtp and scache
/// too when `ours`.
fn instance(name: &str, ours: bool) -> Option<Instance> {
    let mut daemons = vec!["master", "postlogd"];
    if ours {
        daemons.extend(["smtp", "scache"]);
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

fn run(ours: bool, count_limit: Option<&str>) -> Option<Seen> {
    let mut mx = instance("t-50", ours)?;
    let port = free_port();
    mx.set_main_cf("relay_domains", "reuse.e2e.test");
    mx.set_main_cf("smtp_connection_cache_destinations", "127.0.0.1");
    mx.set_main_cf("smtp_connection_cache_time_limit", "30s");
    mx.set_main_cf("connection_cache_status_update_time", "3s");
    if let Some(limit) = count_limit {
        mx.set_main_cf("smtp_connection_reuse_count_limit", limit);
    }
    mx.write(
        "etc/transport",
        &format!("reuse.e2e.test smtp:[127.0.0.1]:{port}\n"),
    );
    let transcript = mx.dir.join("sink/transcript");
    let mut server = Command::new("python3")
        .args(["-c", SERVER, &port.to_string()])
        .arg(&transcript)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    wait_until(5, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
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
    }
    // scache logs the interval's statistics once it is over.
    let logged = wait_until(20, || {
        mx.log()
            .lines()
            .any(|l| l.contains("/scache[") && l.contains("statistics: address lookup"))
    });
    stop(&mut server);
    if !logged {
        mx.keep_for_inspection();
        panic!("no scache statistics:\n{}", mx.log());
    }
    let log = mx.log();
    let deliveries = log
        .lines()
        .filter(|l| l.contains("/smtp[") && l.contains(" to=<"))
        .map(|l| {
            let m = &l[l.find("to=<").unwrap()..];
            let m = match (m.find(", delay="), m.find(", dsn=")) {
                (Some(a), Some(b)) => format!("{}{}", &m[..a], &m[b..]),
                _ => m.to_string(),
            };
            m.replace(&format!("]:{port}"), "]:PORT")
        })
        .collect();
    // The interval's start time differs; the counts and the longest list do not.
    let statistics = log
        .lines()
        .filter(|l| l.contains("/scache[") && l.contains("statistics: "))
        .filter(|l| !l.contains("start interval"))
        .map(|l| l[l.find("statistics: ").unwrap()..].to_string())
        .collect();
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
    let Some(postfix) = run(false, None) else {
        return;
    };
    let Some(ours) = run(true, None) else { return };
    assert_eq!(postfix.connections(), 1, "{postfix:#?}");
    assert!(
        postfix.deliveries.iter().any(|l| l.contains("conn_use=3")),
        "{postfix:#?}"
    );
    assert_eq!(ours, postfix);
}

#[test]
fn reuse_count_limit_as_postfix() {
    let Some(postfix) = run(false, Some("1")) else {
        return;
    };
    let Some(ours) = run(true, Some("1")) else {
        return;
    };
    assert_eq!(postfix.connections(), 2, "{postfix:#?}");
    assert_eq!(ours, postfix);
}
