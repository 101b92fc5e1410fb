//! The client of the address rewriting service: an address to its canonical form.
//!
//! Postfix counterparts: `global/rewrite_clnt.c` and the part of `global/clnt_stream.c` it
//! uses. The service (trivial-rewrite, `private/$rewrite_service_name`) announces
//! `protocol=trivial_rewrite_protocol`; a request is `request=rewrite`, `rule` (`local` or
//! `remote`, the rewriting context) and `address` in external (quoted) form; the reply is
//! `flags` and `address`. One connection is kept and reused until it has been idle for
//! `ipc_idle` or open for `ipc_ttl`, so that the service can restart when its tables
//! change. As in Postfix, a request is retried every second until it is answered (the
//! service is CPU bound and local: waiting is right), and the last answer is cached for 30
//! seconds because the same address is often asked for twice in a row (envelope sender,
//! then From: header).
//!
//! Addresses are bytes, as in Postfix: an 8-bit address that is not UTF-8 goes to the
//! service and back unchanged.

use ipc::{Attrs, Flavor, mail_attr};
use std::io::{BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// How long a cached answer is good for (the resolve client's too).
pub(crate) const CACHE_TTL: Duration = Duration::from_secs(30);
/// The pause between attempts when the service does not answer.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// The rewriting context for addresses from this system (`MAIL_ATTR_RWR_LOCAL`).
pub const RULE_LOCAL: &str = "local";
/// The rewriting context for addresses from other systems (`MAIL_ATTR_RWR_REMOTE`).
pub const RULE_REMOTE: &str = "remote";

/// How to reach the service, from main.cf.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `rewrite_service_name`.
    pub service: String,
    /// `ipc_timeout`: the limit for one request and its answer.
    pub ipc_timeout: Duration,
    /// `ipc_idle`: close a connection unused for this long.
    pub ipc_idle: Duration,
    /// `ipc_ttl`: close a connection open for this long.
    pub ipc_ttl: Duration,
}

impl Settings {
    /// The settings main.cf gives.
    pub fn from_config(config: &params::Config) -> Result<Settings, params::ConfigError> {
        use params::decl::cleanup::REWRITE_SERVICE_NAME;
        use params::decl::process::{IPC_IDLE, IPC_TIMEOUT, IPC_TTL};
        let secs = |p| config.time(p).map(|t| Duration::from_secs(t.max(0) as u64));
        Ok(Settings {
            service: config.str(&REWRITE_SERVICE_NAME)?,
            ipc_timeout: secs(&IPC_TIMEOUT)?,
            ipc_idle: secs(&IPC_IDLE)?,
            ipc_ttl: secs(&IPC_TTL)?,
        })
    }
}

/// An open connection and when it was opened and last used.
struct Connection {
    reader: BufReader<UnixStream>,
    opened: Instant,
    used: Instant,
}

/// The last answer.
struct Cached {
    rule: String,
    address: Vec<u8>,
    result: Vec<u8>,
    expires: Instant,
}

/// A rewriting client with its connection and its one-entry cache.
pub struct RewriteClient {
    settings: Settings,
    /// Where the service's socket is: `private`, relative to the queue directory.
    class: String,
    connection: Option<Connection>,
    cache: Option<Cached>,
    /// The resolve client's own one-entry cache (`resolve_clnt`'s statics).
    pub(crate) resolve_cache: Option<crate::resolve_clnt::Cached>,
}

impl RewriteClient {
    /// A client; it connects when first asked.
    pub fn new(settings: Settings) -> RewriteClient {
        RewriteClient {
            settings,
            class: "private".to_string(),
            connection: None,
            cache: None,
            resolve_cache: None,
        }
    }

