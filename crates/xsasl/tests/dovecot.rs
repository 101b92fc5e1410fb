//! xsasl against a real Dovecot (Debian's dovecot-core, started privately by the test):
//! PLAIN and LOGIN exchanges, a mechanism Dovecot does not offer, the initial response
//! forms, filtering by the security options, and a server that goes away in the middle
//! of an exchange and comes back. The replies and log texts themselves are checked
//! against Postfix in `golden.rs`.

mod support;

use support::b64;
use support::dovecot::TestDovecot;
use support::new_session;
use xsasl::{Dovecot, Endpoint, Step, Tls};

fn start() -> Option<(TestDovecot, Dovecot)> {
    match TestDovecot::start() {
        Ok(server) => {
            let client = Dovecot::new(Endpoint::new(&server.socket().display().to_string(), None));
            Some((server, client))
        }
        Err(reason) => {
            testkit::skip(reason);
            None
        }
    }
}

fn fail(reason: &str, temporary: bool) -> Step {
    Step::Fail {
        reason: reason.into(),
        temporary,
    }
}

#[test]
fn exchanges() {
    let Some((_server, mut dovecot)) = start() else {
        return;
    };
    let (mut s, mechanisms) = new_session(&mut dovecot, "noanonymous", Tls::None);
    assert_eq!(mechanisms.as_deref(), Some("PLAIN LOGIN CRAM-MD5"));

    let plain = b64(b"\0alice\0secret");
    assert_eq!(
        s.first(&mut dovecot, "PLAIN", Some(&plain)),
        Step::Done("alice".into())
    );
    let wrong = b64(b"\0alice\0wrong");
    assert_eq!(
        s.first(&mut dovecot, "PLAIN", Some(&wrong)),
        fail("", false)
    );
    assert_eq!(s.username(), Some("alice"));

    // No initial response: an empty challenge, then the response.
    assert_eq!(
        s.first(&mut dovecot, "plain", None),
        Step::Continue(String::new())
    );
    assert_eq!(s.next(&mut dovecot, &plain), Step::Done("alice".into()));
    // "=" goes to Dovecot as it is, as Postfix 3.7 sends it, and Dovecot refuses it.
    assert_eq!(s.first(&mut dovecot, "PLAIN", Some("=")), fail("", false));

    // LOGIN: the user name and password challenges.
    assert_eq!(
        s.first(&mut dovecot, "LOGIN", None),
        Step::Continue(b64(b"Username:"))
    );
    assert_eq!(
        s.next(&mut dovecot, &b64(b"alice")),
        Step::Continue(b64(b"Password:"))
    );
    assert_eq!(
        s.next(&mut dovecot, &b64(b"secret")),
        Step::Done("alice".into())
    );
    assert_eq!(
        s.first(&mut dovecot, "LOGIN", Some(&b64(b"alice"))),
        Step::Continue(b64(b"Password:"))
    );
    assert_eq!(s.next(&mut dovecot, &b64(b"wrong")), fail("", false));

    // Not offered, or not base64: refused before Dovecot is asked.
    assert_eq!(
        s.first(&mut dovecot, "DIGEST-MD5", None),
        fail("Invalid authentication mechanism", false)
    );
    assert_eq!(
        s.first(&mut dovecot, "PLAIN", Some("a b")),
        fail("Invalid base64 data in initial response", false)
    );
}

#[test]
fn security_options_filter_mechanisms() {
    let Some((_server, mut dovecot)) = start() else {
        return;
    };
    for (options, tls, want) in [
        ("noanonymous", Tls::None, Some("PLAIN LOGIN CRAM-MD5")),
        // Without TLS, noplaintext hides PLAIN and LOGIN...
        ("noanonymous, noplaintext", Tls::None, Some("CRAM-MD5")),
        // ...and under TLS smtpd passes smtpd_sasl_tls_security_options instead.
        ("noanonymous", Tls::Secured, Some("PLAIN LOGIN CRAM-MD5")),
        ("noplaintext, nodictionary", Tls::None, None),
        ("noactive", Tls::None, Some("PLAIN LOGIN")),
        ("mutual_auth", Tls::None, None),
        ("forward_secrecy", Tls::None, None),
    ] {
        let (mut s, mechanisms) = new_session(&mut dovecot, options, tls);
        assert_eq!(mechanisms.as_deref(), want, "{options}");
        if want == Some("CRAM-MD5") {
            assert_eq!(
                s.first(&mut dovecot, "PLAIN", Some(&b64(b"\0alice\0secret"))),
                fail("Invalid authentication mechanism", false)
            );
        }
    }
}

#[test]
fn a_server_that_goes_away_is_a_temporary_failure() {
    let Some((mut server, mut dovecot)) = start() else {
        return;
    };
    let (mut s, _) = new_session(&mut dovecot, "noanonymous", Tls::Secured);
    assert_eq!(
        s.first(&mut dovecot, "LOGIN", None),
        Step::Continue(b64(b"Username:"))
    );
    server.stop();
    let lost = fail("Connection lost to authentication server", true);
    assert_eq!(s.next(&mut dovecot, &b64(b"alice")), lost);
    // While it is away a new exchange cannot connect; the reply keeps the last text,
    // as Postfix's buffer does.
    assert_eq!(
        s.first(&mut dovecot, "PLAIN", Some(&b64(b"\0alice\0secret"))),
        lost
    );
    server.restart().unwrap();
    assert_eq!(
        s.first(&mut dovecot, "PLAIN", Some(&b64(b"\0alice\0secret"))),
        Step::Done("alice".into())
    );
}
