//! Defaults computed at run time (Postfix's `CONFIG_STR_FN_TABLE`).
//!
//! Postfix counterpart: `check_myhostname()`, `check_mydomainname()` in
//! `global/mail_params.c` and `global/mynetworks.c`. As there, no DNS is consulted: a host
//! whose name has no dot gets `.$mydomain` (or `.localdomain`) appended.

use crate::config::Config;
use crate::decl::identity::{INET_PROTOCOLS, MYDOMAIN, MYHOSTNAME, MYNETWORKS_STYLE};
use std::net::IpAddr;

/// The domain used when nothing better is known.
const DEFAULT_DOMAIN: &str = "localdomain";

/// `myhostname`: the system's host name, made fully qualified.
pub fn myhostname(config: &Config) -> String {
    let host = sys::hostname().unwrap_or_else(|_| "localhost".to_string());
    if host.contains('.') {
        return host;
    }
    // While myhostname is being worked out it reads as undefined, so a mydomain that
    // refers back to it cannot loop.
    let domain = config
        .explicit(MYDOMAIN.name)
        .and_then(|d| {
            config
                .expand_with(d, |n| (n == MYHOSTNAME.name).then_some(None))
                .ok()
        })
        .unwrap_or_else(|| DEFAULT_DOMAIN.to_string());
    format!("{host}.{domain}")
}

/// `mydomain`: `$myhostname` minus its first label.
pub fn mydomain(config: &Config) -> String {
    let host = config.str(&MYHOSTNAME).unwrap_or_default();
    match host.split_once('.') {
        Some((_, domain)) => domain.to_string(),
        None => DEFAULT_DOMAIN.to_string(),
    }
}

/// `mynetworks`: the networks of this machine's interfaces, by `mynetworks_style`.
pub fn mynetworks(config: &Config) -> String {
    let style = config.str(&MYNETWORKS_STYLE).unwrap_or_default();
    let protocols = config.list(&INET_PROTOCOLS).unwrap_or_default();
    let want_v4 = protocols.iter().any(|p| p == "all" || p == "ipv4");
    let want_v6 = protocols.iter().any(|p| p == "all" || p == "ipv6");
    let interfaces = sys::interface_addresses().unwrap_or_default();
    let mut networks: Vec<String> = Vec::new();
    let v4 = interfaces.iter().filter(|(a, _)| a.is_ipv4() && want_v4);
    let v6 = interfaces.iter().filter(|(a, _)| a.is_ipv6() && want_v6);
    for (addr, mask) in v4.chain(v6) {
        let entry = network_entry(*addr, *mask, &style);
        if !networks.contains(&entry) {
            networks.push(entry);
        }
    }
    networks.join(" ")
}

/// One `mynetworks` entry for an interface address, as Postfix formats it.
fn network_entry(addr: IpAddr, mask: IpAddr, style: &str) -> String {
    let (network, prefix) = match (addr, mask, style) {
        (IpAddr::V4(a), _, "host") => (IpAddr::V4(a), 32),
        (IpAddr::V6(a), _, "host") => (IpAddr::V6(a), 128),
        (IpAddr::V4(a), _, "class") => {
            let bits = u32::from(a);
            let prefix = match bits >> 24 {
                0..=127 => 8,
                128..=191 => 16,
                _ => 24,
            };
            (IpAddr::V4((bits & (!0u32 << (32 - prefix))).into()), prefix)
        }
        (IpAddr::V4(a), IpAddr::V4(m), _) => {
            let m = u32::from(m);
            (IpAddr::V4((u32::from(a) & m).into()), m.count_ones())
        }
        (IpAddr::V6(a), IpAddr::V6(m), _) => {
            let m = u128::from(m);
            (IpAddr::V6((u128::from(a) & m).into()), m.count_ones())
        }
        (other, _, _) => (other, if other.is_ipv4() { 32 } else { 128 }),
    };
    match network {
        IpAddr::V4(n) => format!("{n}/{prefix}"),
        IpAddr::V6(n) => format!("[{n}]/{prefix}"),
    }
}

/// `process_id`: this process's id.
pub fn process_id(_config: &Config) -> String {
    std::process::id().to_string()
}

/// `process_name`: the program's name.
pub fn process_name(config: &Config) -> String {
    config.process_name.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        let a: IpAddr = "192.0.2.17".parse().unwrap();
        let m: IpAddr = "255.255.255.0".parse().unwrap();
        assert_eq!(network_entry(a, m, "subnet"), "192.0.2.0/24");
        assert_eq!(network_entry(a, m, "host"), "192.0.2.17/32");
        assert_eq!(network_entry(a, m, "class"), "192.0.2.0/24");
        let a: IpAddr = "fe80::1:2".parse().unwrap();
        let m: IpAddr = "ffff:ffff:ffff:ffff::".parse().unwrap();
        assert_eq!(network_entry(a, m, "subnet"), "[fe80::]/64");
    }
}