    /// `address` (external form) rewritten in context `rule` (`rewrite_clnt`).
    pub fn rewrite(&mut self, rule: &str, address: &[u8]) -> Vec<u8> {
        let now = Instant::now();
        if let Some(c) = &self.cache
            && now < c.expires
            && c.rule == rule
            && c.address == address
        {
            if log::verbose() > 0 {
                log::msg_info!(
                    "rewrite_clnt: cached: {rule}: {} -> {}",
                    String::from_utf8_lossy(address),
                    String::from_utf8_lossy(&c.result)
                );
            }
            return c.result.clone();
        }
        let mut count = 0;
        let result = loop {
            count += 1;
            match self.ask(rule, address) {
                Ok((flags, result)) => {
                    if log::verbose() > 0 {
                        log::msg_info!(
                            "rewrite_clnt: {rule}: {} -> {}",
                            String::from_utf8_lossy(address),
                            String::from_utf8_lossy(&result)
                        );
                    }
                    // The service asks us to disconnect (it is about to restart).
                    if flags != 0 {
                        self.connection = None;
                    }
                    break result;
                }
                Err(e) => {
                    let quiet = matches!(
                        e.kind(),
                        std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::NotFound
                    );
                    if log::verbose() > 0 || count > 1 || !quiet {
                        log::msg_warn!(
                            "problem talking to service {}: {}",
                            self.settings.service,
                            sys::os_error(&e)
                        );
                    }
                    self.connection = None;
                    std::thread::sleep(RETRY_DELAY);
                }
            }
        };
        self.cache = Some(Cached {
            rule: rule.to_string(),
            address: address.to_vec(),
            result: result.clone(),
            expires: Instant::now() + CACHE_TTL,
        });
        result
    }

    /// `address` (internal form) rewritten in context `rule`, in internal form
    /// (`rewrite_clnt_internal`): quoted for the service, unquoted after.
    pub fn rewrite_internal(&mut self, rule: &str, address: &str) -> String {
        use rfc822::quote::{QuoteFlags, quote_822_local, unquote_822_local};
        use util::eight_bit;
        let external = quote_822_local(address, QuoteFlags::DEFAULT);
        let result = self.rewrite(rule, &eight_bit::to_bytes(&external));
        unquote_822_local(&eight_bit::to_text(&result))
    }

