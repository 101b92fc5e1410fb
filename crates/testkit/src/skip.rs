//! Skipped tests, made visible and countable. A test that cannot check what it is for (it
//! needs root, Debian's Postfix to compare with, strace...) calls [`skip`] with the reason
//! and returns. A skip is never a pass in disguise:
//!
//! - under `IRONPOST_REQUIRE_ORACLE=1` (CI sets it) the test fails with the reason;
//! - otherwise the skip is appended as one line, `FILE TEST: REASON`, to the file that
//!   `IRONPOST_SKIP_LOG` names; `scripts/test` sets it, lists those lines and counts those
//!   tests as skipped, not passed;
//! - with neither, the line goes to standard error (shown by `--nocapture`).

use std::ffi::OsStr;
use std::fmt::Display;
use std::io::Write;
use std::path::PathBuf;

/// Set (to anything but empty or `0`): every test must run, a skip fails.
pub const REQUIRE_ORACLE: &str = "IRONPOST_REQUIRE_ORACLE";

/// The file skips are appended to.
pub const SKIP_LOG: &str = "IRONPOST_SKIP_LOG";

/// What becomes of a skip.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The test fails with this message.
    Fail(String),
    /// This line is appended to this file.
    Record(PathBuf, String),
    /// This line goes to standard error: nobody collects skips.
    Report(String),
}

/// Decides what a skip of `test` for `reason` becomes, given the values of
/// [`REQUIRE_ORACLE`] and [`SKIP_LOG`]. Kept apart from the environment so that it can be
/// tested without changing the process's variables under other tests' feet.
pub fn verdict(
    require_oracle: Option<&OsStr>,
    skip_log: Option<&OsStr>,
    test: &str,
    reason: &str,
) -> Verdict {
    let required = require_oracle.is_some_and(|v| !v.is_empty() && v != "0");
    if required {
        return Verdict::Fail(format!(
            "{test} cannot run: {reason} ({REQUIRE_ORACLE} is set: every test must run)"
        ));
    }
    let line = format!("{test}: {reason}");
    match skip_log {
        Some(path) if !path.is_empty() => Verdict::Record(PathBuf::from(path), line),
        _ => Verdict::Report(line),
    }
}

/// Skips the calling test for `reason` (see the module documentation); the caller returns
/// right after. The test is named by its source file and its name (libtest runs each test
/// on a thread named after it).
#[track_caller]
pub fn skip(reason: impl Display) {
    let file = std::panic::Location::caller().file();
    let thread = std::thread::current();
    let name = match thread.name() {
        Some(name) if name != "main" => name.to_string(),
        // A test binary run without libtest's threads: its own name is all there is.
        _ => std::env::current_exe()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default(),
    };
    let test = format!("{file} {name}");
    let verdict = verdict(
        std::env::var_os(REQUIRE_ORACLE).as_deref(),
        std::env::var_os(SKIP_LOG).as_deref(),
        &test,
        &reason.to_string(),
    );
    match verdict {
        Verdict::Fail(message) => panic!("{message}"),
        Verdict::Record(path, line) => {
            // One short write with O_APPEND: lines of tests running side by side do not mix.
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
            // A skip that cannot be recorded would pass unseen: fail instead.
            if let Err(e) = written {
                panic!(
                    "{line} (and it cannot be recorded in {}: {e})",
                    path.display()
                );
            }
        }
        Verdict::Report(line) => eprintln!("skipped: {line}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn require_oracle_decides() {
        let log = Some(OsStr::new("/tmp/skips"));
        let fail = |value: &str| verdict(Some(OsStr::new(value)), log, "t", "no Postfix");
        assert_eq!(
            fail("1"),
            Verdict::Fail(
                "t cannot run: no Postfix (IRONPOST_REQUIRE_ORACLE is set: every test must run)"
                    .into()
            )
        );
        assert!(matches!(fail("yes"), Verdict::Fail(_)));
        let recorded = Verdict::Record("/tmp/skips".into(), "t: no Postfix".into());
        assert_eq!(fail("0"), recorded);
        assert_eq!(fail(""), recorded);
        assert_eq!(verdict(None, log, "t", "no Postfix"), recorded);
        assert_eq!(
            verdict(None, None, "t", "no Postfix"),
            Verdict::Report("t: no Postfix".into())
        );
    }

    /// Set in the child process this test starts: there, the test is the skipping test.
    const PROBE: &str = "TESTKIT_SKIP_PROBE";

    /// A missing requirement fails the test under IRONPOST_REQUIRE_ORACLE=1, and is
    /// recorded in IRONPOST_SKIP_LOG otherwise: this very test, run again as a child
    /// process in which it skips.
    #[test]
    fn a_skip_fails_under_require_oracle_and_is_recorded_otherwise() {
        let name = std::thread::current().name().unwrap().to_string();
        if std::env::var_os(PROBE).is_some() {
            skip("the probe's requirement is missing");
            return;
        }
        let log = std::env::temp_dir().join(format!("testkit-skips-{}", std::process::id()));
        let _ = std::fs::remove_file(&log);
        let child = |require_oracle: Option<&str>| {
            let mut command = Command::new(std::env::current_exe().unwrap());
            command
                .args([name.as_str(), "--exact", "--test-threads=1"])
                .env(PROBE, "1")
                .env(SKIP_LOG, &log)
                .env_remove(REQUIRE_ORACLE);
            if let Some(value) = require_oracle {
                command.env(REQUIRE_ORACLE, value);
            }
            command.output().unwrap()
        };
        let failed = child(Some("1"));
        let output = String::from_utf8_lossy(&failed.stdout);
        assert!(!failed.status.success(), "{output}");
        assert!(
            output.contains("the probe's requirement is missing (IRONPOST_REQUIRE_ORACLE is set"),
            "{output}"
        );
        assert!(output.contains("1 failed"), "{output}");
        assert!(!log.exists(), "a failed skip is not also recorded");

        let skipped = child(None);
        assert!(skipped.status.success(), "{skipped:?}");
        let recorded = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            recorded,
            format!("crates/testkit/src/skip.rs {name}: the probe's requirement is missing\n")
        );
        let _ = std::fs::remove_file(&log);
    }
}
