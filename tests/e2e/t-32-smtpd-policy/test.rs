//! t-32: check_policy_service and the access actions, ironpost's smtpd against Postfix's.
//!
//! Each side of the pair gets its own policy server (`policy.py`, as postgrey or
//! policyd-spf would run: a UNIX socket in the queue directory's private/ and a TCP
//! port), answering by the recipient's address extension. The same dialogues go to both
//! smtpds; the replies, smtpd's log lines, every request the servers received (with the
//! connection each came on, so connection reuse and request_limit show), the queue files
//! of held and filtered messages and the delivered messages must be equal. A second
//! pair asks servers that are not there: the retries, the warnings and the default
//! actions.

use e2e::Instance;
use e2e::smtpd_log::{Pair, delivered, normalize};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The policy server.
const POLICY: &str = include_str!("policy.py");

/// A running policy server, stopped when dropped.
struct PolicyServer {
    child: Child,
    port: u16,
}

impl PolicyServer {
    /// Starts a server for `instance` on private/policy and TCP `port`.
    fn start(instance: &Instance, port: u16) -> PolicyServer {
        let socket = instance.dir.join("queue/private/policy");
        let log = instance.dir.join("log/policy.log");
        let mut child = Command::new("python3")
            .args(["-c", POLICY])
            .arg(&socket)
            .arg(port.to_string())
            .arg(&log)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut ready = String::new();
        BufReader::new(child.stdout.take().expect("a pipe"))
            .read_line(&mut ready)
            .unwrap();
        assert_eq!(ready.trim(), "ready", "policy.py did not start");
        PolicyServer { child, port }
    }
}

impl Drop for PolicyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The requests a server received, with what differs between two runs masked: the
/// client port, the server port when it is the instance's own, the instance (pid and
/// time) and queue ids.
fn requests(instance: &Instance) -> Vec<String> {
    let text = std::fs::read_to_string(instance.dir.join("log/policy.log")).unwrap_or_default();
    let own_port = format!("server_port={}", instance.smtp_port);
    text.lines()
        .map(|line| {
            let (connection, attr) = line.split_once(' ').unwrap_or((line, ""));
            let masked = ["client_port=", "instance="]
                .into_iter()
                .find(|name| attr.starts_with(name))
                .or((attr == own_port).then_some("server_port="));
            match masked {
                Some(name) => format!("{connection} {name}MASKED"),
                None => normalize(line),
            }
        })
        .collect()
}

/// smtpd's log lines with `port` (the side's own policy server or SMTP port) masked.
fn masked(lines: Vec<String>, ports: &[u16]) -> Vec<String> {
    lines
        .into_iter()
        .map(|mut line| {
            for port in ports {
                line = line.replace(&format!(":{port}"), ":PORT");
            }
            line
        })
        .collect()
}

/// Settings of the main pair; @POLICY_PORT@ becomes each side's server port.
const MAIN_CF: &[(&str, &str)] = &[
    ("mynetworks", "127.0.0.1/32"),
    ("smtpd_authorized_xclient_hosts", "127.0.0.1"),
    ("recipient_delimiter", "+"),
    ("smtpd_restriction_classes", "strict_class"),
    ("strict_class", "reject_non_fqdn_sender"),
    ("smtpd_policy_service_timeout", "2s"),
    ("smtpd_policy_service_policy_context", "t32"),
    (
        "smtpd_recipient_restrictions",
        "check_policy_service unix:private/policy, \
         check_recipient_access inline:{{user+deferreject@vmail.e2e.test=REJECT rejected later}}, \
         reject_unauth_destination",
    ),
    (
        "smtpd_data_restrictions",
        "check_policy_service { unix:private/policy, policy_context=data }",
    ),
    (
        "smtpd_end_of_data_restrictions",
        "check_policy_service { inet:127.0.0.1:@POLICY_PORT@, policy_context=eod, \
         request_limit=2 }",
    ),
];

const EHLO: (&str, usize) = ("EHLO client.example\r\n", 1);
const QUIT: (&str, usize) = ("QUIT\r\n", 1);

/// One message to `recipient`: MAIL, RCPT, DATA and the content.
fn message_to(recipient: &str) -> Vec<(String, usize)> {
    vec![
        ("MAIL FROM:<sender@example.org> SIZE=100\r\n".into(), 1),
        (format!("RCPT TO:<{recipient}>\r\n"), 1),
        ("DATA\r\n".into(), 1),
        (format!("Subject: t-32 {recipient}\r\n\r\nbody\r\n.\r\n"), 1),
    ]
}

