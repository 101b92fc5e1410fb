//! The stub resolver's settings, read from resolv.conf as the system resolver reads it.
//!
//! Postfix counterpart: none of its own; Postfix calls `res_ninit()`, so this follows glibc's
//! `res_init.c` and resolv.conf(5): `nameserver` (at most three), `domain` and `search`
//! (whichever comes last wins), `options ndots:N timeout:N attempts:N rotate use-vc edns0
//! trust-ad no-tld-query`, lines starting with `;` or `#` ignored, the environment variables
//! `LOCALDOMAIN` (replaces the search list) and `RES_OPTIONS` (more options), and the
//! defaults when the file says nothing: the name server on 127.0.0.1, the search domain
//! taken from the host name, ndots 1, timeout 5 seconds, 2 attempts. Like Postfix's daemons,
//! a process reads it at its first lookup, inside its chroot jail when it has one, and
//! reads it again when it changes (glibc 2.26 and later do).

use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::hosts::{Stamp, stamp};

/// glibc's `MAXNS`.
const MAX_NAMESERVERS: usize = 3;
/// A bound on the search list (glibc has none since 2.26; six was the old `MAXDNSRCH`).
const MAX_SEARCH: usize = 32;
/// glibc's `RES_MAXNDOTS`, `RES_MAXRETRANS` and `RES_MAXRETRY`.
const MAX_NDOTS: usize = 15;
const MAX_TIMEOUT: u64 = 30;
const MAX_ATTEMPTS: u32 = 5;

/// Resolver settings. Every field is public so that a test (or a caller with its own
/// configuration) can build one without a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvConf {
    /// Name servers, in the order tried.
    pub nameservers: Vec<SocketAddr>,
    /// Domains appended to names with fewer than `ndots` dots (and to others after the
    /// name itself fails), when the lookup asks for searching.
    pub search: Vec<String>,
    /// How many dots make a name worth trying as it is before the search list.
    pub ndots: usize,
    /// How long to wait for one server's answer to one query.
    pub timeout: Duration,
    /// How many rounds over all servers.
    pub attempts: u32,
    /// Start each query at the next server instead of the first.
    pub rotate: bool,
    /// Use TCP from the start.
    pub use_vc: bool,
    /// Send an EDNS0 OPT record (payload 1200), allowing UDP answers beyond 512 bytes.
    pub edns0: bool,
    /// Set the AD bit in queries: the local resolver is trusted to validate DNSSEC.
    pub trust_ad: bool,
    /// Never try a dotless name as it is.
    pub no_tld_query: bool,
}

impl Default for ResolvConf {
    fn default() -> Self {
        ResolvConf {
            nameservers: Vec::new(),
            search: Vec::new(),
            ndots: 1,
            timeout: Duration::from_secs(5),
            attempts: 2,
            rotate: false,
            use_vc: false,
            edns0: false,
            trust_ad: false,
            no_tld_query: false,
        }
    }
}

impl ResolvConf {
    /// Where the system keeps the file.
    pub const PATH: &'static str = "/etc/resolv.conf";

    /// The system's settings: [`ResolvConf::PATH`], the environment and the host name.
    pub fn system() -> ResolvConf {
        ResolvConf::from_file(Path::new(ResolvConf::PATH))
    }

    /// The settings in the file at `path` (defaults when it cannot be read, as glibc does),
    /// with `LOCALDOMAIN`, `RES_OPTIONS` and the host name applied as for the system file.
    pub fn from_file(path: &Path) -> ResolvConf {
        let text = crate::hosts::read_bounded(path);
        let localdomain = std::env::var("LOCALDOMAIN").ok();
        let res_options = std::env::var("RES_OPTIONS").ok();
        let hostname = sys::hostname().ok();
        let mut conf = ResolvConf::parse_with(&text, localdomain.as_deref(), hostname.as_deref());
        if let Some(options) = res_options {
            conf.set_options(&options);
        }
        conf
    }

    /// The settings in `text` alone (no environment); `hostname` supplies the default
    /// search domain (the part after its first dot) when the text has none.
    pub fn parse(text: &str, hostname: Option<&str>) -> ResolvConf {
        ResolvConf::parse_with(text, None, hostname)
    }

    /// The same settings with every name server on `port` (tests run servers on a random
    /// loopback port; resolv.conf itself cannot name one).
    pub fn with_port(mut self, port: u16) -> ResolvConf {
        for server in &mut self.nameservers {
            server.set_port(port);
        }
        self
    }

