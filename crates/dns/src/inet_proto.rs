//! Which address families the mail system uses (`inet_protocols`), and the DNS record
//! types that follow from it.
//!
//! Postfix counterpart: `util/inet_proto.c`. Whatever order the value names them in, IPv4
//! comes first: addresses are looked up as A then AAAA. (Postfix also drops a family the
//! kernel cannot open a socket for; a caller that needs this checks before parsing.)

use std::net::IpAddr;

use crate::rr::RrType;

/// The enabled families.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InetProtocols {
    /// IPv4 enabled.
    pub ipv4: bool,
    /// IPv6 enabled.
    pub ipv6: bool,
}

impl InetProtocols {
    /// Both families (`all`).
    pub const ALL: InetProtocols = InetProtocols {
        ipv4: true,
        ipv6: true,
    };
    /// IPv4 only.
    pub const IPV4: InetProtocols = InetProtocols {
        ipv4: true,
        ipv6: false,
    };

    /// Parses an `inet_protocols` value (`all`, `ipv4`, `ipv6`, separated by commas or
    /// blanks); the error is Postfix's text for an unknown name.
    pub fn parse(value: &str) -> Result<InetProtocols, String> {
        let mask = util::name_mask::name_mask(
            "inet_protocols",
            &[("ipv4", 1), ("ipv6", 2), ("all", 3)],
            value,
        )?;
        Ok(InetProtocols {
            ipv4: mask & 1 != 0,
            ipv6: mask & 2 != 0,
        })
    }

    /// The address record types to look up, in order (Postfix's `dns_atype_list`).
    pub fn address_types(self) -> Vec<RrType> {
        let mut types = Vec::new();
        if self.ipv4 {
            types.push(RrType::A);
        }
        if self.ipv6 {
            types.push(RrType::Aaaa);
        }
        types
    }

    /// Whether `addr` is of an enabled family (Postfix's `sa_family_list` test).
    pub fn accepts(self, addr: &IpAddr) -> bool {
        match addr {
            IpAddr::V4(_) => self.ipv4,
            IpAddr::V6(_) => self.ipv6,
        }
    }

    /// Whether both families are enabled (`ai_family_list` has two entries).
    pub fn both(self) -> bool {
        self.ipv4 && self.ipv6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_order() {
        assert_eq!(InetProtocols::parse("ipv6, ipv4"), Ok(InetProtocols::ALL));
        assert_eq!(InetProtocols::parse("all"), Ok(InetProtocols::ALL));
        assert_eq!(
            InetProtocols::parse("ipv6").map(InetProtocols::address_types),
            Ok(vec![RrType::Aaaa])
        );
        assert_eq!(
            InetProtocols::ALL.address_types(),
            [RrType::A, RrType::Aaaa]
        );
        assert_eq!(
            InetProtocols::parse("ipv5"),
            Err("unknown inet_protocols value \"ipv5\" in \"ipv5\"".into())
        );
        assert!(!InetProtocols::IPV4.accepts(&"::1".parse().unwrap()));
    }
}
