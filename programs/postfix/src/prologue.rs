//! What stops a `postfix` command before it does anything.
//!
//! Postfix counterparts: `global/own_inet_addr.c` (`own_inet_addr_init()`, which
//! `mail_params_init()` runs when `postfix.c` reads main.cf) and the prologue of
//! `conf/postfix-script`, whose first `postconf` command reads master.cf.
//!
//! Postfix refuses every command (start, stop, status, reload...) when inet_interfaces
//! names an address no interface of this host has, and when master.cf does not parse:
//! the first is said only on a terminal, the second by postconf on standard error while
//! the log says only that postconf failed.

use params::Config;
use params::decl::identity::{INET_INTERFACES, INET_PROTOCOLS};
use params::main_cf::CfError;
use params::master_cf::MasterCf;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::Path;

/// The fatal text when inet_interfaces names an address this host lacks, or a host
/// that has no address of an enabled protocol.
pub fn foreign_interface(config: &Config) -> Option<String> {
    let interfaces = config.str(&INET_INTERFACES).unwrap_or_default();
    let protocols = config.list(&INET_PROTOCOLS).unwrap_or_default();
    let all = protocols.iter().any(|p| p == "all");
    let v4 = all || protocols.iter().any(|p| p == "ipv4");
    let v6 = all || protocols.iter().any(|p| p == "ipv6");
    // With every protocol off Postfix converts nothing, and so refuses nothing.
    if !v4 && !v6 {
        return None;
    }
    let wanted = |a: &IpAddr| if a.is_ipv4() { v4 } else { v6 };
    let words: Vec<&str> = util::tokens::split(&interfaces, util::tokens::COMMA_SPACE).collect();
    // "all" and "loopback-only" are whole values, taken from the interfaces themselves.
    if words.is_empty() || matches!(words.as_slice(), ["all"] | ["loopback-only"]) {
        return None;
    }
    let mut named: Vec<IpAddr> = Vec::new();
    for host in words {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<IpAddr> = match bare.parse::<IpAddr>() {
            Ok(addr) => vec![addr],
            Err(_) => (bare, 0)
                .to_socket_addrs()
                .map(|it| it.map(|sa| sa.ip()).collect())
                .unwrap_or_default(),
        };
        let addrs: Vec<IpAddr> = addrs.into_iter().filter(|a| wanted(a)).collect();
        if addrs.is_empty() {
            return Some(format!(
                "config variable inet_interfaces: host not found: {host}"
            ));
        }
        for addr in addrs {
            if !named.contains(&addr) {
                named.push(addr);
            }
        }
    }
    let local: Vec<IpAddr> = sys::interface_addresses()
        .unwrap_or_default()
        .into_iter()
        .map(|(addr, _)| addr)
        .collect();
    named
        .into_iter()
        .find(|a| !local.contains(a))
        .map(|a| format!("parameter inet_interfaces: no local interface found for {a}"))
}

/// postconf's fatal text when master.cf does not parse. A master.cf that cannot be
/// opened is not this check's business: postconf only warns then, and `postfix check`
/// (check-fatal) says it is missing.
pub fn master_cf_error(config_dir: &Path) -> Option<String> {
    match MasterCf::read(&config_dir.join("master.cf")) {
        Err(e @ CfError::Syntax { .. }) => Some(e.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use params::main_cf::MainCf;

    fn config(main: &str) -> Config {
        let main = MainCf::parse(Path::new("/x/main.cf"), main).unwrap();
        Config::new(Path::new("/x"), main)
    }

    #[test]
    fn addresses_this_host_lacks_are_refused() {
        let c = config("inet_interfaces = 127.0.0.1, 198.51.100.7\ninet_protocols = ipv4\n");
        assert_eq!(
            foreign_interface(&c).as_deref(),
            Some("parameter inet_interfaces: no local interface found for 198.51.100.7")
        );
        let c = config("inet_interfaces = [127.0.0.1]\ninet_protocols = ipv4\n");
        assert_eq!(foreign_interface(&c), None);
        let c = config("inet_interfaces = all\n");
        assert_eq!(foreign_interface(&c), None);
        let c = config("inet_interfaces = loopback-only\n");
        assert_eq!(foreign_interface(&c), None);
    }

    #[test]
    fn an_address_of_a_disabled_protocol_is_a_host_not_found() {
        let c = config("inet_interfaces = ::1\ninet_protocols = ipv4\n");
        assert_eq!(
            foreign_interface(&c).as_deref(),
            Some("config variable inet_interfaces: host not found: ::1")
        );
    }

    #[test]
    fn only_a_master_cf_that_does_not_parse_is_an_error() {
        let dir = std::env::temp_dir().join(format!("postfix-prologue-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(master_cf_error(&dir), None);
        std::fs::write(dir.join("master.cf"), "smtp inet n - n - - smtpd\n").unwrap();
        assert_eq!(master_cf_error(&dir), None);
        std::fs::write(dir.join("master.cf"), "# x\nsmtp inet n - n - smtpd\n").unwrap();
        assert_eq!(
            master_cf_error(&dir),
            Some(format!(
                "file {}/master.cf: line 2: bad field count",
                dir.display()
            ))
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
