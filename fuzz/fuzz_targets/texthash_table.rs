//! Fuzz target: texthash: tables (crates/dict/src/fixed.rs): logical lines with
//! continuations and comments, quoted keys, duplicates, non-UTF-8 bytes. Any source file
//! opens or fails to open, and lookups answer without a panic, with the default flags and
//! with UTF-8 mode, no folding and duplicates replacing.
#![no_main]

use dict::{Duplicates, Flags};
use libfuzzer_sys::fuzz_target;

#[path = "../support/table.rs"]
mod table;

fuzz_target!(|data: &[u8]| {
    let other = Flags {
        fold_fix: false,
        duplicates: Duplicates::Replace,
        utf8: true,
        ..Flags::default()
    };
    table::check_source("texthash", data, &[Flags::default(), other]);
});
