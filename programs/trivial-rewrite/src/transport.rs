//! transport_maps: per-address or per-domain transport and next hop.
//!
//! Postfix counterpart: `trivial-rewrite/transport.c` (see transport(5)). The recipient is
//! looked up as `user+ext@domain`, `user@domain`, then the domain and its parents
//! (`example.com` for `a.example.com` when transport_maps is in
//! parent_domain_matches_subdomains, else `.example.com`), then the `*` wildcard. A result
//! is `transport:nexthop`; an empty part keeps what main.cf chose, except that a new
//! transport without a next hop gets the recipient domain (error and retry transports get
//! "Address is undeliverable").

use global::mail_addr_find::{Found, Strategy};
use global::maps::{Maps, MapsError};

/// An address lookup with a strategy, as the resolver does them.
pub type Find<'a> = dyn Fn(&Maps, &str, Strategy) -> Result<Option<Found>, MapsError> + 'a;

/// transport_maps, opened.
pub struct Transport {
    maps: Maps,
    parent_style: bool,
}

impl Transport {
    /// From the opened tables; `parent_style` when transport_maps is listed in
    /// parent_domain_matches_subdomains.
    pub fn new(maps: Maps, parent_style: bool) -> Transport {
        Transport { maps, parent_style }
    }

    /// The (transport, nexthop) for `address` (internal form, with a domain), combining
    /// a table result with `current`, what main.cf chose (`find` does the lookups), as transport(5) says; Ok(None)
    /// when the tables have nothing, Err on a lookup failure.
    pub fn lookup(
        &self,
        address: &str,
        rcpt_domain: &str,
        find: &Find,
        current: (&str, &str),
    ) -> Result<Option<(String, String)>, ()> {
        if address.is_empty() {
            log::msg_warn!("transport_lookup: null address - skipping table lookup");
            return Ok(None);
        }
        let parents = if self.parent_style {
            Strategy::PDMS
        } else {
            Strategy::PDDMDS
        };
        let strategy = Strategy::FULL | Strategy::NOEXT | Strategy::DOMAIN | parents;
        let found = find(&self.maps, address, strategy).map_err(|_| ())?;
        let value = match found {
            Some(found) => found.value,
            None => match self.maps.find("*", false).map_err(|_| ())? {
                Some(wildcard) => {
                    if log::verbose() > 0 {
                        let (c, h) = wildcard.split_once(':').unwrap_or((&wildcard, ""));
                        log::msg_info!("wildcard_{{chan:hop}}={{{c}:{h}}}");
                    }
                    wildcard
                }
                None => return Ok(None),
            },
        };
        let (channel, nexthop) = value.split_once(':').unwrap_or((value.as_str(), ""));
        Ok(Some(update_entry(channel, nexthop, rcpt_domain, current)))
    }
}

/// transport(5)'s rules for combining a table result with what main.cf chose.
fn update_entry(
    channel: &str,
    nexthop: &str,
    rcpt_domain: &str,
    current: (&str, &str),
) -> (String, String) {
    let (cur_channel, cur_nexthop) = current;
    if channel.is_empty() {
        let hop = if nexthop.is_empty() {
            cur_nexthop
        } else {
            nexthop
        };
        return (cur_channel.to_string(), hop.to_string());
    }
    let hop = if !nexthop.is_empty() {
        nexthop.to_string()
    } else if channel != "error" && channel != "retry" {
        rcpt_domain.to_string()
    } else {
        "Address is undeliverable".to_string()
    };
    (channel.to_string(), hop)
}
