//! What the cleanup tests share: queue files as records, normalized for comparison, the
//! ways to submit a message, and a client that talks to the cleanup service directly.
//! Each test binary uses part of it.
#![allow(dead_code)]

use e2e::{Instance, wait_until};
use std::process::Command;

/// One record of a queue file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub kind: u8,
    pub data: Vec<u8>,
}

/// The records of a queue file (Postfix's record format: type, 7-bit length groups, data).
pub fn records(file: &[u8]) -> Vec<Record> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < file.len() {
        let kind = file[i];
        i += 1;
        let (mut len, mut shift) = (0usize, 0);
        loop {
            let b = file[i];
            i += 1;
            len |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        out.push(Record {
            kind,
            data: file[i..i + len].to_vec(),
        });
        i += len;
    }
    out
}

/// The size record's fields.
pub fn size_fields(record: &Record) -> Vec<u64> {
    String::from_utf8_lossy(&record.data)
        .split_whitespace()
        .map(|f| f.parse().unwrap())
        .collect()
}

/// Checks that the size record says what the file holds: content length and offset,
/// recipient count. Returns the fields that do not depend on lengths (queue manager
/// flags, SMTPUTF8 flags).
pub fn check_size_record(file: &[u8], what: &str) -> (u64, u64) {
    let recs = records(file);
    let fields = size_fields(&recs[0]);
    assert_eq!(recs[0].kind, b'C', "{what}: no size record first");
    assert_eq!(recs[0].data.len(), 6 * 15 + 5, "{what}: size record width");
    let mut offset = 0u64;
    let (mut data_offset, mut xtra_offset) = (0, 0);
    for r in &recs {
        let mut len = r.data.len();
        let mut size = 2;
        while len >= 128 {
            size += 1;
            len >>= 7;
        }
        let next = offset + size + r.data.len() as u64;
        if r.kind == b'M' {
            data_offset = next;
        }
        if r.kind == b'X' {
            xtra_offset = offset;
        }
        offset = next;
    }
    let rcpts = recs.iter().filter(|r| r.kind == b'R').count() as u64;
    assert_eq!(fields[0], xtra_offset - data_offset, "{what}: content size");
    assert_eq!(fields[1], data_offset, "{what}: data offset");
    assert_eq!(fields[2], rcpts, "{what}: recipient count");
    assert_eq!(
        fields[4],
        xtra_offset - data_offset,
        "{what}: content length"
    );
    (fields[3], fields[5])
}

/// The records as text with what differs between two instances replaced.
pub fn normalized(file: &[u8], queue_id: &str) -> Vec<String> {
    records(file)
        .iter()
        .map(|r| {
            let text = String::from_utf8_lossy(&r.data).replace(queue_id, "QUEUEID");
            normalize_record(r.kind, &text)
        })
        .collect()
}

/// One record as `TYPE text`, with what differs between two instances (or runs) replaced:
/// the size record, times, ports, dates and message ID time stamps.
pub fn normalize_record(kind: u8, text: &str) -> String {
    let text = match kind {
        b'C' => "SIZE".to_string(),
        b'T' => "TIME".to_string(),
        _ if text.starts_with("create_time=") => "create_time=NOW".to_string(),
        _ if ["log_client_port=", "client_port=", "server_port="]
            .iter()
            .any(|p| text.starts_with(p)) =>
        {
            "PORT".to_string()
        }
        _ if text.starts_with("Date: ") => "Date: DATE".to_string(),
        _ if text.starts_with("Resent-Date: ") => "Resent-Date: DATE".to_string(),
        _ => normalize_dates(text),
    };
    format!("{} {text}", kind as char)
}

/// "; <date>" at the end of a Received: line or on a line of its own, and the time stamp
/// of a Message-Id.
fn normalize_dates(text: &str) -> String {
    let is_date = |t: &str| (t.contains(" +0") || t.contains(" -0")) && t.ends_with(')');
    if text.starts_with('\t') && is_date(text) && text.contains(", ") {
        return "\tDATE".to_string();
    }
    let text = match text.rsplit_once("; ") {
        Some((head, tail)) if tail.contains(" +0") || tail.contains(" -0") => {
            format!("{head}; DATE")
        }
        _ => text.to_string(),
    };
    normalize_stamp(&text, "QUEUEID")
}

