//! Where ironpost's `postfix` command, master, qmgr and smtpd used to say or do other
//! than Postfix 3.7, run on both systems and compared: an inet service whose port is no
//! service name, `postfix start` with a master.cf that does not parse (bad field count,
//! unknown type, bad process limit, bad private field), inet_interfaces naming an
//! address this host lacks, address verification probes beyond
//! address_verify_pending_request_limit, and smtpd's start-up warning about
//! queue_minfree. Each scenario runs on an instance of ironpost's daemons and on one of
//! Postfix's (its own master and `postfix` command); standard error and the log lines
//! (time stamps, pids, queue IDs and the instance directory normalised) must be the same.

use e2e::{Instance, System, wait_until};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// An instance of `system`'s daemons; None when the test cannot run here.
#[track_caller]
fn instance(name: &str, system: System) -> Option<Instance> {
    match system {
        System::Ironpost => Instance::new(name),
        System::Postfix => Instance::with_daemons(&format!("{name}-postfix"), &[]),
    }
}

/// `postfix ARGS` of `system`, whatever its exit status.
fn postfix(mx: &Instance, system: System, args: &[&str]) -> Output {
    let command = match system {
        System::Ironpost => e2e::program("postfix"),
        System::Postfix => "/usr/sbin/postfix".into(),
    };
    Command::new(command)
        .arg("-c")
        .arg(mx.etc())
        .args(args)
        .env_remove("MAIL_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The log lines after the first `skip` bytes, without time stamp and host name, with
/// pids, queue IDs and the instance directory replaced. postfix-script's warnings about
/// the daemon directory's symbolic links (Postfix's own check of the mixed system's
/// daemon directory) are left out.
fn log_lines(mx: &Instance, skip: usize) -> Vec<String> {
    let dir = mx.dir.display().to_string();
    let log = mx.log();
    log[skip.min(log.len())..]
        .lines()
        .filter(|l| !l.contains("symlink leaves directory"))
        .map(|l| {
            // "Mon DD HH:MM:SS host program[pid]: text"
            let rest = l.splitn(5, ' ').nth(4).unwrap_or(l);
            normalise(&rest.replace(&dir, "DIR"))
        })
        .collect()
}

/// Replaces `[digits]` with `[PID]`, queue IDs (10 or more upper-case hex digits before a
/// colon) with `QID`, and the delays of a delivery line with `D`.
fn normalise(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        let (head, tail) = rest.split_at(open);
        out.push_str(head);
        match tail[1..].find(']') {
            Some(close) if close > 0 && tail[1..=close].bytes().all(|b| b.is_ascii_digit()) => {
                out.push_str("[PID]");
                rest = &tail[close + 2..];
            }
            _ => {
                out.push('[');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    let words: Vec<String> = out
        .split(' ')
        .map(|w| match w.strip_suffix(':') {
            Some(id) if id.len() >= 10 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
                "QID:".to_string()
            }
            _ if w.starts_with("delay=") => "delay=D,".to_string(),
            _ if w.starts_with("delays=") => "delays=D,".to_string(),
            _ => w.to_string(),
        })
        .collect();
    words.join(" ")
}

/// Replaces the SMTP service's master.cf line with `line` (after @...@ expansion).
fn replace_smtpd_line(mx: &Instance, line: &str) {
    mx.replace_master_cf_line(|l| l.contains(" inet ") && l.ends_with("smtpd"), line);
}

/// Runs `scenario` on both systems and checks that it gives the same answer.
fn same_on_both<T: PartialEq + std::fmt::Debug>(
    name: &str,
    scenario: impl Fn(&Instance, System) -> T,
) {
    let Some(ours) = instance(name, System::Ironpost) else {
        return;
    };
    let Some(theirs) = instance(name, System::Postfix) else {
        return;
    };
    let postfix = scenario(&theirs, System::Postfix);
    let ironpost = scenario(&ours, System::Ironpost);
    if ironpost != postfix {
        ours.keep_for_inspection();
        theirs.keep_for_inspection();
        panic!("ironpost:\n{ironpost:#?}\nPostfix 3.7:\n{postfix:#?}");
    }
}

/// `postfix start` that fails: its exit status, standard error and new log lines; a
/// master that came up after all is stopped first. `last` is the last log line the
/// failure writes, if it writes any: a dying master's lines reach the log through
/// postlogd or the file system after `postfix start` has returned, so they are waited
/// for (on a loaded machine that can take seconds) before the lines are read.
fn failed_start(
    mx: &Instance,
    system: System,
    last: Option<&str>,
) -> (Option<i32>, String, Vec<String>) {
    let before = mx.log().len();
    let out = postfix(mx, system, &["start"]);
    if out.status.success() {
        let _ = postfix(mx, system, &["stop"]);
        mx.keep_for_inspection();
        panic!("postfix start succeeded:\n{}", mx.log());
    }
    match last {
        Some(line) => assert!(
            wait_until(30, || log_lines(mx, before).iter().any(|l| l == line)),
            "{system:?}: no log line {line:?} after a failed start:\n{}",
            mx.log()
        ),
        // Nothing to wait for: a line that came late would only make the comparison
        // fail, never pass wrongly; a moment lets the usual ones arrive.
        None => std::thread::sleep(Duration::from_millis(300)),
    }
    let dir = mx.dir.display().to_string();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).replace(&dir, "DIR"),
        log_lines(mx, before),
    )
}

#[test]
fn an_inet_port_that_is_no_service_name() {
    same_on_both("t-64-port", |mx, system| {
        replace_smtpd_line(mx, "127.0.0.1:smtpp inet n - n - - smtpd");
        let fatal =
            "postfix/master[PID]: fatal: 127.0.0.1:smtpp: Servname not supported for ai_socktype";
        let got = failed_start(mx, system, Some(fatal));
        assert!(got.2.contains(&fatal.to_string()), "{got:#?}");
        got
    });
}

#[test]
fn a_master_cf_that_does_not_parse() {
    let broken = [
        "127.0.0.1:@SMTP_PORT@ inet n - n - smtpd",
        "127.0.0.1:@SMTP_PORT@ inetx n - n - - smtpd",
        "127.0.0.1:@SMTP_PORT@ inet n - n - x smtpd",
        "127.0.0.1:@SMTP_PORT@ inet x - n - - smtpd",
        "127.0.0.1:@SMTP_PORT@ inet n - n - -",
    ];
    same_on_both("t-64-master-cf", |mx, system| {
        let stock = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
        let port = mx.smtp_port.to_string();
        let mut answers = Vec::new();
        for line in broken {
            replace_smtpd_line(mx, line);
            let fatal = "postfix/postfix-script[PID]: fatal: cannot execute /usr/sbin/postconf!";
            let (code, stderr, log) = failed_start(mx, system, Some(fatal));
            // postconf's words on standard error, postfix-script's in the log.
            assert!(
                stderr.starts_with("/usr/sbin/postconf: fatal: "),
                "{stderr}"
            );
            assert_eq!(log, [fatal]);
            answers.push((code, stderr.replace(&port, "PORT"), log));
            // Every command stops there, not only start.
            let status = postfix(mx, system, &["status"]);
            answers.push((
                status.status.code(),
                String::from_utf8_lossy(&status.stderr)
                    .replace(&mx.dir.display().to_string(), "DIR")
                    .replace(&port, "PORT"),
                Vec::new(),
            ));
            mx.write("etc/master.cf", &stock);
        }
        answers
    });
}

#[test]
fn an_inet_interfaces_address_this_host_lacks() {
    same_on_both("t-64-interfaces", |mx, system| {
        mx.set_main_cf("inet_interfaces", "127.0.0.1, 198.51.100.7");
        // Said on a terminal only: not on a pipe, not in the log.
        let got = failed_start(mx, system, None);
        assert_eq!(got, (Some(1), String::new(), Vec::new()));
        got
    });
}

/// A server on `port` that accepts connections and never answers: a probe delivered
/// there stays in the active queue.
fn silent_server(port: u16) -> TcpListener {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("the relay port");
    let clone = listener.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in clone.incoming().flatten() {
            held.push(stream);
        }
    });
    listener
}

