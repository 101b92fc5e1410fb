//! t-75: tlsproxy's client role, ironpost's tlsproxy against Postfix 3.7's, both under
//! Postfix's smtp (the component swap: Postfix's smtp speaks the protocol, so whatever it
//! needs from tlsproxy is there or the delivery fails).
//!
//! Two instances differ only in tlsproxy. With smtp_tls_connection_reuse = yes smtp runs
//! STARTTLS through tlsproxy and caches the plaintext side in scache: three messages go
//! over one connection with one TLS handshake (the server's transcript), and smtp's
//! delivery and `TLS connection established` lines and tlsproxy's `CONNECT`/`DISCONNECT`
//! lines are the same on both. Then resumption across smtp processes: each delivery a
//! new smtp process (max_use=1) and a new connection (no caching); the second handshake
//! is resumed when smtp_tls_session_cache_database is set (Postfix's tlsproxy through
//! tlsmgr, ironpost's in its own memory) and not when it is empty. Last, a request for
//! the server role (postscreen's), which ironpost's tlsproxy does not have: refused with
//! `status=0` and the same log lines as Postfix's with its server role off.

use e2e::child::{KillOnDrop, spawn_ready};
use e2e::starttls::test_cert;
use e2e::{Instance, free_port, wait_until};
use std::process::{Command, Stdio};

const SERVER: &str = include_str!("server.py");

/// The master.cf line a tlsproxy service needs (the stock master.cf has none yet).
const TLSPROXY_LINE: &str = "tlsproxy  unix  -       -       n       -       0       tlsproxy";
const TLSMGR_LINE: &str = "tlsmgr    unix  -       -       n       1000?   1       tlsmgr";

/// What one run saw, masked.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    transcript: Vec<String>,
    smtp: Vec<String>,
    tlsproxy: Vec<String>,
}

/// Ironpost's tlsproxy alone (the component swap under Postfix's smtp).
const TLSPROXY: &[&str] = &["tlsproxy"];
/// Ironpost's smtp and tlsproxy.
const SMTP_TLSPROXY: &[&str] = &["tlsproxy", "smtp"];
/// Postfix's all through.
const POSTFIX: &[&str] = &[];

/// An instance with ironpost's `ours` (beyond master and postlogd), the rest Postfix's.
fn instance(name: &str, ours: &[&str]) -> Option<Instance> {
    let mut daemons = vec!["master", "postlogd"];
    daemons.extend_from_slice(ours);
    let side = if ours.is_empty() {
        "postfix".to_string()
    } else {
        ours.join("-")
    };
    let mx = Instance::with_daemons(&format!("{name}-{side}"), &daemons)?;
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    let mut extra = String::new();
    for line in [TLSPROXY_LINE, TLSMGR_LINE] {
        let service = line.split(' ').next().unwrap();
        if !master_cf
            .lines()
            .any(|l| l.starts_with(&format!("{service} ")))
        {
            extra.push_str(line);
            extra.push('\n');
        }
    }
    mx.write("etc/master.cf", &format!("{master_cf}{extra}"));
    Some(mx)
}

/// tlsproxy's log lines, without the pid.
fn tlsproxy_lines(mx: &Instance) -> Vec<String> {
    mx.log()
        .lines()
        .filter_map(|l| l.split_once("postfix/tlsproxy[").map(|(_, r)| r))
        .filter_map(|r| r.split_once("]: ").map(|(_, t)| t.to_string()))
        .collect()
}

/// One attribute list of the null flavor: name, value, ..., then an empty name.
fn read_list(s: &mut std::os::unix::net::UnixStream) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut byte = [0u8];
    while s.read(&mut byte).unwrap_or(0) == 1 {
        out.push(byte[0]);
        if out.ends_with(b"\0\0") || out == b"\0" {
            break;
        }
    }
    out
}

/// A request for the server role (postscreen's), straight to the tlsproxy socket: the
/// status tlsproxy answers and its log lines once the requester has gone.
fn server_role(ours: &[&str]) -> Option<(Vec<u8>, Vec<String>)> {
    use std::io::Write;
    let mut mx = instance("t-75-server", ours)?;
    mx.start();
    let socket = mx.dir.join("queue/private/tlsproxy");
    let mut s = std::os::unix::net::UnixStream::connect(&socket).expect("tlsproxy socket");
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let hello = read_list(&mut s);
    assert_eq!(hello, b"protocol\0tlsproxy_protocol\0\0");
    // TLS_PROXY_FLAG_ROLE_SERVER | TLS_PROXY_FLAG_SEND_CONTEXT.
    s.write_all(
        b"remote_endpoint\0[127.0.0.1]:4321\0flags\x005\0timeout\x0010\0timeout\x0010\0serverid\0smtpd/127.0.0.1/4321\0\0",
    )
    .unwrap();
    let status = read_list(&mut s);
    drop(s);
    if !wait_until(30, || {
        tlsproxy_lines(&mx)
            .iter()
            .any(|l| l.starts_with("DISCONNECT"))
    }) {
        mx.keep_for_inspection();
        panic!("no DISCONNECT:\n{}", mx.log());
    }
    Some((status, tlsproxy_lines(&mx)))
}

