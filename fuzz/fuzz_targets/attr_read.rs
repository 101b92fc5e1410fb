//! Fuzz target: the attribute protocol reader (crates/ipc/src/attr.rs). Reading any bytes
//! as either flavor gives attribute lists, then None or an error, without a panic; and
//! every list read back from what `write` makes of it, in each flavor that can carry it, is
//! the same list.
#![no_main]

use ipc::attr::{self, Attrs, Flavor};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use std::sync::Once;

/// Whether `flavor` can carry `attrs`: the null flavor ends fields at a null byte and the
/// list at an empty name; the plain flavor ends fields at a newline and names at '='.
fn carries(flavor: Flavor, attrs: &Attrs) -> bool {
    attrs.iter().all(|(name, value)| match flavor {
        Flavor::Null => !name.is_empty() && !name.contains(&0) && !value.contains(&0),
        Flavor::Plain => !name.contains(&b'\n') && !name.contains(&b'=') && !value.contains(&b'\n'),
    })
}

fn round_trip(flavor: Flavor, attrs: &Attrs) {
    if !carries(flavor, attrs) {
        return;
    }
    let mut bytes = Vec::new();
    attr::write(&mut bytes, flavor, attrs).expect("writing to a Vec");
    let mut input = Cursor::new(&bytes[..]);
    let again = attr::read(&mut input, flavor).expect("reading what write wrote");
    assert_eq!(
        again.as_ref(),
        Some(attrs),
        "{flavor:?} round trip of {bytes:?}"
    );
    assert_eq!(
        input.position() as usize,
        bytes.len(),
        "{flavor:?}: read stopped before the end of one written list"
    );
}

fuzz_target!(|data: &[u8]| {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| log::retain_sinks(|_| false));
    for flavor in [Flavor::Null, Flavor::Plain] {
        let mut input = Cursor::new(data);
        // Each list read consumes at least its terminator, so this bound is never reached
        // unless read stops making progress.
        for _ in 0..=data.len() {
            let before = input.position();
            match attr::read(&mut input, flavor) {
                Ok(Some(attrs)) => {
                    assert!(
                        input.position() > before,
                        "{flavor:?}: a list from no input"
                    );
                    assert!(attrs.len() <= attr::MAX_ATTRS);
                    round_trip(Flavor::Null, &attrs);
                    round_trip(Flavor::Plain, &attrs);
                }
                Ok(None) | Err(_) => break,
            }
        }
    }
});
