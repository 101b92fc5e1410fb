//! `cdb:` tables: D. J. Bernstein's constant database, in the layout Postfix writes.
//!
//! Postfix counterpart: `util/dict_cdb.c` (with tinycdb). `cdb:name` is the file
//! `name.cdb`. Postfix writes keys and values without a terminating null byte; on lookup it
//! tries the key with and without one, so files from older writers work too. As in
//! Postfix 3.7, a cdb table cannot be listed (`postmap -s`). Built tables
//! are written to `name.cdb.tmp` and renamed into place, so a reader never sees half a file.
//!
//! Format: a 2048-byte header of 256 (position, slot count) pairs, the records
//! (key length, value length, key, value), then 256 hash tables of (hash, position) slots.
//! All numbers are 32-bit little-endian; the hash is `h = h * 33 ^ byte` from 5381.

use crate::{Dict, DictError, Duplicates, Flags, source};
use std::collections::HashMap;

/// The cdb hash.
fn hash(key: &[u8]) -> u32 {
    key.iter()
        .fold(5381u32, |h, &b| (h << 5).wrapping_add(h) ^ u32::from(b))
}

fn word(data: &[u8], at: usize) -> Option<u32> {
    data.get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// A cdb table opened for lookups.
pub struct Cdb {
    spec: String,
    data: Vec<u8>,
    flags: Flags,
}

impl Cdb {
    /// Reads `name.cdb`.
    pub fn open(name: &str, flags: Flags) -> Result<Cdb, DictError> {
        let path = format!("{name}.cdb");
        let data = std::fs::read(&path).map_err(|e| {
            DictError::Open(format!("open database {path}: {}", source::os_error(&e)))
        })?;
        if data.len() < 2048 {
            return Err(DictError::Open(format!(
                "open database {path}: file too short"
            )));
        }
        Ok(Cdb {
            spec: format!("cdb:{name}.cdb"),
            data,
            flags,
        })
    }

    /// The value stored under exactly these key bytes.
    fn find(&self, key: &[u8]) -> Result<Option<Vec<u8>>, DictError> {
        let broken = || DictError::Retry(format!("error reading {}: bad cdb format", self.spec));
        let h = hash(key);
        let table = (h & 255) as usize * 8;
        let position = word(&self.data, table).ok_or_else(broken)? as usize;
        let slots = word(&self.data, table + 4).ok_or_else(broken)? as usize;
        if slots == 0 {
            return Ok(None);
        }
        let start = (h >> 8) as usize % slots;
        for i in 0..slots {
            let slot = position + ((start + i) % slots) * 8;
            let slot_hash = word(&self.data, slot).ok_or_else(broken)?;
            let record = word(&self.data, slot + 4).ok_or_else(broken)? as usize;
            if record == 0 {
                return Ok(None);
            }
            if slot_hash != h {
                continue;
            }
            let klen = word(&self.data, record).ok_or_else(broken)? as usize;
            let vlen = word(&self.data, record + 4).ok_or_else(broken)? as usize;
            let body = record + 8;
            let stored = self.data.get(body..body + klen).ok_or_else(broken)?;
            if stored == key {
                let value = self
                    .data
                    .get(body + klen..body + klen + vlen)
                    .ok_or_else(broken)?;
                return Ok(Some(value.to_vec()));
            }
        }
        Ok(None)
    }
}

fn text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_suffix(b"\0").unwrap_or(bytes);
    String::from_utf8_lossy(bytes).into_owned()
}

impl Dict for Cdb {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, DictError> {
        let key = self.flags.fold(key);
        let mut with_null = key.clone().into_bytes();
        with_null.push(0);
        if let Some(value) = self.find(&with_null)? {
            return Ok(Some(text(&value)));
        }
        Ok(self.find(key.as_bytes())?.map(|v| text(&v)))
    }
}

/// Builds a cdb file from entries added one by one.
pub struct CdbWriter {
    name: String,
    records: Vec<(Vec<u8>, Vec<u8>)>,
    index: HashMap<Vec<u8>, usize>,
    duplicates: Duplicates,
}

impl CdbWriter {
    /// A writer for `name.cdb`.
    pub fn new(name: &str, duplicates: Duplicates) -> CdbWriter {
        CdbWriter {
            name: name.to_string(),
            records: Vec::new(),
            index: HashMap::new(),
            duplicates,
        }
    }

    /// Adds an entry, applying the duplicate policy (with Postfix's warning).
    pub fn add(&mut self, key: &str, value: &str) {
        let k = key.as_bytes().to_vec();
        match self.index.get(&k) {
            Some(&i) => match self.duplicates {
                Duplicates::Ignore => {}
                Duplicates::Replace => self.records[i].1 = value.as_bytes().to_vec(),
                Duplicates::Warn => log::msg_warn!("{}: duplicate entry: \"{key}\"", self.name),
            },
            None => {
                self.index.insert(k.clone(), self.records.len());
                self.records.push((k, value.as_bytes().to_vec()));
            }
        }
    }

    /// Writes `name.cdb.tmp`, syncs it and renames it to `name.cdb`.
    pub fn finish(self) -> std::io::Result<()> {
        let mut out = vec![0u8; 2048];
        let mut buckets: Vec<Vec<(u32, u32)>> = vec![Vec::new(); 256];
        for (key, value) in &self.records {
            let position = out.len() as u32;
            out.extend_from_slice(&(key.len() as u32).to_le_bytes());
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
            out.extend_from_slice(key);
            out.extend_from_slice(value);
            let h = hash(key);
            buckets[(h & 255) as usize].push((h, position));
        }
        for (i, bucket) in buckets.iter().enumerate() {
            let slots = bucket.len() * 2;
            let table_at = out.len() as u32;
            let mut table = vec![(0u32, 0u32); slots];
            for &(h, position) in bucket {
                let mut slot = (h >> 8) as usize % slots;
                while table[slot].1 != 0 {
                    slot = (slot + 1) % slots;
                }
                table[slot] = (h, position);
            }
            for (h, position) in table {
                out.extend_from_slice(&h.to_le_bytes());
                out.extend_from_slice(&position.to_le_bytes());
            }
            out[i * 8..i * 8 + 4].copy_from_slice(&table_at.to_le_bytes());
            out[i * 8 + 4..i * 8 + 8].copy_from_slice(&(slots as u32).to_le_bytes());
        }
        let path = format!("{}.cdb", self.name);
        let tmp = format!("{path}.tmp");
        let file = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut &file, &out)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read() {
        let dir = std::env::temp_dir().join(format!("cdb-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let name = dir.join("table").display().to_string();
        let mut writer = CdbWriter::new(&name, Duplicates::Warn);
        for i in 0..1000 {
            writer.add(&format!("key{i}"), &format!("value {i}"));
        }
        writer.finish().unwrap();
        let cdb = Cdb::open(&name, Flags::default()).unwrap();
        assert_eq!(cdb.lookup("key7").unwrap().as_deref(), Some("value 7"));
        assert_eq!(cdb.lookup("KEY999").unwrap().as_deref(), Some("value 999"));
        assert_eq!(cdb.lookup("nokey").unwrap(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
