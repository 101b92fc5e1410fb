//! t-67: TLS session resumption across smtpd processes, ironpost's smtpd and tlsmgr
//! against Postfix 3.7's.
//!
//! Two instances with the same main.cf: one runs Postfix's smtpd and tlsmgr, the other
//! ironpost's. smtpd has `-o max_use=1`, so every session is served by a new process
//! (checked by the pids in the log) and can only resume through what tlsmgr keeps: the
//! session ticket keys, and for TLS 1.2 clients without tickets the session cache. A
//! real client (`resume.py`, Python's ssl) first makes a session, then offers it back;
//! `session_reused` must be the same on both systems, and smtpd's log lines (and, with a
//! cache, tlsmgr's) equal once session ids, key expiry times, ports, paths and session
//! sizes are masked. OpenSSL's state trace (`SSL_accept:...` at smtpd_tls_loglevel 2)
//! has no rustls counterpart and is left out. smtpd_tls_session_cache_timeout = 0 turns
//! resumption off on both; a killed tlsmgr costs the sessions made before (new keys)
//! and nothing else. Last, the components swap: Postfix's smtpd resumes through
//! ironpost's tlsmgr, and ironpost's smtpd through Postfix's.

use e2e::smtpd_log::{normalize, smtpd_log};
use e2e::{IRONPOST_DAEMONS, Instance, System};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The client script.
const SCRIPT: &str = include_str!("resume.py");

