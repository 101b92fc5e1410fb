//! discard, error and retry: ironpost's agents against Postfix's in the same harness
//! (ironpost's master, queue manager and the rest; Postfix's bounce and virtual). Mail
//! routed by transport_maps to `discard:`, `discard:2.x.y text`, `error:5.x.y text`,
//! `error:text` and `retry:4.x.y text` goes through each pair of agents: the agents'
//! status lines (recipient, orig_to, relay=none, the status code and text taken from
//! the next hop), the queue manager's and the bounce service's lines, the non-delivery
//! notice the sender gets (its delivery-status part carries what the agent appended to
//! the bounce log), the deferred message and its defer log must be equal after queue
//! IDs, sizes, delays and ports are normalised. `sendmail -bv` (the report says
//! deliverable or undeliverable, nothing is delivered) and `sendmail -v` (delivered and
//! reported) go through the same agents, and so do the address verification service's
//! probes (the agent answers the verify service, deliverable or undeliverable, and
//! delivers nothing).

#[path = "../t-23-qmgr/harness.rs"]
#[allow(dead_code)]
mod harness;
mod verify;

use e2e::{IRONPOST_DAEMONS, Instance};
use harness::{USER, lines_of, queue_files, queue_ids, sendmail, wait_count, wait_queue};

/// Whose discard and error agents an instance runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Agents {
    Ours,
    Postfix,
}

/// An instance with the test's transport table and the chosen agents.
fn instance(name: &str, agents: Agents) -> Option<Instance> {
    // Postfix's agents on the Postfix side, whatever the suite's daemon list holds.
    let mut daemons: Vec<&str> = IRONPOST_DAEMONS
        .iter()
        .copied()
        .filter(|d| !["discard", "error"].contains(d))
        .collect();
    let suffix = match agents {
        Agents::Ours => {
            daemons.extend(["discard", "error"]);
            "ours"
        }
        Agents::Postfix => "postfix",
    };
    let mx = Instance::with_daemons(&format!("{name}-{suffix}"), &daemons)?;
    mx.write(
        "etc/transport",
        "discard.e2e.test discard:\n\
         silent.e2e.test discard:2.1.5 dropped on purpose\n\
         gone.e2e.test error:5.1.1 no such user here\n\
         plain.e2e.test error:mailbox closed\n\
         later.e2e.test retry:4.3.2 try again later\n",
    );
    mx.install_commands();
    Some(mx)
}

/// Runs `scenario` with our agents, then with Postfix's; None when the mixed system
/// cannot run here (the test is skipped).
fn both<T>(scenario: impl Fn(Agents) -> Option<T>) -> Option<(T, T)> {
    Some((scenario(Agents::Ours)?, scenario(Agents::Postfix)?))
}

/// The lines of the agents (the retry service logs as its program, error), the queue
/// manager and the bounce service.
fn lines(mx: &Instance) -> Vec<String> {
    lines_of(mx, &["discard", "error", "qmgr", "bounce"])
}