/// Both sides, each with its policy server; None when skipped.
fn start(name: &str, main_cf: &[(&str, &str)]) -> Option<(Pair, PolicyServer, PolicyServer)> {
    let mut pair = Pair::prepare(&format!("t32-{name}"), &[], &[])?;
    let ports = [e2e::free_port(), e2e::free_port()];
    for (instance, port) in [&pair.postfix, &pair.ironpost].iter().zip(ports) {
        for (name, value) in main_cf {
            let value = value.replace("@POLICY_PORT@", &port.to_string());
            instance.set_main_cf(name, &value);
        }
    }
    pair.start();
    let theirs = PolicyServer::start(&pair.postfix, ports[0]);
    let ours = PolicyServer::start(&pair.ironpost, ports[1]);
    Some((pair, theirs, ours))
}

/// Compares one dialogue with both sides' policy ports masked.
fn compare(
    pair: &Pair,
    servers: (&PolicyServer, &PolicyServer),
    name: &str,
    steps: &[(&str, usize)],
) {
    let ports = [servers.0.port, servers.1.port];
    pair.compare_with(name, "127.0.0.1", steps, |_, lines| masked(lines, &ports));
}

/// The queue files of `instance` outside the maildrop: the queue each is in and its
/// envelope records that access actions set (postcat -e), sorted.
fn queue_files(instance: &Instance) -> Vec<String> {
    let mut out = Vec::new();
    for queue in ["incoming", "active", "deferred", "hold"] {
        let dir = instance.dir.join("queue").join(queue);
        let mut files = Vec::new();
        collect_files(&dir, &mut files);
        for file in files {
            let text = Command::new("/usr/sbin/postcat")
                .arg("-c")
                .arg(instance.etc())
                .arg("-e")
                .arg(&file)
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            let records: Vec<&str> = text
                .lines()
                .filter(|l| {
                    ["content_filter:", "redirect_to:", "recipient:", "sender:"]
                        .iter()
                        .any(|p| l.starts_with(p))
                })
                .collect();
            out.push(format!("{queue}: {}", records.join(" | ")));
        }
    }
    out.sort();
    out
}

fn collect_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn policy_service_and_actions_match_postfix() {
    let Some((pair, theirs, ours)) = start("policy", MAIN_CF) else {
        return;
    };
    let servers = (&theirs, &ours);
    let mut replies = vec![EHLO, ("MAIL FROM:<sender@example.org> SIZE=1000\r\n", 1)];
    let answers = [
        "ok",
        "relay",
        "dunno",
        "reject",
        "rejectdsn",
        "defer",
        "code",
        "codeonly",
        "warn",
        "info",
        "class",
        "table",
        "number",
        "empty",
        "restrictions",
        "deferpermit",
        "deferreject",
        "badfilter",
        "badredirect",
        "badprepend",
        "noaction",
    ];
    let rcpts: Vec<String> = answers
        .iter()
        .map(|a| format!("RCPT TO:<user+{a}@vmail.e2e.test>\r\n"))
        .collect();
    for rcpt in &rcpts {
        replies.push((rcpt, 1));
    }
    replies.extend([("RSET\r\n", 1), ("MAIL FROM:<sender@localhost>\r\n", 1)]);
    replies.extend([("RCPT TO:<user+class@vmail.e2e.test>\r\n", 1), QUIT]);
    compare(&pair, servers, "actions", &replies);

    // Actions cleanup carries out, one message each.
    let delegated = [
        "hold", "holdtext", "discard", "filter", "redirect", "bcc", "prepend",
    ];
    for action in delegated {
        let recipient = format!("user+{action}@vmail.e2e.test");
        let steps: Vec<(String, usize)> = std::iter::once(("EHLO client.example\r\n".into(), 1))
            .chain(message_to(&recipient))
            .chain(std::iter::once(("QUIT\r\n".into(), 1)))
            .collect();
        let steps: Vec<(&str, usize)> = steps.iter().map(|(t, n)| (t.as_str(), *n)).collect();
        compare(&pair, servers, action, &steps);
    }

    // A server that hangs up, and one too slow for smtpd_policy_service_timeout: two
    // attempts each, then the default action.
    compare(
        &pair,
        servers,
        "server trouble",
        &[
            EHLO,
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<user+close@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<user+slow@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<user+ok@vmail.e2e.test>\r\n", 1),
            QUIT,
        ],
    );

    // What XCLIENT says the server and client are, [UNAVAILABLE] included, reaches the
    // policy server: "unknown" server address and port, the XCLIENT login.
    for xclient in [
        "XCLIENT NAME=[TEMPUNAVAIL] ADDR=192.0.2.5 PORT=[UNAVAILABLE] \
         DESTADDR=[UNAVAILABLE] DESTPORT=[UNAVAILABLE] LOGIN=joe\r\n",
        "XCLIENT NAME=[UNAVAILABLE] REVERSE_NAME=rev.example ADDR=[UNAVAILABLE] \
         DESTADDR=192.0.2.25 DESTPORT=02525 HELO=[UNAVAILABLE] LOGIN=[UNAVAILABLE]\r\n",
    ] {
        compare(
            &pair,
            servers,
            "xclient",
            &[
                EHLO,
                (xclient, 1),
                ("MAIL FROM:<sender@example.org>\r\n", 1),
                ("RCPT TO:<user+ok@vmail.e2e.test>\r\n", 1),
                QUIT,
            ],
        );
    }

    // The messages settle: HOLD in hold/, FILTER deferred (nothing listens on port 9),
    // the others delivered.
    let settled = e2e::wait_until(60, || {
        let (a, b) = (delivered(&pair.postfix), delivered(&pair.ironpost));
        a.len() >= 3 && a.len() == b.len() && queue_files(&pair.postfix).len() >= 3
    });
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert!(settled, "messages missing:\n{}", pair.ironpost.log());
    assert_eq!(queue_files(&pair.postfix), queue_files(&pair.ironpost));
    assert_eq!(delivered(&pair.postfix), delivered(&pair.ironpost));
    let (their_requests, our_requests) = (requests(&pair.postfix), requests(&pair.ironpost));
    assert!(their_requests.len() > 100, "{their_requests:?}");
    for attr in [
        "server_address=unknown",
        "server_port=unknown",
        "server_address=192.0.2.25",
        "server_port=02525",
        "sasl_method=XCLIENT",
        "sasl_username=joe",
        "reverse_client_name=rev.example",
    ] {
        assert!(
            their_requests.iter().any(|r| r.ends_with(attr)),
            "no {attr} in {their_requests:?}"
        );
    }
    if their_requests != our_requests {
        pair.ironpost.keep_for_inspection();
        let diff: Vec<String> = their_requests
            .iter()
            .zip(&our_requests)
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("Postfix: {a}\nironpost: {b}"))
            .take(20)
            .collect();
        panic!(
            "policy requests differ ({} against {}):\n{}",
            their_requests.len(),
            our_requests.len(),
            diff.join("\n")
        );
    }
}

