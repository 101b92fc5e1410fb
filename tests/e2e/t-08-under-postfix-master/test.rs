//! The interface goes both ways: ironpost's daemons run under Postfix's own master (and
//! Postfix's postfix command), as they run under ironpost's. Here ironpost's postlogd
//! writes the log of a Postfix 3.7 system. Under either master, a burst of records from
//! many processes at once reaches the log whole, each process's records in the order it
//! sent them (postlogd takes them in batches, tells the master its status only for its
//! first batch, and writes each batch with one write).

use e2e::Instance;
use std::io::Write;
use std::process::{Command, Stdio};

/// Processes in the burst, and records each sends.
const WRITERS: usize = 20;
const RECORDS: usize = 60;

/// Runs WRITERS postlog processes at once, each logging RECORDS lines under a tag of its
/// own, and checks that every line is in the log once, in each process's order.
fn burst(mx: &Instance) {
    let children: Vec<_> = (0..WRITERS)
        .map(|w| {
            let mut child = Command::new("/usr/sbin/postlog")
                .arg("-c")
                .arg(mx.etc())
                .args(["-t", &format!("burst{w}")])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let text: String = (0..RECORDS).map(|n| format!("record {w}.{n}\n")).collect();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            child
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let all_in = || {
        let log = mx.log();
        log.lines().filter(|l| l.contains(": record ")).count() >= WRITERS * RECORDS
    };
    e2e::wait_until(20, all_in);
    let log = mx.log();
    for w in 0..WRITERS {
        let tag = format!(" burst{w}[");
        let got: Vec<&str> = log
            .lines()
            .filter(|l| l.contains(&tag))
            .filter_map(|l| l.split(": record ").nth(1))
            .collect();
        let want: Vec<String> = (0..RECORDS).map(|n| format!("{w}.{n}")).collect();
        assert_eq!(got, want, "writer {w}'s records:\n{log}");
    }
}

#[test]
fn ironpost_postlogd_under_postfix_master() {
    let Some(mx) = Instance::with_daemons("t-08", &["postlogd"]) else {
        return;
    };
    let postfix = |args: &[&str]| {
        Command::new("/usr/sbin/postfix")
            .arg("-c")
            .arg(mx.etc())
            .args(args)
            .output()
            .unwrap()
    };
    let out = postfix(&["start"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    mx.wait_log("postfix/master[", 10);
    let master = std::fs::read_link(format!("/proc/{}/exe", mx.master_pid().unwrap())).unwrap();
    assert_eq!(master, std::path::Path::new("/usr/lib/postfix/sbin/master"));
    mx.send_local("t08");
    mx.wait_log("relay=virtual", 20);
    // The records came through our postlogd: it is the one running as the postlog service.
    assert_eq!(mx.daemons("postlogd").len(), 1);
    let exe = std::fs::read_link(format!("/proc/{}/exe", mx.daemons("postlogd")[0])).unwrap();
    assert_eq!(exe, mx.dir.join("libexec/postlogd"));
    assert!(mx.log().contains("postfix/smtpd["));
    burst(&mx);
    let out = postfix(&["stop"]);
    assert!(out.status.success());
}

#[test]
fn burst_under_ironpost_master() {
    let Some(mut mx) = Instance::new("t-08-burst") else {
        return;
    };
    mx.start();
    burst(&mx);
    let pids = mx.daemons("postlogd");
    assert_eq!(pids.len(), 1);
    mx.send_local("t08-after");
    mx.wait_log("relay=virtual", 20);
    assert_eq!(mx.daemons("postlogd"), pids, "one postlogd all along");
    // postlogd told the master it served (only around its first batch): killed now, it
    // is a crash, not a failed start, so the master throttles nothing and the next
    // record gets a new postlogd at once.
    let pid = pids[0].to_string();
    assert!(
        Command::new("kill")
            .args(["-9", &pid])
            .status()
            .unwrap()
            .success()
    );
    mx.wait_log(&format!("postlogd pid {pid} killed by signal 9"), 10);
    let out = Command::new("/usr/sbin/postlog")
        .arg("-c")
        .arg(mx.etc())
        .arg("after the crash")
        .output()
        .unwrap();
    assert!(out.status.success());
    mx.wait_log(": after the crash", 10);
    assert!(!mx.log().contains("throttling"), "{}", mx.log());
}
