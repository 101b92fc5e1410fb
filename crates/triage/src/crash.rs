//! Crash reports (docs/CRASH_REPORTS.md): the master's line that names one, the file
//! names under `$data_directory/crash`, and the key lines of a report that triage quotes
//! under the crash it explains.
//!
//! Postfix counterpart: none. Postfix leaves a core file at most; ironpost's daemons
//! write these reports (crates/log crash.rs) and the master names each one in a warning
//! after Postfix's own `killed by signal` or `exit status` warning. Only text is read
//! here; finding and reading the files is posttriage's part.

use crate::logline::Line;
use crate::pattern;

/// The master's line that names a report (programs/master spawn.rs): a warning, or an
/// info line in logs of ironpost before it became one.
pub const MASTER_LINE: &str = "crash report for process {path} pid {pid}: {file}";

/// Frames of ironpost's own code quoted from a backtrace.
const FRAMES: usize = 4;

/// Functions of the reporting machinery (the report writer, the watchdog's alarm), which
/// every report of their kind shows above the daemon's own frames.
const MACHINERY: [&str; 4] = [
    "log::crash::",
    "sys::crash::",
    "sys::watchdog::",
    "server::watchdog_timeout",
];

/// The reports the master named in `lines`: (pid, file).
pub fn named(lines: &[Line]) -> Vec<(u32, String)> {
    lines
        .iter()
        .filter(|l| l.program.ends_with("/master"))
        .filter_map(|l| pattern::matches(MASTER_LINE, &l.text))
        .filter_map(|captures| {
            let get = |name: &str| {
                captures
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
            };
            Some((get("pid")?.parse().ok()?, get("file")?))
        })
        .collect()
}

/// The pid and the UTC time (seconds since the epoch) in a report's file name,
/// `<service>.<pid>.<YYYYMMDDTHHMMSSZ>`; the service may hold dots, so it is read from
/// the right.
pub fn parse_name(name: &str) -> Option<(u32, i64)> {
    let mut fields = name.rsplitn(3, '.');
    let time = fields.next()?;
    let pid = fields.next()?.parse().ok()?;
    fields.next()?;
    let b = time.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| time.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, m, s) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some((
        pid,
        days_from_civil(year, month, day) * 86400 + h * 3600 + m * 60 + s,
    ))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// What a reader needs first from a report: why the process died, which service it was,
/// what it was working on (the queue id or the SMTP session), and the innermost frames
/// of ironpost's own code, `at function (crate/src/file.rs:line)`.
pub fn key_lines(report: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = report.lines();
    for line in lines.by_ref() {
        if line == "backtrace:" {
            break;
        }
        for field in ["reason: ", "time: ", "service: ", "work: "] {
            if line.starts_with(field) {
                out.push(line.to_string());
            }
        }
    }
    let mut frames = 0;
    let mut function: Option<&str> = None;
    for line in lines {
        let trimmed = line.trim_start();
        if let Some(at) = trimmed.strip_prefix("at ") {
            if let Some(name) = function.take()
                && frames < FRAMES
                && let Some(place) = own_code(at)
                && !MACHINERY.iter().any(|m| name.starts_with(m))
            {
                out.push(format!("at {name} ({place})"));
                frames += 1;
            }
            continue;
        }
        // `  12: smtpd::io::SessionIo<W>::fill`: a frame's function.
        function = trimmed
            .split_once(": ")
            .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
            .map(|(_, name)| name);
    }
    if !report.lines().any(|l| l == "end of report") {
        out.push("(the report was cut short: it has no \"end of report\" line)".into());
    }
    out
}

/// `crate/src/file.rs:line` when `at` (`/path/crate/src/file.rs:line:column`) is a file
/// of ironpost's workspace rather than of the standard library or a dependency.
fn own_code(at: &str) -> Option<String> {
    if at.contains("/rustc/") || at.contains("/.cargo/") || at.contains("/registry/") {
        return None;
    }
    let src = at.find("/src/")?;
    // Keep the two components before src/: programs/smtpd, crates/server.
    let head = &at[..src];
    let mut parts = head.rsplitn(3, '/');
    let krate = parts.next()?;
    let group = parts.next()?;
    if group != "crates" && group != "programs" {
        return None;
    }
    let rest = &at[src + 1..];
    // Drop the column.
    let place = match rest.rsplit_once(':') {
        Some((file_line, col)) if col.chars().all(|c| c.is_ascii_digit()) => file_line,
        _ => rest,
    };
    Some(format!("{group}/{krate}/{place}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "ironpost crash report\n\
        reason: signal 11 (SIGSEGV)\n\
        pid: 23565\n\
        time: 2026-12-06 10:59:16 UTC\n\
        program: /usr/libexec/postfix/smtpd\n\
        service: smtp/inet\n\
        work: SMTP session with localhost[127.0.0.1]\n\
        last log records:\n  Dec  6 10:59:16 connect from localhost[127.0.0.1]\n\
        backtrace:\n   0: log::crash::write_backtrace\n             at /w/crates/log/src/crash.rs:344:25\n\
        \x20  4: <unknown>\n   5: __libc_recv\n             at ./socket/../sysdeps/unix/sysv/linux/recv.c:28:10\n\
        \x20  9: std::io::default_read_exact\n             at /rustc/abc/library/std/src/io/mod.rs:10:5\n\
        \x20 10: <server::single::Stream as std::io::Read>::read\n             at /w/crates/server/src/single.rs:51:33\n\
        \x20 11: smtpd::io::SessionIo<W>::fill\n             at /w/programs/smtpd/src/io.rs:273:29\n\
        end of report\n";

    #[test]
    fn key_lines_name_the_reason_the_work_and_our_frames() {
        assert_eq!(
            key_lines(REPORT),
            [
                "reason: signal 11 (SIGSEGV)",
                "time: 2026-12-06 10:59:16 UTC",
                "service: smtp/inet",
                "work: SMTP session with localhost[127.0.0.1]",
                "at <server::single::Stream as std::io::Read>::read (crates/server/src/single.rs:51)",
                "at smtpd::io::SessionIo<W>::fill (programs/smtpd/src/io.rs:273)",
            ]
        );
        let cut = &REPORT[..REPORT.len() - "end of report\n".len()];
        assert!(key_lines(cut).last().unwrap().contains("cut short"));
    }

    #[test]
    fn file_names_are_read_from_the_right() {
        assert_eq!(
            parse_name("127.0.0.1:2525.23565.20261206T105916Z"),
            Some((23565, 1796554756))
        );
        assert_eq!(parse_name("smtp.1.2026"), None);
        let line = Line::parse(
            1,
            "Dec  6 10:59:16 mail postfix/master[23560]: warning: crash report for process /x/smtpd pid 23565: /d/crash/smtp.23565.20261206T105916Z",
        )
        .unwrap();
        assert_eq!(
            named(&[line]),
            [(23565, "/d/crash/smtp.23565.20261206T105916Z".to_string())]
        );
    }
}
