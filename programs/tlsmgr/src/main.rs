//! tlsmgr - TLS session ticket keys and session caches for the TLS servers and clients.
//!
//! Postfix counterpart: `tlsmgr/tlsmgr.c`. smtpd processes come and go, and a client
//! that resumes a TLS session usually reaches another one than it first talked to; so
//! the state that resumption needs lives here, in one process that every smtpd asks:
//!
//! * `tktkey` (keyname): the session ticket key, as Postfix's `TLS_TICKET_KEY` bytes.
//!   An empty name asks for the current key, which is made afresh when the last one
//!   expired; a key seals tickets for half of smtpd_tls_session_cache_timeout and
//!   opens them for the other half. A named key is looked up among the current and
//!   the previous one.
//! * `policy` (cache_type): whether that cache type is kept, and its timeout.
//! * `lookup`, `update`, `delete` (cache_type, cache_id[, session]): the session
//!   caches `smtpd`, `smtp` and `lmtp`, kept in smtpd_tls_session_cache_database and
//!   its siblings (any updatable table type), emptied at start, each entry expiring
//!   after the cache timeout; a cleanup run removes expired entries every timeout.
//! * `seed` (size): random bytes. Postfix's clients seed OpenSSL with them; ironpost's
//!   use the system's generator and never ask.
//!
//! Requests and replies use the null-terminated attribute protocol, announced as
//! `tlsmgr_protocol`, with Postfix's attribute names, so Postfix's smtpd and smtp can
//! use this tlsmgr and ironpost's smtpd Postfix's. What Postfix's tlsmgr also does with
//! OpenSSL's PRNG (tls_random_source, the exchange file) has no counterpart: ring draws
//! from the kernel. master.cf: `tlsmgr unix - - n 1000? 1 tlsmgr`.

mod cache;

use cache::Cache;
use global::msg_stats::{base64_decode, base64_encode};
use ipc::{Attrs, Flavor};
use params::decl::{smtp, tls as t, tlsmgr as p};
use ring::rand::SecureRandom;
use server::multi::{Client, Service};
use std::time::Duration;
use tls::resume::{KeyRing, NAME_LEN, SESSION_LIFEMIN, TicketKey};

/// The protocol announced to each client (`MAIL_ATTR_PROTO_TLSMGR`).
const PROTO_TLSMGR: &str = "tlsmgr_protocol";
/// `TLS_MGR_STAT_OK`.
const STAT_OK: i32 = 0;
/// `TLS_MGR_STAT_ERR`: the request completed, the answer is no.
const STAT_ERR: i32 = -1;
/// `TLS_MGR_STAT_FAIL`: the request could not be carried out.
const STAT_FAIL: i32 = -2;

/// One cache type: its label, timeout and table, when it has one.
struct CacheType {
    label: &'static str,
    timeout: i64,
    cache: Option<Cache>,
    /// When the next cleanup run starts.
    next_cleanup: i64,
}

