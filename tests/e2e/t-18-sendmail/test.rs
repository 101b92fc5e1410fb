//! sendmail: ironpost's sendmail command submits through postdrop and pickup exactly as
//! Postfix's does (the delivered messages are compared), extracts recipients with -t,
//! and gives the Howto's delivery reports: `sendmail -bv` (what-if, nothing delivered)
//! and `sendmail -v` (deliver and report) print "Mail Delivery Status Report will be
//! mailed to <sender>." and the report arrives. Usage errors have Postfix's text and exit
//! status; mailq is postqueue -p.
//!
//! sendmail runs `$command_directory/postdrop`: every instance here has a command
//! directory with ironpost's postdrop (`Instance::install_commands`), so the whole local
//! submission leg, sendmail, postdrop and pickup, is ironpost's.

use e2e::{Instance, program, wait_until};
use std::process::Output;

const USER: &str = "user@vmail.e2e.test";

/// Runs a sendmail (ours or Postfix's) against the instance.
fn run(mx: &Instance, sendmail: &str, args: &[&str], input: &str) -> Output {
    mx.run_with_input(sendmail, args, input.as_bytes())
}

fn ours() -> String {
    program("sendmail").display().to_string()
}

const POSTFIX: &str = "/usr/sbin/sendmail";

fn delivered(mx: &Instance, needle: &str) -> String {
    if !wait_until(30, || mx.mailbox().iter().any(|m| m.contains(needle))) {
        mx.keep_for_inspection();
        panic!("nothing with {needle:?} delivered; log:\n{}", mx.log());
    }
    mx.mailbox()
        .into_iter()
        .find(|m| m.contains(needle))
        .unwrap()
}

