//! Domain names shown in Unicode: the `$myhostname` and `$mydomain` of a template when
//! SMTPUTF8 is on.
//!
//! Postfix counterpart: `util/midna_domain.c` (`midna_domain_to_utf8`, which asks
//! libidn2 for the UTS #46 form). For the names a host or domain setting holds, that is
//! the name in lower case with each `xn--` label decoded from Punycode (RFC 3492), which
//! is what this module does; a label that does not decode makes the conversion fail.

/// `name` in Unicode, or None when a label is not valid Punycode.
pub fn domain_to_utf8(name: &str) -> Option<String> {
    let labels: Option<Vec<String>> = name
        .split('.')
        .map(|label| {
            let label = label.to_ascii_lowercase();
            match label.strip_prefix("xn--") {
                Some(encoded) => punycode_decode(encoded),
                None => Some(label),
            }
        })
        .collect();
    Some(labels?.join("."))
}

/// RFC 3492's decoder.
fn punycode_decode(input: &str) -> Option<String> {
    const BASE: u32 = 36;
    const T_MIN: u32 = 1;
    const T_MAX: u32 = 26;
    const SKEW: u32 = 38;
    const DAMP: u32 = 700;
    let adapt = |mut delta: u32, points: u32, first: bool| {
        delta /= if first { DAMP } else { 2 };
        delta += delta / points;
        let mut k = 0;
        while delta > ((BASE - T_MIN) * T_MAX) / 2 {
            delta /= BASE - T_MIN;
            k += BASE;
        }
        k + (BASE - T_MIN + 1) * delta / (delta + SKEW)
    };
    let (basic, extended) = match input.rfind('-') {
        Some(at) => (&input[..at], &input[at + 1..]),
        None => ("", input),
    };
    if !basic.is_ascii() {
        return None;
    }
    let mut output: Vec<char> = basic.chars().collect();
    let (mut n, mut i, mut bias) = (128u32, 0u32, 72u32);
    let mut digits = extended.bytes().peekable();
    while digits.peek().is_some() {
        let old_i = i;
        let mut w = 1u32;
        let mut k = BASE;
        loop {
            let digit = match digits.next()? {
                c @ b'a'..=b'z' => u32::from(c - b'a'),
                c @ b'A'..=b'Z' => u32::from(c - b'A'),
                c @ b'0'..=b'9' => u32::from(c - b'0') + 26,
                _ => return None,
            };
            i = i.checked_add(digit.checked_mul(w)?)?;
            let t = if k <= bias {
                T_MIN
            } else if k >= bias + T_MAX {
                T_MAX
            } else {
                k - bias
            };
            if digit < t {
                break;
            }
            w = w.checked_mul(BASE - t)?;
            k += BASE;
        }
        let points = output.len() as u32 + 1;
        bias = adapt(i - old_i, points, old_i == 0);
        n = n.checked_add(i / points)?;
        i %= points;
        output.insert(i as usize, char::from_u32(n)?);
        i += 1;
    }
    Some(output.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::domain_to_utf8;

    #[test]
    fn labels_are_decoded_and_lowered() {
        // The names postconf -b showed for these settings with Postfix 3.7.
        assert_eq!(
            domain_to_utf8("Mail.E2E.Test").as_deref(),
            Some("mail.e2e.test")
        );
        assert_eq!(
            domain_to_utf8("xn--bcher-kva.example").as_deref(),
            Some("b\u{fc}cher.example")
        );
    }

    #[test]
    fn rfc_3492_samples() {
        // RFC 3492 section 7.1, (A) Arabic (Egyptian) and (L) Japanese, whose basic
        // code point comes out in lower case as the whole label is lowered first.
        assert_eq!(
            domain_to_utf8("xn--egbpdaj6bu4bxfgehfvwxn").as_deref(),
            Some(
                "\u{644}\u{64a}\u{647}\u{645}\u{627}\u{628}\u{62a}\u{643}\u{644}\u{645}\u{648}\u{634}\u{639}\u{631}\u{628}\u{64a}\u{61f}"
            )
        );
        assert_eq!(
            domain_to_utf8("xn--3B-ww4c5e180e575a65lsy2b").as_deref(),
            Some("3\u{5e74}b\u{7d44}\u{91d1}\u{516b}\u{5148}\u{751f}")
        );
    }

    #[test]
    fn bad_punycode_fails() {
        assert_eq!(domain_to_utf8("xn--!!.example"), None);
    }
}
