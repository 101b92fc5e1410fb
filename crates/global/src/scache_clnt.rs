//! The client of the connection cache service: saving an open session for the next
//! delivery agent, and finding one.
//!
//! Postfix counterparts: `global/scache_clnt.c` and the request names and statuses of
//! `global/scache.h`. The service is `private/$connection_cache_service_name`; requests
//! are null-terminated attribute lists over a connection the client keeps (Postfix's
//! auto_clnt: closed after ipc_idle seconds unused or ipc_ttl seconds old), each bounded
//! by connection_cache_protocol_timeout. A descriptor travels in Postfix's Linux order:
//! the service sends a `dummy` list before it receives one, and the client sends a
//! `dummy` list before it receives one and another after. A request that fails twice
//! disables the cache for the life of the client ("disabling connection caching"), as
//! a delivery agent can always go without it. A saved descriptor is always closed here:
//! the service keeps its own copy.

use crate::clnt_stream::{ClntStream, Conn, protocol_error};
use ipc::{Attrs, mail_attr};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

/// The protocol the service announces.
pub const PROTO_SCACHE: &str = "connection_cache_protocol";
/// Request completed (`SCACHE_STAT_OK`).
pub const SCACHE_STAT_OK: i32 = 0;
/// Malformed request (`SCACHE_STAT_BAD`).
pub const SCACHE_STAT_BAD: i32 = 1;
/// Request completed unsuccessfully (`SCACHE_STAT_FAIL`).
pub const SCACHE_STAT_FAIL: i32 = 2;
/// Attempts before the cache is disabled (`SCACHE_MAX_TRIES`).
const MAX_TRIES: u32 = 2;

/// A time to live in seconds (`MAIL_ATTR_TTL`).
pub const ATTR_TTL: &str = "ttl";
/// An endpoint or destination name (`MAIL_ATTR_LABEL`).
pub const ATTR_LABEL: &str = "label";
/// Properties the client needs to take a session over (`MAIL_ATTR_PROP`).
pub const ATTR_PROP: &str = "property";
/// The list that keeps stream data away from a descriptor (`MAIL_ATTR_DUMMY`).
pub const ATTR_DUMMY: &str = "dummy";

/// A client of the connection cache.
pub struct ScacheClient {
    /// The service and the kept connection.
    pub stream: ClntStream,
    /// False after the cache was disabled.
    enabled: bool,
}

/// The attribute values of a reply with exactly these names, in this order.
fn values(reply: &Attrs, names: &[&str]) -> std::io::Result<Vec<String>> {
    if !reply.names_are(names) {
        return Err(protocol_error());
    }
    Ok(reply
        .iter()
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect())
}

impl ScacheClient {
    /// A client of `private/<service>`; it connects at the first request.
    pub fn new(
        service: &str,
        timeout: Duration,
        idle_limit: Duration,
        ttl_limit: Duration,
    ) -> Self {
        ScacheClient {
            stream: ClntStream::new(service, PROTO_SCACHE, timeout, idle_limit, ttl_limit),
            enabled: true,
        }
    }

    /// The client main.cf describes: connection_cache_service_name,
    /// connection_cache_protocol_timeout, ipc_idle and ipc_ttl.
    pub fn from_config(config: &params::Config) -> Result<Self, params::ConfigError> {
        use params::decl::process::{IPC_IDLE, IPC_TTL};
        use params::decl::verify::{
            CONNECTION_CACHE_PROTOCOL_TIMEOUT, CONNECTION_CACHE_SERVICE_NAME,
        };
        let secs = |p| config.time(p).map(|t| Duration::from_secs(t.max(1) as u64));
        Ok(ScacheClient::new(
            &config.str(&CONNECTION_CACHE_SERVICE_NAME)?,
            secs(&CONNECTION_CACHE_PROTOCOL_TIMEOUT)?,
            secs(&IPC_IDLE)?,
            secs(&IPC_TTL)?,
        ))
    }

