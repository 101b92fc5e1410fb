//! Fuzz target: pcre: tables (crates/dict/src/pattern.rs over libpcre2): rules, flags,
//! `if`/`endif`, `$n` substitution.
//! Any source file opens or fails to open, and lookups answer Ok or Err, without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../support/table.rs"]
mod table;

fuzz_target!(|data: &[u8]| {
    // dict::open passes no flags to this table type: case is decided by the table itself.
    table::check_source("pcre", data, &[dict::Flags::default()]);
});
