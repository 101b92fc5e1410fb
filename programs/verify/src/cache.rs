//! The address verification cache: entries, their expiry, and the cleanup runs.
//!
//! Postfix counterparts: the table half of `verify/verify.c` (`verify_make_entry`,
//! `verify_parse_entry`, `verify_cache_validator`), `util/dict_cache.c` (the cleanup run
//! and its completion stamp) and `global/data_redirect.c`. Each address maps to
//! `status:probed:updated:text`: a `DEL_RCPT_STAT_*` status, when the outstanding probe
//! was sent (0: none), when the result came (0: nothing known yet) and the delivery
//! agent's text. The table is any type crates/dict can write (btree, hash, lmdb), opened
//! afresh for each access so that a lookup always sees the last update; with an empty
//! address_verify_map the entries live in the process's memory.

use dict::build::{Builder, Mode};
use dict::{DictError, Flags};
use global::deliver_request::{DEL_RCPT_STAT_BOUNCE, DEL_RCPT_STAT_DEFER, DEL_RCPT_STAT_OK};
use global::verify_clnt::DEL_RCPT_STAT_TODO;
use std::collections::{BTreeMap, BTreeSet};

/// The key under which a completed cleanup run leaves its time (Postfix's
/// `DC_LAST_CACHE_CLEANUP_COMPLETED`); it is never an address.
pub const LAST_CLEANUP: &str = "_LAST_CACHE_CLEANUP_COMPLETED_";

/// A probe unanswered this long is taken for lost (Postfix's `PROBE_TTL`).
pub const PROBE_TTL: i64 = 1000;

/// One parsed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `DEL_RCPT_STAT_*`.
    pub status: i32,
    /// When the outstanding probe was sent; 0 for none.
    pub probed: i64,
    /// When the result came; 0 when nothing is known yet.
    pub updated: i64,
    /// The reason text.
    pub text: String,
}

impl Entry {
    /// The stored form, `status:probed:updated:text`.
    pub fn format(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.status, self.probed, self.updated, self.text
        )
    }

    /// Parses a stored value; a malformed one is logged with what Postfix shows of it
    /// (the text before the first colon) and is None.
    pub fn parse(raw: &str) -> Option<Entry> {
        // Postfix's alldig(): an empty field counts as digits (and as 0).
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let mut parts = raw.splitn(4, ':');
        let fields = (parts.next(), parts.next(), parts.next(), parts.next());
        if let (Some(status), Some(probed), Some(updated), Some(text)) = fields
            && digits(status)
            && digits(probed)
            && digits(updated)
        {
            let entry = Entry {
                status: status.parse().unwrap_or(-1),
                probed: probed.parse().unwrap_or(0),
                updated: updated.parse().unwrap_or(0),
                text: text.to_string(),
            };
            let known = [
                DEL_RCPT_STAT_OK,
                DEL_RCPT_STAT_DEFER,
                DEL_RCPT_STAT_BOUNCE,
                DEL_RCPT_STAT_TODO,
            ];
            if known.contains(&entry.status) && (entry.probed != 0 || entry.updated != 0) {
                return Some(entry);
            }
        }
        let shown: String = raw
            .split(':')
            .next()
            .unwrap_or("")
            .chars()
            .take(100)
            .collect();
        log::msg_warn!("bad address verify table entry: {shown}");
        None
    }
}

/// The expiry and refresh times, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Times {
    /// address_verify_positive_expire_time.
    pub pos_expire: i64,
    /// address_verify_positive_refresh_time.
    pub pos_refresh: i64,
    /// address_verify_negative_expire_time.
    pub neg_expire: i64,
    /// address_verify_negative_refresh_time.
    pub neg_refresh: i64,
}

impl Times {
    /// Whether the entry's result is too old to be given.
    pub fn expired(&self, e: &Entry, now: i64) -> bool {
        if e.status == DEL_RCPT_STAT_OK {
            e.updated + self.pos_expire < now
        } else {
            e.updated + self.neg_expire < now
        }
    }

    /// Whether the entry's result is old enough for a new probe.
    pub fn refresh_needed(&self, e: &Entry, now: i64) -> bool {
        if e.status == DEL_RCPT_STAT_OK {
            e.updated + self.pos_refresh < now
        } else {
            e.updated + self.neg_refresh < now
        }
    }

