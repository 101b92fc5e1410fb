//! qmgr: mail submitted with sendmail and SMTP goes through ironpost's queue manager to
//! Postfix's delivery agents (virtual, smtp to smtp-sink, discard), a recipient the
//! virtual agent does not know is bounced through Postfix's bounce service, a message
//! for a relay that is down is deferred (deferred/, the defer log, the retry time as the
//! file's time stamp) and delivered after `postfix flush`, and a message left in active/
//! by a crash is delivered after a restart. Each scenario also runs with Postfix's qmgr
//! in the same harness: the queue manager's log lines (`from=...(queue active)`,
//! `removed`) and the agents' status lines (which depend on what the delivery request
//! carried: recipients, original recipients, offsets, time stamps) must be equal after
//! queue IDs, sizes, delays and ports are normalised. This file: deliveries to the
//! three agents and a bounce.
//!
//! Modules: deferral.rs (deferred/, flush, retry, the backoff by the message's age,
//! expiry, delay warnings, recovery),
//! destinations.rs (concurrency and process limits, dead destinations, unreachable
//! transports), reports.rs (sendmail -v, -v logging, flow control tokens), routing.rs
//! (double-bounce address, REDIRECT, content_filter); harness.rs the shared helpers.

mod deferral;
mod destinations;
mod harness;
mod reports;
mod routing;

use harness::*;

/// The deliveries scenario; returns the normalised qmgr and agent lines.
fn deliveries(qmgr: Qmgr) -> Option<(Vec<String>, Vec<String>)> {
    let mut mx = instance("t-23-deliver", qmgr)?;
    mx.start_sink();
    mx.start();
    sendmail(&mx, USER, USER, "t23-virtual");
    sendmail(&mx, "root", "someone@discard.e2e.test", "t23-discard");
    if let Err(e) = mx.send(mx.smtp_port, "a@example.org", FAR, "t23-relay") {
        mx.keep_for_inspection();
        panic!("SMTP: {e}\n{}", mx.log());
    }
    // An unknown virtual user: the virtual agent bounces, the bounce service returns
    // the message to the sender, whose mailbox is the virtual user's.
    sendmail(&mx, USER, "nobody@vmail.e2e.test", "t23-bounce");
    // Five messages: four submitted, one non-delivery notice.
    wait_count(&mx, ": removed", 5, 60);
    // One event loop in one thread, as Postfix's qmgr: the trigger socket is served
    // where the deliveries are, with no second thread to wake per message.
    let qmgrs = mx.daemons("qmgr");
    assert_eq!(qmgrs.len(), 1, "qmgr processes: {qmgrs:?}");
    let threads = std::fs::read_dir(format!("/proc/{}/task", qmgrs[0]))
        .map(Iterator::count)
        .unwrap_or(0);
    assert_eq!(threads, 1, "threads of qmgr {}", qmgrs[0]);
    let mailbox = mx.mailbox();
    assert!(
        mailbox.iter().any(|m| m.contains("body t23-virtual")),
        "{mailbox:?}"
    );
    assert!(
        mailbox
            .iter()
            .any(|m| m.contains("Undelivered Mail Returned to Sender")
                && m.contains("nobody@vmail.e2e.test")),
        "no bounce in {mailbox:?}"
    );
    assert!(
        sunk(&mx).iter().any(|m| m.contains("t23-relay")),
        "nothing relayed"
    );
    for queue in ["active", "incoming", "deferred"] {
        assert!(
            queue_files(&mx, queue).is_empty(),
            "{queue} not empty:\n{}",
            mx.log()
        );
    }
    Some((
        lines_of(&mx, &["qmgr"]),
        lines_of(&mx, &["virtual", "smtp", "discard", "bounce"]),
    ))
}

#[test]
fn deliveries_and_bounces_log_as_with_postfix_qmgr() {
    let Some(((ours, our_agents), (postfix, postfix_agents))) = both(deliveries) else {
        return;
    };
    assert_eq!(ours, postfix, "qmgr lines differ");
    assert_eq!(our_agents, postfix_agents, "agent lines differ");
    assert_eq!(ours.iter().filter(|l| l.ends_with(": removed")).count(), 5);
}
