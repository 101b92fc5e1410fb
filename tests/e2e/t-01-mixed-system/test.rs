//! The mixed system: ironpost's postfix command, postconf, master and postlogd run
//! Postfix 3.7's smtpd, cleanup, qmgr and delivery agents. It starts, accepts mail over
//! SMTP, delivers to a Maildir and to a relay on loopback, picks up a master.cf edit on
//! reload, and stops without leaving a process behind.

use e2e::{Instance, free_port, wait_until};

#[test]
fn mixed_system_runs_end_to_end() {
    let Some(mut mx) = Instance::new("t-01") else {
        return;
    };
    mx.start_sink();
    mx.start();
    assert!(mx.master_pid().is_some());
    let status = mx.postfix(&["status"]);
    assert!(status.status.success());
    mx.wait_log("the Postfix mail system is running: PID:", 5);

    // Local (virtual mailbox) delivery.
    mx.send(
        mx.smtp_port,
        "sender@example.org",
        "user@vmail.e2e.test",
        "t01-local",
    )
    .unwrap();
    mx.wait_log("relay=virtual", 20);
    let maildir = mx.dir.join("vmail/vmail.e2e.test/user/new");
    assert!(
        wait_until(5, || std::fs::read_dir(&maildir)
            .is_ok_and(|d| d.count() == 1)),
        "no message in {}",
        maildir.display()
    );
    let delivered = std::fs::read_dir(&maildir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(
        std::fs::read_to_string(delivered)
            .unwrap()
            .contains("body t01-local")
    );

    // Relay to the smtp-sink on loopback.
    mx.send(
        mx.smtp_port,
        "sender@example.org",
        "someone@relay.e2e.test",
        "t01-relay",
    )
    .unwrap();
    mx.wait_log(&format!("relay=127.0.0.1[127.0.0.1]:{}", mx.sink_port), 20);
    assert!(mx.log().contains("status=sent"));
    let sunk = wait_until(5, || {
        std::fs::read_dir(mx.dir.join("sink")).is_ok_and(|d| {
            d.flatten()
                .any(|f| std::fs::read_to_string(f.path()).is_ok_and(|t| t.contains("t01-relay")))
        })
    });
    assert!(sunk, "the relay did not receive the message");

    // A master.cf edit (a second SMTP port, added with our postconf) applies on reload.
    let second = free_port();
    let entry = format!("127.0.0.1:{second}/inet=127.0.0.1:{second} inet n - n - - smtpd");
    let out = mx.command("postconf", &["-Me", &entry]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    mx.postfix(&["reload"]);
    mx.wait_log("reload -- version", 5);
    mx.send(
        second,
        "sender@example.org",
        "user@vmail.e2e.test",
        "t01-second",
    )
    .unwrap();
    assert!(wait_until(20, || std::fs::read_dir(&maildir)
        .is_ok_and(|d| d.count() == 2)));

    // Removing it again closes the port on the next reload.
    let out = mx.command("postconf", &["-MX", &format!("127.0.0.1:{second}/inet")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    mx.postfix(&["reload"]);
    assert!(
        wait_until(5, || std::net::TcpStream::connect(("127.0.0.1", second))
            .is_err()),
        "the removed service still listens"
    );
    mx.send(
        mx.smtp_port,
        "sender@example.org",
        "user@vmail.e2e.test",
        "t01-after",
    )
    .unwrap();
    assert!(wait_until(20, || std::fs::read_dir(&maildir)
        .is_ok_and(|d| d.count() == 3)));

    // And it stops, leaving nothing behind.
    mx.postfix(&["stop"]);
    mx.wait_log("terminating on signal 15", 5);
    assert!(
        wait_until(5, || mx.leftovers().is_empty()),
        "left running: {:?}",
        mx.leftovers()
    );
    let status = mx.command("postfix", &["status"]);
    assert_eq!(status.status.code(), Some(1));
}
