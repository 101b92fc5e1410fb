//! pickup: mail submitted with sendmail goes through postdrop, the maildrop queue and
//! ironpost's pickup to Postfix's cleanup, and arrives as Postfix's pickup would deliver
//! it. Also: the trigger server's watchdog ends a pickup stuck on a missing cleanup
//! service with Postfix's "fatal: watchdog timeout", the message stays in the maildrop
//! and goes out once cleanup is back; and a `pass` pickup service is woken by the master
//! through a passed pipe.

use e2e::{IRONPOST_DAEMONS, Instance, wait_until};

const MESSAGE: &str = "From: root\nSubject: t15 @MARKER@\n\n leading space line\nbody @MARKER@\n";

fn submit(mx: &Instance, marker: &str) {
    let out = mx.sendmail(
        &["-f", "root", "user@vmail.e2e.test"],
        &MESSAGE.replace("@MARKER@", marker),
    );
    assert!(
        out.status.success(),
        "sendmail: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn delivered(mx: &Instance, marker: &str) -> String {
    let found = wait_until(30, || mx.mailbox().iter().any(|m| m.contains(marker)));
    if !found {
        mx.keep_for_inspection();
        panic!("{marker} not delivered; log:\n{}", mx.log());
    }
    mx.mailbox()
        .into_iter()
        .find(|m| m.contains(marker))
        .unwrap()
}

/// The message with what differs between two runs (queue ids, dates, message ids,
/// instance paths) replaced.
fn normalized(message: &str, mx: &Instance) -> String {
    let mut out = Vec::new();
    for line in message
        .replace(&mx.dir.display().to_string(), "DIR")
        .lines()
    {
        let mut words: Vec<String> = Vec::new();
        for word in line.split(' ') {
            let bare = word.trim_end_matches([';', ')']);
            let is_id = bare.len() >= 8
                && bare.len() <= 16
                && bare
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase());
            words.push(if is_id {
                word.replace(bare, "QUEUEID")
            } else {
                word.to_string()
            });
        }
        let line = words.join(" ");
        let line = match line.split_once("; ") {
            Some((head, _)) if head.trim_start().starts_with("id ") => format!("{head}; DATE"),
            _ => line,
        };
        let line = if line.starts_with("Date: ") {
            "Date: DATE".to_string()
        } else if line.starts_with("Message-Id: ") {
            "Message-Id: ID".to_string()
        } else {
            line
        };
        out.push(line);
    }
    out.join("\n")
}

#[test]
fn sendmail_mail_arrives_as_with_postfix_pickup() {
    let Some(mut ours) = Instance::new("t-15-ours") else {
        return;
    };
    let postfix_daemons: Vec<&str> = IRONPOST_DAEMONS
        .iter()
        .copied()
        .filter(|d| *d != "pickup")
        .collect();
    let Some(mut theirs) = Instance::with_daemons("t-15-theirs", &postfix_daemons) else {
        return;
    };
    ours.start();
    theirs.start();
    submit(&ours, "t15-pickup");
    submit(&theirs, "t15-pickup");
    let got = delivered(&ours, "t15-pickup");
    let expected = delivered(&theirs, "t15-pickup");
    assert!(
        got.contains("Received: by mail.e2e.test (Postfix, from userid 0)\n\tid "),
        "{got}"
    );
    assert_eq!(normalized(&got, &ours), normalized(&expected, &theirs));
    // The log line tools parse: "pickup[PID]: QUEUEID: uid=0 from=<root>".
    let log = ours.log();
    let line = log
        .lines()
        .find(|l| l.contains("/pickup[") && l.contains(": uid=0 from=<root>"))
        .unwrap_or_else(|| panic!("no pickup line in:\n{log}"));
    let id = line.split(": ").nth(1).unwrap();
    assert!(
        log.contains("cleanup[") && log.contains(&format!("{id}: message-id=")),
        "cleanup did not take {id}:\n{log}"
    );
    assert!(ours.leftovers_in_maildrop().is_empty());
    ours.postfix(&["stop"]);
    theirs.postfix(&["stop"]);
}

#[test]
fn watchdog_ends_a_stuck_pickup_and_nothing_is_lost() {
    let Some(mut mx) = Instance::new("t-15-watchdog") else {
        return;
    };
    // No cleanup service: pickup waits for it (connect #1, #2 ... every ten seconds)
    // until its watchdog (daemon_timeout) runs out.
    mx.replace_master_cf_line(
        |l| l.starts_with("pickup "),
        "pickup unix n - n 2 1 pickup -o daemon_timeout=6s",
    );
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    let cleanup_line = master_cf
        .lines()
        .find(|l| l.starts_with("cleanup "))
        .unwrap()
        .to_string();
    mx.replace_master_cf_line(|l| l.starts_with("cleanup "), "#no cleanup");
    mx.start();
    submit(&mx, "t15-watchdog");
    mx.wait_log("warning: connect #1 to subsystem public/cleanup", 20);
    mx.wait_log("fatal: watchdog timeout", 20);
    let log = mx.log();
    let fatal = log
        .lines()
        .find(|l| l.contains("fatal: watchdog timeout"))
        .unwrap();
    assert!(fatal.contains("/pickup["), "{fatal}");
    assert_eq!(mx.leftovers_in_maildrop().len(), 1, "the message must stay");
    // Cleanup is back: the next wakeup delivers the message.
    mx.replace_master_cf_line(|l| l.starts_with("#no cleanup"), &cleanup_line);
    mx.postfix(&["reload"]);
    delivered(&mx, "t15-watchdog");
    assert!(mx.leftovers_in_maildrop().is_empty());
    mx.postfix(&["stop"]);
}

#[test]
fn pass_service_is_woken_through_a_passed_pipe() {
    let Some(mut mx) = Instance::new("t-15-pass") else {
        return;
    };
    mx.replace_master_cf_line(
        |l| l.starts_with("pickup "),
        "pickup pass n - n 2 1 pickup -v",
    );
    mx.start();
    submit(&mx, "t15-pass");
    delivered(&mx, "t15-pass");
    mx.wait_log("trigger_server_accept_pass: trigger arrived", 10);
    mx.postfix(&["stop"]);
}
