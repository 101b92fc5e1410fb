//! t-69: smtpd's edges, through the real smtpd and against Postfix 3.7's.
//!
//! Each test runs a pair of instances with the same main.cf, one with Postfix's smtpd
//! and one with ironpost's (e2e::smtpd_log::Pair), and the same raw-socket sessions go
//! to both: the replies, smtpd's log lines and what was queued or delivered must be
//! equal. The cases are those the smtp-proto goldens had covered only through a
//! stand-in session: smtpd_forbid_bare_newline (no, normalize, reject, with the
//! exclusions) and the end-of-data smuggling forms; lines longer than line_length_limit
//! (the queue file's split records); smtpd_forbid_unauth_pipelining, before the greeting
//! too; the recipient, overshoot, junk-command and hard error limits; debug_peer_list
//! by negation, network and host name, with parent_domain_matches_subdomains with and
//! without it; and check_helo_access, defer_unauth_destination,
//! reject_rhsbl_reverse_client, check_reverse_client_hostname_access and the
//! unknown-client restrictions on clients whose names come from a loopback DNS zone with
//! PTR records, one of them failing forward confirmation. mynetworks is 127.0.0.1/32
//! throughout, so a client bound to 127.0.0.2 is untrusted.

use e2e::Instance;
use e2e::smtpd_log::{Pair, delivered, dialogue, normalize, smtpd_log};
use std::process::Command;

const EHLO: (&str, usize) = ("EHLO client.example\r\n", 1);
const QUIT: (&str, usize) = ("QUIT\r\n", 1);
const MAIL: (&str, usize) = ("MAIL FROM:<sender@example.org>\r\n", 1);
const RCPT: (&str, usize) = ("RCPT TO:<user@vmail.e2e.test>\r\n", 1);
const DATA: (&str, usize) = ("DATA\r\n", 1);

/// Both instances with `main_cf` and `files`, started; None when the test is skipped.
fn start(name: &str, main_cf: &[(&str, &str)], files: &[(&str, &str)]) -> Option<Pair> {
    let mut pair = Pair::prepare(&format!("t69-{name}"), main_cf, files)?;
    pair.start();
    Some(pair)
}

/// Waits until both have delivered `count` messages, then compares them.
#[track_caller]
fn assert_same_mail(pair: &Pair, count: usize) {
    let settled = e2e::wait_until(60, || {
        pair.postfix.mailbox().len() >= count
            && pair.ironpost.mailbox().len() == pair.postfix.mailbox().len()
    });
    if !settled {
        pair.postfix.keep_for_inspection();
        pair.ironpost.keep_for_inspection();
    }
    assert!(
        settled,
        "{} and {} messages delivered, {count} expected",
        pair.postfix.mailbox().len(),
        pair.ironpost.mailbox().len()
    );
    assert_eq!(delivered(&pair.postfix), delivered(&pair.ironpost));
}

/// Bare newlines in commands and in the content. A rejected command ends the session;
/// rejected content gets its 550 at the end of the data.
fn bare_lf_commands() -> Vec<(&'static str, usize)> {
    vec![
        EHLO,
        ("MAIL FROM:<sender@example.org>\n", 1),
        ("RCPT TO:<user@vmail.e2e.test>\n", 1),
        DATA,
        (
            "Subject: bare\n\nline one\nline two\r\nline three\r\n.\r\n",
            1,
        ),
        QUIT,
    ]
}

/// The three smuggling forms, each followed by a transaction of its own; when `.\n` or
/// `\n.\r\n` ends the data (`smuggles`) that transaction runs, otherwise it is content.
fn smuggling(smuggles: bool) -> Vec<(&'static str, usize)> {
    let replies = if smuggles { 5 } else { 1 };
    let mut steps = vec![EHLO];
    for content in [
        "Subject: one\r\n\r\none\r\n.\nMAIL FROM:<v1@example.org>\r\n\
         RCPT TO:<user@vmail.e2e.test>\r\nDATA\r\nsmuggled one\r\n.\r\n",
        "Subject: two\r\n\r\ntwo\n.\r\nMAIL FROM:<v2@example.org>\r\n\
         RCPT TO:<user@vmail.e2e.test>\r\nDATA\r\nsmuggled two\r\n.\r\n",
        "Subject: three\r\n\r\nthree\n.\nMAIL FROM:<v3@example.org>\r\n\
         RCPT TO:<user@vmail.e2e.test>\r\nDATA\r\nsmuggled three\r\n.\r\n",
    ] {
        steps.extend([MAIL, RCPT, DATA, (content, replies)]);
    }
    steps.push(QUIT);
    steps
}

