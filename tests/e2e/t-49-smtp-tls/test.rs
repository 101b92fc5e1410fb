//! The SMTP client's TLS security levels and TLS policy table against STARTTLS servers
//! with a CA-signed certificate (crates/tls's test CA, name mail.example) and with a
//! self-signed one the test makes with openssl: verify and secure with the name matched
//! (`Verified TLS connection established to ...`), with the wrong name, with no CA, with
//! a self-signed certificate (Postfix's `certificate verification failed for ...` line
//! and the `Server certificate not verified` deferral), smtp_tls_CApath, a server
//! without STARTTLS at a mandatory level, and smtp_tls_policy_maps entries (secure with
//! match=, none under a global encrypt, dane and dane-only without DNSSEC, a bad
//! attribute, protocols= the server cannot meet; fingerprint with the certificate's, the
//! public key's, a wrong and no fingerprint). The same mail through Postfix's smtp and
//! through ironpost's gives the same log lines.
//!
//! The obsolete smtp_tls_per_site table is tested apart: MUST to a self-signed server and
//! to one without STARTTLS, MUST_NOPEERMATCH to a self-signed and to a CA-signed one,
//! NONE under smtp_use_tls = yes with smtp_tls_note_starttls_offer, MAY under a stronger
//! global level, an unknown value, an entry for the server's name that outweighs the
//! next hop's MAY, and the table beside smtp_tls_policy_maps (ignored, with a warning).

use e2e::starttls::{Listener, test_cert};
use e2e::{Instance, free_port, wait_until};
use std::process::Command;

/// An instance with ironpost's master and log daemon, and ironpost's smtp too when
/// `ours`; Postfix's other daemons (what is compared is the SMTP client alone).
fn instance(name: &str, ours: bool) -> Option<Instance> {
    let mut daemons = vec!["master", "postlogd"];
    if ours {
        daemons.push("smtp");
    }
    let side = if ours { "ours" } else { "postfix" };
    Instance::with_daemons(&format!("{name}-{side}"), &daemons)
}

/// A self-signed certificate for mail.example and a CApath directory with the test CA,
/// under `dir`.
fn make_certs(dir: &std::path::Path) -> (String, String, String) {
    let (pem, key) = e2e::starttls::self_signed(dir, "mail.example");
    let capath = dir.join("capath");
    std::fs::create_dir_all(&capath).unwrap();
    std::fs::copy(test_cert("ca.pem"), capath.join("ca.pem")).unwrap();
    let out = Command::new("openssl")
        .arg("rehash")
        .arg(&capath)
        .output()
        .expect("openssl");
    assert!(out.status.success(), "{out:?}");
    (pem, key, capath.display().to_string())
}

/// The recipient domains of one run, each with its transport and the status awaited.
struct Case {
    domain: &'static str,
    transport: &'static str,
    port: &'static str,
    want: &'static str,
}

const CASES: [Case; 16] = [
    // verify, the name matched through smtp_tls_verify_cert_match.
    case("v-ok", "smtpv", "CA", "status=sent"),
    // verify with the default match (the server's name, here 127.0.0.1).
    case("v-host", "smtpvh", "CA", "status=deferred"),
    case("v-self", "smtpv", "SELF", "status=deferred"),
    case("v-plain", "smtpv", "PLAIN", "status=deferred"),
    // secure without a CA, and with the CA in smtp_tls_CApath.
    case("s-noca", "smtpsn", "CA", "status=deferred"),
    case("s-path", "smtpsp", "CA", "status=sent"),
    // smtp_tls_policy_maps under a global level encrypt.
    case("p-sec", "smtppol", "CA2", "status=sent"),
    case("p-none", "smtppol", "PLAIN2", "status=sent"),
    case("p-dane", "smtppol", "CA3", "status=sent"),
    case("p-daneonly", "smtppol", "CA4", "status=deferred"),
    case("p-bad", "smtppol", "CA5", "status=deferred"),
    case("p-proto", "smtppol", "TLS12", "status=deferred"),
    // fingerprint: the certificate's, the public key's, neither, none given.
    case("f-cert", "smtppol", "CA6", "status=sent"),
    case("f-pkey", "smtppol", "CA7", "status=sent"),
    case("f-bad", "smtppol", "CA8", "status=deferred"),
    case("f-none", "smtppol", "CA9", "status=deferred"),
];

