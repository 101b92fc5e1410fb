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

use crate::build::{Entry, find_either, warn_if_stale};
use crate::{Dict, DictError, Flags};

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
        let data = std::fs::read(&path)
            .map_err(|e| DictError::Open(format!("open database {path}: {}", sys::os_error(&e))))?;
        if data.len() < 2048 {
            return Err(DictError::Open(format!(
                "open database {path}: file too short"
            )));
        }
        warn_if_stale(&path, name);
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

impl Dict for Cdb {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, DictError> {
        find_either(&self.flags.fold(key), self.flags.nul, |k| self.find(k))
    }
}

/// Writes `name.cdb` from entries: into `name.cdb.tmp`, synced, then renamed into place.
pub(crate) fn write(name: &str, entries: &[Entry]) -> Result<(), DictError> {
    let path = format!("{name}.cdb");
    let fail = |e: std::io::Error| DictError::Open(format!("{path}: {}", sys::os_error(&e)));
    // With -N the keys and values carry a null byte, as Postfix's postmap -N writes them.
    let records: Vec<(Vec<u8>, Vec<u8>)> = entries
        .iter()
        .map(|e| (e.key_bytes(), e.value_bytes()))
        .collect();
    let image = image(records.iter().map(|(k, v)| (k.as_slice(), v.as_slice())))
        .ok_or_else(|| DictError::Open(format!("{path}: table too large")))?;
    let tmp = format!("{path}.tmp");
    let file = std::fs::File::create(&tmp).map_err(fail)?;
    std::io::Write::write_all(&mut &file, &image).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    // A network file system may report a write error only at close.
    sys::close(file.into()).map_err(fail)?;
    std::fs::rename(&tmp, &path).map_err(fail)
}

/// The bytes of a cdb file holding `records`; None when it would pass 4 GiB.
fn image<'a>(records: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> Option<Vec<u8>> {
    let mut out = vec![0u8; 2048];
    let mut buckets: Vec<Vec<(u32, u32)>> = vec![Vec::new(); 256];
    for (key, value) in records {
        let position = u32::try_from(out.len()).ok()?;
        out.extend_from_slice(&u32::try_from(key.len()).ok()?.to_le_bytes());
        out.extend_from_slice(&u32::try_from(value.len()).ok()?.to_le_bytes());
        out.extend_from_slice(key);
        out.extend_from_slice(value);
        let h = hash(key);
        buckets[(h & 255) as usize].push((h, position));
    }
    for (i, bucket) in buckets.iter().enumerate() {
        let slots = bucket.len() * 2;
        let table_at = u32::try_from(out.len()).ok()?;
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
    u32::try_from(out.len()).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read() {
        let dir = std::env::temp_dir().join(format!("cdb-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let name = dir.join("table").display().to_string();
        let entries: Vec<Entry> = (0..1000)
            .map(|i| Entry {
                key: format!("key{i}"),
                value: format!("value {i}"),
                null: false,
                replace: false,
            })
            .collect();
        write(&name, &entries).unwrap();
        let cdb = Cdb::open(&name, Flags::default()).unwrap();
        assert_eq!(cdb.lookup("key7").unwrap().as_deref(), Some("value 7"));
        assert_eq!(cdb.lookup("KEY999").unwrap().as_deref(), Some("value 999"));
        assert_eq!(cdb.lookup("nokey").unwrap(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
