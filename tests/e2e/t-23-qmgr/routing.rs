//! Routing decisions of the queue manager: the double-bounce address, REDIRECT,
//! content_filter.

use crate::harness::*;

/// Mail for the local double-bounce address is dropped with Postfix's status line; the
/// normalised lines of the queue manager and the discard agent.
fn double_bounce(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-2bounce", qmgr)?;
    mx.start();
    sendmail(&mx, USER, "double-bounce@mail.e2e.test", "t23-2b");
    wait_count(&mx, ": removed", 1, 60);
    assert!(
        queue_files(&mx, "bounce").is_empty(),
        "bounced:\n{}",
        mx.log()
    );
    Some(lines_of(&mx, &["qmgr", "discard"]))
}

#[test]
fn mail_for_the_double_bounce_address_is_dropped_as_with_postfix() {
    let Some((ours, postfix)) = both(double_bounce) else {
        return;
    };
    // The one known difference: Postfix's qmgr logs the line itself, ours has the
    // discard agent log it, with the same text.
    let mut ours: Vec<String> = ours
        .iter()
        .map(|l| l.replacen("postfix/discard: ", "postfix/qmgr: ", 1))
        .collect();
    ours.sort();
    assert_line(
        &ours,
        "status=sent (undeliverable postmaster notification discarded)",
    );
    assert_eq!(ours, postfix);
}

/// A header_checks REDIRECT: the message goes to the redirect address only; the
/// normalised lines.
fn redirect(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-redirect", qmgr)?;
    mx.write(
        "etc/header_checks",
        "/^Subject: t23-redirect/ REDIRECT user@vmail.e2e.test\n",
    );
    mx.set_main_cf("header_checks", "regexp:@DIR@/etc/header_checks");
    mx.start();
    let message = "From: root\nSubject: t23-redirect\n\nbody t23-redirect\n";
    let out = mx.sendmail(&["-f", "root", FAR, "someone@discard.e2e.test"], message);
    assert!(out.status.success());
    wait_count(&mx, ": removed", 1, 60);
    assert!(mx.mailbox().iter().any(|m| m.contains("body t23-redirect")));
    Some(lines_of(&mx, &["qmgr", "virtual", "smtp", "discard"]))
}

#[test]
fn a_redirected_message_goes_to_the_redirect_address_only_as_with_postfix() {
    let Some((ours, postfix)) = both(redirect) else {
        return;
    };
    assert_eq!(
        ours.iter().filter(|l| l.contains(" to=<")).count(),
        1,
        "{ours:#?}"
    );
    assert_eq!(ours, postfix);
}

/// content_filter: every recipient goes to the filter's transport and next hop (here
/// the relay); the normalised lines.
fn content_filter(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-filter", qmgr)?;
    mx.set_main_cf("content_filter", "smtp:[127.0.0.1]:@SINK_PORT@");
    mx.start_sink();
    mx.start();
    sendmail(&mx, "root", USER, "t23-filter");
    wait_count(&mx, ": removed", 1, 60);
    assert!(sunk(&mx).iter().any(|m| m.contains("t23-filter")));
    assert!(mx.mailbox().is_empty());
    Some(lines_of(&mx, &["qmgr", "smtp", "virtual"]))
}

#[test]
fn a_content_filter_gets_every_recipient_as_with_postfix() {
    let Some((ours, postfix)) = both(content_filter) else {
        return;
    };
    assert_eq!(ours, postfix);
}
