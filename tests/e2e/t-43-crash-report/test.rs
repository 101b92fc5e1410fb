//! Crash reports: a daemon killed by SIGSEGV, one that panics (the test hook
//! IRONPOST_TEST_PANIC, which only main.cf's import_environment can pass), and one that
//! hits the watchdog each leave a report in `$data_directory/crash`, with the SMTP session
//! it was serving, its last log records, a backtrace with function names and the
//! configuration's SHA-256; the master keeps Postfix's warning as it is and names the
//! report in a warning of its own. posttriage names the report first, as text and
//! JSON, quoting its reason, its work and ironpost's frames, and finds it by pid and time
//! in a log that lacks the master's line.

use e2e::{Instance, howto_doc, wait_until};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

/// An SMTP session left open after EHLO, so that smtpd has work to report.
fn open_session(mx: &Instance) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", mx.smtp_port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("220 "), "{line}");
    reader.get_mut().write_all(b"EHLO client.test\r\n").unwrap();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line.starts_with("250 ") {
            break;
        }
        assert!(line.starts_with("250-"), "{line}");
    }
    reader
}

/// `sha256sum`'s digest of a file, worked out apart from ironpost.
fn sha256sum(path: &std::path::Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Waits for the master's lines about smtpd `pid` (Postfix's `warning`, then the
/// report's line) and returns the report's path and text.
fn report_after(mx: &Instance, pid: u32, warning: &str) -> (String, String) {
    let smtpd = format!("{}/libexec/smtpd", mx.dir.display());
    let warning = format!("warning: process {smtpd} pid {pid} {warning}\n");
    let info = format!("warning: crash report for process {smtpd} pid {pid}: ");
    mx.wait_log(&info, 30);
    let log = mx.log();
    // Postfix's line stays byte for byte, and the report's line follows it.
    let at = log
        .find(&warning)
        .unwrap_or_else(|| panic!("no {warning:?} in\n{log}"));
    let next = log[at + warning.len()..].lines().next().unwrap();
    assert!(next.contains("postfix/master["), "{next}");
    let path = next.split(&info).nth(1).unwrap_or_else(|| panic!("{next}"));
    let crash_dir = format!("{}/data/crash/", mx.dir.display());
    assert!(path.starts_with(&crash_dir), "{path}");
    let name = &path[crash_dir.len()..];
    let fields: Vec<&str> = name.rsplitn(3, '.').collect();
    assert_eq!(fields[1], pid.to_string(), "{name}");
    assert_eq!(fields[2], format!("127.0.0.1:{}", mx.smtp_port), "{name}");
    assert_eq!(fields[0].len(), "20261206T103000Z".len(), "{name}");
    let meta = std::fs::metadata(path).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(meta.mode() & 0o777, 0o600, "{path}");
    // mail_owner's, as all of data_directory, though this smtpd ran as root.
    let crash_meta = std::fs::metadata(&crash_dir).unwrap();
    assert_eq!(crash_meta.mode() & 0o777, 0o700, "{crash_dir}");
    assert_eq!(meta.uid(), crash_meta.uid(), "{path}");
    (path.to_string(), std::fs::read_to_string(path).unwrap())
}

/// posttriage's exit code and output with `args`.
fn posttriage(mx: &Instance, args: &[&str]) -> (i32, String) {
    e2e::exit_and_output(
        std::process::Command::new(e2e::program("posttriage"))
            .arg("-c")
            .arg(mx.etc())
            .args(args),
    )
}

/// posttriage's first lines name the crash (`rule`) and the report at `path`, then
/// quote the report's reason, its work and `frame` (a frame of ironpost's own code);
/// its JSON names the report in the first finding. `args` choose the log.
fn triage_names_report(
    mx: &Instance,
    args: &[&str],
    rule: &str,
    path: &str,
    reason: &str,
    frame: &str,
) {
    let (code, report) = posttriage(mx, args);
    let lines: Vec<&str> = report.lines().collect();
    let quoted: Vec<&str> = lines
        .iter()
        .skip(2)
        .take_while(|l| l.starts_with("  > "))
        .copied()
        .collect();
    let ok = code == 1
        && lines[0].starts_with("root cause: ")
        && lines[0].ends_with(&format!("; crash report {path} [{rule}]"))
        && lines[1].starts_with(&format!(
            "remedy: send {path} with a problem report (postreport"
        ))
        && quoted
            .first()
            .is_some_and(|l| l.starts_with(&format!("  > reason: {reason}")))
        && quoted.contains(&"  > work: SMTP session with localhost[127.0.0.1]")
        && quoted
            .iter()
            .any(|l| l.starts_with(&format!("  > at {frame}")));
    if !ok {
        mx.keep_for_inspection();
        panic!("posttriage {args:?}: exit {code}:\n{report}");
    }
    let (_, json) = posttriage(mx, &[args, &["-j"]].concat());
    let first = format!("{{\"status\":\"problem\",\"findings\":[{{\"rule\":\"{rule}\",");
    assert!(json.starts_with(&first), "{json}");
    let named = format!("\"crash_report\":{{\"file\":\"{path}\",\"quote\":[\"reason: {reason}");
    assert!(json.contains(&named), "{json}");
}

/// The fields every report has.
/// `frame` is a function the backtrace must name: the failing thread's.
fn check_report(mx: &Instance, report: &str, reason: &str, pid: u32, frame: &str) {
    let etc = mx.etc();
    for want in [
        format!("ironpost crash report\nreason: {reason}"),
        format!("\npid: {pid}\ntime: "),
        format!("\nprogram: {}/libexec/smtpd\n", mx.dir.display()),
        format!("\nservice: 127.0.0.1:{}/inet\n", mx.smtp_port),
        "\nversion: ironpost ".to_string(),
        format!("\nconfig_directory: {}\n", etc.display()),
        format!("\nmain.cf: sha256 {}\n", sha256sum(&etc.join("main.cf"))),
        format!(
            "\nmaster.cf: sha256 {}\n",
            sha256sum(&etc.join("master.cf"))
        ),
        "\ncommand: smtpd -n 127.0.0.1:".to_string(),
        "\nwork: SMTP session with localhost[127.0.0.1]\n".to_string(),
        "\nlast log records:\n".to_string(),
        " connect from localhost[127.0.0.1]\n".to_string(),
        "\nbacktrace:\n".to_string(),
        // Function names, from the line tables the build keeps.
        frame.to_string(),
        "\nend of report\n".to_string(),
    ] {
        assert!(
            report.contains(&want),
            "no {want:?} in the report:\n{report}"
        );
    }
}

#[test]
fn a_fatal_signal_leaves_a_report() {
    let Some(mut mx) = Instance::new("t-43-segv") else {
        return;
    };
    mx.start();
    let _session = open_session(&mx);
    assert!(wait_until(5, || mx.daemons("smtpd").len() == 1));
    let victim = mx.daemons("smtpd")[0];
    let killed = std::process::Command::new("kill")
        .args(["-SEGV", &victim.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let (path, report) = report_after(&mx, victim, "killed by signal 11");
    check_report(&mx, &report, "signal 11 (SIGSEGV)", victim, "smtpd::");
    let reason = "signal 11 (SIGSEGV)";
    triage_names_report(&mx, &[], "killed-by-signal", &path, reason, "smtpd::");
    // A log without the master's line: the report is found by pid and time.
    let lost = mx.dir.join("maillog-without-report-line");
    let log: String = mx
        .log()
        .lines()
        .filter(|l| !l.contains("crash report for process"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&lost, log).unwrap();
    let lost = lost.display().to_string();
    triage_names_report(
        &mx,
        &["-l", &lost],
        "killed-by-signal",
        &path,
        reason,
        "smtpd::",
    );
    // What docs/DEBUG_README.md shows: the log's lines about the process, and the report
    // up to its backtrace (whose frames vary with the build).
    let (_, log) = howto_doc::shell(
        &mx,
        &format!("grep -w 'pid {victim}' {}/log/maillog", mx.dir.display()),
    );
    let (_, head) = howto_doc::shell(&mx, &format!("sed '/^backtrace:/q' {path}"));
    howto_doc::check(
        "crash-report",
        &howto_doc::Context::of(&mx),
        &format!("{log}{head}"),
    );
}

#[test]
fn a_panic_leaves_a_report() {
    let Some(mut mx) = Instance::new("t-43-panic") else {
        return;
    };
    let defaults = "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C \
                    POSTLOG_SERVICE POSTLOG_HOSTNAME";
    mx.set_main_cf(
        "import_environment",
        &format!("{defaults} IRONPOST_TEST_PANIC=smtpd:3"),
    );
    mx.start();
    let _session = open_session(&mx);
    let victim = mx.daemons("smtpd")[0];
    let (path, report) = report_after(&mx, victim, "killed by signal 6");
    let reason = "panic: test panic requested by IRONPOST_TEST_PANIC after 3s (at ";
    check_report(&mx, &report, reason, victim, "server::test_panic_hook");
    triage_names_report(&mx, &[], "panic", &path, reason, "server::test_panic_hook");
    // The panic record is in the log and among the report's last records.
    assert!(
        mx.log()
            .contains(&format!("postfix/smtpd[{victim}]: panic: test panic"))
    );
    assert!(report.contains(" panic: test panic requested"), "{report}");
    // Only smtpd was asked to panic, not the other daemons that see the variable.
    assert_eq!(
        mx.log().matches(": panic: test panic").count(),
        1,
        "{}",
        mx.log()
    );
}

#[test]
fn a_watchdog_timeout_leaves_a_report() {
    let Some(mut mx) = Instance::new("t-43-watchdog") else {
        return;
    };
    // A session idle for longer than daemon_timeout, but not smtpd_timeout, ends in the
    // watchdog.
    mx.replace_master_cf_line(
        |l| l.starts_with("127.0.0.1:"),
        "127.0.0.1:@SMTP_PORT@ inet n - n - - smtpd -o daemon_timeout=6s -o smtpd_timeout=600s",
    );
    mx.start();
    let _session = open_session(&mx);
    let victim = mx.daemons("smtpd")[0];
    let (path, report) = report_after(&mx, victim, "exit status 1");
    check_report(&mx, &report, "watchdog timeout", victim, "smtpd::");
    // smtpd's own `fatal: watchdog timeout` is the first line of the crash.
    triage_names_report(&mx, &[], "fatal", &path, "watchdog timeout", "smtpd::");
    assert!(
        mx.log().contains(&format!(
            "postfix/smtpd[{victim}]: fatal: watchdog timeout\n"
        )),
        "{}",
        mx.log()
    );
}
