//! Handshakes in-process (a rustls client pinned to one protocol, cipher, group and
//! signature scheme, as record.sh pins `openssl s_client` against Postfix 3.7), compared
//! with the log lines and Received: clauses Postfix logged for the same certificate and
//! parameters (tests/golden, recorded by record.sh); and Postfix's warnings for broken
//! certificate and key files.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CipherSuite, DigitallySignedStruct, NamedGroup, SignatureScheme};
use tls::{CertKeyFiles, Plain, SecurityLevel, ServerSettings, ServerTls, Tap};

/// The directory record.sh recorded with, as it appears in the goldens.
const RECORDED_DIR: &str = "/etc/ironpost-test/certs";
const PEER: &str = "localhost[127.0.0.1]";

fn golden() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn cert(name: &str) -> String {
    golden()
        .join("certs")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn read_golden(name: &str) -> String {
    std::fs::read_to_string(golden().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// How one recorded case was run.
struct Case {
    name: &'static str,
    wrapper: bool,
    loglevel: u32,
    cert: &'static str,
    ask_ccert: bool,
    client_cert: bool,
    chain: bool,
    ca: bool,
    digest: &'static str,
    req_ccert: bool,
    version: &'static rustls::SupportedProtocolVersion,
    suite: CipherSuite,
    group: NamedGroup,
    scheme: SignatureScheme,
}

const BASE: Case = Case {
    name: "",
    wrapper: false,
    loglevel: 1,
    cert: "rsa",
    ask_ccert: false,
    client_cert: false,
    chain: false,
    ca: false,
    digest: "sha256",
    req_ccert: false,
    version: &rustls::version::TLS13,
    suite: CipherSuite::TLS13_AES_256_GCM_SHA384,
    group: NamedGroup::X25519,
    scheme: SignatureScheme::RSA_PSS_SHA256,
};

const TLS12: &rustls::SupportedProtocolVersion = &rustls::version::TLS12;

const CASES: &[Case] = &[
    Case {
        name: "tls13-aes256",
        ..BASE
    },
    Case {
        name: "tls13-aes128",
        suite: CipherSuite::TLS13_AES_128_GCM_SHA256,
        group: NamedGroup::secp256r1,
        ..BASE
    },
    Case {
        name: "tls13-chacha",
        suite: CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
        group: NamedGroup::secp384r1,
        scheme: SignatureScheme::RSA_PSS_SHA512,
        ..BASE
    },
    Case {
        name: "tls12-ecdhe-rsa-aes256",
        version: TLS12,
        suite: CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ..BASE
    },
    Case {
        name: "tls12-ecdhe-rsa-aes128",
        version: TLS12,
        suite: CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        group: NamedGroup::secp256r1,
        scheme: SignatureScheme::RSA_PKCS1_SHA256,
        ..BASE
    },
    Case {
        name: "tls12-ecdhe-rsa-chacha",
        version: TLS12,
        suite: CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        scheme: SignatureScheme::RSA_PKCS1_SHA384,
        ..BASE
    },
    Case {
        name: "tls13-loglevel0",
        loglevel: 0,
        ..BASE
    },
    Case {
        name: "tls13-loglevel2",
        loglevel: 2,
        ..BASE
    },
    Case {
        name: "tls13-ecdsa",
        cert: "ecdsa",
        scheme: SignatureScheme::ECDSA_NISTP256_SHA256,
        ..BASE
    },
    Case {
        name: "tls12-ecdsa",
        cert: "ecdsa",
        version: TLS12,
        suite: CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        scheme: SignatureScheme::ECDSA_NISTP256_SHA256,
        ..BASE
    },
    Case {
        name: "tls13-ccert",
        ask_ccert: true,
        client_cert: true,
        ..BASE
    },
    Case {
        name: "tls13-ccert-none",
        ask_ccert: true,
        ..BASE
    },
    Case {
        name: "tls13-ccert-loglevel2",
        ask_ccert: true,
        client_cert: true,
        loglevel: 2,
        ..BASE
    },
    Case {
        name: "tls13-ccert-md5",
        ask_ccert: true,
        client_cert: true,
        loglevel: 2,
        digest: "md5",
        ..BASE
    },
    Case {
        name: "tls13-ccert-trusted",
        ask_ccert: true,
        client_cert: true,
        ca: true,
        ..BASE
    },
    Case {
        name: "tls13-req-ccert-none",
        req_ccert: true,
        ..BASE
    },
    Case {
        name: "tls13-req-ccert-untrusted",
        req_ccert: true,
        client_cert: true,
        ..BASE
    },
    Case {
        name: "tls13-wrapper",
        wrapper: true,
        ..BASE
    },
    Case {
        name: "tls13-chain",
        chain: true,
        ..BASE
    },
];

fn settings(case: &Case) -> ServerSettings {
    let files = if case.chain {
        CertKeyFiles {
            chain_files: vec![cert("rsa-chain.pem")],
            ..Default::default()
        }
    } else {
        CertKeyFiles {
            cert_file: cert(&format!("{}.pem", case.cert)),
            key_file: cert(&format!("{}.key", case.cert)),
            ..Default::default()
        }
    };
    ServerSettings {
        files,
        ask_ccert: case.ask_ccert,
        loglevel: case.loglevel,
        ca_file: if case.ca {
            cert("ca.pem")
        } else {
            String::new()
        },
        fingerprint_digest: case.digest.into(),
        level: if case.req_ccert {
            SecurityLevel::Encrypt
        } else {
            SecurityLevel::May
        },
        req_ccert: case.req_ccert,
        ..Default::default()
    }
}

/// Accepts any server certificate; offers exactly one signature scheme, as
/// `openssl s_client -sigalgs` did.
#[derive(Debug)]
struct Pinned(Arc<CryptoProvider>, SignatureScheme);

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![self.1]
    }
}

#[allow(deprecated)]
fn client_config(case: &Case) -> rustls::ClientConfig {
    let base = ring::default_provider();
    let provider = Arc::new(CryptoProvider {
        cipher_suites: base
            .cipher_suites
            .iter()
            .copied()
            .filter(|s| s.suite() == case.suite)
            .collect(),
        kx_groups: base
            .kx_groups
            .iter()
            .copied()
            .filter(|g| g.name() == case.group)
            .collect(),
        ..base
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[case.version])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned(provider, case.scheme)));
    if case.client_cert {
        let chain = CertificateDer::pem_file_iter(cert("client.pem")).unwrap();
        let key = PrivateKeyDer::from_pem_file(cert("client.key")).unwrap();
        let key = base_key_provider().load_private_key(key).unwrap();
        let pinned = PinnedKey(key, case.scheme);
        let certified =
            rustls::sign::CertifiedKey::new(chain.map(Result::unwrap).collect(), Arc::new(pinned));
        builder.with_client_cert_resolver(Arc::new(ClientKey(Arc::new(certified))))
    } else {
        builder.with_no_client_auth()
    }
}

