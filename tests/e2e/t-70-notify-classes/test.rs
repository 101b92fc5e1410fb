//! t-70: the postmaster's transcript notices of smtpd and smtp (notify_classes), against
//! Postfix 3.7's.
//!
//! smtpd: a pair of instances (Postfix's smtpd, ironpost's) with the same main.cf,
//! error_notice_recipient the virtual user, runs the same raw-socket sessions: one with
//! protocol errors (an unknown command, a command out of order, a bad address), one with
//! a policy refusal (relaying from outside mynetworks). With notify_classes = protocol,
//! policy, resource, software each session brings the postmaster one "SMTP server:
//! errors from" notice; the notices must be equal line by line once queue ids, times and
//! message ids are masked. A third session runs into smtpd_hard_error_limit, and its
//! notice says so ("Session aborted, reason: too many errors"). With the default
//! notify_classes (resource, software) the same sessions bring nothing.
//!
//! smtp: the same message from an instance with Postfix's SMTP client and from one with
//! ironpost's, to a relay (smtp-sink) that answers RCPT with 502, a code no RCPT expects:
//! a protocol error, so the postmaster gets an "SMTP client: errors from" notice with
//! the session's transcript; again equal to Postfix's. A 550 is no protocol error and
//! brings no notice (Postfix's smtp_check_code()).

use e2e::Instance;
use e2e::smtpd_log::{Pair, normalize_message};

const USER: &str = "user@vmail.e2e.test";

/// The postmaster notices in `instance`'s mailbox whose subject has `what`, normalised
/// (the relay's port too, which differs between instances).
fn notices(instance: &Instance, what: &str) -> Vec<String> {
    let port = format!(":{}", instance.sink_port);
    let mut out: Vec<String> = instance
        .mailbox()
        .iter()
        .filter(|m| m.contains(what))
        .map(|m| normalize_message(&m.replace(&port, ":SINKPORT")))
        .collect();
    out.sort();
    out
}

/// Waits for `count` notices with `what` on both sides; they must be equal.
#[track_caller]
fn assert_same_notices(postfix: &Instance, ironpost: &Instance, what: &str, count: usize) {
    let arrived = e2e::wait_until(60, || {
        notices(postfix, what).len() >= count && notices(ironpost, what).len() >= count
    });
    let theirs = notices(postfix, what);
    let ours = notices(ironpost, what);
    if !arrived || theirs != ours {
        postfix.keep_for_inspection();
        ironpost.keep_for_inspection();
    }
    assert!(
        arrived,
        "{} and {} notices, {count} expected\npostfix log:\n{}\nironpost log:\n{}",
        theirs.len(),
        ours.len(),
        postfix.log(),
        ironpost.log()
    );
    assert_eq!(theirs.len(), count, "{theirs:#?}");
    for (a, b) in theirs.iter().zip(&ours) {
        for (n, (la, lb)) in a.lines().zip(b.lines()).enumerate() {
            assert_eq!(la, lb, "line {n} differs\npostfix:\n{a}\nironpost:\n{b}");
        }
        assert_eq!(a, b);
    }
}

/// A session with protocol errors only.
fn protocol_errors() -> Vec<(&'static str, usize)> {
    vec![
        ("EHLO client.example\r\n", 1),
        ("BOGUS command\r\n", 1),
        ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
        ("MAIL FROM:<broken\r\n", 1),
        ("QUIT\r\n", 1),
    ]
}

/// A session with a policy refusal (relaying, from outside mynetworks).
fn policy_error() -> Vec<(&'static str, usize)> {
    vec![
        ("HELO client.example\r\n", 1),
        ("MAIL FROM:<sender@example.org>\r\n", 1),
        ("RCPT TO:<someone@elsewhere.example>\r\n", 1),
        ("QUIT\r\n", 1),
    ]
}

/// A session that ends with smtpd_hard_error_limit (5 here): the notice says why.
fn too_many_errors() -> Vec<(&'static str, usize)> {
    let mut steps = vec![("EHLO client.example\r\n", 1)];
    steps.extend(["BOGUS\r\n"; 4].map(|line| (line, 1)));
    // The fifth error's reply, then the 421.
    steps.push(("BOGUS\r\n", 2));
    steps
}

