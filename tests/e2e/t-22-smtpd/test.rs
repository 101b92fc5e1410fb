//! t-22: ironpost's smtpd against Postfix's, dialogue by dialogue.
//!
//! Two instances with the same main.cf run side by side: one with Postfix 3.7's smtpd,
//! one with ironpost's (both with ironpost's cleanup, trivial-rewrite and proxymap). The
//! same scripted sessions (`dialogue.py`: raw sockets, one write per step, from a chosen
//! local address) go to both; the replies and smtpd's log lines must be equal once queue
//! ids are replaced. mynetworks is 127.0.0.1/32, so a client bound to 127.0.0.2 is
//! untrusted. A second pair checks debug_peer_list (127.0.0.1 gets the verbose
//! transcript, 127.0.0.2 does not), the timeout and the error limit.

use e2e::Instance;
use e2e::smtpd_log::{Pair, delivered, envelopes, smtpd_log};
use e2e::starttls::test_cert;

/// Settings both instances of the main pair get.
const MAIN_CF: &[(&str, &str)] = &[
    ("mynetworks", "127.0.0.1/32"),
    ("smtpd_authorized_xforward_hosts", "127.0.0.1"),
    ("message_size_limit", "20000"),
    ("smtpd_recipient_limit", "4"),
    ("smtpd_noop_commands", "XYZZY"),
    ("smtpd_data_restrictions", "reject_unauth_pipelining"),
    ("smtpd_restriction_classes", "strict_class, reverse_class"),
    ("strict_class", "reject_non_fqdn_sender, reject"),
    (
        "reverse_class",
        "check_reverse_client_hostname_access inline:{{unknown=REJECT no name}}, \
         check_reverse_client_hostname_access inline:{{127.0.0.7=OK}}",
    ),
    (
        "smtpd_client_restrictions",
        "check_client_access texthash:@DIR@/etc/client_access",
    ),
    (
        "smtpd_helo_restrictions",
        "reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname",
    ),
    (
        "smtpd_recipient_restrictions",
        "check_sender_access texthash:@DIR@/etc/sender_access, \
         check_recipient_access texthash:@DIR@/etc/rcpt_access, \
         warn_if_reject reject_non_fqdn_recipient",
    ),
];

/// Access tables of the main pair.
const TABLES: [(&str, &str); 4] = [
    // held@ exists, so that its messages stay in the hold queue for a look.
    (
        "etc/vmailbox",
        "user@vmail.e2e.test vmail.e2e.test/user/\nheld@vmail.e2e.test vmail.e2e.test/user/\n",
    ),
    (
        "etc/client_access",
        "127.0.0.3 REJECT\n\
         127.0.0.4 reject_unknown_reverse_client_hostname\n\
         127.0.0.5 reject_unknown_client_hostname\n\
         127.0.0.6 reverse_class\n\
         127.0.0.7 reverse_class\n",
    ),
    (
        "etc/sender_access",
        "spammer@example.org REJECT\nexample.net 554 5.7.0 no thanks\n",
    ),
    (
        "etc/rcpt_access",
        "rejected@vmail.e2e.test REJECT no such luck\n\
         deferred@vmail.e2e.test DEFER try later\n\
         coded@vmail.e2e.test 550 5.1.2 bad mailbox\n\
         held@vmail.e2e.test HOLD\n\
         warned@vmail.e2e.test WARN watch this one\n\
         strict@vmail.e2e.test strict_class\n\
         discard@vmail.e2e.test DISCARD\n\
         relay.e2e.test OK\n",
    ),
];

/// Both instances, configured and started; None when the test must be skipped.
fn start(name: &str, main_cf: &[(&str, &str)], files: &[(&str, &str)]) -> Option<Pair> {
    let mut pair = Pair::prepare(&format!("t22-{name}"), main_cf, files)?;
    pair.start();
    Some(pair)
}

/// Runs `steps` from `source` and waits until smtpd has logged the session's end.
fn dialogue(instance: &Instance, source: &str, steps: &[(&str, usize)]) -> String {
    e2e::smtpd_log::dialogue(instance, source, steps, "plain")
}

/// A message body of `lines` lines of 100 characters, ended by the dot.
fn message(lines: usize) -> String {
    let mut text = String::from("Subject: t-22\r\n\r\n");
    for _ in 0..lines {
        text.push_str(&"x".repeat(100));
        text.push_str("\r\n");
    }
    text.push_str(".\r\n");
    text
}

const EHLO: (&str, usize) = ("EHLO client.example\r\n", 1);
const QUIT: (&str, usize) = ("QUIT\r\n", 1);

