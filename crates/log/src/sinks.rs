//! Where records go: stderr, syslog, maillog_file, or memory (for tests).
//!
//! Postfix counterparts: `util/msg_vstream.c`, `util/msg_syslog.c`, `util/msg_logger.c`.
//! Each sink formats the record its own way, byte for byte as Postfix does, because
//! pflogsumm, fail2ban, qshape and people's greps parse these lines.

use crate::Severity;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// A destination for log records.
pub trait Sink: Send {
    /// Writes one record; `text` has no severity prefix and no newline.
    fn write(&mut self, severity: Severity, text: &str);

    /// Whether this sink writes to the standard error stream.
    fn is_stderr(&self) -> bool {
        false
    }

    /// Connects to the sink's socket now and keeps the connection, so that records still
    /// get through after a chroot hides the socket's path (Postfix's `CONNECT_NOW`).
    fn connect_now(&mut self) {}
}

/// A datagram socket connected to `path`, or nothing when nobody listens there.
fn connect(path: &std::path::Path) -> Option<UnixDatagram> {
    let socket = UnixDatagram::unbound().ok()?;
    socket.connect(path).ok()?;
    Some(socket)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn now() -> sys::LocalTime {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    sys::localtime(secs)
}

/// `Mmm dd HH:MM:SS` with the day padded by a space (syslog) or a zero (maillog_file).
pub(crate) fn timestamp(zero_pad: bool) -> String {
    let t = now();
    let month = MONTHS[t.month as usize % 12];
    if zero_pad {
        format!(
            "{month} {:02} {:02}:{:02}:{:02}",
            t.day, t.hour, t.minute, t.second
        )
    } else {
        format!(
            "{month} {:2} {:02}:{:02}:{:02}",
            t.day, t.hour, t.minute, t.second
        )
    }
}

/// `progname: warning: text` on standard error, as Postfix commands print.
pub struct Stderr {
    tag: String,
}

impl Stderr {
    /// A stderr sink that starts each line with `tag: `.
    pub fn new(tag: &str) -> Self {
        Stderr {
            tag: tag.to_string(),
        }
    }
}

impl Sink for Stderr {
    fn write(&mut self, severity: Severity, text: &str) {
        let line = format!("{}: {}{}\n", self.tag, severity.prefix(), text);
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn is_stderr(&self) -> bool {
        true
    }
}

/// A syslog facility (`syslog_facility`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facility(u8);

impl Facility {
    /// The `mail` facility, Postfix's default.
    pub const MAIL: Facility = Facility(2);

    /// Looks up a facility by the name syslog.conf uses. The match is exact, as Postfix's
    /// (`LOCAL3` is no facility: Postfix refuses it, and so must we).
    pub fn from_name(name: &str) -> Option<Facility> {
        let code = match name {
            "kern" => 0,
            "user" => 1,
            "mail" => 2,
            "daemon" => 3,
            "auth" => 4,
            "syslog" => 5,
            "lpr" => 6,
            "news" => 7,
            "uucp" => 8,
            "cron" => 9,
            "authpriv" => 10,
            "ftp" => 11,
            "local0" => 16,
            "local1" => 17,
            "local2" => 18,
            "local3" => 19,
            "local4" => 20,
            "local5" => 21,
            "local6" => 22,
            "local7" => 23,
            _ => return None,
        };
        Some(Facility(code))
    }
}

/// The most bytes of a record's text that go to syslog (Postfix's `MSG_SYSLOG_RECLEN`): a
/// longer text is cut, after the severity prefix, wherever that byte falls.
const SYSLOG_RECLEN: usize = 2000;

/// Records sent to the local syslog daemon over `/dev/log`, as the C library's `syslog(3)`
/// with `LOG_PID` sends them: `<pri>Mmm dd HH:MM:SS tag[pid]: text`.
pub struct Syslog {
    tag: String,
    facility: Facility,
    socket: Option<UnixDatagram>,
    path: PathBuf,
}

impl Syslog {
    /// A syslog sink with the tag (`postfix/smtpd`) and facility; connects on first use, so
    /// a syslog daemon that starts later is still reached.
    pub fn new(tag: &str, facility: Facility) -> Self {
        Syslog {
            tag: tag.to_string(),
            facility,
            socket: None,
            path: PathBuf::from("/dev/log"),
        }
    }

    /// The datagram for one record, as glibc's `syslog(3)` makes it for Postfix's
    /// `msg_syslog_print`: no newline, the text cut at [`SYSLOG_RECLEN`] bytes. A tag
    /// with a `[` in it already carries a process id (Postfix's postlog forwarding a record
    /// under another program's name): Postfix then opens the log without `LOG_PID`.
    pub fn format(&self, severity: Severity, text: &str) -> Vec<u8> {
        let pid = if self.tag.contains('[') {
            String::new()
        } else {
            format!("[{}]", std::process::id())
        };
        let mut line = format!(
            "<{}>{} {}{pid}: {}",
            self.priority(severity),
            timestamp(false),
            self.tag,
            severity.prefix(),
        )
        .into_bytes();
        let text = text.as_bytes();
        line.extend_from_slice(&text[..text.len().min(SYSLOG_RECLEN)]);
        line
    }

    fn priority(&self, severity: Severity) -> u8 {
        let level = match severity {
            Severity::Info => 6,
            Severity::Warning => 4,
            Severity::Error => 3,
            Severity::Fatal | Severity::Panic => 2,
        };
        self.facility.0 << 3 | level
    }
}

impl Sink for Syslog {
    fn write(&mut self, severity: Severity, text: &str) {
        let line = self.format(severity, text);
        for _attempt in 0..2 {
            self.connect_now();
            let Some(socket) = &self.socket else {
                return;
            };
            if socket.send(&line).is_ok() {
                return;
            }
            // The syslog daemon restarted: reconnect once.
            self.socket = None;
        }
    }

    fn connect_now(&mut self) {
        if self.socket.is_none() {
            self.socket = connect(&self.path);
        }
    }
}

/// Records in Postfix's maillog_file format:
/// `Mmm DD HH:MM:SS host tag[pid]: text`. They go to the postlogd socket when one is
/// given and answers, otherwise straight to the file when one is given (as Postfix commands
/// do when postlogd is not running), otherwise nowhere.
pub struct MaillogFile {
    tag: String,
    host: String,
    file: Option<PathBuf>,
    socket: Option<PathBuf>,
    connection: Option<UnixDatagram>,
}

impl MaillogFile {
    /// A maillog_file sink. `hostname` is cut at its first dot, as Postfix does.
    pub fn new(tag: &str, hostname: &str, file: Option<PathBuf>, socket: Option<PathBuf>) -> Self {
        let host = hostname.split('.').next().unwrap_or(hostname).to_string();
        MaillogFile {
            tag: tag.to_string(),
            host,
            file,
            socket,
            connection: None,
        }
    }

    /// The line for one record, without the newline.
    pub fn format(&self, severity: Severity, text: &str) -> String {
        format!(
            "{} {} {}[{}]: {}{}",
            timestamp(true),
            self.host,
            self.tag,
            std::process::id(),
            severity.prefix(),
            text
        )
    }
}

impl Sink for MaillogFile {
    fn write(&mut self, severity: Severity, text: &str) {
        let line = self.format(severity, text);
        for _attempt in 0..2 {
            self.connect_now();
            let Some(connection) = &self.connection else {
                break;
            };
            if connection.send(line.as_bytes()).is_ok() {
                return;
            }
            // postlogd's socket was made anew (the master restarted): connect again once.
            self.connection = None;
        }
        let Some(path) = &self.file else {
            return;
        };
        // One write(2) per record with O_APPEND keeps lines from several processes whole.
        let record = format!("{line}\n");
        if let Ok(mut file) = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o644)
            .open(path)
        {
            let _ = file.write_all(record.as_bytes());
        }
    }

    fn connect_now(&mut self) {
        if self.connection.is_none() {
            self.connection = self.socket.as_deref().and_then(connect);
        }
    }
}

/// Keeps records in memory, `severity: text` per line, for tests.
#[derive(Clone, Default)]
pub struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
}

