//! t-09: the client limits through ironpost's anvil, ironpost's smtpd against Postfix's.
//!
//! Both sides run ironpost's anvil (a multi-client server); one runs Postfix's smtpd,
//! the other ours, with the same limits. The same sessions go to both: connection rate
//! and count limits (421 before the greeting), message, recipient and AUTH rate limits
//! (450), smtpd_client_event_limit_exceptions; replies and smtpd's log lines must be
//! equal once the SMTP port is masked. anvil logs its peak statistics.

use e2e::Instance;
use e2e::smtpd_log::Pair;
use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::Child;

/// The pair with `main_cf`, started.
fn start(name: &str, main_cf: &[(&str, &str)]) -> Option<Pair> {
    let mut pair = Pair::prepare(&format!("t09-{name}"), main_cf, &[])?;
    pair.start();
    Some(pair)
}

/// Compares one session with each side's SMTP port masked (it is in the service name).
fn compare(pair: &Pair, name: &str, source: &str, steps: &[(&str, usize)]) -> String {
    pair.compare_with(name, source, steps, |instance, lines| {
        let port = format!(":{}", instance.smtp_port);
        lines
            .into_iter()
            .map(|l| l.replace(&port, ":PORT"))
            .collect()
    })
}

/// What the limits answer: the replies must have it (both sides could be unlimited).
const TOO_MANY: &str = "421 4.7.0 mail.e2e.test Error: too many connections from";

const EHLO: (&str, usize) = ("EHLO client.example\r\n", 1);
const QUIT: (&str, usize) = ("QUIT\r\n", 1);

/// Connects from `source` and reads the greeting; the connection stays open as long as
/// the stream (the relay process ends with it).
fn hold(instance: &Instance, source: &str) -> (TcpStream, Child) {
    let (stream, relay) = bind_connect(source, instance.smtp_port);
    let mut line = String::new();
    BufReader::new(stream.try_clone().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("220 "), "{line}");
    (stream, relay)
}

/// A connection from `source` to the SMTP `port`: std cannot bind a client socket, so a
/// python relay binds it and copies both ways.
fn bind_connect(source: &str, port: u16) -> (TcpStream, Child) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let relay = listener.local_addr().unwrap().port();
    let script = "import socket, sys, threading\n\
        src, port, relay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])\n\
        up = socket.socket(); up.bind((src, 0)); up.connect(('127.0.0.1', port))\n\
        down = socket.create_connection(('127.0.0.1', relay))\n\
        def pump(a, b):\n    \
            while True:\n        \
                d = a.recv(4096)\n        \
                if not d:\n            \
                    b.shutdown(socket.SHUT_WR); return\n        \
                b.sendall(d)\n\
        t = threading.Thread(target=pump, args=(up, down)); t.start()\n\
        pump(down, up); t.join()\n";
    let child = std::process::Command::new("python3")
        .args(["-c", script, source, &port.to_string(), &relay.to_string()])
        .spawn()
        .expect("python3");
    (listener.accept().unwrap().0, child)
}

#[test]
fn connection_limits_match_postfix() {
    let main_cf = [
        ("mynetworks", "127.0.0.1/32"),
        ("smtpd_client_connection_rate_limit", "2"),
        ("smtpd_client_connection_count_limit", "1"),
        ("anvil_status_update_time", "1s"),
    ];
    let Some(pair) = start("connections", &main_cf) else {
        return;
    };
    // 127.0.0.1 is in mynetworks, the default exceptions: never limited.
    for _ in 0..3 {
        let replies = compare(&pair, "exempt", "127.0.0.1", &[EHLO, QUIT]);
        assert!(!replies.contains(TOO_MANY), "{replies}");
    }
    // The third connection within a minute is one too many.
    for n in 0..3 {
        let replies = compare(&pair, &format!("rate {n}"), "127.0.0.2", &[EHLO, QUIT]);
        assert_eq!(replies.contains(TOO_MANY), n == 2, "{replies}");
    }
    // A second simultaneous connection from 127.0.0.3.
    let held = [&pair.postfix, &pair.ironpost].map(|i| hold(i, "127.0.0.3"));
    let replies = compare(&pair, "count", "127.0.0.3", &[EHLO, QUIT]);
    assert!(replies.contains(TOO_MANY), "{replies}");
    for (stream, mut relay) in held {
        drop(stream);
        let _ = relay.wait();
    }
    // anvil (ours) logs its statistics.
    let anvil = pair.ironpost.daemons("anvil");
    assert_eq!(anvil.len(), 1, "one anvil process");
    let exe = std::fs::read_link(format!("/proc/{}/exe", anvil[0])).unwrap();
    assert_eq!(
        exe,
        pair.ironpost.dir.join("libexec/anvil"),
        "the anvil is ironpost's"
    );
    pair.ironpost.wait_log(
        &format!(
            "postfix/anvil[{}]: statistics: max connection rate 3/60s for ({}:127.0.0.2) at ",
            anvil[0],
            format_args!("127.0.0.1:{}", pair.ironpost.smtp_port)
        ),
        10,
    );
}

#[test]
fn event_rate_limits_match_postfix() {
    let main_cf = [
        ("mynetworks", "127.0.0.1/32"),
        ("smtpd_client_message_rate_limit", "2"),
        ("smtpd_client_recipient_rate_limit", "3"),
        ("smtpd_client_auth_rate_limit", "1"),
        ("smtpd_client_event_limit_exceptions", "127.0.0.1"),
    ];
    let Some(pair) = start("events", &main_cf) else {
        return;
    };
    let mail = ("MAIL FROM:<sender@example.org>\r\n", 1);
    let rcpt = ("RCPT TO:<user@vmail.e2e.test>\r\n", 1);
    let rset = ("RSET\r\n", 1);
    for source in ["127.0.0.2", "127.0.0.1"] {
        let replies = compare(
            &pair,
            &format!("events from {source}"),
            source,
            &[
                EHLO,
                mail,
                rcpt,
                rcpt,
                rset,
                mail,
                rcpt,
                rcpt,
                rset,
                mail,
                ("AUTH PLAIN\r\n", 1),
                ("AUTH PLAIN\r\n", 1),
                QUIT,
            ],
        );
        // 127.0.0.1 is the exception.
        let limited = replies.contains("450 4.7.1 Error: too much mail from");
        assert_eq!(limited, source == "127.0.0.2", "{replies}");
    }
}
