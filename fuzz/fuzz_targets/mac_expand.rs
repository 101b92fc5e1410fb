//! Fuzz target: `$name` expansion never panics or loops, whatever the pattern and the
//! values (which may refer to each other recursively).
#![no_main]

use libfuzzer_sys::fuzz_target;
use util::mac_expand::{self, Flags};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The first line is the pattern; the rest are the values of a, b and c.
    let mut lines = text.lines();
    let pattern = lines.next().unwrap_or("");
    let values: Vec<String> = lines.take(3).map(String::from).collect();
    let lookup = |name: &str, _| match name {
        "a" => values.first().cloned(),
        "b" => values.get(1).cloned(),
        "c" => values.get(2).cloned(),
        "empty" => Some(String::new()),
        _ => None,
    };
    for recurse in [false, true] {
        let flags = Flags {
            recurse,
            scan: false,
            start_level: 0,
        };
        let _ = mac_expand::expand(pattern, flags, lookup);
    }
    let _ = mac_expand::scan(pattern);
});
