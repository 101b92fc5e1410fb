//! Random numbers for shuffling equal-preference mail exchangers and for query ids, behind a
//! trait so that tests can fix the order.
//!
//! Postfix counterpart: `util/myrand.c` (a seeded `rand()`). Neither use needs a
//! cryptographic generator: query ids only make blind spoofing harder (the kernel's random
//! source port does most of that), and the shuffle only spreads load.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// A source of random numbers.
pub trait Random {
    /// The next number.
    fn next_u32(&mut self) -> u32;

    /// A number in `0..n` (`n` > 0), as Postfix's `myrand() % n`.
    fn below(&mut self, n: usize) -> usize {
        self.next_u32() as usize % n.max(1)
    }
}

/// The default source: SplitMix64 seeded from the process's random hash keys (which the
/// standard library takes from the kernel), so no two processes share a sequence.
#[derive(Debug, Clone)]
pub struct SeededRandom(u64);

impl SeededRandom {
    /// A generator with a fresh random seed.
    pub fn new() -> SeededRandom {
        SeededRandom(RandomState::new().build_hasher().finish())
    }

    /// A generator with a given seed.
    pub fn from_seed(seed: u64) -> SeededRandom {
        SeededRandom(seed)
    }
}

impl Default for SeededRandom {
    fn default() -> Self {
        SeededRandom::new()
    }
}

impl Random for SeededRandom {
    fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 32) as u32
    }
}

/// A fixed sequence, repeated, for tests: `Sequence::new(&[0])` never reorders anything.
#[derive(Debug, Clone)]
pub struct Sequence {
    values: Vec<u32>,
    next: usize,
}

impl Sequence {
    /// A source that returns `values` in turn, starting again after the last.
    pub fn new(values: &[u32]) -> Sequence {
        Sequence {
            values: if values.is_empty() {
                vec![0]
            } else {
                values.to_vec()
            },
            next: 0,
        }
    }
}

impl Random for Sequence {
    fn next_u32(&mut self) -> u32 {
        let value = self.values[self.next % self.values.len()];
        self.next += 1;
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_sequences_differ_and_repeat() {
        let (mut a, mut b) = (SeededRandom::from_seed(1), SeededRandom::from_seed(1));
        let first = a.next_u32();
        assert_eq!(first, b.next_u32());
        assert_ne!(first, a.next_u32());
        assert!(SeededRandom::new().below(7) < 7);
    }

    #[test]
    fn fixed_sequence_cycles() {
        let mut s = Sequence::new(&[5, 1]);
        assert_eq!([s.below(3), s.below(3), s.below(3)], [2, 1, 2]);
    }
}
