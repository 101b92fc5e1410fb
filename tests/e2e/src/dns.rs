//! A DNS server on a loopback address for the tests that need names resolved: block
//! lists for smtpd (t-22), MX and A records for the SMTP client (t-47), and for DANE
//! (t-61) TLSA records and replies with the AD bit, as a validating resolver sends.
//!
//! The server (dns.py) answers UDP queries on port 53 of a 127.x address from a zone
//! given as JSON, and writes each question to a log file. Port 53 is the only one
//! resolv.conf can name, so a test puts `nameserver ADDR` in the resolv.conf its
//! chrooted daemons read (queue/etc/resolv.conf). Tests that may run at the same time
//! use different addresses.

use std::path::Path;
use std::process::Command;

/// The server's Python source.
const SERVER: &str = include_str!("dns.py");

/// Makes the chrooted daemons of `mx` resolve through a server on `addr`: the jail's
/// resolv.conf names it (one try, two seconds), its hosts file has localhost alone and
/// nsswitch.conf asks files then DNS; services and localtime are the host's.
pub fn resolve_in_jail(mx: &crate::Instance, addr: &str) {
    std::fs::create_dir_all(mx.dir.join("queue/etc")).unwrap();
    mx.write(
        "queue/etc/resolv.conf",
        &format!("nameserver {addr}\noptions timeout:2 attempts:1\n"),
    );
    mx.write("queue/etc/hosts", "127.0.0.1 localhost\n");
    mx.write("queue/etc/nsswitch.conf", "hosts: files dns\n");
    for file in ["services", "localtime"] {
        let _ = std::fs::copy(format!("/etc/{file}"), mx.dir.join("queue/etc").join(file));
    }
}

/// A running server, stopped when dropped.
pub struct DnsServer {
    _process: crate::child::KillOnDrop,
}

impl DnsServer {
    /// Starts a server on `addr` port 53 answering from `zone` (JSON: `{"name":
    /// [["A", "127.0.0.2"], ["AAAA", "::1"], ["MX", "10 host"], ...]}`, see dns.py), its
    /// queries logged to `log`; None after `testkit::skip` when it cannot run or listen.
    #[track_caller]
    pub fn start(addr: &str, zone: &str, log: &Path) -> Option<DnsServer> {
        let server = crate::child::spawn_ready(
            Command::new("python3")
                .args(["-c", SERVER, addr, zone])
                .arg(log),
        );
        if server.is_none() {
            testkit::skip(format!("python3 cannot run or listen on {addr} port 53"));
        }
        server.map(|_process| DnsServer { _process })
    }
}

/// Runs the instance's smtp service chrooted, so that it resolves through the jail's
/// files that `resolve_in_jail` writes: outside the jail it would ask the host's
/// resolver.
pub fn chroot_smtp(mx: &crate::Instance) {
    mx.replace_master_cf_line(
        |l| l.starts_with("smtp ") && l.contains(" unix "),
        "smtp unix - - y - - smtp",
    );
}
