//! Fuzz target: the queue record reader (crates/global/src/record.rs) that postdrop runs,
//! set-gid, on whatever a local user pipes into it, and pickup on the maildrop files
//! postdrop leaves. Reading any bytes gives records, then the end or an error, without a
//! panic and without reserving memory for lengths the input merely claims; a record over
//! the limit is refused; and every record read is written back by `rec_put` to the same
//! bytes it was read from.
#![no_main]

use global::record::{RecError, rec_get, rec_put};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

/// The limits the readers use: none (pickup's own files), and a small line_length_limit.
const LIMITS: [usize; 2] = [0, 64];

fuzz_target!(|data: &[u8]| {
    for limit in LIMITS {
        let mut input = Cursor::new(data);
        let mut buf = Vec::new();
        loop {
            let start = input.position() as usize;
            match rec_get(&mut input, &mut buf, limit) {
                Ok(kind) => {
                    assert!(limit == 0 || buf.len() <= limit, "record over the limit");
                    let end = input.position() as usize;
                    let mut again = Vec::new();
                    rec_put(&mut again, kind, &buf).expect("writing to a Vec");
                    // The same record may have been read from a longer (non-minimal)
                    // length encoding; what rec_put writes must read back the same.
                    assert!(again.len() <= end - start);
                    let mut reread = Vec::new();
                    let kind_again = rec_get(&mut Cursor::new(&again), &mut reread, limit);
                    assert_eq!(kind_again, Ok(kind));
                    assert_eq!(reread, buf);
                }
                Err(RecError::Eof) => break,
                Err(RecError::Bad(why)) => {
                    assert!(!why.is_empty());
                    break;
                }
            }
        }
    }
});
