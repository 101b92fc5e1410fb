//! posttriage on real instances: faults injected one after another into a running mail
//! system (ironpost's, then Postfix 3.7's with its own master, so that the rules are
//! checked against the log Postfix itself writes), each followed by posttriage, whose
//! first line must name the rule (the root cause) and whose second line must carry the
//! remedy. Each fault is undone before the next; the log window (`-s`) starts with the
//! fault, so earlier ones do not count. First of all, a healthy instance under load gets
//! "no problem found" and exit 0, as text and as JSON.

#[path = "harness.rs"]
mod harness;

use e2e::{Instance, System, howto_doc, load, wait_until};
use harness::*;
use std::io::{Read, Write};
use std::process::Command;

/// Messages of the healthy load.
const LOAD: usize = 200;

#[test]
fn ironpost_faults_are_named_with_their_remedy() {
    if let Some(mut mx) = Instance::new("t-41") {
        mx.set_main_cf("service_throttle_time", "1s");
        mx.start();
        scenarios(&mx, System::Ironpost);
    }
}

#[test]
fn postfix_faults_are_named_with_their_remedy() {
    if let Some(mx) = Instance::with_daemons("t-41-postfix", &[]) {
        mx.set_main_cf("service_throttle_time", "1s");
        ctl(&mx, System::Postfix, &["start"]);
        mx.wait_log("daemon started -- version", 20);
        scenarios(&mx, System::Postfix);
    }
}

