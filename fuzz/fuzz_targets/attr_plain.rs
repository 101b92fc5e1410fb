//! Fuzz target: the plain-flavor attribute reader (crates/ipc/src/attr.rs, Postfix's
//! util/attr_scan_plain.c), the `name=value` lines ended by an empty line that the policy
//! delegation protocol (check_policy_service) and anvil speak over sockets. A peer's bytes
//! arrive in reads of any size, so: reading the same bytes cut into fuzzer-chosen pieces
//! through a small buffer gives the same lists, then the same end or error, as reading
//! them whole; every list read has no name with '=' or '\n' and no value with '\n'; a
//! list read is written back (in the plain flavor) to exactly the bytes it came from.
//!
//! Input: byte 0 seeds the piece sizes (1..=16 bytes), the rest is what the peer sends.
#![no_main]

use ipc::attr::{self, Attrs, Flavor};
use libfuzzer_sys::fuzz_target;
use std::io::{self, BufReader, Cursor, Read};

/// A reader that hands out its bytes in pieces of varying size, as a socket does.
struct Pieces<'a> {
    data: &'a [u8],
    seed: u8,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.seed = self.seed.wrapping_mul(37).wrapping_add(11);
        let n = (1 + usize::from(self.seed % 16))
            .min(buf.len())
            .min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Every list `input` yields, then how it ended (None: the end; Some: the error).
fn read_all(input: &mut impl io::BufRead) -> (Vec<Attrs>, Option<String>) {
    let mut lists = Vec::new();
    loop {
        match attr::read(input, Flavor::Plain) {
            Ok(Some(attrs)) => lists.push(attrs),
            Ok(None) => return (lists, None),
            Err(e) => return (lists, Some(e.to_string())),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [seed, bytes @ ..] = data else {
        return;
    };
    let (whole, whole_end) = read_all(&mut Cursor::new(bytes));
    let mut pieces = BufReader::with_capacity(
        7,
        Pieces {
            data: bytes,
            seed: *seed,
        },
    );
    let (cut, cut_end) = read_all(&mut pieces);
    assert_eq!(whole, cut, "the lists depend on how the bytes were cut");
    assert_eq!(
        whole_end, cut_end,
        "the end depends on how the bytes were cut"
    );
    // The lists read cover a prefix of the input, which they reproduce exactly.
    let mut again = Vec::new();
    for attrs in &whole {
        for (name, value) in attrs.iter() {
            assert!(
                !name.contains(&b'=') && !name.contains(&b'\n'),
                "name {name:?}"
            );
            assert!(!value.contains(&b'\n'), "value {value:?}");
        }
        attr::write(&mut again, Flavor::Plain, attrs).expect("writing to a Vec");
    }
    assert!(
        bytes.starts_with(&again),
        "lists written back differ from the bytes they were read from"
    );
});
