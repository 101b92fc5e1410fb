//! What the differential tests of the SMTP and LMTP client share (t-36, t-47, t-48,
//! t-61): an instance whose client is Postfix's or ironpost's, a message to several
//! recipients in one SMTP session, and the client's log messages with what differs from
//! run to run taken out.

use crate::{IRONPOST_DAEMONS, Instance};
use std::process::Command;

/// An instance named `name-ours` or `name-postfix` with ironpost's daemons, whose
/// `client` (smtp or lmtp) is ironpost's when `ours` and Postfix's otherwise, whatever
/// the suite's daemon list holds.
#[track_caller]
pub fn instance(name: &str, ours: bool, client: &str) -> Option<Instance> {
    let mut daemons: Vec<&str> = IRONPOST_DAEMONS
        .iter()
        .copied()
        .filter(|d| *d != "smtp" && *d != "lmtp")
        .collect();
    if ours {
        daemons.push(client);
    }
    let side = if ours { "ours" } else { "postfix" };
    Instance::with_daemons(&format!("{name}-{side}"), &daemons)
}

/// Sends one message with subject `subject` from user@vmail.e2e.test to `recipients`
/// over the instance's SMTP port with Python's smtplib; fails the test when smtplib
/// does.
pub fn send_to_many(mx: &Instance, subject: &str, recipients: &[&str]) {
    let script = "import smtplib, sys\n\
        s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=30)\n\
        s.sendmail('user@vmail.e2e.test', sys.argv[3:], 'Subject: %s\\r\\n\\r\\nbody\\r\\n' % sys.argv[2])\n\
        s.quit()\n";
    let out = Command::new("python3")
        .args(["-c", script, &mx.smtp_port.to_string(), subject])
        .args(recipients)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// A client's log message (after "]: ") without what differs between two runs: its
/// queue ID, the delays, and the servers' `port` (in `host[addr]:port`, `host:port` and
/// a TLSA name's `_port._tcp`), which becomes PORT.
pub fn normalize(message: &str, port: u16) -> String {
    let mut out = match message.split_once(": ") {
        Some((id, rest))
            if id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) =>
        {
            rest.to_string()
        }
        _ => message.to_string(),
    };
    if let (Some(a), Some(b)) = (out.find(", delay="), out.find(", dsn=")) {
        out.replace_range(a..b, "");
    }
    out.replace(&format!("_{port}._tcp"), "_PORT._tcp")
        .replace(&format!(":{port}"), ":PORT")
}

/// Sends a message with subject `subject` from user@vmail.e2e.test to `to` and waits
/// (60 seconds) for a log line of the client (`client` says which lines are) that names
/// the recipient and contains `want`; fails the test, keeping the instance, when none
/// comes. The log lines since the message was sent.
#[track_caller]
pub fn send_and_wait(
    mx: &Instance,
    to: &str,
    subject: &str,
    want: &str,
    client: impl Fn(&str) -> bool,
) -> Vec<String> {
    let before = mx.log().lines().count();
    mx.send(mx.smtp_port, "user@vmail.e2e.test", to, subject)
        .unwrap();
    let needle = format!("to=<{to}>");
    let done = |l: &str| client(l) && l.contains(&needle) && l.contains(want);
    if !crate::wait_until(60, || mx.log().lines().skip(before).any(done)) {
        mx.keep_for_inspection();
        panic!("no {want} for {to}:\n{}", mx.log());
    }
    mx.log().lines().skip(before).map(str::to_string).collect()
}

/// A log line's message (after "]: "), normalized as by `normalize`.
pub fn message(line: &str, port: u16) -> Option<String> {
    line.split_once("]: ").map(|(_, m)| normalize(m, port))
}

/// The lines of a scripted server's transcript, sorted (the servers' order is not
/// the clients').
pub fn received(transcript: &std::path::Path) -> Vec<String> {
    let mut lines: Vec<String> = std::fs::read_to_string(transcript)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// Compares the client's log lines case by case, ours against Postfix's (`cases` names
/// them in order), once Postfix's are seen to hold each of `expected`, so that a
/// scenario that no longer comes about cannot pass as equal.
#[track_caller]
pub fn assert_cases_equal(
    ours: &[Vec<String>],
    postfix: &[Vec<String>],
    cases: &[&str],
    expected: &[&str],
) {
    let all: Vec<&String> = postfix.iter().flatten().collect();
    for want in expected {
        assert!(
            all.iter().any(|l| l.contains(want)),
            "no {want:?} in {postfix:#?}"
        );
    }
    assert_eq!(ours.len(), postfix.len());
    for (n, (ours, theirs)) in ours.iter().zip(postfix).enumerate() {
        assert_eq!(ours, theirs, "case {n}: {}", cases[n]);
    }
}
