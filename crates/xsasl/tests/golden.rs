//! The goldens in `tests/golden/`, recorded from Postfix 3.7.11's smtpd with
//! smtpd_sasl_type = dovecot (see `golden/record.py`), replayed through xsasl against the
//! same test Dovecot behind the same recording proxy. For each case, a small stand-in for
//! smtpd drives a [`Session`] as Postfix's `smtpd_sasl_authenticate()` does and prints
//! with [`xsasl::text`]; then:
//!
//! - the AUTH keyword of EHLO, and every reply to AUTH and to the responses after it,
//!   equal Postfix's;
//! - the SASL log lines (the failure and abort warnings, the protocol warnings, the
//!   `client=` line's SASL part) equal Postfix's, in order;
//! - the auth protocol lines smtpd sent and got equal Postfix's, request ids renumbered
//!   and handshakes (reconnections) marked as record.py does; the handshake's own lines
//!   equal `handshake.dovecot`.
//!
//! One difference is on purpose (see `session.rs`): Dovecot's `temp` flag gives 454,
//! where Postfix 3.7 answers 535; [`DIFFERENCES`] lists the lines, and each must be in the
//! golden.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::dovecot::TestDovecot;
use support::new_session;
use support::proxy::Proxy;
use xsasl::{Dovecot, Endpoint, Step, Tls, text};

const NAMADDR: &str = "localhost[127.0.0.1]";

