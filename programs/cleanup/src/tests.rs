//! Golden cases: a record stream in, the queue file and the log out.
//!
//! Each case in `programs/cleanup/golden/` is `NAME.in`: optional `main.cf` settings
//! (`name = value` lines) up to a line `--`, then one record per line, its type letter,
//! a space and its text (`\t` for a tab); and `NAME.ref`: the status, the log records and
//! the queue file, one record per line in the same form. Times and queue IDs are fixed
//! (`create_time=NOW`, queue ID `QUEUEID` made at 1700000000). The rewriting service is
//! a stand-in with Postfix's local rules for `example.com` and a remote domain
//! `remote.example` (see `rewrite::fake`). The expected output was recorded with this
//! cleanup (`CLEANUP_GOLDEN_RECORD=1`) and is checked against Postfix 3.7's cleanup by
//! the end-to-end test t-20-cleanup (golden.rs), which sends each case to both with the
//! same settings and the real rewriting service: status, reason, log lines and queue
//! file must equal the `.ref` (the `why` lines are ironpost's own).

use crate::api::settle;
use crate::init::Settings;
use crate::rewrite::fake::Fake;
use crate::state::{Handler, State};
use global::record::{RecError, rec_get};
use std::io::Cursor;
use std::path::Path;

/// The main.cf settings of every case, before its own: what the stand-in rewriting
/// service does (see `rewrite::fake`). e2e t-20 runs the cases through Postfix's cleanup
/// with the same settings.
const BASE_MAIN_CF: &str =
    "myhostname = mail.example.com\nmydomain = example.com\nmyorigin = example.com\n";

/// The record stream of a case, as bytes.
fn records(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut chars = line.chars();
        let kind = chars.next().unwrap_or('?') as u8;
        let data = line.get(2..).unwrap_or("").replace("\\t", "\t");
        global::record::rec_put(&mut out, kind, data.as_bytes()).unwrap();
    }
    out
}

/// The queue file as text, one record per line.
fn dump(file: &[u8]) -> String {
    let mut input = file;
    let mut buf = Vec::new();
    let mut out = String::new();
    loop {
        match rec_get(&mut input, &mut buf, 0) {
            Ok(kind) => {
                let text = String::from_utf8_lossy(&buf).replace('\t', "\\t");
                let text = if text.starts_with("create_time=") {
                    "create_time=NOW".to_string()
                } else if let Some(name) = ["Date: ", "Resent-Date: "]
                    .iter()
                    .find(|n| text.starts_with(**n))
                {
                    // Local time: it depends on the test machine's zone.
                    format!("{name}DATE")
                } else {
                    text
                };
                out.push_str(&format!("{} {text}\n", kind as char));
            }
            Err(RecError::Eof) => break,
            Err(RecError::Bad(why)) => {
                out.push_str(&format!("BAD {why}\n"));
                break;
            }
        }
    }
    out
}

/// Runs one case: the status, the log and the queue file.
fn run(case: &str, capture: &log::Capture) -> String {
    let (settings_text, stream) = match case.split_once("--\n") {
        Some((s, r)) => (s, r),
        None => ("", case),
    };
    let main_cf = format!("{BASE_MAIN_CF}{settings_text}");
    let main = params::main_cf::MainCf::parse(Path::new("main.cf"), &main_cf).unwrap();
    let config = params::Config::new(Path::new("/nonexistent"), main);
    let settings = Settings::from_config(&config).unwrap();
    let mut rewriter = Fake::default();
    let before = capture.lines().len();
    let mut state = State::new(
        &settings,
        &mut rewriter,
        Cursor::new(Vec::new()),
        "QUEUEID",
        1_700_000_000,
    );
    let flags = stream
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("flags "))
        .map_or(0, |f| f.parse().unwrap());
    state.control(flags);
    let body: String = stream
        .lines()
        .filter(|l| !l.starts_with("flags "))
        .map(|l| format!("{l}\n"))
        .collect();
    let input = records(&body);
    let mut handler = Handler::Plain(state);
    let mut reader = input.as_slice();
    let mut buf = Vec::new();
    while handler.state().out_ok() {
        let Ok(kind) = rec_get(&mut reader, &mut buf, 0) else {
            handler.state().errs |= global::cleanup_user::STAT_BAD;
            break;
        };
        handler.record(kind, &mut buf);
        if kind == b'E' {
            break;
        }
    }
    let mut state = handler.into_state();
    settle(&mut state);
    let why: String = state
        .decisions
        .list()
        .iter()
        .map(|d| format!("why {}: {} -> {}\n", d.rule, d.subject, d.result))
        .collect();
    let status = state.errs;
    let reason = state.reason.clone().unwrap_or_default();
    let file = state.dst.into_inner().into_inner();
    let log: String = capture.lines()[before..]
        .iter()
        .map(|l| format!("log {l}\n"))
        .collect();
    format!("status {status} {reason}\n{log}{why}{}", dump(&file))
}

#[test]
fn golden_cases() {
    let capture = log::Capture::default();
    log::init(Box::new(capture.clone()));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "in"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 5,
        "golden cases missing in {}",
        dir.display()
    );
    let mut failed = Vec::new();
    for case in &cases {
        let input = std::fs::read_to_string(case).unwrap();
        let got = run(&input, &capture);
        let ref_path = case.with_extension("ref");
        if std::env::var_os("CLEANUP_GOLDEN_RECORD").is_some() {
            std::fs::write(&ref_path, &got).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&ref_path).unwrap_or_default();
        if got != expected {
            failed.push(format!(
                "{}:\n--- expected\n{expected}--- got\n{got}",
                case.display()
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
