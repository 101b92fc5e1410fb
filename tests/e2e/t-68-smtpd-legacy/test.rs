//! t-68: the last restriction gaps of ironpost's smtpd, against Postfix 3.7's smtpd.
//!
//! As in t-22, a pair of instances with the same main.cf (one with Postfix's smtpd, one
//! with ironpost's) gets the same scripted sessions from chosen local addresses; the
//! replies and smtpd's log lines must be equal. The smtpds run chrooted and resolve
//! through a private DNS server. Covered: the deprecated check_relay_domains and
//! reject_maps_rbl with their warnings, smtpd_log_access_permit_actions, and
//! allow_untrusted_routing for recipients with routing operators (`%`, `!`, a quoted
//! `@`) under permit_auth_destination, reject_unauth_destination, permit_mx_backup and a
//! recipient access table, whose keys are the address as trivial-rewrite resolves it.

use e2e::smtpd_log::Pair;

const EHLO: (&str, usize) = ("EHLO client.example\r\n", 1);
const QUIT: (&str, usize) = ("QUIT\r\n", 1);
const MAIL: (&str, usize) = ("MAIL FROM:<sender@example.org>\r\n", 1);

/// Both instances of a pair, resolving through the DNS server on `dns_addr`, smtpd
/// chrooted so that it uses the jail's resolver files; None when skipped.
fn prepare(name: &str, main_cf: &[(&str, &str)], dns_addr: &str) -> Option<Pair> {
    let pair = Pair::prepare(name, main_cf, &[])?;
    for instance in [&pair.postfix, &pair.ironpost] {
        e2e::dns::resolve_in_jail(instance, dns_addr);
        instance.replace_master_cf_line(
            |l| l.contains(" inet ") && l.ends_with("smtpd"),
            "127.0.0.1:@SMTP_PORT@ inet n - y - - smtpd",
        );
    }
    Some(pair)
}

/// Fails with `text` unless every one of `expected` is in it.
#[track_caller]
fn assert_has(text: &str, expected: &[&str]) {
    for e in expected {
        assert!(text.contains(e), "no {e:?} in\n{text}");
    }
}

/// The DNS server of the legacy test.
const LEGACY_DNS_ADDR: &str = "127.0.0.168";

/// Two block lists for maps_rbl_domains: 127.0.0.2 is on the first, 127.0.0.3 on the
/// second.
const LEGACY_ZONE: &str = r#"{
    "2.0.0.127.zen.e2e.test": [["A", "127.0.0.2"], ["TXT", "listed on zen"]],
    "3.0.0.127.second.e2e.test": [["A", "127.0.0.2"]],
    "example.org": [["MX", "10 mx.example.org"]]
}"#;

