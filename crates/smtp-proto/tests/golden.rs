//! Golden dialogues: each `tests/golden/NAME.in` was sent to Postfix 3.7's smtpd by
//! `tests/golden/record.py`, which wrote its replies to `NAME.ref`. Here the same input
//! goes through a session built on the protocol core (`tests/support/session.rs`), which
//! must answer byte for byte the same. The cases are chosen so that the core decides the
//! replies: syntax and parameter errors, command order, EHLO keywords, line lengths,
//! bare LF, end of DATA, BDAT framing, size and recipient limits, pipelining.

mod support;

use std::fs;
use std::path::Path;
use support::case::segments;
use support::session::{Config, Session};

/// The cases in `dir`: name, input and configuration.
fn cases(dir: &Path) -> Vec<(String, String, Config)> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("tests/golden")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".in").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 30, "golden cases missing: {names:?}");
    names
        .into_iter()
        .map(|name| {
            let input = fs::read_to_string(dir.join(format!("{name}.in"))).expect("NAME.in");
            let config = fs::read_to_string(dir.join(format!("{name}.cf")))
                .map(|cf| Config::from_cf(&cf))
                .unwrap_or_default();
            (name, input, config)
        })
        .collect()
}

/// Every case: the session answers what Postfix answered (`NAME.ref`).
#[test]
fn golden_dialogues() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let all = cases(&dir);
    let mut failures = Vec::new();
    for (name, input, config) in &all {
        let want = fs::read(dir.join(format!("{name}.ref"))).expect("NAME.ref: run record.py");
        let session = Session::run(config.clone(), &segments(input));
        let got: Vec<u8> = session
            .output
            .iter()
            .copied()
            .filter(|&b| b != b'\r')
            .collect();
        if got != want {
            failures.push(format!(
                "{name}:\n--- Postfix\n{}--- ours\n{}",
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(&got)
            ));
        }
    }
    let (failed, total) = (failures.len(), all.len());
    assert!(
        failures.is_empty(),
        "{failed} of {total} cases differ:\n{}",
        failures.join("\n")
    );
}

/// The lines of Postfix's log (`NAME.log`) that the protocol core writes.
const CORE_LOG_LINES: [&str; 11] = [
    "request longer than ",
    "Illegal address syntax from ",
    "unknown DSN NOTIFY command value ",
    "non-SMTP command from ",
    "improper command pipelining after ",
    "discarding EHLO keywords: ",
    "malformed BDAT command syntax from ",
    "null BDAT request from ",
    "exceeds message size limit",
    "queue file size limit exceeded",
    "using backwards-compatible default setting smtputf8_enable=no",
];

/// Every case: the session logs what Postfix's smtpd logged (`NAME.log`, recorded with
/// the replies), as far as the protocol core's log lines go.
#[test]
fn golden_log_lines() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut failures = Vec::new();
    for (name, input, config) in cases(&dir) {
        let log = fs::read(dir.join(format!("{name}.log"))).expect("NAME.log: run record.py");
        let want: Vec<String> = String::from_utf8_lossy(&log)
            .lines()
            .filter(|line| CORE_LOG_LINES.iter().any(|p| line.contains(p)))
            .map(str::to_string)
            .collect();
        let got = Session::run(config, &segments(&input)).log;
        if got != want {
            failures.push(format!(
                "{name}:\n--- Postfix\n{}\n--- ours\n{}",
                want.join("\n"),
                got.join("\n")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases log differently:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
