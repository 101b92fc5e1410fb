//! `lmdb:` tables: files Postfix's own postmap reads and writes.
//!
//! Postfix counterpart: `util/dict_lmdb.c`. `lmdb:name` is the file `name.lmdb`, opened
//! without LMDB's lock file and locked with fcntl (shared while looking up, exclusive while
//! writing), so Postfix's programs and ours can share one file. Keys and values carry a
//! terminating null byte; lookups also try the key without one.

use crate::build::{Builder, find_either, texts, warn_if_stale, with_null};
use crate::{Dict, DictError, Flags};
use std::path::Path;
use sys::RecordLock;
use sys::lmdb::Env;

/// Postfix's default lmdb_map_size; writes grow the map when it fills up.
const MAP_SIZE: usize = 16 * 1024 * 1024;

/// An lmdb table opened for lookups.
pub struct Lmdb {
    spec: String,
    env: Env,
    flags: Flags,
}

fn path_of(name: &str) -> String {
    format!("{name}.lmdb")
}

fn open_env(name: &str, read_only: bool) -> Result<Env, DictError> {
    let path = path_of(name);
    Env::open(Path::new(&path), read_only, MAP_SIZE, 0o644)
        .map_err(|e| DictError::Open(format!("open database {path}: {e}")))
}

/// Runs `work` holding a whole-file fcntl lock of the given kind.
fn locked<T>(
    env: &Env,
    name: &str,
    lock: RecordLock,
    work: impl FnOnce() -> Result<T, DictError>,
) -> Result<T, DictError> {
    let path = path_of(name);
    let fd = env
        .fd()
        .map_err(|e| DictError::Retry(format!("{path}: {e}")))?;
    sys::fcntl_lock(fd, lock)
        .map_err(|e| DictError::Retry(format!("{path}: lock dictionary: {}", sys::os_error(&e))))?;
    let result = work();
    let _ = sys::fcntl_lock(fd, RecordLock::Unlock);
    result
}

impl Lmdb {
    /// Opens `name.lmdb` for lookups.
    pub fn open(name: &str, flags: Flags) -> Result<Lmdb, DictError> {
        let env = open_env(name, true)?;
        warn_if_stale(&path_of(name), name);
        Ok(Lmdb {
            spec: format!("lmdb:{name}"),
            env,
            flags,
        })
    }

    fn name(&self) -> &str {
        &self.spec["lmdb:".len()..]
    }

    fn read_error(&self, e: sys::lmdb::Error) -> DictError {
        DictError::Retry(format!("error reading {}: {e}", path_of(self.name())))
    }
}

impl Dict for Lmdb {
    fn impl_flags(&self) -> u32 {
        crate::dict_flags::FIXED | crate::dict_flags::MULTI_WRITER
    }

    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, DictError> {
        let key = self.flags.fold(key);
        locked(&self.env, self.name(), RecordLock::Shared, || {
            find_either(&key, self.flags.nul, |k| self.env.get(k)).map_err(|e| self.read_error(e))
        })
    }

    fn entries(&self) -> Result<Option<Vec<(String, String)>>, DictError> {
        let entries = locked(&self.env, self.name(), RecordLock::Shared, || {
            self.env.entries().map_err(|e| self.read_error(e))
        })?;
        Ok(Some(texts(&entries)))
    }
}

/// Runs a write on `name.lmdb` holding an exclusive lock, which keeps readers out while
/// the transaction replaces their pages.
fn exclusively<T>(
    name: &str,
    work: impl FnOnce(&mut Env) -> Result<T, sys::lmdb::Error>,
) -> Result<T, DictError> {
    let mut env = open_env(name, false)?;
    let fail = |text: String| DictError::Open(format!("{}: {text}", path_of(name)));
    let fd = env.fd().map_err(|e| fail(e.to_string()))?;
    sys::fcntl_lock(fd, RecordLock::Exclusive)
        .map_err(|e| fail(format!("lock dictionary: {}", sys::os_error(&e))))?;
    let result = work(&mut env);
    if let Ok(fd) = env.fd() {
        let _ = sys::fcntl_lock(fd, RecordLock::Unlock);
    }
    result.map_err(|e| fail(e.to_string()))
}

/// Writes entries into `name.lmdb` in one transaction, emptying it first when rebuilding.
/// Keys already in the file that were left alone go to the duplicate policy.
pub(crate) fn write(builder: &Builder) -> Result<(), DictError> {
    let (name, entries, replace) = (builder.name(), builder.entries(), builder.replace());
    let existing = exclusively(name, |env| {
        env.write(|txn| {
            let mut existing = Vec::new();
            if builder.rebuild() {
                txn.clear()?;
            }
            for entry in entries {
                if !txn.put(
                    &entry.key_bytes(),
                    &entry.value_bytes(),
                    replace || entry.replace,
                )? {
                    existing.push(entry.key.as_str());
                }
            }
            Ok(existing)
        })
    })?;
    existing.into_iter().for_each(|key| builder.kept(key));
    Ok(())
}

/// Deletes keys from `name.lmdb`; true when any was there.
pub(crate) fn delete(name: &str, keys: &[String]) -> Result<bool, DictError> {
    exclusively(name, |env| {
        env.write(|txn| {
            let mut any = false;
            for key in keys {
                any |= txn.delete(&with_null(key))? | txn.delete(key.as_bytes())?;
            }
            Ok(any)
        })
    })
}
