//! The SMTP client's own side of TLS, against Postfix 3.7's smtp: client certificates
//! (smtp_tls_cert_file/key_file, smtp_tls_chain_files) offered to a server that asks
//! for one and seen by it, none offered without them; a key file that cannot be used
//! (a broken key, a key that is not the certificate's), which turns TLS off for the
//! process (plaintext at level may, a deferral at encrypt); smtp_tls_wrappermode to a
//! server that speaks TLS from the first byte, and with a level below encrypt (the
//! server is skipped); and smtp_tls_loglevel 2 (the SNI name, the chain verification's
//! `depth=N verify=V subject=...` lines for a trusted chain, an untrusted one, a lone
//! self-signed certificate, a lone leaf and a trusted chain of the wrong name). The same mail through Postfix's smtp and
//! through ironpost's gives the same log lines, process by process and in order, but
//! for OpenSSL's state-machine trace at level 2 (`SSL_connect:...`), which rustls has
//! no equivalent of; and the servers see the same commands, with the same certificates.

use e2e::starttls::test_cert;
use e2e::{Instance, free_port};
use std::process::{Command, Stdio};

/// The servers' Python source.
const SERVER: &str = include_str!("server.py");

/// An instance with ironpost's master and log daemon, and ironpost's smtp too when
/// `ours`; Postfix's other daemons (what is compared is the SMTP client alone).
fn instance(ours: bool) -> Option<Instance> {
    let mut daemons = vec!["master", "postlogd"];
    if ours {
        daemons.push("smtp");
    }
    let side = if ours { "ours" } else { "postfix" };
    Instance::with_daemons(&format!("t-73-{side}"), &daemons)
}

/// One recipient domain: its transport, the server's port and the status awaited.
struct Case {
    domain: &'static str,
    transport: &'static str,
    port: &'static str,
    want: &'static str,
}

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

const CASES: [Case; 19] = [
    // Client certificates: a pair, a chain file, none.
    case("c-pair", "ccert", "ST", "status=sent"),
    case("c-chain", "cchain", "ST", "status=sent"),
    case("c-none", "cnone", "ST", "status=sent"),
    // A broken key file, at may (plaintext) and at encrypt (deferred); a key that is
    // not the certificate's.
    case("b-may", "badmay", "ST", "status=sent"),
    case("b-enc", "badenc", "ST", "status=deferred"),
    case("b-mismatch", "mismatch", "ST", "status=sent"),
    // smtp_tls_key_file left to default to the cert file: the key and the certificate
    // in one file, a file without a key, a file that is not there, another
    // certificate's key, an empty file.
    case("m-ok", "mixok", "ST", "status=sent"),
    case("m-nokey", "mixnokey", "ST", "status=sent"),
    case("m-missing", "mixmissing", "ST", "status=sent"),
    case("m-mismatch", "mixbad", "ST", "status=sent"),
    case("m-empty", "mixempty", "ST", "status=sent"),
    // Wrapper mode, with a client certificate, and below encrypt.
    case("w-ok", "wrap", "WR", "status=sent"),
    case("w-may", "wrapmay", "WR", "status=deferred"),
    // smtp_tls_loglevel 2: an untrusted chain, a verified one with SNI, a self-signed
    // certificate, a leaf without its issuer.
    case("l-untrusted", "l2enc", "ST", "status=sent"),
    case("l-verify", "l2ver", "ST", "status=sent"),
    case("l-self", "l2self", "SELF", "status=sent"),
    case("l-leaf", "l2leaf", "LEAF", "status=sent"),
    // A trusted chain whose name does not match.
    case("l-badname", "l2bad", "ST", "status=deferred"),
    // Level 2 with a client certificate in wrapper mode.
    case("l-wrap", "l2wrap", "WR", "status=sent"),
];

/// A self-signed certificate for mail.example, and a chain file of the test client's
/// key and certificate, under `dir`.
fn make_files(dir: &std::path::Path) -> (String, String, String) {
    let (pem, key) = e2e::starttls::self_signed(dir, "mail.example");
    let chain = dir.join("client-chain.pem");
    let text = std::fs::read_to_string(test_cert("client.key")).unwrap()
        + &std::fs::read_to_string(test_cert("client.pem")).unwrap();
    std::fs::write(&chain, text).unwrap();
    (pem, key, chain.display().to_string())
}

/// The smtp log lines of one run, case by case in the order logged, normalised; and
/// what the servers received.
type Run = (Vec<Vec<String>>, Vec<String>);