#[test]
fn bare_newlines_match_postfix() {
    for setting in ["no", "normalize", "reject"] {
        let main_cf = [
            ("mynetworks", "127.0.0.1/32"),
            ("smtpd_forbid_bare_newline", setting),
        ];
        let Some(pair) = start(&format!("bare-lf-{setting}"), &main_cf, &[]) else {
            return;
        };
        let mut messages = 0;
        // 127.0.0.1 is in the exclusions ($mynetworks), 127.0.0.2 is not.
        for source in ["127.0.0.1", "127.0.0.2"] {
            let strict = setting != "no" && source == "127.0.0.2";
            let rejects = strict && setting == "reject";
            let case = format!("{setting}, from {source}");
            let replies = pair.compare(&format!("{case}: commands"), source, &bare_lf_commands());
            assert_eq!(
                replies.contains("Error: bare <LF> received"),
                rejects,
                "{case}:\n{replies}"
            );
            let replies = pair.compare(&format!("{case}: smuggling"), source, &smuggling(!strict));
            assert_eq!(replies.matches("Error: bare <LF> received").count(), {
                if rejects { 3 } else { 0 }
            });
            messages += match (strict, rejects) {
                (false, _) => 7,
                (true, false) => 4,
                (true, true) => 0,
            };
        }
        assert_same_mail(&pair, messages);
    }
}

/// The queue files in `queue` (hold...) as Postfix's `postcat -d -h -b` shows them:
/// header and body records with their decimal types, so that a line split into
/// continued records shows where it was split. One string a file, sorted.
fn records(instance: &Instance, queue: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(instance.dir.join("queue").join(queue))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| {
            let output = Command::new("/usr/sbin/postcat")
                .arg("-c")
                .arg(instance.etc())
                .args(["-d", "-h", "-b"])
                .arg(entry.path())
                .output()
                .expect("postcat");
            e2e::smtpd_log::normalize_message(&String::from_utf8_lossy(&output.stdout))
        })
        .collect();
    out.sort();
    out
}

/// `text` sent right after the connection is made, before the greeting, from `source`;
/// everything the server says until it closes, normalised.
fn talk_first(instance: &Instance, source: &str, text: &str) -> String {
    const SCRIPT: &str = "import socket, sys\n\
        s = socket.socket()\n\
        s.bind((sys.argv[2], 0))\n\
        s.settimeout(30)\n\
        s.connect(('127.0.0.1', int(sys.argv[1])))\n\
        s.sendall(sys.argv[3].encode('latin-1'))\n\
        data = b''\n\
        while True:\n    \
            try:\n        chunk = s.recv(65536)\n    \
            except ConnectionResetError:\n        break\n    \
            if not chunk:\n        break\n    \
            data += chunk\n\
        sys.stdout.write(data.decode('latin-1'))\n";
    let before = instance.log().matches(": disconnect from ").count();
    let out = Command::new("python3")
        .args(["-c", SCRIPT, &instance.smtp_port.to_string(), source, text])
        .output()
        .expect("python3");
    assert!(out.status.success(), "{out:?}");
    let ended = e2e::wait_until(30, || {
        instance.log().matches(": disconnect from ").count() > before
    });
    assert!(ended, "no disconnect line:\n{}", instance.log());
    normalize(&String::from_utf8_lossy(&out.stdout))
}

/// Where the client that talks first comes from: its name lookup goes to a DNS server
/// that never answers (see [`start_slow`]).
const EARLY: &str = "127.0.0.2";

/// A DNS server on `addr` port 53 that never answers: a client name lookup through it
/// takes the resolver's whole timeout (two seconds, e2e::dns::resolve_in_jail's).
fn silent_dns(addr: &str) -> Option<e2e::child::KillOnDrop> {
    const SCRIPT: &str = "import socket, sys, time\n\
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
        s.bind((sys.argv[1], 53))\n\
        print('ready', flush=True)\n\
        time.sleep(3600)\n";
    let server = e2e::child::spawn_ready(Command::new("python3").args(["-c", SCRIPT, addr]));
    if server.is_none() {
        testkit::skip(format!("python3 cannot listen on {addr} port 53"));
    }
    server
}

