//! Whose headers are local: `local_header_rewrite_clients`, which decides the
//! rewriting context smtpd gives cleanup (`rewrite_context=local` or `remote`).
//!
//! Postfix counterpart: `smtpd_check_rewrite()` in `smtpd/smtpd_check.c`. In the local
//! context cleanup completes addresses in headers with $myorigin and $mydomain and adds a
//! missing From:, Date: and Message-Id:. The first item that matches the client makes
//! its context local; an item Postfix does not know is a warning.

use crate::peer::Peer;
use global::maps::Maps;
use global::match_list::MatchList;
use std::net::IpAddr;

/// One item of the list.
enum Item {
    /// `permit_inet_interfaces`: the client is one of our inet_interfaces addresses.
    InetInterfaces,
    /// `permit_mynetworks`.
    Mynetworks,
    /// `permit_sasl_authenticated` (never, until SASL is wired in).
    SaslAuthenticated,
    /// `check_address_map type:table` or a bare `type:table`: the client address is a key.
    AddressMap(Maps),
    /// Anything else.
    Invalid(String),
}

/// The parsed `local_header_rewrite_clients` with what it needs.
pub struct RewriteClients {
    items: Vec<Item>,
    own_addrs: Vec<IpAddr>,
}

impl RewriteClients {
    /// Parses `value`; `inet_interfaces` gives our addresses.
    pub fn new(value: &str, inet_interfaces: &str, flags: dict::Flags) -> RewriteClients {
        let words = util::tokens::split_braced(value, util::tokens::COMMA_SPACE)
            .unwrap_or_else(|e| log::msg_fatal!("local_header_rewrite_clients: {e}"));
        let mut words = words.into_iter();
        let open = |table: &str| {
            Maps::new("local_header_rewrite_clients", table, flags)
                .unwrap_or_else(|e| log::msg_fatal!("{e}"))
        };
        let mut items = Vec::new();
        while let Some(word) = words.next() {
            let item = match word.to_ascii_lowercase().as_str() {
                "permit_inet_interfaces" => Item::InetInterfaces,
                "permit_mynetworks" => Item::Mynetworks,
                "permit_sasl_authenticated" => Item::SaslAuthenticated,
                "check_address_map" => match words.next() {
                    Some(table) => Item::AddressMap(open(table)),
                    None => Item::Invalid(word.to_string()),
                },
                _ if word.contains(':') => Item::AddressMap(open(word)),
                _ => Item::Invalid(word.to_string()),
            };
            items.push(item);
        }
        RewriteClients {
            items,
            own_addrs: global::resolve_local::interface_addresses(inet_interfaces),
        }
    }

    /// Whether `peer` connects from one of our inet_interfaces addresses (also
    /// `permit_inet_interfaces` in a restriction list). The connection's own address:
    /// a proxy's XCLIENT client is not on one of our interfaces, but the proxy is.
    pub fn own_address(&self, peer: &Peer) -> bool {
        peer.sockaddr.is_some_and(|ip| self.own_addrs.contains(&ip))
    }

    /// `local` or `remote` for `peer`.
    pub fn context(&self, peer: &Peer, mynetworks: &MatchList) -> &'static str {
        for item in &self.items {
            let local = match item {
                Item::InetInterfaces => self.own_address(peer),
                Item::Mynetworks => mynetworks.matches(&[&peer.addr]).unwrap_or(false),
                Item::SaslAuthenticated => false,
                Item::AddressMap(maps) => matches!(maps.find(&peer.addr, false), Ok(Some(_))),
                Item::Invalid(name) => {
                    log::msg_warn!(
                        "parameter local_header_rewrite_clients: invalid request: {name}"
                    );
                    false
                }
            };
            if local {
                return global::rewrite_clnt::RULE_LOCAL;
            }
        }
        global::rewrite_clnt::RULE_REMOTE
    }
}
