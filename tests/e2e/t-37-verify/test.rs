//! The address verification and connection cache services, each run against Postfix's in
//! the same harness.
//!
//! verify: ironpost's smtpd with reject_unverified_recipient (one poll) asks the verify
//! service about recipients of every kind (virtual, local, relayed to smtp-sink, and an
//! error transport); the first RCPT is answered "in progress" while a probe goes through
//! cleanup, qmgr and the delivery agent, whose result the agent sends back; the next RCPT
//! is answered from the cache, and after the refresh time a query also sends a new probe.
//! The SMTP replies, every log line (queue IDs, times and sizes masked) and the cache
//! file (`postmap -s`, times masked) are equal with Postfix's verify and with ours. The
//! cache starts with entries from an earlier run, which the cleanup run at start-up
//! keeps or drops. With the cache in memory and no negative caching, a failed probe
//! leaves nothing and the next query probes again, as with Postfix's verify.
//!
//! scache: a client as Postfix's SMTP client speaks (scache_client.py) saves sessions,
//! binds a destination, finds them again and uses the descriptor it gets back, sends bad
//! requests and lets a session outlive connection_cache_ttl_limit; its answers and
//! scache's log lines (the statistics) are equal with Postfix's scache and with ours.
//! Then Postfix's SMTP client, told to cache its sessions to smtp-sink, delivers three
//! messages over one connection through either scache (conn_use=2, conn_use=3).

use e2e::{IRONPOST_DAEMONS, Instance, wait_until};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;

/// The daemons of a run: the harness's, but Postfix's smtp and lmtp (which use the
/// connection cache), Postfix's verify and scache unless `extra` asks for ours. The
/// smtpd is ironpost's (t-51 holds it against Postfix's), so it speaks to both verify
/// services.
fn daemons(extra: &[&'static str]) -> Vec<&'static str> {
    const POSTFIX_S: [&str; 4] = ["smtp", "lmtp", "verify", "scache"];
    let mut list: Vec<&str> = IRONPOST_DAEMONS
        .iter()
        .copied()
        .filter(|d| !POSTFIX_S.contains(d))
        .collect();
    list.extend_from_slice(extra);
    list
}

/// One SMTP reply (all its lines).
fn read_reply(reader: &mut BufReader<TcpStream>) -> String {
    let mut reply = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        reply.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            break;
        }
    }
    reply.trim_end().to_string()
}

/// A session that stops after RCPT TO: the reply to it.
fn rcpt(mx: &Instance, recipient: &str) -> String {
    let disconnects = mx.log().matches("disconnect from").count();
    let stream = TcpStream::connect(("127.0.0.1", mx.smtp_port)).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    read_reply(&mut reader);
    let mut say = |line: &str, reader: &mut BufReader<TcpStream>| {
        writer.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        read_reply(reader)
    };
    say("EHLO client.e2e.test", &mut reader);
    say("MAIL FROM:<a@example.org>", &mut reader);
    let reply = say(&format!("RCPT TO:<{recipient}>"), &mut reader);
    say("QUIT", &mut reader);
    // The next session's smtpd must not log its connect before this one's disconnect:
    // the lines are compared in order with Postfix's.
    wait_until(10, || {
        mx.log().matches("disconnect from").count() > disconnects
    });
    reply
}

/// Digits in `text` that vary from run to run replaced: queue IDs, times, delays,
/// sizes, process IDs and message IDs.
fn mask(text: &str) -> String {
    let text = e2e::smtpd_log::normalize_message(text);
    let mut out = Vec::new();
    for word in text.split(' ') {
        let masked = match word.split_once('=') {
            Some((name, _)) if ["delay", "delays", "size", "message-id"].contains(&name) => {
                format!("{name}=X")
            }
            _ => word.to_string(),
        };
        out.push(masked);
    }
    out.join(" ")
}

/// The log as `program: text` lines, masked (the instance directory and the sink's port
/// too), without the
/// master's and postlogd's.
fn log_lines(mx: &Instance) -> Vec<String> {
    mx.log()
        .replace(&mx.dir.display().to_string(), "@DIR@")
        .replace(&format!(":{}", mx.sink_port), ":@SINK_PORT@")
        .lines()
        .filter_map(|l| {
            let (_, rest) = l.split_once(" postfix/")?;
            let (program, rest) = rest.split_once('[')?;
            let (_, text) = rest.split_once("]: ")?;
            (!["master", "postlogd"].contains(&program))
                .then(|| format!("{program}: {}", mask(text)))
        })
        .collect()
}

