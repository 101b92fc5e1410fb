//! tlsproxy - the TLS of other processes' connections, in one long-lived process.
//!
//! Postfix counterpart: `tlsproxy/tlsproxy.c` and `tlsproxy/tlsproxy_state.c`, the client
//! role. An SMTP client (smtp with smtp_tls_connection_reuse = yes) connects to
//! `private/tlsproxy`, sends the remote endpoint, flags, timeouts and server id, then its
//! TLS settings (`TLS_CLIENT_PARAMS`, `TLS_CLIENT_INIT_PROPS`, `TLS_CLIENT_START_PROPS`:
//! [`proto`]); tlsproxy answers `status=1` when it has an engine for those settings, and
//! the client passes its TCP connection to the server as a descriptor. tlsproxy runs the
//! handshake on it, sends the TLS context back (the client logs the `... TLS connection
//! established` line from it), and from then on relays plaintext between the client's
//! socket and the TLS connection ([`relay`]). The plaintext socket is what the client
//! keeps in scache and another smtp process takes over.
//!
//! The client sessions of every connection live in this process ([`tls::sessions`],
//! keyed by the server id as Postfix keys its client cache), so the second smtp process's
//! connection to a server resumes the first one's session.
//!
//! Postfix serves all connections of a process from one event loop; here the multi-client
//! skeleton takes each request, and each accepted connection then gets a thread for its
//! handshake and relay (blocking I/O as the rest of ironpost). While any runs, the process
//! does not idle out. The server role (postscreen's STARTTLS) is not implemented: each
//! process starts with Postfix's warning for a disabled server role, and a request for
//! it is answered `status=0`, as Postfix's tlsproxy answers with the role off.
//!
//! master.cf: `tlsproxy unix - - n - 0 tlsproxy`.

mod proto;
mod relay;

use ipc::{Attrs, Flavor, mail_attr};
use server::multi::{Client, Service};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// `MAIL_ATTR_PROTO_TLSPROXY`.
const PROTO_TLSPROXY: &str = "tlsproxy_protocol";

/// The engines made so far, by their settings (`tlsp_client_app_cache`): each holds
/// loaded CAs and client certificates, costly to make per connection.
type Engines = HashMap<String, Option<Arc<tls::ClientTls>>>;

struct TlsProxy {
    engines: Engines,
    sessions: tls::sessions::SessionCache,
    /// Connections being served by their threads.
    active: Arc<AtomicUsize>,
    /// max_idle as configured: set to 0 while connections are active, so that the
    /// skeleton does not end the process under them.
    max_idle: u64,
    /// The client caches that are on (`smtp`, `lmtp`): those whose
    /// *_tls_session_cache_database is set, which is what Postfix's tlsmgr tells its
    /// clients (`tls_mgr_policy()`). A client names its cache in the init props.
    caches: Vec<String>,
}

impl TlsProxy {
    /// `tlsp_client_init()`: one engine per set of init props and params.
    fn engine(
        &mut self,
        params: &proto::ClientParams,
        init: &proto::InitProps,
    ) -> Option<Arc<tls::ClientTls>> {
        let key = format!("{}{}", params.serialized, init.serialized);
        if let Some(engine) = self.engines.get(&key) {
            return engine.clone();
        }
        let split = |s: &str| -> Vec<String> {
            s.split([',', ' ', '\t', '\r', '\n'])
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect()
        };
        let [high, medium, low, export, null] = params.cipher_lists.clone();
        let settings = tls::ClientSettings {
            ca_file: init.ca_file.clone(),
            ca_path: init.ca_path.clone(),
            loglevel: init.log_level.trim().parse().unwrap_or(0),
            fingerprint_digest: tls::Digest::by_name(&init.mdalg).unwrap_or(tls::Digest::Sha256),
            cipher_lists: tls::ciphers::CipherLists {
                high,
                medium,
                low,
                export,
                null,
            },
            certs: tls::CertKeyFiles {
                chain_files: split(&init.chain_files),
                cert_file: init.cert_file.clone(),
                key_file: init.key_file.clone(),
                eccert_file: init.eccert_file.clone(),
                eckey_file: init.eckey_file.clone(),
            },
            dcert_file: init.dcert_file.clone(),
            dkey_file: init.dkey_file.clone(),
        };
        let engine = tls::ClientTls::new(&settings, &mut |sev, text| log::write(sev, text));
        if engine.is_none() {
            log::msg_warn!("TLS client initialization failed");
        }
        let engine = engine.map(Arc::new);
        self.engines.insert(key, engine.clone());
        engine
    }
}

