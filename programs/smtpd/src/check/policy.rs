//! `check_policy_service`: the policy delegation protocol, smtpd's side; its client is
//! also smtpd's anvil client.
//!
//! Postfix counterparts: `check_policy_service()` and `policy_client_register()` in
//! `smtpd/smtpd_check.c`, with `util/attr_clnt.c` and `util/auto_clnt.c` under them.
//! A request is a list of `name=value` lines ended by an empty line (the attributes
//! Postfix 3.7 sends, in its order); the reply's `action=` is then evaluated like an
//! access table's answer. One connection per server serves every session of the process
//! (Postfix's policy servers count on it): it is closed after `max_idle` without use,
//! `max_ttl` after it was opened, after `request_limit` requests, or when the server
//! closed it. A failed attempt is retried `try_limit` times, `retry_delay` apart, with
//! Postfix's `warning: problem talking to server ...` lines; then the server's
//! `default_action` answers.
//!
//! Postfix closes idle connections from its event loop, which smtpd runs only between
//! sessions; here the same limits are checked when the connection is next wanted, which
//! makes no difference to the server or the client.

use ipc::{Attrs, Flavor};
use std::io::{self, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Postfix's default `smtpd_policy_service_default_action`, which also answers when a
/// default action itself cannot reach its server.
pub const BUILTIN_DEFAULT_ACTION: &str = "451 4.3.5 Server configuration problem";

/// A service's settings that differ from main.cf's: `(name, value)`.
pub type Overrides = Vec<(String, String)>;

/// A `check_policy_service` argument: `transport:endpoint`, or `{ transport:endpoint,
/// name=value, ... }` with per-service settings (Postfix 3.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyService {
    /// `transport:endpoint`.
    pub name: String,
    /// The settings given in the braces.
    pub overrides: Overrides,
}

impl PolicyService {
    /// Parses the argument as written in main.cf; a syntax error is fatal, as in Postfix.
    pub fn parse(text: &str) -> PolicyService {
        if !text.starts_with('{') {
            return PolicyService {
                name: text.to_string(),
                overrides: Vec::new(),
            };
        }
        let inner = util::tokens::strip_braces(text)
            .unwrap_or_else(|e| log::msg_fatal!("policy service syntax error: {e}"));
        let words = util::tokens::split_braced(inner, util::tokens::COMMA_SPACE)
            .unwrap_or_else(|e| log::msg_fatal!("policy service syntax error: {e}"));
        let mut words = words.into_iter();
        let Some(name) = words.next() else {
            log::msg_fatal!("empty policy service: \"{text}\"");
        };
        let overrides = words
            .map(|word| {
                let word = util::tokens::strip_braces(word)
                    .unwrap_or_else(|e| log::msg_fatal!("policy service syntax error: {e}"));
                match word.split_once('=') {
                    Some((n, v)) => (n.trim().to_string(), v.trim().to_string()),
                    None => log::msg_fatal!(
                        "malformed option: missing '=' after attribute name: \"...{word}...\""
                    ),
                }
            })
            .collect();
        PolicyService {
            name: name.to_string(),
            overrides,
        }
    }
}

/// The main.cf settings of policy clients, before a service's own overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `smtpd_policy_service_timeout`.
    pub timeout: Duration,
    /// `smtpd_policy_service_max_idle`.
    pub max_idle: Duration,
    /// `smtpd_policy_service_max_ttl`.
    pub max_ttl: Duration,
    /// `smtpd_policy_service_request_limit` (0: none).
    pub request_limit: u64,
    /// `smtpd_policy_service_try_limit`.
    pub try_limit: u64,
    /// `smtpd_policy_service_retry_delay`.
    pub retry_delay: Duration,
    /// `smtpd_policy_service_default_action`.
    pub default_action: String,
    /// `smtpd_policy_service_policy_context`.
    pub policy_context: String,
}

