//! The fast flush service: mail deferred for a `fast_flush_domains` destination is
//! listed in its per-destination log (the SMTP client's defer_append asks the service to
//! add it), and ETRN for that destination delivers it at once: the service moves the
//! listed messages to incoming/, wakes the queue manager and truncates the log. ETRN for
//! a destination without a log, and for one that is not eligible, answers as Postfix
//! does. The same run with Postfix's flush daemon gives the same replies, log contents
//! and deliveries.

use e2e::{IRONPOST_DAEMONS, Instance, wait_until};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

/// What a run saw: the flush log after the deferrals (queue IDs replaced by their
/// order), the ETRN replies, the log's size after the ETRN, and the deliveries.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    listed: Vec<usize>,
    replies: Vec<String>,
    size_after: u64,
    sent: usize,
}

fn etrn(mx: &Instance, sites: &[&str]) -> Vec<String> {
    let stream = TcpStream::connect(("127.0.0.1", mx.smtp_port)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut replies = Vec::new();
    let read_reply = |reader: &mut BufReader<TcpStream>| {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            reply.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                break;
            }
        }
        reply
    };
    read_reply(&mut reader);
    writer.write_all(b"EHLO client.e2e.test\r\n").unwrap();
    read_reply(&mut reader);
    for site in sites {
        writer
            .write_all(format!("ETRN {site}\r\n").as_bytes())
            .unwrap();
        replies.push(read_reply(&mut reader).trim_end().to_string());
    }
    writer.write_all(b"QUIT\r\n").unwrap();
    read_reply(&mut reader);
    replies
}

fn run(ours: bool) -> Option<Seen> {
    let mut daemons: Vec<&str> = IRONPOST_DAEMONS
        .iter()
        .copied()
        .filter(|d| *d != "flush")
        .collect();
    if ours {
        daemons.push("flush");
    }
    let name = if ours { "t-35-ours" } else { "t-35-postfix" };
    let mut mx = Instance::with_daemons(name, &daemons)?;
    mx.start();
    let mut ids = Vec::new();
    for (n, rcpt) in ["x@relay.e2e.test", "y@relay.e2e.test"].iter().enumerate() {
        mx.send(mx.smtp_port, "a@example.org", rcpt, &format!("t35-{n}"))
            .unwrap();
        let want = n + 1;
        assert!(
            wait_until(30, || mx.log().matches("status=deferred").count() >= want),
            "not deferred; log:\n{}",
            mx.log()
        );
        let log = mx.log();
        let line = log
            .lines()
            .filter(|l| l.contains("status=deferred"))
            .nth(n)
            .unwrap();
        let id = line.split(": ").nth(1).unwrap().to_string();
        ids.push(id);
    }
    let flush_log = mx.dir.join("queue/flush/relay_e2e_test");
    // The SMTP client logs the deferral before it tells the flush service.
    wait_until(10, || {
        std::fs::read_to_string(&flush_log).is_ok_and(|t| t.lines().count() >= 2)
    });
    let listed_text = std::fs::read_to_string(&flush_log).unwrap_or_else(|e| {
        mx.keep_for_inspection();
        panic!("no flush log {}: {e}\n{}", flush_log.display(), mx.log())
    });
    let listed = listed_text
        .lines()
        .map(|l| ids.iter().position(|id| id == l).map_or(99, |p| p + 1))
        .collect();
    mx.start_sink();
    let replies = etrn(
        &mx,
        &["relay.e2e.test", "example.org", "nothing.relay.e2e.test"],
    );
    assert!(
        wait_until(30, || mx.log().matches("status=sent").count() >= 2),
        "ETRN did not deliver; log:\n{}",
        mx.log()
    );
    let size_after = std::fs::metadata(&flush_log).map_or(99, |m| m.len());
    let sent = mx.log().matches("status=sent").count();
    mx.postfix(&["stop"]);
    Some(Seen {
        listed,
        replies,
        size_after,
        sent,
    })
}

#[test]
fn etrn_delivers_deferred_mail_as_with_postfix_s_flush() {
    let Some(postfix) = run(false) else {
        return;
    };
    let Some(ours) = run(true) else {
        return;
    };
    assert_eq!(postfix.listed, vec![1, 2], "{postfix:?}");
    assert_eq!(postfix.replies[0], "250 Queuing started");
    assert_eq!(ours, postfix);
}
