//! cleanup: the same messages, submitted with Postfix's sendmail (through postdrop and
//! pickup) and over SMTP to Postfix's smtpd, go through Postfix's cleanup in one instance
//! and through ironpost's in the other; with no queue manager to take them, the queue
//! files in incoming/ are compared record for record (queue IDs, times and client ports
//! aside). Postfix's postcat reads ironpost's files, and once the queue manager runs the
//! messages are delivered. Also: ironpost's cleanup logs `QUEUEID: message-id=<...>` as
//! Postfix's does, and a client that sends records out of order gets Postfix's status and
//! warning. bounce.rs: refused local submissions bounced; durability.rs: the commit order
//! under strace, and SIGTERM while a file is written; flow.rs: in_flow_delay without
//! tokens; golden.rs: cleanup's golden cases are what Postfix's cleanup does.

mod bounce;
mod durability;
mod flow;
mod golden;
mod harness;

use e2e::{Instance, wait_until};
use harness::*;
use std::process::Command;

/// The messages: (marker, how to submit it).
fn submit_all(mx: &Instance) {
    sendmail(
        mx,
        &["-f", "root", "-F", "Joe Q. Public", "user@vmail.e2e.test"],
        "Subject: t20-local\nTo: user, other@example.org\nReturn-Path: <bogus@example.org>\nBcc: hidden\n\nbody t20-local\n.dot\n",
    );
    sendmail(
        mx,
        &["-t", "-f", "root"],
        "From: root\nTo: user@vmail.e2e.test\nCc: USER@vmail.e2e.test, user@vmail.e2e.test\nSubject: t20-extract\nContent-Transfer-Encoding: 8bit\n\nt20-extract \u{e9}t\u{e9}\n",
    );
    let long = "x".repeat(5000);
    sendmail(
        mx,
        &["-f", "", "user@vmail.e2e.test"],
        &format!(
            "Subject: t20-long\nMessage-Id: <given@e2e.test>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\n{long}\nt20-long\n"
        ),
    );
    smtp(
        mx,
        "sender@example.org",
        &["user@vmail.e2e.test", "USER@vmail.e2e.test"],
        "From: Sender <sender@example.org>\r\nTo: user@vmail.e2e.test\r\nSubject: t20-smtp\r\n\r\nt20-smtp body\r\n",
    );
    smtp(
        mx,
        "",
        &["user@vmail.e2e.test"],
        "Subject: t20-smtp-bare\r\nReceived: from elsewhere by relay.example; Mon, 1 Jan 2024 00:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nt20-smtp-bare caf\u{e9}\r\n",
    );
}

const MARKERS: [&str; 5] = [
    "t20-local",
    "t20-extract",
    "t20-long",
    "t20-smtp body",
    "t20-smtp-bare",
];

#[test]
fn queue_files_equal_postfix_s_and_mail_is_delivered() {
    let Some(pair) = Pair::new("t-20", "", &[]) else {
        return;
    };
    let (ours, theirs) = (&pair.ours, &pair.theirs);
    submit_all(ours);
    submit_all(theirs);
    for marker in MARKERS {
        let (our_id, our_file) = queued(ours, marker);
        let (their_id, their_file) = queued(theirs, marker);
        let got = normalized(&our_file, &our_id);
        let expected = normalized(&their_file, &their_id);
        if got != expected {
            ours.keep_for_inspection();
            theirs.keep_for_inspection();
        }
        assert_eq!(got, expected, "{marker}: queue files differ");
        let our_flags = check_size_record(&our_file, marker);
        assert_eq!(
            our_flags,
            check_size_record(&their_file, marker),
            "{marker}"
        );
        // The log line tools read.
        let log = ours.log();
        assert!(
            log.lines()
                .any(|l| l.contains("/cleanup[") && l.contains(&format!("{our_id}: message-id=<"))),
            "{marker}: no message-id line for {our_id}:\n{log}"
        );
        // Postfix's own tools read ironpost's queue files.
        let postcat = Command::new("/usr/sbin/postcat")
            .arg("-c")
            .arg(ours.etc())
            .arg("-q")
            .arg(&our_id)
            .output()
            .unwrap();
        assert!(
            postcat.status.success(),
            "postcat: {}",
            String::from_utf8_lossy(&postcat.stderr)
        );
        assert!(String::from_utf8_lossy(&postcat.stdout).contains("*** MESSAGE FILE END"));
    }
    // Now with a queue manager: everything is delivered.
    ours.replace_master_cf_line(
        |l| l.starts_with("#qmgr"),
        "qmgr      unix  n       -       n       300     1       qmgr",
    );
    ours.postfix(&["reload"]);
    for marker in MARKERS {
        let ok = wait_until(30, || ours.mailbox().iter().any(|m| m.contains(marker)));
        if !ok {
            ours.keep_for_inspection();
            panic!("{marker} not delivered; log:\n{}", ours.log());
        }
    }
}

