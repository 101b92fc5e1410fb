//! Header and body checks against Postfix's cleanup: every action (REJECT with and without
//! a status, a 4xx and a bad 2xx status, WARN, INFO, HOLD, DISCARD, IGNORE, STRIP,
//! REPLACE, PREPEND, REDIRECT, FILTER, BCC, PASS, DUNNO, OK, an unknown one, and the
//! malformed REPLACE, PREPEND, REDIRECT, FILTER and BCC texts), in header_checks,
//! mime_header_checks, nested_header_checks and body_checks, with sender_bcc_maps and
//! recipient_bcc_maps, body_checks_size_limit, and message_reject_characters and
//! message_strip_characters. Each message goes over SMTP to Postfix's smtpd; what the client
//! sees, the queue file (in incoming/ or hold/) and cleanup's log lines must be equal.

use crate::harness::{Pair, queued, smtp, smtp_try};

const MAIN_CF: &str = "
header_checks = regexp:@DIR@/etc/header_checks
mime_header_checks = regexp:@DIR@/etc/mime_header_checks
nested_header_checks = regexp:@DIR@/etc/nested_header_checks
body_checks = regexp:@DIR@/etc/body_checks
sender_bcc_maps = texthash:@DIR@/etc/sender_bcc
recipient_bcc_maps = texthash:@DIR@/etc/recipient_bcc
body_checks_size_limit = 200
";

const HEADER_CHECKS: &str = r"/^Subject: .*t21-reject-default/ REJECT
/^Subject: .*t21-reject-text/ REJECT 5.7.0 no thanks
/^Subject: .*t21-reject-4xx/ REJECT 4.7.1 try later
/^Subject: .*t21-reject-2xx/ REJECT 2.0.0 weird
/^Subject: .*t21-hold/ HOLD held for review
/^Subject: .*t21-discard/ DISCARD gone
/^X-Warn:/ WARN watch this
/^X-Info:/ INFO just so you know
/^X-Folded:/ WARN folded
/^X-Drop:/ IGNORE
/^X-Strip:/ STRIP stripped
/^X-Replace: (.*)/ REPLACE X-Replaced: $1
/^X-Replace-Bad:/ REPLACE not a header
/^X-Replace-Empty:/ REPLACE
/^X-Prepend:/ PREPEND X-Prepended: yes
/^X-Prepend-Bad:/ PREPEND not a header
/^X-Redirect:/ REDIRECT elsewhere@e2e.test
/^X-Redirect-Bad:/ REDIRECT nowhere
/^X-Filter:/ FILTER smtp:[127.0.0.1]:10025
/^X-Filter-Bad:/ FILTER nocolon
/^X-Bcc:/ BCC watcher@e2e.test
/^X-Bcc-Bad:/ bcc nobody
/^X-Dunno:/ DUNNO
/^X-Ok:/ OK
/^X-Unknown:/ FROB the header
/^X-Pass:/ PASS passed
";

const MIME_HEADER_CHECKS: &str = r"/^Content-Type: application\/x-warn/ WARN odd attachment
/^Content-Type: application\/x-bad/ REJECT bad attachment
";

const NESTED_HEADER_CHECKS: &str = r"/^Subject: nested/ INFO nested message
";

const BODY_CHECKS: &str = r"/t21-body-reject/ REJECT body says no
/t21-body-replace/ REPLACE replaced line
/t21-body-prepend/ PREPEND prepended line
/t21-body-ignore/ IGNORE
/t21-body-warn/ WARN body warning
";

fn pair(name: &str) -> Option<Pair> {
    Pair::new(
        name,
        MAIN_CF,
        &[
            ("etc/header_checks", HEADER_CHECKS),
            ("etc/mime_header_checks", MIME_HEADER_CHECKS),
            ("etc/nested_header_checks", NESTED_HEADER_CHECKS),
            ("etc/body_checks", BODY_CHECKS),
            ("etc/sender_bcc", "bccsender@e2e.test sbcc@e2e.test\n"),
            ("etc/recipient_bcc", "bccrcpt@e2e.test rbcc@e2e.test\n"),
        ],
    )
}

/// A message with a subject, extra header lines and a body.
fn message(subject: &str, headers: &str, body: &str) -> String {
    format!(
        "From: sender@e2e.test\r\nTo: rcpt@e2e.test\r\nSubject: {subject}\r\n{headers}\r\n{body}\r\n"
    )
}

const MULTIPART: &str = "MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
preamble\r\n\
--b1\r\n\
Content-Type: text/plain\r\n\r\n\
t21-body-warn in a part\r\n\
--b1\r\n\
Content-Type: application/x-warn\r\n\r\n\
data\r\n\
--b1\r\n\
Content-Type: message/rfc822\r\n\r\n\
Subject: nested one\r\n\
From: inner@e2e.test\r\n\r\n\
inner body\r\n\
--b1--\r\n";

