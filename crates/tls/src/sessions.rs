//! The SMTP client's TLS session cache in memory, keyed by Postfix's server id.
//!
//! Postfix counterpart: the client half of `tls/tls_client.c` that looks sessions up
//! and saves them (`load_clnt_session()`, `new_client_session_cb()`) with the lookup key
//! of `tls_client_start()` (the caller's serverid plus `&p=` protocols and `&c=` cipher
//! list, so that a session is never offered under other settings). Postfix keeps them
//! in tlsmgr's cache file; rustls cannot export a client session, so ironpost keeps them
//! in the memory of one long-lived process: tlsproxy, which every smtp process can use.
//!
//! rustls keys its store by the SNI name, which is "invalid" or a shared MX name for
//! many servers; [`ServerIdStore`] stands one connection's server id in for whatever
//! name rustls asks with.

use std::sync::Arc;

use rustls::NamedGroup;
use rustls::client::{ClientSessionMemoryCache, ClientSessionStore};
use rustls::client::{Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::pki_types::{DnsName, ServerName};

/// How many servers a process remembers sessions for (rustls evicts the oldest).
const CAPACITY: usize = 1024;

/// The sessions of one process, shared by all its connections.
#[derive(Debug, Clone)]
pub struct SessionCache {
    inner: Arc<ClientSessionMemoryCache>,
}

impl Default for SessionCache {
    fn default() -> SessionCache {
        SessionCache {
            inner: Arc::new(ClientSessionMemoryCache::new(CAPACITY)),
        }
    }
}

impl SessionCache {
    /// The store of one connection: every lookup and save goes under `key` (the
    /// server id with the protocol and cipher parts, see [`lookup_key`]).
    pub fn for_server(&self, key: &str) -> Arc<ServerIdStore> {
        Arc::new(ServerIdStore {
            inner: self.inner.clone(),
            name: key_name(key),
        })
    }
}

/// `tls_client_start()`'s cache key: the caller's server id, the protocols and the
/// cipher list; a session made under other settings is not offered.
pub fn lookup_key(serverid: &str, protocols: &str, cipher_list: &str) -> String {
    format!("{serverid}&p={protocols}&c={cipher_list}")
}

/// A valid DNS name standing for `key` (a digest: server ids have `:`, `&`, `[`).
fn key_name(key: &str) -> ServerName<'static> {
    let digest = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    let hex: String = digest.as_ref()[..24]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let name = DnsName::try_from(format!("s{hex}.invalid")).expect("a valid DNS name");
    ServerName::DnsName(name)
}

/// One connection's view of the [`SessionCache`].
#[derive(Debug)]
pub struct ServerIdStore {
    inner: Arc<ClientSessionMemoryCache>,
    name: ServerName<'static>,
}

impl ClientSessionStore for ServerIdStore {
    fn set_kx_hint(&self, _server_name: ServerName<'static>, group: NamedGroup) {
        self.inner.set_kx_hint(self.name.clone(), group);
    }

    fn kx_hint(&self, _server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.inner.kx_hint(&self.name)
    }

    fn set_tls12_session(&self, _server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.inner.set_tls12_session(self.name.clone(), value);
    }

    fn tls12_session(&self, _server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.inner.tls12_session(&self.name)
    }

    fn remove_tls12_session(&self, _server_name: &ServerName<'static>) {
        self.inner.remove_tls12_session(&self.name);
    }

    fn insert_tls13_ticket(
        &self,
        _server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.inner.insert_tls13_ticket(self.name.clone(), value);
    }

    fn take_tls13_ticket(
        &self,
        _server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        self.inner.take_tls13_ticket(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_server_and_settings() {
        let a = key_name(&lookup_key("smtp:127.0.0.1:25:mx", "!SSLv2", "HIGH"));
        let b = key_name(&lookup_key("smtp:127.0.0.1:26:mx", "!SSLv2", "HIGH"));
        let c = key_name(&lookup_key("smtp:127.0.0.1:25:mx", "!SSLv2", "MEDIUM"));
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            a,
            key_name(&lookup_key("smtp:127.0.0.1:25:mx", "!SSLv2", "HIGH"))
        );
    }
}
