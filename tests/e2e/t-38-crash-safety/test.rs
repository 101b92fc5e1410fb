//! Crash safety of the whole mail system: 1,000 marked messages arrive over SMTP from
//! concurrent clients while the test SIGKILLs the master and every kind of daemon
//! (smtpd, cleanup, trivial-rewrite, qmgr, the delivery agent, bounce...) at random
//! moments, restarting the mail system whenever the master is gone (after killing what
//! is left of it, as a crash of the machine would). Afterwards, with
//! the system running and the deferred queue flushed, every message a client saw a 250
//! for has been delivered, whole, at least once; duplicates (a delivery done but not yet
//! marked done when its agent or the queue manager died, or a message queued whose 250
//! the client never saw) are counted and printed. Half-written queue files may stay in
//! incoming/ only. The same schedule shape runs against an all-Postfix system as the
//! control.

use e2e::load::{self, READY, Random};
use e2e::{Instance, wait_until};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Body lines per message.
const LINES: usize = 20;
/// Messages in all.
const COUNT: usize = 1000;

/// The daemons killed, each picked as often as it is listed.
const VICTIMS: [&str; 11] = [
    "smtpd",
    "smtpd",
    "cleanup",
    "cleanup",
    "qmgr",
    "qmgr",
    "virtual",
    "virtual",
    "trivial-rewrite",
    "bounce",
    "proxymap",
];

/// Seconds into the load at which the master itself is killed.
const MASTER_KILLS: [u64; 2] = [1, 2];

/// How far into the load the queue manager is killed if chance has not done it yet.
const QMGR_KILL: Duration = Duration::from_millis(2500);

#[test]
fn sigkill_of_any_process_loses_no_acknowledged_message() {
    if let Some(mut mx) = Instance::new("t-38") {
        mx.set_main_cf("service_throttle_time", "1s");
        mx.start();
        crash_under_load(&mx, "ironpost");
    }
}

#[test]
fn postfix_under_the_same_crashes() {
    if let Some(mx) = Instance::with_daemons("t-38-postfix", &[]) {
        mx.set_main_cf("service_throttle_time", "1s");
        start_with(&mx, "/usr/sbin/postfix");
        crash_under_load(&mx, "postfix");
    }
}

/// Starts the instance with `postfix` (ours or Postfix's) and waits for one more
/// "daemon started" line than the log had.
fn start_with(mx: &Instance, postfix: &str) {
    let before = mx.log().matches("daemon started -- version").count();
    let out = Command::new(postfix)
        .arg("-c")
        .arg(mx.etc())
        .arg("start")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "start: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        mx.log()
    );
    assert!(
        wait_until(20, || mx.log().matches("daemon started -- version").count()
            > before),
        "the master did not start again:\n{}",
        mx.log()
    );
}