    /// Whether requests still go to the service.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Saves the session `fd` under `endp_label` for `ttl` seconds (`scache_save_endp`);
    /// `fd` is closed whatever happens.
    pub fn save_endp(&mut self, ttl: i32, endp_label: &str, endp_prop: &str, fd: OwnedFd) {
        let request = Attrs::new()
            .str(mail_attr::REQ, "save_endp")
            .int(ATTR_TTL, ttl)
            .str(ATTR_LABEL, endp_label)
            .str(ATTR_PROP, endp_prop);
        let status = self.with_retries(false, |conn| {
            conn.send(&request)?;
            values(&conn.receive()?, &[ATTR_DUMMY])?;
            sys::fdpass::send_fd(conn.socket(), fd.as_raw_fd())?;
            let v = values(&conn.receive()?, &[mail_attr::STATUS])?;
            Ok(v[0].parse::<u32>().map_or(-1, |s| s as i32))
        });
        if log::verbose() > 0 && status.is_some_and(|s| s != SCACHE_STAT_OK) {
            log::msg_warn!(
                "scache_clnt_save_endp: descriptor save failed with status {}",
                status.unwrap_or_default()
            );
        }
        drop(fd);
    }

    /// Binds `dest_label` to `endp_label` for `ttl` seconds (`scache_save_dest`).
    pub fn save_dest(&mut self, ttl: i32, dest_label: &str, dest_prop: &str, endp_label: &str) {
        let request = Attrs::new()
            .str(mail_attr::REQ, "save_dest")
            .int(ATTR_TTL, ttl)
            .str(ATTR_LABEL, dest_label)
            .str(ATTR_PROP, dest_prop)
            .str(ATTR_LABEL, endp_label);
        let status = self.with_retries(false, |conn| {
            conn.send(&request)?;
            let v = values(&conn.receive()?, &[mail_attr::STATUS])?;
            Ok(v[0].parse::<u32>().map_or(-1, |s| s as i32))
        });
        if log::verbose() > 0 && status.is_some_and(|s| s != SCACHE_STAT_OK) {
            log::msg_warn!(
                "scache_clnt_save_dest: destination save failed with status {}",
                status.unwrap_or_default()
            );
        }
    }

    /// A session saved under `endp_label`: its properties and descriptor
    /// (`scache_find_endp`).
    pub fn find_endp(&mut self, endp_label: &str) -> Option<(String, OwnedFd)> {
        let request = Attrs::new()
            .str(mail_attr::REQ, "find_endp")
            .str(ATTR_LABEL, endp_label);
        self.with_retries(true, |conn| {
            conn.send(&request)?;
            let v = values(&conn.receive()?, &[mail_attr::STATUS, ATTR_PROP])?;
            if v[0] != "0" {
                return Ok(None);
            }
            let fd = take_fd(conn)?;
            Ok(Some((v[1].clone(), fd)))
        })
        .flatten()
    }

    /// A session for `dest_label`: the destination's and the endpoint's properties and
    /// the descriptor (`scache_find_dest`).
    pub fn find_dest(&mut self, dest_label: &str) -> Option<(String, String, OwnedFd)> {
        let request = Attrs::new()
            .str(mail_attr::REQ, "find_dest")
            .str(ATTR_LABEL, dest_label);
        self.with_retries(true, |conn| {
            conn.send(&request)?;
            let v = values(&conn.receive()?, &[mail_attr::STATUS, ATTR_PROP, ATTR_PROP])?;
            if v[0] != "0" {
                return Ok(None);
            }
            let fd = take_fd(conn)?;
            Ok(Some((v[1].clone(), v[2].clone(), fd)))
        })
        .flatten()
    }

