//! Numbers as decimal text without the formatting machinery or an allocation.
//!
//! No Postfix counterpart file (Postfix prints numbers with `vstring_sprintf()`). This
//! serves the crash report, which must not allocate in a signal handler, and the paths
//! that run once per attribute or per delivered recipient (attribute lists, the
//! delivery status line), where `format!` per number was a measured cost.

/// `n` in decimal, written at the end of `digits` (room for any u64); the text is the
/// returned slice of it.
pub fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &str {
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&digits[at..]).expect("ASCII digits")
}

#[cfg(test)]
mod tests {
    use super::decimal;

    #[test]
    fn every_magnitude() {
        let mut digits = [0; 20];
        for n in [0, 7, 10, 99, 4_294_967_295, u64::MAX] {
            assert_eq!(decimal(n, &mut digits), n.to_string());
        }
    }
}
