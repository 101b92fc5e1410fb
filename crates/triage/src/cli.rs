//! What posttriage and posttrace share around the log: their arguments, the clock in
//! the log's terms, and where the log is.
//!
//! Postfix counterpart: none (postreport finds the log the same way: `-l`, else
//! maillog_file, else the file Debian's rsyslog writes).

use crate::logline;
use params::Config;
use params::decl::logging::MAILLOG_FILE;
use std::path::PathBuf;

/// Where syslog puts mail logging when maillog_file is not used: Debian's rsyslog first,
/// then the other names the Howto mentions.
pub const SYSLOG_FILES: [&str; 3] = ["/var/log/mail.log", "/var/log/maillog", "/var/log/mail"];

/// The command line after the program name, `--json` spelt as `-j` for getopt.
pub fn args() -> Vec<String> {
    std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .map(|a| if a == "--json" { "-j".into() } else { a })
        .collect()
}

/// A time in seconds since the epoch as seconds of the year in local time, the log's
/// clock.
pub fn year_seconds(epoch: i64) -> u64 {
    let t = sys::localtime(epoch);
    logline::seconds(
        t.month as u64 + 1,
        t.day as u64,
        t.hour as u64,
        t.minute as u64,
        t.second as u64,
    )
}

/// Now, as seconds of the year in local time.
pub fn now() -> u64 {
    year_seconds(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    )
}

/// The log: the one given, else maillog_file (unless it is a device), else the first
/// syslog file that exists.
pub fn log_file(given: Option<PathBuf>, config: Option<&Config>) -> Option<PathBuf> {
    given
        .or_else(|| {
            let maillog = config?.str(&MAILLOG_FILE).ok()?;
            (!maillog.is_empty() && !maillog.starts_with("/dev/")).then(|| PathBuf::from(maillog))
        })
        .or_else(|| SYSLOG_FILES.iter().map(PathBuf::from).find(|p| p.exists()))
}
