//! Durability of mail in, through ironpost's smtpd and cleanup together (Postfix's
//! counterparts: smtpd/smtpd.c's DATA end and cleanup/cleanup_api.c's commit).
//!
//! - strace over the whole path: cleanup writes the queue file, marks it complete
//!   (fchmod 0700), fsyncs it, sends status 0, and only after that does smtpd write
//!   `250 2.0.0 Ok: queued as ID` (t-20 shows cleanup's half alone, with a raw client).
//! - SIGKILL of smtpd and cleanup processes at random moments while concurrent clients
//!   send marked messages: every message a client saw a 250 for is delivered at least
//!   once, every delivered message is whole, every queue file left that is marked
//!   complete is read whole by Postfix's postcat, and the half-written files left are
//!   never marked complete, never leave incoming/, and number no more than the cleanup
//!   processes killed. Duplicates (a message queued whose 250 the client never saw, then
//!   sent again) are allowed, counted and printed.

use e2e::load::{self, READY, Random};
use e2e::{Instance, wait_until};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Lines of body per message: enough that cleanup spends a while writing each file.
const BODY_LINES: usize = 300;

/// Waits until strace is attached to `pid`.
fn traced(pid: u32) -> bool {
    wait_until(5, || {
        std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| {
            s.lines()
                .any(|l| l.starts_with("TracerPid:") && !l.ends_with("\t0"))
        })
    })
}

/// One line of `strace -f` output: the pid, then the call.
fn split_pid(line: &str) -> Option<(u32, &str)> {
    let (pid, rest) = line.trim_start().split_once(' ')?;
    Some((pid.parse().ok()?, rest.trim_start()))
}