/// A delivered message with queue ids, dates and message ids masked.
fn normalized(message: &str, marker: &str) -> String {
    message
        .replace(marker, "MARKER")
        .lines()
        .map(|line| {
            if line.starts_with("Date: ") || line.starts_with("Message-Id: ") {
                return line.split(':').next().unwrap().to_string();
            }
            if let Some(rest) = line.strip_prefix("\tid ") {
                return format!("\tid {}", rest.split(';').count());
            }
            line.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A report with what differs between two runs masked: queue ids and other long hex or
/// digit runs, and dates.
fn masked(report: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let hex = run.len() >= 8 && run.bytes().all(|b| b.is_ascii_hexdigit());
        let digits = !run.is_empty() && run.bytes().all(|b| b.is_ascii_digit());
        out.push_str(if hex || digits { "#" } else { run });
        run.clear();
    };
    for c in report.chars() {
        if c.is_ascii_alphanumeric() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out.lines()
        .map(|l| match l.split_once(": ") {
            Some((name, _)) if name.ends_with("Date") => name.to_string(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn submission_matches_postfix_sendmail() {
    let Some(mut mx) = Instance::new("t-18-submit") else {
        return;
    };
    mx.install_commands();
    mx.start();
    let message =
        "From: Someone <someone@example.org>\r\nSubject: @M@\r\n\r\nline one\r\n.dot line\r\n";
    // Each sendmail with its own postdrop: ironpost's leg against Postfix's.
    let legs = [
        (ours(), "@DIR@/sbin", "t18-ours"),
        (POSTFIX.to_string(), "/usr/sbin", "t18-theirs"),
    ];
    for (sendmail, command_directory, marker) in legs {
        mx.set_main_cf("command_directory", command_directory);
        let out = run(
            &mx,
            &sendmail,
            &["-f", "root", "-F", "Charlie Root", USER],
            &message.replace("@M@", marker),
        );
        assert!(out.status.success(), "{sendmail}: {out:?}");
        assert!(out.stdout.is_empty());
    }
    let got = delivered(&mx, "t18-ours");
    let expected = delivered(&mx, "t18-theirs");
    assert!(got.contains("line one\n.dot line\n"), "{got}");
    assert_eq!(
        normalized(&got, "t18-ours"),
        normalized(&expected, "t18-theirs")
    );
    mx.postfix(&["stop"]);
}

#[test]
fn recipients_from_headers_with_t() {
    let Some(mut mx) = Instance::new("t-18-extract") else {
        return;
    };
    mx.install_commands();
    mx.start();
    let message = format!(
        "To: Someone Else <{USER}>\nCc: nobody-here@vmail.e2e.test.invalid\nSubject: t18-extract\n\nbody\n"
    );
    let out = run(&mx, &ours(), &["-t", "-f", "root"], &message);
    assert!(out.status.success(), "{out:?}");
    delivered(&mx, "t18-extract");
    // The Cc recipient was extracted too (and bounced: its domain does not exist).
    mx.wait_log("to=<nobody-here@vmail.e2e.test.invalid>", 20);
    // Without recipients anywhere, both programs say the same and exit 75 (EX_TEMPFAIL:
    // Postfix's sendmail exits so after any fatal error).
    for sendmail in [ours(), POSTFIX.to_string()] {
        let out = run(
            &mx,
            &sendmail,
            &["-t", "-f", "root"],
            "Subject: none\n\nx\n",
        );
        assert_eq!(out.status.code(), Some(75), "{sendmail}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "sendmail: fatal: root(0): No recipient addresses found in message header\n",
            "{sendmail}"
        );
        let out = run(&mx, &sendmail, &["-f", "root"], "Subject: none\n\nx\n");
        assert_eq!(out.status.code(), Some(75), "{sendmail}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "sendmail: fatal: root(0): Recipient addresses must be specified on the command line or via the -t option\n",
            "{sendmail}"
        );
    }
    mx.postfix(&["stop"]);
}

#[test]
fn bv_and_v_give_delivery_reports() {
    let Some(mut mx) = Instance::new("t-18-reports") else {
        return;
    };
    mx.install_commands();
    mx.start();
    // What-if: nothing is delivered, a report says what would happen.
    let out = run(&mx, &ours(), &["-bv", "-f", USER, USER], "");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("Mail Delivery Status Report will be mailed to <{USER}>.\n")
    );
    let report = delivered(&mx, "Action: deliverable");
    assert!(
        report.contains(&format!("Final-Recipient: rfc822; {USER}")),
        "{report}"
    );
    assert!(report.contains("Content-Type: multipart/report; report-type=delivery-status"));
    assert_eq!(
        mx.mailbox().len(),
        1,
        "-bv must deliver nothing but the report"
    );
    // Postfix's sendmail -bv gives the same report.
    let out = run(&mx, POSTFIX, &["-bv", "-f", USER, USER], "");
    assert!(out.status.success(), "{out:?}");
    assert!(wait_until(30, || mx.mailbox().len() == 2), "{}", mx.log());
    let reports = mx.mailbox();
    assert_eq!(masked(&reports[0]), masked(&reports[1]));
    // Deliver and report.
    let out = run(
        &mx,
        &ours(),
        &["-v", "-f", USER, USER],
        "Subject: t18-record\n\nbody\n",
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("Mail Delivery Status Report will be mailed to <{USER}>.\n")
    );
    delivered(&mx, "Subject: t18-record");
    let report = delivered(&mx, "Action: delivered");
    assert!(report.contains("delivered to maildir"), "{report}");
    // A user authorized_submit_users does not list is refused, as by Postfix.
    mx.add_main_cf("authorized_submit_users = !root, static:anyone\n");
    for sendmail in [ours(), POSTFIX.to_string()] {
        let out = run(
            &mx,
            &sendmail,
            &["-f", USER, USER],
            "Subject: refused\n\nx\n",
        );
        assert_eq!(out.status.code(), Some(75), "{sendmail}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "sendmail: fatal: User root(0) is not allowed to submit mail\n",
            "{sendmail}"
        );
    }
    // -v with -bv is a usage error, as in Postfix.

    let out = run(&mx, &ours(), &["-bv", "-v", USER], "");
    assert_eq!(out.status.code(), Some(75));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "sendmail: fatal: -v option cannot be used with -bv\n"
    );
    mx.postfix(&["stop"]);
}

#[test]
fn mailq_is_postqueue_p() {
    let Some(mut mx) = Instance::new("t-18-mailq") else {
        return;
    };
    mx.install_commands();
    mx.start();
    let out = run(&mx, &ours(), &["-bp"], "");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Mail queue is empty\n"
    );
    mx.postfix(&["stop"]);
}

/// The whole local submission leg is ironpost's: our sendmail runs our postdrop, which it
/// finds in command_directory (without one there, it fails), and our pickup hands the
/// file to cleanup; the message arrives.
#[test]
fn our_sendmail_postdrop_and_pickup_deliver() {
    let Some(mut mx) = Instance::new("t-18-leg") else {
        return;
    };
    let postdrop = mx.install_commands();
    assert_eq!(
        std::fs::read(&postdrop).unwrap(),
        std::fs::read(program("postdrop")).unwrap(),
        "the command directory's postdrop is ironpost's"
    );
    mx.start();
    let submit = |marker: &str| {
        run(
            &mx,
            &ours(),
            &["-f", "root", USER],
            &format!("Subject: {marker}\n\nbody {marker}\n"),
        )
    };
    // sendmail takes postdrop from command_directory and nowhere else.
    mx.set_main_cf("command_directory", "@DIR@/empty");
    std::fs::create_dir_all(mx.dir.join("empty")).unwrap();
    let out = submit("t18-nowhere");
    assert_eq!(out.status.code(), Some(75), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        mx.expand(
            "sendmail: fatal: root(0): unable to execute @DIR@/empty/postdrop -r: \
             No such file or directory\n"
        )
    );
    mx.set_main_cf("command_directory", "@DIR@/sbin");
    let out = submit("t18-leg");
    assert!(out.status.success(), "{out:?}\nlog:\n{}", mx.log());
    let message = delivered(&mx, "t18-leg");
    assert!(
        message.contains("Received: by mail.e2e.test (Postfix, from userid 0)"),
        "{message}"
    );
    assert!(message.contains("\nbody t18-leg\n"), "{message}");
    assert!(!mx.mailbox().iter().any(|m| m.contains("t18-nowhere")));
    // Picked up by ironpost's pickup, which logs "QUEUEID: uid=0 from=<root>".
    let pickups = mx.daemons("pickup");
    assert_eq!(pickups.len(), 1, "one pickup");
    let exe = std::fs::read_link(format!("/proc/{}/exe", pickups[0])).unwrap();
    assert_eq!(exe, mx.dir.join("libexec/pickup"));
    assert_eq!(
        std::fs::read(&exe).unwrap(),
        std::fs::read(program("pickup")).unwrap(),
        "the instance's pickup is ironpost's"
    );
    let log = mx.log();
    assert!(
        log.lines()
            .any(|l| l.contains("/pickup[") && l.contains(": uid=0 from=<root>")),
        "{log}"
    );
    assert!(mx.leftovers_in_maildrop().is_empty());
    mx.postfix(&["stop"]);
}
