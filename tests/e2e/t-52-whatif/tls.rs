//! t-52's TLS rows: the what-if's TLS facts (`encryption_protocol=`, `ccert_fingerprint=`,
//! `ccert_pubkey_fingerprint=`, `ccert_subject=`, `ccert_issuer=`, Postfix's policy
//! delegation names) against a real STARTTLS session with and without the client
//! certificate of crates/tls's test CA, for reject_plaintext_session,
//! permit_tls_clientcerts (relay_clientcerts), permit_tls_all_clientcerts (a certificate
//! smtpd_tls_CAfile verifies), check_ccert_access, a certificate smtpd does not ask for
//! (smtpd_tls_ask_ccert = no), and level encrypt's `530` before STARTTLS. The first
//! refusal (MAIL or RCPT) or the acceptance of RCPT must be the same, and the answer must
//! name the rule that decided. The same sessions with Postfix 3.7's smtpd and the same
//! services must get the same replies as ironpost's. With SASL on and
//! smtpd_tls_auth_only, AUTH before STARTTLS is refused and after it works (a private
//! Dovecot, as t-24's), which the what-if with `sasl_username=` must also say.

use super::{instance_with, python, whatif};
use e2e::{Instance, dovecot};
use std::process::Command;

/// The test certificates of crates/tls.
fn cert(name: &str) -> String {
    format!(
        "{}/../../crates/tls/tests/golden/certs/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// An openssl pipeline's output, trimmed.
fn shell(script: &str) -> String {
    let out = Command::new("sh").args(["-c", script]).output().unwrap();
    assert!(out.status.success(), "{script}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The client certificate's SHA-256 fingerprints as smtpd shows them (upper-case hex
/// with colons): the certificate's and its public key's.
fn fingerprints() -> (String, String) {
    let pem = cert("client.pem");
    let cert = shell(&format!(
        "openssl x509 -in {pem} -noout -fingerprint -sha256 | sed 's/.*=//'"
    ));
    let pkey = shell(&format!(
        "openssl x509 -in {pem} -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -c | sed 's/.*= //'"
    ));
    (cert.to_uppercase(), pkey.to_uppercase())
}

/// What the client does: no STARTTLS, STARTTLS without a certificate, or with one.
#[derive(Clone, Copy, Debug)]
enum Tls {
    Plain,
    Anonymous,
    Certificate,
}

/// alice's AUTH PLAIN initial response (password secret, t-24's Dovecot).
const ALICE: &str = "AGFsaWNlAHNlY3JldA==";

/// The real session, with AUTH PLAIN as alice when `login`: `AUTH CODE TEXT` or
/// `MAIL CODE TEXT` when that is refused, else `RCPT CODE [TEXT]` (no text for 250).
fn session(port: u16, tls: Tls, rcpt: &str, login: bool) -> String {
    let script = "import smtplib, ssl, sys\n\
        port, tls, cert, key, rcpt, auth = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]\n\
        s = smtplib.SMTP('127.0.0.1', port, timeout=30)\n\
        s.ehlo('client.example')\n\
        if tls != 'Plain':\n\
        \x20   ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\n\
        \x20   ctx.check_hostname = False\n\
        \x20   ctx.verify_mode = ssl.CERT_NONE\n\
        \x20   if tls == 'Certificate':\n\
        \x20       ctx.load_cert_chain(cert, key)\n\
        \x20   s.starttls(context=ctx)\n\
        \x20   s.ehlo('client.example')\n\
        if auth:\n\
        \x20   code, text = s.docmd('AUTH', 'PLAIN ' + auth)\n\
        \x20   if code != 235:\n\
        \x20       print('AUTH', code, text.decode())\n\
        \x20       sys.exit(0)\n\
        code, text = s.mail('a@example.org')\n\
        if code != 250:\n\
        \x20   print('MAIL', code, text.decode())\n\
        \x20   sys.exit(0)\n\
        code, text = s.rcpt(rcpt)\n\
        print('RCPT', code, '' if code == 250 else text.decode())\n\
        s.rset()\n\
        s.quit()\n";
    let tls = format!("{tls:?}");
    python(
        script,
        &[
            &port.to_string(),
            &tls,
            &cert("client.pem"),
            &cert("client.key"),
            rcpt,
            if login { ALICE } else { "" },
        ],
    )
    .unwrap_or_else(|e| panic!("{tls} {rcpt}: {e}"))
    .trim_end()
    .to_string()
}

/// The what-if for the service on `port`, with `sasl_username=alice` when `login`: its
/// exit status, output, and the answer in [`session`]'s form: the first of AUTH and MAIL
/// that is refused, else RCPT.
fn asked(mx: &Instance, port: u16, tls: Tls, rcpt: &str, login: bool) -> (i32, String, String) {
    let (cert_print, pkey_print) = fingerprints();
    let mut args = vec![
        "-n".to_string(),
        format!("127.0.0.1:{port}"),
        "-s".into(),
        "client_address=127.0.0.1".into(),
        "helo=client.example".into(),
        "sender=a@example.org".into(),
        format!("recipient={rcpt}"),
    ];
    if login {
        args.push("sasl_username=alice".into());
    }
    match tls {
        Tls::Plain => {}
        Tls::Anonymous => args.push("encryption_protocol=TLSv1.3".into()),
        Tls::Certificate => args.extend([
            "encryption_protocol=TLSv1.3".into(),
            format!("ccert_fingerprint={cert_print}"),
            format!("ccert_pubkey_fingerprint={pkey_print}"),
            "ccert_subject=client.example".into(),
            "ccert_issuer=ironpost test CA".into(),
        ]),
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (status, text) = whatif(mx, &args);
    let stage = |name: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(&format!("smtpd: {name}: ")))
            .map(|verdict| match verdict.split_once(' ') {
                Some((_, reply)) => format!("{name} {reply}"),
                // accept
                None => format!("{name} 250"),
            })
    };
    let refused = ["AUTH", "MAIL"]
        .into_iter()
        .filter_map(stage)
        .find(|answer| !answer.ends_with(" 250"));
    let answer = refused
        .or_else(|| stage("RCPT"))
        .unwrap_or_else(|| panic!("{tls:?} {rcpt}: no RCPT stage\n{text}"));
    (status, text, answer)
}

/// What the reply says of the exit status: 0 accepted, 2 deferred, 1 rejected.
fn status_of(answer: &str) -> i32 {
    match answer.split(' ').nth(1) {
        Some("250") => 0,
        Some(code) if code.starts_with('4') => 2,
        _ => 1,
    }
}

/// The four smtpd services of the rows, each on a port of its own.
struct Services([u16; 4]);

/// Indexes into [`Services`]: STARTTLS offered, with a client certificate asked for;
/// the same with check_ccert_access; with permit_tls_all_clientcerts; level encrypt.
const MAY: usize = 0;
const CCERT: usize = 1;
const ALL: usize = 2;
const ENCRYPT: usize = 3;

impl Services {
    fn new() -> Services {
        Services([(); 4].map(|()| e2e::free_port()))
    }

    /// The master.cf lines (before @DIR@ expansion).
    fn master_cf(&self) -> String {
        let [may, ccert, all, encrypt] = self.0;
        // The relay restrictions left empty: the recipient restrictions decide relaying.
        let tls = "-o smtpd_tls_security_level=may -o smtpd_tls_ask_ccert=yes \
                   -o smtpd_relay_restrictions=";
        format!(
            "127.0.0.1:{may} inet n - n - - smtpd\n  {tls}\n  \
             -o smtpd_recipient_restrictions=reject_plaintext_session,permit_tls_clientcerts,reject_unauth_destination\n\
             127.0.0.1:{ccert} inet n - n - - smtpd\n  {tls}\n  \
             -o smtpd_recipient_restrictions=check_ccert_access,texthash:@DIR@/etc/ccert_access,reject_unauth_destination\n\
             127.0.0.1:{all} inet n - n - - smtpd\n  {tls}\n  \
             -o smtpd_recipient_restrictions=permit_tls_all_clientcerts,reject_unauth_destination\n\
             127.0.0.1:{encrypt} inet n - n - - smtpd\n  \
             -o smtpd_tls_security_level=encrypt -o smtpd_relay_restrictions= \
             -o smtpd_recipient_restrictions=reject_unauth_destination\n"
        )
    }

    /// The certificate tables and main.cf's TLS settings.
    fn configure(&self, mx: &Instance) {
        let (cert_print, pkey_print) = fingerprints();
        mx.write(
            "etc/relay_ccerts",
            &format!("{cert_print} client.example\n"),
        );
        mx.write(
            "etc/ccert_access",
            &format!("{pkey_print} REJECT that key is refused\n"),
        );
        for (name, value) in [
            ("mynetworks", "127.0.0.2/32".to_string()),
            ("smtpd_tls_cert_file", cert("rsa.pem")),
            ("smtpd_tls_key_file", cert("rsa.key")),
            ("smtpd_tls_CAfile", cert("ca.pem")),
            (
                "relay_clientcerts",
                mx.expand("texthash:@DIR@/etc/relay_ccerts"),
            ),
        ] {
            mx.set_main_cf(name, &value);
        }
    }

    fn wait(&self) {
        for port in self.0 {
            assert!(
                e2e::wait_until(30, || {
                    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                }),
                "no service ever listened on 127.0.0.1:{port}"
            );
        }
    }
}

/// Postfix 3.7 with the same services: its real replies.
fn postfix_side() -> Option<(Instance, Services)> {
    let services = Services::new();
    let mx = Instance::with_daemons("t-52-tls-postfix", &[])?;
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write(
        "etc/master.cf",
        &(master_cf + &mx.expand(&services.master_cf())),
    );
    services.configure(&mx);
    mx.start_postfix();
    services.wait();
    Some((mx, services))
}

#[test]
fn tls_facts_answer_as_a_starttls_session_with_a_client_certificate() {
    let services = Services::new();
    let Some(mx) = instance_with("t-52-tls", &services.master_cf()) else {
        return;
    };
    services.configure(&mx);
    mx.postfix(&["reload"]);
    mx.wait_log("reload -- version", 10);
    services.wait();
    let Some((postfix, postfix_services)) = postfix_side() else {
        return;
    };
    const FAR: &str = "someone@example.com";
    const NEAR: &str = "user@vmail.e2e.test";
    // (service, what the client does, recipient, the rule the answer must name)
    let rows = [
        (MAY, Tls::Plain, NEAR, "reject_plaintext_session"),
        (MAY, Tls::Anonymous, FAR, "reject_unauth_destination"),
        (MAY, Tls::Certificate, FAR, "permit_tls_clientcerts"),
        (CCERT, Tls::Certificate, FAR, "check_ccert_access"),
        (CCERT, Tls::Anonymous, FAR, "reject_unauth_destination"),
        (ALL, Tls::Certificate, FAR, "permit_tls_all_clientcerts"),
        (ALL, Tls::Anonymous, FAR, "reject_unauth_destination"),
        (ENCRYPT, Tls::Plain, NEAR, "smtpd_tls_security_level"),
        (ENCRYPT, Tls::Anonymous, NEAR, ""),
        // Level encrypt without smtpd_tls_ask_ccert: the certificate is not asked for.
        (ENCRYPT, Tls::Certificate, FAR, "reject_unauth_destination"),
    ];
    for (service, tls, rcpt, rule) in rows {
        let port = services.0[service];
        let real = session(port, tls, rcpt, false);
        let row = format!("service {service} {tls:?} {rcpt}");
        // The daemon's reply is Postfix's.
        let theirs = session(postfix_services.0[service], tls, rcpt, false);
        assert_eq!(real, theirs, "{row}: ironpost's smtpd and Postfix's");
        // smtplib gives the code, a space and the text after the code.
        let (status, text, answer) = asked(&mx, port, tls, rcpt, false);
        assert_eq!(answer, real, "{row}\n{text}");
        assert_eq!(status, status_of(&real), "{row}\n{text}");
        assert!(text.contains(rule), "{row}: {rule} not named\n{text}");
    }
    drop(postfix);
}

#[test]
fn sasl_waits_for_tls_with_smtpd_tls_auth_only() {
    let dovecot = match dovecot::TestDovecot::start() {
        Ok(d) => d,
        Err(why) => return testkit::skip(&why),
    };
    let port = e2e::free_port();
    let extra = format!(
        "127.0.0.1:{port} inet n - n - - smtpd\n  \
         -o smtpd_tls_security_level=may -o smtpd_tls_auth_only=yes \
         -o smtpd_sasl_auth_enable=yes -o smtpd_sasl_type=dovecot \
         -o smtpd_sasl_path={} -o smtpd_relay_restrictions= \
         -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject_unauth_destination\n",
        dovecot.socket().display()
    );
    let Some(mx) = instance_with("t-52-auth", &extra) else {
        return;
    };
    mx.set_main_cf("smtpd_tls_cert_file", &cert("rsa.pem"));
    mx.set_main_cf("smtpd_tls_key_file", &cert("rsa.key"));
    mx.postfix(&["reload"]);
    mx.wait_log("reload -- version", 10);
    assert!(
        e2e::wait_until(30, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        }),
        "the reloaded instance's smtpd never listened on 127.0.0.1:{port}"
    );
    const FAR: &str = "someone@example.com";
    // (what the client does, what decided)
    for (tls, rule) in [
        (Tls::Plain, "smtpd_tls_auth_only"),
        (Tls::Anonymous, "permit_sasl_authenticated"),
    ] {
        let real = session(port, tls, FAR, true);
        let (status, text, answer) = asked(&mx, port, tls, FAR, true);
        assert_eq!(answer, real, "{tls:?}\n{text}");
        assert_eq!(status, status_of(&real), "{tls:?}\n{text}");
        assert!(text.contains(rule), "{tls:?}: {rule} not named\n{text}");
    }
}
