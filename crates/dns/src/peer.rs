//! The SMTP client's name: the reverse lookup of its address, confirmed by a forward
//! lookup of that name, and the status codes that `reject_unknown_client_hostname` and
//! `reject_unknown_reverse_client_hostname` act on.
//!
//! Postfix counterpart: `smtpd_peer_sockaddr_to_hostname()` and the address handling of
//! `smtpd_peer_sockaddr_to_hostaddr()` in `smtpd/smtpd_peer.c`. The reverse name is kept
//! when the reverse lookup gives a valid name; the client name only when the name's
//! addresses include the client's. Otherwise the name is `unknown`, with Postfix's warnings
//! ("hostname X does not resolve to address Y" with or without the lookup error), and a
//! status saying whether to reject (5), defer (4) or treat as forged (6).

use std::net::IpAddr;

use crate::hostdb::{HostDb, sockaddr_to_hostname};
use crate::inet_proto::InetProtocols;

/// The name Postfix uses for a client without a (confirmed) name.
pub const CLIENT_NAME_UNKNOWN: &str = "unknown";

/// How a name lookup ended (`SMTPD_PEER_CODE_*`); the number is the first digit of the
/// reply a `reject_unknown_*` restriction would give (forged counts as permanent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeerCode {
    /// The name is good.
    Ok = 2,
    /// The lookup failed for now (SERVFAIL, timeout).
    Temp = 4,
    /// There is no name.
    Perm = 5,
    /// The name does not resolve back to the address.
    Forged = 6,
}

impl PeerCode {
    /// Postfix's number for the code.
    pub fn code(self) -> u32 {
        self as u32
    }
}

/// The names of a client and how they were found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerName {
    /// The verified name, or `unknown`.
    pub name: String,
    /// The name the reverse lookup gave, verified or not, or `unknown`.
    pub reverse_name: String,
    /// Status of `name` (`reject_unknown_client_hostname`).
    pub name_status: PeerCode,
    /// Status of `reverse_name` (`reject_unknown_reverse_client_hostname`).
    pub reverse_name_status: PeerCode,
}

impl PeerName {
    fn unknown(status: PeerCode) -> PeerName {
        PeerName {
            name: CLIENT_NAME_UNKNOWN.to_string(),
            reverse_name: CLIENT_NAME_UNKNOWN.to_string(),
            name_status: status,
            reverse_name_status: status,
        }
    }
}

/// The address smtpd works with: an IPv4-mapped IPv6 address becomes the IPv4 address
/// when IPv4 is enabled, so that logging, name checks and access rules see the real one.
pub fn client_addr(addr: IpAddr, inet: InetProtocols) -> IpAddr {
    match addr {
        IpAddr::V6(v6) if inet.ipv4 => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        _ => addr,
    }
}

/// The address as it appears in headers and envelopes: `IPv6:` before an IPv6 address.
pub fn rfc_addr(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("IPv6:{v6}"),
    }
}

/// The client's names. With `lookup` false (`smtpd_peername_lookup = no`) both are
/// `unknown` with a permanent status, as in Postfix.
pub fn peer_name(db: &dyn HostDb, addr: IpAddr, lookup: bool) -> PeerName {
    if !lookup {
        return PeerName::unknown(PeerCode::Perm);
    }
    let name = match sockaddr_to_hostname(db, addr) {
        Ok(name) => name,
        Err(e) if e.is_temporary() => return PeerName::unknown(PeerCode::Temp),
        Err(_) => return PeerName::unknown(PeerCode::Perm),
    };
    let family = InetProtocols {
        ipv4: addr.is_ipv4(),
        ipv6: addr.is_ipv6(),
    };
    let forged = |status| PeerName {
        name: CLIENT_NAME_UNKNOWN.to_string(),
        reverse_name: name.clone(),
        name_status: status,
        reverse_name_status: PeerCode::Ok,
    };
    match db.name_to_addrs(&name, family) {
        Err(e) => {
            log::msg_warn!("hostname {name} does not resolve to address {addr}: {e}");
            forged(if e.is_temporary() {
                PeerCode::Temp
            } else {
                PeerCode::Forged
            })
        }
        Ok(addrs) if !addrs.contains(&addr) => {
            log::msg_warn!("hostname {name} does not resolve to address {addr}");
            forged(PeerCode::Forged)
        }
        Ok(_) => PeerName {
            reverse_name: name.clone(),
            name,
            name_status: PeerCode::Ok,
            reverse_name_status: PeerCode::Ok,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hostdb::AiError;

    /// A name service with one reverse and one forward answer.
    struct Fixed {
        reverse: Result<&'static str, AiError>,
        forward: Result<Vec<IpAddr>, AiError>,
    }

    impl HostDb for Fixed {
        fn addr_to_name(&self, _: IpAddr) -> Result<String, AiError> {
            self.reverse.map(str::to_string)
        }
        fn name_to_addrs(&self, _: &str, _: InetProtocols) -> Result<Vec<IpAddr>, AiError> {
            self.forward.clone()
        }
    }

    const ADDR: &str = "192.0.2.10";

    fn name(
        reverse: Result<&'static str, AiError>,
        forward: Result<Vec<IpAddr>, AiError>,
    ) -> PeerName {
        peer_name(&Fixed { reverse, forward }, ADDR.parse().unwrap(), true)
    }

    #[test]
    fn confirmed_forged_and_failed() {
        let ok = name(Ok("mail.example.com"), Ok(vec![ADDR.parse().unwrap()]));
        assert_eq!(
            (ok.name.as_str(), ok.name_status),
            ("mail.example.com", PeerCode::Ok)
        );
        let other = name(
            Ok("mail.example.com"),
            Ok(vec!["192.0.2.11".parse().unwrap()]),
        );
        assert_eq!(
            (other.name.as_str(), other.name_status),
            ("unknown", PeerCode::Forged)
        );
        assert_eq!(other.reverse_name, "mail.example.com");
        assert_eq!(other.reverse_name_status, PeerCode::Ok);
        let temp = name(Ok("mail.example.com"), Err(AiError::Again));
        assert_eq!(temp.name_status, PeerCode::Temp);
        let gone = name(Ok("mail.example.com"), Err(AiError::NoName));
        assert_eq!(gone.name_status, PeerCode::Forged);
        let none = name(Err(AiError::NoName), Ok(vec![]));
        assert_eq!(
            (none.reverse_name.as_str(), none.reverse_name_status),
            ("unknown", PeerCode::Perm)
        );
        let later = name(Err(AiError::Again), Ok(vec![]));
        assert_eq!(later.reverse_name_status, PeerCode::Temp);
        let numeric = name(Ok("192.0.2.10"), Ok(vec![ADDR.parse().unwrap()]));
        assert_eq!(numeric.name_status, PeerCode::Perm);
        let off = peer_name(
            &Fixed {
                reverse: Ok("x"),
                forward: Ok(vec![]),
            },
            ADDR.parse().unwrap(),
            false,
        );
        assert_eq!(off, PeerName::unknown(PeerCode::Perm));
    }

    #[test]
    fn addresses() {
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(
            client_addr(mapped, InetProtocols::ALL).to_string(),
            "192.0.2.1"
        );
        let v6only = InetProtocols {
            ipv4: false,
            ipv6: true,
        };
        assert_eq!(client_addr(mapped, v6only), mapped);
        assert_eq!(rfc_addr("2001:db8::1".parse().unwrap()), "IPv6:2001:db8::1");
    }
}
