//! `hash:` and `btree:` tables: Berkeley DB files; hash is Debian's default table type.
//!
//! Postfix counterpart: `util/dict_db.c`. `hash:name` and `btree:name` are the file
//! `name.db`, the same file Postfix's postmap and postalias write, so an existing
//! `/etc/aliases.db` or `transport.db` keeps working and either side can rebuild it.
//! Readers take a shared flock on the file for each lookup, writers an exclusive one, as
//! Postfix does. Keys and values carry a terminating null byte; lookups also try the key
//! without one.

use crate::build::{Builder, find_either, texts, warn_if_stale, with_null};
use crate::{Dict, DictError, Flags};
use std::fs::File;
use std::path::Path;
use sys::db185::{BerkeleyFile, Kind, Mode};

/// A hash or btree table opened for lookups.
pub struct Berkeley {
    spec: String,
    db_path: String,
    db: BerkeleyFile,
    lock: File,
    flags: Flags,
}

fn open_error(db_path: &str, e: &std::io::Error) -> DictError {
    DictError::Open(format!("open database {db_path}: {}", sys::os_error(e)))
}

/// The access method of a table type.
fn kind_of(table_type: &str) -> Kind {
    if table_type == "btree" {
        Kind::Btree
    } else {
        Kind::Hash
    }
}

impl Berkeley {
    /// Opens `name.db` (`table_type` is `hash` or `btree`) for lookups.
    pub fn open(table_type: &str, name: &str, flags: Flags) -> Result<Berkeley, DictError> {
        let db_path = format!("{name}.db");
        let lock = File::open(&db_path).map_err(|e| open_error(&db_path, &e))?;
        let db = BerkeleyFile::open(Path::new(&db_path), kind_of(table_type), Mode::Read, 0)
            .map_err(|e| open_error(&db_path, &e))?;
        warn_if_stale(&db_path, name);
        Ok(Berkeley {
            spec: format!("{table_type}:{name}"),
            db_path,
            db,
            lock,
            flags,
        })
    }

    /// Runs `work` under a shared lock.
    fn shared<T>(&self, work: impl FnOnce() -> std::io::Result<T>) -> Result<T, DictError> {
        let fail = |e: std::io::Error| {
            DictError::Retry(format!(
                "error reading {}: {}",
                self.db_path,
                sys::os_error(&e)
            ))
        };
        self.lock.lock_shared().map_err(fail)?;
        let result = work();
        let _ = self.lock.unlock();
        result.map_err(fail)
    }
}

impl Dict for Berkeley {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, DictError> {
        let key = self.flags.fold(key);
        self.shared(|| find_either(&key, self.flags.nul, |k| self.db.get(k)))
    }

    fn entries(&self) -> Result<Option<Vec<(String, String)>>, DictError> {
        let entries = self.shared(|| self.db.entries())?;
        Ok(Some(texts(&entries)))
    }
}

/// Opens `name.db` for writing under an exclusive lock, taken before the file is emptied so
/// that no reader sees it half built.
fn exclusively<T>(
    table_type: &str,
    name: &str,
    mode: Mode,
    work: impl FnOnce(&mut BerkeleyFile) -> std::io::Result<T>,
) -> Result<T, DictError> {
    let db_path = format!("{name}.db");
    let fail = |e: std::io::Error| DictError::Open(format!("{db_path}: {}", sys::os_error(&e)));
    let lock = match mode {
        Mode::Rebuild => File::options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&db_path),
        Mode::Read | Mode::Update => File::open(&db_path),
    }
    .map_err(|e| open_error(&db_path, &e))?;
    lock.lock().map_err(fail)?;
    let mut db = BerkeleyFile::open(Path::new(&db_path), kind_of(table_type), mode, 0o644)
        .map_err(|e| open_error(&db_path, &e))?;
    let result = work(&mut db).and_then(|value| db.sync().map(|()| value));
    // Closing flushes the file; only then may readers in.
    drop(db);
    let _ = lock.unlock();
    result.map_err(fail)
}

/// Writes entries into `name.db`, replacing its content when rebuilding. Keys already in
/// the file that were left alone go to the duplicate policy.
pub(crate) fn write(table_type: &str, builder: &Builder) -> Result<(), DictError> {
    let (name, entries, replace) = (builder.name(), builder.entries(), builder.replace());
    let mode = if builder.rebuild() {
        Mode::Rebuild
    } else {
        Mode::Update
    };
    exclusively(table_type, name, mode, |db| {
        for entry in entries {
            if !db.put(
                &entry.key_bytes(),
                &entry.value_bytes(),
                replace || entry.replace,
            )? {
                builder.kept(&entry.key);
            }
        }
        Ok(())
    })
}

/// Deletes keys from `name.db`; true when any was there.
pub(crate) fn delete(table_type: &str, name: &str, keys: &[String]) -> Result<bool, DictError> {
    exclusively(table_type, name, Mode::Update, |db| {
        let mut any = false;
        for key in keys {
            any |= db.delete(&with_null(key))? | db.delete(key.as_bytes())?;
        }
        Ok(any)
    })
}