impl Settings {
    /// The main.cf settings.
    pub fn from_config(config: &params::Config) -> Settings {
        use params::decl::smtpd as s;
        let get = |r: Result<String, params::ConfigError>| {
            r.unwrap_or_else(|e| crate::settings::fatal(e))
        };
        let secs = |p| {
            let n = config.time(p).unwrap_or_else(|e| crate::settings::fatal(e));
            Duration::from_secs(n.max(0) as u64)
        };
        let int = |p| {
            let n = config.int(p).unwrap_or_else(|e| crate::settings::fatal(e));
            n.max(0) as u64
        };
        Settings {
            timeout: secs(&s::SMTPD_POLICY_SERVICE_TIMEOUT),
            max_idle: secs(&s::SMTPD_POLICY_SERVICE_MAX_IDLE),
            max_ttl: secs(&s::SMTPD_POLICY_SERVICE_MAX_TTL),
            request_limit: int(&s::SMTPD_POLICY_SERVICE_REQUEST_LIMIT),
            try_limit: int(&s::SMTPD_POLICY_SERVICE_TRY_LIMIT),
            retry_delay: secs(&s::SMTPD_POLICY_SERVICE_RETRY_DELAY),
            default_action: get(config.str(&s::SMTPD_POLICY_SERVICE_DEFAULT_ACTION)),
            policy_context: get(config.str(&s::SMTPD_POLICY_SERVICE_POLICY_CONTEXT)),
        }
    }

    /// These settings with a service's `{ name, timeout=10s, ... }` overrides
    /// (`attr_override()`); a bad override is fatal, as in Postfix.
    pub fn with(&self, overrides: &Overrides) -> Settings {
        let mut out = self.clone();
        for (name, value) in overrides {
            let secs = || match util::conv::time(value, b's') {
                Some(n) if n >= 1 => Duration::from_secs(n as u64),
                _ => log::msg_fatal!("{name}: bad time value or unit: {value}"),
            };
            let int = |min: i64| match value.parse::<i64>() {
                Ok(n) if n >= min => n as u64,
                _ => log::msg_fatal!("bad numerical configuration: {name} = {value}"),
            };
            match name.as_str() {
                "timeout" => out.timeout = secs(),
                "max_idle" => out.max_idle = secs(),
                "max_ttl" => out.max_ttl = secs(),
                "retry_delay" => out.retry_delay = secs(),
                "request_limit" => out.request_limit = int(0),
                "try_limit" => out.try_limit = int(1),
                "default_action" => out.default_action = value.clone(),
                "policy_context" => out.policy_context = value.clone(),
                _ => log::msg_fatal!("unknown option: \"{name} = {value}\""),
            }
        }
        out
    }
}

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    /// `inet:host:port`.
    Inet(String),
    /// `unix:path` or `local:path` (relative to the queue directory).
    Unix(String),
}

impl Endpoint {
    /// `transport:endpoint` (`auto_clnt_create()`); a bad one is fatal at start-up.
    fn parse(service: &str) -> Endpoint {
        match service.split_once(':') {
            Some(("inet", e)) if !e.is_empty() => Endpoint::Inet(e.to_string()),
            Some(("unix" | "local", e)) if !e.is_empty() => Endpoint::Unix(e.to_string()),
            Some((t, e)) if !t.is_empty() && !e.is_empty() => {
                log::msg_fatal!("invalid transport name: {t} in service: {service}")
            }
            _ => log::msg_fatal!("need service transport:endpoint instead of \"{service}\""),
        }
    }

    /// The name in log lines: the part after `transport:`.
    fn name(&self) -> &str {
        match self {
            Endpoint::Inet(e) | Endpoint::Unix(e) => e,
        }
    }

    fn connect(&self, timeout: Duration) -> io::Result<Stream> {
        match self {
            Endpoint::Inet(e) => {
                let (host, port) = e
                    .rsplit_once(':')
                    .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
                let host = host.trim_start_matches('[').trim_end_matches(']');
                let port: u16 = port
                    .parse()
                    .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
                let mut last = io::Error::from(io::ErrorKind::AddrNotAvailable);
                for addr in (host, port).to_socket_addrs()? {
                    match TcpStream::connect_timeout(&addr, timeout) {
                        Ok(s) => return Ok(Stream::Tcp(s)),
                        Err(e) => last = e,
                    }
                }
                Err(last)
            }
            Endpoint::Unix(path) => UnixStream::connect(path).map(Stream::Unix),
        }
    }
}

