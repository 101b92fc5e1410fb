//! Crash safety of the whole mail system: marked messages arrive over SMTP from
//! concurrent clients while the test SIGKILLs the master and every kind of daemon
//! (smtpd, cleanup, trivial-rewrite, qmgr, the delivery agents, bounce...) at random
//! moments, restarting the mail system whenever the master is gone (after killing what
//! is left of it, as a crash of the machine would). Afterwards, with
//! the system running and the deferred queue flushed, every message a client saw a 250
//! for has been delivered, whole, at least once; duplicates (a delivery done but not yet
//! marked done when its agent or the queue manager died, or a message queued whose 250
//! the client never saw) are counted and printed. Half-written queue files may stay in
//! incoming/ only. The same schedule shape runs against an all-Postfix system as the
//! control.
//!
//! The first pair sends 1,000 messages to the virtual agent (killed, when picked, in
//! the middle of a delivery if one comes soon). The second sends 400,
//! split over local (a UNIX mailbox with its dot-lock in mail_spool_directory, and a
//! maildir named by an alias), pipe (a command appending to a file) and smtp (relayed
//! to smtp-sink, which waits a second before its reply to DATA), and kills those
//! agents too, local and pipe when caught in the middle of a delivery (the mailbox or a
//! maildir file open, the command running); the queue manager's warnings count the
//! deliveries so interrupted, and at least one must be. A mailbox or the pipe's file may
//! hold a message cut short where its agent was killed while writing it: Postfix's local
//! truncates a mailbox back to its old size only on an error it sees itself, and a
//! SIGKILL leaves it no chance; such a cut message is counted and printed, allowed only
//! where that agent was killed, and must be whole elsewhere in the same destination. A dot-lock file the killed local left behind is removed as
//! stale by the next delivery (stale_lock_time is short here), so none is left once a
//! last message reached the mailbox.

use e2e::load::{self, READY, Random};
use e2e::{Instance, wait_until};
use std::collections::BTreeMap;
use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Body lines per message.
const LINES: usize = 20;

/// What one pair of tests sends, where, and which daemons it kills.
struct Scenario {
    /// Messages in all.
    count: usize,
    /// The start of every marker.
    prefix: &'static str,
    /// Message `i` goes to the `i % len`-th.
    recipients: &'static [&'static str],
    /// The daemons killed, each picked as often as it is listed.
    victims: &'static [&'static str],
    /// Killed at least once each: at [`FORCED_KILL`] if chance has not done it by
    /// then, else after the load while they still work. A run without them proves
    /// less.
    must_kill: &'static [&'static str],
    /// Killed, when picked, in the middle of a delivery if one comes within
    /// [`CATCH`]: an agent mostly idle between fast deliveries would otherwise nearly
    /// always die idle. When one of them is in `must_kill` too, at least one delivery
    /// must have been interrupted.
    mid_delivery: &'static [&'static str],
    /// How long the kills go on after the load is done: the deliveries lag behind it.
    kill_for: Duration,
    /// The variable that repeats a schedule.
    seed: &'static str,
}

/// What reached the destinations, by marker, given the kills so far; adds what is
/// wrong with it to the problems.
type Destinations =
    fn(&Instance, &BTreeMap<&str, usize>, &mut Vec<String>) -> BTreeMap<String, usize>;

/// The first pair: everything to the virtual agent.
const VIRTUAL: Scenario = Scenario {
    count: 1000,
    prefix: "t38m",
    recipients: &["user@vmail.e2e.test"],
    victims: &[
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
    ],
    must_kill: &["qmgr"],
    mid_delivery: &["virtual"],
    kill_for: Duration::ZERO,
    seed: "IRONPOST_T38_SEED",
};

/// The local user whose mailbox is a file in mail_spool_directory.
const MBOX_USER: &str = "nobody";

/// The second pair: a UNIX mailbox, a maildir (an alias), a pipe and an SMTP relay.
const AGENTS: Scenario = Scenario {
    count: 400,
    prefix: "t38a",
    recipients: &[
        "nobody@localhost",
        "box@localhost",
        "cat@pipe.e2e.test",
        "sink@relay.e2e.test",
    ],
    victims: &[
        "smtpd",
        "cleanup",
        "qmgr",
        "qmgr",
        "local",
        "local",
        "local",
        "pipe",
        "pipe",
        "smtp",
        "smtp",
        "trivial-rewrite",
        "bounce",
    ],
    must_kill: &["qmgr", "local", "pipe", "smtp"],
    mid_delivery: &["local", "pipe"],
    kill_for: Duration::from_secs(8),
    seed: "IRONPOST_T38_AGENTS_SEED",
};

/// How long a kill waits for an agent of [`Scenario::mid_delivery`] to be delivering.
const CATCH: Duration = Duration::from_millis(500);