/// A message whose content has a bare <LF>: refused at its end, the session goes on.
fn bare_lf_in_content() -> Vec<(&'static str, usize)> {
    vec![
        ("EHLO client.example\r\n", 1),
        ("MAIL FROM:<sender@example.org>\r\n", 1),
        ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
        ("DATA\r\n", 1),
        ("Subject: bare\r\n\r\none\ntwo\r\n.\r\n", 1),
        ("QUIT\r\n", 1),
    ]
}

/// Both smtpd instances with `notify_classes` (None: the default) and `extra` settings,
/// started.
fn smtpd_pair_with(
    name: &str,
    notify_classes: Option<&str>,
    extra: &[(&'static str, &'static str)],
) -> Option<Pair> {
    let mut main_cf = vec![
        ("mynetworks", "127.0.0.1/32"),
        ("error_notice_recipient", USER),
        ("smtpd_hard_error_limit", "5"),
    ];
    if let Some(classes) = notify_classes {
        main_cf.push(("notify_classes", classes));
    }
    main_cf.extend_from_slice(extra);
    let mut pair = Pair::prepare(&format!("t70-{name}"), &main_cf, &[])?;
    pair.start();
    Some(pair)
}

/// Both smtpd instances with `notify_classes` (None: the default), started.
fn smtpd_pair(name: &str, notify_classes: Option<&str>) -> Option<Pair> {
    smtpd_pair_with(name, notify_classes, &[])
}

#[test]
fn smtpd_notices_equal_postfix_s() {
    let Some(pair) = smtpd_pair("smtpd", Some("protocol, policy, resource, software")) else {
        return;
    };
    let subject = "Subject: Postfix SMTP server: errors from";
    pair.compare("protocol errors", "127.0.0.1", &protocol_errors());
    assert_same_notices(&pair.postfix, &pair.ironpost, subject, 1);
    pair.compare("policy refusal", "127.0.0.2", &policy_error());
    assert_same_notices(&pair.postfix, &pair.ironpost, subject, 2);
    pair.compare("too many errors", "127.0.0.1", &too_many_errors());
    assert_same_notices(&pair.postfix, &pair.ironpost, subject, 3);
    let all = notices(&pair.ironpost, subject).join("\n");
    for needle in [
        " In:  BOGUS command",
        " Out: 500 5.5.2 Error: command not recognized",
        " Out: 503 5.5.1 Error: need MAIL command",
        // defer_unauth_destination, in the default smtpd_relay_restrictions.
        " Out: 454 4.7.1 <someone@elsewhere.example>: Relay access denied",
        "Transcript of session follows.",
        "Session aborted, reason: too many errors",
        "For other details, see the local mail logfile",
    ] {
        assert!(all.contains(needle), "no \"{needle}\" in\n{all}");
    }
}

/// smtpd_forbid_bare_newline = reject, from a client outside mynetworks (the default
/// exclusions): the refused message is a protocol error, and the notice is Postfix's,
/// with no "Session aborted" line (Postfix 3.7.11 gives no reason: the session goes on).
/// A command ended by a bare <LF> is one too, and ends the session.
#[test]
fn bare_newline_notice_equals_postfix_s() {
    let extra = [("smtpd_forbid_bare_newline", "reject")];
    let Some(pair) = smtpd_pair_with("bare-lf", Some("protocol"), &extra) else {
        return;
    };
    let subject = "Subject: Postfix SMTP server: errors from";
    pair.compare("bare <LF> in content", "127.0.0.2", &bare_lf_in_content());
    assert_same_notices(&pair.postfix, &pair.ironpost, subject, 1);
    let bare_lf_command = [
        ("EHLO client.example\r\n", 1),
        ("MAIL FROM:<sender@example.org>\n", 1),
    ];
    pair.compare("bare <LF> in a command", "127.0.0.2", &bare_lf_command);
    assert_same_notices(&pair.postfix, &pair.ironpost, subject, 2);
    let all = notices(&pair.ironpost, subject).join("\n");
    assert!(
        all.contains(" Out: 550 5.5.2 mail.e2e.test Error: bare <LF> received\n In:  QUIT"),
        "no bare <LF> refusal in\n{all}"
    );
    assert!(!all.contains("Session aborted"), "{all}");
}