/// The test certificates of crates/tls.
fn cert(name: &str) -> String {
    format!(
        "{}/../../crates/tls/tests/golden/certs/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The daemons of one system: ironpost's smtpd and tlsmgr, or Postfix's (the rest is
/// the default set on both).
fn daemons(which: System) -> Vec<&'static str> {
    match which {
        System::Ironpost => IRONPOST_DAEMONS.to_vec(),
        System::Postfix => IRONPOST_DAEMONS
            .iter()
            .copied()
            .filter(|d| !["smtpd", "tlsmgr"].contains(d))
            .collect(),
    }
}

/// One system: ironpost's smtpd and tlsmgr, or Postfix's.
fn system(name: &str, which: System, main_cf: &[(&str, &str)]) -> Option<Instance> {
    let tag = match which {
        System::Ironpost => "ironpost",
        System::Postfix => "postfix",
    };
    start(&format!("{name}-{tag}"), &daemons(which), main_cf)
}

/// An instance with `daemons` and `main_cf`, one smtpd process per session, started.
fn start(name: &str, daemons: &[&str], main_cf: &[(&str, &str)]) -> Option<Instance> {
    let mut instance = Instance::with_daemons(&format!("t67-{name}"), daemons)?;
    let (rsa, key) = (cert("rsa.pem"), cert("rsa.key"));
    let mut settings = vec![
        ("smtpd_tls_security_level", "may"),
        ("smtpd_tls_cert_file", rsa.as_str()),
        ("smtpd_tls_key_file", key.as_str()),
        ("smtpd_tls_loglevel", "2"),
    ];
    settings.extend_from_slice(main_cf);
    for (name, value) in settings {
        instance.set_main_cf(name, value);
    }
    instance.replace_master_cf_line(
        |l| l.contains(" inet ") && l.ends_with("smtpd"),
        "127.0.0.1:@SMTP_PORT@ inet n - n - - smtpd -o max_use=1",
    );
    instance.start();
    Some(instance)
}

/// Both systems; None when skipped.
fn pair(name: &str, main_cf: &[(&str, &str)]) -> Option<[Instance; 2]> {
    let postfix = system(name, System::Postfix, main_cf)?;
    let ironpost = system(name, System::Ironpost, main_cf)?;
    Some([postfix, ironpost])
}

/// A running resume.py.
struct Client {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Client {
    /// The client for `instance`, speaking TLS `version`, with or without tickets.
    fn new(instance: &Instance, version: &str, tickets: bool) -> Client {
        let mut command = Command::new("python3");
        command
            .args(["-c", SCRIPT, &instance.smtp_port.to_string(), version])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        if !tickets {
            command.arg("noticket");
        }
        let mut child = command.spawn().expect("python3");
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        Client {
            child,
            input,
            output,
        }
    }

    /// One session offering a fresh start or the last session ("fresh", "resume");
    /// "new" or "reused", once smtpd has logged the session's end.
    fn session(&mut self, instance: &Instance, offer: &str) -> String {
        let before = instance.log().matches(": disconnect from ").count();
        writeln!(self.input, "{offer}").unwrap();
        self.input.flush().unwrap();
        let mut line = String::new();
        self.output.read_line(&mut line).unwrap();
        if line.is_empty() {
            instance.keep_for_inspection();
            panic!("resume.py failed; log:\n{}", instance.log());
        }
        let ended = e2e::wait_until(30, || {
            instance.log().matches(": disconnect from ").count() > before
        });
        assert!(ended, "no disconnect line:\n{}", instance.log());
        line.trim().to_string()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `offers` in one client; the outcomes.
fn run(instance: &Instance, version: &str, tickets: bool, offers: &[&str]) -> Vec<String> {
    let mut client = Client::new(instance, version, tickets);
    offers
        .iter()
        .map(|offer| client.session(instance, offer))
        .collect()
}

/// What differs between the systems for reasons of their own: the instance directory,
/// the SMTP port in cache ids (the service name), the library part of cache ids, and
/// the size of a session (OpenSSL's encoding is not rustls's).
fn mask(instance: &Instance, line: &str) -> String {
    let dir = instance.dir.display().to_string();
    let port = format!(":{}&", instance.smtp_port);
    let mut line = normalize(&line.replace(&dir, "DIR").replace(&port, ":PORT&"));
    // Each runs to its end marker, or to the end of the line.
    for (start, end) in [("&l=", " "), ("[data ", " bytes]")] {
        if let Some(at) = line.find(start) {
            let from = at + start.len();
            let len = line[from..].find(end).unwrap_or(line.len() - from);
            line.replace_range(from..from + len, "N");
        }
    }
    line
}

/// smtpd's log lines since the last look, without OpenSSL's state trace, masked.
fn smtpd_lines(instance: &Instance) -> Vec<String> {
    smtpd_log(instance)
        .into_iter()
        .filter(|l| !l.starts_with("SSL_accept:"))
        .map(|l| mask(instance, &l))
        .collect()
}

/// tlsmgr's log lines so far, masked.
fn tlsmgr_lines(instance: &Instance) -> Vec<String> {
    instance
        .log()
        .lines()
        .filter_map(|l| l.split_once("postfix/tlsmgr[").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once("]: ").map(|(_, text)| mask(instance, text)))
        .collect()
}

/// Every session so far was served by a process of its own.
fn one_process_per_session(instance: &Instance) {
    let log = instance.log();
    let pids: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(": connect from "))
        .filter_map(|l| Some(l.split_once("postfix/smtpd[")?.1.split_once(']')?.0))
        .collect();
    let mut unique = pids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert!(pids.len() >= 2, "sessions:\n{log}");
    assert_eq!(
        unique.len(),
        pids.len(),
        "an smtpd served two sessions:\n{log}"
    );
}

/// Runs the same sessions on both systems: the outcomes must be `expected` on both and
/// smtpd's log lines equal. Returns them.
fn compare(
    systems: &[Instance; 2],
    what: &str,
    version: &str,
    tickets: bool,
    offers: &[&str],
    expected: &[&str],
) -> Vec<String> {
    let mut logs = Vec::new();
    for instance in systems {
        let outcome = run(instance, version, tickets, offers);
        if outcome != expected {
            instance.keep_for_inspection();
            panic!(
                "{what}: {outcome:?} instead of {expected:?} in {}:\n{}",
                instance.dir.display(),
                instance.log()
            );
        }
        logs.push(smtpd_lines(instance));
    }
    if logs[0] != logs[1] {
        systems.iter().for_each(Instance::keep_for_inspection);
        panic!(
            "{what}: ironpost's smtpd logs differently\n--- Postfix\n{}\n--- ironpost\n{}",
            logs[0].join("\n"),
            logs[1].join("\n")
        );
    }
    logs.remove(1)
}

/// tlsmgr's lines must be equal too.
fn compare_tlsmgr(systems: &[Instance; 2]) {
    let (theirs, ours) = (tlsmgr_lines(&systems[0]), tlsmgr_lines(&systems[1]));
    if theirs != ours {
        systems.iter().for_each(Instance::keep_for_inspection);
        panic!(
            "ironpost's tlsmgr logs differently\n--- Postfix\n{}\n--- ironpost\n{}",
            theirs.join("\n"),
            ours.join("\n")
        );
    }
}

const FIRST_THEN_AGAIN: &[&str] = &["fresh", "resume"];

/// A session cache for smtpd, in a table type both systems have.
const CACHE: (&str, &str) = (
    "smtpd_tls_session_cache_database",
    "btree:${data_directory}/smtpd_scache",
);

#[test]
fn tickets_resume_tls13_and_tls12_in_another_process() {
    let Some(systems) = pair("tickets", &[]) else {
        return;
    };
    let log = compare(
        &systems,
        "TLS 1.3",
        "1.3",
        true,
        FIRST_THEN_AGAIN,
        &["new", "reused"],
    );
    assert!(
        log.iter()
            .any(|l| l.ends_with("Reusing old session (RFC 5077 session ticket)")),
        "{log:?}"
    );
    compare(
        &systems,
        "TLS 1.2",
        "1.2",
        true,
        FIRST_THEN_AGAIN,
        &["new", "reused"],
    );
    // Without a ticket and without a session cache there is nothing to resume from.
    compare(
        &systems,
        "TLS 1.2 without tickets",
        "1.2",
        false,
        FIRST_THEN_AGAIN,
        &["new", "new"],
    );
    systems.iter().for_each(one_process_per_session);
}

#[test]
fn the_session_cache_resumes_tls12_without_tickets() {
    if !testkit::require_postfix_table("btree") {
        return;
    }
    let Some(systems) = pair("cache", &[CACHE]) else {
        return;
    };
    let log = compare(
        &systems,
        "TLS 1.2 without tickets",
        "1.2",
        false,
        FIRST_THEN_AGAIN,
        &["new", "reused"],
    );
    assert!(
        log.iter().any(|l| l.ends_with(": Reusing old session")),
        "{log:?}"
    );
    compare(
        &systems,
        "TLS 1.3 with a cache",
        "1.3",
        true,
        FIRST_THEN_AGAIN,
        &["new", "reused"],
    );
    compare_tlsmgr(&systems);
    systems.iter().for_each(one_process_per_session);
}

#[test]
fn a_zero_timeout_turns_resumption_off() {
    let settings = [("smtpd_tls_session_cache_timeout", "0"), CACHE];
    let Some(systems) = pair("off", &settings) else {
        return;
    };
    for (version, tickets) in [("1.3", true), ("1.2", true), ("1.2", false)] {
        compare(
            &systems,
            &format!("TLS {version}, tickets {tickets}"),
            version,
            tickets,
            FIRST_THEN_AGAIN,
            &["new", "new"],
        );
    }
}

#[test]
fn a_restarted_tlsmgr_costs_only_the_resumption() {
    let Some(systems) = pair("restart", &[("smtpd_tls_loglevel", "1")]) else {
        return;
    };
    let mut logs = Vec::new();
    for instance in &systems {
        let mut client = Client::new(instance, "1.3", true);
        assert_eq!(client.session(instance, "fresh"), "new");
        let old = instance.daemons("tlsmgr");
        assert_eq!(old.len(), 1, "{}", instance.log());
        let _ = Command::new("kill").arg(old[0].to_string()).status();
        let gone = e2e::wait_until(10, || !instance.daemons("tlsmgr").contains(&old[0]));
        assert!(gone, "tlsmgr {} still runs", old[0]);
        // The new tlsmgr has new keys: the old ticket does not open, the handshake
        // still completes, and the new ticket resumes.
        assert_eq!(
            client.session(instance, "resume"),
            "new",
            "{}",
            instance.log()
        );
        assert_eq!(
            client.session(instance, "resume"),
            "reused",
            "{}",
            instance.log()
        );
        logs.push(smtpd_lines(instance));
    }
    assert_eq!(logs[0], logs[1], "ironpost's smtpd logs differently");
}

#[test]
fn each_smtpd_resumes_through_the_other_systems_tlsmgr() {
    if !testkit::require_postfix_table("btree") {
        return;
    }
    // Postfix's smtpd with ironpost's tlsmgr, and ironpost's smtpd with Postfix's.
    let swaps = [
        ("postfix-smtpd", daemons(System::Postfix), "tlsmgr", true),
        ("ironpost-smtpd", daemons(System::Ironpost), "tlsmgr", false),
    ];
    for (name, mut list, tlsmgr, add) in swaps {
        if add {
            list.push(tlsmgr);
        } else {
            list.retain(|d| *d != tlsmgr);
        }
        let Some(instance) = start(name, &list, &[CACHE]) else {
            return;
        };
        for (version, tickets) in [("1.3", true), ("1.2", true), ("1.2", false)] {
            let outcome = run(&instance, version, tickets, FIRST_THEN_AGAIN);
            if outcome != ["new", "reused"] {
                instance.keep_for_inspection();
                panic!(
                    "{name}, TLS {version}, tickets {tickets}: {outcome:?}:\n{}",
                    instance.log()
                );
            }
        }
        one_process_per_session(&instance);
        let log = instance.log();
        assert!(!log.contains("warning"), "{log}");
    }
}