/// check_relay_domains (localhost is in relay_domains, so 127.0.0.1 may relay; the
/// restriction after it is ignored with a warning, at RCPT and, with two recipients
/// and so none known, at DATA), reject_maps_rbl over two lists, and every permit logged
/// (static:all) but one that a DEFER_IF_PERMIT overrules.
#[test]
fn legacy_restrictions_match_postfix() {
    let main_cf = [
        ("mynetworks", "127.0.0.1/32"),
        // What is relayed goes nowhere.
        ("default_transport", "discard:"),
        ("relay_domains", "relay.e2e.test, localhost"),
        ("maps_rbl_domains", "zen.e2e.test, second.e2e.test"),
        ("smtpd_log_access_permit_actions", "static:all"),
        (
            "smtpd_client_restrictions",
            "permit_mynetworks, reject_maps_rbl",
        ),
        ("smtpd_relay_restrictions", ""),
        (
            "smtpd_recipient_restrictions",
            "check_recipient_access inline:{{ok@example.com=OK}, {num@example.com=12345}, \
             {discard@vmail.e2e.test=DISCARD}, {later@example.com=DEFER_IF_PERMIT wait}}, \
             check_relay_domains, permit",
        ),
        (
            "smtpd_data_restrictions",
            "check_relay_domains, reject_unauth_pipelining",
        ),
    ];
    let Some(mut pair) = prepare("t68-legacy", &main_cf, LEGACY_DNS_ADDR) else {
        return;
    };
    let log = pair.ironpost.dir.join("log/dns-queries");
    let Some(_dns) = e2e::dns::DnsServer::start(LEGACY_DNS_ADDR, LEGACY_ZONE, &log) else {
        return;
    };
    pair.start();
    let user = ("RCPT TO:<user@vmail.e2e.test>\r\n", 1);
    let far = ("RCPT TO:<x@example.com>\r\n", 1);
    let data = ("DATA\r\n", 1);
    let body = ("Subject: t-68\r\n\r\nhello\r\n.\r\n", 1);
    // Four recipients at DATA, then one.
    let relaying = [
        EHLO,
        MAIL,
        user,
        far,
        ("RCPT TO:<ok@example.com>\r\n", 1),
        ("RCPT TO:<num@example.com>\r\n", 1),
        // The permit that DEFER_IF_PERMIT overrules is not logged.
        ("RCPT TO:<later@example.com>\r\n", 1),
        ("RCPT TO:<x@relay.e2e.test>\r\n", 1),
        data,
        body,
        MAIL,
        user,
        data,
        body,
        MAIL,
        ("RCPT TO:<discard@vmail.e2e.test>\r\n", 1),
        QUIT,
    ];
    // The deprecation warnings come once per process, and whether a session gets a
    // new smtpd process is up to the master's timing: they are compared apart.
    let once = |_: &e2e::Instance, lines: Vec<String>| -> Vec<String> {
        lines
            .into_iter()
            .filter(|l| !l.contains(" will be removed from "))
            .collect()
    };
    let mut replies = String::new();
    for source in ["127.0.0.1", "127.0.0.4"] {
        replies += &pair.compare_with("check_relay_domains", source, &relaying, once);
    }
    for source in ["127.0.0.2", "127.0.0.3"] {
        let steps = [EHLO, MAIL, user, far, QUIT];
        replies += &pair.compare_with("reject_maps_rbl", source, &steps, once);
    }
    assert_has(
        &replies,
        &[
            "554 5.7.1 <x@example.com>: Recipient address rejected: Relay access denied",
            "450 4.7.1 <later@example.com>: Recipient address rejected: wait",
            "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using zen.e2e.test; \
             listed on zen",
            "554 5.7.1 Service unavailable; Client host [127.0.0.3] blocked using \
             second.e2e.test",
        ],
    );
    let deprecated = [
        "warning: support for restriction \"check_relay_domains\" will be removed from \
         Postfix; use \"reject_unauth_destination\" instead",
        "warning: support for restriction \"reject_maps_rbl\" will be removed from \
         Postfix; use \"reject_rbl_client domain-name\" instead",
    ];
    assert_has(&pair.postfix.log(), &deprecated);
    assert_has(&pair.ironpost.log(), &deprecated);
    assert!(
        !pair
            .ironpost
            .log()
            .contains("Recipient address=later@example.com"),
        "a permit overruled by DEFER_IF_PERMIT was logged"
    );
    assert_has(
        &pair.ironpost.log(),
        &[
            "warning: restriction `permit' after `check_relay_domains' is ignored",
            "warning: restriction `reject_unauth_pipelining' after `check_relay_domains' is \
             ignored",
            ": permit: RCPT from localhost[127.0.0.1]: action=check_relay_domains for \
             Recipient address=x@example.com ;",
            "action=permit_mynetworks for Client host=localhost[127.0.0.1] ;",
            "action=OK for Recipient address=ok@example.com from inline:{",
            "action=12345 for Recipient address=num@example.com from inline:{",
            "action=DISCARD for Recipient address=discard@vmail.e2e.test from inline:{",
        ],
    );
}

/// The DNS server of the routing test.
const ROUTING_DNS_ADDR: &str = "127.0.0.169";

/// backup.example has this host (me.example, 127.0.0.1) as its backup MX.
const ROUTING_ZONE: &str = r#"{
    "example.org": [["MX", "10 mx.example.org"]],
    "me.example": [["A", "127.0.0.1"]],
    "primary.example": [["A", "192.0.2.10"]],
    "backup.example": [["MX", "10 primary.example"], ["MX", "20 me.example"]]
}"#;

/// Recipients with routing operators from an untrusted client, with
/// allow_untrusted_routing = no and = yes. A recipient table answers OK for
/// table-ok.example and, as resolved, for relayme.example; the permits it and the
/// destination checks give are logged.
#[test]
fn untrusted_routing_matches_postfix() {
    let log = std::env::temp_dir().join(format!("t68-routing-dns-{}", std::process::id()));
    let Some(_dns) = e2e::dns::DnsServer::start(ROUTING_DNS_ADDR, ROUTING_ZONE, &log) else {
        return;
    };
    let steps = [
        EHLO,
        MAIL,
        ("RCPT TO:<user@relay.e2e.test>\r\n", 1),
        ("RCPT TO:<user%other.example@relay.e2e.test>\r\n", 1),
        ("RCPT TO:<\"user@other.example\"@relay.e2e.test>\r\n", 1),
        ("RCPT TO:<other.example!user@relay.e2e.test>\r\n", 1),
        ("RCPT TO:<user%victim.example@table-ok.example>\r\n", 1),
        ("RCPT TO:<user@backup.example>\r\n", 1),
        ("RCPT TO:<user%victim.example@backup.example>\r\n", 1),
        ("RCPT TO:<user%victim.example@vmail.e2e.test>\r\n", 1),
        ("RCPT TO:<user%relayme.example@mail.e2e.test>\r\n", 1),
        ("RCPT TO:<user%victim.example@mail.e2e.test>\r\n", 1),
        QUIT,
    ];
    let mut answers = Vec::new();
    for allow in ["no", "yes"] {
        let main_cf = [
            ("mynetworks", "127.0.0.1/32"),
            ("allow_untrusted_routing", allow),
            (
                "smtpd_log_access_permit_actions",
                "OK, permit_mx_backup, permit_auth_destination",
            ),
            (
                "smtpd_relay_restrictions",
                "check_recipient_access inline:{{table-ok.example=OK}, {relayme.example=OK}}, \
                 permit_mx_backup, reject_unauth_destination",
            ),
            ("smtpd_recipient_restrictions", "permit_auth_destination"),
        ];
        let Some(mut pair) = prepare(&format!("t68-routing-{allow}"), &main_cf, ROUTING_DNS_ADDR)
        else {
            return;
        };
        pair.start();
        answers.push(pair.compare(
            &format!("allow_untrusted_routing = {allow}"),
            "127.0.0.2",
            &steps,
        ));
    }
    let _ = std::fs::remove_file(&log);
    let denied = |rcpt: &str| format!("554 5.7.1 <{rcpt}>: Relay access denied");
    for rcpt in [
        "user%other.example@relay.e2e.test",
        // The reply names the address in its internal form, unquoted.
        "user@other.example@relay.e2e.test",
        "other.example!user@relay.e2e.test",
        "user%victim.example@table-ok.example",
        "user%victim.example@backup.example",
        "user%victim.example@vmail.e2e.test",
    ] {
        let line = denied(rcpt);
        assert!(answers[0].contains(&line), "no {line:?} in\n{}", answers[0]);
        assert!(!answers[1].contains(&line), "{line:?} in\n{}", answers[1]);
    }
    // Resolved: user@victim.example, a relay no matter what; the table's key is what
    // trivial-rewrite made of it, so relayme.example's entry lets it through.
    for answer in &answers {
        assert!(answer.contains(&denied("user%victim.example@mail.e2e.test")));
        assert!(!answer.contains(&denied("user%relayme.example@mail.e2e.test")));
    }
}

