//! Server-side session resumption: session ticket keys that tlsmgr hands out to every
//! smtpd process, tickets sealed with them, and tlsmgr's session cache for TLS 1.2
//! clients without tickets.
//!
//! Postfix counterparts: `tls/tls_scache.c` (`tls_scache_key()`,
//! `tls_scache_key_rotate()`: the two-key ring), `tls/tls_mgr.c` (`tls_mgr_key()`) and
//! `tls/tls_server.c` (`ticket_cb()`, `get_server_session_cb()`,
//! `new_server_session_cb()`, the "Reusing old session" line).
//!
//! What is shared with Postfix is the key distribution: tlsmgr's `tktkey` reply carries
//! Postfix's `TLS_TICKET_KEY` (name, cipher key, HMAC key, expiry), so Postfix's tlsmgr
//! can serve ironpost's smtpd and the other way round. The ticket itself is ours: the
//! key name, a random nonce, then rustls's session state sealed with AES-256-GCM under
//! the 32-byte cipher key (Postfix seals OpenSSL's state with AES-256-CBC and
//! HMAC-SHA256); a ticket travels only between a client and the server that made it.
//! Cache entries likewise hold rustls's encoding, under an id whose `&l=` part names
//! the library, as Postfix's names OpenSSL's version, so neither reloads the other's.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// RFC 5077 key name length (`TLS_TICKET_NAMELEN`).
pub const NAME_LEN: usize = 16;
/// The cipher key length (`TLS_TICKET_KEYLEN`, AES-256).
pub const KEY_LEN: usize = 32;
/// The HMAC key length (`TLS_TICKET_MACLEN`).
pub const MAC_LEN: usize = 32;
/// The size of Postfix's `TLS_TICKET_KEY` on 64-bit Linux, as tlsmgr sends it: the three
/// byte arrays, then a native-endian 64-bit `time_t` (no padding: 80 is aligned).
pub const KEYBUF_LEN: usize = NAME_LEN + KEY_LEN + MAC_LEN + 8;
/// Postfix's `TLS_SESSION_LIFEMIN`: tlsmgr raises shorter cache timeouts to this.
pub const SESSION_LIFEMIN: i64 = 120;
/// The library part of cache ids (Postfix puts `OpenSSL_version_num()` there).
const LIBRARY: &str = "rustls-0.23";

/// A session ticket key (Postfix's `TLS_TICKET_KEY`).
#[derive(Clone, PartialEq, Eq)]
pub struct TicketKey {
    /// The name a ticket carries so that the server finds its key.
    pub name: [u8; NAME_LEN],
    /// The cipher key.
    pub bits: [u8; KEY_LEN],
    /// Postfix's HMAC key; carried along unused (the AEAD authenticates).
    pub hmac: [u8; MAC_LEN],
    /// When the key stops sealing new tickets (it opens old ones for a while longer).
    pub tout: i64,
}

impl fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key material.
        f.debug_struct("TicketKey")
            .field("name", &hex(&self.name))
            .field("tout", &self.tout)
            .finish()
    }
}

impl TicketKey {
    /// The key from tlsmgr's `keybuf` attribute; None unless it has Postfix's size.
    pub fn from_keybuf(buf: &[u8]) -> Option<TicketKey> {
        if buf.len() != KEYBUF_LEN {
            return None;
        }
        let mut key = TicketKey {
            name: [0; NAME_LEN],
            bits: [0; KEY_LEN],
            hmac: [0; MAC_LEN],
            tout: 0,
        };
        key.name.copy_from_slice(&buf[..NAME_LEN]);
        key.bits.copy_from_slice(&buf[NAME_LEN..NAME_LEN + KEY_LEN]);
        key.hmac
            .copy_from_slice(&buf[NAME_LEN + KEY_LEN..NAME_LEN + KEY_LEN + MAC_LEN]);
        let mut tout = [0u8; 8];
        tout.copy_from_slice(&buf[NAME_LEN + KEY_LEN + MAC_LEN..]);
        key.tout = i64::from_ne_bytes(tout);
        Some(key)
    }

    /// The `keybuf` form of the key.
    pub fn to_keybuf(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(KEYBUF_LEN);
        buf.extend_from_slice(&self.name);
        buf.extend_from_slice(&self.bits);
        buf.extend_from_slice(&self.hmac);
        buf.extend_from_slice(&self.tout.to_ne_bytes());
        buf
    }

