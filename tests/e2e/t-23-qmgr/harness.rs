//! The t-23 harness: an instance with our queue manager or Postfix's, submission,
//! waiting, and the log lines and queue files of a run with what differs between two
//! runs normalised.

use e2e::{IRONPOST_DAEMONS, Instance, wait_until};
use std::collections::BTreeMap;

/// Whose queue manager an instance runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Qmgr {
    /// ironpost's.
    Ours,
    /// Debian's Postfix 3.7.
    Postfix,
}

pub fn instance(name: &str, qmgr: Qmgr) -> Option<Instance> {
    let mut daemons: Vec<&str> = IRONPOST_DAEMONS
        .iter()
        .copied()
        .filter(|d| *d != "qmgr")
        .collect();
    if qmgr == Qmgr::Ours {
        daemons.push("qmgr");
    }
    let suffix = if qmgr == Qmgr::Ours {
        "ours"
    } else {
        "postfix"
    };
    let mx = Instance::with_daemons(&format!("{name}-{suffix}"), &daemons)?;
    mx.write(
        "etc/transport",
        &mx.expand(
            "relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n\
             discard.e2e.test discard:\n",
        ),
    );
    mx.install_commands();
    Some(mx)
}

pub fn sendmail(mx: &Instance, from: &str, to: &str, marker: &str) {
    let message = format!("From: {from}\nTo: {to}\nSubject: {marker}\n\nbody {marker}\n");
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
        let Some((id, _)) = rest.split_once(": ") else {
            continue;
        };
        let is_id = (8..=16).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase());
        if is_id && !ids.iter().any(|known| known == id) {
            ids.push(id.to_string());
        }
    }
    ids
}

/// The log lines of `process` (`qmgr`, `virtual`...) about mail, with what differs
/// between two runs replaced: queue IDs, sizes, delays, the instance's ports and
/// directory. Sorted, since deliveries run in parallel.
pub fn lines_of(mx: &Instance, processes: &[&str]) -> Vec<String> {
    let log = mx.log();
    let ids = queue_ids(&log);
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
        let mut text = format!("{process}: {rest}");
        for id in &ids {
            text = text.replace(id.as_str(), "QUEUEID");
        }
        text = text
            .replace(&mx.dir.display().to_string(), "DIR")
            .replace(&mx.sink_port.to_string(), "SINKPORT")
            .replace(&mx.smtp_port.to_string(), "SMTPPORT");
        out.push(normalise_numbers(&text));
    }
    out.sort();
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

/// The messages relayed to smtp-sink so far.
pub fn sunk(mx: &Instance) -> Vec<String> {
    std::fs::read_dir(mx.dir.join("sink"))
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default()
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

/// The virtual mailbox user, sender of most test messages (notices come back to it).
pub const USER: &str = "user@vmail.e2e.test";
/// A recipient behind the relay (smtp-sink, when it runs).
pub const FAR: &str = "far@relay.e2e.test";

/// Waits until `queue` holds `count` files; fails the test (keeping the instance)
/// after 20 seconds.
pub fn wait_queue(mx: &Instance, queue: &str, count: usize) {
    if !wait_until(20, || queue_files(mx, queue).len() == count) {
        mx.keep_for_inspection();
        panic!("{queue} does not hold {count} files:\n{}", mx.log());
    }
}

/// Asserts that some line contains `needle`.
pub fn assert_line(lines: &[String], needle: &str) {
    assert!(
        lines.iter().any(|l| l.contains(needle)),
        "no \"{needle}\" in {lines:#?}"
    );
}

/// Runs `scenario` with our queue manager, then with Postfix's; None when the mixed
/// system cannot run here (the test is skipped).
pub fn both<T>(scenario: impl Fn(Qmgr) -> Option<T>) -> Option<(T, T)> {
    Some((scenario(Qmgr::Ours)?, scenario(Qmgr::Postfix)?))
}