/// The time stamp in front of `.ID@` (a message ID cleanup made) replaced by STAMP, where
/// `ID` is the placeholder that stands for a queue ID.
pub fn normalize_stamp(text: &str, id: &str) -> String {
    match text.find(&format!(".{id}@")) {
        Some(at) if at >= 14 && text[at - 14..at].bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}STAMP{}", &text[..at - 14], &text[at..])
        }
        _ => text.to_string(),
    }
}

/// The complete queue file in incoming/ whose content holds `marker`: its name and bytes.
pub fn queued(mx: &Instance, marker: &str) -> (String, Vec<u8>) {
    queued_in(mx, "incoming", marker)
}

/// The complete queue file in `queue` whose content holds `marker`: its name and bytes.
pub fn queued_in(mx: &Instance, queue: &str, marker: &str) -> (String, Vec<u8>) {
    let dir = mx.dir.join("queue").join(queue);
    let mut found = None;
    let ok = wait_until(30, || {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let data = std::fs::read(entry.path()).unwrap_or_default();
            let complete = std::fs::metadata(entry.path())
                .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o700 == 0o700)
                .unwrap_or(false);
            if complete && data.windows(marker.len()).any(|w| w == marker.as_bytes()) {
                found = Some((entry.file_name().to_string_lossy().into_owned(), data));
                return true;
            }
        }
        false
    });
    if !ok {
        mx.keep_for_inspection();
        panic!("no queue file with {marker}; log:\n{}", mx.log());
    }
    found.unwrap()
}

/// Sends `message` over SMTP with Python's smtplib, MAIL FROM `from`, RCPT TO each of
/// `to`, with 8BITMIME.
pub fn smtp(mx: &Instance, from: &str, to: &[&str], message: &str) {
    if let Err(e) = smtp_try(mx, from, to, message) {
        panic!("smtp: {e}\nlog:\n{}", mx.log());
    }
}

/// Like [`smtp`], with the server's refusal as the error: the reply code and text.
pub fn smtp_try(mx: &Instance, from: &str, to: &[&str], message: &str) -> Result<(), String> {
    let script = "import smtplib, sys\n\
        port, sender, rcpts, msg = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(','), sys.argv[4]\n\
        s = smtplib.SMTP('127.0.0.1', port, timeout=30)\n\
        s.ehlo('client.e2e.test')\n\
        try:\n\
        \x20   s.sendmail(sender, rcpts, msg.encode('utf-8'), mail_options=['BODY=8BITMIME'])\n\
        except smtplib.SMTPResponseException as e:\n\
        \x20   print(e.smtp_code, e.smtp_error.decode())\n\
        \x20   sys.exit(3)\n\
        s.quit()\n";
    let out = Command::new("python3")
        .args([
            "-c",
            script,
            &mx.smtp_port.to_string(),
            from,
            &to.join(","),
            message,
        ])
        .output()
        .unwrap();
    match out.status.code() {
        Some(0) => Ok(()),
        Some(3) => Err(String::from_utf8_lossy(&out.stdout).trim().to_string()),
        _ => panic!("smtp: {}", String::from_utf8_lossy(&out.stderr)),
    }
}