    /// A fresh random key that seals tickets until `now + timeout - 1` (tlsmgr's
    /// `tlsmgr_key()`); None when the system has no randomness to give.
    pub fn generate(now: i64, timeout: i64) -> Option<TicketKey> {
        let rng = SystemRandom::new();
        let mut key = TicketKey {
            name: [0; NAME_LEN],
            bits: [0; KEY_LEN],
            hmac: [0; MAC_LEN],
            tout: now + timeout - 1,
        };
        rng.fill(&mut key.name).ok()?;
        rng.fill(&mut key.bits).ok()?;
        rng.fill(&mut key.hmac).ok()?;
        Some(key)
    }
}

/// The current key and the one before it (the `keys[2]` of `tls_scache.c`), kept in
/// order of expiry, the latest first.
#[derive(Debug, Default)]
pub struct KeyRing {
    keys: [Option<TicketKey>; 2],
}

impl KeyRing {
    /// The key for sealing (`name` None: the current key while it has not expired) or
    /// for opening a ticket named `name` (either key, until `timeout` seconds after it
    /// stopped sealing).
    pub fn find(&self, name: Option<&[u8]>, now: i64, timeout: i64) -> Option<&TicketKey> {
        match name {
            Some(name) => self
                .keys
                .iter()
                .flatten()
                .find(|k| k.name.as_slice() == name && k.tout + timeout > now),
            None => self.keys[0].as_ref().filter(|k| k.tout > now),
        }
    }

    /// Adds a key, retiring the older of the two (`tls_scache_key_rotate()`).
    pub fn rotate(&mut self, key: TicketKey) -> TicketKey {
        self.keys[1] = Some(key.clone());
        let newer = match (&self.keys[0], &self.keys[1]) {
            (None, _) => true,
            (Some(current), Some(new)) => current.tout < new.tout,
            _ => false,
        };
        if newer {
            self.keys.swap(0, 1);
        }
        key
    }
}

/// The requests to tlsmgr a server needs (the client side of Postfix's `tls_mgr.c`).
/// Each returns None or false when tlsmgr could not be asked or said no.
pub trait TlsManager: Send + Sync {
    /// `policy`: whether the cache type is kept, and the session timeout.
    fn policy(&self, cache_type: &str) -> Option<(bool, i64)>;
    /// `tktkey`: the current key (`name` None) or the key of that name.
    fn key(&self, name: Option<&[u8]>) -> Option<TicketKey>;
    /// `lookup`: the session saved under `id`.
    fn lookup(&self, cache_type: &str, id: &str) -> Option<Vec<u8>>;
    /// `update`: saves a session under `id`.
    fn update(&self, cache_type: &str, id: &str, session: &[u8]) -> bool;
    /// `delete`: removes the session under `id`.
    fn delete(&self, cache_type: &str, id: &str) -> bool;
}

/// Resumption for one server process, set up once from tlsmgr's policy
/// (`tls_server_init()`).
pub struct Resumption {
    manager: Arc<dyn TlsManager>,
    /// The session cache timeout tlsmgr reported; tickets use it too.
    timeout: i64,
    /// Whether tickets are issued (tls_session_ticket_cipher set, timeout positive).
    tickets: bool,
    /// The cache type when tlsmgr keeps a cache of it (`smtpd`).
    cache_type: Option<String>,
    /// The server's identity in cache ids (`&s=`): the master.cf service name.
    serverid: String,
    /// The keys fetched so far (Postfix keeps them per process, too).
    ring: Mutex<KeyRing>,
}

impl fmt::Debug for Resumption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resumption")
            .field("timeout", &self.timeout)
            .field("tickets", &self.tickets)
            .field("cache_type", &self.cache_type)
            .field("serverid", &self.serverid)
            .finish()
    }
}

/// Whether `name` is a cipher Postfix accepts for tls_session_ticket_cipher: CBC mode
/// with a 16-byte IV and a key of 16 to 32 bytes. ironpost seals with AES-256-GCM
/// whatever the name; the value still decides whether tickets are on.
fn ticket_cipher_ok(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "aes-128-cbc" | "aes-192-cbc" | "aes-256-cbc" | "camellia-128-cbc" | "camellia-256-cbc"
    )
}

