//! qmgr's in-memory recipient limits: a message with thousands of recipients is read a
//! slice at a time (qmgr_message_recipient_limit for the first read, the transport's
//! default_recipient_limit slots after it), every recipient is delivered exactly once,
//! a small message submitted meanwhile is delivered before the big one is done, and the
//! queue manager's memory stays bounded. The delivery scenario also runs with Postfix's
//! queue manager in the same harness: the queue manager's lines (`nrcpt=`, `removed`)
//! and the agent's delivery lines must be equal after normalisation.

// t-23's harness: Qmgr, waiting, and the log lines with queue IDs, sizes and delays
// normalised (sorted, so the order of deliveries does not matter).
#[path = "../t-23-qmgr/harness.rs"]
#[allow(dead_code)]
mod harness;

use e2e::{IRONPOST_DAEMONS, Instance, wait_until};
use harness::{Qmgr, lines_of, wait_count};
use std::collections::BTreeMap;

/// An instance with our queue manager or Postfix's and ironpost's other daemons, the
/// recipient limits small or left at their defaults, and `bulk.e2e.test` routed to the
/// `bulk` transport (a pipe that records its recipients) and `void.e2e.test` to discard.
fn instance(name: &str, qmgr: Qmgr, small_limits: bool) -> Option<Instance> {
    let daemons: Vec<&str> = IRONPOST_DAEMONS
        .iter()
        .copied()
        .filter(|d| qmgr == Qmgr::Ours || *d != "qmgr")
        .collect();
    let suffix = match qmgr {
        Qmgr::Ours => "ours",
        Qmgr::Postfix => "postfix",
    };
    let mx = Instance::with_daemons(&format!("{name}-{suffix}"), &daemons)?;
    std::fs::create_dir_all(mx.dir.join("bulk")).unwrap();
    let chown = std::process::Command::new("chown")
        .arg("nobody")
        .arg(mx.dir.join("bulk"))
        .status()
        .unwrap();
    assert!(chown.success());
    mx.write("etc/bulk.sh", &mx.expand(BULK_SH));
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write(
        "etc/master.cf",
        &mx.expand(&format!(
            "{master_cf}bulk unix - n n - - pipe\n  user=nobody argv=/bin/sh @DIR@/etc/bulk.sh ${{recipient}}\n"
        )),
    );
    mx.write(
        "etc/transport",
        "bulk.e2e.test bulk:\nvoid.e2e.test discard:\n",
    );
    if small_limits {
        // The recipient limit may not be below the active queue limit (Postfix raises
        // it to that), so both are small.
        mx.set_main_cf("qmgr_message_active_limit", "10");
        mx.set_main_cf("qmgr_message_recipient_limit", "100");
        mx.set_main_cf("default_recipient_limit", "100");
    }
    // Two deliveries of 50 recipients at a time, so that the big message takes a while.
    mx.set_main_cf("bulk_destination_concurrency_limit", "2");
    mx.set_main_cf("bulk_destination_recipient_limit", "50");
    Some(mx)
}

/// The pipe command: records its recipients, one a line, and takes a moment.
const BULK_SH: &str = "\
cat > /dev/null
exec 9>>@DIR@/bulk/lock
flock 9
printf '%s\\n' \"$@\" >> @DIR@/bulk/log
flock -u 9
sleep 0.1
";

/// `count` recipients at `domain`.
fn recipients(prefix: &str, count: usize, domain: &str) -> Vec<String> {
    (0..count)
        .map(|n| format!("{prefix}{n:05}@{domain}"))
        .collect()
}

