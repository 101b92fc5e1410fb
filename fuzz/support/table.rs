//! Shared by the lookup-table fuzz targets (cidr_table, regexp_table, pcre_table,
//! texthash_table, cdb_file): the input becomes a table file, the table is opened through
//! `dict::open` and looked up with fixed keys and keys taken from the input. Nothing may
//! panic; a table that cannot be opened, or a lookup that fails, is a fine answer.
//!
//! This file lives outside fuzz_targets/ because scripts/test runs every file there as a
//! target.

// Not every target uses every helper.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Once;

/// Keys every table is asked for, whatever it holds.
pub const KEYS: &[&str] = &[
    "foo",
    "FOO",
    "user@example.com",
    "10.0.0.1",
    "192.168.1.1",
    "::1",
    "2001:db8::1",
    "",
];

/// Longest key taken from the input, so that lookups stay quick (pattern engines can
/// backtrack).
const MAX_KEY: usize = 64;

/// Drops every log sink once, so the tables' warnings about broken lines are discarded
/// rather than printed for every input.
pub fn quiet() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| log::retain_sinks(|_| false));
}

/// A scratch path for this process, the same on every call (each input overwrites it, and
/// removes it once done, so that only a crashing input leaves it behind).
pub fn scratch(kind: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ironpost-fuzz-{kind}-{}", std::process::id()))
}

/// The first `max` bytes of `text`, cut at a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Keys taken from the input: the first word of each of the first lines (without `!`,
/// brackets, quotes or a `/len` suffix, so that cidr and texthash rules can match), and
/// the start of the input itself.
pub fn derived_keys(data: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    let mut keys = Vec::new();
    for line in text.lines().take(4) {
        let Some(word) = line.split_whitespace().next() else {
            continue;
        };
        let word = prefix(word, MAX_KEY);
        keys.push(word.to_string());
        let bare = word.trim_start_matches('!').trim_matches(['[', ']', '"']);
        let bare = bare.split('/').next().unwrap_or("").trim_end_matches(']');
        if bare != word {
            keys.push(bare.to_string());
        }
    }
    keys.push(prefix(&text, MAX_KEY).to_string());
    keys
}

/// Opens `spec` with `flags` and, when it opens, looks up the fixed keys and `extra`.
pub fn exercise(spec: &str, flags: dict::Flags, extra: &[String]) {
    let Ok(table) = dict::open(spec, flags) else {
        return;
    };
    for key in KEYS.iter().copied().chain(extra.iter().map(String::as_str)) {
        // Ok(Some), Ok(None) and Err are all acceptable answers; only a panic is not.
        let _ = table.lookup(key);
    }
    let _ = table.spec();
    let _ = table.impl_flags();
    let _ = table.entries();
}

/// The whole check for a table read from a source file: `data` is written to this
/// process's scratch file, which is opened as `kind:PATH` with `flags_list` in turn.
pub fn check_source(kind: &str, data: &[u8], flags_list: &[dict::Flags]) {
    quiet();
    let path = scratch(kind);
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let spec = format!("{kind}:{}", path.display());
    let keys = derived_keys(data);
    for &flags in flags_list {
        exercise(&spec, flags, &keys);
    }
    let _ = std::fs::remove_file(&path);
}