/// (case, Postfix 3.7's line, ours) for the differences on purpose.
const DIFFERENCES: [(&str, &str, &str); 2] = [
    (
        "tempfail",
        "535 5.7.8 Error: authentication failed: (reason unavailable)",
        "454 4.7.0 Temporary authentication failure: (reason unavailable)",
    ),
    (
        "tempfail",
        // The log line is the same for both replies; listed so the case's log is checked.
        "warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=tempfail",
        "warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: (reason unavailable), sasl_username=tempfail",
    ),
];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read(path)
        .map(|b| {
            String::from_utf8_lossy(&b)
                .lines()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The replies in a .ref file, each as its lines.
fn reply_groups(lines: &[String]) -> Vec<Vec<String>> {
    let mut groups = Vec::new();
    let mut group = Vec::new();
    for line in lines {
        group.push(line.clone());
        let b = line.as_bytes();
        if b.len() >= 3 && b[..3].iter().all(u8::is_ascii_digit) && b.get(3) != Some(&b'-') {
            groups.push(std::mem::take(&mut group));
        }
    }
    groups
}

/// The case's main.cf settings.
fn settings(name: &str) -> Vec<(String, String)> {
    read_lines(&golden_dir().join(format!("{name}.cf")))
        .iter()
        .filter_map(|l| l.split_once(" = "))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The log lines the comparison looks at.
fn sasl_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l.contains("SASL") || l.contains("sasl_") || l.contains("Dovecot"))
        .cloned()
        .collect()
}

/// record.py's renumber(): request ids from 1, handshakes marked.
fn renumber(lines: Vec<String>) -> (Vec<String>, Vec<String>) {
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    let (mut out, mut handshake) = (Vec::new(), Vec::new());
    for line in lines {
        let (dir, rest) = line.split_at(2);
        let mut f: Vec<String> = rest.split('\t').map(str::to_string).collect();
        if ["VERSION", "CPID", "MECH", "SPID", "CUID", "COOKIE", "DONE"].contains(&f[0].as_str()) {
            if ["CPID", "SPID", "CUID", "COOKIE"].contains(&f[0].as_str()) {
                f.truncate(1);
                f.push("X".into());
            }
            let line = format!("{dir}{}", f.join("\t"));
            if line.starts_with("> VERSION") {
                out.push("> (handshake)".to_string());
            }
            handshake.push(line);
            continue;
        }
        if ["AUTH", "CONT", "OK", "FAIL"].contains(&f[0].as_str()) && f.len() > 1 {
            let next = ids.len() + 1;
            f[1] = ids.entry(f[1].clone()).or_insert(next).to_string();
        }
        out.push(format!("{dir}{}", f.join("\t")));
    }
    handshake.sort_by_key(|l| !l.starts_with('>'));
    (out, handshake)
}

/// What the stand-in smtpd answered and the golden's replies for the same commands.
#[derive(Default)]
struct Replies {
    ours: Vec<String>,
    postfix: Vec<String>,
}

/// The case's security options without and with TLS, with Postfix's defaults.
fn security_options(settings: &[(String, String)]) -> (String, String) {
    let get = |name: &str| {
        settings
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let plain = get("smtpd_sasl_security_options").unwrap_or_else(|| "noanonymous".into());
    let tls = get("smtpd_sasl_tls_security_options").unwrap_or_else(|| plain.clone());
    (plain, tls)
}

/// Replays one case; returns its replies.
fn replay(name: &str, dovecot: &mut Dovecot, settings: &[(String, String)]) -> Replies {
    let dir = golden_dir();
    let input = read_lines(&dir.join(format!("{name}.in")));
    let groups = reply_groups(&read_lines(&dir.join(format!("{name}.ref"))));
    let (options, tls_options) = security_options(settings);
    let (mut session, mut mechanisms) = new_session(dovecot, &options, Tls::None);
    let mut replies = Replies::default();
    let mut groups = groups.into_iter().skip(1);
    let mut lines = input.iter();
    let mut authenticated: Option<(String, String)> = None;
    while let Some(line) = lines.next() {
        let group = groups.next().unwrap_or_default();
        let words: Vec<&str> = line.split(' ').collect();
        match words[0].to_ascii_uppercase().as_str() {
            "EHLO" => {
                let auth = group
                    .iter()
                    .find(|l| l[4..].starts_with("AUTH "))
                    .map(|l| l[4..].to_string());
                replies.postfix.push(auth.unwrap_or_default());
                replies.ours.push(
                    mechanisms
                        .as_ref()
                        .map(|m| format!("AUTH {m}"))
                        .unwrap_or_default(),
                );
            }
            "AUTH" => {
                let mechanism = words[1];
                let mut postfix = group;
                let mut step = session.first(dovecot, mechanism, words.get(2).copied());
                loop {
                    replies.postfix.push(postfix.join("\n"));
                    match step {
                        Step::Continue(challenge) => {
                            replies.ours.push(text::challenge_reply(&challenge));
                            let response = lines.next().expect("a response");
                            postfix = groups.next().unwrap_or_default();
                            if response == "*" {
                                log::msg_warn!("{}", text::aborted_log(NAMADDR, mechanism));
                                replies.ours.push(text::aborted_reply().to_string());
                                replies.postfix.push(postfix.join("\n"));
                                break;
                            }
                            step = session.next(dovecot, response);
                        }
                        Step::Done(user) => {
                            replies.ours.push(text::success_reply().to_string());
                            authenticated = Some((mechanism.to_string(), user));
                            break;
                        }
                        Step::Fail { reason, temporary } => {
                            log::msg_warn!(
                                "{}",
                                text::failure_log(NAMADDR, mechanism, &reason, session.username())
                            );
                            replies.ours.push(text::failure_reply(&reason, temporary));
                            break;
                        }
                    }
                }
            }
            "STARTTLS" if group.last().is_some_and(|l| l.starts_with("220")) => {
                (session, mechanisms) = new_session(dovecot, &tls_options, Tls::Secured);
            }
            "RCPT" => {
                if let Some((method, user)) = &authenticated {
                    log::msg_info!(
                        "QUEUEID: client={NAMADDR}{}",
                        text::client_line_sasl(method, user, None)
                    );
                }
            }
            _ => {}
        }
    }
    replies
}

/// The proxy's lines once smtpd's side of a handshake is among them: the proxy's two
/// directions run on their own threads, and Dovecot sends its handshake without waiting
/// for smtpd's, so the client can be done before the proxy has recorded what it sent.
fn after_handshake(proxy: &Proxy) -> Vec<String> {
    let mut lines = proxy.take();
    let started = std::time::Instant::now();
    while !lines.iter().any(|l| l.starts_with("> CPID")) && started.elapsed().as_secs() < 5 {
        std::thread::sleep(std::time::Duration::from_millis(10));
        lines.extend(proxy.take());
    }
    lines
}

#[test]
fn sessions_match_postfix() {
    let mut server = match TestDovecot::start() {
        Ok(server) => server,
        Err(reason) => return testkit::skip(reason),
    };
    let capture = log::Capture::default();
    log::retain_sinks(|_| false);
    log::add_sink(Box::new(capture.clone()));
    let scratch = server.socket().with_file_name("auth-proxy");
    let proxy = Proxy::start(&scratch, &server.socket());
    let dir = golden_dir();
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .strip_suffix(".in")
                .map(String::from)
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "cases: {cases:?}");
    // One client per configuration, connected before the first case, like the smtpd
    // process of each record.py service (the port check connects once).
    let mut clients: BTreeMap<Vec<(String, String)>, Dovecot> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut handshake = Vec::new();
    for name in &cases {
        let settings = settings(name);
        let dovecot = clients.entry(settings.clone()).or_insert_with(|| {
            let mut d = Dovecot::new(Endpoint::new(&proxy.path().display().to_string(), None));
            assert!(
                d.mechanisms().is_some(),
                "no handshake with the test Dovecot"
            );
            handshake = renumber(after_handshake(&proxy)).1;
            d
        });
        let before = capture.lines().len();
        let replies = replay(name, dovecot, &settings);
        let (mut wire, again) = renumber(proxy.take());
        if !again.is_empty() {
            handshake = again;
        }
        let mut postfix_replies = replies.postfix.clone();
        let mut postfix_log = sasl_lines(&read_lines(&dir.join(format!("{name}.log"))));
        for (case, theirs, ours) in DIFFERENCES {
            if case != name {
                continue;
            }
            let found = postfix_replies
                .iter_mut()
                .chain(postfix_log.iter_mut())
                .find(|l| *l == theirs);
            match found {
                Some(line) => *line = ours.to_string(),
                None => failures.push(format!("{name}: the golden no longer has {theirs:?}")),
            }
        }
        if replies.ours != postfix_replies {
            failures.push(format!(
                "{name}: replies\n  postfix: {postfix_replies:?}\n  ours:    {:?}",
                replies.ours
            ));
        }
        let ours_log = sasl_lines(&capture.lines()[before..]);
        if ours_log != postfix_log {
            failures.push(format!(
                "{name}: log\n  postfix: {postfix_log:?}\n  ours:    {ours_log:?}"
            ));
        }
        let mut postfix_wire = read_lines(&dir.join(format!("{name}.dovecot")));
        // Whether smtpd's first handshake falls into the first case or into record.py's
        // port check before it is a matter of timing; later ones (reconnections) count.
        for w in [&mut wire, &mut postfix_wire] {
            if w.first().is_some_and(|l| l == "> (handshake)") {
                w.remove(0);
            }
        }
        if wire != postfix_wire {
            failures.push(format!(
                "{name}: auth protocol\n  postfix: {postfix_wire:?}\n  ours:    {wire:?}"
            ));
        }
    }
    let postfix_handshake = read_lines(&dir.join("handshake.dovecot"));
    if handshake != postfix_handshake {
        failures.push(format!(
            "handshake\n  postfix: {postfix_handshake:?}\n  ours:    {handshake:?}"
        ));
    }
    drop(server.socket());
    server.stop();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
