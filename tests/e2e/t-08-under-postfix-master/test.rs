//! The interface goes both ways: ironpost's daemons run under Postfix's own master (and
//! Postfix's postfix command), as they run under ironpost's. Here ironpost's postlogd
//! writes the log of a Postfix 3.7 system.

use e2e::Instance;
use std::process::Command;

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
    let out = postfix(&["stop"]);
    assert!(out.status.success());
}