/// [`start`] for the tests that talk before the greeting: smtpd chrooted on both sides,
/// resolving through `dns` (a [`silent_dns`]). smtpd looks for early input once, right
/// after the client name lookup; this lookup taking two seconds for [`EARLY`], the input
/// is there by then on both sides. Without it, whether the first packet arrived before
/// smtpd looked would be a race.
fn start_slow(name: &str, main_cf: &[(&str, &str)], dns: &str) -> Option<Pair> {
    let mut pair = named_pair(name, dns, main_cf, &[])?;
    pair.start();
    Some(pair)
}

/// [`talk_first`] from [`EARLY`] against both (started by [`start_slow`]); the replies
/// and smtpd's log lines must be equal.
#[track_caller]
fn compare_early(pair: &Pair, name: &str, text: &str) -> String {
    let theirs = talk_first(&pair.postfix, EARLY, text);
    let ours = talk_first(&pair.ironpost, EARLY, text);
    let (their_log, our_log) = (smtpd_log(&pair.postfix), smtpd_log(&pair.ironpost));
    assert_eq!(theirs, ours, "{name}: replies differ");
    assert_eq!(their_log, our_log, "{name}: log lines differ");
    assert!(
        our_log
            .iter()
            .any(|l| l.starts_with("improper command pipelining after CONNECT from ")),
        "{name}: {our_log:?}"
    );
    ours
}

#[test]
fn long_lines_and_forbidden_pipelining_match_postfix() {
    let main_cf = [
        ("mynetworks", "127.0.0.1/32"),
        ("smtpd_forbid_unauth_pipelining", "yes"),
        // Every message stays in the hold queue, for its records.
        (
            "smtpd_recipient_restrictions",
            "check_recipient_access inline:{{user@vmail.e2e.test=HOLD}}",
        ),
    ];
    let Some(_dns) = silent_dns("127.0.0.179") else {
        return;
    };
    let Some(pair) = start_slow("long-lines", &main_cf, "127.0.0.179") else {
        return;
    };
    let replies = compare_early(&pair, "before the greeting", "EHLO client.example\r\n");
    // No greeting: the refusal instead.
    assert_eq!(
        replies.trim_end(),
        "554 5.5.0 Error: SMTP protocol synchronization"
    );
    let long_command = format!("NOOP {}\r\n", "a".repeat(3000));
    let long_sender = format!("MAIL FROM:<{}@example.org>\r\n", "a".repeat(3000));
    let padded = format!(
        "MAIL FROM:<sender@example.org>{} SIZE=x\r\n",
        " ".repeat(2033)
    );
    let content = format!(
        "Subject: long\r\nX-Long: {}\r\n\r\n{}\r\n{}\r\n{}\r\n{}\r\nend\r\n.\r\n",
        "h".repeat(3000),
        "b".repeat(2047),
        "c".repeat(2048),
        "d".repeat(2049),
        "e".repeat(5000),
    );
    pair.compare(
        "long lines",
        "127.0.0.1",
        &[
            EHLO,
            (&long_command, 1),
            (&long_sender, 1),
            (&padded, 1),
            ("RSET\r\n", 1),
            MAIL,
            RCPT,
            DATA,
            (&content, 1),
            QUIT,
        ],
    );
    // Proper pipelining passes; a group that goes on after a command that must end one
    // gets the synchronization error and the end of the session.
    let replies = pair.compare(
        "pipelining as allowed",
        "127.0.0.1",
        &[
            EHLO,
            (
                "MAIL FROM:<sender@example.org>\r\nRCPT TO:<user@vmail.e2e.test>\r\nDATA\r\n",
                3,
            ),
            ("Subject: ok\r\n\r\nok\r\n.\r\nNOOP\r\nQUIT\r\n", 2),
        ],
    );
    assert!(
        replies.contains("554 5.5.0 Error: SMTP protocol synchronization"),
        "{replies}"
    );
    let replies = pair.compare(
        "EHLO pipelined",
        "127.0.0.2",
        &[("EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n", 1)],
    );
    assert!(replies.trim_end().ends_with("synchronization"), "{replies}");
    // Both held messages, record for record.
    let held = e2e::wait_until(30, || {
        records(&pair.postfix, "hold").len() == 2 && records(&pair.ironpost, "hold").len() == 2
    });
    assert!(held, "messages not held");
    let theirs = records(&pair.postfix, "hold");
    assert!(
        theirs.iter().any(|r| r.contains(&"e".repeat(100))),
        "{theirs:?}"
    );
    assert_eq!(theirs, records(&pair.ironpost, "hold"));
}