    /// Whether a cleanup run keeps the entry (`verify_cache_validator`): well formed,
    /// and a probe in flight or a result that has not expired.
    pub fn keep(&self, raw: &str, now: i64) -> bool {
        Entry::parse(raw).is_some_and(|e| now - e.probed < PROBE_TTL || !self.expired(&e, now))
    }
}

/// Where the entries are.
pub enum Store {
    /// An updatable table file: `kind:name` for crates/dict.
    Table { kind: String, name: String },
    /// The process's memory (an empty address_verify_map).
    Memory(BTreeMap<String, String>),
}

impl Store {
    /// The store for `type:name` (already redirected); the file is created when missing.
    pub fn open(spec: &str) -> Result<Store, DictError> {
        if spec.is_empty() {
            return Ok(Store::Memory(BTreeMap::new()));
        }
        let (kind, name) = spec.split_once(':').ok_or_else(|| {
            DictError::Config(format!(
                "open dictionary: expecting \"type:name\" form instead of \"{spec}\""
            ))
        })?;
        // A missing file is created empty; an existing one is left as it is.
        if dict::try_open(spec, Flags::cache()).is_err() {
            Builder::new(kind, name, Mode::Rebuild, Flags::cache())?.finish()?;
        }
        dict::open(spec, Flags::cache())?;
        Ok(Store::Table {
            kind: kind.to_string(),
            name: name.to_string(),
        })
    }

    fn spec(kind: &str, name: &str) -> String {
        format!("{kind}:{name}")
    }

    /// The stored value for `key`.
    pub fn get(&self, key: &str) -> Result<Option<String>, DictError> {
        match self {
            Store::Memory(map) => Ok(map.get(key).cloned()),
            Store::Table { kind, name } => {
                dict::open(&Store::spec(kind, name), Flags::cache())?.lookup(key)
            }
        }
    }

    /// Stores `value` under `key`, replacing what was there.
    pub fn put(&mut self, key: &str, value: &str) -> Result<(), DictError> {
        match self {
            Store::Memory(map) => {
                map.insert(key.to_string(), value.to_string());
                Ok(())
            }
            Store::Table { kind, name } => {
                let mut builder = Builder::new(kind, name, Mode::Insert, Flags::cache())?;
                builder.add(key, value);
                builder.finish()
            }
        }
    }

    /// Removes `key`.
    pub fn delete(&mut self, key: &str) -> Result<(), DictError> {
        match self {
            Store::Memory(map) => {
                map.remove(key);
                Ok(())
            }
            Store::Table { kind, name } => {
                dict::build::delete(kind, name, &[key.to_string()]).map(|_| ())
            }
        }
    }

    /// Every entry but the cleanup stamp.
    pub fn entries(&self) -> Result<Vec<(String, String)>, DictError> {
        let all = match self {
            Store::Memory(map) => map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Store::Table { kind, name } => dict::open(&Store::spec(kind, name), Flags::cache())?
                .entries()?
                .unwrap_or_default(),
        };
        Ok(all.into_iter().filter(|(k, _)| k != LAST_CLEANUP).collect())
    }
}

/// A cleanup run in progress: one entry is examined at a time, between requests, as
/// Postfix's `dict_cache_clean_event` does, in key order; keys the service writes ahead
/// of the walk's position are walked too, as a table cursor would find them.
#[derive(Debug, Default)]
pub struct Walk {
    /// The keys still to examine.
    pending: BTreeSet<String>,
    /// The last key examined.
    cursor: Option<String>,
    /// Entries kept so far.
    pub retained: usize,
    /// Entries removed so far.
    pub dropped: usize,
}

/// What one step of a walk did.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// An entry was examined; more may follow.
    Going,
    /// The walk is over (the completion time is recorded).
    Done,
    /// The table failed; the walk stops (Postfix's "partial" run).
    Failed,
}

impl Walk {
    /// A walk over what `store` holds now.
    pub fn start(store: &Store) -> Result<Walk, DictError> {
        Ok(Walk {
            pending: store.entries()?.into_iter().map(|(k, _)| k).collect(),
            ..Walk::default()
        })
    }

    /// The service wrote `key`: walk it too if the walk has not passed it.
    pub fn written(&mut self, key: &str) {
        if key != LAST_CLEANUP && self.cursor.as_deref().is_none_or(|c| key > c) {
            self.pending.insert(key.to_string());
        }
    }

