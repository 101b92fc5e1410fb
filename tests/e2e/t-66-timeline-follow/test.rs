//! posttrace follows one message through every copy it becomes, on ironpost and on
//! Postfix 3.7 (each with a second instance of the same system as its next hop), from the
//! logs alone: an alias sends it on to a remote address and to a local user whose .forward
//! sends it on again (local's `forwarded as QUEUEID`), the remote copy is relayed to the
//! second instance (smtp's `queued as QUEUEID`, followed into that instance's log given as
//! a second `-l`), and a command in the alias re-submits the message it is piped (a copy
//! that no log line names, found by its Message-ID). Asked by the first queue id, by the
//! Message-ID and by either final recipient, the timeline is the same: every copy, linked
//! to the one it came from, in order, as text and JSON. The client is in debug_peer_list,
//! so smtpd logs the SMTP dialogue, which the timeline shows with the message's session.

use e2e::{Instance, System, wait_until};
use std::process::Command;

/// The alias that fans the message out: a remote address (relayed to the next hop), a
/// local user with a .forward, and a command that re-submits the message over SMTP.
const ALIASES: &str = "fwd: someone@relay.e2e.test, nobody, resubmit\n\
                       resubmit: \"|/usr/bin/python3 @DIR@/resubmit.py\"\n";

/// The command: the message as local pipes it (after its `From ` line), submitted again
/// unchanged, Message-ID included, to the instance's SMTP service. (sendmail cannot be
/// used here: the command runs as nobody, and postdrop takes an instance's configuration
/// directory from an unprivileged user only when the default main.cf lists it, which a
/// test must not write.)
const RESUBMIT: &str = "import smtplib, sys\n\
data = sys.stdin.buffer.read()\n\
if data.startswith(b'From '):\n    data = data.split(b'\\n', 1)[1]\n\
s = smtplib.SMTP('127.0.0.1', @SMTP_PORT@, timeout=30)\n\
s.sendmail('a@example.org', ['user@vmail.e2e.test'], data)\n\
s.quit()\n";

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
    let out = command
        .args(args)
        .env_remove("MAIL_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The queue id of the first line of `log` that has `needle`.
fn queue_id_of(log: &str, needle: &str) -> String {
    let line = log
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle} in\n{log}"));
    let after = line.split("]: ").nth(1).unwrap();
    after.split(':').next().unwrap().to_string()
}

fn follow(name: &str, system: System) {
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
    mx.write("resubmit.py", &mx.expand(RESUBMIT));
    std::fs::create_dir_all(mx.dir.join("forward")).unwrap();
    mx.write("forward/nobody.forward", "user@vmail.e2e.test\n");
    let built = Command::new("/usr/sbin/postalias")
        .arg("-c")
        .arg(mx.etc())
        .arg(format!("hash:{}/etc/aliases", mx.dir.display()))
        .status()
        .unwrap();
    assert!(built.success(), "postalias");
    start(&mut next, system);
    start(&mut mx, system);

    mx.send(mx.smtp_port, "a@example.org", "fwd@mail.e2e.test", "t66")
        .unwrap();
    // Four queue files in all: the message, the forwarded copy, the re-submitted copy
    // here, and the next hop's.
    let done = wait_until(60, || {
        mx.log().matches(": removed").count() >= 3 && next.log().contains(": removed")
    });
    if !done {
        mx.keep_for_inspection();
        next.keep_for_inspection();
        panic!("not delivered:\n{}\nnext hop:\n{}", mx.log(), next.log());
    }
    let log = mx.log();
    let first = queue_id_of(&log, "client=localhost[127.0.0.1]");
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
    // The re-submitted copy: the second message smtpd accepted.
    let resubmitted = log
        .lines()
        .filter(|l| l.contains(": client=localhost[127.0.0.1]"))
        .nth(1)
        .map(|l| queue_id_of(l, "client="))
        .unwrap_or_else(|| panic!("no re-submitted copy:\n{log}"));

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
    let relayed_link =
        format!("copy queued by the next hop: new queue id {relayed} (traced below)");
    let checks: [(&str, Vec<&str>); 4] = [
        (
            &first,
            vec![
                "connect from localhost[127.0.0.1]",
                // The debug_peer_list dialogue, with the session.
                "= the client sent: mail FROM:<a@example.org>",
                "= the client sent: rcpt TO:<fwd@mail.e2e.test>",
                "= smtpd replied: 250 2.1.0 Ok",
                &queued_reply,
                "disconnect from localhost[127.0.0.1]",
                "forwarded copy: new queue id ",
                "delivered to command: /usr/bin/python3 ",
                "state: removed from the queue",
            ],
        ),
        (
            &forwarded,
            vec![
                "to <someone@relay.e2e.test> via 127.0.0.1[127.0.0.1]",
                &relayed_link,
                "to <user@vmail.e2e.test> via virtual: delivered",
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
        json.contains("\"text\":\"< localhost[127.0.0.1]: mail FROM:<a@example.org> size="),
        "{json}"
    );
}