/// One SMTP session with RCPT TO for each of `rcpts`; the server's replies to them.
/// `after(i)` runs once the reply to the `i`th RCPT is in, before the next one is sent.
fn rcpt_replies(port: u16, rcpts: &[&str], mut after: impl FnMut(usize)) -> Vec<String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut reply = || {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            text.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return text;
            }
        }
    };
    reply();
    let mut send = |cmd: &str| writer.write_all(format!("{cmd}\r\n").as_bytes()).unwrap();
    send("EHLO client.example");
    reply();
    send("MAIL FROM:<a@example.org>");
    reply();
    let mut out = Vec::new();
    for (i, rcpt) in rcpts.iter().enumerate() {
        send(&format!("RCPT TO:<{rcpt}>"));
        out.push(reply().trim_end().to_string());
        after(i);
    }
    send("QUIT");
    reply();
    out
}

#[test]
fn probes_beyond_address_verify_pending_request_limit_are_deferred() {
    same_on_both("t-64-probes", |mx, system| {
        mx.add_main_cf(
            "smtpd_recipient_restrictions = reject_unverified_recipient\n\
             address_verify_pending_request_limit = 1\n\
             address_verify_poll_count = 12\n\
             address_verify_poll_delay = 1s\n",
        );
        let _relay = silent_server(mx.sink_port);
        match system {
            System::Ironpost => mx.postfix(&["start"]),
            System::Postfix => mx.postfix_of(System::Postfix, &["start"]),
        };
        mx.wait_log("daemon started -- version", 20);
        let before = mx.log().len();
        let replies = rcpt_replies(
            mx.smtp_port,
            &[
                "one@relay.e2e.test",
                "two@relay.e2e.test",
                "three@relay.e2e.test",
            ],
            |i| {
                // qmgr defers a probe when the limit's worth of probes is in the active
                // queue as it reads the probe: the first one must be there (its "queue
                // active" line written as qmgr reads it) before the second is asked for,
                // or qmgr may read both in one scan and defer either.
                // smtpd polls for the deferred probe's answer for 11 s (12 polls a
                // second apart, not the default 3 in 6 s): time for a slow machine's qmgr.
                if i == 0 {
                    assert!(
                        wait_until(60, || log_lines(mx, before)
                            .iter()
                            .any(|l| l.starts_with("postfix/qmgr[PID]: ")
                                && l.contains("from=<double-bounce")
                                && l.ends_with("(queue active)"))),
                        "{system:?}: the first probe never reached the active queue:\n{}",
                        mx.log()
                    );
                }
            },
        );
        assert!(
            replies[1].ends_with("unverified address: Too many address verification requests"),
            "{replies:#?}\n{}",
            mx.log()
        );
        assert!(wait_until(10, || mx.log().contains(" disconnect from ")));
        let lines: Vec<String> = log_lines(mx, before)
            .into_iter()
            .filter(|l| l.contains("Too many address verification requests"))
            .collect();
        let _ = postfix(mx, system, &["stop"]);
        (replies, lines)
    });
}