#[test]
fn default_notify_classes_send_no_smtpd_notice() {
    let Some(pair) = smtpd_pair("default", None) else {
        return;
    };
    pair.compare("protocol errors", "127.0.0.1", &protocol_errors());
    pair.compare("policy refusal", "127.0.0.2", &policy_error());
    // A message sent afterwards arrives after any notice would have: the notices are
    // posted before smtpd logs the disconnect that compare() waits for.
    for instance in [&pair.postfix, &pair.ironpost] {
        instance.send_local("t70-after");
        assert!(
            e2e::wait_until(60, || instance
                .mailbox()
                .iter()
                .any(|m| m.contains("t70-after"))),
            "the message never arrived:\n{}",
            instance.log()
        );
        assert_eq!(instance.mailbox().len(), 1, "{:#?}", instance.mailbox());
    }
}

/// An instance with ironpost's SMTP client (`ours`) or Postfix's, notify_classes =
/// protocol, that sent one message to a relay answering RCPT with `reply`; returns it
/// once the message left the queue.
fn smtp_run(name: &str, ours: bool, reply: &str) -> Option<Instance> {
    let daemons: Vec<&str> = e2e::IRONPOST_DAEMONS
        .iter()
        .copied()
        .filter(|d| ours || (*d != "smtp" && *d != "lmtp"))
        .collect();
    let side = if ours { "ironpost" } else { "postfix" };
    let mut instance = Instance::with_daemons(&format!("t70-{name}-{side}"), &daemons)?;
    instance.start_sink_with(&["-h", "sink.e2e.test", "-f", "RCPT", "-B", reply]);
    instance.set_main_cf("notify_classes", "protocol, resource, software");
    instance.set_main_cf("error_notice_recipient", USER);
    instance.start();
    let message = "From: user@vmail.e2e.test\nTo: far@relay.e2e.test\nSubject: t70\n\nbody\n";
    let out = instance.sendmail(&["-f", USER, "far@relay.e2e.test"], message);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The message bounces back to the sender; the notice, if any, comes first.
    let bounced = e2e::wait_until(60, || {
        instance
            .mailbox()
            .iter()
            .any(|m| m.contains("Undelivered Mail Returned to Sender"))
    });
    assert!(bounced, "no bounce:\n{}", instance.log());
    Some(instance)
}

#[test]
fn smtp_notice_equals_postfix_s() {
    let reply = "502 5.5.2 Error: command not recognized";
    let Some(postfix) = smtp_run("smtp", false, reply) else {
        return;
    };
    let Some(ironpost) = smtp_run("smtp", true, reply) else {
        return;
    };
    let subject = "Subject: Postfix SMTP client: errors from";
    assert_same_notices(&postfix, &ironpost, subject, 1);
    let notice = &notices(&ironpost, subject)[0];
    for needle in [
        "Unexpected response from 127.0.0.1[127.0.0.1]:",
        " Out: RCPT TO:<far@relay.e2e.test>",
        " In:  502 5.5.2 Error: command not recognized",
    ] {
        assert!(notice.contains(needle), "no \"{needle}\" in\n{notice}");
    }
}

#[test]
fn a_550_is_no_protocol_error() {
    let reply = "550 5.1.1 Recipient address rejected: User unknown";
    for ours in [false, true] {
        let Some(instance) = smtp_run("smtp550", ours, reply) else {
            return;
        };
        // The bounce arrived; a notice would have been posted before it.
        let all = instance.mailbox();
        assert!(
            !all.iter().any(|m| m.contains("SMTP client: errors from")),
            "{all:#?}"
        );
    }
}