#[test]
fn limits_match_postfix() {
    let main_cf = [
        ("mynetworks", "127.0.0.1/32"),
        ("smtpd_recipient_limit", "2"),
        ("smtpd_recipient_overshoot_limit", "2"),
        ("smtpd_hard_error_limit", "4"),
        ("smtpd_junk_command_limit", "3"),
    ];
    let Some(_dns) = silent_dns("127.0.0.180") else {
        return;
    };
    let Some(pair) = start_slow("limits", &main_cf, "127.0.0.180") else {
        return;
    };
    // Talking first is logged, and with smtpd_forbid_unauth_pipelining = no the session
    // goes on.
    let replies = compare_early(
        &pair,
        "before the greeting",
        "EHLO client.example\r\nQUIT\r\n",
    );
    assert!(replies.starts_with("220 "), "{replies}");
    // Two accepted, two more refused within the overshoot, then each is an error.
    let mut steps = vec![EHLO, MAIL];
    steps.extend([RCPT; 6]);
    steps.extend([DATA, ("Subject: limits\r\n\r\nbody\r\n.\r\n", 1), QUIT]);
    let replies = pair.compare("recipient and overshoot limits", "127.0.0.2", &steps);
    assert!(
        replies.contains("452 4.5.3 Error: too many recipients"),
        "{replies}"
    );
    let replies = pair.compare(
        "junk commands",
        "127.0.0.2",
        &[
            EHLO,
            ("NOOP\r\n", 1),
            ("RSET\r\n", 1),
            ("VRFY user@vmail.e2e.test\r\n", 1),
            ("NOOP\r\n", 1),
            ("RSET\r\n", 1),
            ("VRFY nosuch@vmail.e2e.test\r\n", 1),
            // Read by the 421 that ends the session.
            ("NOOP\r\n", 1),
        ],
    );
    assert!(replies.contains("too many errors"), "{replies}");
    let replies = pair.compare(
        "hard error limit",
        "127.0.0.2",
        &[
            EHLO,
            ("FOO\r\n", 1),
            ("MAIL FROM:<bad\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("BAR\r\n", 1),
            ("NOOP\r\n", 1),
        ],
    );
    assert!(
        replies
            .trim_end()
            .ends_with("421 4.7.0 mail.e2e.test Error: too many errors"),
        "{replies}"
    );
    assert_same_mail(&pair, 1);
}

/// Where the DNS servers of the name tests listen, one a test, as the tests of a file
/// run at the same time (other tests use 127.0.0.140-169; the silent ones here .179
/// and .180).
const DEBUG_DNS_ADDR: &str = "127.0.0.177";
const NAMES_DNS_ADDR: &str = "127.0.0.178";

/// Client names: 127.0.0.21 is host.e2e-peer.test both ways; 127.0.0.22's PTR name
/// forged.e2e-peer.test has another address, so the client is unknown with that reverse
/// name; 127.0.0.23 has no PTR record; 127.0.0.24's PTR lookup fails (SERVFAIL). Both
/// reverse names are in the rhsbl.e2e.test list.
const ZONE: &str = r#"{
    "21.0.0.127.in-addr.arpa": [["PTR", "host.e2e-peer.test"]],
    "host.e2e-peer.test": [["A", "127.0.0.21"]],
    "22.0.0.127.in-addr.arpa": [["PTR", "forged.e2e-peer.test"]],
    "forged.e2e-peer.test": [["A", "192.0.2.9"]],
    "24.0.0.127.in-addr.arpa": [["SERVFAIL", ""]],
    "host.e2e-peer.test.rhsbl.e2e.test": [["A", "127.0.0.2"], ["TXT", "listed host"]],
    "forged.e2e-peer.test.rhsbl.e2e.test": [["A", "127.0.0.2"]]
}"#;

