//! Host name syntax as the DNS code checks it, with the reason a name fails.
//!
//! Postfix counterpart: `util/valid_hostname.c` with its `DO_WILDCARD` flag and its gripes
//! (the `warning: valid_hostname: ...` lines logged for bad names found in DNS replies).
//! `util::valid_hostname` answers the same question without the reasons or wildcards.

/// Postfix's `VALID_LABEL_LEN`.
const LABEL_LEN: usize = 63;
/// Postfix's `VALID_HOSTNAME_LEN`.
const HOSTNAME_LEN: usize = 255;

/// Checks `name`: labels of letters, digits, `_` and inner `-`, at most 63 bytes each and
/// 255 in all, not all-numeric; with `wildcard`, a first label `*` too. The error is the
/// warning text Postfix logs for it.
pub fn check_hostname(name: &str, wildcard: bool) -> Result<(), String> {
    let gripe = |what: &str| format!("valid_hostname: {what}: {}", clip(name));
    if name.is_empty() {
        return Err("valid_hostname: empty hostname".to_string());
    }
    let bytes = name.as_bytes();
    let mut label_length = 0;
    let mut label_count = 0;
    let mut non_numeric = false;
    for (i, &ch) in bytes.iter().enumerate() {
        let next = bytes.get(i + 1).copied();
        if ch.is_ascii_alphanumeric() || ch == b'_' {
            if label_length == 0 {
                label_count += 1;
            }
            label_length += 1;
            if label_length > LABEL_LEN {
                return Err(gripe("hostname label too long"));
            }
            non_numeric |= !ch.is_ascii_digit();
        } else if wildcard && ch == b'*' {
            if label_length > 0 || label_count > 0 || next.is_some_and(|c| c != b'.') {
                return Err(gripe("'*' can be the first label only"));
            }
            label_count += 1;
            label_length += 1;
            non_numeric = true;
        } else if ch == b'.' {
            if label_length == 0 || next.is_none() {
                return Err(gripe("misplaced delimiter"));
            }
            label_length = 0;
        } else if ch == b'-' {
            non_numeric = true;
            label_length += 1;
            if label_length == 1 || next.is_none() || next == Some(b'.') {
                return Err(gripe("misplaced hyphen"));
            }
        } else {
            return Err(gripe(&format!("invalid character {ch}(decimal)")));
        }
    }
    if !non_numeric {
        return Err(gripe("numeric hostname"));
    }
    if name.len() > HOSTNAME_LEN {
        return Err(format!(
            "valid_hostname: bad length {} for {}...",
            name.len(),
            clip(name)
        ));
    }
    Ok(())
}

/// Whether `name` passes [`check_hostname`].
pub fn valid_hostname(name: &str, wildcard: bool) -> bool {
    check_hostname(name, wildcard).is_ok()
}

/// At most the first 100 bytes of `text`, as Postfix's `%.100s`.
pub(crate) fn clip(text: &str) -> &str {
    clip_to(text, 100)
}

/// At most the first `max` bytes of `text`, cut at a character boundary.
pub(crate) fn clip_to(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_reasons() {
        assert!(valid_hostname("mail.example.com", false));
        assert!(valid_hostname("_dmarc.example", false));
        assert!(valid_hostname("*.example", true));
        assert!(!valid_hostname("*.example", false));
        assert_eq!(
            check_hostname("a.*.example", true),
            Err("valid_hostname: '*' can be the first label only: a.*.example".into())
        );
        assert_eq!(
            check_hostname("example.", false),
            Err("valid_hostname: misplaced delimiter: example.".into())
        );
        assert_eq!(
            check_hostname("a-.example", false),
            Err("valid_hostname: misplaced hyphen: a-.example".into())
        );
        assert_eq!(
            check_hostname("bad name", false),
            Err("valid_hostname: invalid character 32(decimal): bad name".into())
        );
        assert_eq!(
            check_hostname("10.1.2.3", false),
            Err("valid_hostname: numeric hostname: 10.1.2.3".into())
        );
        assert_eq!(
            check_hostname("", false),
            Err("valid_hostname: empty hostname".into())
        );
        let long = format!("{}.example", "a".repeat(64));
        assert!(
            check_hostname(&long, false)
                .unwrap_err()
                .starts_with("valid_hostname: hostname label too long: aaaa")
        );
        let huge = ["abc"; 70].join(".");
        assert!(
            check_hostname(&huge, false)
                .unwrap_err()
                .starts_with("valid_hostname: bad length 279 for abc.abc")
        );
    }

    #[test]
    fn agrees_with_util_without_wildcards() {
        for name in ["a.b", "a..b", "-a", "a_b", "1.2", "x1", "a.b.", "é.example"] {
            assert_eq!(
                valid_hostname(name, false),
                util::valid_hostname::valid_hostname(name),
                "{name}"
            );
        }
    }
}
