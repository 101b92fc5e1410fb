//! posttrace follows one message through every copy it becomes, on ironpost and on
//! Postfix 3.7 (each with a second instance of the same system as its next hop), from the
//! logs alone: an alias sends it on to a remote address and to a local user whose .forward
//! sends it on again (local's `forwarded as QUEUEID`; a second address there bounces, and
//! the non-delivery notice is followed too), the remote copy is relayed to the
//! second instance (smtp's `queued as QUEUEID`, followed into that instance's log given as
//! a second `-l`), and a command in the alias re-submits the message it is piped with
//! Postfix's sendmail (a copy that no log line names, found by its Message-ID). Asked by the first queue id, by the
//! Message-ID and by either final recipient, the timeline is the same: every copy, linked
//! to the one it came from, in order, as text and JSON. The client is in debug_peer_list,
//! so smtpd logs the SMTP dialogue, which the timeline shows with the message's session.
//! And posttriage and posttrace on a mail log written by syslog (e2e::syslog), in both of
//! rsyslog's formats, with posttriage's time windows.

use e2e::{Instance, System, wait_until};
use std::process::Command;

/// The alias that fans the message out: a remote address (relayed to the next hop), a
/// local user with a .forward, and a command that re-submits the message, Message-ID
/// included, with sendmail.
const ALIASES: &str = "fwd: someone@relay.e2e.test, nobody, resubmit\n\
    resubmit: \"|/usr/bin/env MAIL_CONFIG=@DIR@/etc /usr/sbin/sendmail -f sender@vmail.e2e.test user@vmail.e2e.test\"\n";

/// Run by `unshare --mount --propagation private sh -c OVERLAY sh @DIR@ command...`: the
/// command runs as nobody, and the set-gid postdrop takes the instance's configuration
/// directory from it only when the default main.cf (/etc/postfix/main.cf) lists it. The
/// instance's commands, and so its master and the local agent's commands, run in a mount
/// namespace in which /etc is an overlay that has that main.cf; the host's /etc is not
/// touched.
const OVERLAY: &str = r#"set -e
dir=$1
shift
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$dir/etc-overlay/upper,workdir=$dir/etc-overlay/work" /etc
exec "$@"
"#;

#[test]
fn ironpost_follows_every_copy() {
    follow("t-66", System::Ironpost);
}

#[test]
fn postfix_follows_every_copy() {
    follow("t-66-postfix", System::Postfix);
}

/// An instance of `system`, not started.
fn instance(name: &str, system: System) -> Option<Instance> {
    match system {
        System::Ironpost => Instance::new(name),
        System::Postfix => Instance::with_daemons(name, &[]),
    }
}

fn start(mx: &mut Instance, system: System) {
    match system {
        System::Ironpost => mx.start(),
        System::Postfix => mx.start_postfix(),
    }
}

/// posttrace's exit code and output, on the logs given with -l.
fn trace(logs: &[&Instance], args: &[&str]) -> (i32, String) {
    let mut command = Command::new(e2e::program("posttrace"));
    // No configuration: the logs alone.
    command.arg("-c").arg(logs[0].dir.join("no-such-config"));
    for mx in logs {
        command.arg("-l").arg(mx.dir.join("log/maillog"));
    }
    e2e::exit_and_output(command.args(args))
}