/// Files made once for both runs, so that the fingerprints logged are the same.
struct Files {
    self_pem: String,
    self_key: String,
    chain: String,
    /// A file name that is not there.
    missing: String,
    /// Another certificate's key, then the client's certificate.
    mismatched: String,
    /// An empty file.
    empty: String,
}

fn run(ours: bool, files: &Files) -> Option<Run> {
    let mut mx = instance(ours)?;
    let (self_pem, self_key, chain) = (&files.self_pem, &files.self_key, &files.chain);
    let names = ["ST", "WR", "SELF", "LEAF"];
    let ports: Vec<(&str, u16)> = names.iter().map(|n| (*n, free_port())).collect();
    let port = |name: &str| ports.iter().find(|(n, _)| *n == name).unwrap().1;
    let domains: Vec<String> = CASES
        .iter()
        .map(|c| format!("{}.e2e.test", c.domain))
        .collect();
    mx.set_main_cf("relay_domains", &domains.join(", "));
    mx.set_main_cf("smtp_tls_loglevel", "1");
    let (ca, cpem, ckey) = (
        test_cert("ca.pem"),
        test_cert("client.pem"),
        test_cert("client.key"),
    );
    let (broken, other_key) = (test_cert("broken.key"), test_cert("rsa.key"));
    let pair = format!("-o smtp_tls_cert_file={cpem} -o smtp_tls_key_file={ckey}");
    let master = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    let services = [
        (
            "ccert",
            format!("-o smtp_tls_security_level=encrypt {pair}"),
        ),
        (
            "cchain",
            format!("-o smtp_tls_security_level=encrypt -o smtp_tls_chain_files={chain}"),
        ),
        ("cnone", "-o smtp_tls_security_level=encrypt".to_string()),
        (
            "badmay",
            format!(
                "-o smtp_tls_security_level=may -o smtp_tls_cert_file={cpem} -o smtp_tls_key_file={broken}"
            ),
        ),
        (
            "badenc",
            format!(
                "-o smtp_tls_security_level=encrypt -o smtp_tls_cert_file={cpem} -o smtp_tls_key_file={broken}"
            ),
        ),
        (
            "mismatch",
            format!(
                "-o smtp_tls_security_level=may -o smtp_tls_cert_file={cpem} -o smtp_tls_key_file={other_key}"
            ),
        ),
        (
            "mixok",
            format!("-o smtp_tls_security_level=encrypt -o smtp_tls_cert_file={chain}"),
        ),
        (
            "mixnokey",
            format!("-o smtp_tls_security_level=may -o smtp_tls_cert_file={cpem}"),
        ),
        (
            "mixmissing",
            format!(
                "-o smtp_tls_security_level=may -o smtp_tls_cert_file={}",
                files.missing
            ),
        ),
        (
            "mixbad",
            format!(
                "-o smtp_tls_security_level=may -o smtp_tls_cert_file={}",
                files.mismatched
            ),
        ),
        (
            "mixempty",
            format!(
                "-o smtp_tls_security_level=may -o smtp_tls_cert_file={}",
                files.empty
            ),
        ),
        (
            "wrap",
            format!("-o smtp_tls_security_level=encrypt -o smtp_tls_wrappermode=yes {pair}"),
        ),
        (
            "wrapmay",
            "-o smtp_tls_security_level=may -o smtp_tls_wrappermode=yes".to_string(),
        ),
        (
            "l2enc",
            "-o smtp_tls_security_level=encrypt -o smtp_tls_loglevel=2".to_string(),
        ),
        (
            "l2ver",
            format!(
                "-o smtp_tls_security_level=verify -o smtp_tls_loglevel=2 -o smtp_tls_CAfile={ca} -o smtp_tls_verify_cert_match=mail.example -o smtp_tls_servername=mail.example"
            ),
        ),
        (
            "l2bad",
            format!(
                "-o smtp_tls_security_level=verify -o smtp_tls_loglevel=2 -o smtp_tls_CAfile={ca} -o smtp_tls_verify_cert_match=other.example"
            ),
        ),
        (
            "l2self",
            "-o smtp_tls_security_level=encrypt -o smtp_tls_loglevel=2".to_string(),
        ),
        (
            "l2leaf",
            "-o smtp_tls_security_level=may -o smtp_tls_loglevel=2".to_string(),
        ),
        (
            "l2wrap",
            format!(
                "-o smtp_tls_security_level=encrypt -o smtp_tls_wrappermode=yes -o smtp_tls_loglevel=2 {pair}"
            ),
        ),
    ];
    let extra: String = services
        .iter()
        .map(|(name, opts)| format!("{name} unix - - n - - smtp {opts}\n"))
        .collect();
    mx.write("etc/master.cf", &format!("{master}{extra}"));
    let transport: String = CASES
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
    let transcript = mx.dir.join("sink/transcript");
    let (chain_pem, chain_key) = (test_cert("rsa-chain.pem"), test_cert("rsa.key"));
    let leaf_pem = test_cert("rsa.pem");
    let specs: Vec<String> = ports
        .iter()
        .map(|(name, p)| {
            let (mode, cert, key) = match *name {
                "WR" => ("wrapper", chain_pem.as_str(), chain_key.as_str()),
                "SELF" => ("starttls", self_pem.as_str(), self_key.as_str()),
                "LEAF" => ("leaf", leaf_pem.as_str(), chain_key.as_str()),
                _ => ("starttls", chain_pem.as_str(), chain_key.as_str()),
            };
            format!("{name}:{p}:{mode}:{cert}:{key}")
        })
        .collect();
    let server = e2e::child::spawn_ready(
        Command::new("python3")
            .args(["-c", SERVER])
            .arg(&transcript)
            .arg(&ca)
            .arg("mx.tls.test")
            .args(&specs)
            .stderr(Stdio::null()),
    )
    .expect("the scripted servers did not start");
    mx.start();
    let rename = |text: &str| {
        ports.iter().fold(text.to_string(), |t, (name, p)| {
            t.replace(&format!("]:{p}"), &format!("]:{name}"))
        })
    };
    let smtp = |l: &str| l.contains("/smtp[");
    let mut per_case = Vec::new();
    for (n, c) in CASES.iter().enumerate() {
        let to = format!("rcpt@{}.e2e.test", c.domain);
        let log = e2e::client::send_and_wait(&mx, &to, &format!("t73-{n}"), c.want, smtp);
        let mut lines: Vec<String> = Vec::new();
        for m in log
            .iter()
            .filter(|l| smtp(l))
            .filter_map(|l| l.split_once("]: ").map(|(_, m)| m))
        {
            // OpenSSL's handshake state machine (SSL_connect:..., TLS_LOG_DEBUG),
            // which rustls does not expose.
            if m.starts_with("SSL_connect:") {
                continue;
            }
            // The library's own words are OpenSSL's there and ours here; OpenSSL may
            // queue several errors for one failure, and one stands for them.
            let m = match m.split_once("TLS library problem: ") {
                Some((head, _)) => format!("{head}TLS library problem: ..."),
                None => rename(&e2e::client::normalize(m, port("ST"))),
            };
            if !(m.ends_with("TLS library problem: ...") && lines.last() == Some(&m)) {
                lines.push(m);
            }
        }
        per_case.push(lines);
    }
    drop(server);
    Some((per_case, e2e::client::received(&transcript)))
}

