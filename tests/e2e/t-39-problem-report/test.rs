//! t-39: the problem report (postreport) on a running instance with a planted problem.
//!
//! Three messages for the relay wait in the deferred queue (nobody listens on the relay's
//! port), then main.cf gains a virtual_alias_maps table that does not exist, the system is
//! reloaded and a message is sent: the log now says why it was refused. The report must
//! show what DEBUG_README's "Reporting problems" asks for, each part checked against the
//! tool a person would use instead: `postconf -h mail_version`, `uname`, `postconf -n`,
//! `postconf -Mf`, `grep -n -m N -C N -E '(warning|error|fatal|panic):'` on the log, and
//! qshape; with -a the names are masked and the keywords are not.

use e2e::howto_doc::{self, Context};
use e2e::{Instance, program, wait_until};
use std::process::Command;

fn run(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .env_remove("MAIL_CONFIG")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The body of the section whose heading starts with `title`.
fn section<'a>(report: &'a str, title: &str) -> &'a str {
    let head = format!("\n=== {title}");
    let start = report
        .find(&head)
        .unwrap_or_else(|| panic!("no {title}:\n{report}"));
    let body = &report[start + 1..];
    let body = &body[body.find('\n').unwrap() + 1..];
    match body.find("\n\n=== ") {
        Some(end) => &body[..end + 1],
        None => body,
    }
}

#[test]
fn the_report_shows_what_the_howto_asks_for() {
    let Some(mut mx) = Instance::new("t-39-report") else {
        return;
    };
    let sbin = mx.dir.join("sbin");
    std::fs::create_dir_all(&sbin).unwrap();
    for name in ["postconf", "qshape"] {
        std::fs::copy(program(name), sbin.join(name)).unwrap();
    }
    mx.set_main_cf("command_directory", "@DIR@/sbin");
    mx.start();
    for n in 0..3 {
        mx.send(
            mx.smtp_port,
            "a@example.org",
            "r@relay.e2e.test",
            &format!("m{n}"),
        )
        .unwrap();
    }
    if !wait_until(30, || mx.log().matches("status=deferred").count() >= 3) {
        mx.keep_for_inspection();
        panic!("not deferred:\n{}", mx.log());
    }
    // The planted problem.
    mx.set_main_cf("virtual_alias_maps", "hash:@DIR@/etc/valias");
    mx.postfix(&["reload"]);
    mx.wait_log("reload -- version", 10);
    let refused = mx.send(mx.smtp_port, "a@example.org", "user@vmail.e2e.test", "m3");
    assert!(refused.is_err(), "accepted with a missing table");
    mx.wait_log("valias", 10);
    // The report and the tools it is compared with must see the same log.
    let mut last = String::new();
    wait_until(10, || {
        std::thread::sleep(std::time::Duration::from_millis(700));
        let now = mx.log();
        std::mem::replace(&mut last, now) == last
    });

    let etc = mx.etc().display().to_string();
    let log = mx.dir.join("log/maillog").display().to_string();
    let report = run(
        program("postreport"),
        &["-c", &etc, "-q", "2", "-n", "3", "-C", "2"],
    );

    let version = run(program("postconf"), &["-c", &etc, "-h", "mail_version"]);
    assert_eq!(
        section(&report, "version"),
        format!("mail_version = {version}")
    );
    let system = section(&report, "system");
    assert!(system.starts_with(&run("uname", &["-srm"])), "{system}");

    assert_eq!(
        section(&report, "postconf -n"),
        run(program("postconf"), &["-c", &etc, "-n"])
    );
    assert!(section(&report, "postconf -n").contains("virtual_alias_maps = hash:"));
    assert_eq!(
        section(&report, "postconf -Mf"),
        run(program("postconf"), &["-c", &etc, "-Mf"])
    );

    let problems = section(&report, &format!("log {log}:"));
    let grep = run(
        "grep",
        &[
            "-n",
            "-m",
            "3",
            "-C",
            "2",
            "-E",
            "(warning|error|fatal|panic):",
            &log,
        ],
    );
    assert!(
        !grep.is_empty(),
        "the planted problem is not in the log:\n{}",
        mx.log()
    );
    let total = run("grep", &["-c", "-E", "(warning|error|fatal|panic):", &log]);
    let lines = mx.log().lines().count();
    assert_eq!(
        problems,
        format!(
            "{grep}({} problem lines in {lines} log lines)\n",
            total.trim()
        )
    );
    // The first problem the report shows is the planted one, the cause.
    let first = problems
        .lines()
        .find(|l| {
            l.trim_start_matches(|c: char| c.is_ascii_digit())
                .starts_with(':')
        })
        .unwrap();
    assert!(first.contains("valias"), "{first}");

    let queue = section(&report, "queue");
    assert!(queue.contains("deferred 3,"), "{queue}");
    assert!(queue.contains("(total 3)"), "{queue}");
    let qshape = section(&report, "qshape deferred");
    assert_eq!(qshape, run(program("qshape"), &["-c", &etc, "deferred"]));
    assert!(qshape.contains("relay.e2e.test"), "{qshape}");

    // Anonymised: names masked the same way everywhere, keywords kept, and the same
    // report twice.
    let anonymous = run(
        program("postreport"),
        &["-a", "-c", &etc, "-q", "2", "-n", "3"],
    );
    assert_eq!(
        anonymous,
        run(
            program("postreport"),
            &["-a", "-c", &etc, "-q", "2", "-n", "3"]
        )
    );
    for name in [
        "mail.e2e.test",
        "relay.e2e.test",
        "a@example.org",
        "127.0.0.1",
    ] {
        assert!(!anonymous.contains(name), "{name} in:\n{anonymous}");
    }
    for kept in [
        "myhostname = AAAA.ADA.AAAA",
        "mynetworks = DDD.D.D.D/8",
        "AAAAA.ADA.AAAA",
        " AAAA postfix/smtpd[",
        "the Postfix mail system",
        "virtual_alias_maps = hash:",
        "error: open database",
        "smtpd",
        "warning:",
        "deferred 3,",
    ] {
        assert!(anonymous.contains(kept), "no {kept} in:\n{anonymous}");
    }
    assert_eq!(
        anonymous.lines().count(),
        run(program("postreport"), &["-c", &etc, "-q", "2", "-n", "3"])
            .lines()
            .count()
    );
    shown_in_the_howto(&mx, &report, &anonymous);
}

