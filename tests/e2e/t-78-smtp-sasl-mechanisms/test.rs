//! SASL mechanisms of the SMTP client beyond PLAIN and LOGIN: the same mail through
//! Postfix 3.7's smtp (Debian's, with Cyrus SASL) and through ironpost's, to scripted
//! servers (server.py) that check what the client proves against a known password.
//! One offers `CRAM-MD5 PLAIN LOGIN`, one `SCRAM-SHA-256 PLAIN` (the server side of
//! RFC 5802/7677 in Python), one of those signs its server-final message wrongly.
//! Under the default smtp_sasl_security_options (noplaintext, noanonymous) and under
//! noanonymous alone, both clients choose the same mechanism (CRAM-MD5 and
//! SCRAM-SHA-256, even where PLAIN is allowed), say the same things in the exchange,
//! and end with the same delivery status lines and warnings: sent with the right
//! password; deferred with the server's 535 for a wrong one; deferred with Cyrus's
//! "authentication failure" when the server's signature does not check out. A server
//! that answers PLAIN's initial response with a challenge gets Cyrus's complaint
//! about a step after the end and a deferral with "generic failure".

use e2e::{free_port, wait_until};
use std::process::{Child, Command, Stdio};

const SERVER: &str = include_str!("server.py");

fn server(port: u16, transcript: &std::path::Path, mode: &str) -> Child {
    let child = Command::new("python3")
        .args(["-c", SERVER, &port.to_string()])
        .arg(transcript)
        .arg(mode)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    wait_until(5, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    child
}

/// The servers: name (also the relay domain's first label), mode, and the password
/// the client has for it.
const SERVERS: [(&str, &str, &str); 6] = [
    ("cram", "cram", "secret"),
    ("crambad", "cram", "wrong"),
    ("scram", "scram", "secret"),
    ("scrambad", "scram", "wrong"),
    ("scramsig", "scrambadsig", "secret"),
    ("plainchallenge", "plainchallenge", "secret"),
];

/// Deliveries: the recipient's domain picks the server; "noanon" ones go through a
/// service with smtp_sasl_security_options = noanonymous.
const CASES: [(&str, &str); 8] = [
    ("a@cram.e2e.test", "status=sent"),
    ("b@crambad.e2e.test", "status=deferred"),
    ("c@scram.e2e.test", "status=sent"),
    ("d@scrambad.e2e.test", "status=deferred"),
    ("e@scramsig.e2e.test", "status=deferred"),
    ("f@noanoncram.e2e.test", "status=sent"),
    ("g@noanonscram.e2e.test", "status=sent"),
    ("h@noanonplain.e2e.test", "status=deferred"),
];

/// The smtp status lines and warnings, and each server's transcript.
fn run(ours: bool) -> Option<(Vec<String>, Vec<String>)> {
    let mut mx = e2e::client::instance("t-78", ours, "smtp")?;
    let ports: Vec<u16> = SERVERS.iter().map(|_| free_port()).collect();
    let domains: Vec<String> = SERVERS
        .iter()
        .map(|(name, _, _)| format!("{name}.e2e.test"))
        .chain(["noanoncram", "noanonscram", "noanonplain"].map(|d| format!("{d}.e2e.test")))
        .collect();
    mx.set_main_cf("relay_domains", &domains.join(", "));
    mx.set_main_cf("smtp_sasl_auth_enable", "yes");
    mx.set_main_cf("smtp_sasl_password_maps", "texthash:@DIR@/etc/sasl_passwd");
    let mut passwords = String::new();
    let mut transport = String::new();
    for ((name, _, password), port) in SERVERS.iter().zip(&ports) {
        passwords += &format!("[127.0.0.1]:{port} good:{password}\n");
        transport += &format!("{name}.e2e.test smtp:[127.0.0.1]:{port}\n");
    }
    transport += &format!(
        "noanoncram.e2e.test smtpnoanon:[127.0.0.1]:{}\nnoanonscram.e2e.test smtpnoanon:[127.0.0.1]:{}\n\
         noanonplain.e2e.test smtpnoanon:[127.0.0.1]:{}\n",
        ports[0], ports[2], ports[5]
    );
    mx.write("etc/sasl_passwd", &passwords);
    mx.write("etc/transport", &transport);
    let master = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write(
        "etc/master.cf",
        &format!(
            "{master}smtpnoanon unix - - n - - smtp -o smtp_sasl_security_options=noanonymous\n"
        ),
    );
    let transcripts: Vec<_> = SERVERS
        .iter()
        .map(|(name, _, _)| mx.dir.join(format!("sink/{name}.transcript")))
        .collect();
    let mut servers: Vec<Child> = SERVERS
        .iter()
        .zip(&ports)
        .zip(&transcripts)
        .map(|(((_, mode, _), port), transcript)| server(*port, transcript, mode))
        .collect();
    mx.start();
    for (n, (to, want)) in CASES.iter().enumerate() {
        e2e::client::send_and_wait(&mx, to, &format!("t78-{n}"), want, |l| {
            l.contains("postfix/smtp[")
        });
    }
    for s in &mut servers {
        let _ = s.kill();
        let _ = s.wait();
    }
    // The servers' ports by name (the first one's, by message(), as PORT).
    let mask = |line: &str| {
        let mut out = line.to_string();
        for ((name, _, _), port) in SERVERS.iter().zip(&ports) {
            out = out.replace(&format!("]:{port}"), &format!("]:{}", name.to_uppercase()));
        }
        out
    };
    let mut status: Vec<String> = mx
        .log()
        .lines()
        .filter(|l| {
            l.contains("postfix/smtp[") && (l.contains(" to=<") || l.contains(" warning: "))
        })
        .filter_map(|l| e2e::client::message(l, ports[0]))
        .map(|m| mask(&m))
        .collect();
    status.sort();
    let dialogue = SERVERS
        .iter()
        .zip(&transcripts)
        .flat_map(|((name, _, _), transcript)| {
            std::fs::read_to_string(transcript)
                .unwrap_or_default()
                .lines()
                .map(|l| format!("{name}: {l}"))
                .collect::<Vec<_>>()
        })
        .collect();
    Some((status, dialogue))
}

#[test]
fn mechanisms_equal_postfix() {
    let Some((postfix_status, postfix_dialogue)) = run(false) else {
        return;
    };
    let Some((status, dialogue)) = run(true) else {
        return;
    };
    // Postfix's own run shows what this test is about: CRAM-MD5 and SCRAM-SHA-256
    // chosen (never PLAIN), right and wrong passwords told apart by the servers.
    for want in [
        "cram: AUTH CRAM-MD5",
        "cram: CRAM-MD5 response from good: right",
        "crambad: CRAM-MD5 response from good: wrong",
        "scram: AUTH SCRAM-SHA-256 with initial response",
        "scram: SCRAM proof: right",
        "scrambad: SCRAM proof: wrong",
    ] {
        assert!(
            postfix_dialogue.iter().any(|l| l == want),
            "{want}\n{postfix_dialogue:#?}"
        );
    }
    assert!(
        !postfix_dialogue
            .iter()
            .any(|l| l.contains("AUTH PLAIN") && !l.starts_with("plainchallenge:")),
        "{postfix_dialogue:#?}"
    );
    for want in [
        "SASL authentication failed; server",
        "warning: SASL authentication failure: ServerSignature mismatch",
        "warning: SASL authentication problem: attempting client step after doneflag",
        "cannot authenticate to server 127.0.0.1[127.0.0.1]: generic failure",
        "cannot authenticate to server",
    ] {
        assert!(
            postfix_status.iter().any(|l| l.contains(want)),
            "{want}\n{postfix_status:#?}"
        );
    }
    assert_eq!(status, postfix_status);
    assert_eq!(dialogue, postfix_dialogue);
}
