//! posttriage - what is wrong with the mail system, and what to do about it.
//!
//! Postfix counterpart: none; DEBUG_README's "Look for obvious signs of trouble" done by
//! a program. `posttriage [-a] [-c config_dir] [-j] [-l logfile] [-s since] [-u until]`
//! reads main.cf and master.cf, runs the checks of what the log cannot show (see
//! [`checks`]), reads the log (`-l`, else maillog_file, else the syslog file) from the
//! last "daemon started" line on (`-a`: all of it; `-s`/`-u`: a window, as a log time
//! stamp, HH:MM[:SS] today, or an age such as 2h), and prints the root cause in one line,
//! its remedy on the next, then the evidence and the knock-on errors grouped under it
//! (crates/triage has the rule base). "no problem found" exits 0, a problem exits 1; `-j`
//! (or `--json`) prints JSON for monitoring. A crash of an ironpost daemon that left a
//! crash report (docs/CRASH_REPORTS.md) is named first, with the report's key lines: the
//! master's line names the file; without that line, `$data_directory/crash` is searched
//! for a report of the same pid written within a minute of the crash's line. `-R` prints the rule list (docs/TRIAGE.md),
//! `-L` (or `--list-rules`) each rule id with a one-line description.
//!
//! A separate program, named like Postfix's post* commands, rather than a `postfix`
//! subcommand: it needs no privileges and runs unchanged against a Postfix system.

mod checks;
mod not_implemented;

use params::Config;
use params::decl::install::DATA_DIRECTORY;
use std::path::PathBuf;
use triage::cli;
use triage::logline::{self, Line};

/// The master's start line: the default window starts at the last one.
const STARTED: &str = "daemon started -- version";

fn usage(myname: &str) -> ! {
    log::msg_fatal!(
        "usage: {myname} [-a (whole log)] [-c config_dir] [-j (JSON)] [-l logfile] [-s since] [-u until] [-L (rule ids)] [-R (rule list)]"
    )
}

fn main() {
    let argv0 = std::env::args()
        .next()
        .unwrap_or_else(|| "posttriage".into());
    log::init(Box::new(log::Stderr::new(&argv0)));
    let args: Vec<String> = cli::args()
        .into_iter()
        .map(|a| if a == "--list-rules" { "-L".into() } else { a })
        .collect();
    let (opts, operands) = match util::getopt::parse(&argv0, "ac:jl:LRs:u:", &args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            usage(&argv0)
        }
    };
    if !operands.is_empty() {
        usage(&argv0);
    }
    let (mut whole, mut json, mut config_dir, mut log_file) = (false, false, None, None);
    let (mut since, mut until) = (None, None);
    let now = cli::now();
    let when = |v: &str| {
        logline::parse_user_time(v, now).unwrap_or_else(|| {
            eprintln!("{argv0}: bad time: {v}");
            usage(&argv0)
        })
    };
    for opt in opts {
        let value = opt.value.unwrap_or_default();
        match opt.letter {
            'a' => whole = true,
            'c' => config_dir = Some(PathBuf::from(value)),
            'j' => json = true,
            'l' => log_file = Some(PathBuf::from(value)),
            'L' => {
                print!("{}", triage::rules::list());
                return;
            }
            'R' => {
                print!("{}", triage::rules::markdown());
                return;
            }
            's' => since = Some(when(&value)),
            'u' => until = Some(when(&value)),
            _ => usage(&argv0),
        }
    }
    let config_dir = params::config::config_directory(config_dir.as_deref());
    let config = match Config::load(&config_dir) {
        Ok(config) => config,
        Err(e) => log::msg_fatal!("{e}"),
    };
    let mut lines: Vec<Line> = checks::run(&config).into_iter().map(checks::line).collect();
    let log_file = cli::log_file(log_file, Some(&config));
    if let Some(path) = &log_file {
        match std::fs::read(path) {
            Ok(bytes) => {
                let log = logline::parse_log(&String::from_utf8_lossy(&bytes));
                lines.extend(window(log, whole, since, until));
            }
            Err(e) => log::msg_warn!("cannot read {}: {}", path.display(), sys::os_error(&e)),
        }
    }
    let apart = reports_apart(&config, &lines);
    let mut findings = triage::engine::diagnose_with_reports(&lines, &apart);
    let crash_dir = crash_directory(&config);
    triage::engine::quote_reports(&mut findings, &|file: &str| quote(&crash_dir, file));
    if json {
        print!("{}", triage::engine::json(&findings));
    } else {
        print!("{}", triage::engine::text(&findings));
    }
    std::process::exit(if findings.is_empty() { 0 } else { 1 });
}

/// How far the time in a report's name may be from its crash's log line.
const REPORT_SLACK: u64 = 60;

