//! The client's DANE checks against a rustls server on loopback that presents
//! crates/tls's test chain (mail.example, signed by the test CA): DANE-EE records of
//! the key and of the certificate, a wrong digest, DANE-TA records of the CA with the
//! certificate's name among the DANE names and without it, and half-dane. What is
//! checked: the session's trust and the lines Postfix logs for each (the expected
//! texts are those Postfix 3.7 logs in e2e t-61).

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tls::{ClientLevel, ClientSettings, ClientTls, Dane, Digest, StartProps, Tlsa, Trust};

fn cert(name: &str) -> String {
    format!("{}/tests/golden/certs/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// How long either side waits for the other: a failure on one side must end the test,
/// not leave the other side blocked.
const PATIENCE: Duration = Duration::from_secs(30);

fn der_certs(name: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(cert(name))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A TLS server for one handshake on a loopback port.
fn server() -> (u16, std::thread::JoinHandle<()>) {
    let chain = der_certs("rsa-chain.pem");
    let key = PrivateKeyDer::from_pem_file(cert("rsa.key")).unwrap();
    // The ring provider, as the engine's.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let handle = std::thread::spawn(move || {
        // A client that failed before connecting never comes: give up then.
        let deadline = Instant::now() + PATIENCE;
        let mut sock = loop {
            match listener.accept() {
                Ok((sock, _)) => break sock,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() > deadline {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        sock.set_nonblocking(false).unwrap();
        sock.set_read_timeout(Some(PATIENCE)).unwrap();
        sock.set_write_timeout(Some(PATIENCE)).unwrap();
        let mut conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
        while conn.is_handshaking() {
            if conn.complete_io(&mut sock).is_err() {
                return;
            }
        }
        let _ = conn.complete_io(&mut sock);
    });
    (port, handle)
}

/// One handshake at `level` with `dane`; the trust and the lines logged.
fn connect(level: ClientLevel, dane: &Dane, loglevel: i32) -> (Trust, Vec<String>) {
    let (port, server) = server();
    let lines = Mutex::new(Vec::new());
    let mut log = |severity: log::Severity, text: &str| {
        let prefix = if severity == log::Severity::Warning {
            "warning: "
        } else {
            ""
        };
        lines.lock().unwrap().push(format!("{prefix}{text}"));
    };
    let settings = ClientSettings {
        loglevel,
        fingerprint_digest: Digest::Sha256,
        ..ClientSettings::default()
    };
    let engine = ClientTls::new(&settings, &mut log).unwrap();
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(PATIENCE)).unwrap();
    sock.set_write_timeout(Some(PATIENCE)).unwrap();
    let matches = Vec::new();
    let props = StartProps {
        level,
        peer: "mail.example[127.0.0.1]:25",
        host: "mail.example",
        nexthop: "example.test",
        matches: &matches,
        protocols: "",
        cipher_grade: "medium",
        cipher_exclusions: "",
        servername: &dane.base_domain,
        dane: Some(dane),
        log_untrusted: true,
    };
    let stream = engine.connect(sock, &props, &mut log).unwrap();
    let trust = stream.summary().trust;
    drop(stream);
    let _ = server.join();
    let lines = lines.into_inner().unwrap();
    // The lines about the certificate; the engine's and the handshake's others are
    // tested elsewhere.
    let lines = lines
        .into_iter()
        .filter(|l| {
            ["Matched DANE", "matched peername", "verification failed"]
                .iter()
                .any(|w| l.contains(w))
        })
        .collect();
    (trust, lines)
}

fn dane(names: &[&str], tlsa: Vec<Tlsa>) -> Dane {
    Dane {
        base_domain: names[0].to_string(),
        tlsa,
        names: names.iter().map(|n| n.to_string()).collect(),
    }
}

#[test]
fn end_entity_records() {
    let leaf = der_certs("rsa.pem").remove(0);
    let spki = tls::der::parse_cert(&leaf).unwrap().spki;
    let ee_key = Tlsa::new(3, 1, 1, Digest::Sha256.digest(&spki));
    let ee_cert = Tlsa::new(3, 0, 2, Digest::Sha512.digest(&leaf));
    let (trust, lines) = connect(
        ClientLevel::Dane,
        &dane(&["other.test"], vec![ee_key.clone()]),
        2,
    );
    // DANE-EE needs no name.
    assert_eq!(trust, Trust::Verified);
    assert_eq!(
        lines,
        [format!(
            "mail.example[127.0.0.1]:25: Matched DANE EE certificate at depth 0: 3 1 1 {}",
            tls::dane::dump(&ee_key.data)
        )]
    );
    let (trust, _) = connect(ClientLevel::Dane, &dane(&["other.test"], vec![ee_cert]), 1);
    assert_eq!(trust, Trust::Verified);
    let (trust, lines) = connect(
        ClientLevel::HalfDane,
        &dane(&["other.test"], vec![ee_key]),
        1,
    );
    assert_eq!(trust, Trust::Trusted);
    assert!(lines.is_empty(), "{lines:?}");
    let wrong = Tlsa::new(3, 1, 1, vec![0; 32]);
    let (trust, lines) = connect(ClientLevel::Dane, &dane(&["mail.example"], vec![wrong]), 1);
    assert_eq!(trust, Trust::Untrusted);
    assert_eq!(
        lines,
        [
            "server certificate verification failed for mail.example[127.0.0.1]:25: num=65:no matching DANE TLSA records"
        ]
    );
}

#[test]
fn trust_anchor_records() {
    let ca = der_certs("ca.pem").remove(0);
    let ta = Tlsa::new(2, 0, 1, Digest::Sha256.digest(&ca));
    let (trust, lines) = connect(
        ClientLevel::Dane,
        &dane(&["mail.example", "example.test"], vec![ta.clone()]),
        2,
    );
    assert_eq!(trust, Trust::Verified);
    assert_eq!(
        lines,
        [
            "mail.example[127.0.0.1]:25: matched peername: mail.example".to_string(),
            format!(
                "mail.example[127.0.0.1]:25: Matched DANE TA certificate at depth 1: 2 0 1 {}",
                tls::dane::dump(&ta.data)
            )
        ]
    );
    let (trust, lines) = connect(
        ClientLevel::Dane,
        &dane(&["mx.example.test", "example.test"], vec![ta]),
        1,
    );
    assert_eq!(trust, Trust::Untrusted);
    assert_eq!(
        lines,
        [
            "server certificate verification failed for mail.example[127.0.0.1]:25: num=62:hostname mismatch"
        ]
    );
}