#[test]
fn content_checks_act_as_with_postfix_s_cleanup() {
    let Some(pair) = pair("t-21-checks") else {
        return;
    };
    let headers = "X-Warn: 1\r\nX-Info: 2\r\nX-Folded: first\r\n\tsecond\r\nX-Drop: 3\r\n\
        X-Strip: 4\r\nX-Replace: five\r\nX-Replace-Bad: 6\r\nX-Replace-Empty: 6a\r\n\
        X-Prepend: 7\r\nX-Prepend-Bad: 8\r\nX-Redirect-Bad: 9\r\nX-Filter: 10\r\n\
        X-Filter-Bad: 11\r\nX-Bcc: 12\r\nX-Bcc-Bad: 13\r\nX-Dunno: 14\r\nX-Ok: 15\r\n\
        X-Unknown: 16\r\n";
    let body = "first line\r\nt21-body-replace\r\nt21-body-prepend\r\nt21-body-ignore\r\n\
        t21-body-warn\r\nlast line";
    pair.compare_queued("t21-actions", |mx| {
        smtp(
            mx,
            "bccsender@e2e.test",
            &["bccrcpt@e2e.test", "other@e2e.test"],
            &message("t21-actions", headers, body),
        );
    });
    pair.compare_queued("t21-mime", |mx| {
        smtp(
            mx,
            "sender@e2e.test",
            &["rcpt@e2e.test"],
            &message("t21-mime", MULTIPART, ""),
        );
    });
    pair.compare_queued("t21-redirect", |mx| {
        smtp(
            mx,
            "sender@e2e.test",
            &["rcpt@e2e.test"],
            &message(
                "t21-redirect",
                "X-Redirect: 1\r\nX-Warn: after\r\n",
                "t21-body-warn",
            ),
        );
    });
    pair.compare_queued("t21-pass", |mx| {
        smtp(
            mx,
            "sender@e2e.test",
            &["rcpt@e2e.test"],
            &message(
                "t21-pass",
                "X-Pass: 1\r\nX-Warn: after\r\n",
                "t21-body-warn",
            ),
        );
    });
    // body_checks look at the first body_checks_size_limit bytes only.
    let padding = format!("{}\r\n", "x".repeat(70)).repeat(4);
    pair.compare_queued("t21-size-limit", |mx| {
        let body = format!("t21-body-warn early\r\n{padding}t21-body-warn late");
        smtp(
            mx,
            "sender@e2e.test",
            &["rcpt@e2e.test"],
            &message("t21-size-limit", "", &body),
        );
    });
    pair.compare_queued_in("hold", "t21-hold", |mx| {
        smtp(
            mx,
            "sender@e2e.test",
            &["rcpt@e2e.test"],
            &message("t21-hold", "", "body"),
        );
    });
    let refused = |subject: &'static str, headers: &'static str, body: &'static str| {
        move |mx: &e2e::Instance| {
            let text = message(subject, headers, body);
            format!(
                "{:?}",
                smtp_try(mx, "sender@e2e.test", &["rcpt@e2e.test"], &text)
            )
        }
    };
    for subject in [
        "t21-reject-default",
        "t21-reject-text",
        "t21-reject-4xx",
        "t21-reject-2xx",
        "t21-discard",
    ] {
        pair.compare_unqueued(subject, refused(subject, "", "body"));
    }
    pair.compare_unqueued(
        "body reject",
        refused("t21-body", "", "ok\r\nt21-body-reject\r\n"),
    );
    pair.compare_unqueued(
        "mime reject",
        refused(
            "t21-mime-reject",
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n",
            "--b\r\nContent-Type: application/x-bad\r\n\r\nx\r\n--b--",
        ),
    );
}

#[test]
fn disallowed_characters_are_rejected_or_stripped_as_by_postfix_s_cleanup() {
    let Some(pair) = Pair::new(
        "t-21-chars",
        "message_reject_characters = \\f\nmessage_strip_characters = \\v\\001\n",
        &[],
    ) else {
        return;
    };
    pair.compare_queued("t21-strip", |mx| {
        smtp(
            mx,
            "sender@e2e.test",
            &["rcpt@e2e.test"],
            &message("t21-strip\u{b}ped", "X-Odd: a\u{1}b\r\n", "line\u{b} one"),
        );
    });
    let (_, stripped) = queued(&pair.ours, "t21-strip");
    assert!(!stripped.contains(&0x0b) && !stripped.contains(&1));
    let seen = pair.compare_unqueued("reject", |mx| {
        let text = message("t21-reject-char", "", "form\u{c}feed");
        format!(
            "{:?}",
            smtp_try(mx, "sender@e2e.test", &["rcpt@e2e.test"], &text)
        )
    });
    assert!(seen.contains("5.7.1 disallowed character"), "{seen}");
}