/// Lines of each part that the Howto shows.
const SHOWN_LINES: usize = 5;

/// The report with each part but the log's problem lines cut after [`SHOWN_LINES`] lines
/// (`[...]` marks the cut).
fn shortened(report: &str) -> String {
    let mut out = String::new();
    let mut kept = 0;
    let mut whole = false;
    for line in report.lines() {
        if line.starts_with("=== ") {
            kept = 0;
            whole = line.starts_with("=== log ");
        } else if !line.is_empty() {
            kept += 1;
        }
        match kept {
            k if k <= SHOWN_LINES || whole || line.is_empty() => out.push_str(&format!("{line}\n")),
            k if k == SHOWN_LINES + 1 => out.push_str("[...]\n"),
            _ => {}
        }
    }
    out
}

/// "Reporting problems" in docs/DEBUG_README.md: the report typed as the Howto asks
/// (MAIL_CONFIG names the configuration, as on an installed system), the same as the one
/// checked above, and its anonymised form, each shortened. The machine's kernel and
/// distribution (the system part) are shown as fixed ones.
fn shown_in_the_howto(mx: &Instance, report: &str, anonymous: &str) {
    let system = section(report, "system");
    let mut context = Context::of(mx);
    for (line, shown) in system.lines().filter(|l| !l.is_empty()).zip([
        "Linux 6.1.0-28-amd64 x86_64",
        "Debian GNU/Linux 12 (bookworm)",
    ]) {
        context = context.with(line, shown);
    }
    let (status, typed) = howto_doc::typed(mx, "postreport", &["-q", "2", "-n", "3", "-C", "2"]);
    assert_eq!(status, 0, "{typed}");
    let (line, output) = typed.split_once('\n').unwrap();
    assert_eq!(output, report, "postreport with MAIL_CONFIG and with -c");
    howto_doc::check(
        "postreport",
        &context,
        &format!("{line}\n{}", shortened(output)),
    );

    let (status, typed) = howto_doc::typed(mx, "postreport", &["-a", "-q", "2", "-n", "3"]);
    assert_eq!(status, 0, "{typed}");
    let (line, output) = typed.split_once('\n').unwrap();
    assert_eq!(
        output, anonymous,
        "postreport -a with MAIL_CONFIG and with -c"
    );
    howto_doc::check(
        "postreport-anonymised",
        &context,
        &format!("{line}\n{}", shortened(output)),
    );
}
