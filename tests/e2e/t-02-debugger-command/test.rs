//! `-D` and debugger_command (DEBUG_README "Debugging Postfix from inside"): the command
//! runs in the daemon at start-up with $process_name, $process_id, $daemon_directory and
//! $config_directory expanded, `running:` is logged, the daemon waits for it and then
//! serves. Without a debugger_command, `-D` is fatal with Postfix's message.

use e2e::{Instance, program, wait_until};
use std::process::{Command, Stdio};

#[test]
fn debugger_command_runs_in_the_daemon() {
    let Some(mut mx) = Instance::new("t-02") else {
        return;
    };
    let out = mx.dir.join("debugger.out");
    mx.add_main_cf(
        "debugger_command = echo $process_name $process_id $daemon_directory $config_directory >> @DIR@/debugger.out; sleep 1\n",
    );
    mx.replace_master_cf_line(
        |l| l.starts_with("postlog "),
        "postlog   unix-dgram n  -       n       -       1       postlogd -D",
    );
    mx.start();
    // Any log record starts postlogd, which runs the debugger command first.
    mx.send_local("t02");
    assert!(wait_until(10, || std::fs::read_to_string(&out)
        .is_ok_and(|t| t.ends_with('\n'))));
    let text = std::fs::read_to_string(&out).unwrap();
    let words: Vec<&str> = text.lines().next().unwrap().split(' ').collect();
    assert_eq!(words[0], "postlogd", "{text}");
    let pid: u32 = words[1].parse().unwrap();
    assert_eq!(words[2], mx.dir.join("libexec").display().to_string());
    assert_eq!(words[3], mx.etc().display().to_string());
    assert!(
        mx.daemons("postlogd").contains(&pid),
        "pid {pid} is not a live postlogd"
    );
    mx.wait_log(
        &format!("postfix/postlogd[{pid}]: running: echo postlogd {pid} "),
        5,
    );
    // After the debugger command, the daemon serves: the mail is logged as delivered.
    mx.wait_log("relay=virtual", 20);
}

#[test]
fn no_debugger_command_is_fatal() {
    let Some(mx) = Instance::new("t-02b") else {
        return;
    };
    let out = Command::new(program("postlogd"))
        .args(["-V", "-D", "-l", "-t", "unix-dgram"])
        .env("MAIL_CONFIG", mx.etc())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("postfix/postlogd: fatal: no debugger_command variable set up"),
        "{stderr}"
    );
}