impl Capture {
    /// The records captured so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Sink for Capture {
    fn write(&mut self, severity: Severity, text: &str) {
        let line = format!("{}{}", severity.prefix(), text);
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maillog_line_shape() {
        let sink = MaillogFile::new("postfix/smtpd", "mail.example.com", None, None);
        let line = sink.format(Severity::Warning, "ABC123: text");
        let (stamp, rest) = line.split_at(15);
        assert_eq!(&stamp[3..4], " ");
        assert!(
            stamp[4..6].bytes().all(|b| b.is_ascii_digit()),
            "zero-padded day: {stamp}"
        );
        let want = format!(
            " mail postfix/smtpd[{}]: warning: ABC123: text",
            std::process::id()
        );
        assert_eq!(rest, want);
    }

    #[test]
    fn syslog_priorities() {
        let s = Syslog::new("postfix/x", Facility::MAIL);
        assert_eq!(s.priority(Severity::Info), 22);
        assert_eq!(s.priority(Severity::Warning), 20);
        assert_eq!(s.priority(Severity::Error), 19);
        assert_eq!(s.priority(Severity::Panic), 18);
        assert_eq!(Facility::from_name("local3"), Some(Facility(19)));
        assert_eq!(Facility::from_name("LOCAL3"), None);
    }

    /// The parts of a syslog datagram after the timestamp.
    fn after_stamp(line: &[u8]) -> String {
        let line = String::from_utf8_lossy(line);
        let (pri, rest) = line.split_at(line.find('>').unwrap() + 1);
        let (stamp, rest) = rest.split_at(15);
        assert_eq!(&stamp[3..4], " ");
        assert!(
            stamp[4..6].trim_start().bytes().all(|b| b.is_ascii_digit()),
            "space-padded day: {stamp}"
        );
        format!("{pri}{rest}")
    }

    #[test]
    fn syslog_datagram_shape() {
        let s = Syslog::new("postfix/smtpd", Facility::MAIL);
        let pid = std::process::id();
        assert_eq!(
            after_stamp(&s.format(Severity::Warning, "ABC123: text")),
            format!("<20> postfix/smtpd[{pid}]: warning: ABC123: text")
        );
        // postlog -t 'name[1234]' forwards a record under a tag that has its own pid.
        let s = Syslog::new(
            "postfix/smtpd[1234]",
            Facility::from_name("local0").unwrap(),
        );
        assert_eq!(
            after_stamp(&s.format(Severity::Info, "text")),
            "<134> postfix/smtpd[1234]: text"
        );
    }

    #[test]
    fn syslog_text_is_cut_at_2000_bytes_after_the_prefix() {
        let s = Syslog::new("postfix/x", Facility::MAIL);
        let text = "é".repeat(1500);
        let line = s.format(Severity::Error, &text);
        let head = format!(" postfix/x[{}]: error: ", std::process::id());
        let body = &line[4 + 15 + head.len()..];
        assert_eq!(body.len(), SYSLOG_RECLEN);
        assert_eq!(body, &text.as_bytes()[..SYSLOG_RECLEN]);
    }
}