#[test]
fn client_certificates_wrapper_mode_and_loglevel_2_equal_postfix() {
    if !e2e::starttls::openssl_runs() {
        return;
    }
    let dir = std::path::PathBuf::from(format!(
        "/tmp/ironpost-e2e/t-73-files-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (self_pem, self_key, chain) = make_files(&dir);
    let files = Files {
        self_pem,
        self_key,
        chain,
        missing: dir.join("missing.pem").display().to_string(),
        mismatched: dir.join("mismatched.pem").display().to_string(),
        empty: dir.join("empty.pem").display().to_string(),
    };
    let text = std::fs::read_to_string(test_cert("rsa.key")).unwrap()
        + &std::fs::read_to_string(test_cert("client.pem")).unwrap();
    std::fs::write(&files.mismatched, text).unwrap();
    std::fs::write(&files.empty, "").unwrap();
    let runs = run(false, &files).zip(run(true, &files));
    let _ = std::fs::remove_dir_all(&dir);
    let Some((postfix, ours)) = runs else { return };
    assert_eq!(ours.1, postfix.1);
    // The scenarios came about on Postfix's side: a certificate seen by the server, a
    // broken key, wrapper mode refused below encrypt, the verification trace.
    assert!(
        postfix.1.iter().any(|l| l.contains("cert=client.example")),
        "{postfix:#?}"
    );
    let names: Vec<&str> = CASES.iter().map(|c| c.domain).collect();
    e2e::client::assert_cases_equal(
        &ours.0,
        &postfix.0,
        &names,
        &[
            "cannot get RSA private key",
            "No private key found in",
            "requires \"smtp_tls_security_level = encrypt\"",
            ": depth=0 verify=1 subject=",
            "SNI hostname: mail.example",
            "client-signature RSA-PSS",
        ],
    );
}