#[test]
fn cleanup_fsyncs_before_smtpd_says_250() {
    let Some(mut mx) = Instance::new("t-33-fsync") else {
        return;
    };
    mx.start();
    let master = mx.master_pid().expect("the master's pid");
    let trace = mx.dir.join("strace.out");
    // Attached to the master before any smtpd or cleanup exists, with -f: both are
    // forked under the trace, and one output file keeps the order in which the calls
    // happened (cleanup's fsync returns before its status write starts, which comes
    // before smtpd reads the status and writes its reply).
    let mut strace = Command::new("strace")
        .args(["-f", "-qq", "-s", "65536"])
        .args([
            "-e",
            "trace=fchmod,fsync,fdatasync,close,write,writev,pwrite64,pwritev,pwritev2,sendto,sendmsg",
        ])
        .arg("-o")
        .arg(&trace)
        .args(["-p", &master.to_string()])
        .stderr(Stdio::null())
        .spawn()
        .expect("strace");
    assert!(traced(master), "strace did not attach to the master");
    mx.send_local("t33-fsync-marker");
    let calls = || std::fs::read_to_string(&trace).unwrap_or_default();
    let replied = wait_until(10, || calls().contains("Ok: queued as "));
    let _ = strace.kill();
    let _ = strace.wait();
    let calls = calls();
    if !replied {
        mx.keep_for_inspection();
        panic!("no 250 reply in the trace:\n{calls}");
    }
    let lines: Vec<&str> = calls.lines().collect();
    // smtpd's reply, and the queue id in it.
    let reply = lines
        .iter()
        .position(|l| l.contains("250 2.0.0 Ok: queued as "))
        .unwrap();
    let (smtpd, _) = split_pid(lines[reply]).unwrap();
    let id: String = lines[reply]
        .split("queued as ")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    // cleanup: the process that marked a file complete; its fd is the queue file.
    let fchmod = lines[..reply]
        .iter()
        .rposition(|l| l.contains("fchmod(") && l.contains(", 0700"))
        .unwrap_or_else(|| panic!("no fchmod to 0700 before the 250 of {id}:\n{calls}"));
    let (cleanup, call) = split_pid(lines[fchmod]).unwrap();
    assert_ne!(cleanup, smtpd, "one process did both:\n{calls}");
    let fd = call["fchmod(".len()..]
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let mine = |i: usize| split_pid(lines[i]).is_some_and(|(p, _)| p == cleanup);
    // Any call that writes to the queue file: write, writev, and the positioned ones
    // (cleanup updates the size record in place).
    let is_file_write = |i: usize| {
        mine(i)
            && ["write", "writev", "pwrite64", "pwritev", "pwritev2"]
                .iter()
                .any(|call| lines[i].contains(&format!(" {call}({fd},")))
    };
    // The fsync of that fd has returned (in one line, or as the "resumed" half).
    let fsync_started = (fchmod..reply)
        .find(|&i| mine(i) && lines[i].contains(&format!("fsync({fd}")))
        .unwrap_or_else(|| panic!("no fsync({fd}) between fchmod and 250:\n{calls}"));
    let fsync_done = if lines[fsync_started].contains("<unfinished ...>") {
        (fsync_started..reply)
            .find(|&i| mine(i) && lines[i].contains("<... fsync resumed>"))
            .unwrap_or_else(|| panic!("fsync({fd}) still running at the 250:\n{calls}"))
    } else {
        fsync_started
    };
    assert!(
        lines[fsync_done].trim_end().ends_with("= 0"),
        "fsync failed: {}",
        lines[fsync_done]
    );
    // The message went into that file before the commit...
    let content = (0..fchmod)
        .filter(|&i| is_file_write(i))
        .collect::<Vec<_>>();
    assert!(
        content
            .iter()
            .any(|&i| lines[i].contains("t33-fsync-marker")),
        "the message was not written to fd {fd} before the fchmod:\n{calls}"
    );
    // ...nothing after it, until it is closed (its number may then be reused)...
    let closed = (fchmod..lines.len())
        .find(|&i| mine(i) && lines[i].contains(&format!(" close({fd})")))
        .unwrap_or(lines.len());
    assert!(
        !(fchmod..closed).any(is_file_write),
        "queue file fd {fd} written after it was marked complete:\n{calls}"
    );
    // ...cleanup's status 0 went out after the fsync returned, and smtpd's 250 after that.
    let status = (fsync_done..reply)
        .find(|&i| mine(i) && lines[i].contains("status\\0000\\0"))
        .unwrap_or_else(|| {
            panic!("no status 0 from cleanup between its fsync and smtpd's 250:\n{calls}")
        });
    // The commit as it happened, for the record (long writes cut short).
    let first = content.first().copied().unwrap_or(fchmod);
    for line in &lines[first..=reply] {
        if split_pid(line).is_some_and(|(p, _)| p == cleanup || p == smtpd) {
            println!("{}", line.chars().take(110).collect::<String>());
        }
    }
    println!(
        "{id}: fchmod line {fchmod}, fsync returned line {fsync_done}, status line {status}, \
         250 line {reply} (cleanup pid {cleanup}, smtpd pid {smtpd})"
    );
}

#[test]
fn sigkill_of_smtpd_and_cleanup_under_load_loses_no_acknowledged_message() {
    if let Some(mut mx) = Instance::new("t-33-kill") {
        // A daemon killed before it served anyone throttles its service (master's
        // rule); the shortest throttle keeps the test short.
        mx.set_main_cf("service_throttle_time", "1s");
        mx.start();
        kill_under_load(&mx);
    }
}

/// The control: Postfix's own smtpd, cleanup and master meet the same criteria (what
/// the test asks is what Postfix does, half-written files in incoming/ included).
#[test]
fn postfix_under_the_same_kills() {
    if let Some(mx) = Instance::with_daemons("t-33-kill-postfix", &[]) {
        mx.set_main_cf("service_throttle_time", "1s");
        mx.start_postfix();
        kill_under_load(&mx);
    }
}