#[test]
fn bad_record_streams_get_postfix_s_status_and_warnings() {
    let Some(pair) = Pair::new("t-20-bad", "", &[]) else {
        return;
    };
    let (ours, theirs) = (&pair.ours, &pair.theirs);
    let time: &[u8] = b"1700000000 0";
    let received: &[u8] = b"Received: by test";
    let cases: Vec<(&str, Vec<Rec>, bool)> = vec![
        (
            "recipient first",
            vec![(b'T', time), (b'R', b"user")],
            false,
        ),
        ("pointer record", vec![(b'T', time), (b'p', b"0")], false),
        ("unknown type", vec![(b'T', time), (b'Z', b"x")], false),
        (
            "bad attribute",
            vec![(b'T', time), (b'A', b"novalue")],
            false,
        ),
        (
            "two senders",
            vec![(b'T', time), (b'S', b"a"), (b'S', b"b")],
            false,
        ),
        (
            "no recipients",
            vec![
                (b'T', time),
                (b'S', b"a"),
                (b'M', b""),
                (b'N', received),
                (b'X', b""),
                (b'E', b""),
            ],
            false,
        ),
        (
            "no received header",
            vec![
                (b'T', time),
                (b'S', b"a"),
                (b'R', b"user"),
                (b'M', b""),
                (b'N', b"Subject: x"),
                (b'X', b""),
                (b'E', b""),
            ],
            false,
        ),
        (
            "ends early",
            vec![(b'T', time), (b'S', b"a"), (b'R', b"user"), (b'M', b"")],
            true,
        ),
    ];
    for (what, stream, early) in &cases {
        let (our_id, our_status, our_reason) = raw_cleanup(ours, 114, stream, *early);
        let (their_id, their_status, their_reason) = raw_cleanup(theirs, 114, stream, *early);
        assert_eq!(
            (our_status, &our_reason),
            (their_status, &their_reason),
            "{what}: status and reason"
        );
        assert_ne!(our_status, 0, "{what}");
        // The same warnings, queue ID aside.
        let warnings = |mx: &Instance, id: &str| -> Vec<String> {
            mx.log()
                .lines()
                .filter(|l| l.contains("/cleanup[") && l.contains(id) && l.contains("warning:"))
                .map(|l| l.split_once("warning: ").unwrap().1.replace(id, "QUEUEID"))
                .collect()
        };
        wait_until(5, || {
            warnings(theirs, &their_id).len() == warnings(ours, &our_id).len()
        });
        assert_eq!(
            warnings(ours, &our_id),
            warnings(theirs, &their_id),
            "{what}: warnings"
        );
        let silent = ["no recipients", "ends early"].contains(what);
        assert_eq!(warnings(ours, &our_id).is_empty(), silent, "{what}");
        // Nothing is left behind.
        assert!(
            !ours.dir.join("queue/incoming").join(&our_id).exists(),
            "{what}: {our_id} left in incoming"
        );
    }
}