#[allow(deprecated)]
fn base_key_provider() -> &'static dyn rustls::crypto::KeyProvider {
    ring::default_provider().key_provider
}

/// The client's key, signing only with the scheme `openssl s_client -sigalgs` allowed.
#[derive(Debug)]
struct PinnedKey(Arc<dyn rustls::sign::SigningKey>, SignatureScheme);

impl rustls::sign::SigningKey for PinnedKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn rustls::sign::Signer>> {
        offered
            .contains(&self.1)
            .then(|| self.0.choose_scheme(&[self.1]))
            .flatten()
    }

    fn algorithm(&self) -> rustls::SignatureAlgorithm {
        self.0.algorithm()
    }
}

#[derive(Debug)]
struct ClientKey(Arc<rustls::sign::CertifiedKey>);

impl rustls::client::ResolvesClientCert for ClientKey {
    fn resolve(
        &self,
        _: &[&[u8]],
        _: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// Collects the session's plaintext as `< ` and `> ` lines.
#[derive(Clone, Default)]
struct Transcript(Arc<Mutex<Vec<u8>>>);

impl Tap for Transcript {
    fn read(&mut self, data: &[u8]) {
        self.0.lock().unwrap().extend(b"< ".iter().chain(data));
    }
    fn written(&mut self, data: &[u8]) {
        self.0.lock().unwrap().extend(b"> ".iter().chain(data));
    }
}

/// Runs one session: server in a thread, rustls client here. Returns the server's log
/// lines, the Received: clause and the transcript.
fn run(case: &Case) -> (Vec<String>, String, String) {
    let lines = std::cell::RefCell::new(Vec::new());
    let mut collect =
        |sev: log::Severity, text: &str| lines.borrow_mut().push(format!("{}{text}", sev.prefix()));
    let server = ServerTls::new(&settings(case), &mut collect);
    let server = server.unwrap_or_else(|| panic!("{}: TLS disabled: {lines:?}", case.name));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let wrapper = case.wrapper;
    let client = std::thread::spawn({
        let config = Arc::new(client_config(case));
        move || {
            let mut sock = TcpStream::connect(addr).unwrap();
            sock.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            if !wrapper {
                let mut reader = BufReader::new(sock.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                sock.write_all(b"STARTTLS\r\n").unwrap();
                line.clear();
                reader.read_line(&mut line).unwrap();
                assert_eq!(line, "220 2.0.0 Ready to start TLS\r\n");
            }
            let name = ServerName::try_from("mail.example").unwrap();
            let conn = rustls::ClientConnection::new(config, name).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, sock);
            tls.write_all(b"EHLO client.example\r\n").unwrap();
            let mut reply = [0u8; 64];
            let n = tls.read(&mut reply).unwrap();
            assert_eq!(&reply[..n], b"250 golden.example\r\n");
        }
    });
    let (sock, _) = listener.accept().unwrap();
    let transcript = Transcript::default();
    let mut plain = Plain::new(sock, transcript.clone());
    if !case.wrapper {
        plain.write_all(b"220 golden.example ESMTP\r\n").unwrap();
        let mut buf = [0u8; 10];
        plain.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"STARTTLS\r\n");
        plain
            .write_all(b"220 2.0.0 Ready to start TLS\r\n")
            .unwrap();
    }
    let (sock, tap) = plain.into_parts();
    let mut tls = server
        .accept(sock, tap, PEER, Duration::from_secs(10), &mut collect)
        .unwrap_or_else(|e| panic!("{}: {e}: {lines:?}", case.name));
    let mut buf = [0u8; 21];
    tls.read_exact(&mut buf).unwrap();
    tls.write_all(b"250 golden.example\r\n").unwrap();
    client.join().unwrap();
    let summary = tls.summary().unwrap();
    if server.requires_ccert() {
        // What smtpd logs before its 421 (Postfix's smtpd_tls_req_ccert).
        if let Some(reason) = summary.required_ccert_missing() {
            collect(
                log::Severity::Info,
                &format!("NOQUEUE: abort: TLS from {PEER}: {reason}"),
            );
        }
    }
    let received = summary.received_clause();
    let transcript = String::from_utf8(transcript.0.lock().unwrap().clone()).unwrap();
    (lines.take(), received, transcript)
}

/// The TLS lines of a golden .log: ours never writes OpenSSL's own state lines
/// (`SSL_accept:...`, session tickets), which have no rustls equivalent; the cipher
/// list is Postfix's own (crate::ciphers).
fn tls_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            l.contains("TLS connection established")
                || l.starts_with("setting up TLS")
                || l.contains(": TLS cipher list \"")
                || l.contains(": subject_CN=")
                || l.starts_with("certificate verification failed")
                || l.starts_with("NOQUEUE: abort: TLS")
                || l.starts_with("initializing the server-side TLS")
        })
        .map(str::to_string)
        .collect()
}

