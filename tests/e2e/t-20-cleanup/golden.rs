//! The golden cases of ironpost's cleanup (programs/cleanup/golden) against Postfix's
//! cleanup: each case's record stream goes to both, under the settings the unit test
//! gives its stand-in rewriting service (myorigin example.com, remote_header_rewrite_domain
//! as the case says) and the case's own; the status, the reason, cleanup's log lines and
//! the queue file of Postfix's must equal the case's `.ref` (for a message that is not
//! accepted, there is no file to compare), and ironpost's must equal Postfix's. This is what makes the `.ref` files a record of Postfix's behaviour rather
//! than of ironpost's.

use crate::harness::{Pair, Rec, cleanup_log_since, normalize_record, normalize_stamp, normalized};
use std::collections::BTreeMap;
use std::path::Path;

/// The settings every case starts from (the unit test's, see programs/cleanup/src/tests.rs).
const BASE_MAIN_CF: &str =
    "myhostname = mail.example.com\nmydomain = example.com\nmyorigin = example.com\n";

/// One case: its name, client flags and records.
struct Case {
    name: String,
    flags: i32,
    stream: Vec<(u8, Vec<u8>)>,
    expected: String,
}

/// The cases, by their main.cf settings.
fn cases() -> BTreeMap<String, Vec<Case>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../programs/cleanup/golden");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("the golden cases")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "in"))
        .collect();
    paths.sort();
    let mut out: BTreeMap<String, Vec<Case>> = BTreeMap::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let (settings, stream) = text.split_once("--\n").unwrap_or(("", &text));
        let mut flags = 0;
        let mut records = Vec::new();
        for line in stream.lines() {
            if let Some(f) = line.strip_prefix("flags ") {
                flags = f.parse().unwrap();
                continue;
            }
            let kind = line.bytes().next().unwrap_or(b'?');
            let data = line.get(2..).unwrap_or("").replace("\\t", "\t");
            records.push((kind, data.into_bytes()));
        }
        out.entry(settings.to_string()).or_default().push(Case {
            name: path.file_stem().unwrap().to_string_lossy().into_owned(),
            flags,
            stream: records,
            expected: std::fs::read_to_string(path.with_extension("ref")).unwrap(),
        });
    }
    out
}

/// What a `.ref` says: the status line, the log lines, the records, as the e2e
/// normalization writes them.
fn expected(reference: &str) -> (String, Vec<String>, Vec<String>) {
    let mut lines = reference.lines();
    let status = lines.next().unwrap_or("").trim_end().to_string();
    let (mut log, mut records) = (Vec::new(), Vec::new());
    for line in lines {
        if let Some(text) = line.strip_prefix("log ") {
            log.push(normalize_stamp(text, "QUEUEID"));
        } else if !line.starts_with("why ") {
            let kind = line.bytes().next().unwrap_or(b'?');
            let text = line.get(2..).unwrap_or("").replace("\\t", "\t");
            records.push(normalize_record(kind, &text));
        }
    }
    (status, log, records)
}

/// The queue file of message `id`, wherever it went.
fn queue_file(mx: &e2e::Instance, id: &str) -> Vec<u8> {
    ["incoming", "hold"]
        .iter()
        .find_map(|q| std::fs::read(mx.dir.join("queue").join(q).join(id)).ok())
        .unwrap_or_default()
}

#[test]
fn golden_cases_are_postfix_s_cleanup_s_output() {
    let mut checked = 0;
    for (n, (settings, cases)) in cases().into_iter().enumerate() {
        let Some(pair) = Pair::new(
            &format!("t-20-golden{n}"),
            &format!("{BASE_MAIN_CF}{settings}"),
            &[],
        ) else {
            return;
        };
        for case in cases {
            let stream: Vec<Rec> = case
                .stream
                .iter()
                .map(|(k, d)| (*k, d.as_slice()))
                .collect();
            let mark = pair.theirs.log().len();
            let (status, reason, (ours, theirs)) =
                pair.compare_raw_ids(&case.name, case.flags, &stream);
            let (want_status, want_log, want_records) = expected(&case.expected);
            let got_log: Vec<String> = cleanup_log_since(&pair.theirs, mark, &theirs)
                .into_iter()
                .filter(|l| !l.contains("unable to look up public/qmgr"))
                .collect();
            let mut got_records = normalized(&queue_file(&pair.theirs, &theirs), &theirs);
            // A message that failed leaves no file; the `.ref` shows what was written
            // before the failure, which only the unit test can see.
            if status != 0 && got_records.is_empty() {
                got_records.clone_from(&want_records);
            }
            let got_status = format!("status {status} {reason}").trim_end().to_string();
            if (&got_status, &got_log, &got_records) != (&want_status, &want_log, &want_records) {
                pair.keep();
            }
            assert_eq!(got_status, want_status, "{}: status", case.name);
            assert_eq!(got_log, want_log, "{}: log", case.name);
            assert_eq!(got_records, want_records, "{}: queue file", case.name);
            assert_eq!(
                normalized(&queue_file(&pair.ours, &ours), &ours),
                normalized(&queue_file(&pair.theirs, &theirs), &theirs),
                "{}: ironpost's queue file",
                case.name
            );
            checked += 1;
        }
    }
    assert!(checked >= 13, "only {checked} golden cases");
}