/// Submits one message from root to `rcpts` with sendmail.
fn submit(mx: &Instance, rcpts: &[String], subject: &str) {
    let mut args = vec!["-f", "root"];
    args.extend(rcpts.iter().map(String::as_str));
    let out = mx.sendmail(&args, &format!("Subject: {subject}\n\n{subject}\n"));
    assert!(
        out.status.success(),
        "sendmail: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How many times each recipient was delivered, from the lines of `agent`.
fn deliveries(lines: &[String], agent: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in lines {
        if !line.starts_with(&format!("postfix/{agent}: ")) || !line.contains("status=sent") {
            continue;
        }
        let Some((_, rest)) = line.split_once("to=<") else {
            continue;
        };
        let Some((rcpt, _)) = rest.split_once('>') else {
            continue;
        };
        *counts.entry(rcpt.to_string()).or_insert(0) += 1;
    }
    counts
}

/// What the slicing scenario shows.
struct Sliced {
    /// The queue manager's and the pipe agent's lines, normalised and sorted.
    lines: Vec<String>,
    /// The recipients the pipe command saw, in order.
    seen: Vec<String>,
}

/// 5,000 recipients under small recipient limits, and a one-recipient message once the
/// first delivery of the big one has started.
fn slicing(qmgr: Qmgr) -> Option<Sliced> {
    let mut mx = instance("t-45-slice", qmgr, true)?;
    mx.start();
    submit(&mx, &recipients("b", 5000, "bulk.e2e.test"), "t45-big");
    let log = mx.dir.join("bulk/log");
    if !wait_until(60, || std::fs::metadata(&log).is_ok_and(|m| m.len() > 0)) {
        mx.keep_for_inspection();
        panic!("no delivery started");
    }
    submit(&mx, &["small@bulk.e2e.test".to_string()], "t45-small");
    wait_count(&mx, ": removed", 2, 300);
    let seen = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    Some(Sliced {
        lines: lines_of(&mx, &["qmgr", "pipe"]),
        seen,
    })
}

/// Checks what either queue manager must do: every recipient once, the small message
/// before the big one is done, the `nrcpt=` lines.
fn check_slicing(run: &Sliced, who: &str) {
    let mut expected = recipients("b", 5000, "bulk.e2e.test");
    expected.push("small@bulk.e2e.test".to_string());
    let mut seen = run.seen.clone();
    seen.sort();
    expected.sort();
    assert_eq!(seen.len(), expected.len(), "{who}: recipients seen");
    assert!(seen == expected, "{who}: not every recipient exactly once");
    let sent = deliveries(&run.lines, "pipe");
    assert_eq!(sent.len(), 5001, "{who}: delivery lines");
    assert!(
        sent.values().all(|&n| n == 1),
        "{who}: a recipient logged twice"
    );
    let small = run
        .seen
        .iter()
        .position(|r| r == "small@bulk.e2e.test")
        .unwrap();
    assert!(
        small < 4900,
        "{who}: the small message waited for the big one (position {small})"
    );
    let nrcpt: Vec<&String> = run.lines.iter().filter(|l| l.contains("nrcpt=")).collect();
    assert_eq!(nrcpt.len(), 2, "{who}: {nrcpt:#?}");
    // Sorted: the small message's line first.
    assert!(nrcpt[0].ends_with("nrcpt=1 (queue active)"), "{nrcpt:?}");
    assert!(nrcpt[1].ends_with("nrcpt=5000 (queue active)"), "{nrcpt:?}");
}

#[test]
fn a_big_message_is_read_in_slices_and_delivered_once_as_with_postfix() {
    let Some(ours) = slicing(Qmgr::Ours) else {
        return;
    };
    check_slicing(&ours, "ours");
    let Some(postfix) = slicing(Qmgr::Postfix) else {
        return;
    };
    check_slicing(&postfix, "Postfix");
    // Both queue managers may also warn that the destination is using up the active
    // queue (qmgr_clog_warn_time), whenever it holds more than two entries as one is
    // made, which depends on timing: the other lines are compared.
    let mail_lines = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter(|l| !l.starts_with("postfix/qmgr: warning: "))
            .cloned()
            .collect()
    };
    let (a, b) = (mail_lines(&ours.lines), mail_lines(&postfix.lines));
    if a != b {
        let only_ours: Vec<&String> = a.iter().filter(|l| !b.contains(l)).take(10).collect();
        let only_postfix: Vec<&String> = b.iter().filter(|l| !a.contains(l)).take(10).collect();
        panic!(
            "qmgr and pipe lines differ from Postfix's ({} and {} lines):\nours only: \
             {only_ours:#?}\nPostfix's only: {only_postfix:#?}",
            a.len(),
            b.len()
        );
    }
}

/// The peak resident size of the queue manager (kB) after it has delivered one message
/// to 20,000 discard recipients, each exactly once.
fn peak_memory(small_limits: bool) -> Option<u64> {
    let tag = if small_limits { "small" } else { "default" };
    let mut mx = instance(&format!("t-45-memory-{tag}"), Qmgr::Ours, small_limits)?;
    mx.start();
    let rcpts = recipients("v", 20000, "void.e2e.test");
    submit(&mx, &rcpts, "t45-memory");
    wait_count(&mx, ": removed", 1, 300);
    let lines = lines_of(&mx, &["discard"]);
    let sent = deliveries(&lines, "discard");
    assert_eq!(sent.len(), 20000, "{tag}: recipients delivered");
    assert!(sent.values().all(|&n| n == 1), "{tag}: a recipient twice");
    let pids = mx.daemons("qmgr");
    assert_eq!(pids.len(), 1, "{tag}: qmgr processes {pids:?}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", pids[0])).unwrap();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    Some(peak)
}

#[test]
fn the_recipient_limits_bound_the_queue_managers_memory() {
    let Some(small) = peak_memory(true) else {
        return;
    };
    let Some(default) = peak_memory(false) else {
        return;
    };
    // With the defaults the whole list is in memory at once (a few hundred bytes per
    // recipient); with 100 slots, a hundred or so.
    eprintln!("qmgr peak resident size: {small} kB with small limits, {default} kB without");
    assert!(
        small + 2000 < default,
        "peak resident size {small} kB with small limits, {default} kB without"
    );
}

/// Eight recipients for one destination of a transport with two recipients per delivery
/// and an active queue limit of ten: the message's four entries are made at once, and
/// from the third on the destination holds more than a fifth of the active queue; the
/// queue manager's warnings.
fn clogging(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-45-clog", qmgr, true)?;
    mx.set_main_cf("bulk_destination_recipient_limit", "2");
    mx.start();
    submit(&mx, &recipients("c", 8, "bulk.e2e.test"), "t45-clog");
    wait_count(&mx, ": removed", 1, 60);
    Some(
        lines_of(&mx, &["qmgr"])
            .into_iter()
            .filter(|l| l.contains(": warning: "))
            .collect(),
    )
}

#[test]
fn a_destination_clogging_the_active_queue_is_warned_about_as_with_postfix() {
    let Some(ours) = clogging(Qmgr::Ours) else {
        return;
    };
    let Some(postfix) = clogging(Qmgr::Postfix) else {
        return;
    };
    assert!(
        ours.iter()
            .any(|l| l.ends_with("mail for bulk.e2e.test is using up 3 of 1 active queue entries")),
        "{ours:#?}"
    );
    assert_eq!(ours, postfix);
}
