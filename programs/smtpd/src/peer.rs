//! The client at the other end: its address, port and names, and the `name[addr]` form
//! every log line uses.
//!
//! Postfix counterpart: `smtpd/smtpd_peer.c` (`smtpd_peer_init()`). The name comes from
//! `dns::peer` (a reverse lookup confirmed by a forward lookup, `unknown` when either
//! fails, or always with `smtpd_peername_lookup = no`). A client on standard input (`-S`)
//! is `localhost[127.0.0.1]` as in Postfix's stand-alone mode.

use dns::peer::{PeerCode, PeerName};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The client endpoint of a session.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The verified name or `unknown`.
    pub name: String,
    /// The unverified reverse name or `unknown`.
    pub reverse_name: String,
    /// How the name lookup went (`reject_unknown_client_hostname`).
    pub name_status: PeerCode,
    /// How the reverse lookup went (`reject_unknown_reverse_client_hostname`).
    pub reverse_name_status: PeerCode,
    /// The address as text.
    pub addr: String,
    /// The address as `IPv6:...` for headers.
    pub rfc_addr: String,
    /// The client port as text.
    pub port: String,
    /// The server address and port the client connected to.
    pub server: Option<SocketAddr>,
    /// The server address as the queue file and policy servers get it (Postfix's
    /// `dest_addr`): `server`'s, or what XCLIENT DESTADDR said (`unknown` for
    /// `[UNAVAILABLE]`).
    pub dest_addr: Option<String>,
    /// The server port likewise (`dest_port`).
    pub dest_port: Option<String>,
    /// The address the connection really comes from (Postfix's `sockaddr`): XCLIENT
    /// replaces `addr`, never this.
    pub sockaddr: Option<IpAddr>,
    /// `name[addr]`, or `name[addr]:port` with `smtpd_client_port_logging`.
    pub namaddr: String,
}

impl Peer {
    /// The peer of a connection from `remote` to `local`.
    pub fn new(
        remote: SocketAddr,
        local: Option<SocketAddr>,
        settings: &crate::settings::Settings,
    ) -> Peer {
        let ip = dns::peer::client_addr(remote.ip(), settings.inet);
        // Kept by the process; resolv.conf and the hosts file are looked at again (their
        // times) at each lookup, as they may change while the process lives.
        let resolver = dns::Resolver::system_shared();
        let db = dns::hostdb::FilesDns::system(&resolver);
        let names = dns::peer::peer_name(&db, ip, settings.peername_lookup);
        Peer::with_names(
            names,
            ip,
            remote.port(),
            local,
            settings.client_port_logging,
        )
    }

    /// The stand-alone client (`-S`, `sendmail -bs`).
    pub fn local() -> Peer {
        let names = PeerName {
            name: "localhost".into(),
            reverse_name: "localhost".into(),
            name_status: PeerCode::Ok,
            reverse_name_status: PeerCode::Ok,
        };
        Peer::with_names(names, IpAddr::V4(Ipv4Addr::LOCALHOST), 0, None, false)
    }

    fn with_names(
        names: PeerName,
        ip: IpAddr,
        port: u16,
        server: Option<SocketAddr>,
        port_logging: bool,
    ) -> Peer {
        let addr = ip.to_string();
        let namaddr = if port_logging {
            format!("{}[{addr}]:{port}", names.name)
        } else {
            format!("{}[{addr}]", names.name)
        };
        Peer {
            sockaddr: Some(ip),
            rfc_addr: dns::peer::rfc_addr(ip),
            name: names.name,
            reverse_name: names.reverse_name,
            name_status: names.name_status,
            reverse_name_status: names.reverse_name_status,
            addr,
            port: port.to_string(),
            dest_addr: server.map(|s| s.ip().to_string()),
            dest_port: server.map(|s| s.port().to_string()),
            server,
            namaddr,
        }
    }
}
