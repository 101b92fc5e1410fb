//! A DNS server on a loopback address for the tests that need names resolved: block
//! lists for smtpd (t-22), MX and A records for the SMTP client (t-47), and for DANE
//! (t-61) TLSA records and replies with the AD bit, as a validating resolver sends.
//!
//! The server (dns.py) answers UDP queries on port 53 of a 127.x address from a zone
//! given as JSON, and writes each question to a log file. Port 53 is the only one
//! resolv.conf can name, so a test puts `nameserver ADDR` in the resolv.conf its
//! chrooted daemons read (queue/etc/resolv.conf). Tests that may run at the same time
//! use different addresses.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The server's Python source.
const SERVER: &str = include_str!("dns.py");

/// A running server, stopped when dropped.
pub struct DnsServer(Child);

impl DnsServer {
    /// Starts a server on `addr` port 53 answering from `zone` (JSON: `{"name":
    /// [["A", "127.0.0.2"], ["MX", "10 host"], ...]}`, see dns.py), its queries logged
    /// to `log`; None after `testkit::skip` when it cannot run or listen.
    #[track_caller]
    pub fn start(addr: &str, zone: &str, log: &Path) -> Option<DnsServer> {
        let Ok(mut child) = Command::new("python3")
            .args(["-c", SERVER, addr, zone])
            .arg(log)
            .stdout(Stdio::piped())
            .spawn()
        else {
            testkit::skip("python3 cannot run");
            return None;
        };
        let mut ready = String::new();
        let _ = std::io::BufReader::new(child.stdout.take().expect("a pipe")).read_line(&mut ready);
        let server = DnsServer(child);
        if ready.trim() != "ready" {
            testkit::skip(format!("cannot listen on {addr} port 53"));
            return None;
        }
        Some(server)
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
