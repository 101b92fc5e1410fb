//! The Debugging Howto's call-tracer recipe exactly as it is written, on an instance that
//! logs to syslog: `smtpd -D`, `debugger_command` piping strace to `logger -p mail.info`,
//! `postfix reload`, and strace's lines in the mail log next to smtpd's own. And the syslog
//! records themselves, byte for byte against Postfix 3.7's (severities, syslog_facility, a
//! text longer than 2000 bytes, a tag with its own pid, a facility name Postfix does not
//! know), also from a chrooted smtpd that has no /dev/log in its jail.
//!
//! The instance logs through a private /dev/log to the test's own receiver, which writes
//! `log/maillog` as a syslog daemon writes /var/log/mail.log (e2e::syslog); the tracer and
//! logger that a daemon starts live in the same private namespace.

use e2e::syslog::{datagrams, syslogged};
use e2e::{System, wait_until};

/// A datagram's parts: priority, timestamp, tag (with `[pid]` when there is one) and text.
fn parts(datagram: &str) -> Option<(u32, &str, &str, &str)> {
    let rest = datagram.strip_prefix('<')?;
    let (pri, rest) = rest.split_once('>')?;
    let stamp = rest.get(..15)?;
    let rest = rest.get(15..)?.strip_prefix(' ')?;
    let (tag, text) = rest.split_once(": ")?;
    Some((pri.parse().ok()?, stamp, tag, text))
}

/// The Howto's recipe, with strace for truss, word for word.
const HOWTO_STRACE: &str = "PATH=/bin:/usr/bin:/usr/local/bin; (strace -p $process_id 2>&1 | logger -p mail.info) & sleep 5";

#[test]
fn t1_strace_through_logger_reaches_the_mail_log() {
    // The main.cf lines the test writes are the ones docs/DEBUG_README.md shows.
    let setting = format!("debugger_command =\n    {HOWTO_STRACE}\n");
    e2e::howto_doc::check(
        "debugger-strace-logger",
        &e2e::howto_doc::Context::default(),
        &setting,
    );
    if !e2e::have("strace") || !e2e::have("logger") {
        testkit::skip("needs strace and logger (apt-get install strace bsdutils)");
        return;
    }
    let Some(mut system) = syslogged("t-65-howto", &e2e::IRONPOST_DAEMONS, "mail") else {
        return;
    };
    let mx = &mut system.mx;
    mx.start();
    // "Append a -D option to the suspect command in /etc/postfix/master.cf"
    let smtp = "127.0.0.1:@SMTP_PORT@ inet n - n - - smtpd";
    mx.replace_master_cf_line(|l| l == mx.expand(smtp), &format!("{smtp} -D"));
    // "Edit the debugger_command definition in /etc/postfix/main.cf"
    mx.add_main_cf(&setting);
    // "Type "postfix reload" and watch the logfile."
    mx.postfix(&["reload"]);
    mx.wait_log("reload -- version", 10);
    mx.send_local("t65-traced");
    mx.wait_log("relay=virtual", 40);

    let log = mx.log();
    let smtpd_pid = log
        .lines()
        .find(|l| l.contains("postfix/smtpd[") && l.contains("]: running: PATH=/bin:"))
        .and_then(|l| l.split("smtpd[").nth(1)?.split(']').next())
        .unwrap_or_else(|| panic!("no running: line:\n{log}"))
        .to_string();
    // strace's lines arrive through logger: mail.info, logger's own tag.
    let attached = format!("strace: Process {smtpd_pid} attached");
    // logger sends each line as strace writes it; the session's reads may still be on
    // their way when the delivery is logged.
    assert!(
        wait_until(30, || {
            let all = datagrams(mx).join("\n");
            all.contains(&attached) && (all.contains("ehlo") || all.contains("mail FROM"))
        }),
        "strace's lines for smtpd {smtpd_pid} (attached, the session's reads) never \
         reached the syslog socket:\n{}",
        datagrams(mx).join("\n")
    );
    let all = datagrams(mx);
    let traced: Vec<(u32, &str, &str)> = all
        .iter()
        .filter_map(|d| parts(d))
        .filter(|(_, _, tag, _)| !tag.starts_with("postfix/"))
        .map(|(pri, _, tag, text)| (pri, tag, text))
        .collect();
    assert!(
        traced.iter().any(|(_, _, text)| text.contains(&attached)),
        "no \"{attached}\" from logger:\n{}",
        all.join("\n")
    );
    for (pri, tag, text) in &traced {
        assert_eq!(*pri, 22, "logger -p mail.info sends <22>: {tag}: {text}");
    }
    assert!(
        traced
            .iter()
            .any(|(_, _, text)| text.contains("ehlo") || text.contains("mail FROM")),
        "the trace shows the session's reads:\n{}",
        all.join("\n")
    );
    // The traced daemon's own records, in the same log, with its pid and mail.info.
    let own = format!("postfix/smtpd[{smtpd_pid}]");
    for needle in ["connect from localhost[127.0.0.1]", "disconnect from"] {
        assert!(
            all.iter()
                .any(|d| parts(d).is_some_and(|(pri, _, tag, text)| {
                    pri == 22 && tag == own && text.starts_with(needle)
                })),
            "no <22> {own}: {needle}:\n{}",
            all.join("\n")
        );
    }
    // In the log file as a syslog daemon writes it, both are there, the tracer's among
    // the daemon's.
    assert!(log.contains(&attached), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains(&format!("{own}: connect from localhost[127.0.0.1]"))),
        "{log}"
    );
}

