//! Test support: a private Dovecot ([`dovecot`]), a recording proxy in front of an auth
//! socket that can also stand in for server behaviours ([`proxy`]), and base64 for
//! building responses ([`b64`]).
#![allow(dead_code)]

pub mod dovecot;
pub mod proxy;

use xsasl::{Dovecot, Session, SessionArgs, Tls};

/// A session for a client on 127.0.0.1 as smtpd sets one up (at the start, and again
/// after STARTTLS with the TLS security options), with the mechanisms for its EHLO.
pub fn new_session(dovecot: &mut Dovecot, options: &str, tls: Tls) -> (Session, Option<String>) {
    let mut session = Session::new(&SessionArgs {
        client_addr: "127.0.0.1",
        server_addr: "127.0.0.1",
        service: "smtp",
        security_options: options,
        tls,
    })
    .unwrap();
    let mechanisms = session.mechanisms(dovecot);
    (session, mechanisms)
}

/// Standard base64 with padding, for test responses.
pub fn b64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 decoding; `None` for anything malformed.
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = bits << 6 | v as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
}

#[test]
fn base64_round_trip() {
    for data in [&b""[..], b"a", b"ab", b"abc", b"\0alice\0secret"] {
        assert_eq!(unb64(&b64(data)).unwrap(), data);
    }
    assert_eq!(b64(b"\0alice\0secret"), "AGFsaWNlAHNlY3JldA==");
}
