//! posttriage on more injected faults (t-41 has the first ones and the healthy load):
//! start-up failures of a mail system that never comes up, then faults of a running one
//! (delivery agents, tables, limits, TLS, the remote side played by smtp-sink), on
//! ironpost and on Postfix 3.7 with its own master, so that each rule is checked
//! against the log each system writes. Each fault is undone before the next; the log
//! window (`-s`) starts with the fault, and the report's first line must name the rule,
//! its second line the remedy.

#[path = "../t-41-triage/harness.rs"]
mod harness;

use e2e::{Instance, System, free_port};
use harness::*;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Command, Stdio};

#[test]
fn ironpost_start_failures() {
    if let Some(mx) = Instance::new("t-53-start") {
        start_failures(&mx, System::Ironpost);
    }
}

#[test]
fn postfix_start_failures() {
    if let Some(mx) = Instance::with_daemons("t-53-start-postfix", &[]) {
        start_failures(&mx, System::Postfix);
    }
}

#[test]
fn ironpost_running_faults() {
    if let Some(mx) = Instance::new("t-53-run") {
        running_faults(&mx, System::Ironpost);
    }
}

#[test]
fn postfix_running_faults() {
    if let Some(mx) = Instance::with_daemons("t-53-run-postfix", &[]) {
        running_faults(&mx, System::Postfix);
    }
}

/// The `postfix` command of `system`.
fn postfix_command(system: System) -> std::path::PathBuf {
    match system {
        System::Ironpost => e2e::program("postfix"),
        System::Postfix => "/usr/sbin/postfix".into(),
    }
}

/// `postfix start`, which must fail; then the master's lines (if any) have been written.
fn start_fails(mx: &Instance, system: System) {
    let out = Command::new(postfix_command(system))
        .arg("-c")
        .arg(mx.etc())
        .arg("start")
        .env_remove("MAIL_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    if out.status.success() {
        mx.keep_for_inspection();
        panic!("postfix start succeeded:\n{}", mx.log());
    }
    // A master that got as far as forking may still be writing.
    std::thread::sleep(std::time::Duration::from_millis(500));
}

fn start_failures(mx: &Instance, system: System) {
    let stock = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();

    // Mail submitted while the mail system is down (after one start, which makes the
    // queue directories). Nothing is logged: postlogd is down too, and postdrop only
    // warns on its terminal, when at all (public/pickup is left behind); so this is a
    // check.
    ctl(mx, system, &["start"]);
    mx.wait_log("daemon started -- version", 20);
    let master = mx.master_pid().unwrap();
    ctl(mx, system, &["stop"]);
    e2e::wait_until(10, || {
        !std::path::Path::new(&format!("/proc/{master}")).exists()
    });
    let since = window_start();
    let sendmail = sendmail_of(mx, system);
    let out = mx.run_with_input(
        &sendmail,
        &["-f", "user@vmail.e2e.test", "user@vmail.e2e.test"],
        b"Subject: triage\n\nbody\n",
    );
    assert!(out.status.success(), "{out:?}");
    expect(mx, &since, "not-running", "postfix start");
    for file in std::fs::read_dir(mx.dir.join("queue/maildrop")).unwrap() {
        std::fs::remove_file(file.unwrap().path()).unwrap();
    }

    // A typo in a master.cf service type.
    let since = window_start();
    mx.replace_master_cf_line(
        |l| l.starts_with("proxymap  unix"),
        "proxymap  unux  -       -       n       -       -       proxymap",
    );
    start_fails(mx, system);
    // postfix-script says only that postconf failed: postconf's message went to the
    // terminal. posttriage's check of master.cf names the entry (t-57 has the details).
    let report = expect(mx, &since, "master-cf-field", "postconf -M");
    assert!(report.contains("[postconf-fails]"), "{report}");
    mx.write("etc/master.cf", &stock);

    // An entry postconf takes and the master refuses, naming the line.
    let since = window_start();
    mx.replace_master_cf_line(
        |l| l.contains(" inet ") && l.ends_with("smtpd"),
        "127.0.0.1:@SMTP_PORT@ inet y - n - - smtpd",
    );
    start_fails(mx, system);
    expect(mx, &since, "master-cf-syntax", "fix line");
    mx.write("etc/master.cf", &stock);

    // A port name that is not a service: the master has getaddrinfo()'s words for it.
    let since = window_start();
    mx.replace_master_cf_line(
        |l| l.contains(" inet ") && l.ends_with("smtpd"),
        "127.0.0.1:smtpp inet n - n - - smtpd",
    );
    start_fails(mx, system);
    expect(mx, &since, "unknown-service", "getent services smtpp");
    mx.write("etc/master.cf", &stock);

    // An address this host does not have. Postfix's postfix command says so on the
    // terminal only (and ironpost's master.cf here names its addresses itself), so
    // this is a check.
    let since = window_start();
    mx.set_main_cf("inet_interfaces", "127.0.0.1, 198.51.100.7");
    expect(mx, &since, "no-local-interface", "inet_interfaces");
    mx.set_main_cf("inet_interfaces", "127.0.0.1");

    // Another program holds the SMTP port.
    let since = window_start();
    let squatter = TcpListener::bind(("127.0.0.1", mx.smtp_port)).unwrap();
    start_fails(mx, system);
    expect(
        mx,
        &since,
        "port-in-use",
        &format!("sport = :{}", mx.smtp_port),
    );
    drop(squatter);
    // The master of that attempt may have come up far enough to leave a pid file.
    let _ = mx.command("postfix", &["stop"]);

    not_implemented(mx, system, &stock);
}