    fn parse_with(text: &str, localdomain: Option<&str>, hostname: Option<&str>) -> ResolvConf {
        let mut conf = ResolvConf::default();
        let mut have_search = false;
        if let Some(domains) = localdomain {
            conf.search = words(domains);
            have_search = true;
        }
        let env_search = have_search;
        for line in text.lines() {
            if line.starts_with([';', '#']) {
                continue;
            }
            if let Some(value) = keyword(line, "domain") {
                if !env_search && let Some(domain) = words(value).into_iter().next() {
                    conf.search = vec![domain];
                    have_search = true;
                }
            } else if let Some(value) = keyword(line, "search") {
                if !env_search && !words(value).is_empty() {
                    conf.search = words(value);
                    have_search = true;
                }
            } else if let Some(value) = keyword(line, "nameserver") {
                if conf.nameservers.len() < MAX_NAMESERVERS
                    && let Some(addr) = value.split_whitespace().next().and_then(nameserver)
                {
                    conf.nameservers.push(addr);
                }
            } else if let Some(value) = keyword(line, "options") {
                conf.set_options(value);
            }
        }
        if conf.nameservers.is_empty() {
            conf.nameservers
                .push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53));
        }
        if !have_search
            && let Some((_, domain)) = hostname.and_then(|h| h.split_once('.'))
            && !domain.is_empty()
        {
            conf.search = vec![domain.to_string()];
        }
        conf.search.truncate(MAX_SEARCH);
        conf
    }

    /// Applies an `options` line (or `RES_OPTIONS`): unknown options are ignored, numbers
    /// are capped as glibc caps them.
    pub fn set_options(&mut self, options: &str) {
        for option in options.split_whitespace() {
            let number = |prefix: &str| option.strip_prefix(prefix).map(atoi);
            if let Some(n) = number("ndots:") {
                self.ndots = (n as usize).min(MAX_NDOTS);
            } else if let Some(n) = number("timeout:") {
                self.timeout = Duration::from_secs(n.clamp(1, MAX_TIMEOUT));
            } else if let Some(n) = number("attempts:") {
                self.attempts = (n as u32).clamp(1, MAX_ATTEMPTS);
            } else {
                match option {
                    "rotate" => self.rotate = true,
                    "use-vc" => self.use_vc = true,
                    "edns0" => self.edns0 = true,
                    "trust-ad" => self.trust_ad = true,
                    "no-tld-query" => self.no_tld_query = true,
                    _ => {}
                }
            }
        }
    }
}

/// A resolv.conf file and how it looked when last read, so that a change is noticed at
/// the next lookup.
pub(crate) struct Watch {
    path: PathBuf,
    port: Cell<Option<u16>>,
    stamp: Cell<Option<Stamp>>,
}

impl Watch {
    /// Watches `path`; returns the watch and the file's settings.
    pub(crate) fn new(path: &Path) -> (Watch, ResolvConf) {
        let watch = Watch {
            path: path.to_path_buf(),
            port: Cell::new(None),
            stamp: Cell::new(stamp(path)),
        };
        let conf = ResolvConf::from_file(path);
        (watch, conf)
    }

    /// Keeps every name server on `port` across rereads (tests).
    pub(crate) fn set_port(&self, port: u16) {
        self.port.set(Some(port));
    }

    /// The file's settings if it changed since it was last read.
    pub(crate) fn reread(&self) -> Option<ResolvConf> {
        let now = stamp(&self.path);
        if now == self.stamp.get() {
            return None;
        }
        self.stamp.set(now);
        let conf = ResolvConf::from_file(&self.path);
        Some(match self.port.get() {
            Some(port) => conf.with_port(port),
            None => conf,
        })
    }
}

/// The rest of `line` when it starts with `name` and a blank (glibc's `MATCH`).
fn keyword<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    line.strip_prefix(name)
        .filter(|rest| rest.starts_with([' ', '\t']))
}

fn words(text: &str) -> Vec<String> {
    text.split([' ', '\t'])
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// C's `atoi()` on what follows an option's colon: leading digits, 0 without any.
fn atoi(text: &str) -> u64 {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    text[..digits].parse().unwrap_or(u64::MAX)
}

/// A `nameserver` address: IPv4, or IPv6 with an optional numeric `%scope`.
fn nameserver(text: &str) -> Option<SocketAddr> {
    if let Ok(v4) = text.parse::<Ipv4Addr>() {
        return Some(SocketAddr::new(IpAddr::V4(v4), 53));
    }
    let (addr, scope) = match text.split_once('%') {
        Some((addr, scope)) => (addr, scope.parse().unwrap_or(0)),
        None => (text, 0),
    };
    let v6 = addr.parse().ok()?;
    Some(SocketAddr::V6(SocketAddrV6::new(v6, 53, 0, scope)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_when_empty() {
        let conf = ResolvConf::parse("", Some("host.example.org"));
        assert_eq!(conf.nameservers, ["127.0.0.1:53".parse().unwrap()]);
        assert_eq!(conf.search, ["example.org"]);
        assert_eq!((conf.ndots, conf.attempts), (1, 2));
        assert_eq!(conf.timeout, Duration::from_secs(5));
        assert!(ResolvConf::parse("", Some("host")).search.is_empty());
    }

    #[test]
    fn keywords_options_and_limits() {
        let text = "# comment\n; comment\nnameserver 192.0.2.1\nnameserver fe80::1%2\n\
                    nameserver 192.0.2.3\nnameserver 192.0.2.4\ndomain one.example\n\
                    search two.example three.example\noptions ndots:3 timeout:99 attempts:0 \
                    rotate bogus edns0\nnameservers 192.0.2.9\nsearch\n";
        let conf = ResolvConf::parse(text, Some("host.example.org"));
        assert_eq!(conf.nameservers.len(), 3);
        assert_eq!(conf.nameservers[1].to_string(), "[fe80::1%2]:53");
        assert_eq!(conf.search, ["two.example", "three.example"]);
        assert_eq!(conf.ndots, 3);
        assert_eq!(conf.timeout, Duration::from_secs(30));
        assert_eq!(conf.attempts, 1);
        assert!(conf.rotate && conf.edns0 && !conf.use_vc);
        // The later of domain and search wins.
        let conf = ResolvConf::parse("search a.example\ndomain b.example c\n", None);
        assert_eq!(conf.search, ["b.example"]);
    }

    #[test]
    fn port_for_tests() {
        let conf = ResolvConf::parse("nameserver 127.0.0.1\n", None).with_port(5353);
        assert_eq!(conf.nameservers, ["127.0.0.1:5353".parse().unwrap()]);
    }
}