impl Resumption {
    /// Asks tlsmgr for the policy of `cache_type` and decides what to offer; None when
    /// neither tickets nor a cache are possible (tlsmgr unreachable, timeout 0, no
    /// ticket cipher and no cache database). `ticket_cipher` is
    /// tls_session_ticket_cipher; a bad value is warned about, as Postfix does.
    pub fn new(
        manager: Arc<dyn TlsManager>,
        cache_type: &str,
        ticket_cipher: &str,
        serverid: &str,
        log: crate::LogFn<'_>,
    ) -> Option<Resumption> {
        let (cachable, timeout) = manager.policy(cache_type).unwrap_or((false, 0));
        let cachable = cachable && timeout > 0;
        let mut tickets = !ticket_cipher.is_empty() && timeout > 0;
        if tickets && !ticket_cipher_ok(ticket_cipher) {
            log(
                log::Severity::Warning,
                &format!(
                    "tls_session_ticket_cipher: invalid value: {ticket_cipher}; session tickets disabled"
                ),
            );
            tickets = false;
        }
        if !cachable && !tickets {
            return None;
        }
        Some(Resumption {
            manager,
            timeout,
            tickets,
            cache_type: cachable.then(|| cache_type.to_string()),
            serverid: serverid.to_string(),
            ring: Mutex::new(KeyRing::default()),
        })
    }

    /// Whether tlsmgr keeps a session cache for this server.
    pub fn caches(&self) -> bool {
        self.cache_type.is_some()
    }

    /// Whether tickets are issued.
    pub fn tickets(&self) -> bool {
        self.tickets
    }

    /// A ticket key from the ring, or else from tlsmgr (`tls_mgr_key()`).
    fn key(&self, name: Option<&[u8]>) -> Option<TicketKey> {
        let now = now();
        let mut ring = lock(&self.ring);
        if let Some(key) = ring.find(name, now, self.timeout) {
            return Some(key.clone());
        }
        let key = self.manager.key(name)?;
        Some(ring.rotate(key))
    }

    /// The cache id of a session id (`GEN_CACHE_ID`).
    fn cache_id(&self, sid: &[u8]) -> String {
        format!("{}&s={}&l={LIBRARY}", hex(sid), self.serverid)
    }

    /// The ticket producer and session store for one handshake with `peer`.
    pub(crate) fn session(self: &Arc<Self>, peer: &str) -> Session {
        Session {
            res: self.clone(),
            peer: peer.to_string(),
            events: Arc::new(Mutex::new(Events::default())),
        }
    }
}

/// What happened during one handshake, for the log and for what is saved after it.
#[derive(Debug, Default)]
struct Events {
    /// Log lines (TLS_LOG_CACHE), in order.
    lines: Vec<String>,
    /// A ticket was sealed or a ticket's key found (Postfix's `ticketed`).
    ticketed: bool,
    /// A ticket opened: the session resumes from it and no new ticket is issued, as
    /// Postfix's ticket callback asks of OpenSSL.
    opened: bool,
    /// The state sealed into the ticket issued, if any.
    issued: Option<Vec<u8>>,
    /// The session rustls asked to store, saved (or not) once the handshake is over.
    pending: Option<(Vec<u8>, Vec<u8>)>,
}

/// One handshake's view of resumption; [`Session::tickets`] and [`Session::store`]
/// go into the rustls configuration, [`Session::finish`] runs after the handshake.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    res: Arc<Resumption>,
    peer: String,
    events: Arc<Mutex<Events>>,
}

impl Session {
    /// The ticket producer, when tickets are on.
    pub(crate) fn tickets(&self) -> Option<Arc<dyn rustls::server::ProducesTickets>> {
        self.res
            .tickets
            .then(|| Arc::new(self.clone()) as Arc<dyn rustls::server::ProducesTickets>)
    }

    /// The session store, when tlsmgr keeps a cache.
    pub(crate) fn store(&self) -> Option<Arc<dyn rustls::server::StoresServerSessions>> {
        self.res
            .caches()
            .then(|| Arc::new(self.clone()) as Arc<dyn rustls::server::StoresServerSessions>)
    }

