//! cleanup: the same messages, submitted with Postfix's sendmail (through postdrop and
//! pickup) and over SMTP to Postfix's smtpd, go through Postfix's cleanup in one instance
//! and through ironpost's in the other; with no queue manager to take them, the queue
//! files in incoming/ are compared record for record (queue IDs, times and client ports
//! aside). Postfix's postcat reads ironpost's files, and once the queue manager runs the
//! messages are delivered. Also: ironpost's cleanup logs `QUEUEID: message-id=<...>` as
//! Postfix's does, and a client that sends records out of order gets Postfix's status and
//! warning.

use e2e::{IRONPOST_DAEMONS, Instance, wait_until};
use std::process::Command;

/// One record of a queue file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    kind: u8,
    data: Vec<u8>,
}

/// The records of a queue file (Postfix's record format: type, 7-bit length groups, data).
fn records(file: &[u8]) -> Vec<Record> {
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
fn size_fields(record: &Record) -> Vec<u64> {
    String::from_utf8_lossy(&record.data)
        .split_whitespace()
        .map(|f| f.parse().unwrap())
        .collect()
}

/// Checks that the size record says what the file holds: content length and offset,
/// recipient count. Returns the fields that do not depend on lengths (queue manager
/// flags, SMTPUTF8 flags).
fn check_size_record(file: &[u8], what: &str) -> (u64, u64) {
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
fn normalized(file: &[u8], queue_id: &str) -> Vec<String> {
    let mut out = Vec::new();
    for r in records(file) {
        let text = String::from_utf8_lossy(&r.data).replace(queue_id, "QUEUEID");
        let text = match r.kind {
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
            _ => normalize_dates(&text),
        };
        out.push(format!("{} {text}", r.kind as char));
    }
    out
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
    match text.find(".QUEUEID@") {
        Some(at) if at >= 14 && text[at - 14..at].bytes().all(|b| b.is_ascii_digit()) => {
            format!("{}STAMP{}", &text[..at - 14], &text[at..])
        }
        _ => text,
    }
}

/// The complete queue file in incoming/ whose content holds `marker`: its name and bytes.
fn queued(mx: &Instance, marker: &str) -> (String, Vec<u8>) {
    let dir = mx.dir.join("queue/incoming");
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
fn smtp(mx: &Instance, from: &str, to: &[&str], message: &str) {
    let script = "import smtplib, sys\n\
        port, sender, rcpts, msg = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(','), sys.argv[4]\n\
        s = smtplib.SMTP('127.0.0.1', port, timeout=30)\n\
        s.ehlo('client.e2e.test')\n\
        s.sendmail(sender, rcpts, msg.encode('utf-8'), mail_options=['BODY=8BITMIME'])\n\
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
    assert!(
        out.status.success(),
        "smtp: {}\nlog:\n{}",
        String::from_utf8_lossy(&out.stderr),
        mx.log()
    );
}

fn sendmail(mx: &Instance, args: &[&str], message: &str) {
    let out = mx.sendmail(args, message);
    assert!(
        out.status.success(),
        "sendmail: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The messages: (marker, how to submit it).
fn submit_all(mx: &Instance) {
    sendmail(
        mx,
        &["-f", "root", "-F", "Joe Q. Public", "user@vmail.e2e.test"],
        "Subject: t20-local\nTo: user, other@example.org\nReturn-Path: <bogus@example.org>\nBcc: hidden\n\nbody t20-local\n.dot\n",
    );
    sendmail(
        mx,
        &["-t", "-f", "root"],
        "From: root\nTo: user@vmail.e2e.test\nCc: USER@vmail.e2e.test, user@vmail.e2e.test\nSubject: t20-extract\nContent-Transfer-Encoding: 8bit\n\nt20-extract \u{e9}t\u{e9}\n",
    );
    let long = "x".repeat(5000);
    sendmail(
        mx,
        &["-f", "", "user@vmail.e2e.test"],
        &format!(
            "Subject: t20-long\nMessage-Id: <given@e2e.test>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\n{long}\nt20-long\n"
        ),
    );
    smtp(
        mx,
        "sender@example.org",
        &["user@vmail.e2e.test", "USER@vmail.e2e.test"],
        "From: Sender <sender@example.org>\r\nTo: user@vmail.e2e.test\r\nSubject: t20-smtp\r\n\r\nt20-smtp body\r\n",
    );
    smtp(
        mx,
        "",
        &["user@vmail.e2e.test"],
        "Subject: t20-smtp-bare\r\nReceived: from elsewhere by relay.example; Mon, 1 Jan 2024 00:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nt20-smtp-bare caf\u{e9}\r\n",
    );
}

const MARKERS: [&str; 5] = [
    "t20-local",
    "t20-extract",
    "t20-long",
    "t20-smtp body",
    "t20-smtp-bare",
];

/// An instance without a queue manager: queue files stay in incoming/.
fn without_qmgr(name: &str, daemons: &[&str]) -> Option<Instance> {
    let mut mx = Instance::with_daemons(name, daemons)?;
    mx.replace_master_cf_line(|l| l.starts_with("qmgr "), "#qmgr");
    mx.start();
    Some(mx)
}

#[test]
fn queue_files_equal_postfix_s_and_mail_is_delivered() {
    let mut ours_daemons = IRONPOST_DAEMONS.to_vec();
    ours_daemons.push("cleanup");
    let Some(ours) = without_qmgr("t-20-ours", &ours_daemons) else {
        return;
    };
    let Some(theirs) = without_qmgr("t-20-theirs", &IRONPOST_DAEMONS) else {
        return;
    };
    submit_all(&ours);
    submit_all(&theirs);
    for marker in MARKERS {
        let (our_id, our_file) = queued(&ours, marker);
        let (their_id, their_file) = queued(&theirs, marker);
        let got = normalized(&our_file, &our_id);
        let expected = normalized(&their_file, &their_id);
        if got != expected {
            ours.keep_for_inspection();
            theirs.keep_for_inspection();
        }
        assert_eq!(got, expected, "{marker}: queue files differ");
        let our_flags = check_size_record(&our_file, marker);
        assert_eq!(
            our_flags,
            check_size_record(&their_file, marker),
            "{marker}"
        );
        // The log line tools read.
        let log = ours.log();
        assert!(
            log.lines()
                .any(|l| l.contains("/cleanup[") && l.contains(&format!("{our_id}: message-id=<"))),
            "{marker}: no message-id line for {our_id}:\n{log}"
        );
        // Postfix's own tools read ironpost's queue files.
        let postcat = Command::new("/usr/sbin/postcat")
            .arg("-c")
            .arg(ours.etc())
            .arg("-q")
            .arg(&our_id)
            .output()
            .unwrap();
        assert!(
            postcat.status.success(),
            "postcat: {}",
            String::from_utf8_lossy(&postcat.stderr)
        );
        assert!(String::from_utf8_lossy(&postcat.stdout).contains("*** MESSAGE FILE END"));
    }
    // Now with a queue manager: everything is delivered.
    ours.replace_master_cf_line(
        |l| l.starts_with("#qmgr"),
        "qmgr      unix  n       -       n       300     1       qmgr",
    );
    ours.postfix(&["reload"]);
    for marker in MARKERS {
        let ok = wait_until(30, || ours.mailbox().iter().any(|m| m.contains(marker)));
        if !ok {
            ours.keep_for_inspection();
            panic!("{marker} not delivered; log:\n{}", ours.log());
        }
    }
}

/// A record to send: type and data.
type Rec<'a> = (u8, &'a [u8]);

/// Sends one message as `records` straight to the cleanup service, as pickup and smtpd
/// do, and returns the queue ID, status and reason.
fn raw_cleanup(
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
        bytes.push(*kind);
        let mut len = data.len();
        loop {
            let mut b = (len & 0x7f) as u8;
            len >>= 7;
            if len != 0 {
                b |= 0x80;
            }
            bytes.push(b);
            if len == 0 {
                break;
            }
        }
        bytes.extend_from_slice(data);
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

#[test]
fn bad_record_streams_get_postfix_s_status_and_warnings() {
    let mut ours_daemons = IRONPOST_DAEMONS.to_vec();
    ours_daemons.push("cleanup");
    let Some(ours) = without_qmgr("t-20-bad-ours", &ours_daemons) else {
        return;
    };
    let Some(theirs) = without_qmgr("t-20-bad-theirs", &IRONPOST_DAEMONS) else {
        return;
    };
    let time: &[u8] = b"1700000000 0";
    let received: &[u8] = b"Received: by test";
    let cases: Vec<(&str, Vec<Rec>, bool)> = vec![
        (
            "recipient first",
            vec![(b'T', time), (b'R', b"user")],
            false,
        ),
        ("pointer record", vec![(b'T', time), (b'p', b"0")], false),
        ("unknown type", vec![(b'T', time), (b'Z', b"x")], false),
        (
            "bad attribute",
            vec![(b'T', time), (b'A', b"novalue")],
            false,
        ),
        (
            "two senders",
            vec![(b'T', time), (b'S', b"a"), (b'S', b"b")],
            false,
        ),
        (
            "no recipients",
            vec![
                (b'T', time),
                (b'S', b"a"),
                (b'M', b""),
                (b'N', received),
                (b'X', b""),
                (b'E', b""),
            ],
            false,
        ),
        (
            "no received header",
            vec![
                (b'T', time),
                (b'S', b"a"),
                (b'R', b"user"),
                (b'M', b""),
                (b'N', b"Subject: x"),
                (b'X', b""),
                (b'E', b""),
            ],
            false,
        ),
        (
            "ends early",
            vec![(b'T', time), (b'S', b"a"), (b'R', b"user"), (b'M', b"")],
            true,
        ),
    ];
    for (what, stream, early) in &cases {
        let (our_id, our_status, our_reason) = raw_cleanup(&ours, 114, stream, *early);
        let (their_id, their_status, their_reason) = raw_cleanup(&theirs, 114, stream, *early);
        assert_eq!(
            (our_status, &our_reason),
            (their_status, &their_reason),
            "{what}: status and reason"
        );
        assert_ne!(our_status, 0, "{what}");
        // The same warnings, queue ID aside.
        let warnings = |mx: &Instance, id: &str| -> Vec<String> {
            mx.log()
                .lines()
                .filter(|l| l.contains("/cleanup[") && l.contains(id) && l.contains("warning:"))
                .map(|l| l.split_once("warning: ").unwrap().1.replace(id, "QUEUEID"))
                .collect()
        };
        wait_until(5, || {
            warnings(&theirs, &their_id).len() == warnings(&ours, &our_id).len()
        });
        assert_eq!(
            warnings(&ours, &our_id),
            warnings(&theirs, &their_id),
            "{what}: warnings"
        );
        let silent = ["no recipients", "ends early"].contains(what);
        assert_eq!(warnings(&ours, &our_id).is_empty(), silent, "{what}");
        // Nothing is left behind.
        assert!(
            !ours.dir.join("queue/incoming").join(&our_id).exists(),
            "{what}: {our_id} left in incoming"
        );
    }
}
