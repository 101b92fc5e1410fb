//! t-51: address verification in ironpost's smtpd against Postfix's smtpd.
//!
//! Two instances with the same main.cf (one with Postfix 3.7's smtpd, one with
//! ironpost's; the verify service, qmgr and the SMTP client are ironpost's on both)
//! send their probes through the queue to a server (`sink.py`) that refuses local parts
//! starting with "no" and accepts the rest. reject_unverified_recipient answers 450
//! "Address verification in progress" while a probe is out (kept as DEFER_IF_PERMIT and
//! sent when permit_mynetworks would accept), then the cached result at once: 250 for
//! the good address, the server's refusal for the bad one. reject_unverified_sender with
//! unverified_sender_tempfail_action = defer and unverified_sender_reject_code = 550 does
//! the same for a sender. In a second pair unverified_recipient_reject_reason replaces
//! the reason of a refused recipient, with other codes, the deferral while probing
//! gives way to a later reject, and warn_if_reject logs each answer as a warning. A RCPT TO naming the site's own probe sender is
//! accepted without a probe. The replies and smtpd's log lines must be equal.

use e2e::Instance;
use e2e::smtpd_log::Pair;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The probe server of one instance, stopped with the test.
struct Sink(Child);

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the test's Python server `script` with `arg` and waits for its "ready";
/// None when python3 cannot run.
fn python_server(script: &str, arg: impl AsRef<std::ffi::OsStr>) -> Option<Sink> {
    let path = format!("{}/t-51-smtpd-verify/{script}", env!("CARGO_MANIFEST_DIR"));
    let Ok(mut child) = Command::new("python3")
        .arg(path)
        .arg(arg)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        testkit::skip("python3 cannot run");
        return None;
    };
    // Held in a Sink at once, so that it is stopped even if the assertion fails.
    let stdout = child.stdout.take().unwrap();
    let server = Sink(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready", "{script}");
    Some(server)
}

/// Starts sink.py on `instance`'s sink port; None when python3 cannot run.
fn sink(instance: &Instance) -> Option<Sink> {
    python_server("sink.py", instance.sink_port.to_string())
}

/// Settings both instances get.
const MAIN_CF: &[(&str, &str)] = &[
    ("mynetworks", "127.0.0.1/32"),
    (
        "smtpd_recipient_restrictions",
        "reject_unverified_recipient, permit_mynetworks, reject",
    ),
    // Senders in example.org are taken as they are.
    (
        "smtpd_sender_restrictions",
        "check_sender_access inline:{{example.org=OK}}, reject_unverified_sender",
    ),
    ("unverified_sender_tempfail_action", "defer"),
    ("unverified_sender_reject_code", "550"),
    ("address_verify_poll_count", "1"),
    ("address_verify_sender", "probe@e2e.test"),
];

/// How many probe results the instance's log shows.
fn probe_results(instance: &Instance) -> usize {
    let log = instance.log();
    log.matches("status=deliverable").count() + log.matches("status=undeliverable").count()
}

/// Waits until both instances have `n` probe results.
fn wait_for_probes(pair: &Pair, n: usize) {
    for instance in [&pair.postfix, &pair.ironpost] {
        let done = e2e::wait_until(60, || probe_results(instance) >= n);
        if !done {
            instance.keep_for_inspection();
            panic!("no probe result {n}:\n{}", instance.log());
        }
    }
}

/// One session: EHLO, MAIL FROM `sender`, RCPT TO each of `recipients`, QUIT.
fn session(sender: &str, recipients: &[&str]) -> Vec<(String, usize)> {
    let mut steps = vec![
        ("EHLO client.example\r\n".to_string(), 1),
        (format!("MAIL FROM:<{sender}>\r\n"), 1),
    ];
    for r in recipients {
        steps.push((format!("RCPT TO:<{r}>\r\n"), 1));
    }
    steps.push(("QUIT\r\n".to_string(), 1));
    steps
}

