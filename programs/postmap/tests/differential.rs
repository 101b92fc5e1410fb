//! Tables built by one side are read by the other: cdb files written by Postfix 3.7's
//! postmap answer ironpost's lookups, and the reverse. Skipped, with a message, without
//! Debian's postfix-cdb package.

use std::path::{Path, PathBuf};
use std::process::Command;

const POSTFIX: &str = "/usr/sbin/postmap";

fn postfix_has_cdb() -> bool {
    Command::new("/usr/sbin/postconf")
        .arg("-m")
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l == "cdb")
        })
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("postmap-diff-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.cf"), "").unwrap();
    std::fs::write(
        dir.join("table"),
        "# users\nalice@example.com   alice\nBob@Example.COM    bob, with spaces\nexample.net  OK\n\"quoted key\" x\n",
    )
    .unwrap();
    dir
}

fn postmap(program: &str, dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(program)
        .arg("-c")
        .arg(dir)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

const QUERIES: [&str; 5] = [
    "alice@example.com",
    "bob@example.com",
    "EXAMPLE.NET",
    "nobody",
    "\"quoted key\"",
];

fn answers(program: &str, dir: &Path) -> Vec<(i32, String)> {
    QUERIES
        .iter()
        .map(|q| postmap(program, dir, &["-q", q, "cdb:table"]))
        .collect()
}

#[test]
fn cdb_files_are_interchangeable() {
    if !Path::new(POSTFIX).exists() || !postfix_has_cdb() {
        eprintln!("skipped: needs Debian's postfix and postfix-cdb packages");
        return;
    }
    let ours = env!("CARGO_BIN_EXE_postmap");
    // Postfix builds, both read.
    let dir = scratch("pf-built");
    assert_eq!(postmap(POSTFIX, &dir, &["cdb:table"]).0, 0);
    let expected = answers(POSTFIX, &dir);
    assert_eq!(answers(ours, &dir), expected);
    assert_eq!(expected[1], (0, "bob, with spaces\n".to_string()));
    assert_eq!(expected[3].0, 1);
    // We build, both read.
    let dir2 = scratch("ours-built");
    assert_eq!(postmap(ours, &dir2, &["cdb:table"]).0, 0);
    assert_eq!(answers(POSTFIX, &dir2), expected);
    assert_eq!(answers(ours, &dir2), expected);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}
