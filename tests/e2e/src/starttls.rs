//! Scripted STARTTLS servers for the SMTP client's TLS tests (t-49's security levels
//! and policy table, t-61's DANE): several listeners in one Python process
//! (starttls.py), each with its certificate, offering STARTTLS or not, and a transcript
//! of the MAIL and RCPT commands each received and whether the session was encrypted,
//! for the differential tests to compare. No Postfix counterpart: these stand for the
//! remote servers.

use crate::child::KillOnDrop;
use std::path::Path;
use std::process::{Command, Stdio};

/// The server's Python source.
const SERVER: &str = include_str!("starttls.py");

/// A file of crates/tls's test certificates (tests/golden/certs): the CA, chains, keys.
pub fn test_cert(name: &str) -> String {
    format!(
        "{}/../../crates/tls/tests/golden/certs/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A self-signed certificate for `name` (its CN and subjectAltName) with a new RSA key,
/// written to `dir`/self.pem and self.key: a server no CA vouches for. The files' paths.
pub fn self_signed(dir: &Path, name: &str) -> (String, String) {
    let (pem, key) = (dir.join("self.pem"), dir.join("self.key"));
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
        ])
        .args(["-subj", &format!("/CN={name}"), "-addext"])
        .arg(format!("subjectAltName=DNS:{name}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&pem)
        .output()
        .expect("openssl");
    assert!(out.status.success(), "{out:?}");
    (pem.display().to_string(), key.display().to_string())
}

/// One listener of `start`.
pub struct Listener<'a> {
    /// What its transcript lines start with.
    pub label: &'a str,
    /// The address it listens on.
    pub addr: &'a str,
    /// Its port.
    pub port: u16,
    /// `tls`, `tls12` (TLS 1.2 at most) or `plain` (no STARTTLS).
    pub mode: &'a str,
    /// Its certificate chain file (unused when plain).
    pub cert: &'a str,
    /// Its key file (unused when plain).
    pub key: &'a str,
}

/// Starts the `listeners`, which greet as `name`, writing to `transcript` one line
/// "LABEL tls|plain COMMAND" for each MAIL and RCPT; returns once all listen. The
/// servers stop when the value is dropped.
#[track_caller]
pub fn start(transcript: &Path, name: &str, listeners: &[Listener]) -> KillOnDrop {
    let specs = listeners.iter().map(|l| {
        format!(
            "{}:{}:{}:{}:{}:{}",
            l.label, l.addr, l.port, l.mode, l.cert, l.key
        )
    });
    crate::child::spawn_ready(
        Command::new("python3")
            .args(["-c", SERVER])
            .arg(transcript)
            .arg(name)
            .args(specs)
            .stderr(Stdio::null()),
    )
    .expect("the scripted servers did not start")
}

/// Whether openssl, with which the tests make their own certificates and digests,
/// runs here; when it does not, the calling test is skipped and should return.
#[track_caller]
pub fn openssl_runs() -> bool {
    let runs = Command::new("openssl").arg("version").output().is_ok();
    if !runs {
        testkit::skip("openssl is not installed");
    }
    runs
}