/// Runs a session against both instances and compares them; the replies must contain
/// `expected`.
fn compare(pair: &Pair, name: &str, sender: &str, recipients: &[&str], expected: &str) {
    let steps = session(sender, recipients);
    let steps: Vec<(&str, usize)> = steps.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    let replies = pair.compare(name, "127.0.0.1", &steps);
    assert!(
        replies.contains(expected),
        "{name}: no {expected:?} in\n{replies}"
    );
}

/// A pair with the probe servers running; None when the test is skipped.
fn start(name: &str, extra: &[(&str, &str)]) -> Option<(Pair, [Sink; 2])> {
    let main_cf: Vec<(&str, &str)> = MAIN_CF.iter().chain(extra).copied().collect();
    let transport = "relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n";
    let mut pair = Pair::prepare(name, &main_cf, &[("etc/transport", transport)])?;
    let sinks = [sink(&pair.postfix)?, sink(&pair.ironpost)?];
    pair.start();
    Some((pair, sinks))
}

#[test]
fn unverified_recipients_and_senders_match_postfix() {
    let Some((pair, _sinks)) = start("t51-verify", &[]) else {
        return;
    };
    let sender = "sender@example.org";
    compare(
        &pair,
        "first probe",
        sender,
        &["yes@relay.e2e.test"],
        "450 4.1.1 <yes@relay.e2e.test>: Recipient address rejected: unverified address: \
             Address verification in progress",
    );
    wait_for_probes(&pair, 1);
    compare(
        &pair,
        "cached good, bad probed",
        sender,
        &["yes@relay.e2e.test", "no@relay.e2e.test"],
        "250 2.1.5 Ok",
    );
    wait_for_probes(&pair, 2);
    // The bad address from the cache (unverified_recipient_reject_code is 450, so this
    // is an "unverified", not an "undeliverable" address), and the probe sender accepted
    // unchecked.
    compare(
        &pair,
        "cached bad, probe sender",
        sender,
        &["no@relay.e2e.test", "probe@e2e.test"],
        "450 4.1.1 <no@relay.e2e.test>: Recipient address rejected: unverified address: \
             host 127.0.0.1[127.0.0.1] said: 550 5.1.1",
    );
    assert_eq!(probe_results(&pair.ironpost), 2, "{}", pair.ironpost.log());
    // The sender: deferred at once (tempfail action defer), then refused with 550.
    compare(
        &pair,
        "sender probed",
        "nobody@relay.e2e.test",
        &["yes@relay.e2e.test"],
        "450 4.1.7 <nobody@relay.e2e.test>: Sender address rejected: unverified address: \
             Address verification in progress",
    );
    wait_for_probes(&pair, 3);
    compare(
        &pair,
        "sender cached",
        "nobody@relay.e2e.test",
        &["yes@relay.e2e.test"],
        "550 5.1.7 <nobody@relay.e2e.test>: Sender address rejected: undeliverable address:",
    );
}

#[test]
fn reject_reason_and_codes_match_postfix() {
    let extra = [
        ("unverified_recipient_reject_code", "554"),
        ("unverified_recipient_defer_code", "451"),
        (
            "unverified_recipient_reject_reason",
            "Address lookup failed",
        ),
        // The 451 while probing is DEFER_IF_PERMIT, which a later reject overrides;
        // under warn_if_reject each answer is logged as a reject_warning first.
        (
            "smtpd_recipient_restrictions",
            "warn_if_reject reject_unverified_recipient, reject_unverified_recipient, reject",
        ),
    ];
    let Some((pair, _sinks)) = start("t51-reason", &extra) else {
        return;
    };
    let sender = "sender@example.org";
    compare(
        &pair,
        "in progress",
        sender,
        &["nope@relay.e2e.test"],
        "554 5.7.1 <nope@relay.e2e.test>: Recipient address rejected: Access denied",
    );
    wait_for_probes(&pair, 1);
    compare(
        &pair,
        "refused",
        sender,
        &["nope@relay.e2e.test"],
        "554 5.1.1 <nope@relay.e2e.test>: Recipient address rejected: undeliverable \
         address: Address lookup failed",
    );
    let log = pair.ironpost.log();
    for warning in [
        "reject_warning: RCPT from localhost[127.0.0.1]: 451 4.1.1 <nope@relay.e2e.test>",
        "reject_warning: RCPT from localhost[127.0.0.1]: 554 5.1.1 <nope@relay.e2e.test>",
    ] {
        assert!(log.contains(warning), "no {warning:?} in\n{log}");
    }
}

