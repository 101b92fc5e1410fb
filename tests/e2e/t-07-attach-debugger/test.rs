//! One traceable process per role (DEBUG_README "Manual tracing" and "Running daemon
//! programs under a debugger"): strace attaches to a daemon and shows its system calls;
//! gdb attaches and prints a backtrace with ironpost's function names.

use e2e::{Instance, have, wait_until};
use std::process::Command;

#[test]
fn strace_and_gdb_attach_to_a_daemon() {
    let Some(mut mx) = Instance::new("t-07") else {
        return;
    };
    if !have("strace") || !have("gdb") {
        testkit::skip("needs strace and gdb (apt-get install strace gdb)");
        return;
    }
    mx.start();
    mx.send_local("t07");
    assert!(wait_until(10, || !mx.daemons("postlogd").is_empty()));
    let pid = mx.daemons("postlogd")[0].to_string();

    let gdb = Command::new("gdb")
        .args(["-batch", "-p", &pid, "-ex", "bt"])
        .output()
        .unwrap();
    let backtrace = String::from_utf8_lossy(&gdb.stdout);
    assert!(
        backtrace.contains("server::") && backtrace.contains("postlogd::main"),
        "gdb backtrace without ironpost frames:\n{backtrace}\n{}",
        String::from_utf8_lossy(&gdb.stderr)
    );

    let strace = Command::new("timeout")
        .args(["3", "strace", "-p", &pid])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    mx.send_local("t07-traced");
    let traced = strace.wait_with_output().unwrap();
    let calls = String::from_utf8_lossy(&traced.stderr);
    assert!(
        calls.contains("attached"),
        "strace did not attach:\n{calls}"
    );
    assert!(
        calls.contains("poll") || calls.contains("recvfrom") || calls.contains("write"),
        "{calls}"
    );
}