#[test]
fn dialogues_match_postfix() {
    let Some(pair) = start("dialogues", MAIN_CF, &TABLES) else {
        return;
    };
    let body = message(3);
    let big = message(300);
    pair.compare(
        "accepted",
        "127.0.0.1",
        &[
            EHLO,
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("DATA\r\n", 1),
            (&body, 1),
            QUIT,
        ],
    );
    pair.compare(
        "unknown users",
        "127.0.0.1",
        &[
            EHLO,
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<nosuch@mail.e2e.test>\r\n", 1),
            ("RCPT TO:<nosuch@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<postmaster@mail.e2e.test>\r\n", 1),
            ("RCPT TO:<anyone@relay.e2e.test>\r\n", 1),
            ("DATA\r\n", 1),
            (&body, 1),
            QUIT,
        ],
    );
    pair.compare(
        "relay denied",
        "127.0.0.2",
        &[
            EHLO,
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<x@example.com>\r\n", 1),
            ("RCPT TO:<x%example.com@mail.e2e.test>\r\n", 1),
            ("RCPT TO:<example.com!x@mail.e2e.test>\r\n", 1),
            ("RCPT TO:<@mail.e2e.test:x@example.com>\r\n", 1),
            ("RCPT TO:<\"x@example.com\"@mail.e2e.test>\r\n", 1),
            ("RCPT TO:<x@example.com.>\r\n", 1),
            ("RCPT TO:<X@EXAMPLE.COM>\r\n", 1),
            ("RCPT TO:<x@[192.0.2.1]>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("DATA\r\n", 1),
            (&body, 1),
            QUIT,
        ],
    );
    // The open relay battery, part two: address tricks from an untrusted client, encoded
    // and 8-bit characters among them (sent as Latin-1 bytes).
    pair.compare(
        "relay tricks",
        "127.0.0.2",
        &[
            EHLO,
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<x@example.com@mail.e2e.test>\r\n", 1),
            (
                "RCPT TO:<@mail.e2e.test,@relay.example:x@example.com>\r\n",
                1,
            ),
            ("RCPT TO:<x%example.com%mail.e2e.test@mail.e2e.test>\r\n", 1),
            ("RCPT TO:<x\\@example.com@mail.e2e.test>\r\n", 1),
            ("RCPT TO:<\"x@example.com\">\r\n", 1),
            ("RCPT TO:<example.com!x>\r\n", 1),
            ("RCPT TO:<x%example.com>\r\n", 1),
            ("RCPT TO:<x%40example.com@mail.e2e.test>\r\n", 1),
            ("RCPT TO:<x@[127.0.0.1]>\r\n", 1),
            ("RCPT TO:<x@[IPv6:::1]>\r\n", 1),
            ("RCPT TO:<x@exa\u{e9}mple.com>\r\n", 1),
            ("RCPT TO:<x@example.com.mail.e2e.test>\r\n", 1),
            ("RCPT TO:<x@mail.e2e.test.example.com>\r\n", 1),
            ("RCPT TO:<x@@example.com>\r\n", 1),
            ("RCPT TO:<X%EXAMPLE.COM@MAIL.E2E.TEST>\r\n", 1),
            ("RCPT TO:x@example.com\r\n", 1),
            ("RCPT TO:<x@example.com> NOTIFY=NEVER\r\n", 1),
            ("RCPT TO:<x@relay.e2e.test.>\r\n", 1),
            QUIT,
        ],
    );
    pair.compare(
        "null sender",
        "127.0.0.2",
        &[
            EHLO,
            ("MAIL FROM:<>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("DATA\r\n", 1),
            (&body, 1),
            QUIT,
        ],
    );
    let pipelined = format!(
        "MAIL FROM:<sender@example.org>\r\nRCPT TO:<user@vmail.e2e.test>\r\n\
         RCPT TO:<nosuch@mail.e2e.test>\r\nDATA\r\n{body}QUIT\r\n"
    );
    pair.compare("pipelining", "127.0.0.1", &[EHLO, (&pipelined, 6)]);
    pair.compare(
        "improper pipelining",
        "127.0.0.1",
        &[
            ("EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n", 2),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("DATA\r\n", 1),
            QUIT,
        ],
    );
    pair.compare(
        "bdat",
        "127.0.0.1",
        &[
            EHLO,
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("BDAT 20\r\nSubject: bdat\r\n\r\nabc\r\n", 1),
            ("BDAT 5 LAST\r\nend\r\n", 1),
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("BDAT 3\r\nabc", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("BDAT 0 LAST\r\n", 1),
            ("BDAT x\r\n", 1),
        ],
    );
    pair.compare(
        "size limit",
        "127.0.0.1",
        &[
            EHLO,
            ("MAIL FROM:<sender@example.org> SIZE=30000\r\n", 1),
            ("MAIL FROM:<sender@example.org> SIZE=1000\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("DATA\r\n", 1),
            (&big, 1),
            QUIT,
        ],
    );
    pair.compare(
        "too many recipients",
        "127.0.0.1",
        &[
            EHLO,
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<user+a@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("DATA\r\n", 1),
            (&body, 1),
            QUIT,
        ],
    );
    pair.compare(
        "syntax errors",
        "127.0.0.1",
        &[
            ("HELO\r\n", 1),
            ("FOO bar\r\n", 1),
            ("HELP\r\n", 1),
            ("MAIL FROM:<a@example.org\r\n", 1),
            ("MAIL TO:<a@example.org>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("DATA\r\n", 1),
            ("MAIL FROM:<sender@example.org> BOGUS=1\r\n", 1),
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:\r\n", 1),
            ("RCPT TO:<a b@example.org>\r\n", 1),
            ("DATA x\r\n", 1),
            ("RSET x\r\n", 1),
            ("RSET\r\n", 1),
            ("NOOP\r\n", 1),
            ("VRFY user@vmail.e2e.test\r\n", 1),
            ("VRFY nosuch@mail.e2e.test\r\n", 1),
            ("ETRN example.com\r\n", 1),
            ("ETRN relay.e2e.test\r\n", 1),
            ("STARTTLS\r\n", 1),
            ("AUTH PLAIN\r\n", 1),
            ("xyzzy\r\n", 1),
            QUIT,
        ],
    );
    pair.compare("web proxy", "127.0.0.1", &[("GET / HTTP/1.0\r\n", 1)]);
    pair.compare(
        "access tables and classes",
        "127.0.0.1",
        &[
            EHLO,
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<rejected@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<deferred@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<coded@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<held@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<warned@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<strict@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<nodomain>\r\n", 1),
            ("RCPT TO:<anyone@relay.e2e.test>\r\n", 1),
            ("RSET\r\n", 1),
            ("MAIL FROM:<spammer@example.org>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("RSET\r\n", 1),
            ("MAIL FROM:<someone@sub.example.net>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            QUIT,
        ],
    );
    pair.compare(
        "xforward",
        "127.0.0.1",
        &[
            EHLO,
            (
                "XFORWARD NAME=spike.example ADDR=192.0.2.7 PROTO=ESMTP\r\n",
                1,
            ),
            (
                "XFORWARD HELO=spike.example PORT=4321 IDENT=ABC123 SOURCE=REMOTE\r\n",
                1,
            ),
            ("XFORWARD BOGUS=1\r\n", 1),
            ("XFORWARD ADDR=999.1.1.1\r\n", 1),
            ("XFORWARD PORT=123456\r\n", 1),
            ("XFORWARD NAME=bad<name>\r\n", 1),
            ("XFORWARD\r\n", 1),
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("XFORWARD NAME=late.example\r\n", 1),
            ("RCPT TO:<held@vmail.e2e.test>\r\n", 1),
            ("DATA\r\n", 1),
            (&body, 1),
            ("XFORWARD ADDR=[UNAVAILABLE] NAME=other.example\r\n", 1),
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<held@vmail.e2e.test>\r\n", 1),
            QUIT,
        ],
    );
    pair.compare(
        "xforward refused",
        "127.0.0.2",
        &[EHLO, ("XFORWARD NAME=spike.example\r\n", 1), QUIT],
    );
    pair.compare(
        "helo restrictions",
        "127.0.0.1",
        &[
            ("HELO bad_name!\r\n", 1),
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("HELO nodots\r\n", 1),
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            QUIT,
        ],
    );
    pair.compare(
        "client rejected",
        "127.0.0.3",
        &[
            EHLO,
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            QUIT,
        ],
    );
    for source in ["127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7"] {
        pair.compare(
            "unknown client name",
            source,
            &[
                EHLO,
                ("MAIL FROM:<sender@example.org>\r\n", 1),
                ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
                QUIT,
            ],
        );
    }
    pair.compare(
        "lost connection in DATA",
        "127.0.0.1",
        &[
            EHLO,
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("DATA\r\n", 1),
            ("Subject: cut\r\n\r\npart", 0),
        ],
    );
    // The accepted messages arrive the same: envelope, Received: header, content.
    let settled = e2e::wait_until(60, || {
        let theirs = pair.postfix.mailbox().len();
        theirs >= 5 && pair.ironpost.mailbox().len() == theirs
    });
    assert!(settled, "messages missing:\n{}", pair.ironpost.log());
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(delivered(&pair.postfix), delivered(&pair.ironpost));
    // The held messages' envelopes: smtpd's records in Postfix's order, XFORWARD's
    // log attributes among them.
    let (theirs, ours) = (
        envelopes(&pair.postfix, "hold"),
        envelopes(&pair.ironpost, "hold"),
    );
    assert!(!theirs.is_empty(), "nothing held");
    assert_eq!(theirs, ours);
}

/// The `< name[addr]: ...` and `> name[addr]: ...` transcript lines of the last session.
fn transcript(log: &[String]) -> Vec<String> {
    log.iter()
        .filter(|l| l.starts_with("< ") || l.starts_with("> "))
        .cloned()
        .collect()
}

#[test]
fn debug_peer_list_timeout_and_error_limit() {
    let main_cf = [
        ("mynetworks", "127.0.0.1/32"),
        ("debug_peer_list", "127.0.0.1"),
        ("smtpd_timeout", "3s"),
        ("smtpd_hard_error_limit", "3"),
        ("smtpd_soft_error_limit", "2"),
        ("smtpd_error_sleep_time", "1s"),
        // Restrictions at their own commands.
        ("smtpd_delay_reject", "no"),
        (
            "smtpd_client_restrictions",
            "check_client_access inline:{{127.0.0.3=REJECT}}",
        ),
        ("smtpd_helo_restrictions", "reject_non_fqdn_helo_hostname"),
        (
            "smtpd_sender_restrictions",
            "check_sender_access inline:{{spammer@example.org=REJECT}}",
        ),
        // Every 4xx and 5xx reply gets a footer; sender refusals their own.
        (
            "smtpd_reject_footer",
            "\\c; see https://$server_name/help\\nclient $client_address, helo $helo_name, \
             sender ${sender_domain}",
        ),
        ("smtpd_reject_footer_maps", "regexp:@DIR@/etc/footers"),
    ];
    let footers = [(
        "etc/footers",
        "/Sender address rejected/ Sender refused by $$server_name for $$sender_name\n",
    )];
    let Some(pair) = start("debug-peer", &main_cf, &footers) else {
        return;
    };
    let steps = [EHLO, ("MAIL FROM:<sender@example.org>\r\n", 1), QUIT];
    for source in ["127.0.0.1", "127.0.0.2"] {
        let theirs = dialogue(&pair.postfix, source, &steps);
        let ours = dialogue(&pair.ironpost, source, &steps);
        assert!(theirs == ours, "{source}: replies differ");
        let (their_log, our_log) = (smtpd_log(&pair.postfix), smtpd_log(&pair.ironpost));
        let (theirs, ours) = (transcript(&their_log), transcript(&our_log));
        assert_eq!(theirs, ours, "{source}: transcripts differ");
        if source == "127.0.0.1" {
            assert!(
                ours.contains(&"< localhost[127.0.0.1]: EHLO client.example".to_string()),
                "no transcript for 127.0.0.1: {our_log:?}"
            );
            assert!(ours.contains(&"> localhost[127.0.0.1]: 250 2.1.0 Ok".to_string()));
        } else {
            assert!(
                ours.is_empty(),
                "127.0.0.2 is not in debug_peer_list: {our_log:?}"
            );
            // Not verbose: the log is Postfix's plain session, line for line.
            assert_eq!(their_log, our_log);
        }
    }
    let replies = pair.compare(
        "restrictions without smtpd_delay_reject",
        "127.0.0.2",
        &[
            ("HELO nodots\r\n", 1),
            EHLO,
            ("MAIL FROM:<spammer@example.org>\r\n", 1),
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            QUIT,
        ],
    );
    for footer in [
        "554-5.7.1 <spammer@example.org>: Sender address rejected: Access denied\n\
         554 5.7.1 Sender refused by mail.e2e.test for ",
        "; see https://mail.e2e.test/help\n504 5.5.2 client 127.0.0.2, helo , sender ",
    ] {
        assert!(
            replies.contains(footer),
            "no footer {footer:?} in\n{replies}"
        );
    }
    pair.compare(
        "client refused at connect",
        "127.0.0.3",
        &[EHLO, ("NOOP\r\n", 1), QUIT],
    );
    pair.compare("timeout", "127.0.0.2", &[EHLO, ("", 1)]);
    pair.compare(
        "error limit",
        "127.0.0.2",
        &[
            EHLO,
            ("FOO\r\n", 1),
            ("BAR\r\n", 1),
            ("BAZ\r\n", 1),
            ("NOOP\r\n", 1),
        ],
    );
}

/// Where it listens: port 53, as resolv.conf cannot name another.
const DNS_ADDR: &str = "127.0.0.153";

/// The zone: block lists with and without reasons, an allow list, domain lists.
const ZONE: &str = r#"{
    "2.0.0.127.zen.e2e.test": [["A", "127.0.0.2"], ["TXT", "listed for testing"]],
    "4.0.0.127.zen2.e2e.test": [["A", "127.0.0.4"]],
    "4.0.0.127.custom.e2e.test": [["A", "127.0.0.3"], ["TXT", "custom"]],
    "3.0.0.127.dnswl.e2e.test": [["A", "127.0.0.10"]],
    "bad-helo.example.rhsbl.e2e.test": [["A", "127.0.0.2"], ["TXT", "bad helo"]],
    "spammer.example.rhsbl.e2e.test": [["A", "127.0.0.2"]],
    "blocked.example.rhsbl.e2e.test": [["A", "127.0.0.2"], ["TXT", "no mail for you"]],
    "client.example": [["A", "192.0.2.1"]],
    "bad-helo.example": [["A", "192.0.2.2"]],
    "example.org": [["MX", "10 mx.example.org"]],
    "spammer.example": [["A", "192.0.2.3"]],
    "blocked.example": [["MX", "10 mx.blocked.example"]],
    "nullmx.example": [["MX", "0 ."]],
    "servfail.example": [["SERVFAIL", ""]],
    "mx-bad.example": [["MX", "10 mx.spamhost.example"]],
    "mx.spamhost.example": [["A", "192.0.2.66"]],
    "ns-bad.example": [["NS", "ns1.spamhost.example"], ["A", "192.0.2.1"]],
    "ns1.spamhost.example": [["A", "192.0.2.67"]],
    "a-bad.example": [["A", "192.0.2.68"]],
    "ok-mx.example": [["MX", "10 okhost.example"]],
    "okhost.example": [["A", "192.0.2.69"]]
}"#;

#[test]
fn dns_lists_match_postfix() {
    let main_cf = [
        ("mynetworks", "127.0.0.1/32"),
        ("rbl_reply_maps", "texthash:@DIR@/etc/rbl_reply"),
        ("smtpd_helo_restrictions", "reject_unknown_helo_hostname"),
        (
            "smtpd_sender_restrictions",
            "check_sender_mx_access texthash:@DIR@/etc/server_access, \
             check_sender_ns_access texthash:@DIR@/etc/server_access, \
             check_sender_a_access texthash:@DIR@/etc/server_access, \
             reject_unknown_sender_domain",
        ),
        (
            "smtpd_recipient_restrictions",
            "permit_dnswl_client dnswl.e2e.test, \
             reject_rbl_client zen.e2e.test, \
             reject_rbl_client zen2.e2e.test=127.0.0.[2..3], \
             reject_rbl_client custom.e2e.test, \
             reject_rhsbl_helo rhsbl.e2e.test, \
             reject_rhsbl_sender rhsbl.e2e.test, \
             reject_rhsbl_recipient rhsbl.e2e.test, \
             reject_rhsbl_client rhsbl.e2e.test, \
             reject_unknown_recipient_domain, \
             reject_unauth_destination, \
             reject_rbl_client",
        ),
    ];
    let files = [
        (
            "etc/server_access",
            "mx.spamhost.example REJECT mx host listed\n\
             192.0.2.67 REJECT ns address listed\n\
             192.0.2.68 REJECT a address listed\n\
             okhost.example OK\n",
        ),
        (
            "etc/rbl_reply",
            // The session's names too, as smtpd_reject_footer has them.
            "custom.e2e.test $rbl_code 5.7.2 custom: $rbl_what ($rbl_class) on $rbl_domain: \
             $rbl_reason; $client, $helo_name, ${sender_name}, ${recipient_domain}\n",
        ),
        // The jail the chrooted smtpds resolve in: our DNS server, no host names but
        // localhost.
        (
            "queue/etc/resolv.conf",
            "nameserver 127.0.0.153\noptions timeout:2 attempts:1\n",
        ),
        ("queue/etc/hosts", "127.0.0.1 localhost\n"),
        ("queue/etc/nsswitch.conf", "hosts: files dns\n"),
    ];
    let Some(mut pair) = Pair::prepare("t22-dnsbl", &main_cf, &files) else {
        return;
    };
    let log = pair.ironpost.dir.join("log/dns-queries");
    let Some(_dns) = e2e::dns::DnsServer::start(DNS_ADDR, ZONE, &log) else {
        return;
    };
    for instance in [&pair.postfix, &pair.ironpost] {
        instance.replace_master_cf_line(
            |l| l.contains(" inet ") && l.ends_with("smtpd"),
            "127.0.0.1:@SMTP_PORT@ inet n - y - - smtpd",
        );
    }
    pair.start();
    let mail = ("MAIL FROM:<sender@example.org>\r\n", 1);
    let user = ("RCPT TO:<user@vmail.e2e.test>\r\n", 1);
    let mut replies = String::new();
    for source in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        replies += &pair.compare(
            "client lists",
            source,
            &[EHLO, mail, user, ("RCPT TO:<x@example.com>\r\n", 1), QUIT],
        );
    }
    replies += &pair.compare(
        "domain lists",
        "127.0.0.1",
        &[
            ("EHLO bad-helo.example\r\n", 1),
            mail,
            user,
            EHLO,
            ("MAIL FROM:<x@spammer.example>\r\n", 1),
            user,
            ("RSET\r\n", 1),
            mail,
            ("RCPT TO:<user@blocked.example>\r\n", 1),
            user,
            QUIT,
        ],
    );
    for expected in [
        "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using zen.e2e.test; \
         listed for testing",
        "554 5.7.2 custom: 127.0.0.4 (Client host) on custom.e2e.test: custom; \
         unknown[127.0.0.4], client.example, sender, vmail.e2e.test\n",
        "554 5.7.1 Service unavailable; Recipient address [user@blocked.example] blocked using \
         rhsbl.e2e.test; no mail for you",
        "Helo command [bad-helo.example] blocked using rhsbl.e2e.test; bad helo",
    ] {
        assert!(replies.contains(expected), "no {expected:?} in\n{replies}");
    }
    replies += &pair.compare(
        "unknown names",
        "127.0.0.1",
        &[
            ("EHLO nosuch.example\r\n", 1),
            mail,
            user,
            ("EHLO [999.1.1.1]\r\n", 1),
            mail,
            user,
            EHLO,
            ("MAIL FROM:<x@nosuch.example>\r\n", 1),
            user,
            ("RSET\r\n", 1),
            ("MAIL FROM:<x@nullmx.example>\r\n", 1),
            user,
            ("RSET\r\n", 1),
            ("MAIL FROM:<x@servfail.example>\r\n", 1),
            user,
            ("RSET\r\n", 1),
            mail,
            ("RCPT TO:<x@nosuch-rcpt.example>\r\n", 1),
            ("RCPT TO:<x@nullmx.example>\r\n", 1),
            user,
            QUIT,
        ],
    );
    replies += &pair.compare(
        "server access",
        "127.0.0.1",
        &[
            EHLO,
            ("MAIL FROM:<x@mx-bad.example>\r\n", 1),
            user,
            ("RSET\r\n", 1),
            ("MAIL FROM:<x@sub.ns-bad.example>\r\n", 1),
            user,
            ("RSET\r\n", 1),
            ("MAIL FROM:<x@a-bad.example>\r\n", 1),
            user,
            ("RSET\r\n", 1),
            ("MAIL FROM:<x@ok-mx.example>\r\n", 1),
            user,
            QUIT,
        ],
    );
    for expected in [
        "<x@mx-bad.example>: Sender address rejected: mx host listed",
        "<x@sub.ns-bad.example>: Sender address rejected: ns address listed",
        "<x@a-bad.example>: Sender address rejected: a address listed",
        "451 4.3.5 Server configuration error",
        "Helo command rejected: Host not found",
        "Sender address rejected: Domain not found",
        "550 5.7.27 <x@nullmx.example>: Sender address rejected: Domain nullmx.example does \
         not accept mail (nullMX)",
        "450 4.1.8 <x@servfail.example>: Sender address rejected: Domain not found",
        "556 5.1.10 <x@nullmx.example>: Recipient address rejected",
        "501 5.5.2 <[999.1.1.1]>: Helo command rejected: invalid ip address",
    ] {
        assert!(replies.contains(expected), "no {expected:?} in\n{replies}");
    }
    let queries = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        queries.contains("2.0.0.127.zen.e2e.test A"),
        "the lists were not asked: {queries}"
    );
}

/// XCLIENT from an authorized client (127.0.0.1) and an unauthorized one (127.0.0.2):
/// the replies, the restart with a new greeting and connect-time restrictions for the new
/// client, and the new client in the log. Recipients that resolve to the error or retry
/// transport are refused at RCPT, as Postfix's smtpd does.
#[test]
fn xclient_and_error_transport_match_postfix() {
    let main_cf = [
        ("smtpd_authorized_xclient_hosts", "127.0.0.1"),
        // Every XCLIENT client address below connects once, but 192.0.2.50.
        ("smtpd_client_connection_rate_limit", "1"),
        ("smtpd_delay_reject", "no"),
        ("smtpd_reject_unlisted_sender", "yes"),
        // An address a canonical map rewrites is not refused, whatever its transport.
        (
            "recipient_canonical_maps",
            "inline:{{rewritten@bounce.e2e.test=user@vmail.e2e.test}}",
        ),
        (
            "smtpd_client_restrictions",
            "check_client_access inline:{{192.0.2.3=REJECT}}",
        ),
    ];
    let transport = "relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n\
                     bounce.e2e.test error:mailbox unavailable\n\
                     coded@vmail.e2e.test error:5.2.2 mailbox full\n\
                     later.e2e.test retry:4.4.1 try again later\n";
    let Some(pair) = start("xclient", &main_cf, &[("etc/transport", transport)]) else {
        return;
    };
    let body = message(2);
    let replies = pair.compare(
        "xclient",
        "127.0.0.1",
        &[
            EHLO,
            ("XCLIENT\r\n", 1),
            ("XCLIENT FOO=bar\r\n", 1),
            ("XCLIENT NAME\r\n", 1),
            ("XCLIENT NAME=bad!name\r\n", 1),
            ("XCLIENT ADDR=999.1.1.1\r\n", 1),
            ("XCLIENT PORT=123456\r\n", 1),
            ("XCLIENT PROTO=LMTP\r\n", 1),
            (
                "XCLIENT NAME=client.example.com ADDR=192.0.2.7 PORT=4321 HELO=helo+2Eexample \
                 PROTO=ESMTP LOGIN=joe DESTADDR=127.0.0.1 DESTPORT=25\r\n",
                1,
            ),
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("XCLIENT NAME=other.example.com\r\n", 1),
            ("DATA\r\n", 1),
            (&body, 1),
            QUIT,
        ],
    );
    assert_eq!(replies.matches("220 mail.e2e.test").count(), 2, "{replies}");
    // The message arrives the same, the XCLIENT client in its Received: header.
    let settled = e2e::wait_until(60, || {
        pair.postfix.mailbox().len() == 1 && pair.ironpost.mailbox().len() == 1
    });
    assert!(settled, "message missing:\n{}", pair.ironpost.log());
    let (theirs, ours) = (delivered(&pair.postfix), delivered(&pair.ironpost));
    assert_eq!(theirs, ours);
    assert!(
        ours[0].contains("from helo.example (client.example.com [192.0.2.7])"),
        "{ours:?}"
    );
    pair.compare(
        "xclient unavailable",
        "127.0.0.1",
        &[
            (
                "XCLIENT NAME=[TEMPUNAVAIL] REVERSE_NAME=[UNAVAILABLE] ADDR=192.0.2.9\r\n",
                1,
            ),
            EHLO,
            (
                "XCLIENT NAME=[UNAVAILABLE] HELO=[UNAVAILABLE] ADDR=[UNAVAILABLE]\r\n",
                1,
            ),
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            QUIT,
        ],
    );
    pair.compare(
        "xclient half applied",
        "127.0.0.1",
        &[
            EHLO,
            ("XCLIENT NAME=good.example PORT=abc\r\n", 1),
            ("XCLIENT ADDR=192.0.2.3\r\n", 1),
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("XCLIENT ADDR=192.0.2.4\r\n", 1),
            QUIT,
        ],
    );
    // The proxy is never counted; the clients it brings in are.
    for attempt in ["first", "second"] {
        let replies = pair.compare_with(
            &format!("xclient rate limit, {attempt}"),
            "127.0.0.1",
            &[
                ("XCLIENT ADDR=192.0.2.50 NAME=[UNAVAILABLE]\r\n", 1),
                ("NOOP\r\n", 1),
                QUIT,
            ],
            |instance, lines| {
                // The SMTP port is in the service name of anvil's warnings.
                let port = format!(":{}", instance.smtp_port);
                lines
                    .into_iter()
                    .map(|l| l.replace(&port, ":PORT"))
                    .collect()
            },
        );
        let refused = replies.contains("421 4.7.0 mail.e2e.test Error: too many connections");
        assert_eq!(refused, attempt == "second", "{replies}");
    }
    // Malformed attributes, each refused alone (the ones before a bad one stay): an
    // empty value, a value over 255 bytes, bad addresses and ports, a long HELO; xtext
    // and non-printable values, lower-case names, a NAME that is not a host name.
    let long_value = format!("XCLIENT LOGIN={}\r\n", "x".repeat(256));
    let long_helo = format!("XCLIENT HELO={}\r\n", "h+2E".repeat(64));
    pair.compare(
        "xclient malformed",
        "127.0.0.1",
        &[
            EHLO,
            ("XCLIENT NAME=\r\n", 1),
            ("XCLIENT =x\r\n", 1),
            (&long_value, 1),
            ("XCLIENT ADDR=[TEMPUNAVAIL]\r\n", 1),
            ("XCLIENT ADDR=IPv6:2001:db8::1\r\n", 1),
            ("XCLIENT DESTADDR=300.1.1.1\r\n", 1),
            ("XCLIENT DESTPORT=123456\r\n", 1),
            ("XCLIENT DESTPORT=[TEMPUNAVAIL]\r\n", 1),
            ("XCLIENT PORT=-1\r\n", 1),
            (&long_helo, 1),
            ("XCLIENT PROTO=[UNAVAILABLE]\r\n", 1),
            ("XCLIENT NAME=bad+20name\r\n", 1),
            ("XCLIENT REVERSE_NAME=+01x.example\r\n", 1),
            (
                "xclient name=ok.example helo=a+3Cb+3E port=99 login=+41nn proto=smtp\r\n",
                1,
            ),
            ("HELO there\r\n", 1),
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            QUIT,
        ],
    );
    pair.compare(
        "xclient unauthorized",
        "127.0.0.2",
        &[
            EHLO,
            ("XCLIENT NAME=client.example.com\r\n", 1),
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("XCLIENT NAME=client.example.com\r\n", 1),
            QUIT,
        ],
    );
    let replies = pair.compare(
        "error transport",
        "127.0.0.1",
        &[
            EHLO,
            ("MAIL FROM:<sender@bounce.e2e.test>\r\n", 1),
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<x@bounce.e2e.test>\r\n", 1),
            ("RCPT TO:<coded@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<x@later.e2e.test>\r\n", 1),
            ("RCPT TO:<rewritten@bounce.e2e.test>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            QUIT,
        ],
    );
    let wanted = "550 5.1.1 <x@bounce.e2e.test>: Recipient address rejected: mailbox unavailable";
    assert!(replies.contains(wanted), "{replies}");
    assert_eq!(replies.matches("250 2.1.5 Ok").count(), 2, "{replies}");
}

/// check_ccert_access: the client certificate's SHA-256 fingerprint, then its public
/// key's, with the certificate's CN in the reply; no certificate, no lookup.
#[test]
fn ccert_access_matches_postfix() {
    let (rsa, key) = (test_cert("rsa.pem"), test_cert("rsa.key"));
    let (client, client_key) = (test_cert("client.pem"), test_cert("client.key"));
    // client.pem's certificate and public-key fingerprints.
    let cert_fp = "B6:63:89:B3:0B:2E:9A:3C:4E:10:DC:65:C9:56:2B:80:\
                   76:47:D8:57:0D:1C:74:CC:2B:8E:62:91:64:31:FA:35";
    let pkey_fp = "EB:EF:FA:94:3F:75:D8:60:86:F7:67:27:99:D7:64:08:\
                   8D:C2:D3:DC:F1:FD:FF:68:29:53:F3:C4:A4:EE:E3:8A";
    let main_cf = [
        ("mynetworks", "127.0.0.1/32"),
        ("smtpd_tls_cert_file", rsa.as_str()),
        ("smtpd_tls_key_file", key.as_str()),
        ("smtpd_tls_security_level", "may"),
        ("smtpd_tls_ask_ccert", "yes"),
        ("smtpd_tls_loglevel", "1"),
        (
            "smtpd_relay_restrictions",
            "permit_mynetworks, check_ccert_access texthash:@DIR@/etc/ccert, \
             reject_unauth_destination",
        ),
        (
            "smtpd_data_restrictions",
            "check_ccert_access texthash:@DIR@/etc/ccert_data",
        ),
        // Listed by its public key: the sender restrictions let it through.
        ("relay_clientcerts", "texthash:@DIR@/etc/relay_ccerts"),
        (
            "smtpd_sender_restrictions",
            "permit_tls_clientcerts, permit_tls_all_clientcerts, \
             check_sender_access inline:{{sender@example.org=REJECT}}",
        ),
    ];
    // A DUNNO for the certificate lets its public key decide.
    let relay = format!("{cert_fp} DUNNO\n{pkey_fp} OK\n");
    let data = format!("{cert_fp} REJECT certified, but not for content\n");
    let listed = format!("{pkey_fp} anything\n");
    let files = [
        ("etc/ccert", relay.as_str()),
        ("etc/ccert_data", data.as_str()),
        ("etc/relay_ccerts", listed.as_str()),
    ];
    let Some(mut pair) = Pair::prepare("t22-ccert", &main_cf, &files) else {
        return;
    };
    pair.start();
    let with_cert = format!("<TLS CERT {client} {client_key}>");
    let replies = pair.compare("with a certificate", "127.0.0.2", &ccert_steps(&with_cert));
    assert!(
        replies.contains("554 5.7.1 <client.example>: Client certificate rejected: certified"),
        "{replies}"
    );
    let replies = pair.compare("without one", "127.0.0.2", &ccert_steps("<TLS>"));
    assert!(replies.contains("Sender address rejected"), "{replies}");
}

/// A relayed message's envelope after STARTTLS with the `tls` step.
fn ccert_steps(tls: &str) -> [(&str, usize); 8] {
    [
        EHLO,
        ("STARTTLS\r\n", 1),
        (tls, 0),
        EHLO,
        ("MAIL FROM:<sender@example.org>\r\n", 1),
        ("RCPT TO:<x@example.com>\r\n", 1),
        ("DATA\r\n", 1),
        QUIT,
    ]
}

#[test]
fn multi_recipient_bounce_matches_postfix() {
    // b@ gets the restriction at RCPT (through a class, so that c@ passes and the
    // transaction reaches DATA); at DATA every transaction gets it.
    let main_cf = [
        ("mynetworks", "127.0.0.0/8"),
        ("smtpd_restriction_classes", "one_bounce"),
        ("one_bounce", "reject_multi_recipient_bounce"),
        (
            "smtpd_recipient_restrictions",
            "check_recipient_access inline:{{b@example.com=one_bounce}}",
        ),
        ("smtpd_data_restrictions", "reject_multi_recipient_bounce"),
    ];
    let Some(pair) = start("multi-bounce", &main_cf, &[]) else {
        return;
    };
    // DATA is sent only where it is refused: a 354 would take what follows as content.
    let steps = |sender: &'static str, second: &'static str, data: bool| {
        let mut steps = vec![
            EHLO,
            (sender, 1),
            ("RCPT TO:<a@example.com>\r\n", 1),
            (second, 1),
        ];
        if data {
            steps.push(("DATA\r\n", 1));
        }
        steps.extend([("RSET\r\n", 1), QUIT]);
        steps
    };
    let replies = pair.compare(
        "RCPT stage",
        "127.0.0.2",
        &steps("MAIL FROM:<>\r\n", "RCPT TO:<b@example.com>\r\n", false),
    );
    assert!(
        replies.contains(
            "550 5.5.3 <b@example.com>: Recipient address rejected: Multi-recipient bounce"
        ),
        "{replies}"
    );
    let replies = pair.compare(
        "DATA stage",
        "127.0.0.2",
        &steps("MAIL FROM:<>\r\n", "RCPT TO:<c@example.com>\r\n", true),
    );
    assert!(
        replies.contains("550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce"),
        "{replies}"
    );
    // Only the null sender is limited.
    let sender = steps(
        "MAIL FROM:<s@example.org>\r\n",
        "RCPT TO:<b@example.com>\r\n",
        false,
    );
    let replies = pair.compare("a sender", "127.0.0.2", &sender);
    assert!(!replies.contains("Multi-recipient"), "{replies}");
}

/// Where the DNS server of `more_restrictions_match_postfix` listens (other tests use
/// 127.0.0.140-163).
const MORE_DNS_ADDR: &str = "127.0.0.165";

/// Its zone: sender domains, and MX lists that name this host (me.example is
/// 127.0.0.1, the instances' inet_interfaces) as primary or backup.
const MORE_ZONE: &str = r#"{
    "example.org": [["MX", "10 mx.example.org"]],
    "me.example": [["A", "127.0.0.1"]],
    "primary.example": [["A", "192.0.2.10"]],
    "far.example": [["A", "198.51.100.1"]],
    "other.example": [["A", "192.0.2.11"]],
    "backup.example": [["MX", "10 primary.example"], ["MX", "20 me.example"]],
    "far-primary.example": [["MX", "10 far.example"], ["MX", "20 me.example"]],
    "primary-me.example": [["MX", "10 me.example"], ["MX", "20 other.example"]],
    "not-me.example": [["MX", "10 primary.example"], ["MX", "20 other.example"]],
    "no-mx.example": [["A", "192.0.2.12"]],
    "servfail.example": [["SERVFAIL", ""]],
    "lost-backup.example": [["MX", "10 primary.example"], ["MX", "20 nosuch-host.example"]],
    "lost-primary.example": [["MX", "10 servfail.example"], ["MX", "20 me.example"]]
}"#;

#[test]
fn more_restrictions_match_postfix() {
    let main_cf = [
        ("mynetworks", "127.0.0.0/8"),
        ("smtpd_restriction_classes", "bad_sleep"),
        ("bad_sleep", "sleep soon"),
        (
            "smtpd_client_restrictions",
            "permit_inet_interfaces, check_sasl_access inline:{{u=REJECT}}, sleep 1",
        ),
        (
            "smtpd_helo_restrictions",
            "permit_naked_ip_address, reject_non_fqdn_helo_hostname",
        ),
        ("smtpd_sender_restrictions", "reject_unknown_address"),
        (
            "smtpd_recipient_restrictions",
            "check_recipient_access inline:{{sleepy@example.com=bad_sleep}}, \
             permit_mx_backup, reject_unauth_destination",
        ),
        ("permit_mx_backup_networks", "192.0.2.0/28"),
    ];
    let Some(mut pair) = Pair::prepare("t22-more", &main_cf, &[]) else {
        return;
    };
    let log = pair.ironpost.dir.join("log/dns-queries");
    let Some(_dns) = e2e::dns::DnsServer::start(MORE_DNS_ADDR, MORE_ZONE, &log) else {
        return;
    };
    for instance in [&pair.postfix, &pair.ironpost] {
        e2e::dns::resolve_in_jail(instance, MORE_DNS_ADDR);
        instance.replace_master_cf_line(
            |l| l.contains(" inet ") && l.ends_with("smtpd"),
            "127.0.0.1:@SMTP_PORT@ inet n - y - - smtpd",
        );
    }
    pair.start();
    let mail = ("MAIL FROM:<sender@example.org>\r\n", 1);
    let rcpt = ("RCPT TO:<user@example.com>\r\n", 1);
    let mut replies = String::new();
    // From our own address permit_inet_interfaces decides; from 127.0.0.2 the SASL
    // table is ignored with a warning and the client waits a second.
    for source in ["127.0.0.1", "127.0.0.2"] {
        replies += &pair.compare(
            "client restrictions",
            source,
            &[
                ("EHLO 192.0.2.1\r\n", 1),
                mail,
                rcpt,
                ("RSET\r\n", 1),
                ("EHLO 192.0.2\r\n", 1),
                mail,
                rcpt,
                ("RSET\r\n", 1),
                ("EHLO localhost\r\n", 1),
                mail,
                rcpt,
                ("RSET\r\n", 1),
                EHLO,
                ("MAIL FROM:<x@nosuch.example>\r\n", 1),
                rcpt,
                ("RSET\r\n", 1),
                mail,
                ("RCPT TO:<sleepy@example.com>\r\n", 1),
                QUIT,
            ],
        );
    }
    // Postfix's MX host lookups go through the jail's hosts file and our DNS server.
    let mx = pair.compare(
        "permit_mx_backup",
        "127.0.0.2",
        &[
            EHLO,
            mail,
            ("RCPT TO:<a@backup.example>\r\n", 1),
            ("RCPT TO:<a@far-primary.example>\r\n", 1),
            ("RCPT TO:<a@primary-me.example>\r\n", 1),
            ("RCPT TO:<a@not-me.example>\r\n", 1),
            ("RCPT TO:<a@no-mx.example>\r\n", 1),
            ("RCPT TO:<a@servfail.example>\r\n", 1),
            ("RCPT TO:<a@lost-backup.example>\r\n", 1),
            ("RCPT TO:<a@lost-primary.example>\r\n", 1),
            ("RCPT TO:<a@[192.0.2.1]>\r\n", 1),
            ("RCPT TO:<a@mail.e2e.test>\r\n", 1),
            QUIT,
        ],
    );
    for expected in [
        "250 2.1.5 Ok\n554 5.7.1 <a@far-primary.example>: Relay access denied",
        "554 5.7.1 <a@primary-me.example>: Relay access denied",
        "450 4.4.4 <a@servfail.example>: Recipient address rejected: Unable to look up mail \
         exchanger information: Host not found, try again",
    ] {
        assert!(mx.contains(expected), "no {expected:?} in\n{mx}");
    }
    for expected in [
        "501 5.5.2 <192.0.2>: Helo command rejected: invalid ip address",
        "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname",
        "<x@nosuch.example>: Sender address rejected: Domain not found",
        "451 4.3.5 Server configuration error",
    ] {
        assert!(replies.contains(expected), "no {expected:?} in\n{replies}");
    }
}

#[test]
fn etrn_restrictions_match_postfix() {
    let main_cf = [
        ("mynetworks", "127.0.0.1/32"),
        ("relay_domains", "relay.example"),
        // What follows permit, reject or defer is ignored, with a warning.
        ("smtpd_restriction_classes", "allow_it"),
        ("allow_it", "permit reject"),
        (
            "smtpd_etrn_restrictions",
            "check_etrn_access inline:{{blocked.example=REJECT no flush}, \
             {later.example=DEFER_IF_PERMIT try later}, {ok.example=allow_it}}, \
             permit_mynetworks, reject defer",
        ),
    ];
    let Some(pair) = start("etrn", &main_cf, &[]) else {
        return;
    };
    let steps = [
        EHLO,
        ("ETRN blocked.example\r\n", 1),
        ("ETRN later.example\r\n", 1),
        ("ETRN ok.example\r\n", 1),
        ("ETRN relay.example\r\n", 1),
        ("ETRN [127.0.0.1]\r\n", 1),
        QUIT,
    ];
    let mut replies = String::new();
    for source in ["127.0.0.1", "127.0.0.2"] {
        replies += &pair.compare("ETRN", source, &steps);
    }
    for expected in [
        "554 5.7.1 <blocked.example>: Etrn command rejected: no flush",
        "450 4.7.1 <later.example>: Etrn command rejected: try later",
        "554 5.7.1 <relay.example>: Etrn command rejected: Access denied",
    ] {
        assert!(replies.contains(expected), "no {expected:?} in\n{replies}");
    }
}

#[test]
fn sasl_access_matches_postfix() {
    let dovecot = match e2e::dovecot::TestDovecot::start() {
        Ok(dovecot) => dovecot,
        Err(reason) => return testkit::skip(reason),
    };
    let socket = dovecot.socket().display().to_string();
    let main_cf = [
        ("mynetworks", "127.0.0.1/32"),
        ("smtpd_sasl_auth_enable", "yes"),
        ("smtpd_sasl_type", "dovecot"),
        ("smtpd_sasl_path", socket.as_str()),
        (
            "smtpd_recipient_restrictions",
            "check_sasl_access inline:{{alice=REJECT not you}}, \
             permit_sasl_authenticated, reject_unauth_destination",
        ),
    ];
    let Some(pair) = start("sasl-access", &main_cf, &[]) else {
        return;
    };
    // AUTH PLAIN for alice (password secret), the test Dovecot's one user.
    let auth = ("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", 1);
    let mail = ("MAIL FROM:<alice@example.org>\r\n", 1);
    let rcpt = ("RCPT TO:<x@example.com>\r\n", 1);
    let replies = pair.compare(
        "check_sasl_access",
        "127.0.0.2",
        &[EHLO, mail, rcpt, ("RSET\r\n", 1), auth, mail, rcpt, QUIT],
    );
    for expected in [
        // Without AUTH the table is not asked.
        "454 4.7.1 <x@example.com>: Relay access denied",
        "554 5.7.1 <alice>: SASL login name rejected: not you",
    ] {
        assert!(replies.contains(expected), "no {expected:?} in\n{replies}");
    }
}

/// smtpd stamps a message's arrival (the `T` record) in seconds and microseconds, as
/// Postfix's smtpd does: the delivery line's `delays=` count from it, and a stamp in
/// whole seconds made the time before the queue manager look half a second longer on
/// average.
#[test]
fn the_arrival_time_record_has_microseconds() {
    let Some(mut mx) = Instance::new("t-22-arrival") else {
        return;
    };
    // No queue manager: the messages stay in incoming/ for a look.
    mx.replace_master_cf_line(|l| l.starts_with("qmgr "), "#qmgr");
    mx.start();
    for n in 0..3 {
        let marker = format!("t22arrival{n}");
        mx.send(mx.smtp_port, "a@e2e.test", "user@vmail.e2e.test", &marker)
            .unwrap();
    }
    let files = e2e::load::files_under(&mx.dir.join("queue/incoming"));
    assert_eq!(files.len(), 3, "{files:?}");
    let stamps: Vec<String> = files
        .iter()
        .map(|f| {
            let records = e2e::records_of(&std::fs::read(f).unwrap());
            let (_, time) = records
                .iter()
                .find(|(k, _)| *k == b'T')
                .expect("a T record");
            String::from_utf8(time.clone()).unwrap()
        })
        .collect();
    let usecs: Vec<u32> = stamps
        .iter()
        .map(|t| {
            t.split_once(' ')
                .expect("seconds and microseconds")
                .1
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        usecs.iter().all(|&u| u < 1_000_000) && usecs.iter().any(|&u| u != 0),
        "{stamps:?}"
    );
}