/// The SHA-256 fingerprints of crates/tls's rsa.pem and of its public key.
const CERT_FPT: &str = "9D:9E:FB:03:6D:24:32:34:3B:EB:FD:5D:EA:49:FE:5F:AC:EE:B9:EF:58:6D:76:1C:D3:44:A6:CD:A8:21:4F:6E";
const PKEY_FPT: &str = "B4:C4:4B:94:34:BC:26:1B:C7:56:FC:03:F3:1D:DA:01:AF:01:2C:F2:D0:39:9F:F6:16:B8:F4:A0:59:2D:53:56";

const fn case(
    domain: &'static str,
    transport: &'static str,
    port: &'static str,
    want: &'static str,
) -> Case {
    Case {
        domain,
        transport,
        port,
        want,
    }
}

/// The policy table, by port name.
const POLICY: [(&str, &str); 10] = [
    ("CA2", "secure match=mail.example"),
    ("PLAIN2", "none"),
    ("CA3", "dane"),
    ("CA4", "dane-only"),
    ("CA5", "verify bogus=1"),
    ("TLS12", "encrypt protocols=>=TLSv1.3"),
    ("CA6", "fingerprint match=CERT"),
    ("CA7", "fingerprint match=PKEY"),
    (
        "CA8",
        "fingerprint match=00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
    ),
    ("CA9", "fingerprint"),
];

fn run(ours: bool) -> Option<Run> {
    let mut mx = instance("t-49", ours)?;
    let (self_pem, self_key, capath) = make_certs(&mx.dir);
    let names = [
        "CA", "SELF", "PLAIN", "CA2", "PLAIN2", "CA3", "CA4", "CA5", "TLS12", "CA6", "CA7", "CA8",
        "CA9",
    ];
    let ports: Vec<(&str, u16)> = names.iter().map(|n| (*n, free_port())).collect();
    let port = |name: &str| ports.iter().find(|(n, _)| *n == name).unwrap().1;
    route(&mx, &CASES, &ports);
    let ca = test_cert("ca.pem");
    let master = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write(
        "etc/master.cf",
        &format!(
            "{master}smtpv unix - - n - - smtp -o smtp_tls_security_level=verify -o smtp_tls_CAfile={ca} -o smtp_tls_verify_cert_match=mail.example\n\
             smtpvh unix - - n - - smtp -o smtp_tls_security_level=verify -o smtp_tls_CAfile={ca}\n\
             smtpsn unix - - n - - smtp -o smtp_tls_security_level=secure -o smtp_tls_secure_cert_match=mail.example\n\
             smtpsp unix - - n - - smtp -o smtp_tls_security_level=secure -o smtp_tls_CApath={capath} -o smtp_tls_secure_cert_match=mail.example\n\
             smtppol unix - - n - - smtp -o smtp_tls_security_level=encrypt -o smtp_tls_CAfile={ca} -o smtp_tls_policy_maps=texthash:{}/etc/tls_policy\n",
            mx.dir.display()
        ),
    );
    let policy: String = POLICY
        .iter()
        .map(|(name, p)| {
            let p = p.replace("CERT", CERT_FPT).replace("PKEY", PKEY_FPT);
            format!("[127.0.0.1]:{} {p}\n", port(name))
        })
        .collect();
    mx.write("etc/tls_policy", &policy);
    let (ca_pem, ca_key) = (test_cert("rsa-chain.pem"), test_cert("rsa.key"));
    let server = |name: &str| match name {
        "SELF" => ("tls", self_pem.as_str(), self_key.as_str()),
        "PLAIN" | "PLAIN2" => ("plain", "-", "-"),
        "TLS12" => ("tls12", ca_pem.as_str(), ca_key.as_str()),
        _ => ("tls", ca_pem.as_str(), ca_key.as_str()),
    };
    Some(serve_and_send(&mut mx, &CASES, &ports, server, "t49"))
}