/// The TLS clauses of a golden .received: between the first fold and `by`.
fn received_clause(received: &str) -> String {
    let start = received.find("\\n\t").unwrap() + 3;
    let end = received.find("\\n\tby ").unwrap();
    received[start..end].replace("\\n", "\n")
}

#[test]
fn log_lines_and_received_clauses_match_postfix() {
    for case in CASES {
        let (lines, received, transcript) = run(case);
        let want_log = tls_lines(&read_golden(&format!("{}.log", case.name)));
        assert_eq!(lines, want_log, "{}", case.name);
        // Sessions that smtpd aborts queue no message: no Received: header.
        if !case.req_ccert {
            let want = received_clause(&read_golden(&format!("{}.received", case.name)));
            assert_eq!(received, want, "{}", case.name);
        }
        let plain = if case.wrapper {
            ""
        } else {
            "> 220 golden.example ESMTP\r\n< STARTTLS\r\n> 220 2.0.0 Ready to start TLS\r\n"
        };
        assert_eq!(
            transcript,
            format!("{plain}< EHLO client.example\r\n> 250 golden.example\r\n"),
            "{}",
            case.name
        );
    }
}

#[test]
fn broken_files_get_postfix_warnings() {
    let pair = |c: &str, k: &str| CertKeyFiles {
        cert_file: cert(c),
        key_file: cert(k),
        ..Default::default()
    };
    let chain = |f: &str| CertKeyFiles {
        chain_files: vec![cert(f)],
        ..Default::default()
    };
    let may = |files| ServerSettings {
        level: SecurityLevel::May,
        files,
        ..Default::default()
    };
    let bad_digest = ServerSettings {
        fingerprint_digest: "bogus".into(),
        ..may(pair("rsa.pem", "rsa.key"))
    };
    for (name, settings) in [
        ("broken-key", may(pair("rsa.pem", "broken.key"))),
        ("broken-cert", may(pair("broken.pem", "rsa.key"))),
        ("missing-key", may(pair("rsa.pem", "missing.key"))),
        ("missing-cert", may(pair("missing.pem", "rsa.key"))),
        ("broken-chain", may(chain("broken.key"))),
        ("bad-digest", bad_digest),
        ("mismatched-key", may(pair("rsa.pem", "client.key"))),
        (
            "broken-cafile",
            ServerSettings {
                ca_file: cert("broken.pem"),
                ..may(pair("rsa.pem", "rsa.key"))
            },
        ),
        (
            "missing-cafile",
            ServerSettings {
                ca_file: cert("missing.pem"),
                ..may(pair("rsa.pem", "rsa.key"))
            },
        ),
        (
            "bad-protocols",
            ServerSettings {
                protocols: "TLSv9".into(),
                ..may(pair("rsa.pem", "rsa.key"))
            },
        ),
    ] {
        let mut lines = Vec::new();
        let tls = ServerTls::new(&settings, &mut |sev, text| {
            lines.push(format!("{}{text}", sev.prefix()))
        });
        assert!(tls.is_none(), "{name}");
        let ours: Vec<String> = lines
            .iter()
            .map(|l| l.replace(&cert(""), &format!("{RECORDED_DIR}/")))
            .filter(|l| !l.starts_with("warning: TLS library problem:"))
            .collect();
        let want: Vec<String> = read_golden(&format!("start-{name}.log"))
            .lines()
            .filter(|l| {
                !l.starts_with("connect from ")
                    && !l.starts_with("disconnect from ")
                    && !l.starts_with("warning: TLS library problem:")
            })
            .map(str::to_string)
            .collect();
        assert_eq!(ours, want, "{name}");
    }
}

