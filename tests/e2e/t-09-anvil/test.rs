//! ironpost's anvil (a multi-client server) serves Postfix's smtpd: connection rate and
//! count limits are enforced with Postfix's replies and warnings, and anvil logs its peak
//! statistics.

use e2e::Instance;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

/// Connects and returns the greeting line.
fn greeting(port: u16) -> (String, TcpStream) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut line = String::new();
    BufReader::new(stream.try_clone().unwrap())
        .read_line(&mut line)
        .unwrap();
    (line, stream)
}

fn quit(mut stream: TcpStream) {
    let _ = stream.write_all(b"QUIT\r\n");
    let mut rest = String::new();
    let _ = BufReader::new(stream).read_line(&mut rest);
}

#[test]
fn smtpd_limits_through_our_anvil() {
    let Some(mut mx) = Instance::with_daemons("t-09", &["master", "postlogd", "anvil"]) else {
        return;
    };
    mx.add_main_cf(
        "smtpd_client_event_limit_exceptions =\nsmtpd_client_connection_rate_limit = 2\nanvil_status_update_time = 1s\n",
    );
    mx.start();
    for _ in 0..2 {
        let (line, stream) = greeting(mx.smtp_port);
        assert!(line.starts_with("220 "), "{line}");
        quit(stream);
    }
    let anvil = mx.daemons("anvil");
    assert_eq!(anvil.len(), 1, "one anvil process");
    let exe = std::fs::read_link(format!("/proc/{}/exe", anvil[0])).unwrap();
    assert_eq!(exe, mx.dir.join("libexec/anvil"), "the anvil is ironpost's");
    let (line, _stream) = greeting(mx.smtp_port);
    assert!(
        line.starts_with("421 4.7.0 mail.e2e.test Error: too many connections from 127.0.0.1"),
        "{line}"
    );
    mx.wait_log(
        &format!(
            "warning: Connection rate limit exceeded: 3 from localhost[127.0.0.1] for service 127.0.0.1:{}",
            mx.smtp_port
        ),
        10,
    );
    mx.wait_log(
        &format!(
            "postfix/anvil[{}]: statistics: max connection rate 3/60s for (127.0.0.1:{}:127.0.0.1) at ",
            mx.daemons("anvil").first().copied().unwrap_or(0),
            mx.smtp_port
        ),
        10,
    );
}

#[test]
fn connection_count_limit() {
    let Some(mut mx) = Instance::with_daemons("t-09b", &["master", "postlogd", "anvil"]) else {
        return;
    };
    mx.add_main_cf(
        "smtpd_client_event_limit_exceptions =\nsmtpd_client_connection_count_limit = 1\n",
    );
    mx.start();
    let (first, held) = greeting(mx.smtp_port);
    assert!(first.starts_with("220 "), "{first}");
    let (second, _) = greeting(mx.smtp_port);
    assert!(
        second.starts_with("421 4.7.0 mail.e2e.test Error: too many connections from 127.0.0.1"),
        "{second}"
    );
    mx.wait_log(
        "warning: Connection concurrency limit exceeded: 2 from localhost[127.0.0.1]",
        10,
    );
    quit(held);
    // Once the first session ends, anvil has dropped its count: a new client gets in.
    let (again, stream) = greeting(mx.smtp_port);
    assert!(again.starts_with("220 "), "{again}");
    quit(stream);
}
