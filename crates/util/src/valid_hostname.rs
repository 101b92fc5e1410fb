//! Syntax checks for host names and numeric addresses.
//!
//! Postfix counterparts: `util/valid_hostname.c` and `global/valid_mailhost_addr.c`. A host
//! name is labels of letters, digits, `_` and inner `-`, at most 63 bytes each and 255 in
//! all, not all-numeric. An IPv4 address is four decimal octets (0.0.0.0 allowed, 0.x.y.z
//! not); an address literal is `[a.b.c.d]` or `[IPv6:...]`.

/// Whether `name` is a syntactically valid host name.
pub fn valid_hostname(name: &str) -> bool {
    if name.is_empty() || name.len() > 255 {
        return false;
    }
    let mut non_numeric = false;
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return false;
        }
        if label.starts_with('-') || label.ends_with('-') {
            return false;
        }
        for b in label.bytes() {
            match b {
                b'0'..=b'9' => {}
                b'-' | b'_' | b'a'..=b'z' | b'A'..=b'Z' => non_numeric = true,
                _ => return false,
            }
        }
    }
    non_numeric
}

/// Whether `addr` is four decimal octets, as Postfix accepts them.
pub fn valid_ipv4_hostaddr(addr: &str) -> bool {
    let octets: Vec<&str> = addr.split('.').collect();
    if octets.len() != 4 {
        return false;
    }
    if octets
        .iter()
        .any(|o| o.is_empty() || !o.bytes().all(|b| b.is_ascii_digit()) || o.len() > 3)
    {
        return false;
    }
    if octets
        .iter()
        .any(|o| o.parse::<u32>().map_or(true, |v| v > 255))
    {
        return false;
    }
    // 0.0.0.0 is allowed, 0.1.2.3 is not.
    octets[0].parse::<u32>() != Ok(0) || addr.bytes().all(|b| b == b'0' || b == b'.')
}

/// Whether `addr` is an IPv6 address (with an optional embedded IPv4 part).
pub fn valid_ipv6_hostaddr(addr: &str) -> bool {
    addr.parse::<std::net::Ipv6Addr>().is_ok()
}

/// Whether `addr` is a numeric IPv4 or IPv6 address.
pub fn valid_hostaddr(addr: &str) -> bool {
    if addr.contains(':') {
        valid_ipv6_hostaddr(addr)
    } else {
        valid_ipv4_hostaddr(addr)
    }
}

/// The bare address of `a.b.c.d` or `IPv6:...` (the form inside an address literal), if
/// valid.
pub fn valid_mailhost_addr(addr: &str) -> Option<&str> {
    match addr.get(..5).filter(|p| p.eq_ignore_ascii_case("ipv6:")) {
        Some(_) => Some(&addr[5..]).filter(|a| valid_ipv6_hostaddr(a)),
        None => Some(addr).filter(|a| valid_ipv4_hostaddr(a)),
    }
}

/// Whether `literal` is `[address]` with a valid mail host address inside.
pub fn valid_mailhost_literal(literal: &str) -> bool {
    literal
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .filter(|inner| !inner.contains(']') && inner.len() < 64)
        .and_then(valid_mailhost_addr)
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_and_addresses() {
        assert!(valid_hostname("mail.example.com"));
        assert!(valid_hostname("a_b.example"));
        assert!(!valid_hostname("192.168.1.1"));
        assert!(!valid_hostname("-a.example"));
        assert!(!valid_hostname("a-.example"));
        assert!(!valid_hostname("a..example"));
        assert!(!valid_hostname("example."));
        assert!(!valid_hostname(&"a".repeat(64)));
        assert!(valid_ipv4_hostaddr("192.168.1.1"));
        assert!(valid_ipv4_hostaddr("0.0.0.0"));
        assert!(!valid_ipv4_hostaddr("0.1.2.3"));
        assert!(!valid_ipv4_hostaddr("256.1.1.1"));
        assert!(valid_mailhost_literal("[127.0.0.1]"));
        assert!(valid_mailhost_literal("[IPv6:::1]"));
        assert!(!valid_mailhost_literal("[::1]"));
        assert!(!valid_mailhost_literal("[127.0.0.1]x"));
    }
}