#[test]
fn smtpd_warns_when_queue_minfree_is_below_one_and_a_half_messages() {
    same_on_both("t-64-minfree", |mx, system| {
        mx.add_main_cf("queue_minfree = 10240000\nmessage_size_limit = 10240000\n");
        match system {
            System::Ironpost => mx.postfix(&["start"]),
            System::Postfix => mx.postfix_of(System::Postfix, &["start"]),
        };
        mx.wait_log("daemon started -- version", 20);
        let _ = rcpt_replies(mx.smtp_port, &[], |_| {});
        let needle = "should be at least 1.5*message_size_limit";
        let seen = wait_until(10, || mx.log().contains(needle));
        let lines: Vec<String> = log_lines(mx, 0)
            .into_iter()
            .filter(|l| l.contains(needle))
            .collect();
        let _ = postfix(mx, system, &["stop"]);
        assert!(seen, "{}", mx.log());
        lines
    });
}

/// The queue files under `queue/NAME`.
fn queue_files(mx: &Instance, name: &str) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&mx.dir.join("queue").join(name), &mut out);
    out
}

#[test]
fn an_original_recipient_record_after_the_last_recipient() {
    same_on_both("t-64-orcp", |mx, system| {
        let start = || {
            let before = mx.log().matches("daemon started -- version").count();
            match system {
                System::Ironpost => mx.postfix(&["start"]),
                System::Postfix => mx.postfix_of(System::Postfix, &["start"]),
            };
            let started = wait_until(20, || {
                mx.log().matches("daemon started -- version").count() > before
            });
            assert!(started, "{}", mx.log());
        };
        // Mail for the relay, which does not answer: it waits in the deferred queue.
        start();
        mx.send(
            mx.smtp_port,
            "a@example.org",
            "rcpt@relay.e2e.test",
            "t64-orcp",
        )
        .unwrap();
        // The agent logs the deferral before the queue manager moves the file.
        assert!(
            wait_until(30, || queue_files(mx, "deferred").len() == 1
                && queue_files(mx, "active").is_empty()),
            "{}",
            mx.log()
        );
        let master = mx.master_pid().expect("a master");
        let _ = postfix(mx, system, &["stop"]);
        assert!(wait_until(10, || {
            !std::path::Path::new(&format!("/proc/{master}")).exists()
        }));
        // An original recipient record that no recipient follows, just before the end
        // record (a type byte and a zero length).
        let files = queue_files(mx, "deferred");
        assert_eq!(files.len(), 1, "{files:?}");
        let mut bytes = std::fs::read(&files[0]).unwrap();
        assert_eq!(bytes[bytes.len() - 2..], [b'E', 0]);
        let stray = b"stray@example.org";
        let at = bytes.len() - 2;
        let mut record = vec![b'O', stray.len() as u8];
        record.extend_from_slice(stray);
        bytes.splice(at..at, record);
        std::fs::write(&files[0], bytes).unwrap();
        // The queue manager looks at the deferred queue when it starts.
        let before = mx.log().len();
        start();
        let needle = "ignoring out-of-order original recipient";
        let seen = wait_until(30, || mx.log()[before..].contains(needle));
        let lines: Vec<String> = log_lines(mx, before)
            .into_iter()
            .filter(|l| l.contains(needle))
            .collect();
        let _ = postfix(mx, system, &["stop"]);
        assert!(seen, "{}", mx.log());
        lines
    });
}

/// A daemon given an argument it does not take (here smtpd, in master.cf) stops with
/// the same fatal error on both systems (ironpost's server skeletons check it for every
/// daemon but pipe).
#[test]
fn a_daemon_with_an_unexpected_argument() {
    same_on_both("t-64-argument", |mx, system| {
        replace_smtpd_line(mx, "127.0.0.1:@SMTP_PORT@ inet n - n - - smtpd surplus");
        match system {
            System::Ironpost => mx.postfix(&["start"]),
            System::Postfix => mx.postfix_of(System::Postfix, &["start"]),
        };
        mx.wait_log("daemon started -- version", 20);
        let _ = TcpStream::connect(("127.0.0.1", mx.smtp_port));
        let needle = "unexpected command-line argument";
        let seen = wait_until(20, || mx.log().contains(needle));
        let lines: Vec<String> = log_lines(mx, 0)
            .into_iter()
            .filter(|l| l.contains(needle))
            .take(1)
            .collect();
        let _ = postfix(mx, system, &["stop"]);
        assert!(seen, "{}", mx.log());
        lines
    });
}
