//! One mail log line: time, host, program, pid, queue id and message text.
//!
//! Postfix counterpart: the line format of src/util/msg_logger.c (maillog_file,
//! postlogd) and of syslog (`Mon DD HH:MM:SS host postfix/smtpd[pid]: text`, the day
//! space- or zero-padded), and rsyslog's RFC 3339 stamps. Only the month, day and time of
//! day are kept: syslog lines carry no year, and the comparisons here are within one log.

/// Month abbreviations as syslog writes them.
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A parsed log line.
#[derive(Debug, Clone)]
pub struct Line {
    /// Its number in the log, from 1.
    pub number: usize,
    /// The whole line.
    pub raw: String,
    /// The time stamp as written.
    pub stamp: String,
    /// Seconds since the start of the year (without leap days): comparable in one log.
    pub time: Option<u64>,
    /// The program as logged, e.g. `postfix/smtpd` or `postfix-foo/qmgr`.
    pub program: String,
    /// The process name, the program's last component (`smtpd`).
    pub process: String,
    /// The process id.
    pub pid: Option<u32>,
    /// The queue id that opens the text, when one does.
    pub queue_id: Option<String>,
    /// The text after `program[pid]: ` (queue id included).
    pub text: String,
}

/// Seconds into the year for month (1-12), day, hour, minute, second.
pub fn seconds(month: u64, day: u64, h: u64, m: u64, s: u64) -> u64 {
    const DAYS: [u64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    ((DAYS[(month.clamp(1, 12) - 1) as usize] + day.saturating_sub(1)) * 24 + h) * 3600 + m * 60 + s
}

/// `HH:MM:SS` (or `HH:MM`) as seconds.
fn clock(text: &str) -> Option<(u64, u64, u64)> {
    let mut it = text.split(':');
    let h = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let s = match it.next() {
        Some(s) => s.split(['.', ',']).next()?.parse().ok()?,
        None => 0,
    };
    Some((h, m, s))
}

/// Parses a time as the log writes it (`Dec  6 10:00:00`, `Dec 06 10:00:00`,
/// `2026-12-06T10:00:00.1+00:00`, or `2026-12-06 10:00:00`) into seconds of the year;
/// also the number of bytes it took.
pub fn parse_time(text: &str) -> Option<(u64, usize)> {
    let b = text.as_bytes();
    if b.len() >= 19 && b[4] == b'-' && b[7] == b'-' && (b[10] == b'T' || b[10] == b' ') {
        let month = text[5..7].parse().ok()?;
        let day = text[8..10].parse().ok()?;
        let rest = &text[11..];
        let end = rest.find(' ').unwrap_or(rest.len());
        let stamp = &rest[..end];
        let (h, m, s) = clock(&stamp[..8.min(stamp.len())])?;
        return Some((seconds(month, day, h, m, s), 11 + end));
    }
    let month = MONTHS.iter().position(|m| text.starts_with(m))? as u64 + 1;
    let rest = text.get(3..)?;
    let trimmed = rest.trim_start();
    let day_end = trimmed.find(' ')?;
    let day = trimmed[..day_end].parse().ok()?;
    let after_day = &trimmed[day_end..].trim_start();
    let clock_end = after_day.find(' ').unwrap_or(after_day.len());
    let (h, m, s) = clock(&after_day[..clock_end])?;
    let used = text.len() - after_day.len() + clock_end;
    Some((seconds(month, day, h, m, s), used))
}

/// Whether `word` looks like a Postfix queue id: the short form (hexadecimal, upper
/// case) or the long form (letters and digits with a `z` between time and inode).
pub fn is_queue_id(word: &str) -> bool {
    let n = word.len();
    let short = n >= 6
        && word
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c));
    let long = n >= 12
        && word.bytes().all(|c| c.is_ascii_alphanumeric())
        && word.contains('z')
        && word.bytes().any(|c| c.is_ascii_uppercase())
        && word.bytes().any(|c| c.is_ascii_digit());
    short || long
}

