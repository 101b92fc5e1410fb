//! What the master makes of master.cf: one service definition per entry.
//!
//! Postfix counterpart: `master/master_ent.c`. Defaults for `-` fields are Postfix's:
//! private and unprivileged `y`, chroot `n` (or `y` below compatibility level 1), wakeup 0,
//! process limit `$default_process_limit`. The command runs from `$daemon_directory` with
//! the options the master adds (`-l`, `-z`, `-n`, `-t`, `-d`, `-v`, `-u`, `-c`,
//! `-o stress=`, `-s`) in front of the master.cf arguments. Services listed in
//! `master_service_disable` are skipped. Errors name master.cf and the line.

use params::Config;
use params::decl::identity::{COMPATIBILITY_LEVEL, INET_INTERFACES, INET_PROTOCOLS};
use params::decl::install::DAEMON_DIRECTORY;
use params::decl::process::{
    DEFAULT_PROCESS_LIMIT, MASTER_SERVICE_DISABLE, MAX_IDLE, SERVICE_THROTTLE_TIME,
};
use params::master_cf::{Entry, MasterCf};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

/// Where the master keeps a copy of the main.cf it loaded last (at start-up or reload),
/// under data_directory: `postfix reload -n` compares it with main.cf as it is now.
pub const LOADED_MAIN_CF: &str = "master-loaded-main.cf";
/// The same for master.cf.
pub const LOADED_MASTER_CF: &str = "master-loaded-master.cf";

/// The kind of endpoint a service listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// TCP sockets.
    Inet,
    /// A UNIX stream socket.
    Unix,
    /// A UNIX datagram socket.
    UnixDgram,
    /// A named pipe.
    Fifo,
    /// A UNIX socket over which connections are passed.
    Pass,
}

impl Kind {
    fn parse(text: &str) -> Option<Kind> {
        Some(match text {
            "inet" => Kind::Inet,
            "unix" => Kind::Unix,
            "unix-dgram" => Kind::UnixDgram,
            "fifo" => Kind::Fifo,
            "pass" => Kind::Pass,
            _ => return None,
        })
    }
}

/// One service, ready to listen and spawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The service name as master.cf writes it (`smtp`, `127.0.0.1:2525`, `cleanup`).
    pub ext_name: String,
    /// The endpoint kind.
    pub kind: Kind,
    /// The endpoint: a port or `[addr]:port` for inet, a path relative to the queue
    /// directory for the others (`private/cleanup`).
    pub name: String,
    /// Addresses to listen on (inet only).
    pub addrs: Vec<SocketAddr>,
    /// Seconds between wakeup triggers; 0 = none.
    pub wakeup: u32,
    /// A `?` wakeup: no triggers until the first process was started.
    pub conditional_wakeup: bool,
    /// The process limit; 0 = unlimited.
    pub max_proc: u32,
    /// The program to run.
    pub path: PathBuf,
    /// Its argv.
    pub argv: Vec<String>,
    /// Index of the `stress=` argument, for services that adapt to overload.
    pub stress_arg: Option<usize>,
    /// Seconds to stop starting processes after a start-up failure.
    pub throttle_delay: u64,
    /// Seconds an unused daemon waits before it exits (main.cf `max_idle`): a daemon that
    /// ends sooner having served nothing left early.
    pub max_idle: u64,
    /// The listen backlog.
    pub backlog: u32,
}

/// Reads master.cf and builds every enabled service, logging master.cf's warnings;
/// returns the services and the text they were built from (the master keeps a copy of
/// what it loaded, for `postfix reload -n`). The error is the fatal text.
pub fn read(
    config: &Config,
    master_verbose: bool,
    detach: bool,
) -> Result<(Vec<Service>, String), String> {
    let path = config.config_directory.join("master.cf");
    // As params reads it: invalid UTF-8 becomes U+FFFD.
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("open {}: {}", path.display(), sys::os_error(&e)))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (services, warnings) = parse(config, &text, master_verbose, detach)?;
    for warning in &warnings {
        log::msg_warn!("{warning}");
    }
    Ok((services, text))
}