/// Postfix-only settings: ironpost takes them without a word and they do nothing there,
/// so the check names each, with its place; Postfix 3.7's programs read them, so on
/// Postfix it says nothing. Debian's stock main.cf sets none that matters.
fn not_implemented(mx: &Instance, system: System, stock_master: &str) {
    let main_cf = std::fs::read_to_string(mx.etc().join("main.cf")).unwrap();
    let since = window_start();
    mx.set_main_cf("smtp_tls_trust_anchor_file", "@DIR@/etc/anchors.pem");
    mx.set_main_cf("confirm_delay_cleared", "yes");
    // Equal to Postfix's default (written otherwise): no finding.
    mx.set_main_cf("smtp_pix_workarounds", "disable_esmtp, delay_dotcrlf");
    mx.replace_master_cf_line(
        |l| l.starts_with("relay "),
        "relay unix - - n - - smtp -o smtp_pix_workarounds=disable_esmtp -o smtp_min_data_rate=500",
    );
    let line_of = |name: &str| {
        let text = std::fs::read_to_string(mx.etc().join("main.cf")).unwrap();
        1 + text.lines().position(|l| l.starts_with(name)).unwrap()
    };
    let relay_line = {
        let text = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
        1 + text.lines().position(|l| l.starts_with("relay ")).unwrap()
    };
    let said = ": set but not implemented by ironpost: it has no effect";
    let expected = [
        format!(
            "main.cf:{}: smtp_tls_trust_anchor_file = {}/etc/anchors.pem{said}",
            line_of("smtp_tls_trust_anchor_file"),
            mx.dir.display()
        ),
        format!(
            "main.cf:{}: confirm_delay_cleared = yes{said}",
            line_of("confirm_delay_cleared")
        ),
        format!("master.cf:{relay_line} service relay: smtp_pix_workarounds = disable_esmtp{said}"),
    ];
    match system {
        System::Ironpost => {
            let report = expect(
                mx,
                &since,
                "not-implemented",
                "remove it, or keep it only for a Postfix fallback",
            );
            for line in &expected {
                assert!(report.contains(line), "{line} missing:\n{report}");
            }
            assert_eq!(report.matches("[not-implemented]").count(), 3, "{report}");
        }
        System::Postfix => {
            let (code, report) = triage(mx, &["-s", &since]);
            assert!(
                code == 0 && !report.contains("not implemented"),
                "exit {code}:\n{report}"
            );
        }
    }

    // Debian's main.cf (what its postinst writes, and its TLS settings) over the
    // instance's own settings.
    let mut debian = main_cf.clone();
    for file in ["main.cf.debian", "main.cf.tls"] {
        let text = std::fs::read_to_string(format!("/usr/share/postfix/{file}"))
            .expect("Debian's main.cf (apt-get install postfix)");
        for l in text
            .lines()
            .filter(|l| !l.starts_with('#') && l.contains('='))
        {
            let name = l.split('=').next().unwrap().trim();
            if !main_cf.lines().any(|m| m.starts_with(&format!("{name} "))) {
                debian.push_str(l);
                debian.push('\n');
            }
        }
    }
    mx.write("etc/main.cf", &debian);
    mx.write("etc/master.cf", stock_master);
    let since = window_start();
    let (_, report) = triage(mx, &["-s", &since]);
    assert!(!report.contains("not implemented"), "{report}");
    mx.write("etc/main.cf", &main_cf);
}

