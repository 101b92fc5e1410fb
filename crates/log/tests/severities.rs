//! End-of-process behaviour: the error bound, fatal and panic, in a child process each.
//!
//! The test binary re-runs itself with `IRONPOST_LOG_SCENARIO` set; the child performs the
//! scenario with a stderr sink and the parent checks the exit status and the lines.

use std::process::Command;

fn scenario(name: &str) -> Option<()> {
    if std::env::var("IRONPOST_LOG_SCENARIO").ok()? != name {
        return None;
    }
    log::init(Box::new(log::Stderr::new("scenario")));
    match name {
        "errors" => {
            for i in 1..=20 {
                log::msg_error!("error number {i}");
            }
            log::msg_info!("not reached");
        }
        "fatal" => log::msg_fatal!("open /etc/x/main.cf: No such file or directory"),
        "panic" => log::msg_panic!("broken invariant"),
        "rust_panic" => {
            let v: Vec<u8> = Vec::new();
            std::hint::black_box(v[1]);
        }
        _ => {}
    }
    std::process::exit(0);
}

fn run(name: &str) -> (std::process::ExitStatus, String) {
    let me = std::env::current_exe().unwrap();
    let out = Command::new(&me)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("IRONPOST_LOG_SCENARIO", name)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status, format!("{stderr}\n--- stdout:\n{stdout}"))
}

fn signal(status: std::process::ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(&status)
}

#[test]
fn errors() {
    if scenario("errors").is_some() {
        return;
    }
    let (status, err) = run("errors");
    assert_eq!(status.code(), Some(1), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("scenario:")).collect();
    assert_eq!(lines.len(), 14, "{err}");
    assert_eq!(lines[12], "scenario: error: error number 13");
    assert_eq!(
        lines[13],
        "scenario: fatal: too many errors - program terminated"
    );
}

#[test]
fn fatal() {
    if scenario("fatal").is_some() {
        return;
    }
    let started = std::time::Instant::now();
    let (status, err) = run("fatal");
    assert_eq!(status.code(), Some(1));
    assert!(
        started.elapsed().as_millis() >= 1000,
        "fatal pauses one second"
    );
    assert!(err.contains("scenario: fatal: open /etc/x/main.cf: No such file or directory\n"));
}

#[test]
fn panic() {
    if scenario("panic").is_some() {
        return;
    }
    let (status, err) = run("panic");
    assert_eq!(signal(status), Some(libc_sigabrt()), "{err}");
    assert!(err.contains("scenario: panic: broken invariant\n"));
}

#[test]
fn rust_panic() {
    if scenario("rust_panic").is_some() {
        return;
    }
    let (status, err) = run("rust_panic");
    assert_eq!(signal(status), Some(libc_sigabrt()), "{err}");
    assert!(
        err.contains("scenario: panic: index out of bounds"),
        "{err}"
    );
}

fn libc_sigabrt() -> i32 {
    6
}