/// A handshake that must fail within its 1 s timeout, `client` driving the other end;
/// the server's log lines.
fn failed_handshake(
    case: &Case,
    preface: &[u8],
    client: impl FnOnce(TcpStream) + Send + 'static,
) -> Vec<String> {
    let mut lines = Vec::new();
    let mut collect =
        |sev: log::Severity, text: &str| lines.push(format!("{}{text}", sev.prefix()));
    let server = ServerTls::new(&settings(case), &mut collect).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = std::thread::spawn(move || client(TcpStream::connect(addr).unwrap()));
    let (mut sock, _) = listener.accept().unwrap();
    sock.write_all(preface).unwrap();
    let started = std::time::Instant::now();
    let result = server.accept(sock, (), PEER, Duration::from_secs(1), &mut collect);
    assert!(result.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the timeout bounds the handshake"
    );
    client.join().unwrap();
    lines
}

/// The golden's lines from `SSL_accept error` on, before smtpd's own.
fn failure_lines(name: &str) -> Vec<String> {
    read_golden(&format!("{name}.log"))
        .lines()
        .skip_while(|l| !l.starts_with("SSL_accept error"))
        .take_while(|l| !l.starts_with("lost connection"))
        .map(str::to_string)
        .collect()
}

#[test]
fn no_shared_cipher_is_logged_as_postfix_does() {
    let case = Case {
        name: "tls12-no-shared-cipher",
        version: TLS12,
        suite: CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        scheme: SignatureScheme::ECDSA_NISTP256_SHA256,
        ..BASE
    };
    let config = Arc::new(client_config(&case));
    let lines = failed_handshake(&case, b"", move |sock| {
        let name = ServerName::try_from("mail.example").unwrap();
        let conn = rustls::ClientConnection::new(config, name).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, sock);
        assert!(
            tls.write_all(b"EHLO x\r\n")
                .and_then(|_| tls.flush())
                .is_err()
        );
    });
    assert_protocol_failure(&lines, case.name);
}

