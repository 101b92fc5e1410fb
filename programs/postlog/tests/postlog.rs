//! postlog writes maillog_file records in Postfix's format, and, where Postfix is
//! installed, exactly the records Postfix's own postlog writes for the same input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("postlog-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn configure(dir: &Path) -> PathBuf {
    let log = dir.join("maillog");
    std::fs::write(
        dir.join("main.cf"),
        format!(
            "maillog_file = {}\nmaillog_file_prefixes = {}\nmyhostname = host.example.com\nqueue_directory = {}\n",
            log.display(),
            dir.display(),
            dir.display()
        ),
    )
    .unwrap();
    log
}

/// Runs a postlog binary through the cases; returns the log lines without time stamp and
/// pid, plus the exit codes.
fn run_cases(postlog: &str, dir: &Path) -> (Vec<String>, Vec<i32>) {
    let log = configure(dir);
    let mut codes = Vec::new();
    let cases: [(&[&str], Option<&str>); 5] = [
        (&["hello", "world"], None),
        (&["-p", "warn", "-t", "mytag", "warn", "text"], None),
        (&["-p", "error"], Some("line one\nline two\n")),
        (&["-p", "fatal", "going", "down"], None),
        (&["-p", "bogus", "x"], None),
    ];
    for (args, input) in cases {
        let mut child = Command::new(postlog)
            .arg("-c")
            .arg(dir)
            .args(args)
            .env_remove("MAIL_CONFIG")
            .env_remove("MAIL_LOGTAG")
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if let Some(text) = input {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        codes.push(child.wait().unwrap().code().unwrap_or(-1));
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let lines = text
        .lines()
        .map(|l| {
            // "Mmm DD HH:MM:SS host tag[pid]: text" -> "host tag: text"
            let rest = &l[16..];
            let open = rest.find('[').unwrap();
            let close = rest.find("]: ").unwrap();
            format!("{}{}", &rest[..open], &rest[close + 1..])
        })
        .collect();
    (lines, codes)
}

#[test]
fn writes_maillog_file_records() {
    let dir = scratch("ours");
    let (lines, codes) = run_cases(env!("CARGO_BIN_EXE_postlog"), &dir);
    assert_eq!(
        lines,
        [
            "host postfix/postlog: hello world",
            "host mytag: warning: warn text",
            "host postfix/postlog: error: line one",
            "host postfix/postlog: error: line two",
            "host postfix/postlog: fatal: going down",
        ]
    );
    assert_eq!(codes, [0, 0, 0, 0, 1]);
    let raw = std::fs::read_to_string(dir.join("maillog")).unwrap();
    let first = raw.lines().next().unwrap();
    assert!(
        first.as_bytes()[4].is_ascii_digit(),
        "zero-padded day: {first}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn same_records_as_postfix() {
    let postfix = "/usr/sbin/postlog";
    if !testkit::require_postfix_program(postfix) {
        return;
    }
    let ours = scratch("cmp-ours");
    let theirs = scratch("cmp-postfix");
    let a = run_cases(env!("CARGO_BIN_EXE_postlog"), &ours);
    let b = run_cases(postfix, &theirs);
    assert_eq!(a, b);
    let _ = std::fs::remove_dir_all(&ours);
    let _ = std::fs::remove_dir_all(&theirs);
}