/// `text` with each run of eight or more digits (time stamps in Message-IDs and MIME
/// boundaries) replaced by `N`.
fn without_long_numbers(text: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if digits.len() >= 8 {
            out.push('N');
        } else {
            out.push_str(&digits);
        }
        digits.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

/// A message text with what differs between runs replaced: queue IDs, dates, the
/// instance's directory, Message-IDs and MIME boundaries (which hold the queue ID).
fn normalised_message(mx: &Instance, text: &str) -> String {
    let ids = queue_ids(&mx.log());
    let mut out = Vec::new();
    for line in text.lines() {
        let mut line = line.to_string();
        for id in &ids {
            line = line.replace(id.as_str(), "QUEUEID");
        }
        let line = line.replace(&mx.dir.display().to_string(), "DIR");
        let line = without_long_numbers(&line);
        let dated = ["Date:", "Arrival-Date:", "Last-Attempt-Date:", "\tid "];
        if dated.iter().any(|d| line.starts_with(d)) {
            out.push(line.split(':').next().unwrap_or("").to_string() + ": ...");
        } else {
            out.push(line);
        }
    }
    out.join("\n")
}

/// The defer log of each deferred message, with queue IDs normalised.
fn defer_logs(mx: &Instance) -> Vec<String> {
    let ids = queue_ids(&mx.log());
    queue_files(mx, "defer")
        .values()
        .map(|path| {
            let mut text = std::fs::read_to_string(path).unwrap();
            for id in &ids {
                text = text.replace(id.as_str(), "QUEUEID");
            }
            text
        })
        .collect()
}

/// Mail to each kind of next hop, one message with several recipients among them:
/// (the normalised lines, the notices in the sender's mailbox, the defer logs).
fn deliveries(agents: Agents) -> Option<(Vec<String>, Vec<String>, Vec<String>)> {
    let mut mx = instance("t-25-deliver", agents)?;
    mx.start();
    sendmail(&mx, USER, "someone@discard.e2e.test", "t25-discard");
    sendmail(&mx, USER, "Someone@silent.e2e.test", "t25-silent");
    sendmail(&mx, USER, "user@gone.e2e.test", "t25-gone");
    sendmail(&mx, USER, "user@plain.e2e.test", "t25-plain");
    sendmail(&mx, USER, "user@later.e2e.test", "t25-later");
    let message = "From: user@vmail.e2e.test\nSubject: t25-multi\n\nbody t25-multi\n";
    let out = mx.sendmail(
        &[
            "-f",
            USER,
            "a@discard.e2e.test",
            "b@discard.e2e.test",
            "c@gone.e2e.test",
        ],
        message,
    );
    assert!(out.status.success());
    // Six messages; five are done (with three non-delivery notices, also done), the
    // retry one waits in deferred/.
    wait_count(&mx, ": removed", 8, 60);
    wait_queue(&mx, "deferred", 1);
    let mut notices: Vec<String> = mx
        .mailbox()
        .iter()
        .map(|m| normalised_message(&mx, m))
        .collect();
    notices.sort();
    assert_eq!(notices.len(), 3, "{notices:#?}");
    Some((lines(&mx), notices, defer_logs(&mx)))
}

#[test]
fn discard_error_and_retry_deliver_as_postfix_s_agents() {
    let Some((ours, postfix)) = both(deliveries) else {
        return;
    };
    let (lines, notices, defer) = &ours;
    for needle in [
        "postfix/discard: QUEUEID: to=<someone@discard.e2e.test>, relay=none, delay=N, \
         delays=N, dsn=2.0.0, status=sent (discard.e2e.test)",
        "postfix/discard: QUEUEID: to=<Someone@silent.e2e.test>, relay=none",
        "dsn=2.1.5, status=sent (dropped on purpose)",
        "postfix/error: QUEUEID: to=<user@gone.e2e.test>, relay=none, delay=N, delays=N, \
         dsn=5.1.1, status=bounced (no such user here)",
        "dsn=5.0.0, status=bounced (mailbox closed)",
        "postfix/error: QUEUEID: to=<user@later.e2e.test>, relay=none, delay=N, delays=N, \
         dsn=4.3.2, status=deferred (try again later)",
        "to=<c@gone.e2e.test>",
    ] {
        harness::assert_line(lines, needle);
    }
    assert!(
        notices.iter().any(|n| n.contains("Status: 5.1.1")),
        "{notices:#?}"
    );
    assert_eq!(defer.len(), 1);
    assert_eq!(ours.0, postfix.0);
    assert_eq!(ours.1, postfix.1);
    assert_eq!(ours.2, postfix.2);
}

/// `sendmail -bv` to each agent (a report, nothing delivered or bounced) and
/// `sendmail -v` to discard (dropped, reported): the normalised lines and reports.
fn reports(agents: Agents) -> Option<(Vec<String>, Vec<String>)> {
    let mut mx = instance("t-25-reports", agents)?;
    mx.start();
    let message = "From: user@vmail.e2e.test\nSubject: t25-report\n\nbody t25-report\n";
    for rcpt in ["x@discard.e2e.test", "x@gone.e2e.test", "x@later.e2e.test"] {
        let out = mx.sendmail(&["-bv", "-f", USER, rcpt], message);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = mx.sendmail(&["-v", "-f", USER, "y@silent.e2e.test"], message);
    assert!(out.status.success());
    // Four messages and four reports.
    wait_count(&mx, ": removed", 8, 60);
    let mut reports: Vec<String> = mx
        .mailbox()
        .iter()
        .map(|m| normalised_message(&mx, m))
        .collect();
    reports.sort();
    assert_eq!(reports.len(), 4, "{reports:#?}");
    for queue in ["deferred", "bounce", "defer"] {
        assert!(queue_files(&mx, queue).is_empty(), "{queue}:\n{}", mx.log());
    }
    Some((lines(&mx), reports))
}

#[test]
fn probes_and_delivery_reports_as_with_postfix_s_agents() {
    let Some((ours, postfix)) = both(reports) else {
        return;
    };
    for needle in [
        "to=<x@discard.e2e.test>, relay=none, delay=N, delays=N, dsn=2.0.0, \
         status=deliverable (discard.e2e.test)",
        "to=<x@gone.e2e.test>, relay=none, delay=N, delays=N, dsn=5.1.1, \
         status=undeliverable (no such user here)",
        "to=<x@later.e2e.test>, relay=none, delay=N, delays=N, dsn=4.3.2, \
         status=undeliverable (try again later)",
        "to=<y@silent.e2e.test>, relay=none, delay=N, delays=N, dsn=2.1.5, \
         status=sent (dropped on purpose)",
    ] {
        harness::assert_line(&ours.0, needle);
    }
    assert!(
        ours.1.iter().any(|r| r.contains("Action: undeliverable")),
        "{:#?}",
        ours.1
    );
    assert_eq!(ours.0, postfix.0);
    assert_eq!(ours.1, postfix.1);
}

/// Address probes of the verify service through each agent: (the answers, the lines).
/// The verify service's answers (status, text) and the log lines of a probe run.
type Probes = (Vec<(i32, String)>, Vec<String>);

fn probes(agents: Agents) -> Option<Probes> {
    let mut mx = instance("t-25-verify", agents)?;
    mx.start();
    let addresses = ["v@discard.e2e.test", "v@gone.e2e.test", "v@later.e2e.test"];
    let answers = addresses.iter().map(|a| verify::settled(&mx, a)).collect();
    // Each probe message is done and removed; nothing was bounced or deferred.
    wait_count(&mx, ": removed", 3, 60);
    for queue in ["deferred", "bounce", "defer"] {
        assert!(queue_files(&mx, queue).is_empty(), "{queue}:\n{}", mx.log());
    }
    assert!(mx.mailbox().is_empty(), "{:#?}", mx.mailbox());
    Some((answers, lines(&mx)))
}

#[test]
fn verify_probes_are_answered_as_by_postfix_s_agents() {
    let Some((ours, postfix)) = both(probes) else {
        return;
    };
    assert_eq!(
        ours.0,
        [
            (0, "discard.e2e.test".to_string()),
            (2, "no such user here".to_string()),
            (1, "try again later".to_string()),
        ]
    );
    harness::assert_line(
        &ours.1,
        "to=<v@gone.e2e.test>, relay=none, delay=N, delays=N, dsn=5.1.1, \
         status=undeliverable (no such user here)",
    );
    assert_eq!(ours, postfix);
}
