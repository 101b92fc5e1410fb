//! What the smtpd differential tests (t-22, t-24) run and compare: one scripted session
//! (`dialogue.py`: raw sockets from a chosen source address, TLS on request), and
//! smtpd's log lines since the last look, with queue ids masked.

use crate::{IRONPOST_DAEMONS, Instance};
use std::process::Command;

/// A Postfix smtpd instance and an ironpost smtpd instance with the same settings (the
/// other daemons are the default set's on both sides).
pub struct Pair {
    /// The instance with Postfix's smtpd.
    pub postfix: Instance,
    /// The instance with ironpost's smtpd.
    pub ironpost: Instance,
    /// Passed to dialogue.py: `plain`, or `wrapper` for TLS at connect.
    pub mode: &'static str,
}

impl Pair {
    /// Both instances, named `NAME-postfix` and `NAME-ironpost`, with `main_cf` and
    /// `files` (relative paths, `@DIR@` expanded), not started; None when skipped.
    pub fn prepare(name: &str, main_cf: &[(&str, &str)], files: &[(&str, &str)]) -> Option<Pair> {
        let theirs: Vec<&str> = IRONPOST_DAEMONS
            .iter()
            .copied()
            .filter(|d| *d != "smtpd")
            .collect();
        let mut ours = theirs.clone();
        ours.push("smtpd");
        let postfix = Instance::with_daemons(&format!("{name}-postfix"), &theirs)?;
        let ironpost = Instance::with_daemons(&format!("{name}-ironpost"), &ours)?;
        for instance in [&postfix, &ironpost] {
            for (name, value) in main_cf {
                instance.set_main_cf(name, value);
            }
            for (path, text) in files {
                if let Some(parent) = instance.dir.join(path).parent() {
                    std::fs::create_dir_all(parent).unwrap();
                }
                instance.write(path, &instance.expand(text));
            }
        }
        Some(Pair {
            postfix,
            ironpost,
            mode: "plain",
        })
    }

    /// Starts both.
    pub fn start(&mut self) {
        self.postfix.start();
        self.ironpost.start();
    }

    /// Runs one dialogue against both; the replies and smtpd's log lines must match.
    /// Returns the replies.
    pub fn compare(&self, name: &str, source: &str, steps: &[(&str, usize)]) -> String {
        self.compare_with(name, source, steps, |_, lines| lines)
    }

    /// [`compare`](Self::compare) with the log lines of each side passed through
    /// `filter` (given the instance) first.
    pub fn compare_with(
        &self,
        name: &str,
        source: &str,
        steps: &[(&str, usize)],
        filter: impl Fn(&Instance, Vec<String>) -> Vec<String>,
    ) -> String {
        let theirs = dialogue(&self.postfix, source, steps, self.mode);
        let ours = dialogue(&self.ironpost, source, steps, self.mode);
        let their_log = filter(&self.postfix, smtpd_log(&self.postfix));
        let our_log = filter(&self.ironpost, smtpd_log(&self.ironpost));
        if theirs != ours || their_log != our_log {
            self.postfix.keep_for_inspection();
            self.ironpost.keep_for_inspection();
            panic!(
                "{name}: ironpost's smtpd differs from Postfix's\n--- Postfix replies\n{theirs}\n--- ironpost replies\n{ours}\n--- Postfix log\n{}\n--- ironpost log\n{}",
                their_log.join("\n"),
                our_log.join("\n")
            );
        }
        ours
    }
}

/// The session script.
const DIALOGUE: &str = include_str!("dialogue.py");

