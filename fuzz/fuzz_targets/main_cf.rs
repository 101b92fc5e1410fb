//! Fuzz target: main.cf parsing never panics, and every entry it accepts has a name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(cf) = params::main_cf::MainCf::parse(Path::new("/fuzz/main.cf"), &text) {
        for entry in &cf.entries {
            assert!(!entry.name.is_empty());
            assert!(entry.line >= 1);
        }
    }
});