/// Builds every enabled service from master.cf's `text`, as the master does at start-up
/// and reload; returns the services and master.cf's warnings, or the fatal text.
pub fn parse(
    config: &Config,
    text: &str,
    master_verbose: bool,
    detach: bool,
) -> Result<(Vec<Service>, Vec<String>), String> {
    let path = config.config_directory.join("master.cf");
    let master = MasterCf::parse(&path, text).map_err(|e| e.to_string())?;
    let settings = Settings::from(config)?;
    let mut services = Vec::new();
    for entry in &master.entries {
        let key = format!("{}/{}", entry.service(), entry.kind());
        if settings.disabled(&key, entry.kind()) {
            continue;
        }
        let context = format!("{}: line {}", path.display(), entry.line);
        let service = build(entry, &settings, master_verbose, detach).map_err(|why| match why {
            BuildError::Entry(why) => format!("{context}: {why}"),
            BuildError::Listen(why) => why,
        })?;
        services.push(service);
    }
    Ok((services, master.warnings))
}

/// The main.cf settings that shape services.
struct Settings {
    daemon_directory: String,
    default_process_limit: u32,
    chroot_default: bool,
    throttle: u64,
    max_idle: u64,
    interfaces: Vec<String>,
    protocols: Vec<String>,
    disable: Vec<String>,
}

impl Settings {
    fn from(config: &Config) -> Result<Settings, String> {
        let text = |p| config.str(p).map_err(|e| e.message);
        let level = text(&COMPATIBILITY_LEVEL)?;
        let below_one = level.split('.').next().and_then(|m| m.parse::<u32>().ok()) == Some(0);
        Ok(Settings {
            daemon_directory: text(&DAEMON_DIRECTORY)?,
            default_process_limit: config.int(&DEFAULT_PROCESS_LIMIT).map_err(|e| e.message)?
                as u32,
            chroot_default: below_one,
            throttle: config.time(&SERVICE_THROTTLE_TIME).map_err(|e| e.message)? as u64,
            max_idle: config.time(&MAX_IDLE).map_err(|e| e.message)? as u64,
            interfaces: config.list(&INET_INTERFACES).map_err(|e| e.message)?,
            protocols: config.list(&INET_PROTOCOLS).map_err(|e| e.message)?,
            disable: config
                .list(&MASTER_SERVICE_DISABLE)
                .map_err(|e| e.message)?,
        })
    }

    /// master_service_disable: service types (`inet`) or `name/type` pairs.
    fn disabled(&self, key: &str, kind: &str) -> bool {
        self.disable.iter().any(|p| p == key || p == kind)
    }

    fn want(&self, addr: &IpAddr) -> bool {
        let all = self.protocols.iter().any(|p| p == "all");
        let v4 = all || self.protocols.iter().any(|p| p == "ipv4");
        let v6 = all || self.protocols.iter().any(|p| p == "ipv6");
        if addr.is_ipv4() {
            v4
        } else {
            v6 && ipv6_available()
        }
    }

    /// The addresses inet services without a host listen on (inet_interfaces).
    fn interface_addrs(&self, port: u16) -> Result<Vec<SocketAddr>, String> {
        let mut out = Vec::new();
        for iface in &self.interfaces {
            let addrs: Vec<IpAddr> = match iface.to_ascii_lowercase().as_str() {
                "all" => vec![Ipv4Addr::UNSPECIFIED.into(), Ipv6Addr::UNSPECIFIED.into()],
                "loopback-only" => vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()],
                _ => resolve(iface)?,
            };
            out.extend(
                addrs
                    .into_iter()
                    .filter(|a| self.want(a))
                    .map(|a| SocketAddr::new(a, port)),
            );
        }
        out.dedup();
        Ok(out)
    }
}

/// Whether this host can make IPv6 sockets.
fn ipv6_available() -> bool {
    std::net::UdpSocket::bind("[::1]:0").is_ok()
}

fn resolve(host: &str) -> Result<Vec<IpAddr>, String> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    (bare, 0)
        .to_socket_addrs()
        .map(|it| it.map(|a| a.ip()).collect())
        .map_err(|_| format!("bad hostname or network address: {host}"))
}

/// Splits `host:port`, `[host]:port` or `port`.
fn host_port(text: &str) -> Result<(Option<String>, String), String> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("missing \"]\" in \"{text}\""))?;
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| format!("missing \":\" in \"{text}\""))?;
        return Ok((Some(host.to_string()), port.to_string()));
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => Ok((Some(host.to_string()), port.to_string())),
        Some((_, port)) => Ok((None, port.to_string())),
        None => Ok((None, text.to_string())),
    }
}