    /// One request and its answer over the kept connection (made if need be); the
    /// resolve client (`resolve_clnt`) shares it, as both go to the same service.
    pub(crate) fn exchange(&mut self, request: &Attrs) -> std::io::Result<Attrs> {
        let connection = self.connection()?;
        let stream = connection.reader.get_mut();
        ipc::attr::write(stream, Flavor::Null, request)?;
        stream.flush()?;
        let reply = ipc::attr::read(&mut connection.reader, Flavor::Null)?;
        connection.used = Instant::now();
        reply.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed")
        })
    }

    /// The service's name, for warnings.
    pub(crate) fn service(&self) -> &str {
        &self.settings.service
    }

    /// Forgets the connection (the service asked, or it failed).
    pub(crate) fn disconnect(&mut self) {
        self.connection = None;
    }

    /// One rewrite request and its answer.
    fn ask(&mut self, rule: &str, address: &[u8]) -> std::io::Result<(i32, Vec<u8>)> {
        let request = Attrs::new()
            .str(mail_attr::REQ, "rewrite")
            .str(mail_attr::RULE, rule)
            .bytes(mail_attr::ADDR, address);
        let reply = self.exchange(&request)?;
        let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed reply");
        match (
            reply.get_int(mail_attr::FLAGS),
            reply.get_bytes(mail_attr::ADDR),
            reply.len(),
        ) {
            (Some(flags), Some(result), 2) => Ok((flags, result.to_vec())),
            _ => Err(bad()),
        }
    }

    /// The kept connection, replaced when it is too old or was idle too long; a new one
    /// must announce the protocol.
    fn connection(&mut self) -> std::io::Result<&mut Connection> {
        let now = Instant::now();
        if self.connection.as_ref().is_some_and(|c| {
            now.duration_since(c.used) >= self.settings.ipc_idle
                || now.duration_since(c.opened) >= self.settings.ipc_ttl
        }) {
            self.connection = None;
        }
        if self.connection.is_none() {
            let stream = crate::mail_connect::connect(
                &self.class,
                &self.settings.service,
                self.settings.ipc_timeout,
            )?;
            let mut reader = BufReader::new(stream);
            let hello = ipc::attr::read(&mut reader, Flavor::Null)?;
            // Postfix's attr_scan() takes end-of-input before the announcement for an
            // empty scan that succeeds: the request is sent and fails then (EPIPE, said
            // from the second try on), not here.
            let announced = hello.as_ref().is_none_or(|h| {
                h.get_str(mail_attr::PROTO) == Ok(mail_attr::PROTO_TRIVIAL) && h.len() == 1
            });
            if !announced {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "bad protocol announcement",
                ));
            }
            self.connection = Some(Connection {
                reader,
                opened: now,
                used: now,
            });
        }
        self.connection
            .as_mut()
            .ok_or_else(|| std::io::Error::other("no connection"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    /// A fake service in a scratch queue directory that appends "@example.com" to each
    /// address and counts requests.
    fn serve(dir: &std::path::Path, requests: usize) -> std::thread::JoinHandle<Vec<Attrs>> {
        std::fs::create_dir_all(dir.join("private")).unwrap();
        let listener = UnixListener::bind(dir.join("private/rewrite")).unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            ipc::attr::write(
                &mut writer,
                Flavor::Null,
                &Attrs::new().str(mail_attr::PROTO, mail_attr::PROTO_TRIVIAL),
            )
            .unwrap();
            let mut seen = Vec::new();
            for _ in 0..requests {
                let request = ipc::attr::read(&mut reader, Flavor::Null).unwrap().unwrap();
                let mut result = request.get_bytes("address").unwrap().to_vec();
                result.extend_from_slice(b"@example.com");
                let reply = Attrs::new().int("flags", 0).bytes("address", &result);
                ipc::attr::write(&mut writer, Flavor::Null, &reply).unwrap();
                seen.push(request);
            }
            seen
        })
    }

    /// A client of the fake service in the scratch queue directory `dir`.
    fn test_client(dir: &std::path::Path) -> RewriteClient {
        let mut client = RewriteClient::new(Settings {
            service: "rewrite".to_string(),
            ipc_timeout: Duration::from_secs(5),
            ipc_idle: Duration::from_secs(5),
            ipc_ttl: Duration::from_secs(1000),
        });
        client.class = format!("{}/private", dir.display());
        client
    }

    #[test]
    fn rewrites_quotes_and_caches() {
        let dir =
            std::env::temp_dir().join(format!("ironpost-rewrite-clnt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let service = serve(&dir, 2);
        let mut client = test_client(&dir);
        let first = client.rewrite_internal(RULE_LOCAL, "foo bar");
        let again = client.rewrite_internal(RULE_LOCAL, "foo bar");
        let other = client.rewrite(RULE_REMOTE, b"x");
        assert_eq!(first, "foo bar@example.com");
        assert_eq!(again, first);
        assert_eq!(other, b"x@example.com");
        let seen = service.join().unwrap();
        // The second question came from the cache; the address went out quoted.
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0].get_bytes("address"), Some(&b"\"foo bar\""[..]));
        assert_eq!(seen[0].get_str("rule"), Ok("local"));
        assert_eq!(seen[1].get_str("rule"), Ok("remote"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The resolve client keeps its last answer (per sender and address, never for the
    /// null address) beside the rewrite client's, over the same connection.
    #[test]
    fn resolve_answers_are_cached() {
        let dir =
            std::env::temp_dir().join(format!("ironpost-resolve-clnt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("private")).unwrap();
        let listener = UnixListener::bind(dir.join("private/rewrite")).unwrap();
        let service = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            let hello = Attrs::new().str(mail_attr::PROTO, mail_attr::PROTO_TRIVIAL);
            ipc::attr::write(&mut writer, Flavor::Null, &hello).unwrap();
            let mut seen = Vec::new();
            while let Ok(Some(request)) = ipc::attr::read(&mut reader, Flavor::Null) {
                let address = request.get_bytes("address").unwrap().to_vec();
                let reply = Attrs::new()
                    .int("flags", 0)
                    .str("transport", "smtp")
                    .str("nexthop", "example.com")
                    .bytes("recipient", &address)
                    .int("flags", crate::resolve_clnt::CLASS_DEFAULT);
                ipc::attr::write(&mut writer, Flavor::Null, &reply).unwrap();
                seen.push(request);
            }
            seen
        });
        let mut client = test_client(&dir);
        let first = client.resolve("s@a", "r@b");
        assert_eq!(client.resolve("s@a", "r@b"), first);
        assert_eq!(first.recipient, "r@b");
        client.resolve("other@a", "r@b");
        client.resolve("", "");
        client.resolve("", "");
        client.disconnect();
        let seen = service.join().unwrap();
        let asked: Vec<(&str, &str)> = seen
            .iter()
            .map(|r| (r.get_str("sender").unwrap(), r.get_str("address").unwrap()))
            .collect();
        assert_eq!(
            asked,
            [("s@a", "r@b"), ("other@a", "r@b"), ("", ""), ("", "")]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