fn scenarios(mx: &Instance, system: System) {
    // A healthy system under load raises no alarm.
    let client = load::start(mx.smtp_port, LOAD, 4, 20, 20, "t41");
    let (acked, _, _) = load::acknowledged(client, LOAD);
    assert_eq!(acked.len(), LOAD);
    assert!(
        wait_until(60, || mx.log().matches("status=sent").count() >= LOAD
            && load::queue_files(mx).is_empty()),
        "the load was not delivered:\n{}",
        mx.log()
    );
    let (code, report) = triage(mx, &[]);
    if code != 0 || report != "no problem found\n" {
        mx.keep_for_inspection();
        panic!(
            "healthy instance: exit {code}\n{report}\nlog:\n{}",
            mx.log()
        );
    }
    let (code, json) = triage(mx, &["--json"]);
    assert_eq!(
        (code, json.as_str()),
        (0, "{\"status\":\"ok\",\"findings\":[]}\n")
    );

    // A misspelt parameter: postconf -n's warning.
    let since = window_start();
    mx.add_main_cf("smtpd_recipient_restriction = permit_mynetworks\n");
    expect(
        mx,
        &since,
        "unused-parameter",
        "postconf -X smtpd_recipient_restriction",
    );
    let (_, json) = triage(mx, &["-j", "-s", &since]);
    assert!(
        json.starts_with("{\"status\":\"problem\",\"findings\":[{\"rule\":\"unused-parameter\""),
        "{json}"
    );
    remove_main_cf(mx, "smtpd_recipient_restriction");

    // Less free space than 1.5 message_size_limit.
    let since = window_start();
    mx.set_main_cf("message_size_limit", "1000000000000000");
    expect(mx, &since, "free-space", "message_size_limit");
    remove_main_cf(mx, "message_size_limit");

    // A queue file root owns.
    let since = window_start();
    let stray = mx.dir.join("queue/hold/ABCDEF1234");
    std::fs::write(&stray, "").unwrap();
    expect(mx, &since, "queue-ownership", "postfix set-permissions");
    std::fs::remove_file(&stray).unwrap();

    // A service turned chrooted without the jail.
    let since = window_start();
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.replace_master_cf_line(
        |l| l.starts_with("relay     unix"),
        "relay     unix  -       -       y       -       -       smtp",
    );
    expect(mx, &since, "chroot-files-missing", "postfix prepare-chroot");
    mx.write("etc/master.cf", &master_cf);

    // A table whose source was edited after postmap.
    let since = window_start();
    let transport = mx.dir.join("etc/transport");
    let postmap = Command::new("/usr/sbin/postmap")
        .arg("-c")
        .arg(mx.etc())
        .arg(format!("hash:{}", transport.display()))
        .status()
        .unwrap();
    assert!(postmap.success());
    mx.set_main_cf("transport_maps", "hash:@DIR@/etc/transport");
    let later = Command::new("touch")
        .args(["-d", "+1 minute"])
        .arg(&transport)
        .status()
        .unwrap();
    assert!(later.success());
    expect(
        mx,
        &since,
        "stale-table",
        &format!("postmap {}", transport.display()),
    );

    // A table that was never built.
    let since = window_start();
    mx.set_main_cf("transport_maps", "hash:@DIR@/etc/nosuch");
    expect(mx, &since, "missing-table", "postmap");
    mx.set_main_cf("transport_maps", "texthash:@DIR@/etc/transport");

    // The next hop does not listen (no sink started).
    let since = window_start();
    send(mx, "someone@relay.e2e.test").unwrap();
    wait(mx, "Connection refused");
    expect(mx, &since, "relay-refused", "postqueue -f");

    // A transport table names a transport master.cf lacks; mail to it waits.
    let transport_text = std::fs::read_to_string(&transport).unwrap();
    mx.write(
        "etc/transport",
        &format!("{transport_text}t2.e2e.test relaay:\n"),
    );
    ctl(mx, system, &["reload"]);
    let since = window_start();
    send(mx, "someone@t2.e2e.test").unwrap();
    wait(mx, "mail transport unavailable");
    let report = expect(mx, &since, "transport-not-in-master-cf", "master.cf");
    assert!(report.contains("[transport-connect]"), "{report}");
    assert!(report.contains("[transport-unavailable]"), "{report}");
    // The report docs/DEBUG_README.md shows.
    if system == System::Ironpost {
        let (_, shown) = howto_doc::typed(mx, "posttriage", &["-s", &since]);
        howto_doc::check("posttriage", &howto_doc::Context::of(mx), &shown);
    }
    mx.write("etc/transport", &transport_text);
    ctl(mx, system, &["reload"]);

    // A daemon crashes.
    let since = window_start();
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", mx.smtp_port)).unwrap();
    let mut greeting = [0u8; 64];
    let _ = conn.read(&mut greeting);
    let victim = mx.daemons("smtpd")[0];
    let _ = Command::new("kill")
        .args(["-SEGV", &victim.to_string()])
        .status();
    wait(mx, &format!("pid {victim} killed by signal 11"));
    drop(conn);
    expect(mx, &since, "killed-by-signal", "-D");

    // A boolean parameter with a value that is not one.
    let since = fresh_smtpd(mx);
    mx.set_main_cf("soft_bounce", "maybe");
    let _ = send(mx, "user@vmail.e2e.test");
    wait(mx, "bad boolean configuration: soft_bounce = maybe");
    let report = expect(mx, &since, "bad-boolean", "postconf -e 'soft_bounce = no'");
    assert!(report.contains("[daemon-exit]"), "{report}");
    remove_main_cf(mx, "soft_bounce");

    // A misspelt restriction.
    let since = reload_with(
        mx,
        system,
        "smtpd_recipient_restrictions",
        "permit_mynetwork, reject_unauth_destination",
    );
    let _ = send(mx, "user@vmail.e2e.test");
    wait(mx, "unknown smtpd restriction");
    let report = expect(mx, &since, "unknown-restriction", "permit_mynetwork");
    assert!(report.contains("[server-config-error]"), "{report}");
    remove_main_cf(mx, "smtpd_recipient_restrictions");

    // A message over message_size_limit.
    let since = reload_with(mx, system, "message_size_limit", "1000");
    let big = "x".repeat(2000);
    assert!(
        mx.send(
            mx.smtp_port,
            "user@vmail.e2e.test",
            "user@vmail.e2e.test",
            &big
        )
        .is_err()
    );
    wait(mx, "Message size exceeds fixed limit");
    expect(mx, &since, "message-too-large", "message_size_limit");
    remove_main_cf(mx, "message_size_limit");

    // A client outside mynetworks relays.
    let since = reload_with(mx, system, "mynetworks", "192.0.2.0/24");
    assert!(send(mx, "someone@elsewhere.example").is_err());
    wait(mx, "Relay access denied");
    expect(mx, &since, "relay-access-denied", "mynetworks");
    mx.set_main_cf("mynetworks", "127.0.0.0/8");
    more_scenarios(mx, system);
    let _ = std::io::stdout().flush();
}

