//! The bounce program as a client sees it: one request on standard input (`bounce -S`,
//! as `postconf -b` runs it), with a queue file and a per-message log in a private queue
//! directory and a stand-in cleanup service on `public/cleanup` that keeps what it is
//! sent. For each case the reply, the log lines (`-V`), every notice posted (cleanup
//! flags, envelope and content records) and the queue and log files afterwards must be
//! what Postfix 3.7's bounce daemon gave for the same case: `golden/requests/<case>.ref`,
//! recorded with `BOUNCE_RECORD=1 cargo test -p bounce --test requests` (which runs
//! Debian's `/usr/lib/postfix/sbin/bounce` instead of ours and writes the files).
//!
//! The cases cover what the end-to-end tests cannot reach through a queue manager:
//! VERP and one-recipient notices, recipients marked done (DELRCPT), NOTIFY filters,
//! RET=HDRS and ENVID, bounce_size_limit, threaded notices, SMTPUTF8 reports (a trace
//! and non-delivery notices: message/global-delivery-status, message/global and, with
//! RET=HDRS, message/global-headers), old-style log entries, a missing log and a
//! missing original, a double bounce and APPEND.

use global::record::{rec_get, rec_put, rec_type};
use ipc::{Attrs, Flavor};
use std::io::{BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// Postfix's bounce daemon, which the golden files were recorded from.
const POSTFIX_BOUNCE: &str = "/usr/lib/postfix/sbin/bounce";
/// The queue ID of the original message in every case.
const ID: &str = "4ABCDEF012";
/// The queue ID the stand-in cleanup gives each notice.
const NEW_ID: &str = "5NEWNOTICE";
/// The original's arrival time.
const ARRIVAL: i64 = 1_700_000_000;

/// One case.
struct Case {
    name: &'static str,
    /// main.cf lines beyond the common ones.
    main_cf: &'static str,
    /// The service the request goes to: bounce, defer or trace.
    service: &'static str,
    /// The original's sender; None: no original queue file.
    sender: Option<&'static str>,
    /// Extra headers of the original.
    headers: &'static str,
    /// The per-message log, if any, in the service's directory.
    log: Option<&'static str>,
    /// The request.
    request: Vec<(&'static str, String)>,
}

const LOG_TWO: &str = "\n<far@relay.example>: host mx.relay.example[192.0.2.1] said: 550 5.1.1 <far@relay.example>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)\nrecipient=far@relay.example\noffset=@R1@\nstatus=5.1.1\naction=failed\ndiag_type=smtp\ndiag_text=550 5.1.1 <far@relay.example>: Recipient address rejected: User unknown in virtual mailbox table\nmta_type=dns\nmta_mname=mx.relay.example\nreason=host mx.relay.example[192.0.2.1] said: 550 5.1.1 <far@relay.example>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)\n\n\n<quiet@relay.example>: no such user\nrecipient=quiet@relay.example\noriginal_recipient=alias@e2e.test\noffset=@R2@\ndsn_orig_rcpt=rfc822;alias@e2e.test\nnotify_flags=8\nstatus=5.0.0\naction=failed\nreason=no such user\n\n";

fn flush(command: i32, sender: &str) -> Vec<(&'static str, String)> {
    vec![
        ("nrequest", command.to_string()),
        ("flags", "0".into()),
        ("queue_name", "active".into()),
        ("queue_id", ID.into()),
        ("encoding", "7bit".into()),
        ("smtputf8", "0".into()),
        ("sender", sender.into()),
        ("envelope_id", "".into()),
        ("ret_flags", "0".into()),
    ]
}

fn set(
    mut request: Vec<(&'static str, String)>,
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    match request.iter_mut().find(|(n, _)| *n == name) {
        Some(pair) => pair.1 = value.to_string(),
        None => request.push((name, value.to_string())),
    }
    request
}

fn rcpt_dsn(
    request: &mut Vec<(&'static str, String)>,
    orig: &str,
    rcpt: &str,
    offset: &str,
    notify: &str,
) {
    for (name, value) in [
        ("original_recipient", orig),
        ("recipient", rcpt),
        ("offset", offset),
        ("dsn_orig_rcpt", ""),
        ("notify_flags", notify),
        ("status", "5.1.1"),
        ("diag_type", "smtp"),
        ("diag_text", "550 5.1.1 no mailbox here"),
        ("mta_type", "dns"),
        ("mta_mname", "mx.relay.example"),
        ("action", "failed"),
        (
            "reason",
            "host mx.relay.example said: 550 5.1.1 no mailbox here",
        ),
    ] {
        request.push((name, value.to_string()));
    }
}

fn cases() -> Vec<Case> {
    let base = Case {
        name: "",
        main_cf: "",
        service: "bounce",
        sender: Some("sender@e2e.test"),
        headers: "",
        log: Some(LOG_TWO),
        request: flush(1, "sender@e2e.test"),
    };
    let mut one = flush(4, "sender@e2e.test");
    rcpt_dsn(&mut one, "Orig@e2e.test", "far@relay.example", "@R1@", "0");
    let mut append = vec![
        ("nrequest", "0".to_string()),
        ("flags", "1".into()),
        ("queue_id", ID.into()),
    ];
    rcpt_dsn(
        &mut append,
        "Far@Relay.Example",
        "far@relay.example",
        "@R1@",
        "12",
    );
    let mut append_new = append.clone();
    append_new[0].1 = "0".into();
    vec![
        Case {
            name: "flush",
            headers: "Message-Id: <orig@e2e.test>\n",
            ..base_clone(&base)
        },
        Case {
            name: "flush-threaded-notify-envid-hdrs",
            main_cf: "enable_threaded_bounces = yes\nnotify_classes = bounce\nbounce_notice_recipient = pm@e2e.test\n",
            headers: "Message-Id: <orig@e2e.test>\n",
            request: set(
                set(flush(1, "sender@e2e.test"), "ret_flags", "2"),
                "envelope_id",
                "ENV-1",
            ),
            ..base_clone(&base)
        },
        Case {
            name: "flush-size-limit-delrcpt",
            main_cf: "bounce_size_limit = 100\n",
            request: set(flush(1, "sender@e2e.test"), "flags", "2"),
            ..base_clone(&base)
        },
        Case {
            name: "flush-single-bounce-2bounce",
            main_cf: "notify_classes = 2bounce\n2bounce_notice_recipient = pm@e2e.test\n",
            sender: Some(""),
            request: flush(1, ""),
            ..base_clone(&base)
        },
        Case {
            name: "flush-double-bounce",
            sender: Some("double-bounce@mail.e2e.test"),
            request: flush(1, "double-bounce@mail.e2e.test"),
            ..base_clone(&base)
        },
        Case {
            name: "flush-no-log",
            log: None,
            ..base_clone(&base)
        },
        Case {
            name: "flush-no-original",
            sender: None,
            ..base_clone(&base)
        },
        Case {
            name: "flush-old-style-log",
            log: Some("\n<a@relay.example>: it failed\n\n\n<>: from nobody\n\n"),
            main_cf: "smtputf8_enable = no\n",
            ..base_clone(&base)
        },
        Case {
            name: "warn",
            service: "defer",
            main_cf: "delay_warning_time = 4h\nnotify_classes = delay\ndelay_notice_recipient = pm@e2e.test\n",
            log: Some(
                "\nrecipient=far@relay.example\noffset=@R1@\nstatus=4.4.1\naction=delayed\nreason=connect to mx.relay.example[192.0.2.1]:25: Connection refused\n\n",
            ),
            request: flush(2, "sender@e2e.test"),
            ..base_clone(&base)
        },
        Case {
            name: "trace-smtputf8",
            service: "trace",
            sender: Some("s\u{e9}nder@e2e.test"),
            log: Some(
                "\nrecipient=us\u{e9}r@e2e.test\noffset=@R1@\nstatus=2.0.0\naction=deliverable\nreason=delivers to mailbox\n\n",
            ),
            request: set(
                set(
                    set(flush(5, "s\u{e9}nder@e2e.test"), "flags", "512"),
                    "smtputf8",
                    "1",
                ),
                "encoding",
                "8bit",
            ),
            ..base_clone(&base)
        },
        Case {
            name: "flush-smtputf8",
            sender: Some("s\u{e9}nder@e2e.test"),
            headers: "Message-Id: <orig@e2e.test>\nSubject: caf\u{e9}\n",
            log: Some(
                "\n<us\u{e9}r@e2e.test>: refused by the error transport\nrecipient=us\u{e9}r@e2e.test\noriginal_recipient=Us\u{e9}r@e2e.test\noffset=@R1@\ndsn_orig_rcpt=utf-8;Us\u{e9}r@e2e.test\nstatus=5.0.0\naction=failed\nreason=refused by the error transport\n\n",
            ),
            request: set(
                set(flush(1, "s\u{e9}nder@e2e.test"), "smtputf8", "1"),
                "encoding",
                "8bit",
            ),
            ..base_clone(&base)
        },
        Case {
            name: "flush-smtputf8-hdrs",
            sender: Some("s\u{e9}nder@e2e.test"),
            headers: "Message-Id: <orig@e2e.test>\nSubject: caf\u{e9}\n",
            log: Some(
                "\n<us\u{e9}r@e2e.test>: refused by the error transport\nrecipient=us\u{e9}r@e2e.test\noriginal_recipient=Us\u{e9}r@e2e.test\noffset=@R1@\ndsn_orig_rcpt=utf-8;Us\u{e9}r@e2e.test\nstatus=5.0.0\naction=failed\nreason=refused by the error transport\n\n",
            ),
            request: set(
                set(
                    set(flush(1, "s\u{e9}nder@e2e.test"), "smtputf8", "1"),
                    "ret_flags",
                    "2",
                ),
                "encoding",
                "8bit",
            ),
            ..base_clone(&base)
        },
        Case {
            name: "trace-success",
            service: "trace",
            log: Some(
                "\nrecipient=far@relay.example\noffset=@R1@\nnotify_flags=2\nstatus=2.0.0\naction=relayed\nreason=delivery via mx.relay.example[192.0.2.1]:25: 250 2.0.0 Ok\n\n",
            ),
            request: flush(5, "sender@e2e.test"),
            ..base_clone(&base)
        },
        Case {
            name: "verp",
            main_cf: "notify_classes = bounce\n",
            request: set(flush(3, "list@lists.e2e.test"), "verp_delimiters", "+="),
            sender: Some("list@lists.e2e.test"),
            ..base_clone(&base)
        },
        Case {
            name: "one",
            log: None,
            request: one,
            ..base_clone(&base)
        },
        Case {
            name: "append",
            log: None,
            request: append,
            ..base_clone(&base)
        },
        Case {
            name: "append-no-oldlog",
            main_cf: "backwards_bounce_logfile_compatibility = no\n",
            log: Some(LOG_TWO),
            service: "defer",
            request: append_new,
            ..base_clone(&base)
        },
        Case {
            name: "malformed",
            request: vec![("nrequest", "1".into()), ("flags", "0".into())],
            ..base_clone(&base)
        },
    ]
}

fn base_clone(base: &Case) -> Case {
    Case {
        name: base.name,
        main_cf: base.main_cf,
        service: base.service,
        sender: base.sender,
        headers: base.headers,
        log: base.log,
        request: base.request.clone(),
    }
}

/// The original queue file (envelope, headers, a body of 30 lines and a long line) and
/// the offsets of its two recipient records, which the logs and requests name as @R1@
/// and @R2@.
fn queue_file(sender: &str, headers: &str) -> (Vec<u8>, usize, usize) {
    let mut envelope = Vec::new();
    let record =
        |out: &mut Vec<u8>, kind: u8, data: &str| rec_put(out, kind, data.as_bytes()).unwrap();
    record(&mut envelope, rec_type::TIME, &format!("{ARRIVAL} 123456"));
    record(&mut envelope, rec_type::ATTR, "create_time=1700000000");
    record(&mut envelope, rec_type::FROM, sender);
    // Padding so that the recipients sit at fixed offsets.
    while envelope.len() < 200 {
        record(&mut envelope, rec_type::DTXT, "");
    }
    let mut rcpts = Vec::new();
    record(&mut rcpts, rec_type::ORCP, "orig@e2e.test");
    let r1 = rcpts.len();
    record(&mut rcpts, rec_type::RCPT, "far@relay.example");
    let r2 = rcpts.len();
    record(&mut rcpts, rec_type::RCPT, "quiet@relay.example");
    let mut content = Vec::new();
    let text = format!(
        "Received: by mail.e2e.test (Postfix, from userid 0)\n\tid {ID}; Tue, 14 Nov 2023 22:13:20 +0000 (UTC)\nFrom: sender@e2e.test\nTo: far@relay.example\nSubject: a test\n{headers}\nthe body\n"
    );
    for line in text.lines() {
        record(&mut content, rec_type::NORM, line);
    }
    for n in 0..30 {
        record(&mut content, rec_type::NORM, &format!("body line {n}"));
    }
    // A long line in two records.
    rec_put(&mut content, rec_type::CONT, "x".repeat(60).as_bytes()).unwrap();
    record(&mut content, rec_type::NORM, "y");
    // Layout: size record, envelope, recipients, M, content, X, E; the size record's
    // fields have a fixed width, so its length is known before its values.
    let size_text = |data_offset: usize| {
        format!(
            "{:>15} {:>15} {:>15} {:>15} {:>15} {:>15}",
            content.len(),
            data_offset,
            2,
            0,
            content.len(),
            0
        )
    };
    let mut probe = Vec::new();
    record(&mut probe, rec_type::SIZE, &size_text(0));
    let head_len = probe.len() + envelope.len();
    let mesg_at = head_len + rcpts.len();
    let data_offset = mesg_at + 2;
    let mut file = Vec::new();
    let size = size_text(data_offset);
    record(&mut file, rec_type::SIZE, &size);
    file.extend_from_slice(&envelope);
    file.extend_from_slice(&rcpts);
    record(&mut file, rec_type::MESG, "");
    file.extend_from_slice(&content);
    record(&mut file, rec_type::XTRA, "");
    record(&mut file, rec_type::END, "");
    (file, head_len + r1, head_len + r2)
}

/// What the stand-in cleanup was sent: per notice, its flags and records as text.
type Posted = Arc<Mutex<Vec<String>>>;

fn fake_cleanup(listener: UnixListener, posted: Posted) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { return };
        let mut text = String::new();
        let mut writer = &stream;
        let hello = Attrs::new()
            .str("protocol", "cleanup_protocol")
            .str("queue_id", NEW_ID);
        if ipc::attr::write(&mut writer, Flavor::Null, &hello)
            .and_then(|()| writer.flush())
            .is_err()
        {
            continue;
        }
        let mut reader = BufReader::new(&stream);
        if let Ok(Some(flags)) = ipc::attr::read(&mut reader, Flavor::Null) {
            text.push_str(&format!("flags={}\n", flags.get_int("flags").unwrap_or(-1)));
        }
        let mut buf = Vec::new();
        let mut ended = false;
        while let Ok(kind) = rec_get(&mut reader, &mut buf, 0) {
            text.push_str(&format!(
                "{} {}\n",
                kind as char,
                String::from_utf8_lossy(&buf)
            ));
            if kind == rec_type::END {
                ended = true;
                break;
            }
        }
        if ended {
            let reply = Attrs::new().int("status", 0).str("reason", "");
            let _ =
                ipc::attr::write(&mut writer, Flavor::Null, &reply).and_then(|()| writer.flush());
        } else {
            text.push_str("(abandoned)\n");
        }
        posted.lock().unwrap().push(text);
    }
}

/// Runs `program` on `case` in a fresh queue directory; the transcript.
fn run(program: &Path, case: &Case) -> String {
    let dir = std::env::temp_dir().join(format!(
        "bounce-requests-{}-{}",
        case.name,
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let queue = dir.join("queue");
    for sub in [
        "etc",
        "queue/active",
        "queue/bounce",
        "queue/defer",
        "queue/trace",
        "queue/public",
    ] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::write(
        dir.join("etc/main.cf"),
        format!(
            "compatibility_level = 3.6\nqueue_directory = {}\nmail_owner = postfix\nmyhostname = mail.e2e.test\nmydomain = e2e.test\nhash_queue_names = deferred\n{}",
            queue.display(),
            case.main_cf
        ),
    )
    .unwrap();
    let (file, r1, r2) = queue_file(case.sender.unwrap_or(""), case.headers);
    let offsets = |text: &str| {
        text.replace("@R1@", &r1.to_string())
            .replace("@R2@", &r2.to_string())
    };
    if case.sender.is_some() {
        std::fs::write(queue.join("active").join(ID), file).unwrap();
    }
    if let Some(log) = case.log {
        std::fs::write(queue.join(case.service).join(ID), offsets(log)).unwrap();
    }
    let listener = UnixListener::bind(queue.join("public/cleanup")).unwrap();
    let posted: Posted = Arc::default();
    let catcher = {
        let posted = posted.clone();
        std::thread::spawn(move || fake_cleanup(listener, posted))
    };
    let status = Command::new("chown")
        .args(["-R", "postfix"])
        .arg(&queue)
        .status()
        .unwrap();
    assert!(status.success());
    let _ = Command::new("chmod")
        .arg("0777")
        .arg(queue.join("public/cleanup"))
        .status();
    let mut request = Attrs::new();
    for (name, value) in &case.request {
        request = request.str(name, &offsets(value));
    }
    let mut input = Vec::new();
    ipc::attr::write(&mut input, Flavor::Null, &request).unwrap();
    let mut child = Command::new(program)
        .args(["-S", "-V", "-n", case.service])
        .env_clear()
        .env("MAIL_CONFIG", dir.join("etc"))
        .env("TZ", "UTC")
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    // The catcher ends with the process: connect once more to let it see the end.
    drop(std::os::unix::net::UnixStream::connect(
        queue.join("public/cleanup"),
    ));
    std::thread::sleep(std::time::Duration::from_millis(50));
    let mut transcript = String::new();
    // The protocol announcement and the status, as the client reads them.
    transcript.push_str(&format!(
        "== reply\n{:?}\n== log\n",
        String::from_utf8_lossy(&out.stdout)
    ));
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        transcript.push_str(line.split_once(": ").map_or(line, |(_, rest)| rest));
        transcript.push('\n');
    }
    for notice in posted.lock().unwrap().iter() {
        if notice.starts_with("flags=") {
            transcript.push_str("== notice\n");
            transcript.push_str(notice);
        }
    }
    transcript.push_str("== files\n");
    for sub in ["bounce", "defer", "trace"] {
        if let Ok(text) = std::fs::read_to_string(queue.join(sub).join(ID)) {
            transcript.push_str(&format!("-- {sub}/{ID}\n{text}"));
        }
    }
    if let Ok(file) = std::fs::read(queue.join("active").join(ID)) {
        let mut kinds = String::new();
        let mut input = &file[..];
        let mut buf = Vec::new();
        while let Ok(kind) = rec_get(&mut input, &mut buf, 0) {
            kinds.push(kind as char);
        }
        transcript.push_str(&format!("-- active/{ID} records\n{kinds}\n"));
    }
    drop(catcher);
    let _ = std::fs::remove_dir_all(&dir);
    normalise(&transcript)
}

/// The time of the notice (T record, Received: and Date: headers, MIME boundary)
/// replaced: it is the time the notice was made.
fn normalise(text: &str) -> String {
    text.lines()
        .map(|line| {
            if line.starts_with("T ") {
                return "T TIME".to_string();
            }
            for prefix in ["N Date: ", &format!("N \tid {NEW_ID}; ")] {
                if line.starts_with(prefix) {
                    return format!("{prefix}DATE");
                }
            }
            match line.find(&format!("{ID}.")) {
                Some(at) => {
                    let tail = &line[at + ID.len() + 1..];
                    let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
                    format!("{}{ID}.TIME{}", &line[..at], &tail[digits..])
                }
                None => line.to_string(),
            }
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("golden/requests")
        .join(format!("{name}.ref"))
}

#[test]
fn requests_are_served_as_by_postfixs_bounce() {
    // The queue directory belongs to the mail owner, as the daemon drops to it.
    if !testkit::require_root() {
        return;
    }
    let record = std::env::var_os("BOUNCE_RECORD").is_some();
    let program = if record {
        if !testkit::require_postfix_program(POSTFIX_BOUNCE) {
            return;
        }
        PathBuf::from(POSTFIX_BOUNCE)
    } else {
        PathBuf::from(env!("CARGO_BIN_EXE_bounce"))
    };
    let mut failed = Vec::new();
    for case in cases() {
        let got = run(&program, &case);
        let path = golden(case.name);
        if record {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if got != want {
            failed.push(format!("--- {}: want\n{want}--- got\n{got}", case.name));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
