//! `proxy:type:name`: a table looked up through the proxymap server.
//!
//! Postfix counterpart: `global/dict_proxy.c`. The client connects to
//! `private/proxymap` (relative to the queue directory, where daemons run, else under it),
//! expects the `protocol=proxymap_protocol` announcement, and then sends attribute lists:
//! `request=open, table, flags` once, then `request=lookup, table, flags, key` per lookup
//! (or `request=sequence, ..., function` to list). Each request names the table, so the
//! server may restart between two lookups; a broken connection is reopened and the request
//! sent again. A server that refuses the table (not in proxy_read_maps) is an error that
//! names the parameter to fix.

use crate::{Dict, DictError, Flags, dict_flags};
use ipc::{AttrError, Attrs, Flavor, mail_attr};
use std::cell::RefCell;
use std::io::BufReader;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// Where the proxymap socket lives: the queue directory and the service name.
struct Endpoint {
    queue_directory: PathBuf,
    service: String,
}

static ENDPOINT: OnceLock<Endpoint> = OnceLock::new();

/// Tells proxy tables where the proxymap service is (`queue_directory`,
/// `proxymap_service_name`). Programs call this once after reading main.cf; without it
/// the build-time queue directory and `proxymap` are used.
pub fn configure(queue_directory: &Path, service: &str) {
    let _ = ENDPOINT.set(Endpoint {
        queue_directory: queue_directory.to_path_buf(),
        service: service.to_string(),
    });
}

fn endpoint() -> &'static Endpoint {
    ENDPOINT.get_or_init(|| Endpoint {
        queue_directory: PathBuf::from(params::install::QUEUE_DIRECTORY),
        service: "proxymap".into(),
    })
}

/// Reply status codes of the proxymap protocol (PROXY_STAT_* in Postfix).
pub mod status {
    /// The operation succeeded.
    pub const OK: i32 = 0;
    /// The key is not in the table.
    pub const NOKEY: i32 = 1;
    /// Try again later (the table failed).
    pub const RETRY: i32 = 2;
    /// A malformed request.
    pub const BAD: i32 = 3;
    /// The table is not approved for proxy access.
    pub const DENY: i32 = 4;
    /// The table's configuration is broken.
    pub const CONFIG: i32 = 5;
}

/// How often a request is tried over a fresh connection before the lookup fails.
const ATTEMPTS: u32 = 3;

/// A proxied table.
pub struct Proxy {
    spec: String,
    table: String,
    flags: u32,
    impl_flags: u32,
    connection: RefCell<Option<BufReader<UnixStream>>>,
}

fn connect(service: &str) -> std::io::Result<BufReader<UnixStream>> {
    let endpoint = endpoint();
    let relative = Path::new("private").join(service);
    let path = if relative.exists() {
        relative
    } else {
        endpoint.queue_directory.join("private").join(service)
    };
    let stream = UnixStream::connect(&path)?;
    stream.set_read_timeout(Some(Duration::from_secs(300)))?;
    let mut reader = BufReader::new(stream);
    let hello = ipc::attr::read(&mut reader, Flavor::Null)?;
    if hello
        .as_ref()
        .and_then(|a| a.get_str(mail_attr::PROTO).ok())
        != Some(mail_attr::PROTO_PROXYMAP)
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "unexpected protocol announcement",
        ));
    }
    Ok(reader)
}

impl Proxy {
    /// Opens `proxy:name` (name is `type:name`) by asking the server to open it.
    pub fn open(name: &str, flags: Flags) -> Result<Proxy, DictError> {
        let mut bits = dict_flags::LOCK;
        if flags.fold_fix {
            bits |= dict_flags::FOLD_FIX;
        }
        if flags.utf8 {
            bits |= dict_flags::UTF8_REQUEST;
        }
        let mut proxy = Proxy {
            spec: format!("proxy:{name}"),
            table: name.to_string(),
            flags: bits,
            impl_flags: dict_flags::FIXED,
            connection: RefCell::new(None),
        };
        let reply = proxy.ask(proxy.request("open"))?;
        let service = &endpoint().service;
        match reply.get_int(mail_attr::STATUS) {
            Some(status::OK) => {
                proxy.impl_flags =
                    reply.get_int(mail_attr::FLAGS).unwrap_or(0) as u32 & dict_flags::IMPL_MASK;
                Ok(proxy)
            }
            // Fatal in daemons too, as Postfix's dict_proxy makes them: a table the
            // server refuses is no passing problem that a surrogate table could wait out,
            // and the master's throttling makes it seen.
            Some(status::DENY) => {
                log::msg_fatal!("{service} service is not configured for table \"{name}\"")
            }
            Some(status::BAD) => {
                log::msg_fatal!("{service} open failed for table \"{name}\": invalid request")
            }
            other => Err(DictError::Open(format!(
                "{service} open failed for table \"{name}\": unexpected status {}",
                other.unwrap_or(-1)
            ))),
        }
    }

