//! bounce: ironpost's bounce service (as the bounce, defer and trace services) beside
//! Postfix's delivery agents, each scenario run twice in the same harness, once with
//! our bounce and once with Postfix 3.7's: a 5xx from the error transport, an unknown
//! virtual user with a postmaster copy (notify_classes = bounce), a double bounce
//! (notify_classes = 2bounce), a delay warning (delay_warning_time), lifetime expiry
//! (maximal_queue_lifetime = 0), a bounce_template_file template, and sendmail's DSN
//! options (NOTIFY=SUCCESS,FAILURE, RET=HDRS, ENVID: a success notice and a
//! non-delivery notice with the headers only), and a remote server that refuses the
//! recipient with 550 (Remote-MTA and the smtp Diagnostic-Code), an SMTPUTF8 message
//! refused by the error transport (message/global-delivery-status, the message returned
//! as message/global); and Postfix's queue
//! manager driving our bounce service (a bounce, a delay warning and a `sendmail -v`
//! report). The notices mailed
//! back (headers, the three MIME parts, the per-recipient fields, the returned message),
//! the log lines (`sender non-delivery notification: QUEUEID`...) and what is left in
//! the bounce/ and defer/ directories must be equal once queue IDs, dates and MIME
//! boundary times are normalised.
//!
//! harness.rs: the shared helpers (t-30 uses them too).

mod harness;
#[allow(dead_code)]
#[path = "../t-23-qmgr/harness.rs"]
mod qmgr_harness;

use harness::*;

/// What one run shows: the notices, the log lines, and the logs left behind.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    notices: Vec<String>,
    lines: Vec<String>,
    logs_left: (usize, usize),
}

fn run_of(mx: &e2e::Instance) -> Run {
    Run {
        notices: notices(mx),
        lines: lines_of(
            mx,
            &[
                "bounce", "defer", "qmgr", "error", "virtual", "smtp", "cleanup",
            ],
        ),
        logs_left: (
            queue_files(mx, "bounce").len(),
            queue_files(mx, "defer").len(),
        ),
    }
}

fn assert_runs(ours: &Run, postfix: &Run) {
    assert_same("notices", &ours.notices, &postfix.notices);
    assert_same("log lines", &ours.lines, &postfix.lines);
    assert_eq!(ours.logs_left, postfix.logs_left, "logs left behind");
}

/// A recipient of the error transport: a non-delivery notice to the sender.
fn error_transport(bounce: Bounce) -> Option<Run> {
    let mut mx = instance("t-29-error", bounce)?;
    mx.start();
    sendmail(&mx, USER, ERROR, "t29-error");
    // The message and the notice.
    wait_count(&mx, ": removed", 2, 60);
    Some(run_of(&mx))
}

#[test]
fn a_5xx_from_the_error_transport_bounces_as_with_postfix() {
    let Some((ours, postfix)) = both(error_transport) else {
        return;
    };
    assert_eq!(ours.notices.len(), 1, "{ours:#?}");
    let notice = &ours.notices[0];
    assert_has(
        notice,
        &[
            "Subject: Undelivered Mail Returned to Sender",
            "Content-Type: multipart/report; report-type=delivery-status;",
            "Content-Type: message/delivery-status",
            "Action: failed",
            "Status: 5.1.1",
            "Content-Type: message/rfc822",
            "body t29-error",
        ],
    );
    assert!(
        ours.lines
            .iter()
            .any(|l| l.contains("sender non-delivery notification: QUEUEID")),
        "{:#?}",
        ours.lines
    );
    assert_eq!(ours.logs_left, (0, 0));
    assert_runs(&ours, &postfix);
}

/// An unknown virtual user, with notify_classes = bounce: the sender's notice and the
/// postmaster's copy (headers only), both to the virtual user.
fn unknown_user(bounce: Bounce) -> Option<Run> {
    let mut mx = instance("t-29-unknown", bounce)?;
    mx.set_main_cf("notify_classes", "bounce, resource, software");
    mx.set_main_cf("bounce_notice_recipient", USER);
    mx.start();
    sendmail(&mx, USER, "nobody@vmail.e2e.test", "t29-unknown");
    wait_count(&mx, ": removed", 3, 60);
    Some(run_of(&mx))
}

