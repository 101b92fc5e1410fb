//! Load and bookkeeping for the durability tests: marked messages sent by concurrent
//! SMTP clients (load.py), a repeatable random schedule, and what became of each
//! message (delivered whole, still queued, half-written files).

use crate::Instance;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The load client (Python's smtplib, threads, retries with the same marker).
const LOAD: &str = include_str!("load.py");

/// Postfix's MAIL_QUEUE_STAT_READY: the mode bits that say a queue file is complete.
pub const READY: u32 = 0o700;

/// Starts the load: `count` messages of `lines` body lines from `threads` clients to
/// `port`, each tried `attempts` times, markers starting with `prefix`, all to the
/// virtual mailbox user.
pub fn start(
    port: u16,
    count: usize,
    threads: usize,
    lines: usize,
    attempts: usize,
    prefix: &str,
) -> Child {
    start_to(
        port,
        count,
        threads,
        lines,
        attempts,
        prefix,
        &["user@vmail.e2e.test"],
    )
}

/// [`start`], message `i` to `recipients[i % recipients.len()]`.
pub fn start_to(
    port: u16,
    count: usize,
    threads: usize,
    lines: usize,
    attempts: usize,
    prefix: &str,
    recipients: &[&str],
) -> Child {
    Command::new("python3")
        .args(["-c", LOAD])
        .args([
            port.to_string(),
            count.to_string(),
            threads.to_string(),
            lines.to_string(),
            attempts.to_string(),
            prefix.to_string(),
            recipients.join(","),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3")
}

/// The markers the client saw a 250 for, and how many it never got one for, from its
/// report; panics when the client failed or the report does not add up to `count`.
pub fn acknowledged(load: Child, count: usize) -> (Vec<String>, usize, String) {
    let out = load.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "the load client failed: {}\n{report}",
        String::from_utf8_lossy(&out.stderr)
    );
    let acked: Vec<String> = report
        .lines()
        .filter_map(|l| l.strip_prefix("ack "))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    let lost = report.lines().filter(|l| l.starts_with("lost ")).count();
    assert_eq!(acked.len() + lost, count, "the client's report:\n{report}");
    (acked, lost, report)
}

/// A small deterministic generator (xorshift64*), seeded from the clock and printed, so
/// that a failing run can be repeated with the seed in `variable`.
pub struct Random(u64);

impl Random {
    /// Seeded from `variable` when it is set, else from the clock.
    pub fn new(variable: &str) -> Random {
        let seed = std::env::var(variable)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        println!("seed {seed} ({variable}={seed} repeats the schedule)");
        Random(seed)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// Every file under `dir`, recursively (deferred/ is hashed into subdirectories).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The queue files of `mx` in the queues a message passes through, with their modes.
pub fn queue_files(mx: &Instance) -> Vec<(String, PathBuf, u32)> {
    let mut out = Vec::new();
    for queue in ["incoming", "active", "deferred", "hold"] {
        for path in files_under(&mx.dir.join("queue").join(queue)) {
            if let Ok(meta) = std::fs::metadata(&path) {
                out.push((queue.to_string(), path, meta.permissions().mode() & 0o777));
            }
        }
    }
    out
}

/// The marker in a message's Subject: header.
pub fn marker(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .map(|s| s.trim().to_string())
}

/// Whether a delivered message is whole: every one of its `lines` body lines, in order,
/// then the END line.
pub fn whole(text: &str, marker: &str, lines: usize) -> bool {
    let body: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(marker) || l.starts_with("END "))
        .collect();
    body.len() == lines + 1
        && body[..lines]
            .iter()
            .enumerate()
            .all(|(i, l)| l.starts_with(&format!("{marker} line {i:05} ")))
        && body[lines] == format!("END {marker}")
}

/// The delivered messages by marker, with how often each came; problems found (no
/// marker, half-written) are added to `problems`.
pub fn delivered(
    mx: &Instance,
    lines: usize,
    problems: &mut Vec<String>,
) -> BTreeMap<String, usize> {
    let mut delivered = BTreeMap::new();
    for text in mx.mailbox() {
        let Some(m) = marker(&text) else {
            problems.push(format!("a delivered message without a marker:\n{text}"));
            continue;
        };
        if !whole(&text, &m, lines) {
            problems.push(format!("{m} delivered half-written"));
        }
        *delivered.entry(m).or_default() += 1;
    }
    delivered
}
