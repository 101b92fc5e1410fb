//! t-52's `postwhatif -m` row: the mail exchangers the what-if lists for a domain, from a
//! DNS server on loopback (e2e::dns), in preference order, against the hosts ironpost's
//! SMTP client then really tries for the same address: the first refuses connections,
//! the second takes the mail (`relay=` in the log). The client is chrooted and resolves
//! through queue/etc/resolv.conf, as in t-47; postwhatif, which resolves through
//! /etc/resolv.conf as any command does, runs in a mount namespace of its own where a
//! bind mount puts the test's resolv.conf there.

use e2e::child::KillOnDrop;
use e2e::dns::DnsServer;
use e2e::{Instance, wait_until};
use std::process::{Command, Stdio};

/// Where the DNS server listens (t-22, t-47, t-57 and t-61 use others).
const DNS_ADDR: &str = "127.0.0.160";

/// The zone: MX records listed out of preference order. smtp-sink listens on .41;
/// nothing listens on .42 and .43.
const ZONE: &str = r#"{
    "pref.e2e.test": [["MX", "20 mx-b.pref.e2e.test"], ["MX", "30 mx-c.pref.e2e.test"], ["MX", "10 mx-a.pref.e2e.test"]],
    "mx-a.pref.e2e.test": [["A", "127.0.0.42"]],
    "mx-b.pref.e2e.test": [["A", "127.0.0.41"]],
    "mx-c.pref.e2e.test": [["A", "127.0.0.43"]]
}"#;

#[test]
fn mx_hosts_in_preference_order_as_the_smtp_client_tries_them() {
    let Some(mut mx) = Instance::new("t-52-mx") else {
        return;
    };
    let port = e2e::free_port();
    std::fs::create_dir_all(mx.dir.join("queue/etc")).unwrap();
    let resolv = format!("nameserver {DNS_ADDR}\noptions timeout:2 attempts:1\n");
    mx.write("queue/etc/resolv.conf", &resolv);
    mx.write("etc/resolv.conf", &resolv);
    mx.write("queue/etc/hosts", "127.0.0.1 localhost\n");
    mx.write("queue/etc/nsswitch.conf", "hosts: files dns\n");
    for file in ["services", "localtime"] {
        let _ = std::fs::copy(format!("/etc/{file}"), mx.dir.join("queue/etc").join(file));
    }
    mx.set_main_cf("smtp_tcp_port", &port.to_string());
    mx.replace_master_cf_line(
        |l| l.starts_with("smtp ") && l.contains(" unix "),
        "smtp unix - - y - - smtp",
    );
    let dns_log = mx.dir.join("log/dns-queries");
    let Some(_dns) = DnsServer::start(DNS_ADDR, ZONE, &dns_log) else {
        return;
    };
    let _sink = KillOnDrop(
        Command::new("/usr/sbin/smtp-sink")
            .args(["-u", "nobody"])
            .arg(format!("127.0.0.41:{port}"))
            .arg("10")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("smtp-sink"),
    );
    assert!(
        wait_until(30, || {
            std::net::TcpStream::connect(("127.0.0.41", port)).is_ok()
        }),
        "smtp-sink never listened on 127.0.0.41:{port}"
    );
    mx.start();

    // The what-if, with the test's resolv.conf in place of the system's.
    let resolv_path = mx.dir.join("etc/resolv.conf");
    let out = Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            "mount --bind \"$1\" /etc/resolv.conf && shift && exec \"$@\"",
            "sh",
        ])
        .arg(&resolv_path)
        .arg(e2e::program("postwhatif"))
        .arg("-c")
        .arg(mx.etc())
        .args(["-m", "a@pref.e2e.test"])
        .env_remove("MAIL_CONFIG")
        .output()
        .expect("unshare");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() && text.is_empty() {
        return testkit::skip(format!(
            "no mount namespace here: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let listed: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("smtp: pref.e2e.test: preference "))
        .map(str::to_string)
        .collect();
    assert_eq!(
        listed,
        [
            "10 mx-a.pref.e2e.test[127.0.0.42]",
            "20 mx-b.pref.e2e.test[127.0.0.41]",
            "30 mx-c.pref.e2e.test[127.0.0.43]",
        ],
        "{text}"
    );

    // What the client does: the hosts it connects to, in order, up to the relay.
    mx.send(
        mx.smtp_port,
        "user@vmail.e2e.test",
        "a@pref.e2e.test",
        "t52-mx",
    )
    .unwrap();
    mx.wait_log("status=sent", 60);
    let log = mx.log();
    let mut tried: Vec<String> = Vec::new();
    for line in log.lines().filter(|l| l.contains("postfix/smtp[")) {
        if let Some(rest) = line.split("connect to ").nth(1) {
            tried.push(rest.split(':').next().unwrap_or("").to_string());
        }
        if line.contains("status=sent") {
            let relay = line.split("relay=").nth(1).unwrap_or("");
            tried.push(relay.split(':').next().unwrap_or("").to_string());
        }
    }
    let predicted: Vec<&str> = listed
        .iter()
        .map(|l| l.split_once(' ').map_or("", |(_, host)| host))
        .collect();
    assert_eq!(tried, predicted[..2], "{log}");
}
