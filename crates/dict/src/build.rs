//! Writing indexed tables: what `postmap` and `postalias` build, add to and delete from.
//!
//! Postfix counterparts: `global/mkmap_*.c` and the update and delete halves of
//! `util/dict_db.c`, `dict_lmdb.c` and `dict_cdb.c`. Entries are collected first, with the
//! duplicate-key policy applied as they arrive, then written in one go: cdb into a new file
//! renamed into place, lmdb in one transaction, hash under an exclusive lock. lmdb and hash
//! store keys and values with a terminating null byte, cdb without, as Postfix does.

use crate::{DictError, Duplicates, Flags, Nul};
use std::collections::HashMap;

/// The indexed file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `cdb:name` → `name.cdb`.
    Cdb,
    /// `lmdb:name` → `name.lmdb`.
    #[cfg(feature = "lmdb")]
    Lmdb,
    /// `hash:name` → `name.db` (Berkeley DB).
    #[cfg(feature = "berkeley-db")]
    Hash,
    /// `btree:name` → `name.db` (Berkeley DB).
    #[cfg(feature = "berkeley-db")]
    Btree,
}

impl Format {
    /// The format of a table type, if it is an indexed one this build can write.
    pub fn of(kind: &str) -> Option<Format> {
        match kind {
            "cdb" => Some(Format::Cdb),
            #[cfg(feature = "lmdb")]
            "lmdb" => Some(Format::Lmdb),
            #[cfg(feature = "berkeley-db")]
            "hash" => Some(Format::Hash),
            #[cfg(feature = "berkeley-db")]
            "btree" => Some(Format::Btree),
            _ => None,
        }
    }

    /// How warnings name the table: Postfix's writers each do it their own way.
    fn label(self, name: &str) -> String {
        match self {
            Format::Cdb => name.to_string(),
            #[cfg(feature = "lmdb")]
            Format::Lmdb => format!("lmdb:{name}"),
            #[cfg(feature = "berkeley-db")]
            Format::Hash | Format::Btree => format!("{name}.db"),
        }
    }
}

/// The error for a table type that cannot be written: read-only types say so as Postfix
/// does, unknown ones are unsupported.
pub fn not_writable(kind: &str, name: &str) -> DictError {
    if crate::TYPES.contains(&kind) {
        DictError::Config(format!("{kind}:{name} map requires O_RDONLY access mode"))
    } else {
        DictError::Config(format!("unsupported dictionary type: {kind}"))
    }
}

/// Whether entries replace the file's content or are added to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Start from an empty table (`postmap file`).
    Rebuild,
    /// Add to the existing table (`postmap -i`).
    Insert,
}

/// Entries on their way into an indexed table.
pub struct Builder {
    format: Format,
    name: String,
    mode: Mode,
    duplicates: Duplicates,
    /// Whether entries get a terminating null byte.
    nul: bool,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
}

/// One entry on its way into a file.
pub(crate) struct Entry {
    /// The key, already folded as the table wants it.
    pub key: String,
    /// The value.
    pub value: String,
    /// Stored with a terminating null byte (lmdb and hash by default, `-N`); the NIS
    /// signatures postalias writes go without.
    pub null: bool,
    /// Replaces what the file already has, whatever the duplicate policy.
    pub replace: bool,
}

impl Entry {
    /// The key bytes as the file stores them (with the null byte `-N` or the format asks
    /// for).
    pub(crate) fn key_bytes(&self) -> Vec<u8> {
        stored(&self.key, self.null)
    }

    /// The value bytes as the file stores them.
    pub(crate) fn value_bytes(&self) -> Vec<u8> {
        stored(&self.value, self.null)
    }
}

fn stored(text: &str, null: bool) -> Vec<u8> {
    if null {
        with_null(text)
    } else {
        text.as_bytes().to_vec()
    }
}

impl Builder {
    /// A builder for `kind:name`.
    pub fn new(kind: &str, name: &str, mode: Mode, flags: Flags) -> Result<Builder, DictError> {
        let format = Format::of(kind).ok_or_else(|| not_writable(kind, name))?;
        if format == Format::Cdb && mode == Mode::Insert {
            return Err(cdb_cannot_update());
        }
        Ok(Builder {
            format,
            name: name.to_string(),
            mode,
            duplicates: flags.duplicates,
            nul: match flags.nul {
                Nul::Default => format != Format::Cdb,
                Nul::Always => true,
                Nul::Never => false,
            },
            entries: Vec::new(),
            index: HashMap::new(),
        })
    }

    /// Adds an entry (the key already folded as the table wants it).
    pub fn add(&mut self, key: &str, value: &str) {
        match self.index.get(key) {
            Some(&i) => match self.duplicates {
                Duplicates::Ignore => {}
                Duplicates::Replace => self.entries[i].value = value.to_string(),
                Duplicates::Warn => self.warn_duplicate(key),
            },
            None => self.push(key, value, self.nul, false),
        }
    }

    /// Adds or replaces a signature entry (postalias's `@` and NIS entries): it always
    /// replaces an older one, and `null` says whether lmdb and hash files store it with a
    /// terminating null byte.
    pub fn add_signature(&mut self, key: &str, value: &str, null: bool) {
        match self.index.get(key) {
            Some(&i) => {
                self.entries[i].value = value.to_string();
                self.entries[i].null = null;
                self.entries[i].replace = true;
            }
            None => self.push(key, value, null, true),
        }
    }