/// The lines of `program` only.
fn of(lines: &[String], program: &str) -> Vec<String> {
    let prefix = format!("{program}: ");
    lines
        .iter()
        .filter(|l| l.starts_with(&prefix))
        .cloned()
        .collect()
}

/// The verify cache as `postmap -s` lists it, with time stamps shown as 0 or T.
fn cache_state(mx: &Instance) -> Vec<String> {
    let out = Command::new("/usr/sbin/postmap")
        .arg("-c")
        .arg(mx.etc())
        .arg("-s")
        .arg(format!("btree:{}/data/verify_cache", mx.dir.display()))
        .output()
        .unwrap();
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (key, value) = l.split_once('\t').unwrap_or((l, ""));
            if key == "_LAST_CACHE_CLEANUP_COMPLETED_" {
                return format!("{key}\tT");
            }
            let fields: Vec<&str> = value.splitn(4, ':').collect();
            let stamp = |s: &str| if s == "0" { "0" } else { "T" };
            match fields[..] {
                [status, probed, updated, text] => {
                    format!(
                        "{key}\t{status}:{}:{}:{text}",
                        stamp(probed),
                        stamp(updated)
                    )
                }
                _ => l.to_string(),
            }
        })
        .collect();
    lines.sort();
    lines
}

/// A cache left by an earlier run, made with Postfix's postmap as the mail owner: an
/// unexpired result, an expired one and a malformed entry. The cleanup run at start-up
/// keeps the first and drops the others. Their keys sort after every address the test
/// queries: the run examines its first entry before the first query, and a walk in key
/// order does not come back for keys written behind it, so the counts do not depend on
/// when the first query comes.
fn seed_cache(mx: &Instance) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let entries = format!(
        "zz-fresh@e2e.test 0:0:{}:250 2.1.5 Ok\n\
         zz-stale@e2e.test 2:0:{}:550 5.1.1 gone\n\
         zz-broken@e2e.test junk\n",
        now - 60,
        now - 10 * 86400
    );
    let out = mx.run_with_input(
        "/usr/sbin/postmap",
        &[
            "-i",
            &format!("btree:{}/data/verify_cache", mx.dir.display()),
        ],
        entries.as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let chown = Command::new("chown")
        .arg("postfix")
        .arg(mx.dir.join("data/verify_cache.db"))
        .status()
        .unwrap();
    assert!(chown.success());
}

/// What a verify run saw.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    replies: Vec<String>,
    lines: Vec<Vec<String>>,
    cache: Vec<String>,
}

const VERIFY_MAIN_CF: &str = "
smtpd_recipient_restrictions = reject_unverified_recipient, permit_mynetworks, reject
address_verify_poll_count = 1
address_verify_negative_refresh_time = 2s
address_verify_sender = probe@e2e.test
address_verify_sender_ttl = 30d
";