#[test]
fn an_unknown_user_bounces_with_a_postmaster_copy_as_with_postfix() {
    let Some((ours, postfix)) = both(unknown_user) else {
        return;
    };
    assert_eq!(ours.notices.len(), 2, "{ours:#?}");
    assert!(
        ours.notices
            .iter()
            .any(|n| n.contains("Subject: Postmaster Copy: Undelivered Mail")
                && n.contains("Auto-Submitted: auto-generated")
                && n.contains("Content-Type: text/rfc822-headers")),
        "{:#?}",
        ours.notices
    );
    assert!(
        ours.lines
            .iter()
            .any(|l| l.contains("postmaster non-delivery notification: QUEUEID")),
        "{:#?}",
        ours.lines
    );
    assert_runs(&ours, &postfix);
}

/// A bounce that bounces: a message from the null sender to the error transport, with
/// notify_classes = 2bounce, goes to 2bounce_notice_recipient from the double-bounce
/// address.
fn double_bounce(bounce: Bounce) -> Option<Run> {
    let mut mx = instance("t-29-2bounce", bounce)?;
    mx.set_main_cf("notify_classes", "2bounce, resource, software");
    mx.set_main_cf("2bounce_notice_recipient", USER);
    mx.start();
    let message = "From: MAILER-DAEMON\nSubject: t29-2bounce\n\nbody t29-2bounce\n";
    let out = mx.sendmail(&["-f", "", ERROR], message);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_count(&mx, ": removed", 2, 60);
    Some(run_of(&mx))
}

#[test]
fn a_double_bounce_goes_to_the_postmaster_as_with_postfix() {
    let Some((ours, postfix)) = both(double_bounce) else {
        return;
    };
    assert_eq!(ours.notices.len(), 1, "{ours:#?}");
    assert!(ours.notices[0].contains("Return-Path: <double-bounce@mail.e2e.test>"));
    assert_runs(&ours, &postfix);
}

/// delay_warning_time reached at the first deferral: a delay notice from the defer
/// log, which stays for the next attempt.
fn delay_warning(bounce: Bounce) -> Option<Run> {
    let mut mx = instance("t-29-delay", bounce)?;
    mx.set_main_cf("delay_warning_time", "1s");
    mx.start();
    sendmail(&mx, USER, FAR, "t29-delay");
    wait_count(&mx, ": removed", 1, 60);
    wait_queue(&mx, "deferred", 1);
    Some(run_of(&mx))
}

#[test]
fn a_delay_warning_is_sent_as_with_postfix() {
    let Some((ours, postfix)) = both(delay_warning) else {
        return;
    };
    assert_eq!(ours.notices.len(), 1, "{ours:#?}");
    let notice = &ours.notices[0];
    assert_has(
        notice,
        &[
            "Subject: Delayed Mail (still being retried)",
            "Action: delayed",
            "Will-Retry-Until: DATE",
            "Content-Description: Undelivered Message Headers",
        ],
    );
    assert_eq!(ours.logs_left, (0, 1), "the defer log stays");
    assert_runs(&ours, &postfix);
}

/// maximal_queue_lifetime = 0: the first deferral expires the message, which is
/// returned from its defer log, then removed.
fn expiry(bounce: Bounce) -> Option<Run> {
    let mut mx = instance("t-29-expire", bounce)?;
    mx.set_main_cf("maximal_queue_lifetime", "0");
    mx.start();
    sendmail(&mx, USER, FAR, "t29-expire");
    wait_count(&mx, ": removed", 2, 60);
    Some(run_of(&mx))
}

#[test]
fn an_expired_message_is_returned_as_with_postfix() {
    let Some((ours, postfix)) = both(expiry) else {
        return;
    };
    assert_eq!(ours.notices.len(), 1, "{ours:#?}");
    assert!(ours.notices[0].contains("Action: failed"));
    assert_eq!(ours.logs_left, (0, 0), "the defer log is removed");
    assert_runs(&ours, &postfix);
}

/// A bounce_template_file with its own failure template (charset, From:, Subject:,
/// text with $name and a time conversion).
fn template_file(bounce: Bounce) -> Option<Run> {
    let mut mx = instance("t-29-template", bounce)?;
    mx.write(
        "etc/bounce.cf",
        "# t-29\n\
         failure_template = <<EOF\n\
         Charset: us-ascii\n\
         From: Mail Robot <MAILER-DAEMON>\n\
         Subject: Your mail to an error address\n\
         \n\
         Hello, this is $myhostname ($mail_name).\n\
         Mail stays queued for $maximal_queue_lifetime_days days at most.\n\
         EOF\n",
    );
    mx.set_main_cf("bounce_template_file", "@DIR@/etc/bounce.cf");
    mx.start();
    sendmail(&mx, USER, ERROR, "t29-template");
    wait_count(&mx, ": removed", 2, 60);
    Some(run_of(&mx))
}

