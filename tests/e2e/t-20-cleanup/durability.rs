//! What makes a status 0 mean "safe on disk", and what happens to a message cut short.
//!
//! - strace on ironpost's cleanup shows the commit order: the queue file is marked
//!   complete (fchmod to 0700), then fsynced, and only then is the status written to the
//!   client.
//! - SIGTERM (what the master sends at `postfix stop`) while a queue file is being
//!   written removes the file, with ironpost's cleanup as with Postfix's.

use crate::harness::{Pair, raw_cleanup};
use e2e::{Instance, wait_until};
use std::io::Write;
use std::process::{Command, Stdio};

/// A small message as a client sends it.
pub const MESSAGE: &[(u8, &[u8])] = &[
    (b'T', b"1700000000 0"),
    (b'S', b"sender@e2e.test"),
    (b'R', b"user@vmail.e2e.test"),
    (b'M', b""),
    (b'N', b"Received: by test"),
    (b'N', b"Subject: durability"),
    (b'N', b""),
    (b'N', b"body"),
    (b'X', b""),
    (b'E', b""),
];

/// The one cleanup process of `mx` (started by a first message).
fn cleanup_pid(mx: &Instance) -> u32 {
    let mut pids = Vec::new();
    wait_until(5, || {
        pids = mx.daemons("cleanup");
        pids.len() == 1
    });
    assert_eq!(pids.len(), 1, "cleanup processes: {pids:?}");
    pids[0]
}

#[test]
fn the_queue_file_is_on_disk_before_the_status_goes_out() {
    let Some(pair) = Pair::new("t-20-fsync", "", &[]) else {
        return;
    };
    let mx = &pair.ours;
    raw_cleanup(mx, 114, MESSAGE, false);
    let pid = cleanup_pid(mx);
    let trace = mx.dir.join("strace.out");
    let mut strace = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-s",
            "64",
            "-e",
            "trace=fchmod,fsync,fdatasync,write,writev,sendmsg,sendto",
        ])
        .arg("-o")
        .arg(&trace)
        .args(["-p", &pid.to_string()])
        .stderr(Stdio::piped())
        .spawn()
        .expect("strace");
    // strace says nothing until it is attached; give it a moment.
    wait_until(5, || {
        std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| {
            s.lines()
                .any(|l| l.starts_with("TracerPid:") && !l.ends_with("\t0"))
        })
    });
    let (id, status, _) = raw_cleanup(mx, 114, MESSAGE, false);
    assert_eq!(status, 0);
    let _ = strace.kill();
    let _ = strace.wait();
    let calls = std::fs::read_to_string(&trace).unwrap_or_default();
    let position = |what: &dyn Fn(&str) -> bool| calls.lines().position(what);
    let fchmod = position(&|l| l.contains("fchmod(") && l.contains("0700"));
    let fd = fchmod.and_then(|i| calls.lines().nth(i)).and_then(|l| {
        l.split_once("fchmod(")?
            .1
            .split_once(',')
            .map(|(fd, _)| fd.to_string())
    });
    let Some(fd) = fd else {
        pair.keep();
        panic!("no fchmod to 0700 for {id}:\n{calls}");
    };
    let fsync = position(&|l| l.contains(&format!("fsync({fd})")));
    let status_write = position(&|l| l.contains("\"status\\0000\\0"));
    assert!(
        fchmod < fsync && fsync < status_write && status_write.is_some(),
        "order fchmod {fchmod:?}, fsync {fsync:?}, status {status_write:?}:\n{calls}"
    );
    // Nothing is written to the queue file after the fsync.
    let after = calls.lines().skip(fsync.unwrap_or(0) + 1);
    assert!(
        !after.clone().any(|l| l.contains(&format!("write({fd},"))),
        "queue file written after fsync:\n{calls}"
    );
}

#[test]
fn sigterm_removes_the_queue_file_being_written() {
    let Some(pair) = Pair::new("t-20-sigterm", "", &[]) else {
        return;
    };
    for mx in [&pair.ours, &pair.theirs] {
        // A first message starts the cleanup process.
        raw_cleanup(mx, 114, MESSAGE, false);
        let pid = cleanup_pid(mx);
        let socket = std::os::unix::net::UnixStream::connect(mx.dir.join("queue/public/cleanup"))
            .expect("the cleanup socket");
        let mut reader = std::io::BufReader::new(socket.try_clone().unwrap());
        let hello = ipc::attr::read(&mut reader, ipc::Flavor::Null)
            .unwrap()
            .unwrap();
        let id = hello.get_str("queue_id").unwrap().to_string();
        let mut out = socket.try_clone().unwrap();
        ipc::attr::write(
            &mut out,
            ipc::Flavor::Null,
            &ipc::Attrs::new().int("flags", 114),
        )
        .unwrap();
        // Half a message: the envelope and a header, then the client waits.
        for (kind, data) in &MESSAGE[..5] {
            out.write_all(&[*kind, data.len() as u8]).unwrap();
            out.write_all(data).unwrap();
        }
        out.flush().unwrap();
        let file = mx.dir.join("queue/incoming").join(&id);
        // The file exists from the start; what was sent may still sit in cleanup's buffer.
        assert!(file.exists(), "{id} not being written");
        std::thread::sleep(std::time::Duration::from_millis(300));
        let kill = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let removed = wait_until(5, || !file.exists());
        if !removed {
            pair.keep();
        }
        assert!(
            removed,
            "{}: {id} left in incoming after SIGTERM",
            mx.dir.display()
        );
        assert!(wait_until(5, || !std::path::Path::new(&format!(
            "/proc/{pid}"
        ))
        .exists()));
    }
}