/// Seconds into the load at which the master itself is killed.
const MASTER_KILLS: [u64; 2] = [1, 2];

/// How far into the load the daemons of [`Scenario::must_kill`] are killed if chance
/// has not done it yet.
const FORCED_KILL: Duration = Duration::from_millis(2500);

#[test]
fn sigkill_of_any_process_loses_no_acknowledged_message() {
    if let Some(mut mx) = Instance::new("t-38") {
        mx.set_main_cf("service_throttle_time", "1s");
        mx.start();
        crash_under_load(&mx, "ironpost", &VIRTUAL, virtual_delivered);
    }
}

#[test]
fn postfix_under_the_same_crashes() {
    if let Some(mx) = Instance::with_daemons("t-38-postfix", &[]) {
        mx.set_main_cf("service_throttle_time", "1s");
        start_with(&mx, "/usr/sbin/postfix");
        crash_under_load(&mx, "postfix", &VIRTUAL, virtual_delivered);
    }
}

#[test]
fn sigkill_of_local_pipe_and_smtp_loses_no_acknowledged_message() {
    if let Some(mut mx) = Instance::new("t-38-agents") {
        set_up_agents(&mut mx);
        mx.start();
        crash_under_load(&mx, "ironpost", &AGENTS, agents_delivered);
    }
}

#[test]
fn postfix_local_pipe_and_smtp_under_the_same_crashes() {
    if let Some(mut mx) = Instance::with_daemons("t-38-agents-postfix", &[]) {
        set_up_agents(&mut mx);
        start_with(&mx, "/usr/sbin/postfix");
        crash_under_load(&mx, "postfix", &AGENTS, agents_delivered);
    }
}

/// The virtual mailbox's messages.
fn virtual_delivered(
    mx: &Instance,
    _kills: &BTreeMap<&str, usize>,
    problems: &mut Vec<String>,
) -> BTreeMap<String, usize> {
    load::delivered(mx, LINES, problems)
}

/// The spool directory for the mailbox, the maildir, the pipe's file, the pipe
/// service, the transports, smtp-sink, and a stale dot-lock that goes in seconds.
fn set_up_agents(mx: &mut Instance) {
    mx.set_main_cf("service_throttle_time", "1s");
    for dir in ["spool", "maildir", "pipe"] {
        let path = mx.dir.join(dir);
        std::fs::create_dir_all(&path).unwrap();
        // The agents write as nobody (the user, or default_privs for the alias and
        // the pipe's user=).
        std::fs::set_permissions(&path, Permissions::from_mode(0o1777)).unwrap();
    }
    mx.set_main_cf("mail_spool_directory", "@DIR@/spool");
    // Postfix's default, 500 s, would defer every mailbox delivery after a local
    // killed while it held the dot-lock until long after the test.
    mx.set_main_cf("stale_lock_time", "5s");
    mx.set_main_cf("alias_maps", "hash:@DIR@/etc/aliases");
    mx.set_main_cf("relay_domains", "relay.e2e.test, pipe.e2e.test");
    mx.write("etc/aliases", &mx.expand("box: @DIR@/maildir/\n"));
    let built = Command::new("/usr/sbin/postalias")
        .arg("-c")
        .arg(mx.etc())
        .arg(format!("hash:{}/etc/aliases", mx.dir.display()))
        .status()
        .unwrap();
    assert!(built.success(), "postalias");
    mx.write(
        "etc/transport",
        &mx.expand(
            "relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n\
             pipe.e2e.test catpipe:\n",
        ),
    );
    // One process: two commands appending at once could interleave their writes. The
    // pause keeps the command running long enough for a kill of pipe to come while it
    // runs (the command, orphaned, still appends what it was given).
    mx.write(
        "etc/append.sh",
        &mx.expand("#!/bin/sh\nsleep 0.05\nexec cat >> @DIR@/pipe/out\n"),
    );
    std::fs::set_permissions(mx.dir.join("etc/append.sh"), Permissions::from_mode(0o755)).unwrap();
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write(
        "etc/master.cf",
        &(master_cf
            + &mx.expand(
                "catpipe unix - n n - 1 pipe\n  flags=F user=nobody argv=@DIR@/etc/append.sh\n",
            )),
    );
    // A second before each reply to DATA: the smtp client is then nearly always in
    // the middle of a delivery when it is killed.
    mx.start_sink_with(&["-w", "1"]);
}

