//! t-55: saved session transcripts (an ironpost extension, issue 13): smtpd's for the
//! clients in smtpd_transcript_peer_list, the SMTP client's for the servers in
//! smtp_transcript_peer_list.
//!
//! Inbound: Python clients ([`client.py`]) from 127.0.0.1 (listed) use STARTTLS and AUTH
//! (LOGIN through 334 exchanges, PLAIN with an initial response) against a private
//! Dovecot (alice, secret), or send BDAT chunks; a client from 127.0.0.2 is not listed.
//! The transcript must hold the dialogue after STARTTLS with the TLS summary, never the
//! credentials, the headers but not the body (transcript_content = headers), BDAT chunk
//! sizes; the file is named with the queue id, mode 0600, owned by mail_owner, and an
//! info line `ID: transcript=path` names it, which posttrace's timeline explains and
//! `posttrace -t ID` prints. transcript_maxfiles bounds the count.
//! Outbound: the SMTP client sends to a STARTTLS next hop ([`sink.py`]); its transcript
//! holds the commands after the handshake, the message's queue id in its name. A
//! chrooted smtpd saves its transcripts in the default directory too, and a session's
//! file (`.part`) has its lines before the session ends.

use e2e::child::KillOnDrop;
use e2e::{Instance, dovecot, howto_doc, wait_until};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The test certificates of crates/tls.
fn cert(name: &str) -> String {
    format!(
        "{}/../../crates/tls/tests/golden/certs/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn script(name: &str) -> String {
    format!("{}/t-55-transcript/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs client.py in `mode` from `source`; its last reply.
fn client(instance: &Instance, mode: &str, source: &str) -> String {
    let out = Command::new("python3")
        .arg(script("client.py"))
        .args([&instance.smtp_port.to_string(), mode, source])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "client {mode}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        instance.log()
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The queue id of a `250 2.0.0 Ok: queued as ID` reply.
fn queue_id(reply: &str) -> String {
    reply
        .rsplit(' ')
        .next()
        .expect("queued as")
        .trim()
        .to_string()
}

fn transcripts(instance: &Instance) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(instance.dir.join("queue/transcript"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The one finished transcript whose name has `id`.
fn transcript_of(instance: &Instance, id: &str) -> (PathBuf, String) {
    let mut found = None;
    let done = wait_until(10, || {
        found = transcripts(instance).into_iter().find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.contains(id) && !name.ends_with(".part")
        });
        found.is_some()
    });
    assert!(
        done,
        "no transcript for {id}: {:?}\n{}",
        transcripts(instance),
        instance.log()
    );
    let path = found.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    (path, text)
}

fn postfix_uid() -> u32 {
    let out = Command::new("id").args(["-u", "postfix"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// The part of `text` after its first line containing `marker`.
fn after<'a>(text: &'a str, marker: &str) -> &'a str {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in:\n{text}"));
    &text[at..]
}

#[test]
fn inbound_sessions_of_listed_clients_are_saved_redacted() {
    let dovecot = match dovecot::TestDovecot::start() {
        Ok(d) => d,
        Err(why) => return testkit::skip(&why),
    };
    let Some(mut instance) = Instance::new("t55-in") else {
        return;
    };
    let socket = dovecot.socket().display().to_string();
    for (name, value) in [
        ("smtpd_tls_cert_file", cert("rsa.pem")),
        ("smtpd_tls_key_file", cert("rsa.key")),
        ("smtpd_tls_security_level", "may".into()),
        ("smtpd_sasl_auth_enable", "yes".into()),
        ("smtpd_sasl_type", "dovecot".into()),
        ("smtpd_sasl_path", socket),
        ("smtpd_transcript_peer_list", "127.0.0.1".into()),
    ] {
        instance.set_main_cf(name, &value);
    }
    instance.start();

    // AUTH LOGIN: user name and password each answer a 334.
    let reply = client(&instance, "login", "127.0.0.1");
    assert!(reply.starts_with("250"), "{reply}");
    let id = queue_id(&reply);
    let (path, text) = transcript_of(&instance, &id);
    let inside = after(&text, "* TLS: TLSv1.");
    assert!(inside.contains("< ehlo client.example"), "{text}");
    assert!(inside.contains("< AUTH LOGIN"), "{text}");
    assert!(inside.contains("< [SASL response, "), "{text}");
    assert!(
        inside.contains("> 235 2.7.0 Authentication successful"),
        "{text}"
    );
    // smtplib writes its commands in lower case.
    assert!(inside.contains("< mail FROM:<alice@example.org>"), "{text}");
    assert!(inside.contains("< Subject: t-55 login"), "{text}");
    assert!(inside.contains(&format!("queued as {id}")), "{text}");
    for secret in ["secret", "c2VjcmV0", "YWxpY2U=", "the body stays private"] {
        assert!(!text.contains(secret), "{secret:?} kept:\n{text}");
    }
    assert!(
        text.contains("* message content not kept: 2 lines"),
        "{text}"
    );
    // Each line: time of day, a direction, the text.
    for line in text.lines() {
        let (time, rest) = line.split_at(12);
        assert!(
            time.as_bytes()[2] == b':' && time.as_bytes()[8] == b'.',
            "{line}"
        );
        assert!(
            rest.starts_with(" < ") || rest.starts_with(" > ") || rest.starts_with(" * "),
            "{line}"
        );
    }
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.uid(), postfix_uid(), "not mail_owner's");
    let shown = format!(
        "{id}: transcript={}",
        path.display().to_string().replace("//", "/")
    );
    instance.wait_log(&shown, 10);
    // posttrace: the timeline points at it, -t prints it.
    let out = instance.command("posttrace", &[&id]);
    let timeline = String::from_utf8_lossy(&out.stdout);
    assert!(
        timeline.contains("smtpd saved the SMTP session's transcript in"),
        "{timeline}"
    );
    let out = instance.command("posttrace", &["-t", &id]);
    assert!(out.status.success(), "{out:?}");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.starts_with("==> "), "{shown}");
    assert!(shown.contains(text.as_str()), "{shown}");
    assert_eq!(shown.matches("==> ").count(), 1, "{shown}");
    // Without the EHLO replies' continuation lines, which only make it long.
    let (_, shown) = howto_doc::shell(&instance, &format!("posttrace -t {id} | grep -v '> 250-'"));
    howto_doc::check("transcript", &howto_doc::Context::of(&instance), &shown);
    let out = instance.command("posttrace", &["-t", "ABCDEF12345"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");

    // AUTH PLAIN with its initial response (alice's password inside).
    let reply = client(&instance, "plain", "127.0.0.1");
    let (_, text) = transcript_of(&instance, &queue_id(&reply));
    assert!(
        text.contains("< AUTH PLAIN [initial response, 20 bytes, not kept]"),
        "{text}"
    );
    assert!(!text.contains("AGFsaWNlAHNlY3JldA"), "{text}");

    // BDAT: the chunk sizes, the headers across the chunk boundary.
    let reply = client(&instance, "bdat", "127.0.0.1");
    assert!(reply.starts_with("250"), "{reply}");
    let (_, text) = transcript_of(&instance, &queue_id(&reply));
    assert!(text.contains("* BDAT chunk of 40 bytes\n"), "{text}");
    assert!(text.contains("bytes, the last\n"), "{text}");
    assert!(text.contains("< Subject: t-55 bdat"), "{text}");
    assert!(!text.contains("the body stays private"), "{text}");

    // A client not listed leaves nothing.
    let before = transcripts(&instance).len();
    let reply = client(&instance, "bdat", "127.0.0.2");
    assert!(reply.starts_with("250"), "{reply}");
    instance.wait_log(&format!("{}: removed", queue_id(&reply)), 20);
    assert_eq!(
        transcripts(&instance).len(),
        before,
        "{:?}",
        transcripts(&instance)
    );

    // transcript_maxfiles: the oldest go.
    instance.set_main_cf("transcript_maxfiles", "2");
    instance.postfix(&["reload"]);
    instance.wait_log("reload -- version", 10);
    let mut last = String::new();
    for _ in 0..3 {
        last = queue_id(&client(&instance, "bdat", "127.0.0.1"));
    }
    transcript_of(&instance, &last);
    let left = transcripts(&instance);
    assert!(left.len() <= 2, "{left:?}");
}

#[test]
fn outbound_sessions_to_listed_servers_are_saved() {
    let Some(mut instance) = Instance::new("t55-out") else {
        return;
    };
    let _sink = KillOnDrop(
        Command::new("python3")
            .arg(script("sink.py"))
            .arg(instance.sink_port.to_string())
            .args([cert("rsa.pem"), cert("rsa.key")])
            .stdout(Stdio::null())
            .spawn()
            .expect("python3"),
    );
    wait_until(5, || {
        std::net::TcpStream::connect(("127.0.0.1", instance.sink_port)).is_ok()
    });
    instance.set_main_cf("smtp_tls_security_level", "may");
    instance.set_main_cf("smtp_transcript_peer_list", "127.0.0.1");
    instance.start();
    instance
        .send(
            instance.smtp_port,
            "alice@example.org",
            "bob@relay.e2e.test",
            "t55out",
        )
        .unwrap();
    instance.wait_log("status=sent", 30);
    let log = instance.log();
    let id = log
        .lines()
        .find(|l| l.contains("status=sent"))
        .and_then(|l| l.split(": ").nth(1))
        .unwrap()
        .to_string();
    let (path, text) = transcript_of(&instance, &id);
    assert!(
        path.to_string_lossy().contains("_smtp_127.0.0.1_"),
        "{path:?}"
    );
    let inside = after(&text, "* TLS: TLSv1.");
    assert!(inside.contains("< EHLO "), "{text}");
    assert!(inside.contains("< MAIL FROM:<alice@example.org>"), "{text}");
    assert!(inside.contains("< RCPT TO:<bob@relay.e2e.test>"), "{text}");
    assert!(inside.contains("< Subject: t55out"), "{text}");
    assert!(!inside.contains("body t55out"), "{text}");
    assert!(inside.contains("> 250 2.0.0 Ok: queued as SINK1"), "{text}");
    assert!(text.contains("< STARTTLS"), "{text}");
    instance.wait_log(&format!("{id}: transcript="), 10);
}

/// A chrooted smtpd (its root is queue_directory) reaches the default directory too.
#[test]
fn a_chrooted_smtpd_saves_its_transcripts() {
    let Some(mut instance) = Instance::new("t55-chroot") else {
        return;
    };
    instance.replace_master_cf_line(
        |l| l.contains(" inet "),
        "127.0.0.1:@SMTP_PORT@ inet n - y - - smtpd",
    );
    instance.set_main_cf("smtpd_transcript_peer_list", "127.0.0.1");
    instance.start();
    let reply = client(&instance, "bdat", "127.0.0.1");
    assert!(reply.starts_with("250"), "{reply}");
    let (path, text) = transcript_of(&instance, &queue_id(&reply));
    assert!(text.contains("< Subject: t-55 bdat"), "{text}");
    assert_eq!(std::fs::metadata(&path).unwrap().uid(), postfix_uid());

    // Written as the session goes: the .part file has the EHLO before the session ends.
    use std::io::{BufRead, BufReader, Write};
    let mut socket = std::net::TcpStream::connect(("127.0.0.1", instance.smtp_port)).unwrap();
    let mut replies = BufReader::new(socket.try_clone().unwrap());
    let mut line = String::new();
    replies.read_line(&mut line).unwrap();
    socket.write_all(b"HELO partial.example\r\n").unwrap();
    replies.read_line(&mut line).unwrap();
    let part = transcripts(&instance)
        .into_iter()
        .find(|p| p.to_string_lossy().ends_with(".part"))
        .expect("a .part file while the session runs");
    let so_far = std::fs::read_to_string(&part).unwrap();
    assert!(so_far.contains("< HELO partial.example"), "{so_far}");
    socket.write_all(b"QUIT\r\n").unwrap();
    replies.read_line(&mut line).unwrap();
    drop(socket);
    // Chrooted without a prepared jail, smtpd cannot name the client.
    instance.wait_log("transcript of unknown[127.0.0.1]: ", 10);
}