    /// Sends a request and reads the reply, reconnecting when the connection broke.
    fn ask(&self, request: Attrs) -> Result<Attrs, DictError> {
        let service = &endpoint().service;
        let mut last_error = String::new();
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                std::thread::sleep(Duration::from_secs(1));
            }
            let mut slot = self.connection.borrow_mut();
            if slot.is_none() {
                match connect(service) {
                    Ok(connection) => *slot = Some(connection),
                    Err(e) => {
                        last_error = sys::os_error(&e);
                        continue;
                    }
                }
            }
            let Some(connection) = slot.as_mut() else {
                continue;
            };
            let exchange = ipc::attr::write(connection.get_mut(), Flavor::Null, &request)
                .and_then(|()| ipc::attr::read(connection, Flavor::Null));
            match exchange {
                Ok(Some(reply)) => return Ok(reply),
                Ok(None) => last_error = "connection closed".into(),
                Err(e) => last_error = sys::os_error(&e),
            }
            *slot = None;
            if attempt > 1 || log::verbose() > 0 {
                log::msg_warn!("dict_proxy: service {service}: {last_error}");
            }
        }
        Err(DictError::Retry(format!(
            "table {}: service {service}: {last_error}",
            self.spec
        )))
    }

    /// The text of `name` in a reply, empty when absent as Postfix's client reads it.
    /// ironpost's tables hold text, so 8-bit data that is not UTF-8 is a configuration
    /// error (the table holds what it should not), as Postfix's dict_utf8.c makes it for a
    /// UTF-8 table, in its words.
    fn reply_text(&self, reply: &Attrs, name: &str, key: &str) -> Result<String, DictError> {
        match reply.get_str(name) {
            Ok(text) => Ok(text.to_string()),
            Err(AttrError::Missing(_)) => Ok(String::new()),
            Err(AttrError::NotUtf8(_)) => Err(DictError::Config(format!(
                "{}: key \"{key}\": non-UTF-8 {name} \"{}\": malformed UTF-8 or invalid codepoint",
                self.spec,
                String::from_utf8_lossy(reply.get_bytes(name).unwrap_or_default())
            ))),
        }
    }

    /// A request about this table: its name, the table and the open flags, which every
    /// request repeats so that a restarted server can answer it.
    fn request(&self, name: &str) -> Attrs {
        Attrs::new()
            .str(mail_attr::REQ, name)
            .str(mail_attr::TABLE, &self.table)
            .int(mail_attr::FLAGS, self.flags as i32)
    }

    /// The message for a lookup the server could not answer.
    fn lookup_failed(&self, key: &str) -> String {
        format!(
            "{} lookup failed for table \"{}\" key \"{key}\"",
            endpoint().service,
            self.table
        )
    }

    /// The outcome of a lookup-like reply.
    fn answer(&self, reply: &Attrs, key: &str) -> Result<Option<String>, DictError> {
        let service = &endpoint().service;
        match reply.get_int(mail_attr::STATUS) {
            Some(status::OK) => self.reply_text(reply, "value", key).map(Some),
            Some(status::NOKEY) => Ok(None),
            Some(status::RETRY) => Err(DictError::Retry(self.lookup_failed(key))),
            // The server's table is misconfigured (Postfix's DICT_ERR_CONFIG).
            Some(status::CONFIG) => Err(DictError::Config(self.lookup_failed(key))),
            Some(status::DENY) => Err(DictError::Config(format!(
                "{service} service is not configured for table \"{}\"",
                self.table
            ))),
            other => Err(DictError::Retry(format!(
                "{service} lookup failed for table \"{}\" key \"{key}\": unexpected reply status {}",
                self.table,
                other.unwrap_or(-1)
            ))),
        }
    }
}

impl Dict for Proxy {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, DictError> {
        let reply = self.ask(self.request("lookup").str(mail_attr::KEY, key))?;
        if log::verbose() > 0 {
            log::msg_info!(
                "dict_proxy_lookup: table={} key={key} -> status={} result={}",
                self.table,
                reply.get_str(mail_attr::STATUS).unwrap_or_default(),
                String::from_utf8_lossy(reply.get_bytes(mail_attr::VALUE).unwrap_or_default())
            );
        }
        self.answer(&reply, key)
    }

    fn entries(&self) -> Result<Option<Vec<(String, String)>>, DictError> {
        let mut out = Vec::new();
        // DICT_SEQ_FUN_FIRST, then DICT_SEQ_FUN_NEXT.
        let mut function = 0;
        loop {
            let reply = self.ask(self.request("sequence").int(mail_attr::FUNC, function))?;
            match reply.get_int(mail_attr::STATUS) {
                Some(status::OK) => {
                    let key = self.reply_text(&reply, "key", "")?;
                    let value = self.reply_text(&reply, "value", &key)?;
                    out.push((key, value));
                }
                Some(status::NOKEY) => return Ok(Some(out)),
                _ => return Ok(None),
            }
            function = 1;
        }
    }

    fn impl_flags(&self) -> u32 {
        self.impl_flags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A value that is not UTF-8 is refused with Postfix's words, never mangled; UTF-8
    /// values and keys come through.
    #[test]
    fn eight_bit_replies() {
        let proxy = Proxy {
            spec: "proxy:texthash:/etc/t".into(),
            table: "texthash:/etc/t".into(),
            flags: 0,
            impl_flags: dict_flags::FIXED,
            connection: RefCell::new(None),
        };
        let reply = |value: &[u8]| Attrs::new().int("status", status::OK).bytes("value", value);
        assert_eq!(
            proxy.answer(&reply("jörg".as_bytes()), "k"),
            Ok(Some("jörg".into()))
        );
        assert_eq!(
            proxy.answer(&reply(b"j\xf6rg"), "k"),
            Err(DictError::Config(
                "proxy:texthash:/etc/t: key \"k\": non-UTF-8 value \"j\u{FFFD}rg\": \
                 malformed UTF-8 or invalid codepoint"
                    .into()
            ))
        );
    }
}
