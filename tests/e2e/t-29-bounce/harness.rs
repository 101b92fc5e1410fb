//! The harness of t-29 and t-30: an instance with our bounce service or Postfix's,
//! submission, waiting, and notices and log lines with what differs between two runs
//! normalised (queue IDs, dates, MIME boundaries, Message-IDs, ports, sizes, delays).

// Two test crates share this module and each uses part of it.
#![allow(dead_code)]

use e2e::{IRONPOST_DAEMONS, Instance, wait_until};
use std::collections::BTreeMap;

/// Whose bounce service an instance runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bounce {
    /// ironpost's.
    Ours,
    /// Debian's Postfix 3.7.
    Postfix,
}

/// The virtual mailbox user, sender of the test messages (notices come back to it).
pub const USER: &str = "user@vmail.e2e.test";
/// A recipient behind the relay, which is down (no smtp-sink runs).
pub const FAR: &str = "far@relay.e2e.test";
/// A recipient of the error transport.
pub const ERROR: &str = "someone@error.e2e.test";

/// An instance with our bounce service (as bounce, defer and trace) or Postfix's, its
/// commands installed, and error.e2e.test routed to the error transport.
pub fn instance(name: &str, bounce: Bounce) -> Option<Instance> {
    let mut daemons: Vec<&str> = IRONPOST_DAEMONS.to_vec();
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

/// Waits until the log has `count` lines containing `needle`.
pub fn wait_count(mx: &Instance, needle: &str, count: usize, secs: u64) {
    if !wait_until(secs, || mx.log().matches(needle).count() >= count) {
        mx.keep_for_inspection();
        panic!(
            "fewer than {count} \"{needle}\" after {secs}s; log:\n{}",
            mx.log()
        );
    }
}

/// The queue IDs in the order the log first names them.
pub fn queue_ids(log: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for line in log.lines() {
        let Some((_, rest)) = line.split_once("]: ") else {
            continue;
        };
        for word in rest.split([' ', ':', ',']) {
            let is_id = (8..=16).contains(&word.len())
                && word
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase());
            if is_id && !ids.iter().any(|known| known == word) {
                ids.push(word.to_string());
            }
        }
    }
    // Longest first, so that no ID is replaced inside a longer one.
    ids.sort_by_key(|id| std::cmp::Reverse(id.len()));
    ids
}

/// Text with what differs between two runs replaced: queue IDs (numbered in order of
/// appearance in the log, so that which notice is about which message still shows),
/// dates, Message-ID and MIME boundary times, the instance's directory and ports.
pub fn normalise(mx: &Instance, text: &str) -> String {
    let log = mx.log();
    let mut ids = queue_ids(&log);
    // Numbered by first appearance in the log.
    let order: Vec<String> = {
        let mut seen = Vec::new();
        for line in log.lines() {
            for id in &ids {
                if line.contains(id.as_str()) && !seen.contains(id) {
                    seen.push(id.clone());
                }
            }
        }
        seen
    };
    ids.retain(|id| order.contains(id));
    let mut out = text.to_string();
    for id in &ids {
        let n = order.iter().position(|o| o == id).unwrap_or(0);
        out = out.replace(id.as_str(), &format!("QUEUEID{n}"));
    }
    out = out
        .replace(&mx.dir.display().to_string(), "DIR")
        .replace(&mx.sink_port.to_string(), "SINKPORT")
        .replace(&mx.smtp_port.to_string(), "SMTPPORT");
    let out = replace_dates(&out);
    let out = replace_message_id_times(&out);
    replace_boundary_times(&out)
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

/// `size=N`, `delay=N` and `delays=a/b/c/d` with their numbers replaced.
pub fn normalise_numbers(text: &str) -> String {
    text.split(", ")
        .map(|field| {
            for key in ["size=", "delay=", "delays="] {
                if field.starts_with(key) {
                    return format!("{key}N");
                }
            }
            field.to_string()
        })
        .collect::<Vec<_>>()
        .join(", ")
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

/// The files of `queue` (hashed subdirectories included), by queue ID.
pub fn queue_files(mx: &Instance, queue: &str) -> BTreeMap<String, std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut BTreeMap<String, std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.insert(entry.file_name().to_string_lossy().into_owned(), path);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&mx.dir.join("queue").join(queue), &mut out);
    out
}

/// Waits until `queue` holds `count` files; fails the test (keeping the instance)
/// after 20 seconds.
pub fn wait_queue(mx: &Instance, queue: &str, count: usize) {
    if !wait_until(20, || queue_files(mx, queue).len() == count) {
        mx.keep_for_inspection();
        panic!("{queue} does not hold {count} files:\n{}", mx.log());
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