    /// The service deleted `key`.
    pub fn deleted(&mut self, key: &str) {
        self.pending.remove(key);
    }

    /// Examines the next entry: keeps it or removes it, per `times` at `now`.
    pub fn step(&mut self, store: &mut Store, times: &Times, now: i64) -> Step {
        let Some(key) = self.pending.pop_first() else {
            let _ = store.put(LAST_CLEANUP, &now.to_string());
            return Step::Done;
        };
        let value = match store.get(&key) {
            Ok(Some(value)) => value,
            Ok(None) => return Step::Going,
            Err(_) => return Step::Failed,
        };
        if times.keep(&value, now) {
            self.retained += 1;
        } else if store.delete(&key).is_ok() {
            self.dropped += 1;
        } else {
            return Step::Failed;
        }
        self.cursor = Some(key);
        Step::Going
    }
}

/// Seconds until the next cleanup run: `interval` after the last completed one, now if
/// there was none or it is overdue, never more than `interval` (`dict_cache_control`).
pub fn next_cleanup(store: &Store, interval: i64, now: i64) -> i64 {
    let last = store
        .get(LAST_CLEANUP)
        .ok()
        .flatten()
        .and_then(|t| t.trim().parse::<i64>().ok());
    match last {
        Some(last) => (last + interval - now).clamp(0, interval),
        None => 0,
    }
}