    fn push(&mut self, key: &str, value: &str, null: bool, replace: bool) {
        self.index.insert(key.to_string(), self.entries.len());
        self.entries.push(Entry {
            key: key.to_string(),
            value: value.to_string(),
            null,
            replace,
        });
    }

    fn warn_duplicate(&self, key: &str) {
        log::msg_warn!(
            "{}: duplicate entry: \"{key}\"",
            self.format.label(&self.name)
        );
    }

    /// Writes the entries out.
    pub fn finish(self) -> Result<(), DictError> {
        match self.format {
            Format::Cdb => crate::cdb::write(&self.name, &self.entries),
            #[cfg(feature = "lmdb")]
            Format::Lmdb => crate::lmdb::write(&self),
            #[cfg(feature = "berkeley-db")]
            Format::Hash => crate::berkeley::write("hash", &self),
            #[cfg(feature = "berkeley-db")]
            Format::Btree => crate::berkeley::write("btree", &self),
        }
    }

    /// The table's name (the file name without suffix).
    #[cfg_attr(not(any(feature = "lmdb", feature = "berkeley-db")), allow(dead_code))]
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The entries, in the order they came.
    #[cfg_attr(not(any(feature = "lmdb", feature = "berkeley-db")), allow(dead_code))]
    pub(crate) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Whether the table starts from nothing.
    #[cfg_attr(not(any(feature = "lmdb", feature = "berkeley-db")), allow(dead_code))]
    pub(crate) fn rebuild(&self) -> bool {
        self.mode == Mode::Rebuild
    }

    /// Whether an entry replaces one already in the file.
    #[cfg_attr(not(any(feature = "lmdb", feature = "berkeley-db")), allow(dead_code))]
    pub(crate) fn replace(&self) -> bool {
        self.duplicates == Duplicates::Replace
    }

    /// A key already in the file (insert mode) was left alone: the duplicate policy speaks.
    #[cfg_attr(not(any(feature = "lmdb", feature = "berkeley-db")), allow(dead_code))]
    pub(crate) fn kept(&self, key: &str) {
        if self.duplicates == Duplicates::Warn {
            self.warn_duplicate(key);
        }
    }
}

fn cdb_cannot_update() -> DictError {
    DictError::Config(
        "dict_cdb_open: inappropriate open flags for cdb database - specify O_RDONLY or \
         O_WRONLY|O_CREAT|O_TRUNC"
            .into(),
    )
}

/// Deletes `keys` (already folded) from `kind:name`, each with and without a null byte;
/// true when something was deleted.
#[cfg_attr(
    not(any(feature = "lmdb", feature = "berkeley-db")),
    allow(unused_variables)
)]
pub fn delete(kind: &str, name: &str, keys: &[String]) -> Result<bool, DictError> {
    match Format::of(kind).ok_or_else(|| not_writable(kind, name))? {
        Format::Cdb => Err(cdb_cannot_update()),
        #[cfg(feature = "lmdb")]
        Format::Lmdb => crate::lmdb::delete(name, keys),
        #[cfg(feature = "berkeley-db")]
        Format::Hash => crate::berkeley::delete("hash", name, keys),
        #[cfg(feature = "berkeley-db")]
        Format::Btree => crate::berkeley::delete("btree", name, keys),
    }
}

/// A key or value as lmdb and hash files store it: with a terminating null byte.
pub(crate) fn with_null(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(0);
    bytes
}

/// Stored bytes as text, without the terminating null byte if there is one.
pub(crate) fn text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_suffix(b"\0").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

/// The entries of an indexed file as text, for listing.
#[cfg(any(feature = "lmdb", feature = "berkeley-db"))]
pub(crate) fn texts(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<(String, String)> {
    entries.iter().map(|(k, v)| (text(k), text(v))).collect()
}

/// Looks `key` up with a terminating null byte and then without, so files written by
/// either convention answer, as Postfix's DICT_FLAG_TRY1NULL/TRY0NULL do; `-N` and `-n`
/// restrict the lookup to one form.
pub(crate) fn find_either<E>(
    key: &str,
    nul: Nul,
    mut find: impl FnMut(&[u8]) -> Result<Option<Vec<u8>>, E>,
) -> Result<Option<String>, E> {
    if nul != Nul::Never
        && let Some(value) = find(&with_null(key))?
    {
        return Ok(Some(text(&value)));
    }
    if nul == Nul::Always {
        return Ok(None);
    }
    Ok(find(key.as_bytes())?.map(|v| text(&v)))
}

/// Postfix's warning for an indexed file older than its source, which usually means
/// someone edited the source and forgot to run postmap. Sources changed in the last 100
/// seconds are left alone: a rebuild may be under way.
pub(crate) fn warn_if_stale(db_path: &str, source: &str) {
    let modified = |path: &str| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let (Some(db), Some(src)) = (modified(db_path), modified(source)) else {
        return;
    };
    let seconds = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    };
    let now = seconds(std::time::SystemTime::now());
    if seconds(src) > seconds(db) && seconds(src) + 100 < now {
        log::msg_warn!("database {db_path} is older than source file {source}");
    }
}
