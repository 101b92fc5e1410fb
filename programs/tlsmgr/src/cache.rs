//! One TLS session cache: a table of sessions by cache id, each stamped with the time it
//! was saved, expired after the cache timeout.
//!
//! Postfix counterpart: `tls/tls_scache.c` (the tlsmgr side: `tls_scache_open()`,
//! `tls_scache_lookup()`, `tls_scache_update()`, `tls_scache_delete()`,
//! `tls_scache_sequence()`). An entry is stored as Postfix stores it: upper-case hex of
//! the 8-byte native `time_t` save time followed by the session bytes, so the file
//! reads the same with either system's tools. The table is emptied when the cache is
//! opened (Postfix opens it with O_TRUNC, so a damaged file never survives a restart),
//! and reopened for each access, as the verify cache is, so each lookup sees the last
//! update.

use dict::build::{Builder, Mode};
use dict::{DictError, Flags};

/// Postfix's `offsetof(TLS_SCACHE_ENTRY, session)`: the time stamp before the session.
const STAMP_LEN: usize = 8;

/// An open session cache.
pub struct Cache {
    /// `smtpd`, `smtp` or `lmtp`.
    pub label: &'static str,
    /// The table, `type:name`.
    spec: String,
    kind: String,
    name: String,
    /// Seconds an entry stays usable.
    pub timeout: i64,
    /// Log each operation (the cache's TLS log level has TLS_LOG_CACHE).
    verbose: bool,
    /// The cache ids a cleanup run still has to examine.
    walk: Vec<String>,
}

impl Cache {
    /// Opens `spec` emptied (`tls_scache_open()`).
    pub fn open(
        spec: &str,
        label: &'static str,
        verbose: bool,
        timeout: i64,
    ) -> Result<Cache, DictError> {
        if verbose {
            log::msg_info!("open {label} TLS cache {spec}");
        }
        let (kind, name) = spec.split_once(':').ok_or_else(|| {
            DictError::Config(format!(
                "open dictionary: expecting \"type:name\" form instead of \"{spec}\""
            ))
        })?;
        Builder::new(kind, name, Mode::Rebuild, Flags::cache())?.finish()?;
        Ok(Cache {
            label,
            spec: spec.to_string(),
            kind: kind.to_string(),
            name: name.to_string(),
            timeout,
            verbose,
            walk: Vec::new(),
        })
    }

    fn get(&self, id: &str) -> Option<String> {
        match dict::open(&self.spec, Flags::cache()).and_then(|d| d.lookup(id)) {
            Ok(value) => value,
            Err(e) => {
                log::msg_warn!("{} TLS cache: {e}", self.label);
                None
            }
        }
    }

    /// The session saved under `id`, unless it expired or is damaged, in which case the
    /// entry goes (`tls_scache_lookup()`).
    pub fn lookup(&mut self, id: &str, now: i64) -> Option<Vec<u8>> {
        if self.verbose {
            log::msg_info!("lookup {} session id={id}", self.label);
        }
        let hex = self.get(id)?;
        let session = self.decode(id, &hex, now);
        if session.is_none() {
            self.delete(id);
        }
        session
    }

    /// Saves `session` under `id` (`tls_scache_update()`).
    pub fn update(&mut self, id: &str, session: &[u8], now: i64) -> bool {
        let label = self.label;
        if self.verbose {
            log::msg_info!("put {label} session id={id} [data {} bytes]", session.len());
            log::msg_info!(
                "write {label} TLS cache entry {id}: time={now} [data {} bytes]",
                session.len()
            );
        }
        let mut entry = now.to_ne_bytes().to_vec();
        entry.extend_from_slice(session);
        let stored =
            Builder::new(&self.kind, &self.name, Mode::Insert, Flags::cache()).and_then(|mut b| {
                b.add(id, &hex(&entry));
                b.finish()
            });
        match stored {
            Ok(()) => true,
            Err(e) => {
                log::msg_warn!("{label} TLS cache: {e}");
                false
            }
        }
    }

    /// Removes the session under `id` (`tls_scache_delete()`); true when it was there.
    pub fn delete(&mut self, id: &str) -> bool {
        if self.verbose {
            log::msg_info!("delete {} session id={id}", self.label);
        }
        dict::build::delete(&self.kind, &self.name, &[id.to_string()]).unwrap_or(false)
    }