/// What one system sends to /dev/log: a message over SMTP, then postlog records of each
/// severity, a long one and one under a tag that has its own pid. Returns the datagrams.
fn scenario(name: &str, system: System) -> Option<Vec<String>> {
    let daemons: &[&str] = match system {
        System::Ironpost => &e2e::IRONPOST_DAEMONS,
        System::Postfix => &[],
    };
    let mut logged = syslogged(name, daemons, "local5")?;
    let mx = &mut logged.mx;
    match system {
        System::Ironpost => mx.start(),
        System::Postfix => mx.start_postfix(),
    }
    mx.send_local("t65-compared");
    mx.wait_log(": removed", 40);
    let postlog = match system {
        System::Ironpost => e2e::program("postlog"),
        System::Postfix => "/usr/sbin/postlog".into(),
    };
    let long = "x".repeat(2100);
    let records: [&[&str]; 7] = [
        &["-t", "strace", "attached"],
        &["-p", "warning", "a warning"],
        &["-p", "error", "an error, été"],
        &["-p", "fatal", "a fatal"],
        &["-p", "panic", "a panic"],
        &[&long],
        &["-t", "smtpd[1234]", "forwarded"],
    ];
    let run_postlog = |config: &std::path::Path, args: &[&str]| {
        mx.runner(&postlog)
            .arg("-c")
            .arg(config)
            .args(args)
            .env_remove("MAIL_CONFIG")
            .output()
            .unwrap()
    };
    for args in records {
        run_postlog(&mx.etc(), args);
    }
    // A facility name Postfix does not know (names are matched exactly): the fatal error
    // goes to the log the program had, mail.crit.
    let upper = mx.dir.join("etc-upper");
    std::fs::create_dir_all(&upper).unwrap();
    let main_cf = std::fs::read_to_string(mx.etc().join("main.cf")).unwrap();
    std::fs::write(
        upper.join("main.cf"),
        main_cf.replace("syslog_facility = local5", "syslog_facility = LOCAL5"),
    )
    .unwrap();
    std::fs::copy(mx.etc().join("master.cf"), upper.join("master.cf")).unwrap();
    let out = run_postlog(&upper, &["never logged"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let seen = wait_until(10, || {
        datagrams(mx)
            .iter()
            .any(|d| d.ends_with("]: forwarded") || d.ends_with(" smtpd[1234]: forwarded"))
    });
    assert!(seen, "{}", datagrams(mx).join("\n"));
    let dir = mx.dir.display().to_string();
    Some(
        datagrams(mx)
            .iter()
            .map(|d| d.replace(&dir, "DIR"))
            .collect(),
    )
}

/// A datagram's priority, and the rest after the timestamp with process ids and queue ids
/// made generic.
fn normal(datagram: &str) -> (u32, String) {
    let Some((pri, _, tag, text)) = parts(datagram) else {
        return (0, format!("UNPARSED {datagram}"));
    };
    let tag = match tag.split_once('[') {
        Some((name, pid))
            if pid
                .trim_end_matches(']')
                .bytes()
                .all(|b| b.is_ascii_digit()) =>
        {
            format!("{name}[PID]")
        }
        _ => tag.to_string(),
    };
    // A queue id: the record's first word, upper-case hex and the like, then a colon.
    let text = match text.split_once(": ") {
        Some((id, rest)) if id.len() >= 8 && id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            format!("QID: {rest}")
        }
        _ => text.to_string(),
    };
    (pri, format!("{tag}: {text}"))
}

#[test]
fn t2_syslog_records_are_postfix_s() {
    let Some(ours) = scenario("t-65-ours", System::Ironpost) else {
        return;
    };
    let Some(theirs) = scenario("t-65-postfix", System::Postfix) else {
        return;
    };
    // Every record has the shape of glibc's syslog(3): `<pri>Mmm dd HH:MM:SS tag[pid]: `,
    // the day padded with a space, local5's priorities (but for the bad facility's).
    for d in ours.iter().chain(&theirs) {
        let (pri, stamp, tag, text) =
            parts(d).unwrap_or_else(|| panic!("not a syslog datagram: {d:?}"));
        assert!(
            (168..176).contains(&pri) || text.contains("LOCAL5"),
            "not local5: {d}"
        );
        assert!(
            stamp.as_bytes()[3] == b' ' && stamp.as_bytes()[4] != b'0',
            "{d}"
        );
        assert!(tag.ends_with(']'), "{d}");
    }
    // The records both systems write, equal once made generic.
    let wanted = [
        "postfix/smtpd[PID]: connect from localhost[127.0.0.1]",
        "postfix/smtpd[PID]: disconnect from localhost[127.0.0.1]",
        "postfix/qmgr[PID]: QID: removed",
        "strace[PID]: attached",
        "postfix/postlog[PID]: warning: a warning",
        "postfix/postlog[PID]: error: an error",
        "postfix/postlog[PID]: fatal: a fatal",
        "postfix/postlog[PID]: panic: a panic",
        "postfix/postlog[PID]: xxxx",
        // Not smtpd[1234][pid]: the tag has a pid already.
        "smtpd[PID]: forwarded",
        "postfix/postlog[PID]: fatal: file DIR/etc-upper/main.cf: parameter syslog_facility: unrecognized value: LOCAL5",
    ];
    let pick = |records: &[String], needle: &str| -> (u32, String) {
        records
            .iter()
            .map(|d| normal(d))
            .find(|(_, rest)| rest.starts_with(needle))
            .unwrap_or_else(|| panic!("no {needle}:\n{}", records.join("\n")))
    };
    for needle in wanted {
        assert_eq!(
            pick(&ours, needle),
            pick(&theirs, needle),
            "ironpost's record differs from Postfix's"
        );
    }
}

/// A chrooted smtpd (Debian's default) finds no /dev/log in its jail: its records go
/// through the connection made before the chroot, as Postfix's do (LOG_NDELAY). Returns
/// the smtpd records made generic.
fn chrooted(name: &str, system: System) -> Option<Vec<(u32, String)>> {
    let daemons: &[&str] = match system {
        System::Ironpost => &e2e::IRONPOST_DAEMONS,
        System::Postfix => &[],
    };
    let mut logged = syslogged(name, daemons, "mail")?;
    let mx = &mut logged.mx;
    mx.replace_master_cf_line(
        |l| l.contains(" inet "),
        "127.0.0.1:@SMTP_PORT@ inet n - y - - smtpd",
    );
    match system {
        System::Ironpost => mx.start(),
        System::Postfix => mx.start_postfix(),
    }
    assert!(!mx.dir.join("queue/dev/log").exists());
    mx.send_local("t65-jail");
    mx.wait_log(": removed", 40);
    Some(
        datagrams(mx)
            .iter()
            .filter(|d| d.contains(" postfix/smtpd["))
            .map(|d| normal(d))
            .collect(),
    )
}

#[test]
fn t3_a_chrooted_daemon_still_logs() {
    let Some(ours) = chrooted("t-65-jail-ours", System::Ironpost) else {
        return;
    };
    let Some(theirs) = chrooted("t-65-jail-postfix", System::Postfix) else {
        return;
    };
    assert!(
        ours.iter()
            .any(|(_, r)| r.starts_with("postfix/smtpd[PID]: disconnect from")),
        "{ours:?}"
    );
    assert_eq!(ours, theirs);
}
