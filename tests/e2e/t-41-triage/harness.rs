//! What the triage end-to-end tests share (t-41, t-53): running posttriage on an
//! instance, log windows that start with a fault, and the ways a fault is injected
//! (a reload, fresh smtpd processes, a main.cf line removed, a message sent in the
//! background while a daemon it needs is broken).

// Each test uses the helpers it needs.
#![allow(dead_code)]

use e2e::{Instance, System, wait_until};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `postfix ARGS`, ours or Postfix's.
pub fn ctl(mx: &Instance, system: System, args: &[&str]) {
    mx.postfix_of(system, args);
}

/// posttriage's exit code and output.
pub fn triage(mx: &Instance, args: &[&str]) -> (i32, String) {
    e2e::exit_and_output(
        Command::new(e2e::program("posttriage"))
            .arg("-c")
            .arg(mx.etc())
            .args(args),
    )
}

/// The local time, as `-s` takes it, after the clock moved to a new second (so that the
/// lines of the previous step are outside the window).
pub fn window_start() -> String {
    std::thread::sleep(Duration::from_millis(1100));
    let out = Command::new("date").arg("+%H:%M:%S").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs posttriage from `since` and checks the first line names `rule` and the second
/// has `remedy`; returns the report.
pub fn expect(mx: &Instance, since: &str, rule: &str, remedy: &str) -> String {
    let (code, report) = triage(mx, &["-s", since]);
    let mut lines = report.lines();
    let first = lines.next().unwrap_or("");
    let second = lines.next().unwrap_or("");
    if code != 1
        || !first.starts_with("root cause: ")
        || !first.ends_with(&format!("[{rule}]"))
        || !second.starts_with("remedy: ")
        || !second.contains(remedy)
    {
        mx.keep_for_inspection();
        panic!(
            "expected [{rule}] with remedy containing {remedy:?}, exit 1; got exit {code}:\n{report}\nlog:\n{}",
            mx.log()
        );
    }
    report
}

/// Sends one message; the SMTP error is no failure here (several faults cause one).
pub fn send(mx: &Instance, to: &str) -> Result<(), String> {
    mx.send(mx.smtp_port, "user@vmail.e2e.test", to, "triage")
}

/// Sends one message with `headers` (CRLF-terminated lines) before the usual ones, in
/// the background: a fault that stalls smtpd (a daemon behind it that keeps dying) must
/// not stall the test. The client gives up after 20 seconds.
pub fn submit(mx: &Instance, to: &str, headers: &str) -> Child {
    let script = "import smtplib, sys\n\
        port, rcpt, headers = int(sys.argv[1]), sys.argv[2], sys.argv[3]\n\
        msg = headers + 'From: <user@vmail.e2e.test>\\r\\nTo: <%s>\\r\\nSubject: triage\\r\\n\\r\\nbody\\r\\n' % rcpt\n\
        s = smtplib.SMTP('127.0.0.1', port, timeout=20)\n\
        s.sendmail('user@vmail.e2e.test', [rcpt], msg)\n\
        s.quit()\n";
    Command::new("python3")
        .args(["-c", script, &mx.smtp_port.to_string(), to, headers])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Stops a background client of [`submit`].
pub fn reap(mut client: Child) {
    let _ = client.kill();
    let _ = client.wait();
}

/// Applies a valid main.cf change with a reload; then a new log window starts.
pub fn reload_with(mx: &Instance, system: System, name: &str, value: &str) -> String {
    mx.set_main_cf(name, value);
    reload(mx, system)
}

/// `postfix reload`, waiting until the master logged it; then a new log window starts.
pub fn reload(mx: &Instance, system: System) -> String {
    let before = mx.log().matches("reload -- version").count();
    ctl(mx, system, &["reload"]);
    wait_until(10, || {
        mx.log().matches("reload -- version").count() > before
    });
    std::thread::sleep(Duration::from_millis(500));
    window_start()
}

pub fn wait(mx: &Instance, needle: &str) {
    mx.wait_log(needle, 30);
}

/// Running smtpd processes are killed, so that the next connection starts one that
/// reads main.cf again (a reload would make the master itself read a main.cf that is
/// broken on purpose); then a new log window starts.
pub fn fresh_smtpd(mx: &Instance) -> String {
    for pid in mx.daemons("smtpd") {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    wait_until(10, || mx.daemons("smtpd").is_empty());
    window_start()
}

/// Removes each of `names` from main.cf.
pub fn remove_main_cfs(mx: &Instance, names: &[&str]) {
    for name in names {
        remove_main_cf(mx, name);
    }
}

pub fn remove_main_cf(mx: &Instance, name: &str) {
    let path = mx.etc().join("main.cf");
    let text: String = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with(&format!("{name} ")))
        .map(|l| format!("{l}\n"))
        .collect();
    mx.write("etc/main.cf", &text);
}

/// The sendmail command of `system`: for ironpost's, its sendmail, postdrop, postqueue,
/// postsuper and postconf (posttriage runs postconf from command_directory) are
/// installed in the instance.
pub fn sendmail_of(mx: &Instance, system: System) -> PathBuf {
    match system {
        System::Ironpost => {
            mx.install_commands();
            let sbin = mx.dir.join("sbin");
            std::fs::copy(e2e::program("postconf"), sbin.join("postconf")).unwrap();
            sbin.join("sendmail")
        }
        System::Postfix => "/usr/sbin/sendmail".into(),
    }
}
