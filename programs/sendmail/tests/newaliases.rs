//! sendmail's alias mode (called as newaliases, or with -bi or -I) runs ironpost's postalias
//! on alias_database (or `-oA`), from the configuration named by `-C`; an empty
//! alias_database does nothing; recipients are refused.

use std::os::unix::process::CommandExt;

use std::path::PathBuf;
use std::process::Command;

fn scratch(name: &str, main_cf: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("newaliases-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let commands = PathBuf::from(env!("CARGO_BIN_EXE_sendmail"))
        .parent()
        .unwrap()
        .display()
        .to_string();
    std::fs::write(
        dir.join("main.cf"),
        format!(
            "command_directory = {commands}\nqueue_directory = {}\n{}",
            dir.display(),
            main_cf.replace("@DIR@", &dir.display().to_string())
        ),
    )
    .unwrap();
    std::fs::write(dir.join("aliases"), "Team: a@example.com, b\n").unwrap();
    dir
}

/// Runs sendmail as newaliases.
fn run(dir: &PathBuf, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sendmail"))
        .arg0("newaliases")
        .args(args)
        .env_remove("MAIL_CONFIG")
        .current_dir(dir)
        .output()
        .unwrap()
}

fn query(dir: &PathBuf, table: &str) -> String {
    let out = Command::new(testkit::program("postalias"))
        .arg("-c")
        .arg(dir)
        .args(["-q", "team", table])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn rebuilds_alias_database() {
    // sendmail runs postalias from command_directory, this build's directory: another
    // package's program, which cargo does not build for this test, so testkit does.
    testkit::program("postalias");
    let dir = scratch("db", "alias_database = cdb:@DIR@/aliases\n");
    let main_cf = dir.join("main.cf").display().to_string();
    let out = run(&dir, &["-C", &main_cf]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = format!("cdb:{}/aliases", dir.display());
    assert_eq!(query(&dir, &table), "a@example.com, b\n");
    // -oA names the table instead.
    std::fs::write(dir.join("other"), "team: other\n").unwrap();
    let other = format!("cdb:{}/other", dir.display());
    let out = run(
        &dir,
        &["-C", &dir.display().to_string(), &format!("-oA{other}")],
    );
    assert!(out.status.success());
    assert_eq!(query(&dir, &other), "other\n");
    // sendmail -bi is the same mode.
    std::fs::write(dir.join("aliases"), "team: changed\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sendmail"))
        .args(["-bi", "-C", &main_cf])
        .env_remove("MAIL_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(query(&dir, &table), "changed\n");
    // Recipients make no sense here.
    let out = run(&dir, &["-C", &main_cf, "user@example.com"]);
    assert_eq!(out.status.code(), Some(75));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("fatal: alias initialization mode requires no recipient")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn empty_alias_database_does_nothing() {
    let dir = scratch("empty", "alias_database =\n");
    let out = run(&dir, &["-C", &dir.display().to_string()]);
    assert!(out.status.success());
    assert!(!dir.join("aliases.cdb").exists() && !dir.join("aliases.db").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
