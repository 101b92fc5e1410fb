//! Conversion of configuration values: times with units, integers, booleans.
//!
//! Postfix counterparts: `global/conv_time.c`, `global/mail_conf_int.c`,
//! `global/mail_conf_bool.c`. The accepted syntax is Postfix's, quirks included: a time value
//! is decimal digits and one optional unit letter (`s m h d w`); anything after that letter is
//! ignored, as Postfix ignores it.

/// Seconds per unit letter.
fn unit_seconds(unit: u8) -> Option<i64> {
    match unit {
        b's' => Some(1),
        b'm' => Some(60),
        b'h' => Some(3600),
        b'd' => Some(86400),
        b'w' => Some(7 * 86400),
        _ => None,
    }
}

/// Parses a time value such as `300s`, `5d` or `60` (in `default_unit`), giving seconds.
/// The result fits a C `int`, as Postfix requires.
pub fn time(value: &str, default_unit: u8) -> Option<i32> {
    let digits = leading_integer(value)?;
    let number: i64 = value[..digits].parse().ok()?;
    if number < 0 || number > i64::from(i32::MAX) {
        return None;
    }
    let unit = value
        .as_bytes()
        .get(digits)
        .copied()
        .unwrap_or(default_unit);
    let scale = unit_seconds(unit)?;
    // Postfix insists on number < INT_MAX / scale for every unit except seconds.
    if scale > 1 && number >= i64::from(i32::MAX) / scale {
        return None;
    }
    i32::try_from(number * scale).ok()
}

/// Parses a whole-string decimal integer like C `strtol` with nothing left over.
pub fn int(value: &str) -> Option<i64> {
    let digits = leading_integer(value)?;
    if digits != value.len() {
        return None;
    }
    value.trim_start().parse().ok()
}

/// Parses `yes`/`no` in any letter case.
pub fn bool(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if value.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

/// Length of the `strtol` prefix: optional leading space, an optional sign, then digits.
fn leading_integer(value: &str) -> Option<usize> {
    let bytes = value.as_bytes();
    let mut i = bytes.iter().take_while(|b| b.is_ascii_whitespace()).count();
    if matches!(bytes.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    (digits > 0).then_some(i + digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(time("300s", b's'), Some(300));
        assert_eq!(time("5d", b's'), Some(432000));
        assert_eq!(time("2", b'h'), Some(7200));
        assert_eq!(time("1w", b's'), Some(604800));
        assert_eq!(time("10sx", b's'), Some(10));
        assert_eq!(time("10x", b's'), None);
        assert_eq!(time("", b's'), None);
        assert_eq!(time("-1s", b's'), None);
        assert_eq!(time("99999999d", b's'), None);
    }

    #[test]
    fn ints_and_bools() {
        assert_eq!(int("10240000"), Some(10240000));
        assert_eq!(int("-5"), Some(-5));
        assert_eq!(int("12k"), None);
        assert_eq!(int(""), None);
        assert_eq!(bool("YES"), Some(true));
        assert_eq!(bool("no"), Some(false));
        assert_eq!(bool("1"), None);
    }
}