fn run_verify(ours: bool) -> Option<Seen> {
    let extra: &[&str] = if ours { &["verify"] } else { &[] };
    let name = if ours { "t-37-ours" } else { "t-37-postfix" };
    let mut mx = Instance::with_daemons(name, &daemons(extra))?;
    mx.set_main_cf("relay_domains", "relay.e2e.test, bad.e2e.test");
    mx.add_main_cf(VERIFY_MAIN_CF);
    mx.write(
        "etc/transport",
        &mx.expand(
            "relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n\
             bad.e2e.test error:5.1.1 no such mailbox here\n",
        ),
    );
    seed_cache(&mx);
    mx.start_sink();
    mx.start();
    let mut replies = Vec::new();
    let mut results = 0;
    for recipient in [
        "user@vmail.e2e.test",
        "nobody-here@mail.e2e.test",
        "x@relay.e2e.test",
        "y@bad.e2e.test",
    ] {
        // Unknown: "in progress", and a probe goes out.
        replies.push(rcpt(&mx, recipient));
        results += 1;
        let probed = wait_until(30, || {
            mx.log().matches("status=deliverable").count()
                + mx.log().matches("status=undeliverable").count()
                >= results
        });
        if !probed {
            mx.keep_for_inspection();
            panic!("no probe result for {recipient}:\n{}", mx.log());
        }
        // Known: the answer comes from the cache.
        replies.push(rcpt(&mx, recipient));
    }
    // Past address_verify_negative_refresh_time an undeliverable address is answered from
    // the cache and probed again; the next query does not probe while that probe is out.
    std::thread::sleep(std::time::Duration::from_secs(3));
    replies.push(rcpt(&mx, "nobody-here@mail.e2e.test"));
    results += 1;
    let reprobed = wait_until(30, || {
        mx.log().matches("status=undeliverable").count()
            + mx.log().matches("status=deliverable").count()
            >= results
    });
    assert!(reprobed, "no second probe:\n{}", mx.log());
    replies.push(rcpt(&mx, "nobody-here@mail.e2e.test"));
    // Let the last session's lines reach the log.
    wait_until(10, || {
        mx.log().matches("disconnect from").count() >= replies.len()
    });
    let all = log_lines(&mx);
    let lines = [
        "verify", "smtpd", "cleanup", "qmgr", "virtual", "local", "smtp", "error",
    ]
    .iter()
    .map(|p| of(&all, p))
    .collect();
    Some(Seen {
        replies,
        lines,
        cache: cache_state(&mx),
    })
}

#[test]
fn address_verification_as_postfix_does_it() {
    let Some(postfix) = run_verify(false) else {
        return;
    };
    let Some(ours) = run_verify(true) else {
        return;
    };
    assert!(
        postfix.replies[0].starts_with(
            "450 4.1.1 <user@vmail.e2e.test>: Recipient address rejected: unverified address:"
        ),
        "{:#?}",
        postfix.replies
    );
    assert_eq!(ours.replies, postfix.replies);
    assert_eq!(ours.cache, postfix.cache);
    for (ours, postfix) in ours.lines.iter().zip(&postfix.lines) {
        assert_eq!(ours, postfix);
    }
}

fn run_scache(ours: bool) -> Option<(String, Vec<String>)> {
    let extra: &[&str] = if ours { &["scache"] } else { &[] };
    let name = if ours {
        "t-37-scache-ours"
    } else {
        "t-37-scache-postfix"
    };
    let mut mx = Instance::with_daemons(name, &daemons(extra))?;
    mx.add_main_cf("connection_cache_status_update_time = 8s\n");
    mx.start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/t-37-verify/scache_client.py");
    let socket = mx.dir.join("queue/private/scache");
    let out = Command::new("python3")
        .arg(script)
        .arg(&socket)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scache client: {}\nlog:\n{}",
        String::from_utf8_lossy(&out.stderr),
        mx.log()
    );
    mx.wait_log("statistics: max simultaneous", 20);
    let lines = of(&log_lines(&mx), "scache")
        .into_iter()
        .map(|l| match l.split_once("start interval ") {
            // The time's shape stays ("Dec  6 10:12:34"), its digits go.
            Some((head, time)) => format!(
                "{head}start interval {}",
                time.replace(|c: char| c.is_ascii_digit(), "9")
            ),
            None => l,
        })
        .collect();
    Some((String::from_utf8_lossy(&out.stdout).into_owned(), lines))
}

#[test]
fn connection_cache_as_postfix_does_it() {
    let Some(postfix) = run_scache(false) else {
        return;
    };
    let Some(ours) = run_scache(true) else {
        return;
    };
    assert!(postfix.0.contains("session works: True"), "{}", postfix.0);
    assert_eq!(ours.0, postfix.0);
    assert_eq!(ours.1, postfix.1);
}