/// Three deliveries to one TLS server; `reuse`: connection caching (one connection),
/// else a new smtp process and connection each, with or without `session_cache`.
fn run(name: &str, ours: &[&str], reuse: bool, session_cache: bool) -> Option<Seen> {
    run_with(
        name,
        ours,
        reuse,
        session_cache,
        &[("smtp_tls_connection_reuse", "yes")],
    )
}

/// [`run`] with `settings` in main.cf (smtp_tls_connection_reuse among them, or not).
fn run_with(
    name: &str,
    ours: &[&str],
    reuse: bool,
    session_cache: bool,
    settings: &[(&str, &str)],
) -> Option<Seen> {
    let mut mx = instance(name, ours)?;
    let port = free_port();
    if !reuse {
        mx.replace_master_cf_line(
            |l| l.starts_with("smtp ") && l.contains(" unix "),
            "smtp      unix  -       -       n       -       -       smtp -o max_use=1",
        );
    }
    mx.set_main_cf("relay_domains", "tlsproxy.e2e.test");
    mx.write(
        "etc/transport",
        &format!("tlsproxy.e2e.test smtp:[127.0.0.1]:{port}\n"),
    );
    mx.set_main_cf("smtp_tls_security_level", "encrypt");
    for (name, value) in settings {
        mx.set_main_cf(name, value);
    }
    mx.set_main_cf("smtp_tls_loglevel", "1");
    if reuse {
        mx.set_main_cf("smtp_connection_cache_destinations", "127.0.0.1");
        mx.set_main_cf("connection_cache_ttl_limit", "30s");
        mx.set_main_cf("smtp_connection_cache_time_limit", "30s");
    } else {
        mx.set_main_cf("smtp_connection_cache_on_demand", "no");
    }
    if session_cache {
        mx.set_main_cf(
            "smtp_tls_session_cache_database",
            "btree:${data_directory}/smtp_scache",
        );
    }
    let transcript = mx.dir.join("sink/transcript");
    let _server: KillOnDrop = spawn_ready(
        Command::new("python3")
            .args(["-c", SERVER, &port.to_string()])
            .arg(&transcript)
            .arg(test_cert("rsa.pem"))
            .arg(test_cert("rsa.key"))
            .stderr(Stdio::null()),
    )
    .expect("the TLS server did not start");
    mx.start();
    for n in 0..3 {
        let to = format!("r{n}@tlsproxy.e2e.test");
        e2e::client::send_and_wait(&mx, &to, &format!("t75-{n}"), "status=sent", |_| true);
        // smtp logs the delivery before it hands the session to scache.
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    let log = mx.log();
    let text_of = |program: &str| -> Vec<String> {
        log.lines()
            .filter_map(|l| l.split_once(&format!("postfix/{program}[")).map(|(_, r)| r))
            .filter_map(|r| r.split_once("]: ").map(|(_, t)| t))
            .map(|t| {
                let t = t.replace(&format!("]:{port}"), "]:PORT");
                // Queue ids and delays differ from run to run.
                let t = match (t.find(", delay="), t.find(", dsn=")) {
                    (Some(a), Some(b)) => format!("{}{}", &t[..a], &t[b..]),
                    _ => t,
                };
                match t.split_once(": ") {
                    Some((id, rest))
                        if id.len() >= 10 && id.chars().all(|c| c.is_ascii_alphanumeric()) =>
                    {
                        format!("ID: {rest}")
                    }
                    _ => t,
                }
            })
            .collect()
    };
    let seen = Seen {
        transcript: std::fs::read_to_string(&transcript)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect(),
        smtp: text_of("smtp"),
        tlsproxy: text_of("tlsproxy"),
    };
    if std::env::var_os("T75_SHOW").is_some() {
        eprintln!("{name} ours={ours:?}:\n{log}");
    }
    Some(seen)
}

/// The transcript's handshakes: "TLS new" / "TLS reused" in order.
fn handshakes(seen: &Seen) -> Vec<&str> {
    seen.transcript
        .iter()
        .filter(|l| l.starts_with("TLS "))
        .map(String::as_str)
        .collect()
}

/// Three deliveries over one kept TLS connection, with Postfix's smtp and tlsproxy and
/// with `ours`: one handshake, and the same transcript and log lines; Postfix's run.
fn one_connection(name: &str, ours: &[&str]) -> Option<Seen> {
    let postfix = run(name, POSTFIX, true, false)?;
    let ours = run(name, ours, true, false)?;
    assert_eq!(handshakes(&postfix), ["TLS new"], "{postfix:#?}");
    assert_eq!(
        postfix.transcript.iter().filter(|l| *l == ".").count(),
        3,
        "{postfix:#?}"
    );
    assert_eq!(ours.transcript, postfix.transcript);
    assert_eq!(ours.smtp, postfix.smtp);
    assert_eq!(ours.tlsproxy, postfix.tlsproxy);
    Some(postfix)
}

#[test]
fn one_handshake_for_several_deliveries() {
    one_connection("t-75-reuse", TLSPROXY);
}

#[test]
fn sessions_resume_across_smtp_processes() {
    let Some(postfix) = run("t-75-resume", POSTFIX, false, true) else {
        return;
    };
    let Some(ours) = run("t-75-resume", TLSPROXY, false, true) else {
        return;
    };
    assert_eq!(
        handshakes(&postfix),
        ["TLS new", "TLS reused", "TLS reused"],
        "{postfix:#?}"
    );
    assert_eq!(handshakes(&ours), handshakes(&postfix), "{ours:#?}");
    assert_eq!(ours.smtp, postfix.smtp);
    assert_eq!(ours.tlsproxy, postfix.tlsproxy);
}

#[test]
fn no_resumption_without_a_session_cache() {
    let Some(postfix) = run("t-75-nocache", POSTFIX, false, false) else {
        return;
    };
    let Some(ours) = run("t-75-nocache", TLSPROXY, false, false) else {
        return;
    };
    assert_eq!(handshakes(&postfix), ["TLS new", "TLS new", "TLS new"]);
    assert_eq!(handshakes(&ours), handshakes(&postfix), "{ours:#?}");
    assert_eq!(ours.tlsproxy, postfix.tlsproxy);
}

#[test]
fn server_role_is_refused_as_postfix_refuses_it() {
    let Some(postfix) = server_role(POSTFIX) else {
        return;
    };
    let Some(ours) = server_role(TLSPROXY) else {
        return;
    };
    assert_eq!(postfix.0, b"status\x000\0\0", "{postfix:?}");
    assert_eq!(ours, postfix);
}

/// Ironpost's smtp through ironpost's tlsproxy: the connection kept in scache with its
/// TLS context, reused by the next deliveries (`TLS connection reused` lines), one
/// handshake, all as Postfix's smtp through Postfix's tlsproxy.
#[test]
fn our_smtp_reuses_tls_connections_as_postfix() {
    if let Some(postfix) = one_connection("t-75-smtp-reuse", SMTP_TLSPROXY) {
        let reused = postfix
            .smtp
            .iter()
            .filter(|l| l.contains("TLS connection reused to"));
        assert_eq!(reused.count(), 2, "{postfix:#?}");
    }
}

/// smtp_tls_connection_reuse = no with smtp_tls_session_cache_database set: Postfix's
/// smtp does TLS in its own process and keeps sessions through tlsmgr; ironpost's runs
/// its TLS through tlsproxy, whose memory keeps them. Either way the second and third
/// smtp processes resume the first one's session, with the same smtp log lines.
#[test]
fn our_smtp_resumes_sessions_across_processes_through_tlsproxy() {
    let Some(postfix) = run_with("t-75-smtp-resume", POSTFIX, false, true, &[]) else {
        return;
    };
    let Some(ours) = run_with("t-75-smtp-resume", SMTP_TLSPROXY, false, true, &[]) else {
        return;
    };
    assert_eq!(
        handshakes(&postfix),
        ["TLS new", "TLS reused", "TLS reused"],
        "{postfix:#?}"
    );
    assert_eq!(handshakes(&ours), handshakes(&postfix), "{ours:#?}");
    assert_eq!(ours.smtp, postfix.smtp);
    assert!(postfix.tlsproxy.is_empty(), "{postfix:#?}");
    let connects = ours
        .tlsproxy
        .iter()
        .filter(|l| l.starts_with("CONNECT to "));
    assert_eq!(connects.count(), 3, "{ours:#?}");
}

/// The same when tlsproxy cannot be reached: smtp warns with the cause (once per
/// process; here each delivery has its own) and does its TLS itself, as it does without
/// a session cache; no session outlives its process.
#[test]
fn our_smtp_does_tls_itself_when_tlsproxy_is_unreachable() {
    let settings = [("tlsproxy_service_name", "no-tlsproxy")];
    let Some(ours) = run_with("t-75-smtp-noproxy", SMTP_TLSPROXY, false, true, &settings) else {
        return;
    };
    assert_eq!(
        handshakes(&ours),
        ["TLS new", "TLS new", "TLS new"],
        "{ours:#?}"
    );
    let warning = "warning: connect to private/no-tlsproxy service: No such file or directory: \
                   TLS sessions are not resumed across smtp processes \
                   (is the tlsproxy service in master.cf?)";
    let warnings = ours.smtp.iter().filter(|l| *l == warning).count();
    let sent = ours
        .smtp
        .iter()
        .filter(|l| l.contains("status=sent"))
        .count();
    let established = ours
        .smtp
        .iter()
        .filter(|l| {
            l.starts_with("Untrusted TLS connection established to 127.0.0.1[127.0.0.1]:PORT")
        })
        .count();
    assert_eq!((warnings, sent, established), (3, 3, 3), "{ours:#?}");
}
