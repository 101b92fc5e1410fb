//! Alias databases built by ironpost's postalias and by Postfix 3.7's read the same with
//! either side's `postalias -s`, including the `@` and NIS signatures (whose time stamp
//! differs by when each was built). Skipped (see testkit::skip) without Debian's postfix
//! and postfix-lmdb.

use std::path::{Path, PathBuf};

const POSTFIX: &str = "/usr/sbin/postalias";

const SOURCE: &str = "# aliases\nAlice: alice@example.com, bob\npostmaster:root\n\
\"quoted name\": x\nnoval:\n  continued\nbob: \"|/usr/bin/prog arg\", /tmp/file\n\
weird: (comment) \"x y\"@example.com ,  <z@example.com>\n";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("postalias-diff-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.cf"), "myhostname = mail.example.com\n").unwrap();
    std::fs::write(dir.join("aliases"), SOURCE).unwrap();
    dir
}

fn run(program: &str, dir: &Path, args: &[&str]) -> (i32, String) {
    testkit::run_in(program, dir, args, "")
}

/// A `-s` listing, sorted, with the build time blanked.
fn listing(program: &str, dir: &Path, table: &str) -> Vec<String> {
    let (code, out) = run(program, dir, &["-s", table]);
    assert_eq!(code, 0, "{program} -s {table}");
    let mut lines: Vec<String> = out
        .lines()
        .map(|l| match l.strip_prefix("YP_LAST_MODIFIED:\t") {
            Some(time) => {
                assert!(
                    time.len() == 10 && time.bytes().all(|b| b.is_ascii_digit()),
                    "{l}"
                );
                "YP_LAST_MODIFIED:\t<time>".to_string()
            }
            None => l.to_string(),
        })
        .collect();
    lines.sort();
    lines
}

fn same_database(kind: &str) {
    if !testkit::require_postfix_table(kind) {
        return;
    }
    let ours = env!("CARGO_BIN_EXE_postalias");
    let table = format!("{kind}:aliases");
    let theirs_dir = scratch(&format!("{kind}-pf"));
    assert_eq!(run(POSTFIX, &theirs_dir, &[&table]).0, 0);
    let expected = listing(POSTFIX, &theirs_dir, &table);
    assert!(expected.contains(&"@:\t@".to_string()), "{expected:?}");
    assert!(expected.contains(&"YP_MASTER_NAME:\tmail.example.com".to_string()));
    assert_eq!(
        listing(ours, &theirs_dir, &table),
        expected,
        "ours reading Postfix's"
    );
    let ours_dir = scratch(&format!("{kind}-ours"));
    assert_eq!(run(ours, &ours_dir, &[&table]).0, 0);
    assert_eq!(
        listing(POSTFIX, &ours_dir, &table),
        expected,
        "Postfix reading ours"
    );
    let _ = std::fs::remove_dir_all(&theirs_dir);
    let _ = std::fs::remove_dir_all(&ours_dir);
}

#[test]
fn hash_alias_databases_are_interchangeable() {
    same_database("hash");
}

#[test]
fn lmdb_alias_databases_are_interchangeable() {
    same_database("lmdb");
}
