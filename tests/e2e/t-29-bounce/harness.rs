//! The harness of t-29 and t-30: an instance with our bounce service or Postfix's,
//! submission, and notices and log lines with what differs between two runs normalised
//! (queue IDs, dates, MIME boundaries, Message-IDs, ports, sizes, delays). Waiting and
//! the queue files come from t-23's harness (each test crate includes it as
//! `qmgr_harness`).

// Two test crates share this module and each uses part of it.
#![allow(dead_code)]

use e2e::{IRONPOST_DAEMONS, Instance};

// t-23's helpers for waiting, queue IDs, queue files and log numbers.
#[allow(unused_imports)]
pub use crate::qmgr_harness::{
    FAR, USER, normalise_numbers, queue_files, queue_ids, wait_count, wait_queue,
};

/// Whose bounce service an instance runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bounce {
    /// ironpost's.
    Ours,
    /// Debian's Postfix 3.7.
    Postfix,
}

/// A recipient of the error transport.
pub const ERROR: &str = "someone@error.e2e.test";

/// An instance with our bounce service (as bounce, defer and trace) or Postfix's, its
/// commands installed, and error.e2e.test routed to the error transport.
pub fn instance(name: &str, bounce: Bounce) -> Option<Instance> {
    instance_with(name, bounce, &[])
}

/// Like [`instance`], with Postfix's programs for the ironpost daemons in `postfix_too`
/// (Postfix's qmgr driving our bounce service, for one).
pub fn instance_with(name: &str, bounce: Bounce, postfix_too: &[&str]) -> Option<Instance> {
    let mut daemons: Vec<&str> = IRONPOST_DAEMONS
        .iter()
        .copied()
        .filter(|d| !postfix_too.contains(d))
        .collect();
    let suffix = match bounce {
        Bounce::Ours => {
            if !daemons.contains(&"bounce") {
                daemons.push("bounce");
            }
            "ours"
        }
        Bounce::Postfix => {
            daemons.retain(|d| *d != "bounce");
            "postfix"
        }
    };
    let mx = Instance::with_daemons(&format!("{name}-{suffix}"), &daemons)?;
    mx.write(
        "etc/transport",
        &mx.expand(
            "relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n\
             error.e2e.test error:5.1.1 mailbox unavailable\n",
        ),
    );
    mx.install_commands();
    Some(mx)
}

/// Runs `scenario` with our bounce service, then with Postfix's; None when the mixed
/// system cannot run here (the test is skipped).
pub fn both<T>(scenario: impl Fn(Bounce) -> Option<T>) -> Option<(T, T)> {
    Some((scenario(Bounce::Ours)?, scenario(Bounce::Postfix)?))
}

