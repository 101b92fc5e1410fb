//! Fuzz target: regexp: tables (crates/dict/src/pattern.rs over the C library's regcomp): rules,
//! flags, `/p1/!/p2/`, `if`/`endif`, `$n` substitution.
//! Any source file opens or fails to open, and lookups answer Ok or Err, without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../support/table.rs"]
mod table;

/// Whether the input stacks repetition operators (`.*++++`, `a{9}{9}{9}`, or many nested
/// ones). glibc's regcomp needs memory exponential in such stacks; that is the C library's
/// limit (Postfix links the same regcomp), not a bug in the table parser, so such inputs
/// are left out.
fn stacks_quantifiers(data: &[u8]) -> bool {
    let total = data
        .iter()
        .filter(|b| matches!(b, b'*' | b'+' | b'?' | b'{'))
        .count();
    if total > 12 {
        return true;
    }
    let mut run = 0;
    for &b in data {
        if matches!(b, b'*' | b'+' | b'?' | b'{' | b'}') {
            run += 1;
            if run > 3 {
                return true;
            }
        } else if !b.is_ascii_digit() && b != b',' {
            run = 0;
        }
    }
    false
}

fuzz_target!(|data: &[u8]| {
    if stacks_quantifiers(data) {
        return;
    }
    // dict::open passes no flags to this table type: case is decided by the table itself.
    table::check_source("regexp", data, &[dict::Flags::default()]);
});
