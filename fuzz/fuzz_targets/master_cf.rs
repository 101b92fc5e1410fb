//! Fuzz target: master.cf parsing never panics; accepted entries have a command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(cf) = params::master_cf::MasterCf::parse(Path::new("/fuzz/master.cf"), &text) {
        for entry in &cf.entries {
            assert!(!entry.argv.is_empty());
            let _ = entry.overrides();
            let _ = entry.name_space();
        }
    }
});