/// After the master died: its idle children notice and leave; one in the middle of a
/// request (a cleanup retrying trivial-rewrite, an smtpd waiting for that cleanup) stays
/// until it is done, as Postfix's do, and keeps the SMTP port bound. Like a crash of the
/// whole machine, whatever is left after 5 s is killed too; then the mail system starts
/// again.
fn restart(mx: &Instance, postfix: &str) {
    if !wait_until(5, || mx.leftovers().is_empty()) {
        for leftover in mx.leftovers() {
            if let Some(pid) = leftover.split(' ').next() {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
        wait_until(5, || mx.leftovers().is_empty());
    }
    start_with(mx, postfix);
}

/// The `postfix` command: ours, or Postfix's for the control.
fn postfix_command(which: &str) -> String {
    if which == "postfix" {
        "/usr/sbin/postfix".to_string()
    } else {
        e2e::program("postfix").display().to_string()
    }
}

fn crash_under_load(mx: &Instance, which: &str) {
    let postfix = postfix_command(which);
    // 100 attempts 0.2 s apart ride out a master restart.
    let load = load::start(mx.smtp_port, COUNT, 8, LINES, 100, "t38m");
    let mut load = Some(load);
    let mut random = Random::new("IRONPOST_T38_SEED");
    let mut kills: BTreeMap<&str, usize> = BTreeMap::new();
    let started = Instant::now();
    while load.as_mut().unwrap().try_wait().unwrap().is_none()
        && started.elapsed() < Duration::from_secs(120)
    {
        std::thread::sleep(Duration::from_millis(100 + random.below(300)));
        let master_due = MASTER_KILLS
            .iter()
            .filter(|&&at| started.elapsed() >= Duration::from_secs(at))
            .count();
        let name = if kills.get("master").copied().unwrap_or(0) < master_due {
            "master"
        } else if !kills.contains_key("qmgr") && started.elapsed() >= QMGR_KILL {
            // At least once, however quickly the load is done: a run without a dead
            // queue manager proves less.
            "qmgr"
        } else {
            VICTIMS[random.below(VICTIMS.len() as u64) as usize]
        };
        let pids = if name == "master" {
            mx.master_pid().into_iter().collect()
        } else {
            mx.daemons(name)
        };
        if pids.is_empty() {
            continue;
        }
        let pid = pids[random.below(pids.len() as u64) as usize];
        if !sigkill(pid) {
            continue;
        }
        *kills.entry(name).or_default() += 1;
        if name == "master" {
            // Its children notice and leave; then start it all again.
            restart(mx, &postfix);
        }
    }
    let mut child = load.take().unwrap();
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill();
    }
    let (acked, lost, report) = load::acknowledged(child, COUNT);

    // Everything still queued is tried now: the deferred queue too.
    if mx
        .master_pid()
        .is_none_or(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
    {
        restart(mx, &postfix);
    }
    // A fast system may finish the load before the queue manager's turn came, or
    // while a restarted master had not yet started one: kill it now, while it still
    // works through what the load left queued.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !kills.contains_key("qmgr") && Instant::now() < deadline {
        for pid in mx.daemons("qmgr") {
            if sigkill(pid) {
                *kills.entry("qmgr").or_default() += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let complete_left = || {
        load::queue_files(mx)
            .iter()
            .filter(|(q, _, mode)| q != "hold" && mode & READY == READY)
            .count()
    };
    let drained = wait_until(120, || {
        let _ = Command::new(&postfix)
            .arg("-c")
            .arg(mx.etc())
            .arg("flush")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        std::thread::sleep(Duration::from_secs(1));
        complete_left() == 0
    });
    let mut problems = Vec::new();
    if !drained {
        problems.push(format!(
            "{} complete queue files still queued after 120 s",
            complete_left()
        ));
    }
    let delivered = load::delivered(mx, LINES, &mut problems);
    for (queue, path, mode) in load::queue_files(mx) {
        if mode & READY != READY && queue != "incoming" {
            problems.push(format!("{} not complete but in {queue}/", path.display()));
        }
    }
    for m in &acked {
        if !delivered.contains_key(m) {
            problems.push(format!("{m}: 250 seen by the client, never delivered"));
        }
    }
    let duplicates: usize = delivered.values().map(|n| n - 1).sum();
    let unacked_delivered = delivered.keys().filter(|m| !acked.contains(m)).count();
    println!(
        "{which}: {COUNT} messages, {} acknowledged, {lost} never acknowledged; kills \
         {kills:?}; delivered {} distinct, {duplicates} duplicate deliveries, \
         {unacked_delivered} delivered without a 250 seen",
        acked.len(),
        delivered.len(),
    );
    // Not vacuous: the master and the queue manager died at least once, and most
    // messages still went through.
    if !kills.contains_key("master") || !kills.contains_key("qmgr") {
        problems.push(format!("too few kills to mean anything: {kills:?}"));
    }
    if acked.len() < COUNT / 2 {
        problems.push(format!("only {} of {COUNT} acknowledged", acked.len()));
    }
    if !problems.is_empty() {
        mx.keep_for_inspection();
        let unacked: Vec<&str> = report.lines().filter(|l| !l.starts_with("ack ")).collect();
        panic!("{}\nclient: {unacked:?}", problems.join("\n"));
    }
}

/// SIGKILLs `pid`; false when it was already gone.
fn sigkill(pid: u32) -> bool {
    Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}