/// Neither smtpd_relay_restrictions nor smtpd_recipient_restrictions refuses relaying by
/// default: smtpd will not run (the `permit` in the middle of the list hides what
/// follows it, with a warning), with the same lines as Postfix's.
#[test]
fn open_relay_is_refused_at_start() {
    let main_cf = [
        ("smtpd_relay_restrictions", "permit_mynetworks"),
        (
            "smtpd_recipient_restrictions",
            "permit_mynetworks, permit reject_unauth_destination",
        ),
    ];
    let Some(mut pair) = Pair::prepare("t68-open-relay", &main_cf, &[]) else {
        return;
    };
    pair.start();
    let mut logs = Vec::new();
    for instance in [&pair.postfix, &pair.ironpost] {
        // The connection makes the master start an smtpd, which exits before it
        // accepts it.
        let _client = std::net::TcpStream::connect(("127.0.0.1", instance.smtp_port)).unwrap();
        instance.wait_log("fatal: in parameter", 30);
        logs.push(e2e::smtpd_log::smtpd_log(instance));
    }
    if logs[0] != logs[1] {
        pair.postfix.keep_for_inspection();
        pair.ironpost.keep_for_inspection();
    }
    assert_eq!(logs[0], logs[1], "Postfix's smtpd, then ironpost's");
    assert_has(
        &logs[1].join("\n"),
        &[
            "warning: restriction `reject_unauth_destination' after `permit' is ignored",
            "fatal: in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, \
             specify at least one working instance of: reject_unauth_destination, \
             defer_unauth_destination, reject, defer, defer_if_permit or check_relay_domains",
        ],
    );
}

/// With smtputf8_enable (the default at compatibility level 3.6) addresses are folded
/// with full Unicode case folding, as Postfix folds them with ICU: STRAẞE becomes
/// strasse (lowercasing would make it straße), which shows in the address a table
/// warning names; a table key grüße matches GRÜSSE.
#[test]
fn unicode_case_folding_matches_postfix() {
    let main_cf = [
        ("mynetworks", "127.0.0.1/32"),
        (
            "smtpd_recipient_restrictions",
            "check_recipient_access inline:{{strasse@vmail.e2e.test=REDIRECT nowhere}, \
             {grüße@vmail.e2e.test=REJECT folded}}",
        ),
    ];
    let Some(mut pair) = Pair::prepare("t68-casefold", &main_cf, &[]) else {
        return;
    };
    pair.start();
    // The dialogue sends each character as one byte: UTF-8 spelt out byte by byte.
    let utf8 = |text: &str| -> String { text.bytes().map(char::from).collect() };
    let sharp = format!("RCPT TO:<{}@vmail.e2e.test>\r\n", utf8("STRAẞE"));
    let umlaut = format!("RCPT TO:<{}@vmail.e2e.test>\r\n", utf8("GRÜSSE"));
    let replies = pair.compare(
        "case folding",
        "127.0.0.2",
        &[
            EHLO,
            ("MAIL FROM:<sender@example.org> SMTPUTF8\r\n", 1),
            (&sharp, 1),
            (&umlaut, 1),
            QUIT,
        ],
    );
    assert_has(&replies, &["Recipient address rejected: folded"]);
    assert_has(
        &pair.ironpost.log(),
        &["entry \"strasse@vmail.e2e.test\" requires user@domain target"],
    );
}