pub fn sendmail(mx: &Instance, args: &[&str], message: &str) {
    let out = mx.sendmail(args, message);
    assert!(
        out.status.success(),
        "sendmail: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A record to send: type and data.
pub type Rec<'a> = (u8, &'a [u8]);

/// Sends one message as `records` straight to the cleanup service, as pickup and smtpd
/// do, and returns the queue ID, status and reason.
pub fn raw_cleanup(
    mx: &Instance,
    flags: i32,
    stream: &[(u8, &[u8])],
    close_early: bool,
) -> (String, i32, String) {
    use ipc::{Attrs, Flavor};
    use std::io::{BufReader, Write};
    let socket = std::os::unix::net::UnixStream::connect(mx.dir.join("queue/public/cleanup"))
        .expect("the cleanup socket");
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(socket.try_clone().unwrap());
    let hello = ipc::attr::read(&mut reader, Flavor::Null).unwrap().unwrap();
    let id = hello.get_str("queue_id").unwrap().to_string();
    let mut out = socket.try_clone().unwrap();
    ipc::attr::write(&mut out, Flavor::Null, &Attrs::new().int("flags", flags)).unwrap();
    let mut bytes = Vec::new();
    // A client always ends with E (cleanup reads up to it before it answers), unless it
    // goes away.
    let end: &[(u8, &[u8])] = if close_early || stream.last().is_some_and(|r| r.0 == b'E') {
        &[]
    } else {
        &[(b'E', b"")]
    };
    for (kind, data) in stream.iter().chain(end) {
        bytes.extend(e2e::record(*kind, data));
    }
    out.write_all(&bytes).unwrap();
    if close_early {
        socket.shutdown(std::net::Shutdown::Write).unwrap();
    }
    let reply = ipc::attr::read(&mut reader, Flavor::Null).unwrap().unwrap();
    (
        id,
        reply.get_int("status").unwrap(),
        reply.get_str("reason").unwrap_or("").to_string(),
    )
}

/// The lines cleanup logged after byte `mark` of the log, from the text after the process
/// name on, with `queue_id` replaced by QUEUEID and message ID time stamps normalized.
pub fn cleanup_log_since(mx: &Instance, mark: usize, queue_id: &str) -> Vec<String> {
    let log = mx.log();
    log.get(mark..)
        .unwrap_or("")
        .lines()
        .filter(|l| l.contains("/cleanup["))
        .filter_map(|l| l.split_once("]: "))
        .map(|(_, text)| normalize_dates(&text.replace(queue_id, "QUEUEID")))
        .map(|text| without_delays(&text))
        .collect()
}

/// A delivery status log line without its delays, which differ from run to run.
pub fn without_delays(line: &str) -> String {
    match (line.find(", delay="), line.find(", dsn=")) {
        (Some(start), Some(end)) if start < end => {
            format!("{}, delay=D, delays=D{}", &line[..start], &line[end..])
        }
        _ => line.to_string(),
    }
}

/// The queue ID of the first cleanup log line after byte `mark` that has one.
pub fn first_queue_id_since(mx: &Instance, mark: usize) -> Option<String> {
    let log = mx.log();
    log.get(mark..)?
        .lines()
        .filter(|l| l.contains("/cleanup["))
        .filter_map(|l| l.split_once("]: "))
        .find_map(|(_, text)| {
            let text = text.strip_prefix("warning: ").unwrap_or(text);
            let (id, _) = text.split_once(": ")?;
            let hex = id
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase());
            (hex && id.len() >= 6).then(|| id.to_string())
        })
}

/// The same configuration run twice: with ironpost's cleanup and with Postfix's, neither
/// with a queue manager, so that queue files stay in incoming/ to be compared.
pub struct Pair {
    /// ironpost's cleanup.
    pub ours: Instance,
    /// Postfix's.
    pub theirs: Instance,
}

impl Pair {
    /// Two instances named `name`-ours and `name`-theirs, with the `name = value` lines of
    /// `main_cf` set in main.cf and `files` (path under the instance, text) written, both
    /// after @DIR@ expansion.
    pub fn new(name: &str, main_cf: &str, files: &[(&str, &str)]) -> Option<Pair> {
        let mut ours_daemons = e2e::IRONPOST_DAEMONS.to_vec();
        if !ours_daemons.contains(&"cleanup") {
            ours_daemons.push("cleanup");
        }
        let theirs_daemons: Vec<&str> = e2e::IRONPOST_DAEMONS
            .iter()
            .copied()
            .filter(|d| *d != "cleanup")
            .collect();
        let make = |suffix: &str, daemons: &[&str]| -> Option<Instance> {
            let mut mx = Instance::with_daemons(&format!("{name}-{suffix}"), daemons)?;
            mx.replace_master_cf_line(|l| l.starts_with("qmgr "), "#qmgr");
            for (path, text) in files {
                mx.write(path, &mx.expand(text));
            }
            // Each setting replaces the instance's own, if it has one.
            for line in main_cf.lines().filter(|l| !l.trim().is_empty()) {
                let (param, value) = line.split_once('=').expect("name = value");
                mx.set_main_cf(param.trim(), value.trim());
            }
            mx.start();
            Some(mx)
        };
        Some(Pair {
            ours: make("ours", &ours_daemons)?,
            theirs: make("theirs", &theirs_daemons)?,
        })
    }