/// Postfix's SMTP client with a cached destination: the smtp lines of three messages
/// relayed one after another (the second and third reuse the first session), and the
/// cache's hits and misses summed over its statistics lines.
fn run_smtp_reuse(ours: bool) -> Option<(Vec<String>, (u32, u32))> {
    let extra: &[&str] = if ours { &["scache"] } else { &[] };
    let name = if ours {
        "t-37-reuse-ours"
    } else {
        "t-37-reuse-postfix"
    };
    let mut mx = Instance::with_daemons(name, &daemons(extra))?;
    mx.add_main_cf(
        "smtp_connection_cache_destinations = 127.0.0.1\n\
         smtp_connection_cache_time_limit = 30s\n\
         connection_cache_ttl_limit = 30s\n\
         connection_cache_status_update_time = 2s\n",
    );
    mx.start_sink();
    mx.start();
    for n in 1..=3 {
        mx.send(
            mx.smtp_port,
            "a@example.org",
            "x@relay.e2e.test",
            &format!("t37-{n}"),
        )
        .unwrap();
        let sent = wait_until(30, || mx.log().matches("status=sent").count() >= n);
        assert!(sent, "message {n} not sent:\n{}", mx.log());
    }
    // scache logs its statistics every 2s (the master's SIGTERM at stop leaves it no
    // time to): let the last lookups be counted.
    std::thread::sleep(std::time::Duration::from_secs(5));
    let lines = log_lines(&mx);
    let mut sums = (0, 0);
    for line in of(&lines, "scache") {
        if let Some(rest) = line.strip_prefix("scache: statistics: domain lookup hits=") {
            let (hits, rest) = rest.split_once(" miss=").unwrap();
            let miss = rest.split_once(' ').unwrap().0;
            sums.0 += hits.parse::<u32>().unwrap();
            sums.1 += miss.parse::<u32>().unwrap();
        }
    }
    Some((of(&lines, "smtp"), sums))
}

#[test]
fn postfix_smtp_reuses_sessions_through_the_cache() {
    let Some(postfix) = run_smtp_reuse(false) else {
        return;
    };
    let Some(ours) = run_smtp_reuse(true) else {
        return;
    };
    assert!(
        postfix.0.iter().any(|l| l.contains("conn_use=3")),
        "{:#?}",
        postfix.0
    );
    // The second and third delivery found the session by destination.
    assert!(postfix.1.0 >= 2, "{postfix:?}");
    assert_eq!(ours, postfix);
}

/// The cache in memory only (an empty address_verify_map) and no negative caching: a
/// failed probe leaves nothing behind, so the next query probes again; a success is kept.
fn run_volatile(ours: bool) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let extra: &[&str] = if ours { &["verify"] } else { &[] };
    let name = if ours {
        "t-37-volatile-ours"
    } else {
        "t-37-volatile-postfix"
    };
    let mut mx = Instance::with_daemons(name, &daemons(extra))?;
    mx.add_main_cf(
        "smtpd_recipient_restrictions = reject_unverified_recipient, permit_mynetworks, reject\n\
         address_verify_poll_count = 1\n\
         address_verify_map =\n\
         address_verify_negative_cache = no\n",
    );
    mx.start();
    let mut replies = Vec::new();
    for (n, recipient) in [
        "nobody-here@mail.e2e.test",
        "nobody-here@mail.e2e.test",
        "user@vmail.e2e.test",
    ]
    .into_iter()
    .enumerate()
    {
        replies.push(rcpt(&mx, recipient));
        let probed = wait_until(30, || {
            mx.log().matches("status=deliverable").count()
                + mx.log().matches("status=undeliverable").count()
                > n
        });
        assert!(probed, "no probe result for {recipient}:\n{}", mx.log());
    }
    replies.push(rcpt(&mx, "user@vmail.e2e.test"));
    wait_until(10, || {
        mx.log().matches("disconnect from").count() >= replies.len()
    });
    let all = log_lines(&mx);
    let lines = ["verify", "smtpd", "qmgr", "virtual", "local"]
        .iter()
        .map(|p| of(&all, p))
        .collect();
    Some((replies, lines))
}

#[test]
fn a_volatile_cache_without_negative_caching_as_postfix_s() {
    let Some(postfix) = run_volatile(false) else {
        return;
    };
    let Some(ours) = run_volatile(true) else {
        return;
    };
    assert!(
        postfix.1[4]
            .iter()
            .any(|l| l.contains("status=undeliverable-but-not-cached")),
        "{:#?}",
        postfix.1
    );
    assert_eq!(ours.0, postfix.0);
    for (ours, postfix) in ours.1.iter().zip(&postfix.1) {
        assert_eq!(ours, postfix);
    }
}
