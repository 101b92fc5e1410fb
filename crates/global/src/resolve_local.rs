//! Is this domain ours? `mydestination`, and `[address]` literals of our interfaces.
//!
//! Postfix counterparts: `global/resolve_local.c` and `own_inet_addr.c`. One trailing dot
//! is ignored (two make the name invalid). mydestination is matched as a string list
//! (exact names and table keys; no parent domains). A bracketed address is local when it
//! is one of the addresses in inet_interfaces (all interfaces for `all`, the loopback
//! addresses for `loopback-only`) or proxy_interfaces.

use crate::maps::MapsError;
use crate::match_list::{ListFlags, MatchList, Matcher};
use std::net::IpAddr;

/// The local-domain test, set up once from the configuration.
pub struct ResolveLocal {
    mydestination: MatchList,
    addresses: Vec<IpAddr>,
}

/// The addresses an interface list names: `all`, `loopback-only`, addresses, host names
/// (also smtpd's `permit_inet_interfaces`, Postfix's `own_inet_addr()`).
pub fn interface_addresses(value: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for item in util::tokens::split(value, util::tokens::COMMA_SPACE) {
        match item {
            "all" => out.extend(
                sys::interface_addresses()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(addr, _)| addr),
            ),
            "loopback-only" => out.extend([
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ]),
            other => {
                let bare = other.trim_start_matches('[').trim_end_matches(']');
                match bare.parse::<IpAddr>() {
                    Ok(addr) => out.push(addr),
                    Err(_) => out.extend(
                        std::net::ToSocketAddrs::to_socket_addrs(&(bare, 0))
                            .into_iter()
                            .flatten()
                            .map(|sa| sa.ip()),
                    ),
                }
            }
        }
    }
    out
}

impl ResolveLocal {
    /// From mydestination, inet_interfaces and proxy_interfaces.
    pub fn new(config: &params::Config) -> Result<ResolveLocal, params::ConfigError> {
        use params::decl::identity::{
            INET_INTERFACES, MYDESTINATION, PROXY_INTERFACES, SMTPUTF8_ENABLE,
        };
        let flags = ListFlags {
            parent: false,
            utf8: config.bool(&SMTPUTF8_ENABLE)?,
        };
        let mydestination = MatchList::new(
            MYDESTINATION.name,
            flags,
            &config.str(&MYDESTINATION)?,
            &[Matcher::String],
        );
        let mut addresses = interface_addresses(&config.str(&INET_INTERFACES)?);
        addresses.extend(interface_addresses(&config.str(&PROXY_INTERFACES)?));
        Ok(ResolveLocal::with(mydestination, addresses))
    }

    /// From a parsed mydestination list and the local addresses.
    pub fn with(mydestination: MatchList, addresses: Vec<IpAddr>) -> ResolveLocal {
        ResolveLocal {
            mydestination,
            addresses,
        }
    }

    /// Whether `domain` is delivered here; Err when a mydestination table failed.
    pub fn is_local(&self, domain: &str) -> Result<bool, MapsError> {
        let Some(name) = domain.strip_suffix('.').or(Some(domain)) else {
            return Ok(false);
        };
        if name.is_empty() || name.ends_with('.') {
            return Ok(false);
        }
        match self.mydestination.matches(&[name]) {
            Ok(true) => return Ok(true),
            Ok(false) => {}
            Err(e) => return Err(MapsError::Retry(e.to_string())),
        }
        let Some(literal) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) else {
            return Ok(false);
        };
        let bare = literal
            .get(..5)
            .filter(|p| p.eq_ignore_ascii_case("ipv6:"))
            .map_or(literal, |_| &literal[5..]);
        Ok(bare
            .parse::<IpAddr>()
            .is_ok_and(|addr| self.addresses.contains(&addr)))
    }
}
