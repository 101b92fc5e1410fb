//! A public SMTP service at its process limit: the master logs Postfix's three warnings
//! (the STRESS_README hint), queues the next client until a process is free, and starts
//! new smtpd processes with `-o stress=yes`, as Postfix's master does.

use e2e::{Instance, wait_until};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

fn connect(port: u16) -> (BufReader<TcpStream>, TcpStream) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    (BufReader::new(stream.try_clone().unwrap()), stream)
}

fn greeting(reader: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    line
}

#[test]
fn busy_service_warns_and_queues() {
    let Some(mut mx) = Instance::new("t-13") else {
        return;
    };
    // A wildcard address makes the service public (stress-eligible), as in Postfix.
    mx.replace_master_cf_line(
        |l| l.starts_with("127.0.0.1:"),
        "0.0.0.0:@SMTP_PORT@ inet n - n - 2 smtpd",
    );
    mx.start();
    let (mut r1, _s1) = connect(mx.smtp_port);
    assert!(greeting(&mut r1).starts_with("220 "));
    let (mut r2, mut s2) = connect(mx.smtp_port);
    assert!(greeting(&mut r2).starts_with("220 "));
    // Both processes are busy: the third client waits, and the master says why.
    let (mut r3, _s3) = connect(mx.smtp_port);
    let service = format!("0.0.0.0:{}", mx.smtp_port);
    mx.wait_log(
        &format!(
            "warning: service \"{service}\" ([0.0.0.0]:{}) has reached its process limit \"2\": new clients may experience noticeable delays",
            mx.smtp_port
        ),
        10,
    );
    mx.wait_log(
        "warning: to avoid this condition, increase the process count in master.cf or reduce the service time per client",
        5,
    );
    mx.wait_log(
        "warning: see http://www.postfix.org/STRESS_README.html for examples of stress-adapting configuration settings",
        5,
    );
    // A process frees up: the waiting client is served.
    s2.write_all(b"QUIT\r\n").unwrap();
    let mut bye = String::new();
    r2.read_line(&mut bye).unwrap();
    assert!(greeting(&mut r3).starts_with("220 "));
    // Processes started under stress say so on their command line.
    assert!(
        wait_until(10, || mx.daemons("smtpd").iter().any(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("stress=yes"))
        })),
        "no smtpd with stress=yes; log:\n{}",
        mx.log()
    );
    mx.postfix(&["stop"]);
}