/// address_verify_poll_count and address_verify_poll_delay: a probe that stays out
/// (the server answers after 20 seconds) is asked about three times, a second apart,
/// before the RCPT gets "in progress".
#[test]
fn polling_matches_postfix() {
    let extra = [
        ("address_verify_poll_count", "3"),
        ("address_verify_poll_delay", "1s"),
    ];
    let Some((pair, _sinks)) = start("t51-poll", &extra) else {
        return;
    };
    let started = std::time::Instant::now();
    compare(
        &pair,
        "polled",
        "sender@example.org",
        &["slow@relay.e2e.test"],
        "450 4.1.1 <slow@relay.e2e.test>: Recipient address rejected: unverified address: \
         Address verification in progress",
    );
    // Two pauses of a second on each side.
    let waited = started.elapsed();
    assert!(waited >= std::time::Duration::from_secs(4), "{waited:?}");
    assert!(waited < std::time::Duration::from_secs(15), "{waited:?}");
}

/// Starts fake_verify.py on `instance`'s private/fakeverify; None when python3 cannot
/// run.
fn fake_verify(instance: &Instance) -> Option<Sink> {
    python_server(
        "fake_verify.py",
        instance.dir.join("queue/private/fakeverify"),
    )
}

/// A verify service that answers but cannot serve: "address verification problem",
/// kept as DEFER_IF_PERMIT (so a later reject wins, and otherwise the deferral is sent),
/// and Postfix's service failure warning.
#[test]
fn verify_service_failure_matches_postfix() {
    let main_cf = [
        ("mynetworks", "127.0.0.1/32"),
        ("address_verify_service_name", "fakeverify"),
        (
            "smtpd_recipient_restrictions",
            "reject_unverified_recipient, check_recipient_access \
             inline:{{bad@relay.e2e.test=REJECT}}, permit_mynetworks, reject",
        ),
    ];
    let Some(mut pair) = Pair::prepare("t51-failure", &main_cf, &[]) else {
        return;
    };
    pair.start();
    let Some(_theirs) = fake_verify(&pair.postfix) else {
        return;
    };
    let Some(_ours) = fake_verify(&pair.ironpost) else {
        return;
    };
    compare(
        &pair,
        "service failure",
        "sender@example.org",
        &["good@relay.e2e.test", "bad@relay.e2e.test"],
        "450 4.1.1 <good@relay.e2e.test>: Recipient address rejected: address verification \
         problem",
    );
    let log = pair.ironpost.log();
    assert!(log.contains("warning: fakeverify service failure"), "{log}");
}

/// The queue file system's free space in Postfix's warning, which changes between the
/// two instances' sessions.
fn mask_free_space(_: &Instance, lines: Vec<String>) -> Vec<String> {
    const WARNING: &str = "not enough free space in mail queue: ";
    lines
        .into_iter()
        .map(|l| match l.split_once(WARNING) {
            Some((head, tail)) => {
                let rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
                format!("{head}{WARNING}N{rest}")
            }
            None => l,
        })
        .collect()
}