    fn events(&self) -> MutexGuard<'_, Events> {
        lock(&self.events)
    }

    /// Saves a session to tlsmgr's cache with Postfix's log line.
    fn save(&self, events: &mut Events, sid: &[u8], session: &[u8]) {
        let Some(cache_type) = &self.res.cache_type else {
            return;
        };
        let id = self.res.cache_id(sid);
        events.lines.push(format!(
            "{}: save session {id} to {cache_type} cache",
            self.peer
        ));
        self.res.manager.update(cache_type, &id, session);
    }

    /// Loads a session from tlsmgr's cache with Postfix's log lines.
    fn load(&self, sid: &[u8]) -> Option<Vec<u8>> {
        let cache_type = self.res.cache_type.as_ref()?;
        let id = self.res.cache_id(sid);
        let peer = &self.peer;
        self.events().lines.push(format!(
            "{peer}: looking up session {id} in {cache_type} cache"
        ));
        let session = self.res.manager.lookup(cache_type, &id)?;
        self.events().lines.push(format!(
            "{peer}: reloaded session {id} from {cache_type} cache"
        ));
        Some(session)
    }

    /// After the handshake: saves the new session as Postfix's OpenSSL would, and
    /// returns the log lines (TLS_LOG_CACHE) with "Reusing old session" last when the
    /// session was resumed. OpenSSL hands each full handshake's session to the cache,
    /// except a TLS 1.2 one that got a ticket (it then has no session id); for TLS 1.3
    /// the session sealed into the ticket is saved under a random id, which nothing
    /// looks up, as OpenSSL does.
    pub(crate) fn finish(&self, tls13: bool, resumed: bool) -> Vec<String> {
        let mut events = std::mem::take(&mut *self.events());
        if !resumed {
            let issued = events.issued.take();
            match (tls13, issued, events.pending.take()) {
                (true, Some(plain), _) => {
                    let mut sid = [0u8; 32];
                    if SystemRandom::new().fill(&mut sid).is_ok() {
                        self.save(&mut events, &sid, &plain);
                    }
                }
                // TLS 1.3 without tickets (rustls's stateful tickets), or TLS 1.2 for
                // a client without tickets.
                (_, None, Some((sid, session))) => {
                    self.save(&mut events, &sid, &session);
                }
                _ => {}
            }
        } else {
            let how = if events.ticketed {
                " (RFC 5077 session ticket)"
            } else {
                ""
            };
            events
                .lines
                .push(format!("{}: Reusing old session{how}", self.peer));
        }
        events.lines
    }

    /// The log lines so far, for a handshake that failed.
    pub(crate) fn abandon(&self) -> Vec<String> {
        std::mem::take(&mut self.events().lines)
    }
}

impl rustls::server::ProducesTickets for Session {
    fn enabled(&self) -> bool {
        // Once a ticket opened, no new one: rustls then leaves the TLS 1.2 ticket
        // extension out, and asks the store for TLS 1.3, which declines.
        !self.events().opened
    }

    /// The ticket lifetime hint: the session lifetime, twice the cache timeout, as
    /// Postfix sets OpenSSL's (within TLS 1.3's limit of seven days).
    fn lifetime(&self) -> u32 {
        u32::try_from((2 * self.res.timeout).clamp(0, 604_800)).unwrap_or(0)
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        if self.events().opened {
            return None;
        }
        let key = self.res.key(None)?;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).ok()?;
        let sealer = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key.bits).ok()?);
        let mut sealed = plain.to_vec();
        sealer
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&key.name),
                &mut sealed,
            )
            .ok()?;
        let mut ticket = Vec::with_capacity(NAME_LEN + NONCE_LEN + sealed.len());
        ticket.extend_from_slice(&key.name);
        ticket.extend_from_slice(&nonce);
        ticket.extend_from_slice(&sealed);
        let mut events = self.events();
        events.lines.push(format!(
            "{}: Issuing session ticket, key expiration: {}",
            self.peer, key.tout
        ));
        events.ticketed = true;
        events.issued = Some(plain.to_vec());
        Some(ticket)
    }

    fn decrypt(&self, ticket: &[u8]) -> Option<Vec<u8>> {
        if ticket.len() < NAME_LEN + NONCE_LEN + AES_256_GCM.tag_len() {
            return None;
        }
        let (name, rest) = ticket.split_at(NAME_LEN);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let key = self.res.key(Some(name))?;
        {
            let mut events = self.events();
            events.lines.push(format!(
                "{}: Decrypting session ticket, key expiration: {}",
                self.peer, key.tout
            ));
            events.ticketed = true;
        }
        let opener = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key.bits).ok()?);
        let mut buf = sealed.to_vec();
        let plain = opener
            .open_in_place(
                Nonce::try_assume_unique_for_key(nonce).ok()?,
                Aad::from(&key.name),
                &mut buf,
            )
            .ok()?
            .to_vec();
        self.events().opened = true;
        Some(plain)
    }
}

