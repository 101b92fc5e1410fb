//! Properties that hold for any input (see `support/properties.rs`), checked on many
//! pseudo-random strings built from the characters that matter to the tokenizer. The fuzz
//! target fuzz/fuzz_targets/tok822.rs checks the same properties on whatever libFuzzer finds.

#[path = "support/properties.rs"]
mod properties;

const ALPHABET: &[&str] = &[
    "a", "b", "x", "@", ".", ",", ";", ":", "<", ">", "(", ")", "[", "]", "\"", "\\", " ", "\t",
    "\r\n", "ü", "用", "%", "!", "|", "\u{1}", "\0",
];

/// A small deterministic generator (xorshift64), so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn text(&mut self) -> String {
        let len = self.below(30);
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len())])
            .collect()
    }
}

#[test]
fn external_form_parses_back_to_the_same_addresses() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let checked = (0..20_000)
        .filter(|_| properties::check_reparse(&rng.text()))
        .count();
    assert!(checked > 5_000, "only {checked} inputs checked");
}

#[test]
fn header_form_differs_only_in_line_breaks() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..20_000 {
        properties::check_line_flag(&rng.text());
    }
}

#[test]
fn unquote_undoes_quote() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..20_000 {
        properties::check_quote_round_trip(&rng.text());
    }
}
