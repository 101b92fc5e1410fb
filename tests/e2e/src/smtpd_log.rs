//! What the smtpd differential tests (t-22, t-24) run and compare: one scripted session
//! (`dialogue.py`: raw sockets from a chosen source address, TLS on request), and
//! smtpd's log lines since the last look, with queue ids masked.

use crate::Instance;
use std::process::Command;

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
