//! Fuzz target: cdb: files (crates/dict/src/cdb.rs) read from arbitrary bytes. A corrupt
//! file opens or fails to open, and lookups answer Ok or Err: never a panic, an
//! out-of-bounds read or an endless probe. Besides the fixed keys, the keys of the first
//! records (as a writer lays them out after the 2048-byte header) are looked up, so that
//! lookups reach records and values.
#![no_main]

use dict::{Duplicates, Flags};
use libfuzzer_sys::fuzz_target;

#[path = "../support/table.rs"]
mod table;

/// The 32-bit little-endian number at `at`.
fn word(data: &[u8], at: usize) -> Option<usize> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
}

/// The keys of up to four records laid out one after another from offset 2048.
fn record_keys(data: &[u8]) -> Vec<String> {
    let mut keys = Vec::new();
    let mut at = 2048;
    for _ in 0..4 {
        let (Some(klen), Some(vlen)) = (word(data, at), word(data, at + 4)) else {
            break;
        };
        let Some(key) = data.get(at + 8..(at + 8).saturating_add(klen)) else {
            break;
        };
        // Keys may be written with a terminating null byte; lookups add it themselves.
        let key = key.strip_suffix(b"\0").unwrap_or(key);
        keys.push(String::from_utf8_lossy(key).into_owned());
        at = at + 8 + klen + vlen;
    }
    keys
}

fuzz_target!(|data: &[u8]| {
    table::quiet();
    let path = table::scratch("cdb");
    let file = format!("{}.cdb", path.display());
    if std::fs::write(&file, data).is_err() {
        return;
    }
    let spec = format!("cdb:{}", path.display());
    let keys = record_keys(data);
    table::exercise(&spec, Flags::default(), &keys);
    let other = Flags {
        fold_fix: false,
        duplicates: Duplicates::Ignore,
        utf8: true,
        ..Flags::default()
    };
    table::exercise(&spec, other, &keys);
    let _ = std::fs::remove_file(&file);
});