/// The messages of the mailbox, the maildir, the pipe's file and smtp-sink; cut
/// messages and stale dot-locks are problems unless the agent at fault was killed.
fn agents_delivered(
    mx: &Instance,
    kills: &BTreeMap<&str, usize>,
    problems: &mut Vec<String>,
) -> BTreeMap<String, usize> {
    // A last message to the mailbox: the local that takes it removes a dot-lock a
    // killed local left (once it is stale_lock_time old), so that none may remain.
    let last = format!("{}-last", AGENTS.prefix);
    let mbox = mx.dir.join("spool").join(MBOX_USER);
    match mx.send(mx.smtp_port, "load@e2e.test", "nobody@localhost", &last) {
        Err(e) => problems.push(format!("the last message was refused: {e}")),
        Ok(()) => {
            if !wait_until(60, || {
                std::fs::read_to_string(&mbox).is_ok_and(|t| t.contains(&last))
            }) {
                problems.push("the last message never reached the mailbox".to_string());
            }
        }
    }
    for path in load::files_under(&mx.dir.join("spool")) {
        if path.extension().is_some_and(|e| e == "lock") {
            problems.push(format!("{} left behind", path.display()));
        }
    }
    let mut delivered = BTreeMap::new();
    let mut cut = BTreeMap::new();
    let destinations: [(&str, Vec<String>); 4] = [
        ("local", mbox_messages(&mbox, problems)),
        ("local", maildir_messages(&mx.dir.join("maildir"))),
        ("pipe", mbox_messages(&mx.dir.join("pipe/out"), problems)),
        ("smtp", texts(&load::files_under(&mx.dir.join("sink")))),
    ];
    for (agent, messages) in destinations {
        let mut whole_here = BTreeMap::new();
        let mut cut_here = Vec::new();
        for text in messages {
            let Some(m) = load::marker(&text) else {
                problems.push(format!("a delivered message without a marker:\n{text}"));
                continue;
            };
            if m == last {
                continue;
            }
            if load::whole(&text, &m, LINES) {
                *whole_here.entry(m.clone()).or_insert(0) += 1;
                *delivered.entry(m).or_insert(0) += 1;
            } else {
                cut_here.push(m);
            }
        }
        // A copy cut short by a killed agent is not done for the queue manager: the
        // message is delivered again, whole, to the same place.
        for m in &cut_here {
            if !whole_here.contains_key(m) {
                problems.push(format!("{m} cut short by {agent}, never delivered whole"));
            }
        }
        let killed = kills.get(agent).copied().unwrap_or(0);
        *cut.entry(agent).or_insert(0) += cut_here.len();
        if cut[agent] > killed {
            problems.push(format!(
                "{} messages cut short by {agent}, killed only {killed} times",
                cut[agent]
            ));
        }
    }
    println!("messages cut short where their agent was killed: {cut:?}");
    delivered
}

/// The messages of a UNIX-style mailbox file (each from its From_ line on).
fn mbox_messages(path: &Path, problems: &mut Vec<String>) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    if !text.is_empty() && !text.starts_with("From ") {
        problems.push(format!(
            "{} does not start with a From_ line",
            path.display()
        ));
    }
    let mut messages: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        match messages.last_mut() {
            Some(m) if !line.starts_with("From ") => m.push_str(line),
            _ => messages.push(line.to_string()),
        }
    }
    messages
}

/// The messages of a maildir (new/ and cur/; tmp/ holds what a killed local left).
fn maildir_messages(dir: &Path) -> Vec<String> {
    let mut files = load::files_under(&dir.join("new"));
    files.extend(load::files_under(&dir.join("cur")));
    texts(&files)
}