/// Runs `steps` (bytes to send in one write, replies to read) from `source`, in `mode`
/// (`plain`, or `wrapper` for TLS at connect), waits until smtpd has logged the session's
/// end, and returns the replies, normalised.
pub fn dialogue(instance: &Instance, source: &str, steps: &[(&str, usize)], mode: &str) -> String {
    let before = instance.log().matches(": disconnect from ").count();
    let json: Vec<String> = steps
        .iter()
        .map(|(text, n)| format!("[{}, {n}]", json_string(text)))
        .collect();
    let out = Command::new("python3")
        .args([
            "-c",
            DIALOGUE,
            &instance.smtp_port.to_string(),
            source,
            &format!("[{}]", json.join(", ")),
            mode,
        ])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "dialogue.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ended = crate::wait_until(30, || {
        instance.log().matches(": disconnect from ").count() > before
    });
    assert!(ended, "no disconnect line:\n{}", instance.log());
    normalize(&String::from_utf8_lossy(&out.stdout))
}

/// Queue ids (runs of 8 or more upper-case hex digits) become QUEUEID.
pub fn normalize(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in text.chars().chain(['\n']) {
        if c.is_ascii_digit() || ('A'..='F').contains(&c) {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() >= 8 { "QUEUEID" } else { &run });
        run.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// smtpd's log lines since the previous call for this instance (the text after
/// `postfix/smtpd[pid]: `), normalised; the log is consumed through a marker file.
pub fn smtpd_log(instance: &Instance) -> Vec<String> {
    let marker = instance.dir.join("log/smtpd-seen");
    let seen: usize = std::fs::read_to_string(&marker)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    let log = instance.log();
    let lines: Vec<&str> = log.lines().collect();
    std::fs::write(&marker, lines.len().to_string()).unwrap();
    lines[seen.min(lines.len())..]
        .iter()
        .filter_map(|l| l.split_once("postfix/smtpd[").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once("]: ").map(|(_, text)| normalize(text)))
        .collect()
}

/// A delivered message with queue ids, times and long numbers (message ids) replaced.
pub fn normalize_message(text: &str) -> String {
    let text = normalize(text);
    let mut out = String::new();
    let mut digits = String::new();
    for c in text.chars().chain(['\n']) {
        if c.is_ascii_digit() || (c == ':' && !digits.is_empty()) {
            digits.push(c);
            continue;
        }
        let time = digits.len() == 8 && digits.matches(':').count() == 2;
        if time {
            out.push_str("HH:MM:SS");
        } else if digits.len() >= 8 {
            out.push_str("NUMBER");
        } else {
            out.push_str(&digits);
        }
        digits.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// The messages delivered to the virtual mailbox, normalised and sorted.
pub fn delivered(instance: &Instance) -> Vec<String> {
    let mut messages: Vec<String> = instance
        .mailbox()
        .iter()
        .map(|m| normalize_message(m))
        .collect();
    messages.sort();
    messages
}

/// The envelope records (Postfix's `postcat -e`) of the files in `queue` (`hold`,
/// `deferred`...), normalised: queue ids masked, times, sizes and TCP ports left out.
/// One string a file, sorted.
pub fn envelopes(instance: &Instance, queue: &str) -> Vec<String> {
    let mut files = Vec::new();
    let mut dirs = vec![instance.dir.join("queue").join(queue)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let mut out: Vec<String> = files
        .iter()
        .map(|file| {
            let text = Command::new("/usr/sbin/postcat")
                .arg("-c")
                .arg(instance.etc())
                .arg("-e")
                .arg(file)
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            text.lines()
                .filter(|l| !l.starts_with("***"))
                .filter(|l| {
                    !["message_size:", "message_arrival_time:", "create_time:"]
                        .iter()
                        .any(|p| l.starts_with(p))
                })
                .map(|l| match l.split_once("_port=") {
                    Some((head, _)) => format!("{head}_port=PORT"),
                    None => normalize(l),
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    out.sort();
    out
}

/// `text` as a JSON string (Latin-1 code points, as the dialogue scripts send them).
fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_ids_are_masked_and_json_is_escaped() {
        assert_eq!(
            normalize("4F2A1B3C9D: client=x[1.2.3.4] ABC"),
            "QUEUEID: client=x[1.2.3.4] ABC"
        );
        assert_eq!(json_string("a\"b\\c\r"), "\"a\\\"b\\\\c\\u000d\"");
    }
}