/// Submits a message with sendmail.
pub fn sendmail(mx: &Instance, from: &str, to: &str, marker: &str) {
    let message = format!(
        "From: {from}\nTo: {to}\nSubject: {marker}\nMessage-Id: <{marker}@e2e.test>\n\nbody {marker}\n"
    );
    let out = mx.sendmail(&["-f", from, to], &message);
    assert!(
        out.status.success(),
        "sendmail: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Text with what differs between two runs replaced: queue IDs (numbered in order of
/// appearance in the log, so that which notice is about which message still shows),
/// dates, Message-ID and MIME boundary times, the instance's directory and ports.
pub fn normalise(mx: &Instance, text: &str) -> String {
    // Numbered in the order the log names them, replaced longest first.
    let order = queue_ids(&mx.log());
    let mut ids: Vec<(usize, &String)> = order.iter().enumerate().collect();
    ids.sort_by_key(|(_, id)| std::cmp::Reverse(id.len()));
    let mut out = text.to_string();
    for (n, id) in ids {
        out = out.replace(id.as_str(), &format!("QUEUEID{n}"));
    }
    // The times first: a port's digits can occur in a time stamp.
    let out = replace_dates(&out);
    let out = replace_message_id_times(&out);
    replace_boundary_times(&out)
        .replace(&mx.dir.display().to_string(), "DIR")
        .replace(&mx.sink_port.to_string(), "SINKPORT")
        .replace(&mx.smtp_port.to_string(), "SMTPPORT")
}

/// The time stamp in cleanup's Message-IDs (`<20261206095849.QUEUEID1@host>`) replaced
/// by TIME.
fn replace_message_id_times(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..=at]);
        let tail = &rest[at + 1..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 14 && tail[digits..].starts_with('.') {
            out.push_str("TIME");
            rest = &tail[digits..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// RFC 2822 dates (`Sun,  6 Dec 2026 09:45:28 +0000 (UTC)`) replaced by DATE.
fn replace_dates(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for day in [
            "Mon, ", "Tue, ", "Wed, ", "Thu, ", "Fri, ", "Sat, ", "Sun, ",
        ] {
            if let Some(tail) = rest.strip_prefix(day) {
                // Up to the time zone comment, or the numeric zone.
                let end = tail
                    .find(')')
                    .filter(|&e| e < 40)
                    .map(|e| e + 1)
                    .or_else(|| {
                        tail.find(['+', '-'])
                            .filter(|&e| e < 35)
                            .map(|e| (e + 5).min(tail.len()))
                    });
                if let Some(end) = end {
                    out.push_str("DATE");
                    rest = &tail[end..];
                    continue 'outer;
                }
            }
        }
        let c = rest.chars().next().unwrap();
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The time in `QUEUEIDn.TIME/host` MIME boundaries replaced by TIME.
fn replace_boundary_times(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("QUEUEID") {
        let (head, tail) = rest.split_at(at);
        out.push_str(head);
        let digits = tail["QUEUEID".len()..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let id_end = "QUEUEID".len() + digits;
        out.push_str(&tail[..id_end]);
        let after = &tail[id_end..];
        if let Some(time) = after.strip_prefix('.') {
            let n = time.bytes().take_while(u8::is_ascii_digit).count();
            if n > 0 && time[n..].starts_with('/') {
                out.push_str(".TIME");
                rest = &time[n..];
                continue;
            }
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The log lines of `processes` (`bounce`, `qmgr`...) about mail, normalised, sorted
/// (deliveries run in parallel).
pub fn lines_of(mx: &Instance, processes: &[&str]) -> Vec<String> {
    let log = mx.log();
    let mut out = Vec::new();
    for line in log.lines() {
        let Some((head, rest)) = line.split_once("]: ") else {
            continue;
        };
        let Some(process) = head.rsplit(' ').next().and_then(|p| p.split('[').next()) else {
            continue;
        };
        if !processes.iter().any(|p| process == format!("postfix/{p}")) {
            continue;
        }
        out.push(normalise_numbers(&normalise(
            mx,
            &format!("{process}: {rest}"),
        )));
    }
    out.sort();
    out
}

/// The notices in the user's mailbox (multipart/report messages), normalised, sorted.
/// The Delivered-To: and Return-Path: headers the virtual agent adds are kept.
pub fn notices(mx: &Instance) -> Vec<String> {
    let mut out: Vec<String> = mx
        .mailbox()
        .iter()
        .filter(|m| m.contains("multipart/report"))
        .map(|m| normalise(mx, m))
        .collect();
    out.sort();
    out
}

/// Asserts that `text` contains each of `needles`.
#[track_caller]
pub fn assert_has(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "no \"{needle}\" in:\n{text}");
    }
}

/// Asserts that two runs' texts are equal, showing the first differing line.
pub fn assert_same(what: &str, ours: &[String], postfix: &[String]) {
    if ours == postfix {
        return;
    }
    for (a, b) in ours.iter().zip(postfix) {
        if a != b {
            for (n, (la, lb)) in a.lines().zip(b.lines()).enumerate() {
                assert_eq!(
                    la, lb,
                    "{what}: line {n} differs\nours:\n{a}\npostfix:\n{b}"
                );
            }
            assert_eq!(a, b, "{what} differ");
        }
    }
    assert_eq!(ours, postfix, "{what}: different counts");
}