    /// The session in a stored entry, or None (with Postfix's warning) when the entry is
    /// damaged or expired (`tls_scache_decode()`).
    fn decode(&self, id: &str, hex: &str, now: i64) -> Option<Vec<u8>> {
        let label = self.label;
        let shown: String = hex.chars().take(100).collect();
        if hex.len() < 2 * STAMP_LEN {
            log::msg_warn!("{label} TLS cache: truncated entry for {id}: {shown}");
            return None;
        }
        let Some(bytes) = unhex(hex) else {
            log::msg_warn!("{label} TLS cache: malformed entry for {id}: {shown}");
            return None;
        };
        let (stamp, session) = bytes.split_at(STAMP_LEN);
        let stamp = i64::from_ne_bytes(stamp.try_into().ok()?);
        if self.verbose {
            log::msg_info!(
                "read {label} TLS cache entry {id}: time={stamp} [data {} bytes]",
                session.len()
            );
        }
        (stamp + self.timeout >= now).then(|| session.to_vec())
    }

    /// Starts a cleanup run over every entry (`tlsmgr_cache_run_event()`), unless one
    /// is going.
    pub fn start_cleanup(&mut self) {
        if self.verbose {
            log::msg_info!(
                "tlsmgr_cache_run_event: start TLS {} session cache cleanup",
                self.label
            );
        }
        if !self.walk.is_empty() {
            return;
        }
        match dict::open(&self.spec, Flags::cache()).and_then(|d| d.entries()) {
            Ok(entries) => {
                // Walked from the end of the list: the first key is examined first.
                self.walk = entries
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, _)| k)
                    .rev()
                    .collect();
            }
            Err(e) => log::msg_warn!("{} TLS cache: {e}", self.label),
        }
    }

    /// Examines the next entry of a cleanup run and removes it when expired or damaged
    /// (`tls_scache_sequence()`); false when the run is over.
    pub fn cleanup_step(&mut self, now: i64) -> bool {
        let Some(id) = self.walk.pop() else {
            return false;
        };
        if let Some(hex) = self.get(&id)
            && self.decode(&id, &hex, now).is_none()
        {
            self.delete(&id);
        }
        !self.walk.is_empty()
    }
}

/// Upper-case hex, as Postfix's `hex_encode()`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Hex in either case, with the colons Postfix's decoder allows between bytes.
fn unhex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|&b| b != b':').collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tlsmgr-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn entries_are_postfix_hex_and_expire() {
        let dir = scratch("expire");
        let spec = format!("lmdb:{}/scache", dir.display());
        let mut cache = Cache::open(&spec, "smtpd", false, 120).unwrap();
        assert!(cache.update("ABCD&s=smtp&l=x", b"session", 1000));
        let stored = cache.get("ABCD&s=smtp&l=x").unwrap();
        // 1000 as a little-endian time_t, then the bytes.
        assert_eq!(stored, "E80300000000000073657373696F6E");
        assert_eq!(
            cache.lookup("ABCD&s=smtp&l=x", 1120).as_deref(),
            Some(&b"session"[..])
        );
        assert_eq!(cache.lookup("ABCD&s=smtp&l=x", 1121), None);
        // The expired entry went.
        assert_eq!(cache.get("ABCD&s=smtp&l=x"), None);
        // A cleanup run removes expired and damaged entries only.
        cache.update("old", b"a", 100);
        cache.update("new", b"b", 1000);
        Builder::new(
            "lmdb",
            &format!("{}/scache", dir.display()),
            Mode::Insert,
            Flags::cache(),
        )
        .map(|mut b| {
            b.add("bad", "XYZ");
            b.finish().unwrap()
        })
        .unwrap();
        cache.start_cleanup();
        while cache.cleanup_step(1000) {}
        assert!(cache.get("new").is_some());
        assert!(cache.get("old").is_none() && cache.get("bad").is_none());
        // Reopening empties the table.
        let cache = Cache::open(&spec, "smtpd", false, 120).unwrap();
        assert!(cache.get("new").is_none());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn hex_accepts_colons_and_rejects_odd_lengths() {
        assert_eq!(unhex("0a:FF"), Some(vec![10, 255]));
        assert_eq!(unhex("0aF"), None);
        assert_eq!(hex(&[10, 255]), "0AFF");
    }
}