fn follow(name: &str, system: System) {
    // The overlay on /etc needs a mount namespace (skipped where there is none).
    if !e2e::syslog::namespaces_possible() {
        return;
    }
    let Some(mut next) = instance(&format!("{name}-next"), system) else {
        return;
    };
    let Some(mut mx) = instance(name, system) else {
        return;
    };
    // The next hop takes the remote address into a virtual mailbox.
    next.set_main_cf("virtual_mailbox_domains", "vmail.e2e.test, relay.e2e.test");
    next.set_main_cf("relay_domains", "");
    next.write(
        "etc/vmailbox",
        "user@vmail.e2e.test vmail.e2e.test/user/\n\
         someone@relay.e2e.test relay.e2e.test/someone/\n",
    );
    next.write("etc/transport", "");
    mx.write(
        "etc/transport",
        &format!("relay.e2e.test smtp:[127.0.0.1]:{}\n", next.smtp_port),
    );
    mx.set_main_cf("alias_maps", "hash:@DIR@/etc/aliases");
    mx.set_main_cf("forward_path", "@DIR@/forward/${user}.forward");
    mx.set_main_cf("debug_peer_list", "127.0.0.1");
    mx.write("etc/aliases", &mx.expand(ALIASES));
    for sub in ["etc-overlay/upper/postfix", "etc-overlay/work"] {
        std::fs::create_dir_all(mx.dir.join(sub)).unwrap();
    }
    mx.write(
        "etc-overlay/upper/postfix/main.cf",
        &mx.expand("alternate_config_directories = @DIR@/etc\n"),
    );
    mx.write("overlay.sh", OVERLAY);
    mx.run_through(&[
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "@DIR@/overlay.sh",
        "@DIR@",
    ]);
    std::fs::create_dir_all(mx.dir.join("forward")).unwrap();
    // The .forward also names a mailbox that does not exist: that recipient of the
    // forwarded copy bounces, and the notice goes to the sender, here.
    mx.write(
        "forward/nobody.forward",
        "user@vmail.e2e.test, nosuch@vmail.e2e.test\n",
    );
    mx.write(
        "etc/vmailbox",
        "user@vmail.e2e.test vmail.e2e.test/user/\n\
         sender@vmail.e2e.test vmail.e2e.test/sender/\n",
    );
    let built = Command::new("/usr/sbin/postalias")
        .arg("-c")
        .arg(mx.etc())
        .arg(format!("hash:{}/etc/aliases", mx.dir.display()))
        .status()
        .unwrap();
    assert!(built.success(), "postalias");
    start(&mut next, system);
    start(&mut mx, system);

    mx.send(
        mx.smtp_port,
        "sender@vmail.e2e.test",
        "fwd@mail.e2e.test",
        "t66",
    )
    .unwrap();
    // Five queue files in all: the message, the forwarded copy, its non-delivery notice,
    // the re-submitted copy here, and the next hop's.
    let done = wait_until(60, || {
        mx.log().matches(": removed").count() >= 4 && next.log().contains(": removed")
    });
    if !done {
        mx.keep_for_inspection();
        next.keep_for_inspection();
        panic!("not delivered:\n{}\nnext hop:\n{}", mx.log(), next.log());
    }
    let log = mx.log();
    let first = e2e::queue_id_of(&log, "client=localhost[127.0.0.1]");
    let forwarded = log
        .lines()
        .find_map(|l| l.split("(forwarded as ").nth(1))
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no forwarded copy:\n{log}"))
        .to_string();
    let relayed = log
        .lines()
        .filter(|l| l.contains(" status=sent (250 "))
        .find_map(|l| l.split(": queued as ").nth(1))
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no queued as:\n{log}"))
        .to_string();
    let message_id = log
        .lines()
        .find_map(|l| l.split(&format!("{first}: message-id=")).nth(1))
        .unwrap()
        .to_string();
    // The re-submitted copy: picked up from the maildrop queue, from the command's user.
    let resubmitted = e2e::queue_id_of(&log, ": uid=");
    let notice = log
        .lines()
        .find_map(|l| {
            l.split(&format!("{forwarded}: sender non-delivery notification: "))
                .nth(1)
        })
        .unwrap_or_else(|| panic!("no notice for {forwarded}:\n{log}"))
        .trim()
        .to_string();

    let both = [&mx, &next];
    let by_id = trace(&both, &[&first]);
    assert_eq!(by_id.0, 0, "{}", by_id.1);
    let report = &by_id.1;
    let wanted = [
        format!("=== {first} (asked for) ==="),
        format!("=== {forwarded} (forwarded copy of {first}) ==="),
        format!("=== {relayed} (copy queued by the next hop of {forwarded}) ==="),
        format!("=== {resubmitted} (copy with the same Message-ID {message_id} as {first}) ==="),
    ];
    let mut at = 0;
    for w in &wanted {
        match report[at..].find(w.as_str()) {
            Some(found) => at += found,
            None => {
                mx.keep_for_inspection();
                panic!("no {w:?} (in this order) in the timeline:\n{report}\nlog:\n{log}");
            }
        }
    }
    let section = |id: &str| -> String {
        let start = report.find(&format!("=== {id} (")).unwrap();
        let end = report[start + 4..]
            .find("=== ")
            .map_or(report.len(), |e| start + 4 + e);
        report[start..end].to_string()
    };
    let queued_reply = format!("= smtpd replied: 250 2.0.0 Ok: queued as {first}");
    let notice_link =
        format!("non-delivery notice to the sender: new queue id {notice} (traced below)");
    let notice_origin =
        format!("=== {notice} (non-delivery notice to the sender of {forwarded}) ===");
    let relayed_link =
        format!("copy queued by the next hop: new queue id {relayed} (traced below)");
    let checks: [(&str, Vec<&str>); 5] = [
        (
            &first,
            vec![
                "connect from localhost[127.0.0.1]",
                // The debug_peer_list dialogue, with the session.
                "= the client sent: mail FROM:<sender@vmail.e2e.test>",
                "= the client sent: rcpt TO:<fwd@mail.e2e.test>",
                "= smtpd replied: 250 2.1.0 Ok",
                &queued_reply,
                "disconnect from localhost[127.0.0.1]",
                "forwarded copy: new queue id ",
                "delivered to command: /usr/bin/env MAIL_CONFIG=",
                "state: removed from the queue",
            ],
        ),
        (
            &forwarded,
            vec![
                "to <someone@relay.e2e.test> via 127.0.0.1[127.0.0.1]",
                &relayed_link,
                "to <user@vmail.e2e.test> via virtual: delivered",
                "to <nosuch@vmail.e2e.test> via virtual: bounced",
                &notice_link,
                "state: removed from the queue",
            ],
        ),
        (
            &notice,
            vec![
                &notice_origin,
                "the queue manager moved it to the active queue: sender <>",
                "to <sender@vmail.e2e.test> via virtual: delivered",
                "state: removed from the queue",
            ],
        ),
        (
            &relayed,
            vec![
                "to <someone@relay.e2e.test> via virtual: delivered",
                "state: removed from the queue",
            ],
        ),
        (
            &resubmitted,
            vec![
                "to <user@vmail.e2e.test> via virtual: delivered",
                "state: removed from the queue",
            ],
        ),
    ];
    for (id, wanted) in checks {
        let text = section(id);
        for w in wanted {
            if !text.contains(w) {
                mx.keep_for_inspection();
                panic!("no {w:?} for {id} in the timeline:\n{report}\nlog:\n{log}");
            }
        }
    }
    // The verbose lines of the debug_peer_list session are not events.
    assert!(
        !section(&first).contains("smtp_get:") && !section(&first).contains("match_"),
        "{report}"
    );

    // The same timeline whichever way the message is asked for: by the Message-ID, by a
    // final recipient (the next hop's, or the one the .forward and the command sent to),
    // by a later copy's queue id.
    for other in [
        &message_id,
        "someone@relay.e2e.test",
        "user@vmail.e2e.test",
        &relayed,
        &resubmitted,
    ] {
        let got = trace(&both, &[other]);
        if got != by_id {
            mx.keep_for_inspection();
            panic!(
                "asked for {other}:\n{}\nasked for {first}:\n{report}",
                got.1
            );
        }
    }
    // Without the next hop's log, its copy is named but not traced.
    let (_, alone) = trace(&[&mx], &[&first]);
    assert!(!alone.contains(&format!("=== {relayed} (")), "{alone}");
    assert!(
        alone.contains(&format!(
            "copy queued by the next hop: new queue id {relayed} (not in this log; posttrace takes more than one -l)"
        )),
        "{alone}"
    );
    assert!(alone.contains(&format!("=== {resubmitted} (")), "{alone}");

    // JSON: the same copies in the same order, each with its origin.
    let (_, json) = trace(&both, &["-j", &first]);
    let mut at = 0;
    for (id, origin) in [
        (first.clone(), "asked for".to_string()),
        (forwarded.clone(), format!("forwarded copy of {first}")),
        (
            relayed.clone(),
            format!("copy queued by the next hop of {forwarded}"),
        ),
        (
            resubmitted.clone(),
            format!("copy with the same Message-ID {message_id} as {first}"),
        ),
    ] {
        let w = format!("{{\"queue_id\":\"{id}\",\"origin\":\"{origin}\"");
        at += json[at..]
            .find(&w)
            .unwrap_or_else(|| panic!("no {w} (in this order) in\n{json}"));
    }
    assert!(
        json.contains(&format!(
            "{{\"queue_id\":\"{notice}\",\"origin\":\"non-delivery notice to the sender of {forwarded}\""
        )),
        "{json}"
    );
    assert!(
        json.contains("\"text\":\"< localhost[127.0.0.1]: mail FROM:<sender@vmail.e2e.test> size="),
        "{json}"
    );
}