impl Service for TlsProxy {
    fn connected(&mut self, _daemon: &mut server::Daemon, client: &mut Client) {
        if !client.announce(Flavor::Null, PROTO_TLSPROXY) {
            log::msg_warn!("write {} attribute: {}", mail_attr::PROTO, "Broken pipe");
        }
    }

    fn request(&mut self, _daemon: &mut server::Daemon, client: &mut Client) -> bool {
        let Some(request) = client
            .receive(Flavor::Null)
            .as_ref()
            .and_then(proto::request)
        else {
            log::msg_warn!("tlsp_get_request_event: receive request attributes: Success");
            return false;
        };
        let role = request.flags & (proto::FLAG_ROLE_CLIENT | proto::FLAG_ROLE_SERVER);
        log::msg_info!(
            "CONNECT {} {}",
            match role {
                proto::FLAG_ROLE_SERVER => "from",
                proto::FLAG_ROLE_CLIENT => "to",
                _ => "(bogus_direction)",
            },
            request.remote_endpt
        );
        let handoff = match role {
            proto::FLAG_ROLE_CLIENT => {
                let settings = client
                    .receive(Flavor::Null)
                    .ok_or("end of input".to_string());
                match settings.and_then(|a| proto::client_settings(&a)) {
                    Ok((params, init, start)) => {
                        let cache = self.caches.contains(&init.cache_type);
                        self.engine(&params, &init)
                            .map(|engine| (engine, start, cache))
                    }
                    Err(e) => {
                        log::msg_warn!("tlsp_get_request_event: receive client TLS settings: {e}");
                        relay::failed(&request);
                        return false;
                    }
                }
            }
            // There is no server role (see main()).
            proto::FLAG_ROLE_SERVER => None,
            _ => {
                log::msg_warn!(
                    "tlsp_get_request_event: bad request flags: 0x{:x}",
                    request.flags
                );
                None
            }
        };
        let ready = handoff.is_some();
        let sent = client.send(
            Flavor::Null,
            &Attrs::new().int(mail_attr::STATUS, ready as i32),
        );
        let Some((engine, start, cache)) = handoff.filter(|_| sent) else {
            relay::failed(&request);
            return false;
        };
        // The connection leaves the skeleton for a thread of its own.
        let server::single::Stream::Unix(socket) = client.io.get_ref() else {
            relay::failed(&request);
            return false;
        };
        let plaintext = match socket.try_clone() {
            Ok(s) => s,
            Err(e) => {
                log::msg_warn!("dup plaintext stream: {e}");
                relay::failed(&request);
                return false;
            }
        };
        self.active.fetch_add(1, Ordering::SeqCst);
        let job = relay::Job {
            plaintext,
            request,
            start,
            engine,
            sessions: cache.then(|| self.sessions.clone()),
        };
        let active = self.active.clone();
        std::thread::spawn(move || {
            job.run();
            active.fetch_sub(1, Ordering::SeqCst);
        });
        false
    }

    fn tick(&mut self, daemon: &mut server::Daemon) -> Option<Duration> {
        daemon.max_idle = if self.active.load(Ordering::SeqCst) > 0 {
            0
        } else {
            self.max_idle
        };
        Some(Duration::from_secs(1))
    }

    fn exiting(&mut self, _daemon: &mut server::Daemon) {
        // After max_use or the master's departure: let the relays finish (Postfix's
        // tlsp_drain() does the same in a child).
        while self.active.load(Ordering::SeqCst) > 0 {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements::default());
    // Postfix's words at start-up when its server role is off, as it is with the
    // default settings; this tlsproxy has no server role to turn on, and answers
    // status=0 to a request for it.
    log::msg_warn!(
        "TLS server role is disabled with tlsproxy_tls_security_level or tlsproxy_use_tls"
    );
    daemon.enter_jail();
    let caches = [
        (
            "smtp",
            &params::decl::tlsmgr::SMTP_TLS_SESSION_CACHE_DATABASE,
        ),
        (
            "lmtp",
            &params::decl::tlsmgr::LMTP_TLS_SESSION_CACHE_DATABASE,
        ),
    ]
    .into_iter()
    .filter(|(_, param)| {
        !daemon
            .config
            .str(param)
            .unwrap_or_else(|e| global::fatal_config(e))
            .is_empty()
    })
    .map(|(name, _)| name.to_string())
    .collect();
    let proxy = TlsProxy {
        caches,
        engines: Engines::new(),
        sessions: tls::sessions::SessionCache::default(),
        active: Arc::new(AtomicUsize::new(0)),
        max_idle: daemon.max_idle,
    };
    server::multi::serve(daemon, proxy)
}
