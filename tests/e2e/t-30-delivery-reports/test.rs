//! The Debugging Howto's delivery reports through ironpost's trace service, each run
//! with our bounce program and with Postfix 3.7's in the same harness:
//! `sendmail -bv user` (the agents say what they would do, nothing is delivered, the
//! report says `Action: deliverable`), `sendmail -bv` for an address the error transport
//! refuses (`Action: undeliverable`), and `sendmail -v user` (the message is delivered
//! and the report says `Action: delivered`). The report mailed back (Subject: Mail
//! Delivery Status Report, the verify template's text, the per-recipient lines with the
//! agents' texts, X-Postfix-Queue-ID, X-Postfix-Sender, the headers of the probe), the
//! log lines (`sender delivery status notification: QUEUEID`) and the trace/ directory
//! (emptied) must be equal once queue IDs, dates and boundaries are normalised.

#[path = "../t-29-bounce/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../t-23-qmgr/harness.rs"]
mod qmgr_harness;

use harness::*;

/// What one run shows.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    reports: Vec<String>,
    lines: Vec<String>,
    /// Messages in the mailbox that are not reports.
    delivered: usize,
    traces_left: usize,
}

/// Runs sendmail with `args` for the user, waits for `removed` messages, and collects.
fn report(name: &str, bounce: Bounce, args: &[&str], to: &str, removed: usize) -> Option<Run> {
    let mut mx = instance(name, bounce)?;
    mx.start();
    let mut argv = args.to_vec();
    argv.extend(["-f", USER, to]);
    let message = "From: user@vmail.e2e.test\nSubject: t30\n\nbody t30\n";
    let out = mx.sendmail(&argv, message);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Mail Delivery Status Report will be mailed to <user@vmail.e2e.test>.\n"
    );
    wait_count(&mx, ": removed", removed, 60);
    let mailbox = mx.mailbox();
    Some(Run {
        reports: notices(&mx),
        lines: lines_of(
            &mx,
            &["bounce", "trace", "qmgr", "virtual", "error", "cleanup"],
        ),
        delivered: mailbox
            .iter()
            .filter(|m| !m.contains("multipart/report"))
            .count(),
        traces_left: queue_files(&mx, "trace").len(),
    })
}

fn assert_runs(ours: &Run, postfix: &Run) {
    assert_same("reports", &ours.reports, &postfix.reports);
    assert_same("log lines", &ours.lines, &postfix.lines);
    assert_eq!(ours.delivered, postfix.delivered);
    assert_eq!(ours.traces_left, postfix.traces_left);
}

#[test]
fn sendmail_bv_reports_what_would_happen_as_with_postfix() {
    let Some((ours, postfix)) = both(|b| report("t-30-bv", b, &["-bv"], USER, 2)) else {
        return;
    };
    assert_eq!(ours.delivered, 0, "-bv delivers nothing");
    assert_eq!(ours.reports.len(), 1, "{ours:#?}");
    let report = &ours.reports[0];
    assert_has(
        report,
        &[
            "Subject: Mail Delivery Status Report",
            "Enclosed is the mail delivery report that you requested.",
            "Action: deliverable",
            "X-Postfix-Queue-ID: QUEUEID",
            "X-Postfix-Sender: rfc822; user@vmail.e2e.test",
            "Content-Type: text/rfc822-headers",
            "Subject: probe",
        ],
    );
    assert!(
        ours.lines
            .iter()
            .any(|l| l.contains("sender delivery status notification: QUEUEID")),
        "{:#?}",
        ours.lines
    );
    assert_eq!(ours.traces_left, 0);
    assert_runs(&ours, &postfix);
}

#[test]
fn sendmail_bv_reports_an_undeliverable_address_as_with_postfix() {
    let Some((ours, postfix)) = both(|b| report("t-30-bv-error", b, &["-bv"], ERROR, 2)) else {
        return;
    };
    assert_eq!(ours.reports.len(), 1, "{ours:#?}");
    assert!(ours.reports[0].contains("Action: undeliverable"));
    assert_runs(&ours, &postfix);
}

#[test]
fn sendmail_v_delivers_and_reports_as_with_postfix() {
    let Some((ours, postfix)) = both(|b| report("t-30-v", b, &["-v"], USER, 2)) else {
        return;
    };
    assert_eq!(ours.delivered, 1, "-v delivers");
    assert_eq!(ours.reports.len(), 1, "{ours:#?}");
    assert!(ours.reports[0].contains("Action: delivered"));
    assert_runs(&ours, &postfix);
}