/// Crash reports of crashes in `lines` whose report the master did not name (a log that
/// lost the line, or a master that could not read the directory): a file of
/// `$data_directory/crash` with the crashed pid in its name and a time within
/// [`REPORT_SLACK`] of the line's. The name's time is UTC, the log's local.
fn reports_apart(config: &Config, lines: &[Line]) -> Vec<(u32, String)> {
    let named = triage::crash::named(lines);
    let crashes: Vec<(u32, u64)> = lines
        .iter()
        .filter_map(|l| Some((triage::engine::crashed_process(l)?, l.time?)))
        .filter(|(pid, _)| named.iter().all(|(p, _)| p != pid))
        .collect();
    if crashes.is_empty() {
        return Vec::new();
    }
    let dir = crash_directory(config);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<(u32, String)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((pid, utc)) = triage::crash::parse_name(&name) else {
            continue;
        };
        let t = sys::localtime(utc);
        let local = logline::seconds(
            u64::from(t.month) + 1,
            u64::from(t.day),
            u64::from(t.hour),
            u64::from(t.minute),
            u64::from(t.second),
        );
        let near = crashes
            .iter()
            .any(|&(p, at)| p == pid && at.abs_diff(local) <= REPORT_SLACK);
        if near && out.iter().all(|(p, _)| *p != pid) {
            out.push((pid, entry.path().display().to_string()));
        }
    }
    out
}

/// `$data_directory/crash`, where the daemons leave their reports.
fn crash_directory(config: &Config) -> PathBuf {
    PathBuf::from(config.str(&DATA_DIRECTORY).unwrap_or_default()).join("crash")
}

/// The most of a report read: reports are a few kilobytes; the cap keeps a wrong file
/// from costing more than this.
const REPORT_LIMIT: u64 = 1 << 20;

/// A crash report's key lines, or why it cannot be read. The file name comes from the
/// log, which any local user can write to (`logger -t postfix/master`), and posttriage
/// runs as root: only a regular file directly under `crash_dir` is read, opened without
/// following a symbolic link and without blocking on a FIFO, and at most
/// [`REPORT_LIMIT`] bytes of it.
fn quote(crash_dir: &std::path::Path, file: &str) -> Vec<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let path = std::path::Path::new(file);
    let inside = path.parent().is_some_and(|parent| {
        match (parent.canonicalize(), crash_dir.canonicalize()) {
            (Ok(parent), Ok(dir)) => parent == dir,
            _ => false,
        }
    });
    if !inside {
        return vec![format!(
            "not read: it is not in {} (data_directory)",
            crash_dir.display()
        )];
    }
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path);
    let read = opened.and_then(|f| {
        if !f.metadata()?.is_file() {
            return Err(std::io::Error::other("not a regular file"));
        }
        let mut bytes = Vec::new();
        f.take(REPORT_LIMIT).read_to_end(&mut bytes)?;
        Ok(bytes)
    });
    match read {
        Ok(bytes) => triage::crash::key_lines(&String::from_utf8_lossy(&bytes)),
        Err(e) => vec![format!(
            "cannot read it: {} (reports are mode 0600, owned by mail_owner: run posttriage as root)",
            sys::os_error(&e)
        )],
    }
}

/// The lines looked at: from the last start of the mail system on, unless the whole log
/// or a time window was asked for. A start that fails (a fatal before the master's
/// "daemon started") is part of the window: the window starts at the last start
/// attempt, postfix-script's "starting the Postfix mail system" when it is logged.
fn window(log: Vec<Line>, whole: bool, since: Option<u64>, until: Option<u64>) -> Vec<Line> {
    if since.is_some() || until.is_some() {
        return log
            .into_iter()
            .filter(|l| {
                l.time
                    .is_none_or(|t| since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u))
            })
            .collect();
    }
    if whole {
        return log;
    }
    let start = log
        .iter()
        .rposition(|l| l.text.starts_with(STARTED))
        .map(|at| {
            // postfix-script's line just before the master's belongs to the same start.
            log[..at]
                .iter()
                .rposition(|l| l.text == "starting the Postfix mail system")
                .filter(|&s| at - s < 50)
                .unwrap_or(at)
        })
        .unwrap_or(0);
    let later_attempt = log[start..]
        .iter()
        .rposition(|l| l.text == "starting the Postfix mail system")
        .map(|i| start + i);
    let start = later_attempt.unwrap_or(start);
    log.into_iter().skip(start).collect()
}

#[cfg(test)]
mod tests {
    use super::quote;
    use std::path::Path;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("posttriage-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("crash")).unwrap();
        dir
    }

    #[test]
    fn only_regular_files_of_the_crash_directory_are_read() {
        let dir = scratch("quote");
        let crash = dir.join("crash");
        let report = crash.join("smtpd.42.20261206T170000Z");
        std::fs::write(&report, "reason: signal 11\nend of report\n").unwrap();
        let read = |p: &Path| quote(&crash, p.to_str().unwrap());
        assert_eq!(read(&report), ["reason: signal 11"]);

        // Named by a forged log line: elsewhere, a link, a FIFO.
        let outside = dir.join("secret");
        std::fs::write(&outside, "reason: root's secret\nend of report\n").unwrap();
        assert!(read(&outside)[0].starts_with("not read: it is not in "));
        let link = crash.join("smtpd.43.20261206T170000Z");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        assert!(
            read(&link)[0].starts_with("cannot read it: "),
            "{:?}",
            read(&link)
        );
        let fifo = crash.join("smtpd.44.20261206T170000Z");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert!(
            read(&fifo)[0].starts_with("cannot read it: "),
            "{:?}",
            read(&fifo)
        );
        assert!(read(Path::new("/dev/zero"))[0].starts_with("not read: "));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