/// A handshake that failed on the protocol: Postfix's `SSL_accept error from ...: -1`,
/// then one library line. OpenSSL's error text has no rustls equivalent; the line's
/// start is Postfix's.
fn assert_protocol_failure(lines: &[String], golden: &str) {
    let want = failure_lines(golden);
    assert_eq!(lines[0], want[0]);
    assert!(want[1].starts_with("warning: TLS library problem: "));
    assert!(
        lines[1].starts_with("warning: TLS library problem: "),
        "{lines:?}"
    );
    assert_eq!(lines.len(), want.len());
}

#[test]
fn a_plaintext_client_on_the_wrapper_port_is_logged_as_postfix_does() {
    let case = Case {
        wrapper: true,
        ..BASE
    };
    let lines = failed_handshake(&case, b"", |mut sock| {
        sock.write_all(b"EHLO client.example\r\n").unwrap();
        let _ = sock.read(&mut [0u8; 64]);
    });
    assert_protocol_failure(&lines, "wrapper-plaintext");
}

#[test]
fn a_silent_client_times_out_as_postfix_logs_it() {
    let lines = failed_handshake(&BASE, b"", |sock| {
        std::thread::sleep(Duration::from_millis(1500));
        drop(sock);
    });
    assert_eq!(lines, failure_lines("starttls-timeout"));
}

#[test]
fn a_client_gone_mid_handshake_is_logged_as_postfix_does() {
    // As record.sh's client: it leaves the server's reply unread, sends part of a
    // ClientHello and closes, so the kernel resets the connection.
    let lines = failed_handshake(&BASE, b"220 2.0.0 Ready to start TLS\r\n", |mut sock| {
        std::thread::sleep(Duration::from_millis(100));
        sock.write_all(b"\x16\x03\x01\x00").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        drop(sock);
    });
    assert_eq!(lines, failure_lines("starttls-lost"));
}

#[test]
fn every_golden_file_has_a_test() {
    let used: Vec<String> = CASES
        .iter()
        .flat_map(|c| [format!("{}.log", c.name), format!("{}.received", c.name)])
        .chain(
            [
                "broken-key",
                "broken-cert",
                "missing-key",
                "missing-cert",
                "broken-chain",
                "bad-digest",
                "mismatched-key",
                "broken-cafile",
                "missing-cafile",
                "bad-protocols",
            ]
            .iter()
            .map(|n| format!("start-{n}.log")),
        )
        .chain(
            [
                "wrapper-plaintext.log",
                "tls12-no-shared-cipher.log",
                "starttls-timeout.log",
                "starttls-lost.log",
            ]
            .map(String::from),
        )
        .collect();
    for entry in std::fs::read_dir(golden()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".log") || name.ends_with(".received") {
            assert!(
                used.contains(&name),
                "{name} is recorded but no test reads it"
            );
        }
    }
}

/// Keeps what was read and what was written apart.
#[derive(Clone, Default)]
struct Split(Arc<Mutex<(Vec<u8>, Vec<u8>)>>);

impl Tap for Split {
    fn read(&mut self, data: &[u8]) {
        self.0.lock().unwrap().0.extend_from_slice(data);
    }
    fn written(&mut self, data: &[u8]) {
        self.0.lock().unwrap().1.extend_from_slice(data);
    }
}

#[test]
fn a_megabyte_each_way_passes_the_tap_byte_for_byte() {
    let case = Case {
        wrapper: true,
        ..BASE
    };
    let server = ServerTls::new(&settings(&case), &mut |_, _| {}).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let data: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
    let sent = data.clone();
    let config = Arc::new(client_config(&case));
    let client = std::thread::spawn(move || {
        let sock = TcpStream::connect(addr).unwrap();
        let name = ServerName::try_from("mail.example").unwrap();
        let conn = rustls::ClientConnection::new(config, name).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, sock);
        tls.write_all(&sent).unwrap();
        let mut back = vec![0u8; sent.len()];
        tls.read_exact(&mut back).unwrap();
        assert!(back == sent);
    });
    let (sock, _) = listener.accept().unwrap();
    let tap = Split::default();
    let mut tls = server
        .accept(
            sock,
            tap.clone(),
            PEER,
            Duration::from_secs(10),
            &mut |_, _| {},
        )
        .unwrap();
    tls.set_timeout(Some(Duration::from_secs(10)));
    let mut got = vec![0u8; data.len()];
    tls.read_exact(&mut got).unwrap();
    assert!(got == data);
    tls.write_all(&got).unwrap();
    client.join().unwrap();
    tls.shutdown().unwrap();
    let seen = tap.0.lock().unwrap();
    assert!(seen.0 == data && seen.1 == data);
}