#[test]
fn unreachable_servers_match_postfix() {
    let dead = e2e::free_port().to_string();
    let main_cf = [
        ("mynetworks", "127.0.0.1/32"),
        ("recipient_delimiter", "+"),
        ("smtpd_restriction_classes", "nosuch_class"),
        ("nosuch_class", "check_policy_service unix:private/nosuch"),
        ("smtpd_policy_service_retry_delay", "1s"),
        (
            "smtpd_recipient_restrictions",
            &*format!(
                "check_policy_service {{ inet:127.0.0.1:{dead}, default_action=DUNNO }}, \
                 check_policy_service {{ unix:private/nosuch, try_limit=1, \
                 {{default_action=WARN no policy today}} }}, \
                 check_recipient_access inline:{{{{user+plain@vmail.e2e.test=nosuch_class}}}}"
            ),
        ),
        ("smtpd_data_restrictions", "check_policy_service"),
    ];
    let Some((pair, theirs, ours)) = start("unreachable", &main_cf) else {
        return;
    };
    compare(
        &pair,
        (&theirs, &ours),
        "unreachable",
        &[
            EHLO,
            ("MAIL FROM:<sender@example.org>\r\n", 1),
            ("RCPT TO:<user+plain@vmail.e2e.test>\r\n", 1),
            ("RCPT TO:<user@vmail.e2e.test>\r\n", 1),
            ("DATA\r\n", 1),
            QUIT,
        ],
    );
}

#[test]
fn etrn_request_matches_postfix() {
    let main_cf = [
        ("mynetworks", "127.0.0.1/32"),
        (
            "smtpd_etrn_restrictions",
            "check_policy_service unix:private/policy, reject",
        ),
    ];
    let Some((pair, theirs, ours)) = start("etrn", &main_cf) else {
        return;
    };
    let steps = [EHLO, ("ETRN etrn.example\r\n", 1), QUIT];
    compare(&pair, (&theirs, &ours), "ETRN", &steps);
    let (their_requests, our_requests) = (requests(&pair.postfix), requests(&pair.ironpost));
    assert!(
        their_requests
            .iter()
            .any(|r| r.ends_with(" etrn_domain=etrn.example")),
        "{their_requests:?}"
    );
    assert_eq!(their_requests, our_requests);
}