impl Line {
    /// Parses one line; None for a line that is not `stamp host program[pid]: text`.
    pub fn parse(number: usize, raw: &str) -> Option<Line> {
        let (time, used) = parse_time(raw)?;
        let stamp = raw[..used].to_string();
        let rest = raw[used..].trim_start();
        let (_host, rest) = rest.split_once(' ')?;
        let colon = rest.find(": ")?;
        let tag = &rest[..colon];
        let text = rest[colon + 2..].to_string();
        let (program, pid) = match tag.split_once('[') {
            Some((p, pid)) => (p.to_string(), pid.trim_end_matches(']').parse().ok()),
            None => (tag.to_string(), None),
        };
        if program.contains(' ') {
            return None;
        }
        let process = program.rsplit('/').next().unwrap_or("").to_string();
        let queue_id = text
            .split_once(": ")
            .map(|(w, _)| w)
            .filter(|w| is_queue_id(w))
            .map(String::from);
        Some(Line {
            number,
            raw: raw.to_string(),
            stamp,
            time: Some(time),
            program,
            process,
            pid,
            queue_id,
            text,
        })
    }

    /// The text without the queue id.
    pub fn message(&self) -> &str {
        match &self.queue_id {
            Some(id) => &self.text[id.len() + 2..],
            None => &self.text,
        }
    }
}

/// Parses a whole log; lines that are not log lines are skipped.
pub fn parse_log(text: &str) -> Vec<Line> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| Line::parse(i + 1, l))
        .collect()
}

/// Parses a time given on the command line: a log-style stamp, `HH:MM[:SS]` today
/// (`today` is the seconds of the year at midnight), or an age such as `30m`, `2h`,
/// `1d` before `now`.
pub fn parse_user_time(text: &str, now: u64) -> Option<u64> {
    if let Some((t, _)) = parse_time(text) {
        return Some(t);
    }
    if let Some((h, m, s)) = clock(text) {
        return Some(now - now % 86400 + h * 3600 + m * 60 + s);
    }
    let (digits, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return None,
    };
    Some(now.saturating_sub(n * scale))
}

/// Formats seconds of the year back as `Mon DD HH:MM:SS`.
pub fn format_time(t: u64) -> String {
    const DAYS: [u64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let day_of_year = t / 86400;
    let month = DAYS.iter().rposition(|d| *d <= day_of_year).unwrap_or(0);
    let day = day_of_year - DAYS[month] + 1;
    let s = t % 86400;
    format!(
        "{} {:02} {:02}:{:02}:{:02}",
        MONTHS[month],
        day,
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_and_maillog_file_lines() {
        let l = Line::parse(
            1,
            "Dec  6 09:04:58 mail postfix/cleanup[13197]: 12DF99CA951: message-id=<a@b>",
        )
        .unwrap();
        assert_eq!(l.process, "cleanup");
        assert_eq!(l.pid, Some(13197));
        assert_eq!(l.queue_id.as_deref(), Some("12DF99CA951"));
        assert_eq!(l.message(), "message-id=<a@b>");
        assert_eq!(format_time(l.time.unwrap()), "Dec 06 09:04:58");
        let l = Line::parse(
            2,
            "2026-12-06T09:04:58.123+00:00 mail postfix/smtpd[1]: warning: x",
        )
        .unwrap();
        assert_eq!(format_time(l.time.unwrap()), "Dec 06 09:04:58");
        assert!(l.queue_id.is_none());
    }

    #[test]
    fn queue_ids() {
        assert!(is_queue_id("12DF99CA951"));
        assert!(is_queue_id("4Tq9Xc1Gz3zJ7Rv"));
        assert!(!is_queue_id("warning"));
        assert!(!is_queue_id("NOQUEUE"));
        assert!(!is_queue_id("statistics"));
    }

    #[test]
    fn user_times() {
        let now = seconds(12, 6, 10, 0, 0);
        assert_eq!(parse_user_time("1h", now), Some(seconds(12, 6, 9, 0, 0)));
        assert_eq!(
            parse_user_time("08:30", now),
            Some(seconds(12, 6, 8, 30, 0))
        );
        assert_eq!(
            parse_user_time("Dec  5 23:00:00", now),
            Some(seconds(12, 5, 23, 0, 0))
        );
    }
}