/// A connection to a policy server.
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
        })
    }

    fn set_timeouts(&self, t: Duration) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => {
                s.set_read_timeout(Some(t))?;
                s.set_write_timeout(Some(t))
            }
            Stream::Unix(s) => {
                s.set_read_timeout(Some(t))?;
                s.set_write_timeout(Some(t))
            }
        }
    }

    fn set_nonblocking(&self, yes: bool) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_nonblocking(yes),
            Stream::Unix(s) => s.set_nonblocking(yes),
        }
    }

    /// Whether the stream is readable before anything was asked: the server hung up (or
    /// talks out of turn), so the connection is no good (`readable()` in attr_clnt).
    fn readable(&mut self) -> bool {
        if self.set_nonblocking(true).is_err() {
            return true;
        }
        let mut byte = [0u8; 1];
        let readable =
            !matches!(self.read(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        readable || self.set_nonblocking(false).is_err()
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
        }
    }
}

/// An open connection and its age.
struct Connection {
    writer: Stream,
    reader: BufReader<Stream>,
    opened: Instant,
    used: Instant,
    broken: bool,
}

/// Why an attempt failed: Postfix's `%m` text, and whether Postfix warns about it
/// before the last attempt. It does for a failed connect or write (unless the errno is
/// EPIPE, ENOENT or ECONNRESET); a reply that timed out, never came or had no action is
/// warned about only when the attempts are used up (as "Application error" but for the
/// timeout).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
    text: String,
    warn_early: bool,
    /// The connection is no good any more (Postfix's stream keeps its error flag, so the
    /// next request through it fails, quietly, and is retried on a new one).
    breaks: bool,
}

impl Failure {
    /// A system call failed with `e`.
    fn errno(e: &io::Error) -> Failure {
        let text = errno_text(e);
        let warn_early = ![
            "Broken pipe",
            "No such file or directory",
            "Connection reset by peer",
        ]
        .contains(&text.as_str());
        Failure {
            text,
            warn_early,
            breaks: true,
        }
    }

    /// The reply did not come or made no sense.
    fn no_reply(text: &str) -> Failure {
        Failure {
            text: text.to_string(),
            warn_early: false,
            breaks: true,
        }
    }

    /// The reply came without an action: the connection itself is fine.
    fn no_action() -> Failure {
        Failure {
            breaks: false,
            ..Failure::no_reply(APPLICATION_ERROR)
        }
    }
}

/// The errno text of `e` (a receive timeout is ETIMEDOUT, as vstream reports it).
fn errno_text(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "Connection timed out".into(),
        _ => sys::os_error(e),
    }
}

/// What Postfix's `%m` says when the reply did not come.
const APPLICATION_ERROR: &str = "Application error";

/// An attribute protocol client (`attr_clnt`): a `check_policy_service` server, or anvil.
pub struct AttrClient {
    endpoint: Endpoint,
    settings: Settings,
    /// The protocol name the server announces first (anvil's `protocol=anvil_protocol`).
    handshake: Option<&'static str>,
    connection: Option<Connection>,
    requests: u64,
}

/// The client of one `check_policy_service` argument.
pub type PolicyClient = AttrClient;

impl AttrClient {
    /// The client of a local service (`local:private/anvil`), with Postfix's attr_clnt
    /// defaults: no idle or TTL limit, two tries a second apart.
    pub fn local(path: &str, timeout: Duration, handshake: &'static str) -> AttrClient {
        AttrClient {
            endpoint: Endpoint::Unix(path.to_string()),
            settings: Settings {
                timeout,
                max_idle: Duration::ZERO,
                max_ttl: Duration::ZERO,
                request_limit: 0,
                try_limit: 2,
                retry_delay: Duration::from_secs(1),
                default_action: String::new(),
                policy_context: String::new(),
            },
            handshake: Some(handshake),
            connection: None,
            requests: 0,
        }
    }

    /// The client of `service` (`policy_client_register()`).
    pub fn new(service: &PolicyService, defaults: &Settings) -> PolicyClient {
        let settings = defaults.with(&service.overrides);
        let endpoint = Endpoint::parse(&service.name);
        if log::verbose() > 0 {
            log::msg_info!(
                "policy_client_register: name=\"{}\" default_action=\"{}\" max_idle={} \
                 max_ttl={} request_limit={} retry_delay={} timeout={} try_limit={} \
                 policy_context=\"{}\"",
                service.name,
                settings.default_action,
                settings.max_idle.as_secs(),
                settings.max_ttl.as_secs(),
                settings.request_limit,
                settings.retry_delay.as_secs(),
                settings.timeout.as_secs(),
                settings.try_limit,
                settings.policy_context
            );
        }
        AttrClient {
            endpoint,
            settings,
            handshake: None,
            connection: None,
            requests: 0,
        }
    }