struct Tlsmgr {
    /// smtpd, smtp, lmtp.
    types: Vec<CacheType>,
    /// The ticket keys handed out.
    keys: KeyRing,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The attributes after `request`, when they are exactly `names` (Postfix's strict
/// attr_scan): their values in order. Binary values (keyname, session) travel in
/// base64, as attr_print0 sends Postfix's DATA attributes; they are decoded here.
fn args(request: &Attrs, names: &[&str]) -> Option<Vec<Vec<u8>>> {
    if request.len() != names.len() + 1 {
        return None;
    }
    names
        .iter()
        .map(|n| {
            let value = request.get_bytes(n)?;
            if DATA.contains(n) {
                base64_decode(value)
            } else {
                Some(value.to_vec())
            }
        })
        .collect()
}

/// The DATA attributes of the protocol.
const DATA: &[&str] = &["keyname", "keybuf", "session", "seed"];

/// `status` and a DATA attribute, base64-encoded.
fn reply_data(result: i32, name: &str, value: &[u8]) -> Attrs {
    status(result).str(name, &base64_encode(value))
}

fn text(value: &[u8]) -> &str {
    std::str::from_utf8(value).unwrap_or("")
}

fn status(value: i32) -> Attrs {
    Attrs::new().int(ipc::mail_attr::STATUS, value)
}

impl Tlsmgr {
    fn find(&mut self, label: &str, request: &str) -> Option<&mut CacheType> {
        let found = self.types.iter_mut().find(|t| t.label == label);
        if found.is_none() {
            log::msg_warn!("bogus cache type \"{label}\" in \"{request}\" request");
        }
        found
    }

    fn lookup(&mut self, request: &Attrs) -> Attrs {
        let mut result = (STAT_FAIL, Vec::new());
        if let Some(v) = args(request, &["cache_type", "cache_id"])
            && let Some(ent) = self.find(text(&v[0]), "lookup")
            && let Some(cache) = ent.cache.as_mut()
        {
            result = match cache.lookup(text(&v[1]), now()) {
                Some(session) => (STAT_OK, session),
                None => (STAT_ERR, Vec::new()),
            };
        }
        reply_data(result.0, "session", &result.1)
    }

    fn update(&mut self, request: &Attrs) -> Attrs {
        let mut result = STAT_FAIL;
        if let Some(v) = args(request, &["cache_type", "cache_id", "session"])
            && let Some(ent) = self.find(text(&v[0]), "update")
            && let Some(cache) = ent.cache.as_mut()
        {
            result = if cache.update(text(&v[1]), &v[2], now()) {
                STAT_OK
            } else {
                STAT_ERR
            };
        }
        status(result)
    }

    fn delete(&mut self, request: &Attrs) -> Attrs {
        let mut result = STAT_FAIL;
        if let Some(v) = args(request, &["cache_type", "cache_id"])
            && let Some(ent) = self.find(text(&v[0]), "delete")
            && let Some(cache) = ent.cache.as_mut()
        {
            result = if cache.delete(text(&v[1])) {
                STAT_OK
            } else {
                STAT_ERR
            };
        }
        status(result)
    }

    /// `tktkey`: smtpd's cache timeout decides; a key seals for half of it
    /// (`tlsmgr_key()`).
    fn ticket_key(&mut self, request: &Attrs) -> Attrs {
        let mut result = (STAT_FAIL, Vec::new());
        if let Some(v) = args(request, &["keyname"]) {
            let name = v[0].as_slice();
            let timeout = self.types[0].timeout;
            if !name.is_empty() && name.len() != NAME_LEN {
                log::msg_warn!("invalid session ticket key name length: {}", name.len());
            } else if timeout <= 0 {
                result.0 = STAT_ERR;
            } else {
                let now = now();
                let timeout = timeout / 2;
                let name = (!name.is_empty()).then_some(name);
                let key = match self.keys.find(name, now, timeout) {
                    Some(key) => Some(key.clone()),
                    None if name.is_none() => {
                        TicketKey::generate(now, timeout).map(|k| self.keys.rotate(k))
                    }
                    None => None,
                };
                result = match key {
                    Some(key) => (STAT_OK, key.to_keybuf()),
                    None => (STAT_ERR, Vec::new()),
                };
            }
        }
        reply_data(result.0, "keybuf", &result.1)
    }

    fn seed(&mut self, request: &Attrs) -> Attrs {
        let mut result = (STAT_FAIL, Vec::new());
        if let Some(v) = args(request, &["size"]) {
            let len = text(&v[0]).parse::<u32>().map_or(-1, |n| n as i32 as i64);
            if !(1..=255).contains(&len) {
                log::msg_warn!("bogus seed length \"{len}\" in \"seed\" request");
            } else {
                let mut bytes = vec![0u8; len as usize];
                if ring::rand::SystemRandom::new().fill(&mut bytes).is_ok() {
                    result = (STAT_OK, bytes);
                }
            }
        }
        reply_data(result.0, "seed", &result.1)
    }

    fn policy(&mut self, request: &Attrs) -> Attrs {
        let (mut result, mut cachable, mut timeout) = (STAT_FAIL, 0, 0);
        if let Some(v) = args(request, &["cache_type"])
            && let Some(ent) = self.find(text(&v[0]), "policy")
        {
            cachable = i32::from(ent.cache.is_some());
            timeout = i32::try_from(ent.timeout).unwrap_or(i32::MAX);
            result = STAT_OK;
        }
        status(result)
            .int("cachable", cachable)
            .int("timeout", timeout)
    }
}

impl Service for Tlsmgr {
    fn connected(&mut self, _daemon: &mut server::Daemon, client: &mut Client) {
        client.announce(Flavor::Null, PROTO_TLSMGR);
    }

    fn request(&mut self, _daemon: &mut server::Daemon, client: &mut Client) -> bool {
        // The master's wakeup ("W" and a null byte) is no attribute list: it ends here,
        // and the connection with it, as Postfix's tlsmgr disconnects a trigger.
        let Some(request) = client.receive(Flavor::Null) else {
            return false;
        };
        let reply = match request.get_str(ipc::mail_attr::REQ) {
            Ok("lookup") => self.lookup(&request),
            Ok("update") => self.update(&request),
            Ok("delete") => self.delete(&request),
            Ok("tktkey") => self.ticket_key(&request),
            Ok("seed") => self.seed(&request),
            Ok("policy") => self.policy(&request),
            // Postfix's tlsmgr answers an unknown request with nothing and waits for
            // the next; a protocol error gets a failure status.
            Ok(_) => return true,
            Err(_) => status(STAT_FAIL),
        };
        client.send(Flavor::Null, &reply)
    }

    fn tick(&mut self, _daemon: &mut server::Daemon) -> Option<Duration> {
        let now = now();
        let mut walking = false;
        for ent in &mut self.types {
            let Some(cache) = ent.cache.as_mut() else {
                continue;
            };
            if now >= ent.next_cleanup {
                cache.start_cleanup();
                ent.next_cleanup = now + cache.timeout;
            }
            walking |= cache.cleanup_step(now);
        }
        // Entries are examined one per tick between requests, as Postfix interleaves
        // them with its events; otherwise wake for the next run.
        let next = self
            .types
            .iter()
            .filter(|t| t.cache.is_some())
            .map(|t| t.next_cleanup)
            .min();
        Some(if walking {
            Duration::ZERO
        } else {
            Duration::from_secs(next.map_or(3600, |n| (n - now).max(1)) as u64)
        })
    }
}

/// A TLS log level's TLS_LOG_CACHE bit (`tls_log_mask()`): levels 2 and up.
fn logs_cache(level: &str) -> bool {
    let level = level.trim().to_ascii_lowercase();
    match level.as_str() {
        "debug" | "ssl-expert" | "ssl-developer" => true,
        _ => level.parse::<u32>().is_ok_and(|n| n >= 2),
    }
}

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements {
        solitary: true,
        ..Default::default()
    });
    let config = &daemon.config;
    let text = |param| {
        config
            .str(param)
            .unwrap_or_else(|e| global::fatal_config(e))
    };
    let time = |param| {
        config
            .time(param)
            .unwrap_or_else(|e| global::fatal_config(e))
    };
    let specs = [
        (
            "smtpd",
            text(&p::SMTPD_TLS_SESSION_CACHE_DATABASE),
            time(&p::SMTPD_TLS_SESSION_CACHE_TIMEOUT),
            text(&t::SMTPD_TLS_LOGLEVEL),
        ),
        (
            "smtp",
            text(&p::SMTP_TLS_SESSION_CACHE_DATABASE),
            time(&p::SMTP_TLS_SESSION_CACHE_TIMEOUT),
            text(&smtp::SMTP_TLS_LOGLEVEL),
        ),
        (
            "lmtp",
            text(&p::LMTP_TLS_SESSION_CACHE_DATABASE),
            time(&p::LMTP_TLS_SESSION_CACHE_TIMEOUT),
            text(&smtp::LMTP_TLS_LOGLEVEL),
        ),
    ];
    let owner = text(&params::decl::install::MAIL_OWNER);
    let account = sys::user::by_name(&owner)
        .unwrap_or_else(|| log::msg_fatal!("unknown mail_owner user: {owner}"));
    let mut types = Vec::new();
    let mut seen: Vec<(String, &str)> = Vec::new();
    for (label, db, timeout, level) in specs {
        // Sanitize the timeout as Postfix does: 0 turns the cache (and, for smtpd,
        // tickets) off, anything else is at least TLS_SESSION_LIFEMIN.
        let timeout = if timeout > 0 {
            timeout.max(SESSION_LIFEMIN)
        } else {
            0
        };
        let mut cache = None;
        if timeout > 0 && !db.is_empty() {
            if let Some((_, other)) = seen.iter().find(|(d, _)| *d == db) {
                log::msg_fatal!("do not use the same TLS cache file {db} for {other} and {label}");
            }
            seen.push((db.clone(), label));
            // The file belongs to the mail owner, never root (Postfix's
            // SAVE_AND_SET_EUGID around tls_scache_open()).
            let opened = sys::user::as_effective(account.uid, account.gid, || {
                Cache::open(&db, label, logs_cache(&level), timeout)
            })
            .unwrap_or_else(|e| log::msg_fatal!("{e}"));
            cache = Some(opened.unwrap_or_else(|e| log::msg_fatal!("open {db}: {e}")));
        }
        types.push(CacheType {
            label,
            timeout,
            cache,
            next_cleanup: 0,
        });
    }
    daemon.enter_jail();
    // Keys and caches must outlive clients: the process stays (Postfix sets both limits
    // to 0 after the jail).
    daemon.max_use = 0;
    daemon.max_idle = 0;
    let tlsmgr = Tlsmgr {
        types,
        keys: KeyRing::default(),
    };
    server::multi::serve(daemon, tlsmgr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlsmgr(timeout: i64) -> Tlsmgr {
        Tlsmgr {
            types: ["smtpd", "smtp", "lmtp"]
                .into_iter()
                .map(|label| CacheType {
                    label,
                    timeout,
                    cache: None,
                    next_cleanup: 0,
                })
                .collect(),
            keys: KeyRing::default(),
        }
    }

    fn req(name: &str) -> Attrs {
        Attrs::new().str("request", name)
    }

    fn keyname(name: &[u8]) -> Attrs {
        req("tktkey").str("keyname", &base64_encode(name))
    }

    fn data(reply: &Attrs, name: &str) -> Vec<u8> {
        base64_decode(reply.get_bytes(name).unwrap()).unwrap()
    }

    #[test]
    fn ticket_keys_are_made_once_and_found_by_name() {
        let mut mgr = tlsmgr(3600);
        let first = mgr.ticket_key(&keyname(b""));
        assert_eq!(first.get_int("status"), Some(STAT_OK));
        let key = TicketKey::from_keybuf(&data(&first, "keybuf")).unwrap();
        // A key seals for half the timeout, ending a second early as Postfix's does.
        assert!((key.tout - now() - 1799).abs() <= 1, "{key:?}");
        let again = mgr.ticket_key(&keyname(b""));
        assert_eq!(data(&again, "keybuf"), data(&first, "keybuf"));
        let named = mgr.ticket_key(&keyname(&key.name));
        assert_eq!(data(&named, "keybuf"), data(&first, "keybuf"));
        let unknown = mgr.ticket_key(&keyname(&[7; 16]));
        assert_eq!(unknown.get_int("status"), Some(STAT_ERR));
        assert_eq!(data(&unknown, "keybuf"), b"");
        let bad = mgr.ticket_key(&keyname(b"short"));
        assert_eq!(bad.get_int("status"), Some(STAT_FAIL));
        // No tickets when smtpd's timeout is 0.
        let off = tlsmgr(0).ticket_key(&keyname(b""));
        assert_eq!(off.get_int("status"), Some(STAT_ERR));
    }

    #[test]
    fn policy_seed_and_missing_caches() {
        let mut mgr = tlsmgr(3600);
        let policy = mgr.policy(&req("policy").str("cache_type", "smtpd"));
        assert_eq!(policy.get_int("status"), Some(STAT_OK));
        assert_eq!(policy.get_int("cachable"), Some(0));
        assert_eq!(policy.get_int("timeout"), Some(3600));
        let bogus = mgr.policy(&req("policy").str("cache_type", "pop3"));
        assert_eq!(bogus.get_int("status"), Some(STAT_FAIL));
        let seed = mgr.seed(&req("seed").int("size", 32));
        assert_eq!(data(&seed, "seed").len(), 32);
        let lookup = mgr.lookup(
            &req("lookup")
                .str("cache_type", "smtpd")
                .str("cache_id", "x"),
        );
        assert_eq!(lookup.get_int("status"), Some(STAT_FAIL));
        assert!(logs_cache("2") && logs_cache("debug") && !logs_cache("1"));
    }
}
