//! Fuzz target: address parsing and quoting (crates/rfc822) never panic on any input, the
//! external form of a parsed list parses back to the same addresses, and unquoting undoes
//! quoting. The properties live in crates/rfc822/tests/support/properties.rs, which
//! `cargo test -p rfc822` also checks on pseudo-random inputs.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/rfc822/tests/support/properties.rs"]
mod properties;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    properties::check_reparse(&text);
    properties::check_line_flag(&text);
    properties::check_quote_round_trip(&text);
});
