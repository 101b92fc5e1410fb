//! Tables built by one side are read by the other: cdb, lmdb and hash files written by
//! Postfix 3.7's postmap answer ironpost's lookups, and the reverse; entries added with
//! `-i` and removed with `-d` by ironpost are seen by Postfix. Skipped (see testkit::skip)
//! without Debian's postfix, postfix-cdb and postfix-lmdb packages.

use std::path::{Path, PathBuf};

const POSTFIX: &str = "/usr/sbin/postmap";

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
    testkit::run_in(program, dir, args, "")
}

const QUERIES: [&str; 5] = [
    "alice@example.com",
    "bob@example.com",
    "EXAMPLE.NET",
    "nobody",
    "\"quoted key\"",
];

fn answers(program: &str, dir: &Path, table: &str) -> Vec<(i32, String)> {
    QUERIES
        .iter()
        .map(|q| postmap(program, dir, &["-q", q, table]))
        .collect()
}

/// Builds `kind:table` with each side and checks that both read both files alike.
fn interchangeable(kind: &str) {
    if !testkit::require_postfix_table(kind) {
        return;
    }
    let ours = env!("CARGO_BIN_EXE_postmap");
    let table = format!("{kind}:table");
    // Postfix builds, both read.
    let dir = scratch(&format!("{kind}-pf-built"));
    assert_eq!(postmap(POSTFIX, &dir, &[&table]).0, 0);
    let expected = answers(POSTFIX, &dir, &table);
    assert_eq!(
        answers(ours, &dir, &table),
        expected,
        "{kind}: reading Postfix's file"
    );
    assert_eq!(expected[1], (0, "bob, with spaces\n".to_string()));
    assert_eq!(expected[3].0, 1);
    // We build, both read.
    let dir2 = scratch(&format!("{kind}-ours-built"));
    assert_eq!(postmap(ours, &dir2, &[&table]).0, 0);
    assert_eq!(
        answers(POSTFIX, &dir2, &table),
        expected,
        "{kind}: Postfix reading ours"
    );
    assert_eq!(answers(ours, &dir2, &table), expected);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

#[test]
fn cdb_files_are_interchangeable() {
    interchangeable("cdb");
}

#[test]
fn lmdb_files_are_interchangeable() {
    interchangeable("lmdb");
}

#[test]
fn hash_files_are_interchangeable() {
    interchangeable("hash");
}

#[test]
fn btree_files_are_interchangeable() {
    interchangeable("btree");
}

#[test]
fn btree_updates_are_seen_by_postfix() {
    updates_seen_by_postfix("btree");
}

/// `-i` and `-d` by ironpost on a file Postfix built, checked with Postfix's postmap; and
/// a rebuild by ironpost of a private source keeps the file private.
fn updates_seen_by_postfix(kind: &str) {
    if !testkit::require_postfix_table(kind) {
        return;
    }
    let ours = env!("CARGO_BIN_EXE_postmap");
    let table = format!("{kind}:table");
    let dir = scratch(&format!("{kind}-updates"));
    assert_eq!(postmap(POSTFIX, &dir, &[&table]).0, 0);
    let added = testkit::run_in(ours, &dir, &["-i", &table], "New@Example.ORG  added\n");
    assert_eq!(added.0, 0);
    assert_eq!(
        postmap(POSTFIX, &dir, &["-q", "new@example.org", &table]),
        (0, "added\n".to_string())
    );
    assert_eq!(
        postmap(ours, &dir, &["-d", "ALICE@example.com", &table]).0,
        0
    );
    assert_eq!(
        postmap(ours, &dir, &["-d", "alice@example.com", &table]).0,
        1
    );
    assert_eq!(
        postmap(POSTFIX, &dir, &["-q", "alice@example.com", &table]).0,
        1
    );
    assert_eq!(
        postmap(POSTFIX, &dir, &["-q", "example.net", &table]),
        (0, "OK\n".to_string())
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("table"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let file = dir.join(if kind == "hash" || kind == "btree" {
        "table.db".to_string()
    } else {
        format!("table.{kind}")
    });
    std::fs::remove_file(&file).unwrap();
    assert_eq!(postmap(ours, &dir, &[&table]).0, 0);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o600,
        "{kind}: a private source makes a private table"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn lmdb_updates_are_seen_by_postfix() {
    updates_seen_by_postfix("lmdb");
}

#[test]
fn hash_updates_are_seen_by_postfix() {
    updates_seen_by_postfix("hash");
}

/// `-n` and `-N` decide the null byte of what ironpost writes, as Postfix's readers see it.
#[test]
fn null_byte_options_as_postfix_reads_them() {
    let kinds = ["lmdb", "hash", "btree", "cdb"];
    // All or nothing: a test that checked some kinds only would pass for all of them.
    if !kinds
        .iter()
        .all(|kind| testkit::require_postfix_table(kind))
    {
        return;
    }
    for kind in kinds {
        let ours = env!("CARGO_BIN_EXE_postmap");
        let table = format!("{kind}:table");
        for (build, with_nul) in [("-n", false), ("-N", true)] {
            let dir = scratch(&format!("{kind}-nul{build}"));
            assert_eq!(postmap(ours, &dir, &[build, &table]).0, 0);
            let query = |flag: &str| postmap(POSTFIX, &dir, &[flag, "-q", "example.net", &table]).0;
            assert_eq!(query("-N"), if with_nul { 0 } else { 1 }, "{kind} {build}");
            assert_eq!(query("-n"), if with_nul { 1 } else { 0 }, "{kind} {build}");
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// As root, a table built from another user's source belongs to that user (unless -o), and
/// is no more readable than its source (unless -p), as Postfix's postmap does it.
#[test]
fn owner_and_permissions_follow_the_source() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if !testkit::require_root() || !testkit::require_postfix_program(POSTFIX) {
        return;
    }
    let Some((uid, gid)) = nobody() else {
        testkit::skip("no user nobody");
        return;
    };
    let ours = env!("CARGO_BIN_EXE_postmap");
    for program in [ours, POSTFIX] {
        let dir = scratch(&format!("owner-{}", program.len()));
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let source = dir.join("table");
        std::fs::set_permissions(&source, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::chown(&source, Some(uid), Some(gid)).unwrap();
        let db = dir.join("table.lmdb");
        let built = |flags: &[&str]| {
            let _ = std::fs::remove_file(&db);
            let mut args = flags.to_vec();
            args.push("lmdb:table");
            assert_eq!(postmap(program, &dir, &args).0, 0, "{program} {flags:?}");
            let meta = std::fs::metadata(&db).unwrap();
            (meta.uid(), meta.mode() & 0o777)
        };
        assert_eq!(built(&[]), (uid, 0o600), "{program}");
        assert_eq!(built(&["-o"]).0, 0, "{program} -o");
        assert_eq!(built(&["-p"]).1, 0o644, "{program} -p");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn nobody() -> Option<(u32, u32)> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = text.lines().find(|l| l.starts_with("nobody:"))?;
    let fields: Vec<&str> = line.split(':').collect();
    Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?))
}