/// Writes main.cf's relay_domains and smtp_tls_loglevel and the transport table that
/// sends each case's domain through its transport to its server.
fn route(mx: &Instance, cases: &[Case], ports: &[(&str, u16)]) {
    let port = |name: &str| ports.iter().find(|(n, _)| *n == name).unwrap().1;
    let domains: Vec<String> = cases
        .iter()
        .map(|c| format!("{}.e2e.test", c.domain))
        .collect();
    mx.set_main_cf("relay_domains", &domains.join(", "));
    mx.set_main_cf("smtp_tls_loglevel", "1");
    let transport: String = cases
        .iter()
        .map(|c| {
            format!(
                "{}.e2e.test {}:[127.0.0.1]:{}\n",
                c.domain,
                c.transport,
                port(c.port)
            )
        })
        .collect();
    mx.write("etc/transport", &transport);
}

/// Starts a scripted server on each port (`server` gives its mode, certificate and key
/// by the port's name) and the instance, sends one message per case and waits for its
/// status; returns the client's log lines and what the servers received.
fn serve_and_send<'a>(
    mx: &mut Instance,
    cases: &[Case],
    ports: &[(&'a str, u16)],
    server: impl Fn(&str) -> (&'a str, &'a str, &'a str),
    tag: &str,
) -> Run {
    let transcript = mx.dir.join("sink/transcript");
    let listeners: Vec<Listener> = ports
        .iter()
        .map(|(name, port)| {
            let (mode, cert, key) = server(name);
            Listener {
                label: name,
                addr: "127.0.0.1",
                port: *port,
                mode,
                cert,
                key,
            }
        })
        .collect();
    let server = e2e::starttls::start(&transcript, "mx.tls.test", &listeners);
    mx.start();
    for (n, c) in cases.iter().enumerate() {
        let to = format!("rcpt@{}.e2e.test", c.domain);
        mx.send(
            mx.smtp_port,
            "user@vmail.e2e.test",
            &to,
            &format!("{tag}-{n}"),
        )
        .unwrap();
        let needle = format!("to=<{to}>");
        if !wait_until(30, || {
            mx.log()
                .lines()
                .any(|l| l.contains(&needle) && l.contains(c.want))
        }) {
            mx.keep_for_inspection();
            panic!("no {} for {to}:\n{}", c.want, mx.log());
        }
    }
    drop(server);
    let lines = client_lines(&mx.log(), ports);
    let seen = e2e::client::received(&transcript);
    (lines, seen)
}

/// The smtp client's log lines, sorted and without repeats, made comparable: no queue
/// ID or delays, the TLS library's words left out, the ports by their names.
fn client_lines(log: &str, ports: &[(&str, u16)]) -> Vec<String> {
    let rename = |text: &str| {
        ports.iter().fold(text.to_string(), |t, (name, p)| {
            t.replace(&format!("]:{p}"), &format!("]:{name}"))
                .replace(&format!(":{p}/"), &format!(":{name}/"))
        })
    };
    let lines: Vec<String> = log
        .lines()
        .filter(|l| l.contains("/smtp["))
        .filter_map(|l| l.split_once("]: ").map(|(_, m)| m))
        .map(|m| {
            // The queue ID, the delays and the cipher details differ from run to run.
            let m = match m.split_once(": to=<") {
                Some((_, rest)) => format!("to=<{rest}"),
                None => m.to_string(),
            };
            let m = match (m.find(", delay="), m.find(", dsn=")) {
                (Some(a), Some(b)) => format!("{}{}", &m[..a], &m[b..]),
                _ => m,
            };
            // The library's own words for a failed handshake are OpenSSL's there and
            // rustls's here.
            let m = match m.split_once("TLS library problem: ") {
                Some((head, _)) => format!("{head}TLS library problem: ..."),
                None => m,
            };
            rename(&m)
        })
        .collect();
    let mut lines = lines;
    lines.sort();
    lines.dedup();
    lines
}

/// The smtp_tls_per_site cases: recipient domain, transport, server (by port name),
/// the status awaited.
const PER_SITE_CASES: [Case; 10] = [
    // No global TLS: MUST is verify, MUST_NOPEERMATCH encrypt.
    case("ps-must", "smtpps", "SELF", "status=deferred"),
    case("ps-must-plain", "smtpps", "PLAIN", "status=deferred"),
    case("ps-nopeer", "smtpps", "SELF2", "status=sent"),
    case("ps-nopeer-ca", "smtpps", "CA", "status=sent"),
    // smtp_use_tls = yes and smtp_tls_note_starttls_offer = yes: NONE is plaintext.
    case("ps-none", "smtpnone", "CA2", "status=sent"),
    // A global encrypt (smtp_enforce_tls without peer names) over MAY; a value
    // Postfix does not know.
    case("ps-may", "smtpenf", "SELF3", "status=sent"),
    case("ps-bad", "smtpenf", "CA3", "status=deferred"),
    // The server's name (127.0.0.1) is MUST_NOPEERMATCH, the next hop MAY.
    case("ps-host", "smtpph", "PLAIN2", "status=deferred"),
    case("ps-host-tls", "smtpph", "SELF4", "status=sent"),
    // Beside smtp_tls_policy_maps the table is ignored: its MUST gives way to may.
    case("ps-both", "smtpboth", "SELF5", "status=sent"),
];

/// The per-site table by port name (smtpph has its own).
const PER_SITE: [(&str, &str); 8] = [
    ("SELF", "MUST"),
    ("PLAIN", "must"),
    ("SELF2", "MUST_NOPEERMATCH"),
    ("CA", "MUST_NOPEERMATCH"),
    ("CA2", "NONE"),
    ("SELF3", "MAY"),
    ("CA3", "SOMETIMES"),
    ("SELF5", "MUST"),
];

fn run_per_site(ours: bool) -> Option<Run> {
    let mut mx = instance("t-49ps", ours)?;
    let (self_pem, self_key) = e2e::starttls::self_signed(&mx.dir, "mail.example");
    let names = [
        "SELF", "PLAIN", "SELF2", "CA", "CA2", "SELF3", "CA3", "PLAIN2", "SELF4", "SELF5",
    ];
    let ports: Vec<(&str, u16)> = names.iter().map(|n| (*n, free_port())).collect();
    let port = |name: &str| ports.iter().find(|(n, _)| *n == name).unwrap().1;
    route(&mx, &PER_SITE_CASES, &ports);
    let ca = test_cert("ca.pem");
    let etc = mx.etc().display().to_string();
    let master = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write(
        "etc/master.cf",
        &format!(
            "{master}smtpps unix - - n - - smtp -o smtp_tls_CAfile={ca} -o smtp_tls_per_site=texthash:{etc}/per_site\n\
             smtpnone unix - - n - - smtp -o smtp_use_tls=yes -o smtp_tls_note_starttls_offer=yes -o smtp_tls_per_site=texthash:{etc}/per_site\n\
             smtpenf unix - - n - - smtp -o smtp_enforce_tls=yes -o smtp_tls_enforce_peername=no -o smtp_tls_per_site=texthash:{etc}/per_site\n\
             smtpph unix - - n - - smtp -o smtp_tls_per_site=texthash:{etc}/per_site_host\n\
             smtpboth unix - - n - - smtp -o smtp_tls_policy_maps=texthash:{etc}/tls_policy -o smtp_tls_per_site=texthash:{etc}/per_site\n"
        ),
    );
    let per_site: String = PER_SITE
        .iter()
        .map(|(name, level)| format!("[127.0.0.1]:{} {level}\n", port(name)))
        .collect();
    mx.write("etc/per_site", &per_site);
    mx.write(
        "etc/per_site_host",
        &format!(
            "127.0.0.1 MUST_NOPEERMATCH\n[127.0.0.1]:{} MAY\n[127.0.0.1]:{} MAY\n",
            port("PLAIN2"),
            port("SELF4")
        ),
    );
    mx.write(
        "etc/tls_policy",
        &format!("[127.0.0.1]:{} may\n", port("SELF5")),
    );
    let (ca_pem, ca_key) = (test_cert("rsa-chain.pem"), test_cert("rsa.key"));
    let server = |name: &str| {
        if name.starts_with("SELF") {
            ("tls", self_pem.as_str(), self_key.as_str())
        } else if name.starts_with("PLAIN") {
            ("plain", "-", "-")
        } else {
            ("tls", ca_pem.as_str(), ca_key.as_str())
        }
    };
    Some(serve_and_send(
        &mut mx,
        &PER_SITE_CASES,
        &ports,
        server,
        "t49ps",
    ))
}

/// One run's client log lines and what the servers received.
type Run = (Vec<String>, Vec<String>);

/// Both runs of the per-site cases (Postfix's, then ours), shared by the tests that
/// compare them.
fn per_site_runs() -> Option<&'static (Run, Run)> {
    static RUNS: std::sync::OnceLock<Option<(Run, Run)>> = std::sync::OnceLock::new();
    let runs = RUNS.get_or_init(|| {
        if !e2e::starttls::openssl_runs() {
            return None;
        }
        Some((run_per_site(false)?, run_per_site(true)?))
    });
    if runs.is_none() {
        // The runs are made once, so the reason was given to one test only.
        testkit::skip("the per-site runs were skipped");
    }
    runs.as_ref()
}

/// The note of an unused STARTTLS offer.
const NOTE: &str = "Host offered STARTTLS: [";

/// The log lines with (`notes` true) or without the STARTTLS-offer notes.
fn notes(lines: &[String], notes: bool) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.starts_with(NOTE) == notes)
        .cloned()
        .collect()
}