    /// `default_action`.
    pub fn default_action(&self) -> &str {
        &self.settings.default_action
    }

    /// `policy_context`.
    pub fn policy_context(&self) -> &str {
        &self.settings.policy_context
    }

    /// Sends `request` and returns the reply's `action`, or None when the server could
    /// not be asked or gave no action.
    pub fn ask(&mut self, request: &Attrs) -> Option<Vec<u8>> {
        let reply = self.request(request, "action")?;
        reply.get_bytes("action").map(<[u8]>::to_vec)
    }

    /// Sends `request` and returns the reply, which must have `wanted`; None when the
    /// server could not be asked (`attr_clnt_request()`).
    pub fn request(&mut self, request: &Attrs, wanted: &str) -> Option<Attrs> {
        let mut attempts = 0;
        loop {
            let failure = match self.attempt(request, wanted) {
                Ok(action) => {
                    self.requests += 1;
                    if self.settings.request_limit > 0
                        && self.requests >= self.settings.request_limit
                    {
                        self.close();
                    }
                    return Some(action);
                }
                Err(failure) => failure,
            };
            attempts += 1;
            let last = attempts >= self.settings.try_limit;
            if last || log::verbose() > 0 || failure.warn_early {
                log::msg_warn!(
                    "problem talking to server {}: {}",
                    self.endpoint.name(),
                    failure.text
                );
            }
            if last {
                // As in Postfix, the connection is not reset after the last attempt: the
                // next request finds out that it is no good.
                if let Some(connection) = self.connection.as_mut() {
                    connection.broken |= failure.breaks;
                }
                return None;
            }
            std::thread::sleep(self.settings.retry_delay);
            self.close();
        }
    }

    fn close(&mut self) {
        self.connection = None;
        self.requests = 0;
    }

    /// The connection, opened when there is none or the old one is past its limits
    /// (`auto_clnt_access()`).
    fn connection(&mut self) -> Result<&mut Connection, Failure> {
        let now = Instant::now();
        let (idle, ttl) = (self.settings.max_idle, self.settings.max_ttl);
        let stale = self.connection.as_ref().is_some_and(|c| {
            (!idle.is_zero() && now.duration_since(c.used) >= idle)
                || (!ttl.is_zero() && now.duration_since(c.opened) >= ttl)
        });
        if stale {
            self.close();
        }
        if self.connection.is_none() {
            let stream = match self.endpoint.connect(self.settings.timeout) {
                Ok(stream) => stream,
                Err(e) => {
                    let failure = Failure::errno(&e);
                    log::msg_warn!("connect to {}: {}", self.endpoint.name(), failure.text);
                    return Err(failure);
                }
            };
            if log::verbose() > 0 {
                log::msg_info!("auto_clnt_open: connected to {}", self.endpoint.name());
            }
            let reader = stream
                .set_timeouts(self.settings.timeout)
                .and_then(|()| stream.try_clone())
                .map_err(|e| Failure::errno(&e))?;
            let mut reader = BufReader::new(reader);
            if let Some(proto) = self.handshake {
                let hello = ipc::attr::read(&mut reader, Flavor::Plain);
                if !matches!(&hello, Ok(Some(a)) if a.get_str(ipc::mail_attr::PROTO) == Ok(proto)) {
                    return Err(Failure::no_reply(APPLICATION_ERROR));
                }
            }
            self.connection = Some(Connection {
                writer: stream,
                reader,
                opened: now,
                used: now,
                broken: false,
            });
        }
        let connection = self.connection.as_mut().expect("opened above");
        connection.used = now;
        Ok(connection)
    }