#[test]
fn queue_space_and_expansion_filter_match_postfix() {
    let main_cf = [
        // More than any disk here: every MAIL FROM is refused, with or without SIZE=.
        ("queue_minfree", "1000000000000000"),
        (
            "smtpd_reject_footer",
            "\\c (client $client, helo $helo_name, at $server_name)",
        ),
        // Upper case, '_', '-' and 8-bit bytes become '_' in expanded values only.
        (
            "smtpd_expansion_filter",
            "abcdefghijklmnopqrstuvwxyz0123456789.[]",
        ),
    ];
    let Some(mut pair) = Pair::prepare("t51-space", &main_cf, &[]) else {
        return;
    };
    pair.start();
    let replies = pair.compare_with(
        "queue space",
        "127.0.0.1",
        &[
            // "ä" in UTF-8: two bytes, two underscores.
            ("EHLO Client_1.Ex\u{c3}\u{a4}mple\r\n", 1),
            ("MAIL FROM:<a@example.org>\r\n", 1),
            ("MAIL FROM:<a@example.org> SIZE=1000\r\n", 1),
            ("QUIT\r\n", 1),
        ],
        mask_free_space,
    );
    assert!(
        replies.contains(
            "452 4.3.1 Insufficient system storage (client localhost[127.0.0.1], \
             helo _lient_1._x__mple, at mail.e2e.test)"
        ),
        "{replies}"
    );
}

/// How many resolve and rewrite requests trivial-rewrite (run with -v) logged.
fn rewrite_requests(instance: &Instance) -> (usize, usize) {
    let log = instance.log();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("postfix/trivial-rewrite["))
        .collect();
    let resolves = lines.iter().filter(|l| l.contains("' -> (`")).count();
    let rewrites = lines.iter().filter(|l| l.contains("]: `local' `")).count();
    (resolves, rewrites)
}

#[test]
fn resolve_requests_match_postfix() {
    let main_cf = [
        ("smtpd_sender_restrictions", "reject_unlisted_sender"),
        // Three checks resolve the recipient; the last refuses, so that no queue file
        // (and no cleanup request to trivial-rewrite) is made.
        (
            "smtpd_recipient_restrictions",
            "reject_unlisted_recipient, permit_auth_destination, reject_unauth_destination, reject",
        ),
        ("mynetworks", "127.0.0.2/32"),
    ];
    let Some(mut pair) = Pair::prepare("t51-resolve", &main_cf, &[]) else {
        return;
    };
    for instance in [&pair.postfix, &pair.ironpost] {
        instance.replace_master_cf_line(
            |l| l.starts_with("rewrite "),
            "rewrite   unix  -       -       n       -       -       trivial-rewrite -v",
        );
    }
    pair.start();
    let before = (
        rewrite_requests(&pair.postfix),
        rewrite_requests(&pair.ironpost),
    );
    let mut steps = vec![
        ("EHLO client.example\r\n", 1),
        ("MAIL FROM:<a@example.org>\r\n", 1),
    ];
    // Each recipient twice: the second time every check is answered from the cache.
    for rcpt in [
        "RCPT TO:<user@vmail.e2e.test>\r\n",
        "RCPT TO:<x@relay.e2e.test>\r\n",
        "RCPT TO:<other@elsewhere.example>\r\n",
    ] {
        steps.push((rcpt, 1));
        steps.push((rcpt, 1));
    }
    steps.push(("QUIT\r\n", 1));
    pair.compare("resolve cache", "127.0.0.1", &steps);
    let theirs = rewrite_requests(&pair.postfix);
    let ours = rewrite_requests(&pair.ironpost);
    let counted = |now: (usize, usize), then: (usize, usize)| (now.0 - then.0, now.1 - then.1);
    let (theirs, ours) = (counted(theirs, before.0), counted(ours, before.1));
    assert_eq!(ours, theirs, "(resolves, rewrites): ours against Postfix's");
    // One resolve per (sender, address) pair, whichever checks ask: the sender at MAIL
    // (from the null sender), then per recipient the recipient from the sender (the
    // address check, reject_unlisted_recipient, permit_auth_destination and
    // reject_unauth_destination) and the sender from the recipient
    // (reject_unlisted_sender); nothing for a repeated recipient.
    assert_eq!(ours.0, 1 + 2 * 3, "{ours:?}");
}