#[test]
fn per_site_table_equals_postfix() {
    let Some((postfix, ours)) = per_site_runs() else {
        return;
    };
    for want in [
        "Server certificate not verified",
        "TLS is required, but was not offered by host",
        "Untrusted TLS connection established to",
        "Trusted TLS connection established to",
        "unknown TLS policy 'SOMETIMES' for next-hop destination",
        "smtp_tls_per_site ignored when smtp_tls_policy_maps is not empty.",
    ] {
        assert!(
            postfix.0.iter().any(|l| l.contains(want)),
            "no {want:?} in {postfix:#?}"
        );
    }
    // NONE went out in plaintext to a server that offered STARTTLS.
    assert!(
        postfix.1.iter().any(|l| l.starts_with("CA2 plain ")),
        "{postfix:#?}"
    );
    assert_eq!(notes(&ours.0, false), notes(&postfix.0, false));
    assert_eq!(ours.1, postfix.1);
}

#[test]
fn starttls_offer_note_equals_postfix() {
    let Some((postfix, ours)) = per_site_runs() else {
        return;
    };
    assert_eq!(
        notes(&postfix.0, true),
        ["Host offered STARTTLS: [127.0.0.1]"]
    );
    assert_eq!(notes(&ours.0, true), notes(&postfix.0, true));
}

#[test]
fn tls_levels_and_policies_equal_postfix() {
    if !e2e::starttls::openssl_runs() {
        return;
    }
    let Some(postfix) = run(false) else { return };
    let Some(ours) = run(true) else { return };
    assert!(
        postfix
            .0
            .iter()
            .any(|l| l.starts_with("Verified TLS connection established to"))
            && postfix
                .0
                .iter()
                .any(|l| l.contains("Server certificate not verified")),
        "{postfix:#?}"
    );
    assert_eq!(ours.0, postfix.0);
    assert_eq!(ours.1, postfix.1);
}
