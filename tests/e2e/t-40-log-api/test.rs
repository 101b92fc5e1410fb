//! t-40: the log is an API. The programs people point at a Postfix log read ironpost's
//! log as they read Postfix 3.7's: pflogsumm (Debian's package) reports the same numbers,
//! and fail2ban's postfix filter (Debian's fail2ban, `fail2ban-regex` in each mode) finds
//! the same offenders, the same number of times.
//!
//! The same workload goes through an instance of ironpost's programs and through an
//! instance of Postfix's own (its master started with /usr/sbin/postfix): mail delivered
//! to a mailbox, deferred (nobody listens on the relay's port), bounced (an error:
//! transport, submitted with sendmail) with its notice back to the sender, held (a header_checks HOLD), rejected at
//! RCPT (unknown users, from 127.0.0.5), failed SASL logins through a private Dovecot (from
//! 127.0.0.6 and .8), a client that hangs up after EHLO (from 127.0.0.7) and one that
//! sends unknown commands until smtpd_hard_error_limit (from 127.0.0.9). Only Debian's
//! fail2ban-regex is run, never the fail2ban service.

use e2e::{Instance, dovecot, wait_until};
use std::process::Command;

/// ironpost's delivery agents and bounce service, on top of the default set, so that every
/// line of the workload's log is written by an ironpost program.
const MORE_DAEMONS: [&str; 4] = ["bounce", "error", "virtual", "smtp"];

/// One SMTP client session: `mail FROM TO SUBJECT`, `auth USER PASSWORD` or `ehlo` (EHLO
/// and hang up), from a chosen loopback address. Prints smtplib's error, if any.
const CLIENT: &str = r#"
import base64, smtplib, socket, sys
port, source, action = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = smtplib.SMTP('127.0.0.1', port, timeout=30, source_address=(source, 0))
if action == 'mail':
    sender, rcpt, subject = sys.argv[4:7]
    msg = 'From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nbody\r\n' % (sender, rcpt, subject)
    try:
        s.sendmail(sender, [rcpt], msg)
    except Exception as e:
        print(e)
    s.quit()
elif action == 'auth':
    # One AUTH PLAIN, where smtplib's login() would go on to try every mechanism.
    s.ehlo('client.e2e.test')
    token = base64.b64encode(('\0%s\0%s' % (sys.argv[4], sys.argv[5])).encode()).decode()
    code, text = s.docmd('AUTH', 'PLAIN ' + token)
    if code != 235:
        print(code, text.decode())
    s.quit()
elif action == 'errors':
    # Unknown commands until smtpd_hard_error_limit ends the session.
    s.ehlo('client.e2e.test')
    try:
        for _ in range(5):
            s.docmd('XYZZY')
    except Exception:
        pass
else:
    s.ehlo('client.e2e.test')
    s.sock.shutdown(socket.SHUT_RDWR)
    s.sock.close()
"#;