/// Faults that need a reload or a delivery of their own.
fn more_scenarios(mx: &Instance, system: System) {
    // A number parameter that is not one.
    let since = fresh_smtpd(mx);
    mx.set_main_cf("smtpd_recipient_limit", "many");
    let _ = send(mx, "user@vmail.e2e.test");
    wait(
        mx,
        "bad numerical configuration: smtpd_recipient_limit = many",
    );
    expect(
        mx,
        &since,
        "bad-number",
        "postconf -d smtpd_recipient_limit",
    );
    remove_main_cf(mx, "smtpd_recipient_limit");

    // A parameter set twice.
    let since = window_start();
    mx.add_main_cf("mynetworks = 127.0.0.0/8\n");
    expect(
        mx,
        &since,
        "overriding-entry",
        "remove one of the mynetworks lines",
    );
    mx.set_main_cf("mynetworks", "127.0.0.0/8");

    // A transport table line without a value.
    let transport = std::fs::read_to_string(mx.etc().join("transport")).unwrap();
    mx.write("etc/transport", &format!("{transport}lonely.e2e.test\n"));
    let since = reload_with(mx, system, "hopcount_limit", "50");
    send(mx, "someone@relay.e2e.test").unwrap();
    wait(mx, "expected format: key whitespace value");
    expect(mx, &since, "table-syntax", "fix line 2 of");

    // A transport that sends mail for a domain back to this host: the message goes
    // round until cleanup counts too many Received: headers.
    mx.write(
        "etc/transport",
        &mx.expand(&format!(
            "{transport}loop.e2e.test smtp:[127.0.0.1]:@SMTP_PORT@\n"
        )),
    );
    let since = reload_with(mx, system, "hopcount_limit", "20");
    send(mx, "someone@loop.e2e.test").unwrap();
    wait(mx, "hopcount exceeded");
    expect(mx, &since, "hopcount", "Received:");
    mx.write("etc/transport", &transport);
    remove_main_cf(mx, "hopcount_limit");

    // SASL through a Dovecot socket that is not there.
    mx.set_main_cf("smtpd_sasl_type", "dovecot");
    mx.set_main_cf("smtpd_sasl_path", "private/auth");
    let since = reload_with(mx, system, "smtpd_sasl_auth_enable", "yes");
    let _ = send(mx, "user@vmail.e2e.test");
    wait(mx, "SASL: Connect to Dovecot auth socket");
    expect(mx, &since, "sasl-socket", "smtpd_sasl_path");
    remove_main_cfs(
        mx,
        &[
            "smtpd_sasl_type",
            "smtpd_sasl_path",
            "smtpd_sasl_auth_enable",
        ],
    );

    // A certificate file that is not there, with a master.cf from before tlsmgr was in
    // the default one.
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    let without_tlsmgr: String = master_cf
        .lines()
        .filter(|l| !l.starts_with("tlsmgr "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without_tlsmgr, master_cf, "master.cf has no tlsmgr line");
    mx.write("etc/master.cf", &without_tlsmgr);
    mx.set_main_cf("smtpd_tls_cert_file", "@DIR@/etc/missing.pem");
    // A key file of its own: the same name for both would be read as one file, with
    // Postfix's chain-file warnings instead.
    mx.set_main_cf("smtpd_tls_key_file", "@DIR@/etc/missing.key");
    let since = reload_with(mx, system, "smtpd_tls_security_level", "may");
    let _ = send(mx, "user@vmail.e2e.test");
    wait(mx, "TLS");
    // Postfix's smtpd first needs tlsmgr, which this master.cf lacks: that is the root
    // cause Postfix's log shows.
    let (rule, remedy) = match system {
        System::Ironpost => ("tls-cert-unreadable", "smtpd_tls_cert_file"),
        System::Postfix => ("tlsmgr-missing", "tlsmgr unix"),
    };
    expect(mx, &since, rule, remedy);
    remove_main_cfs(
        mx,
        &[
            "smtpd_tls_cert_file",
            "smtpd_tls_key_file",
            "smtpd_tls_security_level",
        ],
    );
    mx.write("etc/master.cf", &master_cf);

    ctl(mx, system, &["reload"]);

    // A second start of a running system: refused, and only that.
    let since = window_start();
    let program = match system {
        System::Ironpost => e2e::program("postfix"),
        System::Postfix => "/usr/sbin/postfix".into(),
    };
    let again = Command::new(program)
        .arg("-c")
        .arg(mx.etc())
        .arg("start")
        .env_remove("MAIL_CONFIG")
        .output()
        .unwrap();
    assert!(!again.status.success());
    wait(mx, "the Postfix mail system is already running");
    expect(mx, &since, "already-running", "postfix reload");
}