#[test]
fn a_template_file_is_used_as_by_postfix() {
    let Some((ours, postfix)) = both(template_file) else {
        return;
    };
    assert_eq!(ours.notices.len(), 1, "{ours:#?}");
    let notice = &ours.notices[0];
    assert_has(
        notice,
        &[
            "Subject: Your mail to an error address",
            "Hello, this is mail.e2e.test (Postfix).",
            "Mail stays queued for 5 days at most.",
        ],
    );
    assert_runs(&ours, &postfix);
}

/// sendmail -N success,failure -R hdrs -V ENVID to a mailbox and an unknown user: a
/// DSN success notice from the trace log ("Successful Mail Delivery Report", action
/// delivered) and a non-delivery notice with the original's headers only, both naming
/// the envelope ID.
fn dsn_options(bounce: Bounce) -> Option<Run> {
    let mut mx = instance("t-29-dsn", bounce)?;
    mx.start();
    let message = "From: user@vmail.e2e.test\nSubject: t29-dsn\n\nbody t29-dsn\n";
    let out = mx.sendmail(
        &[
            "-N",
            "success,failure",
            "-R",
            "hdrs",
            "-V",
            "ENV-t29",
            "-f",
            USER,
            USER,
            "nobody@vmail.e2e.test",
        ],
        message,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The message, the non-delivery notice and the success notice.
    wait_count(&mx, ": removed", 3, 60);
    Some(run_of(&mx))
}

#[test]
fn dsn_options_give_success_and_headers_only_notices_as_with_postfix() {
    let Some((ours, postfix)) = both(dsn_options) else {
        return;
    };
    assert_eq!(ours.notices.len(), 2, "{ours:#?}");
    let all = ours.notices.join("\n");
    assert_has(
        &all,
        &[
            "Subject: Successful Mail Delivery Report",
            "Action: delivered",
            "Original-Envelope-Id: ENV-t29",
            "Content-Type: text/rfc822-headers",
            "Action: failed",
        ],
    );
    assert!(!all.contains("body t29-dsn"), "RET=HDRS returned the body");
    assert_runs(&ours, &postfix);
}

/// smtp-sink on the relay's port, refusing every RCPT TO with a 550; killed when
/// dropped.
struct RefusingRelay(std::process::Child);

impl RefusingRelay {
    fn start(mx: &e2e::Instance) -> RefusingRelay {
        let child = std::process::Command::new("/usr/sbin/smtp-sink")
            .args(["-u", "nobody", "-f", "RCPT", "-B"])
            .arg("550 5.1.1 Recipient address rejected: User unknown")
            .arg(format!("127.0.0.1:{}", mx.sink_port))
            .arg("10")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("smtp-sink");
        e2e::wait_until(5, || {
            std::net::TcpStream::connect(("127.0.0.1", mx.sink_port)).is_ok()
        });
        RefusingRelay(child)
    }
}

impl Drop for RefusingRelay {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A remote server refuses the recipient: the smtp agent's status carries the remote
/// MTA and its reply, which the notice reports as Remote-MTA and Diagnostic-Code.
fn remote_refusal(bounce: Bounce) -> Option<Run> {
    let mut mx = instance("t-29-remote", bounce)?;
    let _relay = RefusingRelay::start(&mx);
    mx.start();
    sendmail(&mx, USER, FAR, "t29-remote");
    wait_count(&mx, ": removed", 2, 60);
    Some(run_of(&mx))
}

#[test]
fn a_remote_refusal_is_reported_with_the_remote_mta_as_with_postfix() {
    let Some((ours, postfix)) = both(remote_refusal) else {
        return;
    };
    assert_eq!(ours.notices.len(), 1, "{ours:#?}");
    let notice = &ours.notices[0];
    assert_has(
        notice,
        &[
            "Remote-MTA: dns; 127.0.0.1",
            "Diagnostic-Code: smtp; 550 5.1.1 Recipient address rejected: User unknown",
            "<far@relay.e2e.test>: host 127.0.0.1[127.0.0.1] said: 550 5.1.1 Recipient\n    address rejected: User unknown (in reply to RCPT TO command)",
        ],
    );
    assert_runs(&ours, &postfix);
}

/// Postfix's qmgr with our bounce service, against Postfix's qmgr with Postfix's: a
/// bounce from the error transport, a delay warning and a `sendmail -v` report, as
/// Postfix's queue manager asks for them.
fn postfix_qmgr(bounce: Bounce) -> Option<Run> {
    let mut mx = instance_with("t-29-pf-qmgr", bounce, &["qmgr"])?;
    mx.set_main_cf("delay_warning_time", "1s");
    mx.start();
    // One at a time, so that the queue IDs come in the same order in both runs.
    sendmail(&mx, USER, ERROR, "t29-pfq-error");
    wait_count(&mx, ": removed", 2, 60);
    let message = "From: user@vmail.e2e.test\nSubject: t29-pfq-v\n\nbody t29-pfq-v\n";
    let out = mx.sendmail(&["-v", "-f", USER, USER], message);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_count(&mx, ": removed", 4, 60);
    sendmail(&mx, USER, FAR, "t29-pfq-delay");
    // The delay notice is removed; the delayed message stays.
    wait_count(&mx, ": removed", 5, 60);
    wait_queue(&mx, "deferred", 1);
    Some(run_of(&mx))
}

#[test]
fn postfix_qmgr_drives_our_bounce_as_its_own() {
    let Some((ours, postfix)) = both(postfix_qmgr) else {
        return;
    };
    assert_eq!(ours.notices.len(), 3, "{ours:#?}");
    assert_runs(&ours, &postfix);
}

/// Sends a message with Python's smtplib and SMTPUTF8 (MAIL FROM ... SMTPUTF8): a
/// UTF-8 recipient, subject and body.
fn send_smtputf8(mx: &e2e::Instance, from: &str, to: &str, marker: &str) {
    let script = "import smtplib, sys\n\
        port, sender, rcpt, marker = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]\n\
        msg = 'From: <%s>\\r\\nTo: <%s>\\r\\nSubject: %s caf\\u00e9\\r\\nMessage-Id: <%s@e2e.test>\\r\\n\\r\\nbody %s \\u00e9t\\u00e9\\r\\n' % (sender, rcpt, marker, marker, marker)\n\
        s = smtplib.SMTP('127.0.0.1', port, timeout=30)\n\
        s.ehlo()\n\
        s.sendmail(sender, [rcpt], msg.encode('utf-8'), mail_options=['SMTPUTF8', 'BODY=8BITMIME'])\n\
        s.quit()\n";
    let out = std::process::Command::new("python3")
        .args(["-c", script, &mx.smtp_port.to_string(), from, to, marker])
        .output()
        .expect("python3");
    if !out.status.success() {
        mx.keep_for_inspection();
        panic!(
            "smtplib: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            mx.log()
        );
    }
}

/// An SMTPUTF8 message for a UTF-8 recipient of the error transport: the sender's
/// notice is an SMTPUTF8 report (message/global-delivery-status, the message returned
/// as message/global).
fn smtputf8(bounce: Bounce) -> Option<Run> {
    let mut mx = instance("t-29-smtputf8", bounce)?;
    // smtpd would refuse an error-transport recipient at RCPT time.
    mx.set_main_cf("smtpd_reject_unlisted_recipient", "no");
    mx.start();
    send_smtputf8(&mx, USER, "us\u{e9}r@error.e2e.test", "t29-utf8");
    // The message and the notice.
    wait_count(&mx, ": removed", 2, 60);
    Some(run_of(&mx))
}

#[test]
fn an_smtputf8_message_bounces_with_a_global_report_as_with_postfix() {
    let Some((ours, postfix)) = both(smtputf8) else {
        return;
    };
    assert_eq!(ours.notices.len(), 1, "{ours:#?}");
    assert_has(
        &ours.notices[0],
        &[
            "Subject: Undelivered Mail Returned to Sender",
            "Content-Type: multipart/report; report-type=delivery-status;",
            "Content-Type: message/global-delivery-status",
            "Final-Recipient: utf-8; us\u{e9}r@error.e2e.test",
            "Action: failed",
            "Status: 5.1.1",
            "Content-Description: Undelivered Message\nContent-Type: message/global\n",
            "Subject: t29-utf8 caf\u{e9}",
            "body t29-utf8 \u{e9}t\u{e9}",
        ],
    );
    assert_runs(&ours, &postfix);
}