    /// Runs `exchange` over a live connection, reconnecting once after a failure; after
    /// the second failure the cache is disabled. None when it failed or is disabled.
    fn with_retries<T>(
        &mut self,
        lookup: bool,
        mut exchange: impl FnMut(&mut Conn) -> std::io::Result<T>,
    ) -> Option<T> {
        let mut tries = 0;
        while self.enabled {
            match self.stream.access().and_then(&mut exchange) {
                Ok(value) => return Some(value),
                Err(e) => {
                    self.stream.recover();
                    let quiet =
                        matches!(e.raw_os_error(), Some(sys::libc::EPIPE | sys::libc::ENOENT));
                    // A save warns about a repeated failure even when it is quiet.
                    if log::verbose() > 0 || !quiet || (!lookup && tries > 0) {
                        log::msg_warn!(
                            "problem talking to service {}/{}: {}",
                            self.stream.dir,
                            self.stream.service,
                            sys::os_error(&e)
                        );
                    }
                }
            }
            tries += 1;
            if tries >= MAX_TRIES {
                log::msg_warn!("disabling connection caching");
                self.enabled = false;
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        None
    }
}

/// Receives a descriptor: a dummy list first, so the service may send it, and one
/// after, so the service may close its copy.
fn take_fd(conn: &mut Conn) -> std::io::Result<OwnedFd> {
    let dummy = Attrs::new().str(ATTR_DUMMY, "");
    conn.send(&dummy)?;
    let socket = conn.socket();
    let wait = socket.read_timeout()?.unwrap_or(Duration::from_secs(5));
    sys::fdpass::read_wait(socket.as_raw_fd(), wait)?;
    let fd = sys::fdpass::recv_fd(socket)?;
    let _ = conn.send(&dummy);
    Ok(fd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipc::Flavor;
    use std::io::{BufReader, Read, Write};
    use std::os::unix::net::{UnixListener, UnixStream};

    /// A service that holds one saved descriptor and hands it out once, speaking the
    /// service side of the protocol.
    fn fake_service(dir: &std::path::Path) -> std::thread::JoinHandle<Vec<String>> {
        let listener = UnixListener::bind(dir.join("scache")).unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut out = stream.try_clone().unwrap();
            let send =
                |out: &mut UnixStream, a: Attrs| ipc::attr::write(out, Flavor::Null, &a).unwrap();
            send(&mut out, Attrs::new().str(mail_attr::PROTO, PROTO_SCACHE));
            let mut saved: Option<OwnedFd> = None;
            let mut seen = Vec::new();
            while let Ok(Some(req)) = ipc::attr::read(&mut reader, Flavor::Null) {
                let what = req.get_str(mail_attr::REQ).unwrap().to_string();
                seen.push(what.clone());
                match what.as_str() {
                    "save_endp" => {
                        send(&mut out, Attrs::new().str(ATTR_DUMMY, ""));
                        saved = Some(sys::fdpass::recv_fd(&stream).unwrap());
                        send(&mut out, Attrs::new().int(mail_attr::STATUS, 0));
                    }
                    "save_dest" => send(&mut out, Attrs::new().int(mail_attr::STATUS, 0)),
                    "find_dest" => match saved.take() {
                        Some(fd) => {
                            send(
                                &mut out,
                                Attrs::new()
                                    .int(mail_attr::STATUS, 0)
                                    .str(ATTR_PROP, "d")
                                    .str(ATTR_PROP, "e"),
                            );
                            ipc::attr::read(&mut reader, Flavor::Null).unwrap();
                            sys::fdpass::send_fd(&stream, fd.as_raw_fd()).unwrap();
                            ipc::attr::read(&mut reader, Flavor::Null).unwrap();
                        }
                        None => send(
                            &mut out,
                            Attrs::new()
                                .int(mail_attr::STATUS, SCACHE_STAT_FAIL)
                                .str(ATTR_PROP, "")
                                .str(ATTR_PROP, ""),
                        ),
                    },
                    _ => send(
                        &mut out,
                        Attrs::new().int(mail_attr::STATUS, SCACHE_STAT_BAD),
                    ),
                }
            }
            seen
        })
    }

    #[test]
    fn a_session_saved_is_found_and_works() {
        let dir = crate::scratch_dir("scache-clnt");
        let service = fake_service(&dir);
        let mut client = ScacheClient::new(
            "scache",
            Duration::from_secs(5),
            Duration::from_secs(5),
            Duration::from_secs(100),
        );
        client.stream.dir = dir.display().to_string();
        let (session, mut peer) = UnixStream::pair().unwrap();
        client.save_endp(2, "smtp:192.0.2.1:25", "e", OwnedFd::from(session));
        client.save_dest(2, "smtp:example.com:25", "d", "smtp:192.0.2.1:25");
        let (dprop, eprop, fd) = client.find_dest("smtp:example.com:25").unwrap();
        assert_eq!((dprop.as_str(), eprop.as_str()), ("d", "e"));
        let mut again = UnixStream::from(fd);
        again.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        peer.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
        assert!(client.find_dest("smtp:example.com:25").is_none());
        assert!(client.enabled());
        drop(client);
        assert_eq!(
            service.join().unwrap(),
            ["save_endp", "save_dest", "find_dest", "find_dest"]
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_missing_service_disables_the_cache() {
        let mut client = ScacheClient::new(
            "scache",
            Duration::from_secs(1),
            Duration::from_secs(5),
            Duration::from_secs(100),
        );
        client.stream.dir = "/nonexistent-scache-dir".into();
        assert!(client.find_endp("smtp:192.0.2.1:25").is_none());
        assert!(!client.enabled());
        // Nothing more is tried.
        assert!(client.find_dest("x").is_none());
    }
}
