//! `postfix reload -n`: the main.cf parameters and master.cf services that changed since
//! the master loaded them, the running daemons a reload restarts or stops, and what
//! would break (the master's own master.cf checks, postconf's warnings), without
//! signalling the master; the exit status says whether a reload would be accepted.

use e2e::{Instance, free_port, howto_doc, wait_until};
use std::io::{BufRead, BufReader};
use std::net::TcpStream;

/// `postfix reload -n`: (exit status, standard output).
fn dry_run(mx: &Instance, flag: &str) -> (i32, String) {
    let out = mx.command("postfix", &["reload", flag]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), text)
}

fn has(report: &str, want: &str) {
    assert!(report.contains(want), "no {want:?} in:\n{report}");
}

/// The greeting of a new SMTP session.
fn banner(mx: &Instance) -> String {
    let stream = TcpStream::connect(("127.0.0.1", mx.smtp_port)).unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    line
}

#[test]
fn dry_run_lists_changes_and_problems_without_reloading() {
    let Some(mut mx) = Instance::new("t-44") else {
        return;
    };
    mx.start();
    let dir = mx.dir.display().to_string();

    // Nothing changed yet.
    let (status, report) = dry_run(&mx, "-n");
    assert_eq!(status, 0, "{report}");
    has(
        &report,
        &format!("reload dry-run for {dir}/etc\nmaster: running, pid "),
    );
    has(&report, "main.cf changes since the master loaded it (");
    has(
        &report,
        "):\n  none\n\nmaster.cf changes since the master loaded it (",
    );
    has(&report, "\nproblems:\n  none\n");
    has(&report, "\nresult: a reload would be accepted\n");

    // A session keeps one smtpd busy, so that the report has a daemon to restart.
    let session = TcpStream::connect(("127.0.0.1", mx.smtp_port)).unwrap();
    assert!(wait_until(5, || !mx.daemons("smtpd").is_empty()));
    let smtpd = mx.daemons("smtpd")[0];
    let old_banner = banner(&mx);

    mx.set_main_cf("smtpd_banner", "$myhostname ESMTP dry-run");
    mx.set_main_cf("bogus_parameter", "1");
    mx.set_main_cf("inet_protocols", "all");
    let main_cf = std::fs::read_to_string(mx.etc().join("main.cf")).unwrap();
    let without_relay: String = main_cf
        .lines()
        .filter(|l| !l.starts_with("relay_domains"))
        .map(|l| format!("{l}\n"))
        .collect();
    mx.write("etc/main.cf", &without_relay);
    let second = free_port();
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    let master_cf = master_cf
        .replace(
            "discard   unix  -       -       n       -       -       discard\n",
            "",
        )
        .replace(
            "smtp      unix  -       -       n       -       -       smtp\n",
            "smtp      unix  -       -       n       -       -       smtp -o smtp_helo_timeout=10s\n",
        )
        + &format!("127.0.0.1:{second} inet n - n - - smtpd\n");
    mx.write("etc/master.cf", &master_cf);

    for flag in ["-n", "--dry-run"] {
        let (status, report) = dry_run(&mx, flag);
        assert_eq!(status, 0, "{report}");
        has(
            &report,
            "  added: smtpd_banner = $myhostname ESMTP dry-run\n",
        );
        has(&report, "  added: bogus_parameter = 1\n");
        has(
            &report,
            "  changed: inet_protocols = all (was: ipv4)\n    inet_protocols: takes effect only after \"postfix stop; postfix start\", not with a reload\n",
        );
        has(
            &report,
            "  removed: relay_domains (was: relay.e2e.test): back to its default\n",
        );
        has(
            &report,
            &format!("  added: 127.0.0.1:{second}/inet: 127.0.0.1:{second} inet n - n - - smtpd\n"),
        );
        has(
            &report,
            "  changed: smtp/unix: smtp unix - - n - - smtp -o smtp_helo_timeout=10s\n       was: smtp/unix: smtp unix - - n - - smtp\n",
        );
        has(
            &report,
            "  removed: discard/unix: discard unix - - n - - discard\n",
        );
        let restart = format!("  restart: 127.0.0.1:{}/inet: pid ", mx.smtp_port);
        has(&report, &restart);
        let pids = report
            .split(&restart)
            .nth(1)
            .unwrap()
            .lines()
            .next()
            .unwrap();
        assert!(pids.split(' ').any(|p| p == smtpd.to_string()), "{report}");
        has(
            &report,
            &format!("  start on demand: 127.0.0.1:{second}/inet (new service)\n"),
        );
        // postconf's warning, as postfix-script's reload would show it.
        // (postconf names itself by the path it was run as, command_directory's.)
        has(&report, "\nproblems:\n  warning: ");
        has(
            &report,
            &format!("postconf: {dir}/etc/main.cf: unused parameter: bogus_parameter=1\n"),
        );
        has(&report, "\nresult: a reload would be accepted\n");
    }
    // The report docs/DEBUG_README.md shows.
    let (status, shown) = howto_doc::typed(&mx, "postfix", &["reload", "-n"]);
    assert_eq!(status, 0, "{shown}");
    let context = howto_doc::Context::of(&mx).with(second, "10025");
    howto_doc::check("reload-dry-run", &context, &shown);
    // Nothing was reloaded: no reload line, the same daemon, the old banner.
    assert!(!mx.log().contains("reload -- version"), "{}", mx.log());
    assert_eq!(mx.daemons("smtpd").first(), Some(&smtpd));
    drop(session);
    assert_eq!(banner(&mx), old_banner);

    // A master.cf the master would die of: the dry-run says so and exits 1.
    let broken = master_cf.clone() + "nosuchport inet n - n - - smtpd\n";
    mx.write("etc/master.cf", &broken);
    let (status, report) = dry_run(&mx, "-n");
    assert_eq!(status, 1, "{report}");
    has(
        &report,
        "  error: the master would stop: 127.0.0.1:nosuchport: Servname not supported for ai_socktype\n",
    );
    has(
        &report,
        "\nresult: a reload would fail: 1 error(s); the running system keeps its configuration\n",
    );
    // A program that does not exist: the service would be throttled.
    mx.write(
        "etc/master.cf",
        &(master_cf.clone() + "nosuch unix - - n - - nosuchprogram\n"),
    );
    let (status, report) = dry_run(&mx, "-n");
    assert_eq!(status, 1, "{report}");
    has(
        &report,
        &format!(
            "  error: service nosuch (private/nosuch): no program {dir}/libexec/nosuchprogram: it would be throttled at its first use\n"
        ),
    );

    // After a real reload, the master's copy is the new configuration: nothing changes.
    mx.write("etc/master.cf", &master_cf);
    mx.postfix(&["reload"]);
    mx.wait_log("reload -- version", 10);
    assert!(wait_until(10, || {
        let (_, report) = dry_run(&mx, "-n");
        report.contains("):\n  none\n\nmaster.cf changes since the master loaded it (")
            && report.contains("):\n  none\n\ndaemons: ")
    }));
    assert!(banner(&mx).contains("ESMTP dry-run"));

    // No running system: nothing to reload.
    mx.postfix(&["stop"]);
    let (status, report) = dry_run(&mx, "-n");
    assert_eq!(status, 1, "{report}");
    has(&report, "master: not running: there is nothing to reload\n");
    has(
        &report,
        "\nresult: no reload: the Postfix mail system is not running\n",
    );
}