/// Resolves a port number or a service name from /etc/services; None when neither.
fn port_number(port: &str) -> Option<u16> {
    if let Ok(n) = port.parse::<u16>() {
        return Some(n);
    }
    let services = std::fs::read_to_string("/etc/services").unwrap_or_default();
    for line in services.lines() {
        let mut words = line.split('#').next().unwrap_or("").split_whitespace();
        let (Some(name), Some(spec)) = (words.next(), words.next()) else {
            continue;
        };
        let Some(number) = spec.strip_suffix("/tcp") else {
            continue;
        };
        if name == port || words.any(|alias| alias == port) {
            return number.parse().ok();
        }
    }
    None
}

fn flag(value: &str, name: &str, default: bool) -> Result<bool, String> {
    match value {
        "-" => Ok(default),
        "y" => Ok(true),
        "n" => Ok(false),
        other => Err(format!("bad {name} field value: {other}")),
    }
}

fn number(value: &str, name: &str, default: u32) -> Result<u32, String> {
    if value == "-" {
        return Ok(default);
    }
    let digits = value.trim_end_matches('?');
    digits
        .parse()
        .map_err(|_| format!("bad {name} field value: {value}"))
}

/// Why a service could not be built.
enum BuildError {
    /// The entry is wrong; the master.cf file and line go before the text.
    Entry(String),
    /// Its endpoint cannot be made: Postfix's master finds that only when it opens the
    /// endpoint (inet_listen), so the text names the endpoint, not the master.cf line.
    Listen(String),
}

impl From<String> for BuildError {
    fn from(why: String) -> BuildError {
        BuildError::Entry(why)
    }
}

