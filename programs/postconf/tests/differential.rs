//! Differential tests: the same question to Postfix 3.7's postconf (Debian's package) and to
//! ours must get the same answer, except for the values that describe the build itself.
//! Skipped (see testkit::skip) when Postfix is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

const POSTFIX: &str = "/usr/sbin/postconf";

/// Parameters whose defaults describe the build or the running process, not behaviour.
const BUILD_SPECIFIC: [&str; 13] = [
    "config_directory",
    "daemon_directory",
    "data_directory",
    "html_directory",
    "mail_release_date",
    "mail_version",
    "meta_directory",
    "process_id",
    "queue_directory",
    "readme_directory",
    "sample_directory",
    "shlib_directory",
    "manpage_directory",
];

fn scratch(name: &str, master_cf: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("postconf-diff-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.cf"), "").unwrap();
    std::fs::write(dir.join("master.cf"), master_cf).unwrap();
    dir
}

fn run(program: &str, dir: &Path, args: &[&str]) -> String {
    let out = Command::new(program)
        .arg("-c")
        .arg(dir)
        .args(args)
        .env_remove("MAIL_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success(), "{program} {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

fn behavioural(output: &str) -> Vec<&str> {
    // ironpost's own parameters (saved transcripts) are not Postfix's to compare.
    let extensions = params::decl::transcript::ALL.iter().map(|p| p.name);
    let skipped: Vec<&str> = BUILD_SPECIFIC.iter().copied().chain(extensions).collect();
    output
        .lines()
        .filter(|l| !skipped.iter().any(|p| l.starts_with(&format!("{p} ="))))
        .collect()
}

fn compare(name: &str, master_cf: &str, args: &[&str]) {
    if !testkit::require_postfix_program(POSTFIX) {
        return;
    }
    let dir = scratch(name, master_cf);
    let theirs = run(POSTFIX, &dir, args);
    let mut ours = run(env!("CARGO_BIN_EXE_postconf"), &dir, args);
    // Values derived from the build (e.g. $data_directory/verify_cache) are made Postfix's.
    for name in BUILD_SPECIFIC.iter().filter(|n| **n != "process_id") {
        let theirs_value = run(POSTFIX, &dir, &["-dh", name]);
        let ours_value = run(env!("CARGO_BIN_EXE_postconf"), &dir, &["-dh", name]);
        if ours_value.trim().len() > 4 {
            ours = ours.replace(ours_value.trim(), theirs_value.trim());
        }
    }
    let (theirs, ours) = (behavioural(&theirs), behavioural(&ours));
    let missing: Vec<_> = theirs.iter().filter(|l| !ours.contains(l)).collect();
    let extra: Vec<_> = ours.iter().filter(|l| !theirs.contains(l)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "postconf {args:?} differs:\nonly Postfix: {missing:#?}\nonly ours: {extra:#?}"
    );
    assert_eq!(theirs, ours, "same lines, different order");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn all_defaults_match() {
    compare("defaults", "", &["-d"]);
}

#[test]
fn all_defaults_with_stock_services_match() {
    let master_cf = include_str!("../../../conf/master.cf");
    compare("services", master_cf, &["-d"]);
    compare("services-all", master_cf, &[]);
}

#[test]
fn all_expanded_values_match() {
    let master_cf = include_str!("../../../conf/master.cf");
    compare("expanded", master_cf, &["-x"]);
}

/// `postconf -b` and `-t`, with and without a template file, are the bounce daemon's
/// answer: Postfix's postconf running Postfix's bounce, ours running ours.
#[test]
fn bounce_templates_as_postfix_shows_them() {
    if !testkit::require_postfix_program(POSTFIX) {
        return;
    }
    let bounce = testkit::program("bounce");
    let dir = scratch("bounce-templates", "");
    let templates = dir.join("bounce.cf");
    std::fs::write(
        &templates,
        "delay_template = <<EOF\nSubject: late for $delay_warning_time_hours hours\n\nstill trying\nEOF\n",
    )
    .unwrap();
    let template_arg = templates.display().to_string();
    for args in [
        vec!["-b"],
        vec!["-t"],
        vec!["-b", template_arg.as_str()],
        vec!["-t", template_arg.as_str()],
    ] {
        std::fs::write(dir.join("main.cf"), "").unwrap();
        let theirs = run(POSTFIX, &dir, &args);
        std::fs::write(
            dir.join("main.cf"),
            format!(
                "daemon_directory = {}\n",
                bounce.parent().unwrap().display()
            ),
        )
        .unwrap();
        let ours = run(env!("CARGO_BIN_EXE_postconf"), &dir, &args);
        assert_eq!(ours, theirs, "postconf {args:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