/// The table an update goes to: a file type whose directory does not belong to the mail
/// owner is redirected into data_directory, with Postfix's two warnings
/// (`data_redirect_map`).
pub fn data_redirect_map(spec: &str, owner_uid: u32, owner: &str, data_dir: &str) -> String {
    let Some((kind, path)) = spec.split_once(':') else {
        return spec.to_string();
    };
    const FILE_TYPES: &[&str] = &["hash", "btree", "dbm", "lmdb", "cdb", "sdbm"];
    if !FILE_TYPES.contains(&kind) {
        return spec.to_string();
    }
    let dir = match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => ".",
    };
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(dir) {
        Ok(meta) if meta.uid() != owner_uid => {
            log::msg_warn!("request to update table {spec} in non-{owner} directory {dir}");
            log::msg_warn!("redirecting the request to {owner}-owned data_directory {data_dir}");
            let base = path.rsplit('/').next().unwrap_or(path);
            format!("{kind}:{data_dir}/{base}")
        }
        _ => spec.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMES: Times = Times {
        pos_expire: 31 * 86400,
        pos_refresh: 7 * 86400,
        neg_expire: 3 * 86400,
        neg_refresh: 3 * 3600,
    };

    #[test]
    fn entries_round_trip_and_bad_ones_are_refused() {
        let e = Entry {
            status: 2,
            probed: 0,
            updated: 1700000000,
            text: "host x said: 550 5.1.1 no: such user".into(),
        };
        assert_eq!(
            e.format(),
            "2:0:1700000000:host x said: 550 5.1.1 no: such user"
        );
        assert_eq!(Entry::parse(&e.format()), Some(e));
        for bad in ["", "0:0:0:text", "9:1:1:x", "a:1:1:x", "1:1", "1:-1:5:x"] {
            assert_eq!(Entry::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn expiry_and_refresh_follow_the_status() {
        let now = 10_000_000;
        let ok = |age| Entry {
            status: DEL_RCPT_STAT_OK,
            probed: 0,
            updated: now - age,
            text: String::new(),
        };
        let bad = |age| Entry {
            status: DEL_RCPT_STAT_BOUNCE,
            ..ok(age)
        };
        assert!(!TIMES.refresh_needed(&ok(7 * 86400), now));
        assert!(TIMES.refresh_needed(&ok(7 * 86400 + 1), now));
        assert!(!TIMES.expired(&ok(31 * 86400), now));
        assert!(TIMES.expired(&ok(31 * 86400 + 1), now));
        assert!(TIMES.refresh_needed(&bad(3 * 3600 + 1), now));
        assert!(TIMES.expired(&bad(3 * 86400 + 1), now));
        // A probe in flight keeps even an expired entry through a cleanup run.
        let mut flying = bad(4 * 86400);
        flying.probed = now - 10;
        assert!(TIMES.keep(&flying.format(), now));
        flying.probed = now - PROBE_TTL;
        assert!(!TIMES.keep(&flying.format(), now));
    }

    /// Runs a walk to its end; the steps it took.
    fn walk_all(walk: &mut Walk, store: &mut Store, now: i64) -> usize {
        let mut steps = 1;
        while walk.step(store, &TIMES, now) == Step::Going {
            steps += 1;
        }
        steps
    }

    #[test]
    fn cleanup_drops_expired_entries_and_stamps_the_run() {
        let now = 10_000_000;
        let mut store = Store::open("").unwrap();
        assert_eq!(next_cleanup(&store, 3600, now), 0);
        store
            .put("fresh@x", &format!("0:0:{}:ok", now - 10))
            .unwrap();
        store
            .put("old@x", &format!("2:0:{}:no", now - 4 * 86400))
            .unwrap();
        store.put("junk@x", "junk").unwrap();
        let mut walk = Walk::start(&store).unwrap();
        assert_eq!(walk_all(&mut walk, &mut store, now), 4);
        assert_eq!((walk.retained, walk.dropped), (1, 2));
        assert_eq!(store.entries().unwrap().len(), 1);
        assert_eq!(next_cleanup(&store, 3600, now + 600), 3000);
        assert_eq!(next_cleanup(&store, 3600, now + 7200), 0);
    }

    #[test]
    fn a_walk_sees_what_is_written_ahead_of_it_only() {
        let now = 10_000_000;
        let fresh = format!("0:0:{}:ok", now - 10);
        let mut store = Store::open("").unwrap();
        store.put("m@x", &fresh).unwrap();
        let mut walk = Walk::start(&store).unwrap();
        assert_eq!(walk.step(&mut store, &TIMES, now), Step::Going);
        // Behind the cursor: a cursor would not come back for it.
        store.put("a@x", &fresh).unwrap();
        walk.written("a@x");
        // Ahead of it: found.
        store.put("z@x", &fresh).unwrap();
        walk.written("z@x");
        assert_eq!(walk_all(&mut walk, &mut store, now), 2);
        assert_eq!((walk.retained, walk.dropped), (2, 0));
        // A key deleted ahead of the walk is not counted.
        let mut walk = Walk::start(&store).unwrap();
        walk.deleted("z@x");
        store.delete("z@x").unwrap();
        walk_all(&mut walk, &mut store, now);
        assert_eq!((walk.retained, walk.dropped), (2, 0));
    }

    #[test]
    fn indexed_tables_are_created_and_updated_in_place() {
        let dir = std::env::temp_dir().join(format!("verify-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for kind in ["btree", "hash", "lmdb"] {
            let spec = format!("{kind}:{}/verify_cache_{kind}", dir.display());
            let mut store = Store::open(&spec).unwrap();
            assert_eq!(store.get("a@x").unwrap(), None, "{kind}");
            store.put("a@x", "0:0:5:one").unwrap();
            store.put("a@x", "0:0:6:two").unwrap();
            store.put("B@x", "2:0:6:three").unwrap();
            assert_eq!(
                store.get("a@x").unwrap().as_deref(),
                Some("0:0:6:two"),
                "{kind}"
            );
            // Keys are not folded: Postfix's verify table is case-sensitive.
            assert_eq!(store.get("b@x").unwrap(), None, "{kind}");
            store.delete("a@x").unwrap();
            assert_eq!(
                store.entries().unwrap(),
                vec![("B@x".into(), "2:0:6:three".into())],
                "{kind}"
            );
            // Opening again keeps the entries.
            let again = Store::open(&spec).unwrap();
            assert_eq!(
                again.get("B@x").unwrap().as_deref(),
                Some("2:0:6:three"),
                "{kind}"
            );
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn tables_outside_postfix_directories_move_to_data_directory() {
        let me = sys::geteuid();
        assert_eq!(
            data_redirect_map("btree:/no/such/dir/cache", me + 1, "postfix", "/d"),
            "btree:/no/such/dir/cache"
        );
        let tmp = std::env::temp_dir().display().to_string();
        let owner = std::fs::metadata(&tmp).map(|m| std::os::unix::fs::MetadataExt::uid(&m));
        let other = owner.unwrap() + 1;
        assert_eq!(
            data_redirect_map(&format!("lmdb:{tmp}/cache"), other, "postfix", "/d"),
            "lmdb:/d/cache"
        );
        assert_eq!(
            data_redirect_map("internal:x", other, "postfix", "/d"),
            "internal:x"
        );
    }
}