/// The text of each of `files` (smtp-sink's, one message each, for one).
fn texts(files: &[std::path::PathBuf]) -> Vec<String> {
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect()
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

/// Runs `scenario` against `mx` while killing its processes; `delivered` says what
/// reached the destinations, by marker, and adds what is wrong with them to the
/// problems (the kills so far tell which agents died).
fn crash_under_load(mx: &Instance, which: &str, scenario: &Scenario, delivered: Destinations) {
    let postfix = postfix_command(which);
    let count = scenario.count;
    // 100 attempts 0.2 s apart ride out a master restart.
    let load = load::start_to(
        mx.smtp_port,
        count,
        8,
        LINES,
        100,
        scenario.prefix,
        scenario.recipients,
    );
    let mut load = Some(load);
    let mut random = Random::new(scenario.seed);
    let mut kills: BTreeMap<&str, usize> = BTreeMap::new();
    let started = Instant::now();
    let mut load_done: Option<Instant> = None;
    while started.elapsed() < Duration::from_secs(120) {
        if load_done.is_none() && load.as_mut().unwrap().try_wait().unwrap().is_some() {
            load_done = Some(Instant::now());
        }
        if load_done.is_some_and(|done| done.elapsed() >= scenario.kill_for) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100 + random.below(300)));
        let master_due = MASTER_KILLS
            .iter()
            .filter(|&&at| started.elapsed() >= Duration::from_secs(at))
            .count();
        let unkilled = scenario
            .must_kill
            .iter()
            .find(|d| !kills.contains_key(*d) && !mx.daemons(d).is_empty());
        let name = if kills.get("master").copied().unwrap_or(0) < master_due {
            "master"
        } else if let Some(due) = unkilled.filter(|_| started.elapsed() >= FORCED_KILL) {
            // At least once, however quickly the load is done.
            due
        } else {
            scenario.victims[random.below(scenario.victims.len() as u64) as usize]
        };
        let pids = if name == "master" {
            mx.master_pid().into_iter().collect()
        } else {
            mx.daemons(name)
        };
        if pids.is_empty() {
            continue;
        }
        let pid = if scenario.mid_delivery.contains(&name) {
            caught_delivering(mx, name)
        } else {
            None
        }
        .unwrap_or_else(|| pids[random.below(pids.len() as u64) as usize]);
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
    let (acked, lost, report) = load::acknowledged(child, count);

    // Everything still queued is tried now: the deferred queue too.
    if mx
        .master_pid()
        .is_none_or(|pid| !Path::new(&format!("/proc/{pid}")).exists())
    {
        restart(mx, &postfix);
    }
    // A fast system may finish the load before the queue manager's (or an agent's)
    // turn came, or while a restarted master had not yet started one: kill it now,
    // while it still works through what the load left queued.
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let due: Vec<&str> = scenario
            .must_kill
            .iter()
            .copied()
            .filter(|d| !kills.contains_key(d))
            .collect();
        if due.is_empty() {
            break;
        }
        for name in due {
            for pid in mx.daemons(name) {
                if sigkill(pid) {
                    *kills.entry(name).or_default() += 1;
                }
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
    let delivered = delivered(mx, &kills, &mut problems);
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
    // A delivery agent killed in the middle of a delivery: the queue manager finds
    // its reply cut short.
    let log = mx.log();
    let interrupted: BTreeMap<&str, usize> = ["local", "catpipe", "smtp", "virtual"]
        .into_iter()
        .map(|service| {
            // Both queue managers say "private/local socket: malformed response" when
            // the reply ends early.
            let warning = format!("private/{service} socket: malformed response");
            let n = log.lines().filter(|l| l.contains(&warning)).count();
            (service, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    println!("{which}: deliveries interrupted by a kill: {interrupted:?}");
    println!(
        "{which}: {count} messages, {} acknowledged, {lost} never acknowledged; kills \
         {kills:?}; delivered {} distinct, {duplicates} duplicate deliveries, \
         {unacked_delivered} delivered without a 250 seen",
        acked.len(),
        delivered.len(),
    );
    // Not vacuous: the master and each daemon of must_kill died at least once, an
    // agent died in the middle of a delivery where that is sought, and most messages
    // still went through.
    if !kills.contains_key("master") || scenario.must_kill.iter().any(|d| !kills.contains_key(d)) {
        problems.push(format!("too few kills to mean anything: {kills:?}"));
    }
    // Required only where such an agent is also sure to be killed.
    let sought = scenario
        .mid_delivery
        .iter()
        .any(|d| scenario.must_kill.contains(d));
    if sought && interrupted.is_empty() {
        problems.push("no delivery agent was killed in the middle of a delivery".to_string());
    }
    if acked.len() < count / 2 {
        problems.push(format!("only {} of {count} acknowledged", acked.len()));
    }
    if !problems.is_empty() {
        mx.keep_for_inspection();
        let unacked: Vec<&str> = report.lines().filter(|l| !l.starts_with("ack ")).collect();
        panic!("{}\nclient: {unacked:?}", problems.join("\n"));
    }
}

/// An agent `name` of `mx` caught in the middle of a delivery within [`CATCH`]: one
/// that has the mailbox or a maildir file open, or whose command runs.
fn caught_delivering(mx: &Instance, name: &str) -> Option<u32> {
    let spool = mx.dir.join("spool");
    let maildir = mx.dir.join("maildir");
    let vmail = mx.dir.join("vmail");
    let delivering = |pid: u32| {
        let has_child = std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|task| {
                std::fs::read_to_string(task.path().join("children"))
                    .is_ok_and(|c| !c.trim().is_empty())
            });
        has_child
            || std::fs::read_dir(format!("/proc/{pid}/fd"))
                .into_iter()
                .flatten()
                .flatten()
                .any(|fd| {
                    std::fs::read_link(fd.path())
                        .is_ok_and(|t| [&spool, &maildir, &vmail].iter().any(|d| t.starts_with(d)))
                })
    };
    let deadline = Instant::now() + CATCH;
    while Instant::now() < deadline {
        if let Some(pid) = mx.daemons(name).into_iter().find(|&pid| delivering(pid)) {
            return Some(pid);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
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