/// The local time as `-s` and `-u` take it.
fn clock_now() -> String {
    let out = Command::new("date").arg("+%H:%M:%S").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// posttriage's exit code and output on `log`.
fn triage(mx: &Instance, log: &std::path::Path, args: &[&str]) -> (i32, String) {
    e2e::exit_and_output(
        Command::new(e2e::program("posttriage"))
            .arg("-c")
            .arg(mx.etc())
            .arg("-l")
            .arg(log)
            .args(args),
    )
}

/// posttriage and posttrace on the mail log a syslog daemon writes (/var/log/mail.log),
/// in rsyslog's traditional format (`Dec  6 17:02:03 host postfix/...`) and with its
/// RFC 3339 stamps (`2026-12-06T17:02:03.123456+00:00 host postfix/...`), written side by
/// side from the same datagrams by e2e::syslog's receiver: a message delivered, then one
/// deferred because the next hop does not listen (the planted fault). posttriage finds
/// the fault in its default window (since the last start), in a window from before it
/// (-s) and not in one that ends before it (-u); after a restart its default window is
/// clean and the whole log (-a) still has the fault. posttrace traces both messages, by
/// queue id and by address in a time window.
#[test]
fn triage_and_timeline_on_a_syslog_mail_log() {
    let Some(mut logged) = e2e::syslog::syslogged("t-66-syslog", &e2e::IRONPOST_DAEMONS, "mail")
    else {
        return;
    };
    let mx = &mut logged.mx;
    mx.start();
    mx.send_local("t66-syslog");
    mx.wait_log(": removed", 40);
    let log = mx.log();
    let delivered = e2e::queue_id_of(&log, ": client=localhost[127.0.0.1]");
    let before_fault = clock_now();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let since = clock_now();
    mx.send(
        mx.smtp_port,
        "a@example.org",
        "someone@relay.e2e.test",
        "t66-deferred",
    )
    .unwrap();
    mx.wait_log("status=deferred", 40);
    let deferred = e2e::queue_id_of(&mx.log(), "to=<someone@relay.e2e.test>");
    let files = [
        mx.dir.join("log/maillog"),
        mx.dir.join("log/maillog-rfc3339"),
    ];
    // The RFC 3339 file gets each record after the traditional one.
    assert!(wait_until(10, || {
        std::fs::read_to_string(&files[1])
            .unwrap_or_default()
            .contains("status=deferred")
    }));
    let fail = |mx: &Instance, what: &str, report: &str| -> ! {
        mx.keep_for_inspection();
        panic!("{what}:\n{report}\nlog:\n{}", mx.log())
    };
    for (file, rfc3339) in files.iter().zip([false, true]) {
        let text = std::fs::read_to_string(file).unwrap();
        let first = text.lines().next().unwrap_or("");
        let shape = if rfc3339 {
            first.len() > 32 && first.as_bytes()[4] == b'-' && first.as_bytes()[10] == b'T'
        } else {
            first.as_bytes().get(3) == Some(&b' ') && first.as_bytes().get(6) == Some(&b' ')
        };
        assert!(shape, "{}: {first}", file.display());
        let name = file.display().to_string();
        // The fault, in the default window (since the last start) and from before it.
        for args in [&[][..], &["-s", &since][..]] {
            let (code, report) = triage(mx, file, args);
            let first = report.lines().next().unwrap_or("");
            if code != 1
                || !first.starts_with("root cause: ")
                || !first.ends_with("[relay-refused]")
            {
                fail(mx, &format!("{name} {args:?}: no relay-refused"), &report);
            }
        }
        // A window that ends before it.
        let (code, report) = triage(mx, file, &["-u", &before_fault]);
        if code != 0 || report != "no problem found\n" {
            fail(mx, &format!("{name} -u {before_fault}"), &report);
        }
        // The timelines, from the syslog file alone.
        let trace = |args: &[&str]| {
            let out = Command::new(e2e::program("posttrace"))
                .arg("-c")
                .arg(mx.dir.join("no-such-config"))
                .arg("-l")
                .arg(file)
                .args(args)
                .env_remove("MAIL_CONFIG")
                .output()
                .unwrap();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )
        };
        let (code, report) = trace(&[&delivered]);
        for w in [
            format!("=== {delivered} (asked for) ==="),
            "connect from localhost[127.0.0.1]".into(),
            "to <user@vmail.e2e.test> via virtual: delivered".into(),
            "state: removed from the queue".into(),
        ] {
            if code != 0 || !report.contains(&w) {
                fail(mx, &format!("{name}: no {w:?} for {delivered}"), &report);
            }
        }
        let (code, report) = trace(&[&deferred]);
        for w in [
            format!("=== {deferred} (asked for) ==="),
            "deferred (will be tried again), status 4.4.1: connect to 127.0.0.1[127.0.0.1]".into(),
            "no later attempt in the log".into(),
        ] {
            if code != 0 || !report.contains(&w) {
                fail(mx, &format!("{name}: no {w:?} for {deferred}"), &report);
            }
        }
        // By address, in a time window: found from `since` on, not up to before the fault.
        let by_address = trace(&["-s", &since, "someone@relay.e2e.test"]);
        assert_eq!(by_address, (0, report.clone()), "{name}");
        let (code, _) = trace(&["-u", &before_fault, "someone@relay.e2e.test"]);
        assert_eq!(code, 1, "{name}");
        // The stamps are shown as the file has them.
        let event = report
            .lines()
            .find(|l| l.contains("]: connect from "))
            .unwrap_or("")
            .as_bytes();
        let shown = if rfc3339 {
            event.get(10) == Some(&b'T')
        } else {
            event.get(6) == Some(&b' ') && event.get(15) == Some(&b' ')
        };
        assert!(shown, "{name}: {report}");
    }

    // The next hop comes up and the system restarts: the default window starts at the
    // new start and is clean; the whole log still has the fault.
    mx.start_sink();
    mx.postfix(&["stop"]);
    mx.wait_log("terminating on signal 15", 20);
    mx.postfix(&["start"]);
    assert!(wait_until(20, || mx
        .log()
        .matches("daemon started -- version")
        .count()
        >= 2));
    mx.postfix(&["flush"]);
    mx.wait_log("status=sent (250 ", 40);
    assert!(wait_until(10, || {
        std::fs::read_to_string(&files[1])
            .unwrap_or_default()
            .contains("status=sent (250 ")
    }));
    for file in &files {
        let name = file.display().to_string();
        let (code, report) = triage(mx, file, &[]);
        if code != 0 || report != "no problem found\n" {
            fail(mx, &format!("{name} after the restart"), &report);
        }
        let (code, report) = triage(mx, file, &["-a"]);
        if code != 1
            || !report
                .lines()
                .next()
                .unwrap_or("")
                .ends_with("[relay-refused]")
        {
            fail(mx, &format!("{name} -a"), &report);
        }
    }

    // Without -l, with maillog_file empty: both programs read /var/log/mail.log, here an
    // overlay on /var/log, in a mount namespace of their own, that has the RFC 3339 file
    // by that name (the host's /var/log is not touched).
    for sub in ["varlog/upper", "varlog/work"] {
        std::fs::create_dir_all(mx.dir.join(sub)).unwrap();
    }
    std::fs::copy(&files[1], mx.dir.join("varlog/upper/mail.log")).unwrap();
    let script = r#"mount -t overlay overlay -o "lowerdir=/var/log,upperdir=$1/varlog/upper,workdir=$1/varlog/work" /var/log && shift && exec "$@""#;
    let in_namespace = |program: &str, args: &[&str]| {
        e2e::exit_and_output(
            Command::new("unshare")
                .args([
                    "--mount",
                    "--propagation",
                    "private",
                    "sh",
                    "-c",
                    script,
                    "sh",
                ])
                .arg(&mx.dir)
                .arg(e2e::program(program))
                .arg("-c")
                .arg(mx.etc())
                .args(args),
        )
    };
    let (code, report) = in_namespace("posttriage", &["-a"]);
    if code != 1 || !report.starts_with("root cause: ") || !report.contains("[relay-refused]") {
        fail(mx, "posttriage -a on /var/log/mail.log", &report);
    }
    let (code, report) = in_namespace("posttrace", &[&deferred]);
    if code != 0
        || !report.contains("deferred (will be tried again)")
        || !report.contains("to <someone@relay.e2e.test> via 127.0.0.1[127.0.0.1]")
        || !report.contains("state: removed from the queue")
    {
        fail(mx, "posttrace on /var/log/mail.log", &report);
    }
}