fn build(
    entry: &Entry,
    s: &Settings,
    master_verbose: bool,
    detach: bool,
) -> Result<Service, BuildError> {
    let ext_name = entry.service().to_string();
    let kind =
        Kind::parse(entry.kind()).ok_or_else(|| format!("bad transport type: {}", entry.kind()))?;
    let f = &entry.fields;
    let private = flag(&f[2], "private", true)?;
    let unprivileged = flag(&f[3], "unprivileged", true)?;
    let chroot = flag(&f[4], "chroot", s.chroot_default)?;
    let wakeup = number(&f[5], "wakeup_time", 0)?;
    let conditional_wakeup = wakeup > 0 && f[5].ends_with('?');
    let max_proc = number(&f[6], "max_proc", s.default_process_limit)?;

    let (name, addrs) = match kind {
        Kind::Inet => {
            if private {
                return Err(BuildError::Entry(
                    "inet service cannot be private".to_string(),
                ));
            }
            let (host, port) = host_port(&ext_name)?;
            // Addresses first, as Postfix's master_ent has them; the port is only
            // looked up when the endpoint is opened.
            let mut addrs: Vec<SocketAddr> = match &host {
                Some(h) => resolve(h)?
                    .into_iter()
                    .map(|a| SocketAddr::new(a, 0))
                    .collect(),
                None => s.interface_addrs(0)?,
            };
            if addrs.is_empty() {
                return Err(format!("no valid IP address found: {ext_name}").into());
            }
            // Postfix's inet_listen says what getaddrinfo() says (EAI_SERVICE) about
            // "address:port", the address in numeric form.
            let port_no = port_number(&port).ok_or_else(|| {
                BuildError::Listen(format!(
                    "{}:{port}: Servname not supported for ai_socktype",
                    addrs[0].ip()
                ))
            })?;
            for addr in &mut addrs {
                addr.set_port(port_no);
            }
            let name = match &host {
                Some(h) => format!(
                    "[{}]:{port_no}",
                    h.trim_start_matches('[').trim_end_matches(']')
                ),
                None => port_no.to_string(),
            };
            (name, addrs)
        }
        _ => {
            let class = if private { "private" } else { "public" };
            (format!("{class}/{ext_name}"), Vec::new())
        }
    };
    let local_only =
        kind != Kind::Pass && (kind != Kind::Inet || addrs.iter().all(|a| a.ip().is_loopback()));

    let command = entry.argv.first().cloned().unwrap_or_default();
    let mut argv = vec![command.clone()];
    if max_proc == 1 {
        argv.push("-l".into());
    }
    if max_proc == 0 {
        argv.push("-z".into());
    }
    let base = command.rsplit('/').next().unwrap_or(&command);
    if base != ext_name {
        argv.extend(["-n".into(), ext_name.clone()]);
    }
    argv.extend(["-t".into(), entry.kind().to_string()]);
    if !detach {
        argv.push("-d".into());
    }
    if master_verbose {
        argv.push("-v".into());
    }
    if unprivileged {
        argv.push("-u".into());
    }
    if chroot {
        argv.push("-c".into());
    }
    let mut stress_arg = None;
    if !local_only && max_proc > 1 {
        argv.extend(["-o".into(), "stress=".into()]);
        stress_arg = Some(argv.len() - 1);
    }
    let listen_count = if kind == Kind::Inet { addrs.len() } else { 1 };
    if listen_count > 1 {
        argv.extend(["-s".into(), listen_count.to_string()]);
    }
    argv.extend(entry.argv[1..].iter().cloned());
    let backlog = max_proc.max(s.default_process_limit);
    Ok(Service {
        ext_name,
        kind,
        name,
        addrs,
        wakeup,
        conditional_wakeup,
        max_proc,
        path: PathBuf::from(format!("{}/{command}", s.daemon_directory)),
        argv,
        stress_arg,
        throttle_delay: s.throttle,
        max_idle: s.max_idle,
        backlog,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use params::main_cf::MainCf;
    use std::path::Path;

    fn services(main: &str, master: &str) -> Result<Vec<Service>, String> {
        let dir = std::env::temp_dir().join(format!(
            "master-ent-{}-{}",
            std::process::id(),
            master.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("master.cf"), master).unwrap();
        let main = MainCf::parse(Path::new("/x/main.cf"), main).unwrap();
        let config = Config::new(&dir, main);
        let out = read(&config, false, true).map(|(services, _)| services);
        let _ = std::fs::remove_dir_all(&dir);
        out
    }

    #[test]
    fn argv_as_postfix_builds_it() {
        let main =
            "daemon_directory = /d\ninet_interfaces = 127.0.0.1\ncompatibility_level = 3.6\n";
        let master = "smtp inet n - n - - smtpd -o syslog_name=x\npickup unix n - y 60? 1 pickup\nrelay unix - - n - - smtp\n";
        let s = services(main, master).unwrap();
        assert_eq!(
            s[0].argv,
            [
                "smtpd",
                "-n",
                "smtp",
                "-t",
                "inet",
                "-u",
                "-o",
                "syslog_name=x"
            ]
        );
        assert_eq!(s[0].name, "25");
        assert_eq!(s[0].addrs, ["127.0.0.1:25".parse().unwrap()]);
        assert_eq!(s[1].argv, ["pickup", "-l", "-t", "unix", "-u", "-c"]);
        assert!(s[1].conditional_wakeup);
        assert_eq!(s[1].name, "public/pickup");
        assert_eq!(s[1].path, PathBuf::from("/d/pickup"));
        assert_eq!(s[2].argv, ["smtp", "-n", "relay", "-t", "unix", "-u"]);
    }

    #[test]
    fn stress_for_public_inet_services() {
        let main = "inet_interfaces = all\ninet_protocols = ipv4\n";
        let s = services(main, "2525 inet n - n - 10 smtpd\n").unwrap();
        assert_eq!(&s[0].argv[s[0].argv.len() - 2..], ["-o", "stress="]);
        assert_eq!(s[0].addrs, ["0.0.0.0:2525".parse().unwrap()]);
    }

    #[test]
    fn errors_name_the_line() {
        let err = services("", "# c\nsmtp inet y - n - - smtpd\n").unwrap_err();
        assert!(
            err.ends_with("master.cf: line 2: inet service cannot be private"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_port_names_the_endpoint_as_inet_listen_does() {
        let main = "inet_interfaces = 127.0.0.1\ninet_protocols = ipv4\n";
        let err = services(main, "127.0.0.1:smtpp inet n - n - - smtpd\n").unwrap_err();
        assert_eq!(
            err,
            "127.0.0.1:smtpp: Servname not supported for ai_socktype"
        );
        let err = services(main, "smtpp inet n - n - - smtpd\n").unwrap_err();
        assert_eq!(
            err,
            "127.0.0.1:smtpp: Servname not supported for ai_socktype"
        );
    }

    #[test]
    fn disabled_services_are_skipped() {
        let s = services(
            "master_service_disable = smtp/inet\ninet_protocols = ipv4\n",
            "smtp inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\n",
        )
        .unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].ext_name, "qmgr");
    }
}
