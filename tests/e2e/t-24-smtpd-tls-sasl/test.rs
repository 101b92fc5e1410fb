//! t-24: ironpost's smtpd against Postfix's with STARTTLS, wrapper mode and AUTH.
//!
//! As t-22: two instances with the same main.cf, one with Postfix 3.7's smtpd and one
//! with ironpost's; the same scripted sessions (`dialogue.py`, raw sockets and Python's
//! ssl pinned to TLSv1.2 with one cipher, so both servers negotiate and log the same)
//! go to both, and the replies and smtpd's log lines must be equal once queue ids and
//! process ids are replaced. The server certificate is crates/tls's test RSA
//! certificate. mynetworks is 127.0.0.1/32: a client bound to 127.0.0.2 is untrusted.
//! AUTH goes to a private Dovecot ([`dovecot`]) whose one user is alice (secret).

use e2e::Instance;
use e2e::dovecot;
use e2e::smtpd_log::normalize;
use std::path::{Path, PathBuf};

/// The test certificates of crates/tls.
fn cert(name: &str) -> String {
    format!(
        "{}/../../crates/tls/tests/golden/certs/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The shared pair, compared with TLS library reasons masked.
struct Pair(e2e::smtpd_log::Pair);

impl std::ops::Deref for Pair {
    type Target = e2e::smtpd_log::Pair;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Pair {
    /// Both instances with the server certificate and the extra `main_cf`, with TLS at
    /// connect when `mode` is `wrapper`; None when skipped.
    fn start(name: &str, main_cf: &[(&str, &str)], mode: &'static str) -> Option<Pair> {
        let (rsa, key) = (cert("rsa.pem"), cert("rsa.key"));
        let mut settings = vec![
            ("mynetworks", "127.0.0.1/32"),
            ("smtpd_tls_cert_file", rsa.as_str()),
            ("smtpd_tls_key_file", key.as_str()),
            ("smtpd_tls_loglevel", "1"),
            ("smtpd_tls_received_header", "yes"),
        ];
        settings.extend_from_slice(main_cf);
        let mut pair = e2e::smtpd_log::Pair::prepare(&format!("t24-{name}"), &settings, &[])?;
        pair.mode = mode;
        pair.start();
        Some(Pair(pair))
    }

    /// Runs one dialogue against both; the replies and log lines must match. Returns
    /// the replies.
    fn compare(&self, name: &str, source: &str, steps: &[(&str, usize)]) -> String {
        self.0.compare_with(name, source, steps, |instance, lines| {
            // The SMTP port is in the service name of anvil's warnings.
            let port = format!(":{}", instance.smtp_port);
            let lines = lines.into_iter().map(|l| l.replace(&port, ":PORT"));
            mask_library_problems(lines.collect())
        })
    }
}

/// The warning with the TLS library's reason for a failed handshake.
const LIBRARY_PROBLEM: &str = "TLS library problem: ";

/// OpenSSL's reasons in "TLS library problem" lines are not rustls's, so only the line's
/// presence is compared.
fn mask_library_problems(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .map(|line| match line.split_once(LIBRARY_PROBLEM) {
            Some((head, _)) => format!("{head}{LIBRARY_PROBLEM}REASON"),
            None => line,
        })
        .collect()
}

/// The first Received: header of the one delivered message, queue id and date aside.
fn received(instance: &Instance) -> String {
    let delivered = e2e::wait_until(30, || !instance.mailbox().is_empty());
    assert!(delivered, "nothing delivered:\n{}", instance.log());
    let message = instance.mailbox().remove(0);
    let start = message
        .find("Received: from client.example")
        .expect("Received:");
    let header = &message[start..];
    let end = header.find(';').expect("the date");
    normalize(&header[..end])
}

const EHLO: (&str, usize) = ("EHLO client.example\r\n", 1);
const QUIT: (&str, usize) = ("QUIT\r\n", 1);
const STARTTLS: (&str, usize) = ("STARTTLS\r\n", 1);
const TLS: (&str, usize) = ("<TLS>", 0);
const MAIL: (&str, usize) = ("MAIL FROM:<sender@example.org>\r\n", 1);
const RCPT: (&str, usize) = ("RCPT TO:<user@vmail.e2e.test>\r\n", 1);
const MESSAGE: (&str, usize) = ("DATA\r\nSubject: t-24\r\n\r\nhello\r\n.\r\n", 2);

#[test]
fn starttls_matches_postfix() {
    let settings = [
        ("smtpd_tls_security_level", "may"),
        ("smtpd_starttls_timeout", "2s"),
    ];
    let Some(pair) = Pair::start("may", &settings, "plain") else {
        return;
    };
    pair.compare(
        "starttls then ehlo",
        "127.0.0.1",
        &[
            EHLO,
            STARTTLS,
            TLS,
            ("MAIL FROM:<a@example.org>\r\n", 1),
            EHLO,
            MAIL,
            RCPT,
            MESSAGE,
            STARTTLS,
            QUIT,
        ],
    );
    // The Received: header with its TLS clause and ESMTPS, as Postfix writes it.
    let (theirs, ours) = (received(&pair.postfix), received(&pair.ironpost));
    assert!(theirs.contains("with ESMTPS"), "{theirs}");
    assert_eq!(theirs, ours, "the Received: headers differ");
    pair.compare(
        "pipelined after starttls",
        "127.0.0.1",
        &[
            EHLO,
            (
                "STARTTLS\r\nRSET\r\nMAIL FROM:<injected@example.org>\r\n",
                1,
            ),
            TLS,
            EHLO,
            ("RSET\r\n", 1),
            QUIT,
        ],
    );
    pair.compare(
        "mail auth= with sasl off",
        "127.0.0.1",
        &[
            EHLO,
            ("MAIL FROM:<a@example.org> AUTH=<a@example.org>\r\n", 1),
            RCPT,
            RSET,
            QUIT,
        ],
    );
    pair.compare(
        "starttls syntax",
        "127.0.0.1",
        &[EHLO, ("STARTTLS now\r\n", 1), QUIT],
    );
    pair.compare(
        "handshake too slow",
        "127.0.0.1",
        &[EHLO, STARTTLS, ("<SLEEP 4>", 0)],
    );
    let log = pair.ironpost.log();
    assert!(
        log.contains("Connection timed out"),
        "no timeout in:\n{log}"
    );
    pair.compare(
        "handshake never comes",
        "127.0.0.1",
        &[EHLO, STARTTLS, ("garbage\r\n", 0)],
    );
}

#[test]
fn encrypt_level_and_wrapper_mode_match_postfix() {
    let encrypt = [("smtpd_tls_security_level", "encrypt")];
    let Some(pair) = Pair::start("encrypt", &encrypt, "plain") else {
        return;
    };
    pair.compare(
        "mail before starttls",
        "127.0.0.1",
        &[
            EHLO,
            MAIL,
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("NOOP\r\n", 1),
            STARTTLS,
            TLS,
            EHLO,
            MAIL,
            RCPT,
            QUIT,
        ],
    );
    drop(pair);
    let ccert = [
        ("smtpd_tls_security_level", "encrypt"),
        ("smtpd_tls_ask_ccert", "yes"),
        ("smtpd_tls_req_ccert", "yes"),
    ];
    let Some(pair) = Pair::start("reqccert", &ccert, "plain") else {
        return;
    };
    pair.compare(
        "required client certificate missing",
        "127.0.0.1",
        &[EHLO, STARTTLS, TLS, EHLO],
    );
    let log = pair.ironpost.log();
    assert!(log.contains("NOQUEUE: abort: TLS from"), "{log}");
    drop(pair);
    // The obsolete parameter means the same.
    let wrapper = [
        ("smtpd_enforce_tls", "yes"),
        ("smtpd_tls_wrappermode", "yes"),
    ];
    let Some(pair) = Pair::start("wrapper", &wrapper, "wrapper") else {
        return;
    };
    pair.compare(
        "wrapper mode",
        "127.0.0.1",
        &[EHLO, STARTTLS, MAIL, RCPT, MESSAGE, QUIT],
    );
}

/// AUTH PLAIN's initial response for alice and her password, and a wrong one.
const ALICE: &str = "AGFsaWNlAHNlY3JldA==";
const ALICE_WRONG: &str = "AGFsaWNlAHdyb25n";
/// AUTH PLAIN's initial response for straße (a login [`auth_matches_postfix`] adds to the
/// test Dovecot) and her password.
const STRASSE: &str = "AHN0cmHDn2UAc2VjcmV0";
const RELAYED: (&str, usize) = ("RCPT TO:<someone@example.com>\r\n", 1);
const RSET: (&str, usize) = ("RSET\r\n", 1);

/// Both instances with SASL through `dovecot` and the extra settings.
fn sasl_pair(name: &str, dovecot: &Path, extra: &[(&str, &str)]) -> Option<Pair> {
    let socket = dovecot.display().to_string();
    let mut main_cf = vec![
        ("smtpd_tls_security_level", "may"),
        ("smtpd_sasl_auth_enable", "yes"),
        ("smtpd_sasl_type", "dovecot"),
        ("smtpd_sasl_path", socket.as_str()),
    ];
    main_cf.extend_from_slice(extra);
    Pair::start(name, &main_cf, "plain")
}

/// The test Dovecot, or None after testkit::skip.
fn dovecot() -> Option<dovecot::TestDovecot> {
    dovecot::TestDovecot::start()
        .map_err(|reason| testkit::skip(reason))
        .ok()
}

/// The test Dovecot (crates/xsasl's configuration) with a second user, straße, whose
/// name Dovecot's default auth_username_chars would refuse: smtputf8_enable = yes folds
/// it fully when it is compared with a table's owners (STRASSE owns it).
fn dovecot_with_strasse() -> Option<dovecot::Running> {
    let support = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crates/xsasl/tests/support");
    let dir = PathBuf::from(format!(
        "/tmp/ironpost-e2e/dovecot-auth-t24-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["run", "state"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let conf = std::fs::read_to_string(support.join("dovecot.conf"))
        .unwrap()
        .replace("@DIR@", &dir.display().to_string());
    std::fs::write(
        dir.join("dovecot.conf"),
        format!("{conf}auth_username_chars =\n"),
    )
    .unwrap();
    let users = std::fs::read_to_string(support.join("passwd")).unwrap();
    std::fs::write(
        dir.join("passwd"),
        format!("{users}straße:{{PLAIN}}secret:1000:1000::/nonexistent::\n"),
    )
    .unwrap();
    dovecot::Running::start(dir, |dir| dir.join("auth").exists(), "its auth socket")
        .map_err(|reason| testkit::skip(reason))
        .ok()
}

#[test]
fn auth_matches_postfix() {
    if !Path::new("/usr/sbin/dovecot").exists() {
        testkit::skip("/usr/sbin/dovecot is not installed (Debian's dovecot-core)");
        return;
    }
    let Some(dovecot) = dovecot_with_strasse() else {
        return;
    };
    let settings = [
        ("broken_sasl_auth_clients", "yes"),
        ("smtpd_sender_login_maps", "texthash:@DIR@/etc/login"),
        ("smtpd_sender_restrictions", "reject_sender_login_mismatch"),
        ("smtpd_sasl_exceptions_networks", "127.0.0.3"),
    ];
    let Some(pair) = sasl_pair("auth", &dovecot.dir.join("auth"), &settings) else {
        return;
    };
    for instance in [&pair.postfix, &pair.ironpost] {
        instance.write(
            "etc/login",
            "alice@example.org alice\nbob@example.org bob, carol\n\
             strasse@example.org STRASSE\nstrasze@example.org straSZe\n",
        );
    }
    let plain = format!("AUTH PLAIN {ALICE}\r\n");
    pair.compare(
        "relay denied without auth",
        "127.0.0.2",
        &[EHLO, MAIL, RELAYED, QUIT],
    );
    pair.compare(
        "auth plain, then relay",
        "127.0.0.2",
        &[
            EHLO,
            (&plain, 1),
            (&plain, 1),
            (
                "MAIL FROM:<alice@example.org> AUTH=<alice@example.org>\r\n",
                1,
            ),
            RELAYED,
            RSET,
            QUIT,
        ],
    );
    pair.compare(
        "auth plain, wrong password",
        "127.0.0.2",
        &[
            EHLO,
            (&format!("AUTH PLAIN {ALICE_WRONG}\r\n"), 1),
            MAIL,
            RELAYED,
            QUIT,
        ],
    );
    pair.compare(
        "auth login, good and bad",
        "127.0.0.2",
        &[
            EHLO,
            ("AUTH LOGIN\r\n", 1),
            ("YWxpY2U=\r\n", 1),
            ("d3Jvbmc=\r\n", 1),
            ("AUTH LOGIN YWxpY2U=\r\n", 1),
            ("c2VjcmV0\r\n", 1),
            MAIL,
            RELAYED,
            RSET,
            QUIT,
        ],
    );
    pair.compare(
        "sender login mismatch",
        "127.0.0.2",
        &[
            EHLO,
            ("MAIL FROM:<alice@example.org>\r\n", 1),
            RCPT,
            RSET,
            (&plain, 1),
            ("MAIL FROM:<bob@example.org>\r\n", 1),
            RCPT,
            RSET,
            ("MAIL FROM:<ALICE@example.org>\r\n", 1),
            RCPT,
            RSET,
            QUIT,
        ],
    );
    pair.compare(
        "non-ascii login folds as a table key",
        "127.0.0.2",
        &[
            EHLO,
            (&format!("AUTH PLAIN {STRASSE}\r\n"), 1),
            ("MAIL FROM:<strasse@example.org>\r\n", 1),
            RCPT,
            RSET,
            ("MAIL FROM:<strasze@example.org>\r\n", 1),
            RCPT,
            RSET,
            QUIT,
        ],
    );
    // Equal, and about what it should be about.
    let log = pair.ironpost.log();
    for needle in [
        "not logged in",
        "not owned by user alice",
        "sasl_username=alice",
        "sasl_username=straße",
        "not owned by user straße",
    ] {
        assert!(log.contains(needle), "no '{needle}' in:\n{log}");
    }
    // Postfix's smtpd let STRASSE's address through for straße: the fold was tested.
    let theirs = pair.postfix.log();
    assert!(
        !theirs.contains("<strasse@example.org>: Sender address rejected"),
        "{theirs}"
    );
    pair.compare(
        "sasl exceptions networks",
        "127.0.0.3",
        &[EHLO, (&plain, 1), QUIT],
    );
    pair.compare(
        "mail auth= without auth",
        "127.0.0.2",
        &[
            EHLO,
            ("MAIL FROM:<a@example.org> AUTH=<a@example.org>\r\n", 1),
            RCPT,
            RSET,
            ("MAIL FROM:<a@example.org> AUTH=<>\r\n", 1),
            RSET,
            QUIT,
        ],
    );
    pair.compare(
        "auth aborted, unknown mechanism, syntax",
        "127.0.0.2",
        &[
            ("AUTH PLAIN\r\n", 1),
            EHLO,
            ("AUTH PLAIN\r\n", 1),
            ("*\r\n", 1),
            ("AUTH BOGUS\r\n", 1),
            ("AUTH\r\n", 1),
            MAIL,
            (&plain, 1),
            QUIT,
        ],
    );
}

#[test]
fn tls_auth_only_matches_postfix() {
    let Some(dovecot) = dovecot() else {
        return;
    };
    let settings = [
        ("smtpd_tls_auth_only", "yes"),
        ("smtpd_sasl_authenticated_header", "yes"),
    ];
    let Some(pair) = sasl_pair("authonly", &dovecot.socket(), &settings) else {
        return;
    };
    let plain = format!("AUTH PLAIN {ALICE}\r\n");
    // AUTH before and after STARTTLS, then relaying; `rest` ends the session.
    let session = |rest: &[(&'static str, usize)]| {
        let mut steps = vec![EHLO, (plain.as_str(), 1), STARTTLS, TLS, EHLO];
        steps.extend([(plain.as_str(), 1), MAIL, RELAYED, RSET]);
        steps.extend_from_slice(rest);
        steps
    };
    pair.compare(
        "auth only inside tls",
        "127.0.0.2",
        &session(&[MAIL, RCPT, MESSAGE, QUIT]),
    );
    // TLS, then the login, then ESMTPSA.
    let (theirs, ours) = (received(&pair.postfix), received(&pair.ironpost));
    assert!(theirs.contains("(Authenticated sender: alice)"), "{theirs}");
    assert!(theirs.contains("with ESMTPSA"), "{theirs}");
    assert_eq!(theirs, ours, "the Received: headers differ");
    drop(pair);
    let encrypt = [("smtpd_tls_security_level", "encrypt")];
    let Some(pair) = sasl_pair("authencrypt", &dovecot.socket(), &encrypt) else {
        return;
    };
    pair.compare("auth at level encrypt", "127.0.0.2", &session(&[QUIT]));
}

#[test]
fn mechanism_filter_matches_postfix() {
    let Some(dovecot) = dovecot() else {
        return;
    };
    let settings = [("smtpd_sasl_mechanism_filter", "!plain, static:all")];
    let Some(pair) = sasl_pair("mech-filter", &dovecot.socket(), &settings) else {
        return;
    };
    // EHLO no longer offers PLAIN; AUTH PLAIN itself still works, as in Postfix.
    let replies = pair.compare(
        "filtered mechanisms",
        "127.0.0.2",
        &[EHLO, (&format!("AUTH PLAIN {ALICE}\r\n"), 1), QUIT],
    );
    assert!(replies.contains("250-AUTH LOGIN CRAM-MD5\n"), "{replies}");
}

#[test]
fn new_tls_session_rate_limit_matches_postfix() {
    let settings = [
        ("smtpd_tls_security_level", "may"),
        ("smtpd_client_new_tls_session_rate_limit", "1"),
        ("smtpd_client_event_limit_exceptions", ""),
    ];
    let Some(pair) = Pair::start("newtls", &settings, "plain") else {
        return;
    };
    // The first session is within the limit, the second is one too many (421 inside
    // TLS), the third is refused before the handshake (454).
    let mut replies = String::new();
    for n in 0..3 {
        replies += &pair.compare(
            &format!("STARTTLS {n}"),
            "127.0.0.2",
            &[EHLO, ("STARTTLS\r\n", 1), ("<TLS>", 0), EHLO, QUIT],
        );
    }
    assert!(replies.contains("421 4.7.0 mail.e2e.test Error: too many new TLS sessions from"));
    assert!(replies.contains("454 4.7.0 Error: too many new TLS sessions from"));
    // Wrapper mode: the same, but the third client gets no TLS at all.
    let wrapper = [
        ("smtpd_tls_security_level", "may"),
        ("smtpd_tls_wrappermode", "yes"),
        ("smtpd_client_new_tls_session_rate_limit", "1"),
        ("smtpd_client_event_limit_exceptions", ""),
    ];
    let Some(pair) = Pair::start("newtls-wrapper", &wrapper, "wrapper") else {
        return;
    };
    for n in 0..3 {
        pair.compare(&format!("wrapper {n}"), "127.0.0.2", &[EHLO, QUIT]);
    }
}

/// smtpd_tls_exclude_ciphers takes the one suite the client offers
/// (ECDHE-RSA-AES256-GCM-SHA384 over TLS 1.2) away: the handshake fails on both, with
/// the cipher list logged at smtpd_tls_loglevel 2; an unknown grade aborts TLS with
/// Postfix's warning.
#[test]
fn cipher_exclusions_match_postfix() {
    let settings = [
        ("smtpd_tls_security_level", "may"),
        ("smtpd_tls_loglevel", "2"),
        ("smtpd_tls_exclude_ciphers", "AES256"),
    ];
    let Some(pair) = Pair::start("ciphers", &settings, "plain") else {
        return;
    };
    // OpenSSL's state-machine lines at loglevel 2 (SSL_accept:..., SSL3 alert ...) have
    // no rustls counterpart; the rest must match.
    pair.0.compare_with(
        "excluded suite",
        "127.0.0.1",
        &[EHLO, STARTTLS, TLS],
        |_, lines| {
            let lines = lines
                .into_iter()
                .filter(|l| !l.starts_with("SSL_accept:") && !l.starts_with("SSL3 alert"));
            mask_library_problems(lines.collect())
        },
    );
    let log = pair.postfix.log();
    assert!(
        log.contains("TLS cipher list \"aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH:!AES256\""),
        "{log}"
    );
    let settings = [
        ("smtpd_tls_security_level", "may"),
        ("smtpd_tls_ciphers", "strong"),
    ];
    let Some(pair) = Pair::start("grade", &settings, "plain") else {
        return;
    };
    pair.compare("invalid grade", "127.0.0.1", &[EHLO, STARTTLS, TLS]);
    let log = pair.postfix.log();
    assert!(log.contains("invalid cipher grade: \"strong\""), "{log}");
}

/// main.cf settings of one case.
type Settings<'a> = Vec<(&'a str, &'a str)>;

/// Certificate and key files as Postfix's tls_certkey.c reads them for smtpd: a cert
/// file that is also the key file (the key anywhere in it), chain files read as one
/// sequence (a key in one file, its certificate in the next), and broken files with
/// Postfix's warnings, after which STARTTLS is still offered but refused with 454.
#[test]
fn cert_files_load_as_postfix_s() {
    let dir = PathBuf::from(format!(
        "/tmp/ironpost-e2e/t24-certs-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pem = |name: &str| std::fs::read_to_string(cert(name)).unwrap();
    let file = |name: &str, parts: &[&str]| {
        let path = dir.join(name);
        let text: String = parts.iter().map(|p| pem(p)).collect();
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let key_first = file("key-first.pem", &["rsa.key", "rsa.pem"]);
    let cert_first = file("cert-first.pem", &["rsa.pem", "rsa.key"]);
    let no_key = file("no-key.pem", &["rsa.pem"]);
    let key_only = file("key-only.pem", &["rsa.key"]);
    let cert_only = no_key.clone();
    let chain_files = format!("{key_only}, {cert_only}");
    let working: [(&str, Settings); 3] = [
        (
            "key-first",
            vec![
                ("smtpd_tls_cert_file", &key_first),
                ("smtpd_tls_key_file", &key_first),
            ],
        ),
        (
            "cert-first",
            vec![
                ("smtpd_tls_cert_file", &cert_first),
                ("smtpd_tls_key_file", "$smtpd_tls_cert_file"),
            ],
        ),
        ("split-chain", vec![("smtpd_tls_chain_files", &chain_files)]),
    ];
    for (name, mut settings) in working {
        settings.push(("smtpd_tls_security_level", "may"));
        let Some(pair) = Pair::start(name, &settings, "plain") else {
            return;
        };
        let replies = pair.compare(name, "127.0.0.1", &[EHLO, STARTTLS, TLS, EHLO, QUIT]);
        assert!(
            replies.contains("220 2.0.0 Ready to start TLS"),
            "{name}: {replies}"
        );
    }
    let broken: [(&str, Settings, &str); 2] = [
        (
            "no-key",
            vec![
                ("smtpd_tls_cert_file", &no_key),
                ("smtpd_tls_key_file", &no_key),
            ],
            "No private key found in",
        ),
        (
            "key-not-first",
            vec![("smtpd_tls_chain_files", &cert_first)],
            "key not first",
        ),
    ];
    for (name, mut settings, warning) in broken {
        settings.push(("smtpd_tls_security_level", "may"));
        let Some(pair) = Pair::start(name, &settings, "plain") else {
            return;
        };
        let replies = pair.compare(name, "127.0.0.1", &[EHLO, STARTTLS, QUIT]);
        assert!(
            replies.contains("454 4.7.0 TLS not available due to local problem"),
            "{name}: {replies}"
        );
        let log = pair.postfix.log();
        assert!(log.contains(warning), "{name}: no \"{warning}\" in\n{log}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
