//! Delivery reports (sendmail -v), -v logging and flow control tokens.

use crate::harness::*;

/// `sendmail -v`: the message is delivered and the trace service mails the sender a
/// delivery report when the queue manager is done; the normalised lines.
fn record(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-record", qmgr)?;
    mx.start();
    let message = "From: user@vmail.e2e.test\nSubject: t23-record\n\nbody t23-record\n";
    let out = mx.sendmail(&["-v", "-f", USER, USER], message);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The message and the report.
    wait_count(&mx, ": removed", 2, 60);
    let mailbox = mx.mailbox();
    assert!(mailbox.iter().any(|m| m.contains("body t23-record")));
    assert!(
        mailbox
            .iter()
            .any(|m| m.contains("Subject: Mail Delivery Status Report")),
        "no report in {mailbox:?}"
    );
    Some(lines_of(&mx, &["qmgr", "virtual", "bounce"]))
}

#[test]
fn sendmail_v_gets_its_delivery_report_as_with_postfix() {
    let Some((ours, postfix)) = both(record) else {
        return;
    };
    assert_eq!(ours, postfix);
}

/// The type byte of the record that holds `trace_flags=` in `file`.
fn trace_flags_record_type(file: &[u8]) -> Option<u8> {
    let at = file.windows(12).position(|w| w == b"trace_flags=")?;
    // Type byte, one length byte (the record is short), then the data.
    at.checked_sub(2).map(|i| file[i])
}

/// `sendmail -v` for a relay that is down: the report of the first attempt is mailed,
/// and the trace flags record is killed in the deferred file so that the next attempt
/// sends none; the record type and the normalised lines.
fn record_deferred(qmgr: Qmgr) -> Option<(u8, Vec<String>)> {
    let mut mx = instance("t-23-record-defer", qmgr)?;
    mx.start();
    let message = "From: user@vmail.e2e.test\nSubject: t23-rd\n\nbody t23-rd\n";
    let out = mx.sendmail(&["-v", "-f", USER, FAR], message);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The report is delivered and removed; the message waits in deferred/.
    wait_count(&mx, ": removed", 1, 60);
    wait_queue(&mx, "deferred", 1);
    let (_, path) = queue_files(&mx, "deferred").into_iter().next().unwrap();
    let kind = trace_flags_record_type(&std::fs::read(path).unwrap()).expect("trace_flags");
    Some((kind, lines_of(&mx, &["qmgr", "smtp", "bounce", "virtual"])))
}

#[test]
fn sendmail_v_reports_the_first_attempt_only_as_with_postfix() {
    let Some((ours, postfix)) = both(record_deferred) else {
        return;
    };
    assert_eq!(ours.0, b'K', "trace flags record not killed");
    assert_eq!(ours, postfix);
}

/// With `-v` the queue manager says what it does (triggers, feeds, deliveries, the end
/// of each message); cleanup finds a flow control token for each message.
#[test]
fn verbose_logging_and_flow_control_tokens() {
    let Some(mut mx) = instance("t-23-verbose", Qmgr::Ours) else {
        return;
    };
    mx.replace_master_cf_line(|l| l.starts_with("qmgr "), "qmgr unix n - n 300 1 qmgr -v");
    mx.replace_master_cf_line(
        |l| l.starts_with("cleanup "),
        "cleanup unix n - n - 0 cleanup -v",
    );
    mx.start();
    for n in 0..3 {
        sendmail(&mx, "root", USER, &format!("t23-verbose-{n}"));
        wait_count(&mx, ": removed", n + 1, 30);
    }
    let log = mx.log();
    for needle in [
        "postfix/qmgr",
        "qmgr_active_feed: queue incoming",
        "qmgr_deliver: site `vmail.e2e.test'",
        "qmgr_active_done: ",
        "resolve_clnt: `root@mail.e2e.test' `user@vmail.e2e.test' -> `virtual'",
        "mail_flow_put: ",
    ] {
        assert!(log.contains(needle), "no \"{needle}\" in:\n{log}");
    }
    assert_eq!(
        log.matches("mail_flow_get: 1 1").count(),
        3,
        "a token for each message:\n{log}"
    );
}