/// The loopback DNS server with [`ZONE`] on `addr`, and the directory of its query
/// log (for the test to remove); None when the test is skipped.
fn zone_server(addr: &str) -> Option<(e2e::dns::DnsServer, std::path::PathBuf)> {
    let dir = std::path::PathBuf::from(format!(
        "/tmp/ironpost-e2e/t69-dns-{addr}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let server = e2e::dns::DnsServer::start(addr, ZONE, &dir.join("queries"))?;
    Some((server, dir))
}

/// A pair prepared for client names from the loopback zone: smtpd chrooted on both,
/// resolving through the jail's resolv.conf (our DNS server), not started.
fn named_pair(
    name: &str,
    dns: &str,
    main_cf: &[(&str, &str)],
    files: &[(&str, &str)],
) -> Option<Pair> {
    let pair = Pair::prepare(&format!("t69-{name}"), main_cf, files)?;
    for instance in [&pair.postfix, &pair.ironpost] {
        e2e::dns::resolve_in_jail(instance, dns);
        instance.replace_master_cf_line(
            |l| l.contains(" inet ") && l.ends_with("smtpd"),
            "127.0.0.1:@SMTP_PORT@ inet n - y - - smtpd",
        );
    }
    Some(pair)
}

/// The `< name[addr]: ...` and `> name[addr]: ...` transcript lines.
fn transcript(log: &[String]) -> Vec<String> {
    log.iter()
        .filter(|l| l.starts_with("< ") || l.starts_with("> "))
        .cloned()
        .collect()
}

/// One session from each source against both; where `verbose` says the client is in
/// debug_peer_list, the transcripts must be equal and name it, otherwise the whole log.
#[track_caller]
fn compare_debug_peers(pair: &Pair, sources: &[(&str, &str, bool)]) {
    let steps = [EHLO, MAIL, QUIT];
    for &(source, namaddr, verbose) in sources {
        let theirs = dialogue(&pair.postfix, source, &steps, "plain");
        let ours = dialogue(&pair.ironpost, source, &steps, "plain");
        assert_eq!(theirs, ours, "{source}: replies differ");
        let (their_log, our_log) = (smtpd_log(&pair.postfix), smtpd_log(&pair.ironpost));
        let wanted = format!("< {namaddr}: EHLO client.example");
        assert_eq!(
            transcript(&their_log).contains(&wanted),
            verbose,
            "{source} in Postfix's log: {their_log:#?}"
        );
        if verbose {
            assert_eq!(transcript(&their_log), transcript(&our_log), "{source}");
        } else {
            assert_eq!(their_log, our_log, "{source}");
        }
    }
}

/// A pair with debug_peer_list `!127.0.0.2, 127.0.0.0/28, e2e-peer.test` and, when
/// given, `parent`, as parent_domain_matches_subdomains, compared for `sources` by
/// [`compare_debug_peers`].
fn debug_peers(name: &str, parent: Option<&str>, sources: &[(&str, &str, bool)]) {
    let mut main_cf = vec![
        ("mynetworks", "127.0.0.1/32"),
        ("debug_peer_list", "!127.0.0.2, 127.0.0.0/28, e2e-peer.test"),
    ];
    main_cf.extend(parent.map(|p| ("parent_domain_matches_subdomains", p)));
    if let Some(mut pair) = named_pair(name, DEBUG_DNS_ADDR, &main_cf, &[]) {
        pair.start();
        compare_debug_peers(&pair, sources);
    }
}

#[test]
fn debug_peer_list_matches_postfix() {
    let Some((_dns, log)) = zone_server(DEBUG_DNS_ADDR) else {
        return;
    };
    // Negation, a network, a name whose parent domain is listed.
    debug_peers(
        "debug-peer",
        None,
        &[
            ("127.0.0.1", "localhost[127.0.0.1]", true),
            ("127.0.0.2", "unknown[127.0.0.2]", false),
            ("127.0.0.21", "host.e2e-peer.test[127.0.0.21]", true),
            ("127.0.0.22", "unknown[127.0.0.22]", false),
        ],
    );
    // Without debug_peer_list in parent_domain_matches_subdomains a domain names itself
    // alone.
    debug_peers(
        "debug-peer-exact",
        Some("smtpd_access_maps"),
        &[
            ("127.0.0.1", "localhost[127.0.0.1]", true),
            ("127.0.0.21", "host.e2e-peer.test[127.0.0.21]", false),
        ],
    );
    let _ = std::fs::remove_dir_all(&log);
}

#[test]
fn restrictions_on_client_names_match_postfix() {
    let main_cf = [
        ("mynetworks", "127.0.0.1/32"),
        (
            "smtpd_helo_restrictions",
            "check_helo_access texthash:@DIR@/etc/helo_access",
        ),
        (
            "smtpd_restriction_classes",
            "rhsbl_class, reverse_class, unknown_class, unknown_reverse_class",
        ),
        ("rhsbl_class", "reject_rhsbl_reverse_client rhsbl.e2e.test"),
        (
            "reverse_class",
            "check_reverse_client_hostname_access texthash:@DIR@/etc/reverse_access",
        ),
        ("unknown_class", "reject_unknown_client_hostname"),
        (
            "unknown_reverse_class",
            "reject_unknown_reverse_client_hostname",
        ),
        (
            "smtpd_relay_restrictions",
            "permit_mynetworks, defer_unauth_destination",
        ),
        (
            "smtpd_recipient_restrictions",
            "check_recipient_access texthash:@DIR@/etc/rcpt_access",
        ),
        // Excluded by name: only 127.0.0.21 may send a bare newline.
        ("smtpd_forbid_bare_newline", "reject"),
        ("smtpd_forbid_bare_newline_exclusions", "host.e2e-peer.test"),
    ];
    let files = [
        (
            "etc/vmailbox",
            "user@vmail.e2e.test vmail.e2e.test/user/\n\
             rhsbl@vmail.e2e.test vmail.e2e.test/user/\n\
             reverse@vmail.e2e.test vmail.e2e.test/user/\n\
             unknown@vmail.e2e.test vmail.e2e.test/user/\n\
             unknown-reverse@vmail.e2e.test vmail.e2e.test/user/\n",
        ),
        (
            "etc/helo_access",
            "bad.helo.example REJECT go away\n\
             .warn.example WARN odd helo\n",
        ),
        (
            "etc/reverse_access",
            "forged.e2e-peer.test REJECT forged name\nhost.e2e-peer.test OK\n",
        ),
        (
            "etc/rcpt_access",
            "rhsbl@vmail.e2e.test rhsbl_class\n\
             reverse@vmail.e2e.test reverse_class\n\
             unknown@vmail.e2e.test unknown_class\n\
             unknown-reverse@vmail.e2e.test unknown_reverse_class\n",
        ),
    ];
    let Some((_dns, log)) = zone_server(NAMES_DNS_ADDR) else {
        return;
    };
    let Some(mut pair) = named_pair("names", NAMES_DNS_ADDR, &main_cf, &files) else {
        return;
    };
    pair.start();
    let steps = [
        ("EHLO bad.helo.example\r\n", 1),
        MAIL,
        RCPT,
        ("RSET\r\n", 1),
        ("EHLO a.warn.example\r\n", 1),
        MAIL,
        ("RCPT TO:<x@example.com>\r\n", 1),
        ("RCPT TO:<rhsbl@vmail.e2e.test>\r\n", 1),
        ("RCPT TO:<reverse@vmail.e2e.test>\r\n", 1),
        ("RCPT TO:<unknown@vmail.e2e.test>\r\n", 1),
        ("RCPT TO:<unknown-reverse@vmail.e2e.test>\r\n", 1),
        RCPT,
        ("NOOP\n", 1),
        QUIT,
    ];
    let mut replies = String::new();
    for source in ["127.0.0.21", "127.0.0.22", "127.0.0.23", "127.0.0.24"] {
        replies += &pair.compare(&format!("client names from {source}"), source, &steps);
    }
    assert_eq!(replies.matches("Error: bare <LF> received").count(), 3);
    let their_log = pair.postfix.log();
    for expected in [
        "554 5.7.1 <bad.helo.example>: Helo command rejected: go away",
        "<x@example.com>: Relay access denied",
        "Client host rejected: cannot find your hostname",
        "Client host rejected: cannot find your reverse hostname",
        "blocked using rhsbl.e2e.test",
        "forged name",
    ] {
        assert!(replies.contains(expected), "no {expected:?} in\n{replies}");
    }
    assert!(
        their_log.contains(
            "warning: hostname forged.e2e-peer.test does not resolve to address 127.0.0.22"
        ),
        "{their_log}"
    );
    drop(pair);
    let _ = std::fs::remove_dir_all(&log);
}
