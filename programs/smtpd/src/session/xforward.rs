//! XFORWARD: an authorized client (a content filter's SMTP client) tells smtpd about the
//! original client, for the log and the queue file.
//!
//! Postfix counterparts: `xforward_cmd()`, the XFORWARD parts of `mail_open_stream()` and
//! `mail_reset()` in `smtpd/smtpd.c`, and `smtpd/smtpd_xforward.c`. Clients in
//! `smtpd_authorized_xforward_hosts` see the keyword in EHLO and may send NAME, ADDR,
//! PORT, PROTO, HELO, IDENT and SOURCE outside a transaction; `[UNAVAILABLE]` clears one.
//! The forwarded client replaces the real one in the `log_*` attributes and the
//! `client=` line (`orig_client=`, `orig_queue_id=`), never in the restrictions or the
//! Received: header; everything is forgotten when the transaction ends.

use super::Session;
use crate::io::Wire;
use smtp_proto::{Reject, Reply, Token, Verb};

/// `[UNAVAILABLE]`.
pub(super) const UNAVAILABLE: &str = "[UNAVAILABLE]";
/// Characters that XFORWARD values may not carry into the log (`NEUTER_CHARACTERS`).
const NEUTER: &str = " <>()\\\";@";

/// What an XFORWARD client said (`SMTPD_XFORWARD_ATTR`).
#[derive(Debug, Clone, Default)]
pub struct XForward {
    /// NAME, ADDR, PORT, PROTO or HELO was given: the client attributes are forwarded.
    pub client: bool,
    /// The client name (`unknown` until given).
    pub name: String,
    /// The bare address.
    pub addr: String,
    /// The address as the log shows it (`IPv6:` for IPv6).
    pub rfc_addr: String,
    /// The port.
    pub port: String,
    /// `name[addr]` or just the name.
    pub namaddr: String,
    /// The protocol.
    pub protocol: String,
    /// The HELO name.
    pub helo: Option<String>,
    /// The up-stream queue id.
    pub ident: Option<String>,
    /// The rewriting context, from SOURCE.
    pub domain: Option<&'static str>,
}

impl XForward {
    /// `smtpd_xforward_preset()`.
    fn preset() -> XForward {
        let unknown = dns::peer::CLIENT_NAME_UNKNOWN.to_string();
        XForward {
            name: unknown.clone(),
            addr: unknown.clone(),
            rfc_addr: unknown.clone(),
            port: unknown.clone(),
            namaddr: unknown.clone(),
            protocol: unknown,
            ..XForward::default()
        }
    }
}

/// `neuter()`: the characters of [`NEUTER`] made `?`.
pub(super) fn neuter(value: &str) -> String {
    value
        .chars()
        .map(|c| if NEUTER.contains(c) { '?' } else { c })
        .collect()
}

/// `normalize_mailhost_addr()` for an IPv4-only or dual-stack server: the bare address
/// and the log form, None when it is not an address of an enabled family.
pub(super) fn normalize_addr(
    value: &str,
    inet: dns::inet_proto::InetProtocols,
) -> Option<(String, String)> {
    let bare = value
        .strip_prefix("IPv6:")
        .or_else(|| value.strip_prefix("ipv6:"))
        .unwrap_or(value);
    let ip: std::net::IpAddr = bare.parse().ok()?;
    let ip = match ip {
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) if inet.ipv4 => std::net::IpAddr::V4(v4),
            _ => ip,
        },
        v4 => v4,
    };
    match ip {
        std::net::IpAddr::V4(_) if inet.ipv4 => Some((ip.to_string(), ip.to_string())),
        std::net::IpAddr::V6(_) if inet.ipv6 => Some((ip.to_string(), format!("IPv6:{ip}"))),
        _ => None,
    }
}

impl<W: Wire> Session<'_, W> {
    /// XFORWARD attribute=value...
    pub(super) fn xforward_command(&mut self, args: &[Token]) -> Result<Reply, Reject> {
        smtp_proto::xattr_check(
            Verb::Xforward,
            args,
            self.txn.in_mail(),
            self.xforward_allowed,
        )?;
        let mut forward = self.xforward.take().unwrap_or_else(XForward::preset);
        let result = self.xforward_attributes(args, &mut forward);
        self.xforward = Some(forward);
        result.map(|()| Reply::new("250 2.0.0 Ok"))
    }

    /// Applies the attributes in order; the first bad one is the reply (the values before
    /// it stay, but count as given only when all were good, as in Postfix).
    fn xforward_attributes(&self, args: &[Token], f: &mut XForward) -> Result<(), Reject> {
        let unknown = dns::peer::CLIENT_NAME_UNKNOWN;
        let (mut client, mut namaddr) = (false, false);
        for attr in smtp_proto::attributes(args, self.settings.smtputf8) {
            let attr = attr?;
            let name = String::from_utf8_lossy(&attr.name).to_ascii_uppercase();
            let value = attr.value.as_str();
            let unavailable = value == UNAVAILABLE;
            let neutered = neuter(value);
            let bad = |value: &str| smtp_proto::bad_value(&name, value);
            match name.as_str() {
                "NAME" if unavailable => f.name = unknown.to_string(),
                "NAME" if util::valid_hostname::valid_hostname(&neutered) => f.name = neutered,
                "NAME" => return Err(bad(&neutered)),
                "ADDR" if unavailable => f.addr = unknown.to_string(),
                "ADDR" => match normalize_addr(&neutered, self.settings.inet) {
                    Some((addr, rfc)) => (f.addr, f.rfc_addr) = (addr, rfc),
                    None => return Err(bad(&neutered)),
                },
                "PORT" if unavailable => f.port = unknown.to_string(),
                "PORT" if value.bytes().all(|b| b.is_ascii_digit()) && value.len() <= 5 => {
                    f.port = value.to_string();
                }
                "PORT" => return Err(bad(value)),
                "HELO" => f.helo = (!unavailable).then_some(neutered),
                "PROTO" if unavailable => f.protocol = unknown.to_string(),
                "PROTO" if value.len() > 64 => return Err(bad(value)),
                "PROTO" => f.protocol = neutered,
                "IDENT" => f.ident = (!unavailable).then_some(neutered),
                "SOURCE" => {
                    f.domain = Some(match value {
                        UNAVAILABLE | "LOCAL" => global::rewrite_clnt::RULE_LOCAL,
                        "REMOTE" => global::rewrite_clnt::RULE_REMOTE,
                        _ => return Err(bad(value)),
                    });
                }
                _ => return Err(smtp_proto::bad_name(Verb::Xforward, &attr.name)),
            }
            client |= !matches!(name.as_str(), "IDENT" | "SOURCE");
            namaddr |= matches!(name.as_str(), "NAME" | "ADDR" | "PORT");
        }
        f.client |= client;
        if namaddr {
            f.namaddr = if f.addr != unknown {
                let port = if self.settings.client_port_logging {
                    format!(":{}", f.port)
                } else {
                    String::new()
                };
                format!("{}[{}]{port}", f.name, f.addr)
            } else {
                f.name.clone()
            };
        }
        Ok(())
    }
}