impl rustls::server::StoresServerSessions for Session {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        // After a ticket opened, rustls asks to store a TLS 1.3 session in place of
        // the ticket it may not issue: there is nothing new to keep.
        let mut events = self.events();
        if events.opened {
            return false;
        }
        events.pending = Some((key, value));
        true
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.load(key)
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        // TLS 1.3 without tickets: each stored session resumes once.
        let session = self.load(key)?;
        if let Some(cache_type) = &self.res.cache_type {
            self.res.manager.delete(cache_type, &self.res.cache_id(key));
        }
        Some(session)
    }

    fn can_cache(&self) -> bool {
        true
    }
}

/// Upper-case hex, as Postfix's `hex_encode()`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::server::{ProducesTickets, StoresServerSessions};
    use std::collections::HashMap;

    /// tlsmgr in memory: keys made as tlsmgr makes them, a map for the cache.
    #[derive(Default)]
    struct FakeManager {
        ring: Mutex<KeyRing>,
        cache: Mutex<HashMap<String, Vec<u8>>>,
        requests: Mutex<Vec<String>>,
    }

    impl TlsManager for FakeManager {
        fn policy(&self, _cache_type: &str) -> Option<(bool, i64)> {
            Some((true, 3600))
        }
        fn key(&self, name: Option<&[u8]>) -> Option<TicketKey> {
            lock(&self.requests).push("tktkey".into());
            let mut ring = lock(&self.ring);
            if let Some(k) = ring.find(name, now(), 1800) {
                return Some(k.clone());
            }
            name.is_none()
                .then(|| ring.rotate(TicketKey::generate(now(), 1800).unwrap()))
        }
        fn lookup(&self, _: &str, id: &str) -> Option<Vec<u8>> {
            lock(&self.cache).get(id).cloned()
        }
        fn update(&self, _: &str, id: &str, session: &[u8]) -> bool {
            lock(&self.cache).insert(id.into(), session.to_vec());
            true
        }
        fn delete(&self, _: &str, id: &str) -> bool {
            lock(&self.cache).remove(id).is_some()
        }
    }

    fn resumption(manager: &Arc<FakeManager>, cipher: &str) -> Option<Arc<Resumption>> {
        let mut lines = Vec::new();
        let res = Resumption::new(manager.clone(), "smtpd", cipher, "smtp", &mut |_, l| {
            lines.push(l.to_string())
        });
        assert!(lines.is_empty() || cipher == "rot13", "{lines:?}");
        res.map(Arc::new)
    }

    #[test]
    fn keybuf_round_trip_has_postfix_layout() {
        let key = TicketKey::generate(1000, 1800).unwrap();
        let buf = key.to_keybuf();
        assert_eq!(buf.len(), 88);
        assert_eq!(&buf[..16], &key.name);
        assert_eq!(&buf[80..], &2799i64.to_le_bytes());
        assert_eq!(TicketKey::from_keybuf(&buf), Some(key));
        assert_eq!(TicketKey::from_keybuf(&buf[..87]), None);
    }

    #[test]
    fn ring_rotates_and_keeps_the_previous_key_for_opening() {
        let mut ring = KeyRing::default();
        let old = ring.rotate(TicketKey::generate(1000, 100).unwrap());
        assert_eq!(ring.find(None, 1050, 100), Some(&old));
        // Expired for sealing, still good for opening until tout + timeout.
        assert_eq!(ring.find(None, 1100, 100), None);
        let new = ring.rotate(TicketKey::generate(1100, 100).unwrap());
        assert_eq!(ring.find(None, 1100, 100), Some(&new));
        assert_eq!(ring.find(Some(&old.name), 1150, 100), Some(&old));
        assert_eq!(ring.find(Some(&old.name), 1199, 100), None);
        // An older key arriving late does not displace the current one.
        ring.rotate(TicketKey::generate(900, 100).unwrap());
        assert_eq!(ring.find(None, 1100, 100), Some(&new));
    }

    #[test]
    fn a_ticket_opens_in_another_process_with_the_same_keys() {
        let manager = Arc::new(FakeManager::default());
        let first = resumption(&manager, "aes-256-cbc")
            .unwrap()
            .session("p[1.2.3.4]");
        let ticket = first.encrypt(b"state").unwrap();
        assert!(!ticket.windows(5).any(|w| w == b"state"));
        let lines = first.finish(false, false);
        assert!(lines[0].starts_with("p[1.2.3.4]: Issuing session ticket, key expiration: "));
        assert_eq!(lines.len(), 1, "{lines:?}");
        // Another smtpd: a ring of its own, the key from "tlsmgr".
        let second = resumption(&manager, "aes-256-cbc")
            .unwrap()
            .session("p[1.2.3.4]");
        assert_eq!(second.decrypt(&ticket).as_deref(), Some(&b"state"[..]));
        // No new ticket after one opened.
        assert_eq!(second.encrypt(b"state"), None);
        let lines = second.finish(true, true);
        assert!(lines[0].contains(": Decrypting session ticket, key expiration: "));
        assert_eq!(
            lines[1],
            "p[1.2.3.4]: Reusing old session (RFC 5077 session ticket)"
        );
        // A tampered ticket does not open.
        let mut bad = ticket;
        *bad.last_mut().unwrap() ^= 1;
        let third = resumption(&manager, "aes-256-cbc").unwrap().session("p");
        assert_eq!(third.decrypt(&bad), None);
    }

    #[test]
    fn tls12_sessions_without_tickets_go_through_the_cache() {
        let manager = Arc::new(FakeManager::default());
        let res = resumption(&manager, "").unwrap();
        assert!(!res.tickets() && res.caches());
        let first = res.session("p");
        assert!(first.put(vec![0xab, 0x01], b"s1".to_vec()));
        let lines = first.finish(false, false);
        assert_eq!(
            lines,
            ["p: save session AB01&s=smtp&l=rustls-0.23 to smtpd cache"]
        );
        let second = res.session("p");
        assert_eq!(second.get(&[0xab, 0x01]).as_deref(), Some(&b"s1"[..]));
        assert_eq!(
            second.finish(false, true),
            [
                "p: looking up session AB01&s=smtp&l=rustls-0.23 in smtpd cache",
                "p: reloaded session AB01&s=smtp&l=rustls-0.23 from smtpd cache",
                "p: Reusing old session",
            ]
        );
        // TLS 1.3 stateful tickets resume once.
        let third = res.session("p");
        assert!(third.take(&[0xab, 0x01]).is_some());
        assert!(res.session("p").take(&[0xab, 0x01]).is_none());
    }

    #[test]
    fn a_tls12_session_with_a_ticket_is_not_cached_but_a_tls13_one_is() {
        let manager = Arc::new(FakeManager::default());
        let res = resumption(&manager, "aes-256-cbc").unwrap();
        let tls12 = res.session("p");
        assert!(tls12.put(vec![1], b"s".to_vec()));
        tls12.encrypt(b"s").unwrap();
        let lines = tls12.finish(false, false);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lock(&manager.cache).is_empty());
        let tls13 = res.session("p");
        tls13.encrypt(b"s").unwrap();
        let lines = tls13.finish(true, false);
        assert!(lines[1].starts_with("p: save session ") && lines[1].ends_with(" to smtpd cache"));
        assert_eq!(lock(&manager.cache).len(), 1);
    }

    #[test]
    fn nothing_without_timeout_and_a_bad_cipher_is_warned() {
        struct Off;
        impl TlsManager for Off {
            fn policy(&self, _: &str) -> Option<(bool, i64)> {
                None
            }
            fn key(&self, _: Option<&[u8]>) -> Option<TicketKey> {
                None
            }
            fn lookup(&self, _: &str, _: &str) -> Option<Vec<u8>> {
                None
            }
            fn update(&self, _: &str, _: &str, _: &[u8]) -> bool {
                false
            }
            fn delete(&self, _: &str, _: &str) -> bool {
                false
            }
        }
        let none = Resumption::new(Arc::new(Off), "smtpd", "aes-256-cbc", "s", &mut |_, _| {});
        assert!(none.is_none());
        let mut lines = Vec::new();
        let manager = Arc::new(FakeManager::default());
        let res = Resumption::new(manager, "smtpd", "rot13", "s", &mut |_, l| {
            lines.push(l.to_string())
        });
        assert!(res.is_some_and(|r| !r.tickets() && r.caches()));
        assert_eq!(
            lines,
            ["tls_session_ticket_cipher: invalid value: rot13; session tickets disabled"]
        );
    }
}