fn client(mx: &Instance, source: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .args(["-c", CLIENT, &mx.smtp_port.to_string(), source])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The instance's settings for the workload.
fn configure(mx: &Instance, dovecot: &dovecot::TestDovecot) {
    mx.write(
        "etc/transport",
        &mx.expand(
            "relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n\
             bounce.e2e.test error:5.1.1 mailbox unavailable\n",
        ),
    );
    mx.write("etc/header_checks", "/^Subject: hold-me/ HOLD\n");
    mx.set_main_cf("relay_domains", "relay.e2e.test, bounce.e2e.test");
    mx.set_main_cf("header_checks", "regexp:@DIR@/etc/header_checks");
    mx.set_main_cf("smtpd_hard_error_limit", "3");
    mx.set_main_cf("smtpd_sasl_auth_enable", "yes");
    mx.set_main_cf("smtpd_sasl_type", "dovecot");
    mx.set_main_cf("smtpd_sasl_path", &dovecot.socket().display().to_string());
}

/// The workload, waiting until the log shows every message's fate.
fn workload(mx: &Instance) {
    let me = "user@vmail.e2e.test";
    let mut errors = Vec::new();
    for n in 0..3 {
        errors.push(client(
            mx,
            "127.0.0.1",
            &["mail", me, me, &format!("delivered {n}")],
        ));
    }
    for n in 0..2 {
        errors.push(client(
            mx,
            "127.0.0.1",
            &["mail", me, "r@relay.e2e.test", &format!("later {n}")],
        ));
    }
    // Submitted locally: smtpd refuses an error: transport's recipients at RCPT (Postfix's
    // does; ironpost's smtpd does not yet), and the bounce must come from the agent.
    let out = mx.sendmail(
        &["-f", me, "x@bounce.e2e.test"],
        "Subject: bounced\n\nbody\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    errors.push(client(mx, "127.0.0.1", &["mail", me, me, "hold-me"]));
    assert!(
        errors.iter().all(String::is_empty),
        "{errors:?}\n{}",
        mx.log()
    );
    for who in ["nosuch", "nobody-here"] {
        let rcpt = format!("{who}@vmail.e2e.test");
        let error = client(mx, "127.0.0.5", &["mail", me, &rcpt, "rejected"]);
        assert!(error.contains("550"), "{error}");
    }
    // Two addresses: Dovecot delays the answers to one address more after each failure,
    // until smtpd gives up on it.
    for (source, password) in [
        ("127.0.0.6", "wrong"),
        ("127.0.0.6", "worse"),
        ("127.0.0.8", "bad"),
    ] {
        let error = client(mx, source, &["auth", "alice", password]);
        assert!(error.contains("535"), "{error}");
    }
    client(mx, "127.0.0.7", &["ehlo"]);
    client(mx, "127.0.0.9", &["errors"]);
    // Delivered: three and the bounce notice; deferred: two; bounced: one; held: one.
    let done = wait_until(60, || {
        let log = mx.log();
        log.matches("status=sent").count() >= 4
            && log.matches("status=deferred").count() >= 2
            && log.contains("status=bounced")
            && log.contains(": hold: header Subject: hold-me")
            && log.contains("lost connection after EHLO from unknown[127.0.0.7]")
            && log.contains("too many errors after UNKNOWN from unknown[127.0.0.9]")
    });
    if !done {
        mx.keep_for_inspection();
        panic!("the workload did not finish:\n{}", mx.log());
    }
    // Nothing more is coming (the next deferred-queue run is minutes away).
    std::thread::sleep(std::time::Duration::from_secs(2));
}

fn have(program: &str) -> bool {
    std::path::Path::new(program).exists()
}

/// Both logs after the workload, ironpost's first.
fn logs(name: &str) -> Option<(Instance, Instance, [dovecot::TestDovecot; 2])> {
    for program in ["/usr/sbin/pflogsumm", "/usr/bin/fail2ban-regex"] {
        if !have(program) {
            testkit::skip(format!(
                "{program} is not installed (Debian's pflogsumm, fail2ban)"
            ));
            return None;
        }
    }
    // One Dovecot each, so that the failures of the first run do not slow the second.
    let dovecots = match (dovecot::TestDovecot::start(), dovecot::TestDovecot::start()) {
        (Ok(a), Ok(b)) => [a, b],
        (Err(reason), _) | (_, Err(reason)) => {
            testkit::skip(reason);
            return None;
        }
    };
    let daemons: Vec<&str> = e2e::IRONPOST_DAEMONS
        .into_iter()
        .chain(MORE_DAEMONS)
        .collect();
    let mut ours = Instance::with_daemons(&format!("{name}-ip"), &daemons)?;
    let theirs = Instance::with_daemons(&format!("{name}-pf"), &[])?;
    configure(&ours, &dovecots[0]);
    configure(&theirs, &dovecots[1]);
    ours.start();
    workload(&ours);
    theirs.start_postfix();
    workload(&theirs);
    Some((ours, theirs, dovecots))
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// pflogsumm's report without what differs between any two runs of the same workload:
/// the per-hour and per-day tables, times and durations, the relay's port, the instance's
/// directory and the version; and without the warnings Postfix's postfix-script logs about
/// the test's daemon directory of symbolic links (the set-up, not the workload).
fn pflogsumm(mx: &Instance) -> String {
    let log = mx.dir.join("log/maillog").display().to_string();
    let report = run(
        "/usr/sbin/pflogsumm",
        &["--verbose-msg-detail", "--smtpd-stats", &log],
    );
    let dir = mx.dir.display().to_string();
    let port = format!(":{}:", mx.sink_port);
    let mut out = String::new();
    let mut skipping = false;
    for line in report.lines() {
        if line.starts_with("Per-Hour") || line.starts_with("Per-Day") {
            skipping = true;
            continue;
        }
        if skipping {
            // A table ends at the blank line after its rows.
            skipping = !line.is_empty() || out.ends_with("\n\n");
            if skipping {
                continue;
            }
        }
        if line.contains("symlink leaves directory") || line.contains("postfix-script (total:") {
            continue;
        }
        if line.contains("connect time") {
            continue;
        }
        let line = line.replace(&dir, "DIR").replace(&port, ":PORT:");
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let duration = |i: usize| {
            let t = tokens[i];
            let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
            t.split(':').count() == 3 && t.split(':').all(digits)
                || t.strip_suffix('s').is_some_and(digits)
                || t.split_once('.')
                    .is_some_and(|(a, b)| digits(a) && digits(b))
                    && tokens.get(i + 1) == Some(&"s")
        };
        let mut words: Vec<&str> = (0..tokens.len())
            .map(|i| if duration(i) { "T" } else { tokens[i] })
            .collect();
        if let Some(at) = words.iter().position(|w| *w == "version") {
            words.truncate(at + 1);
        }
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    out
}

#[test]
fn pflogsumm_and_fail2ban_read_ironpost_s_log_as_postfix_s() {
    let Some((ours, theirs, _dovecot)) = logs("t-40") else {
        return;
    };
    let (a, b) = (pflogsumm(&ours), pflogsumm(&theirs));
    if a != b {
        ours.keep_for_inspection();
        theirs.keep_for_inspection();
    }
    assert_eq!(a, b, "pflogsumm differs");
    for (needle, what) in [
        ("\n4 delivered\n", "delivered"),
        ("\n2 deferred (2 deferrals)\n", "deferred"),
        ("\n1 bounced\n", "bounced"),
        ("\n2 rejected (33%)\n", "rejected"),
        ("\n1 held\n", "held"),
    ] {
        assert!(a.contains(needle), "no {what} count in\n{a}");
    }

    for mode in [
        "normal",
        "auth",
        "rbl",
        "more",
        "ddos",
        "extra",
        "aggressive",
        "errors",
    ] {
        let filter = format!("/etc/fail2ban/filter.d/postfix.conf[mode={mode}]");
        let offenders = |mx: &Instance| {
            let log = mx.dir.join("log/maillog").display().to_string();
            let mut ips: Vec<String> = run("/usr/bin/fail2ban-regex", &["-o", "ip", &log, &filter])
                .lines()
                .map(String::from)
                .collect();
            ips.sort();
            ips
        };
        let (a, b) = (offenders(&ours), offenders(&theirs));
        if a != b {
            ours.keep_for_inspection();
            theirs.keep_for_inspection();
        }
        assert_eq!(a, b, "fail2ban mode {mode}");
        // Who each mode finds, once per matching line: the unknown users' client (.5) and
        // the error-limit one (.9) in the reject modes, the failed logins (.6, .8) in auth,
        // and their sessions (auth=0/1) with the hang-up (.7) in ddos.
        let (five, six, seven, eight, nine) = (
            "127.0.0.5",
            "127.0.0.6",
            "127.0.0.7",
            "127.0.0.8",
            "127.0.0.9",
        );
        let expected: Vec<&str> = match mode {
            "normal" | "more" => vec![five, five, nine],
            "auth" => vec![six, six, eight],
            "ddos" => vec![six, six, seven, eight],
            "extra" => vec![five, five, six, six, eight, nine],
            "aggressive" => vec![five, five, six, six, six, six, seven, eight, eight, nine],
            "errors" => vec![nine],
            _ => vec![],
        };
        assert_eq!(a, expected, "fail2ban mode {mode}");
    }
}