    /// Keeps both directories, for a look after a failure.
    pub fn keep(&self) {
        self.ours.keep_for_inspection();
        self.theirs.keep_for_inspection();
    }

    /// Submits a message to both with `submit`, waits for the queue file that holds
    /// `marker`, and compares the files record for record and what cleanup logged.
    pub fn compare_queued(&self, marker: &str, submit: impl Fn(&Instance)) {
        self.compare_queued_in("incoming", marker, submit);
    }

    /// Like [`Pair::compare_queued`], for a message that goes to queue `queue`.
    pub fn compare_queued_in(&self, queue: &str, marker: &str, submit: impl Fn(&Instance)) {
        let marks = (self.ours.log().len(), self.theirs.log().len());
        submit(&self.ours);
        submit(&self.theirs);
        let (our_id, our_file) = queued_in(&self.ours, queue, marker);
        let (their_id, their_file) = queued_in(&self.theirs, queue, marker);
        let got = normalized(&our_file, &our_id);
        let expected = normalized(&their_file, &their_id);
        if got != expected {
            self.keep();
        }
        assert_eq!(got, expected, "{marker}: queue files differ");
        assert_eq!(
            check_size_record(&our_file, marker),
            check_size_record(&their_file, marker),
            "{marker}: size record flags"
        );
        self.compare_logs(marker, marks, (&our_id, &their_id));
    }

    /// Sends `stream` straight to both cleanup services with `flags`; compares the
    /// status, the reason and what cleanup logged.
    pub fn compare_raw(&self, what: &str, flags: i32, stream: &[Rec]) -> (i32, String) {
        let (status, reason, _) = self.compare_raw_ids(what, flags, stream);
        (status, reason)
    }

    /// Like [`Pair::compare_raw`], also returning the two queue IDs (ours, theirs).
    pub fn compare_raw_ids(
        &self,
        what: &str,
        flags: i32,
        stream: &[Rec],
    ) -> (i32, String, (String, String)) {
        let marks = (self.ours.log().len(), self.theirs.log().len());
        let (our_id, our_status, our_reason) = raw_cleanup(&self.ours, flags, stream, false);
        let (their_id, their_status, their_reason) =
            raw_cleanup(&self.theirs, flags, stream, false);
        if (our_status, &our_reason) != (their_status, &their_reason) {
            self.keep();
        }
        assert_eq!(
            (our_status, &our_reason),
            (their_status, &their_reason),
            "{what}: status and reason"
        );
        self.compare_logs(what, marks, (&our_id, &their_id));
        (our_status, our_reason, (our_id, their_id))
    }

    /// Submits a message that is not queued (rejected or discarded) to both with
    /// `submit`, which says what the client saw; compares that and what cleanup logged,
    /// and returns what the client saw.
    pub fn compare_unqueued(&self, what: &str, submit: impl Fn(&Instance) -> String) -> String {
        let marks = (self.ours.log().len(), self.theirs.log().len());
        let got = submit(&self.ours);
        let expected = submit(&self.theirs);
        if got != expected {
            self.keep();
        }
        assert_eq!(got, expected, "{what}: what the client saw");
        let id = |mx: &Instance, mark: usize| {
            let mut found = None;
            wait_until(5, || {
                found = first_queue_id_since(mx, mark);
                found.is_some()
            });
            found.unwrap_or_default()
        };
        let ids = (id(&self.ours, marks.0), id(&self.theirs, marks.1));
        self.compare_logs(what, marks, (&ids.0, &ids.1));
        got
    }

    /// Compares what the two cleanups logged after `marks`, once both logs settled.
    pub fn compare_logs(&self, what: &str, marks: (usize, usize), ids: (&str, &str)) {
        let ours = || cleanup_log_since(&self.ours, marks.0, ids.0);
        let theirs = || cleanup_log_since(&self.theirs, marks.1, ids.1);
        // The log is written by postlogd, a little after the fact: wait for the queue ID
        // to show up on both sides, then for the two to agree.
        let logged = |lines: Vec<String>| lines.iter().any(|l| l.contains("QUEUEID"));
        wait_until(3, || logged(ours()) && logged(theirs()));
        wait_until(5, || ours() == theirs());
        if ours() != theirs() {
            self.keep();
        }
        assert_eq!(ours(), theirs(), "{what}: cleanup's log lines");
    }
}