/// An smtp-sink playing a remote site, killed when dropped.
struct Sink {
    port: u16,
    child: Child,
}

impl Sink {
    /// smtp-sink on a free loopback port with `args` (-f: hard rejects, -r: soft rejects,
    /// -q: disconnects).
    fn start(args: &[&str]) -> Sink {
        let port = free_port();
        let child = Command::new("/usr/sbin/smtp-sink")
            .args(["-u", "nobody"])
            .args(args)
            .arg(format!("127.0.0.1:{port}"))
            .arg("10")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("smtp-sink");
        let sink = Sink { port, child };
        assert!(
            e2e::wait_until(5, || TcpStream::connect(("127.0.0.1", port)).is_ok()),
            "smtp-sink {args:?} does not listen"
        );
        sink
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Routes `domain` with a transport table entry and reloads; returns the stock table.
fn route(mx: &Instance, system: System, domain: &str, nexthop: &str) -> String {
    let transport = std::fs::read_to_string(mx.etc().join("transport")).unwrap();
    mx.write(
        "etc/transport",
        &format!("{transport}{domain} {}\n", mx.expand(nexthop)),
    );
    reload(mx, system);
    transport
}

fn running_faults(mx: &Instance, system: System) {
    mx.set_main_cf("service_throttle_time", "1s");
    mx.set_main_cf("mail_spool_directory", "@DIR@/mail");
    let spool = mx.dir.join("mail");
    std::fs::create_dir_all(&spool).unwrap();
    std::fs::set_permissions(&spool, std::fs::Permissions::from_mode(0o1777)).unwrap();
    // A pipe transport whose command never finishes.
    mx.add_main_cf("slow_time_limit = 2s\n");
    let stock_master = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap()
        + "slow      unix  -       n       n       -       -       pipe user=nobody argv=/bin/sleep 60\n";
    mx.write("etc/master.cf", &stock_master);
    ctl(mx, system, &["start"]);
    mx.wait_log("daemon started -- version", 20);
    let stock_transport = std::fs::read_to_string(mx.etc().join("transport")).unwrap();

    // An out-of-range number.
    let since = fresh_smtpd(mx);
    mx.set_main_cf("smtpd_recipient_limit", "0");
    let _ = send(mx, "user@vmail.e2e.test");
    wait(mx, "invalid smtpd_recipient_limit parameter value 0");
    expect(mx, &since, "bad-time", "postconf -d smtpd_recipient_limit");
    remove_main_cf(mx, "smtpd_recipient_limit");

    // A mailbox size limit below the message size limit stops local.
    let since = reload_with(mx, system, "mailbox_size_limit", "1000");
    let client = submit(mx, "nobody@localhost", "");
    wait(mx, "mailbox_size_limit is smaller than message_size_limit");
    expect(mx, &since, "size-limits", "mailbox_size_limit");
    reap(client);
    remove_main_cf(mx, "mailbox_size_limit");
    reload(mx, system);

    // A message that comes back to where it was delivered before.
    let since = window_start();
    let client = submit(mx, "nobody@localhost", "Delivered-To: nobody@localhost\r\n");
    wait(mx, "mail forwarding loop for nobody@localhost");
    expect(mx, &since, "forwarding-loop", "remove the cycle");
    reap(client);

    // A full mailbox.
    mx.set_main_cf("message_size_limit", "10000");
    let since = reload_with(mx, system, "mailbox_size_limit", "20000");
    let mailbox = spool.join("nobody");
    std::fs::write(&mailbox, "x".repeat(30000)).unwrap();
    let _ = Command::new("chown").arg("nobody").arg(&mailbox).status();
    let client = submit(mx, "nobody@localhost", "");
    wait(mx, "File too large");
    expect(mx, &since, "mailbox-full", "mailbox_size_limit");
    reap(client);
    std::fs::remove_file(&mailbox).unwrap();
    remove_main_cf(mx, "mailbox_size_limit");
    remove_main_cf(mx, "message_size_limit");
    reload(mx, system);

    // A maildir the virtual delivery agent cannot write.
    send(mx, "user@vmail.e2e.test").unwrap();
    wait(mx, "status=sent");
    let maildir = mx.dir.join("vmail/vmail.e2e.test/user/tmp");
    std::fs::set_permissions(&maildir, std::fs::Permissions::from_mode(0o500)).unwrap();
    let since = window_start();
    send(mx, "user@vmail.e2e.test").unwrap();
    wait(mx, "maildir delivery failed");
    expect(mx, &since, "mailbox-permission", "chown");
    std::fs::set_permissions(&maildir, std::fs::Permissions::from_mode(0o700)).unwrap();

    // A table type this system does not have.
    let since = reload_with(mx, system, "transport_maps", "mysql:@DIR@/etc/mysql.cf");
    let client = submit(mx, "someone@relay.e2e.test", "");
    wait(mx, "unsupported dictionary type: mysql");
    expect(mx, &since, "unsupported-table-type", "postfix-mysql");
    reap(client);

    // An indexed table whose file is damaged (newer than its source, so no check
    // complains).
    mx.write("etc/private", "private.e2e.test smtp:\n");
    mx.write("etc/private.db", &"damaged ".repeat(1024));
    mx.set_main_cf("transport_maps", "texthash:@DIR@/etc/transport");
    reload(mx, system);
    // The window starts before the reload: a trivial-rewrite that a waiting client
    // needs starts with it.
    let since = window_start();
    mx.set_main_cf("transport_maps", "hash:@DIR@/etc/private");
    reload(mx, system);
    let client = submit(mx, "someone@relay.e2e.test", "");
    wait(
        mx,
        &mx.expand("open database @DIR@/etc/private.db: Invalid argument"),
    );
    let report = expect(mx, &since, "table-unavailable", "etc/private");
    assert!(report.contains("[table-lookup-error]"), "{report}");
    reap(client);

    mx.set_main_cf("transport_maps", "texthash:@DIR@/etc/transport");
    reload(mx, system);

    // A proxy: table that a hand-written proxy_read_maps leaves out.
    mx.set_main_cf(
        "proxy_read_maps",
        "$local_recipient_maps $mydestination $virtual_mailbox_maps $virtual_mailbox_domains",
    );
    // The window starts before the reload: a trivial-rewrite that a waiting client
    // needs starts with it.
    let since = window_start();
    mx.set_main_cf("transport_maps", "proxy:texthash:@DIR@/etc/transport");
    reload(mx, system);
    let throttled = mx
        .log()
        .matches("bad command startup -- throttling")
        .count();
    let client = submit(mx, "someone@relay.e2e.test", "");
    wait(mx, "request for unapproved table");
    e2e::wait_until(10, || {
        mx.log()
            .matches("bad command startup -- throttling")
            .count()
            > throttled
    });
    let report = expect(mx, &since, "proxy-unapproved", "proxy_read_maps");
    // Postfix's trivial-rewrite stops (fatal) and the master throttles it; ironpost's
    // now logs an error and carries on.
    if system == System::Postfix {
        assert!(report.contains("[throttled]"), "{report}");
    }
    reap(client);
    remove_main_cf(mx, "proxy_read_maps");
    mx.set_main_cf("transport_maps", "texthash:@DIR@/etc/transport");
    reload(mx, system);

    // Garbage in the incoming queue.
    let since = window_start();
    let junk = mx.dir.join("queue/incoming/ABCDEF1234");
    std::fs::write(&junk, "not a queue file\n").unwrap();
    let _ = Command::new("chown").arg("postfix").arg(&junk).status();
    std::fs::set_permissions(&junk, std::fs::Permissions::from_mode(0o700)).unwrap();
    ctl(mx, system, &["flush"]);
    wait(mx, "saving corrupt file");
    expect(mx, &since, "corrupt-queue-file", "postsuper -d ABCDEF1234");
    let _ = std::fs::remove_file(mx.dir.join("queue/corrupt/ABCDEF1234"));

    // Too many connections at once for a service's process limit. The master warns
    // only for a service that listens on more than loopback (Postfix's
    // MASTER_FLAG_LOCAL_ONLY: every address of 127/8 is loopback, so a second loopback
    // address would not do). The wildcard address is not loopback on any host, and the
    // clients still come in over 127.0.0.1.
    let port = free_port();
    mx.write(
        "etc/master.cf",
        &format!("{stock_master}0.0.0.0:{port} inet n - n - 2 smtpd\n"),
    );
    let since = reload(mx, system);
    let held = hold_connections("127.0.0.1", port, 4);
    wait(mx, "has reached its process limit");
    let report = expect(mx, &since, "process-limit", "maxproc");
    assert!(report.contains("[process-limit-advice]"), "{report}");
    drop(held);
    mx.write("etc/master.cf", &stock_master);
    reload(mx, system);

    // A client over the connection rate limit.
    mx.set_main_cf("smtpd_client_event_limit_exceptions", "");
    let since = reload_with(mx, system, "smtpd_client_connection_rate_limit", "1");
    drop(hold_connections("127.0.0.1", mx.smtp_port, 1));
    drop(hold_connections("127.0.0.1", mx.smtp_port, 1));
    wait(mx, "Connection rate limit exceeded");
    expect(
        mx,
        &since,
        "rate-limit",
        "smtpd_client_event_limit_exceptions",
    );
    remove_main_cf(mx, "smtpd_client_event_limit_exceptions");
    remove_main_cf(mx, "smtpd_client_connection_rate_limit");
    reload(mx, system);

    // A pipe command that never finishes.
    route(mx, system, "slow.e2e.test", "slow:");
    let since = window_start();
    send(mx, "someone@slow.e2e.test").unwrap();
    wait(mx, "Command time limit exceeded");
    expect(mx, &since, "command-time-limit", "_time_limit");
    mx.write("etc/transport", &stock_transport);

    // Remote sites that refuse, defer, or drop the connection.
    for (sink_args, domain, needle, rule, remedy) in [
        (
            ["-f", "RCPT"],
            "refuse.e2e.test",
            "status=bounced (host 127.0.0.1",
            "remote-refused",
            "read the remote reply",
        ),
        (
            ["-r", "RCPT"],
            "defer.e2e.test",
            "status=deferred (host 127.0.0.1",
            "remote-deferred",
            "postqueue -f",
        ),
        (
            ["-q", "DATA"],
            "drop.e2e.test",
            "lost connection with",
            "lost-connection",
            "postqueue -f",
        ),
    ] {
        let sink = Sink::start(&sink_args);
        route(
            mx,
            system,
            domain,
            &format!("smtp:[127.0.0.1]:{}", sink.port),
        );
        let since = window_start();
        send(mx, &format!("someone@{domain}")).unwrap();
        wait(mx, needle);
        expect(mx, &since, rule, remedy);
        mx.write("etc/transport", &stock_transport);
    }

    // A domain that is not in DNS (.invalid never is), as the host's resolver says.
    let since = window_start();
    send(mx, "someone@nosuch.invalid").unwrap();
    wait(mx, "Name service error for name=nosuch.invalid");
    if mx.log().contains("Host not found, try again") {
        testkit::skip("dns-no-domain: the resolver here does not answer");
    } else {
        expect(mx, &since, "dns-no-domain", "nosuch.invalid");
    }

    // TLS required towards a site that does not offer it.
    let plain = Sink::start(&[]);
    mx.write(
        "etc/transport",
        &format!(
            "{stock_transport}plain.e2e.test smtp:[127.0.0.1]:{}\n",
            plain.port
        ),
    );
    let since = reload_with(mx, system, "smtp_tls_security_level", "encrypt");
    send(mx, "someone@plain.e2e.test").unwrap();
    wait(mx, "TLS is required, but");
    expect(mx, &since, "tls-required", "smtp_tls_policy_maps");
    remove_main_cf(mx, "smtp_tls_security_level");
    drop(plain);
    mx.write("etc/transport", &stock_transport);

    // STARTTLS offered without a certificate.
    let since = reload_with(mx, system, "smtpd_tls_security_level", "may");
    let _ = send(mx, "user@vmail.e2e.test");
    wait(mx, "No server certs available");
    expect(mx, &since, "tls-no-certs", "smtpd_tls_cert_file");

    // A client that speaks only TLS 1.0, which the server no longer accepts (Postfix
    // 3.7 still does by default).
    let cert = format!(
        "{}/../../crates/tls/tests/golden/certs/rsa",
        env!("CARGO_MANIFEST_DIR")
    );
    mx.set_main_cf("smtpd_tls_cert_file", &format!("{cert}.pem"));
    mx.set_main_cf("smtpd_tls_key_file", &format!("{cert}.key"));
    let since = reload_with(mx, system, "smtpd_tls_protocols", ">=TLSv1.2");
    let old_client = "import smtplib, ssl, sys\n\
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\n\
        ctx.check_hostname = False\n\
        ctx.verify_mode = ssl.CERT_NONE\n\
        ctx.set_ciphers('DEFAULT:@SECLEVEL=0')\n\
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1\n\
        s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=20)\n\
        s.starttls(context=ctx)\n";
    let out = Command::new("python3")
        .args(["-c", old_client, &mx.smtp_port.to_string()])
        .output()
        .unwrap();
    assert!(!out.status.success(), "a TLS 1.0 handshake succeeded");
    wait(mx, "TLS library problem");
    expect(mx, &since, "tls-library", "smtpd_tls_protocols");
    remove_main_cfs(
        mx,
        &[
            "smtpd_tls_cert_file",
            "smtpd_tls_key_file",
            "smtpd_tls_security_level",
            "smtpd_tls_protocols",
        ],
    );
    reload(mx, system);

    // An alias database that was never built (a check: no mail needed).
    let since = window_start();
    mx.write("etc/aliases", "postmaster: root\n");
    mx.set_main_cf("alias_maps", "hash:@DIR@/etc/aliases");
    expect(mx, &since, "aliases-missing", "newaliases");
    mx.set_main_cf("alias_maps", "");
}

/// `n` connections to an SMTP service, each past the greeting when one comes.
fn hold_connections(address: &str, port: u16, n: usize) -> Vec<TcpStream> {
    (0..n)
        .filter_map(|_| {
            let mut conn = TcpStream::connect((address, port)).ok()?;
            conn.set_read_timeout(Some(std::time::Duration::from_millis(500)))
                .ok()?;
            let mut greeting = [0u8; 128];
            let _ = conn.read(&mut greeting);
            Some(conn)
        })
        .collect()
}