/// Runs the load against the started `mx`, SIGKILLs its smtpd and cleanup processes at
/// random moments meanwhile, and checks what was acknowledged, delivered and left.
fn kill_under_load(mx: &Instance) {
    let (count, threads) = (600, 6);
    let mut client = load::start(mx.smtp_port, count, threads, BODY_LINES, 6, "t33m");
    let mut random = Random::new("IRONPOST_T33_SEED");
    let mut kills: BTreeMap<&str, usize> = BTreeMap::new();
    let started = Instant::now();
    while client.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(40) {
        std::thread::sleep(Duration::from_millis(30 + random.below(170)));
        let name = ["smtpd", "cleanup"][random.below(2) as usize];
        let pids = mx.daemons(name);
        if pids.is_empty() {
            continue;
        }
        let pid = pids[random.below(pids.len() as u64) as usize];
        let killed = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .unwrap();
        if killed.success() {
            *kills.entry(name).or_default() += 1;
        }
    }
    if client.try_wait().unwrap().is_none() {
        let _ = client.kill();
    }
    let (acked, lost, report) = load::acknowledged(client, count);

    // Everything complete leaves the queue (the virtual agent delivers to the Maildir);
    // half-written files stay behind in incoming/, as in Postfix, for postsuper.
    let drained = wait_until(40, || {
        load::queue_files(mx)
            .iter()
            .all(|(q, _, mode)| q == "deferred" || q == "hold" || mode & READY != READY)
    });
    // A killed smtpd's cleanup sees the end of its input and removes its file; give the
    // last of them a moment.
    std::thread::sleep(Duration::from_millis(500));
    let mut problems = Vec::new();
    if !drained {
        problems.push("complete queue files still in incoming/ or active/ after 40 s".into());
    }

    let delivered = load::delivered(mx, BODY_LINES, &mut problems);
    let (mut queued, mut incomplete) = (BTreeMap::<String, usize>::new(), Vec::new());
    for (queue, path, mode) in load::queue_files(mx) {
        if mode & READY != READY {
            if queue != "incoming" {
                problems.push(format!("{} not complete but in {queue}/", path.display()));
            }
            incomplete.push(path);
            continue;
        }
        let postcat = Command::new("/usr/sbin/postcat")
            .arg("-c")
            .arg(mx.etc())
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&postcat.stdout);
        if !postcat.status.success() || !text.contains("*** MESSAGE FILE END") {
            problems.push(format!(
                "{}: postcat cannot read it whole: {}",
                path.display(),
                String::from_utf8_lossy(&postcat.stderr)
            ));
        } else if let Some(m) = load::marker(&text) {
            *queued.entry(m).or_default() += 1;
        }
    }
    for m in &acked {
        if !delivered.contains_key(m) && !queued.contains_key(m) {
            problems.push(format!(
                "{m}: 250 seen by the client, but neither delivered nor queued"
            ));
        }
    }
    let cleanup_kills = kills.get("cleanup").copied().unwrap_or(0);
    if incomplete.len() > cleanup_kills {
        problems.push(format!(
            "{} half-written files left for {cleanup_kills} cleanup processes killed \
             (a cleanup that lost its client must remove its file): {incomplete:?}",
            incomplete.len()
        ));
    }
    let panics = mx.log().lines().filter(|l| l.contains(" panic: ")).count();
    if panics > 0 {
        problems.push(format!("{panics} panic lines in the log"));
    }
    let duplicates: usize = delivered.values().map(|n| n - 1).sum();
    let unacked_delivered = delivered.keys().filter(|m| !acked.contains(m)).count();
    println!(
        "{count} messages, {} acknowledged, {lost} never acknowledged; kills {kills:?}; \
         delivered {} distinct, {duplicates} duplicate deliveries, {unacked_delivered} \
         delivered without a 250 seen; {} complete files still queued; {} half-written \
         files left in incoming/",
        acked.len(),
        delivered.len(),
        queued.values().sum::<usize>(),
        incomplete.len()
    );
    // Not vacuous: processes of both kinds died, and most messages still went through.
    if !kills.contains_key("smtpd") || cleanup_kills == 0 {
        problems.push(format!("too few kills to mean anything: {kills:?}"));
    }
    if acked.len() < count / 2 {
        problems.push(format!("only {} of {count} acknowledged", acked.len()));
    }
    if !problems.is_empty() {
        mx.keep_for_inspection();
        panic!("{}\nclient report:\n{report}", problems.join("\n"));
    }
}