    /// One attempt: Ok with the reply, which has `wanted`.
    fn attempt(&mut self, request: &Attrs, wanted: &str) -> Result<Attrs, Failure> {
        let connection = self.connection()?;
        if connection.broken
            || !connection.reader.buffer().is_empty()
            || connection.writer.readable()
        {
            return Err(Failure::no_reply(APPLICATION_ERROR));
        }
        ipc::attr::write(&mut connection.writer, Flavor::Plain, request)
            .map_err(|e| Failure::errno(&e))?;
        match ipc::attr::read(&mut connection.reader, Flavor::Plain) {
            Ok(Some(reply)) => match reply.get_bytes(wanted) {
                Some(_) => Ok(reply),
                None => {
                    log::msg_warn!(
                        "missing attribute {wanted} in input from {}",
                        self.endpoint.name()
                    );
                    Err(Failure::no_action())
                }
            },
            Ok(None) => Err(Failure::no_reply(APPLICATION_ERROR)),
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                Err(Failure::no_reply(APPLICATION_ERROR))
            }
            Err(e) => Err(Failure::no_reply(&errno_text(&e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::os::unix::net::UnixListener;

    fn settings() -> Settings {
        Settings {
            timeout: Duration::from_secs(5),
            max_idle: Duration::from_secs(300),
            max_ttl: Duration::from_secs(1000),
            request_limit: 0,
            try_limit: 2,
            retry_delay: Duration::from_secs(1),
            default_action: "451 4.3.5 Server configuration problem".into(),
            policy_context: String::new(),
        }
    }

    /// A server that answers each request with `action=` and its `n`th connection's
    /// number, for `requests` requests in all.
    fn server(path: &std::path::Path, requests: usize) -> std::thread::JoinHandle<usize> {
        let listener = UnixListener::bind(path).unwrap();
        std::thread::spawn(move || {
            let mut connections = 0;
            let mut answered = 0;
            while answered < requests {
                let (stream, _) = listener.accept().unwrap();
                connections += 1;
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                let mut line = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap() == 0 {
                        break;
                    }
                    if line == "\n" {
                        answered += 1;
                        let reply = format!("action=DUNNO conn {connections}\n\n");
                        writer.write_all(reply.as_bytes()).unwrap();
                        if answered == requests {
                            break;
                        }
                    }
                }
            }
            connections
        })
    }

    #[test]
    fn one_connection_serves_many_requests_until_the_limit() {
        let dir = std::env::temp_dir().join(format!("smtpd-policy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("policy");
        let handle = server(&path, 5);
        let service = PolicyService {
            name: format!("unix:{}", path.display()),
            overrides: vec![("request_limit".into(), "3".into())],
        };
        let mut client = PolicyClient::new(&service, &settings());
        let request = Attrs::new().str("request", "smtpd_access_policy");
        let actions: Vec<_> = (0..5)
            .map(|_| String::from_utf8(client.ask(&request).unwrap()).unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "DUNNO conn 1",
                "DUNNO conn 1",
                "DUNNO conn 1",
                "DUNNO conn 2",
                "DUNNO conn 2"
            ]
        );
        assert_eq!(handle.join().unwrap(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn overrides_and_endpoints() {
        assert_eq!(
            PolicyService::parse("{ inet:127.0.0.1:9998, timeout=10s, {default_action = DUNNO} }"),
            PolicyService {
                name: "inet:127.0.0.1:9998".into(),
                overrides: vec![
                    ("timeout".into(), "10s".into()),
                    ("default_action".into(), "DUNNO".into())
                ],
            }
        );
        let got = settings().with(&vec![
            ("timeout".into(), "10s".into()),
            ("default_action".into(), "DUNNO".into()),
            ("try_limit".into(), "1".into()),
        ]);
        assert_eq!(got.timeout, Duration::from_secs(10));
        assert_eq!(got.default_action, "DUNNO");
        assert_eq!(got.try_limit, 1);
        assert_eq!(
            Endpoint::parse("inet:127.0.0.1:9998"),
            Endpoint::Inet("127.0.0.1:9998".into())
        );
        assert_eq!(
            Endpoint::parse("unix:private/policy").name(),
            "private/policy"
        );
        let refused = io::Error::from_raw_os_error(111);
        assert!(Failure::errno(&refused).warn_early);
        let enoent = io::Error::from_raw_os_error(2);
        assert!(!Failure::errno(&enoent).warn_early);
        assert!(!Failure::no_reply(APPLICATION_ERROR).warn_early);
    }
}
