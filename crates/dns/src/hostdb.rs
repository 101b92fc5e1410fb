//! Host names and addresses as the C library's name service gives them (`getaddrinfo()`,
//! `getnameinfo()`), with Postfix's checks on the names it accepts.
//!
//! Postfix counterpart: `util/myaddrinfo.c` (`hostname_to_sockaddr_pf()`,
//! `sockaddr_to_hostname()` and the `EAI_*` texts of `gai_strerror()`). [`FilesDns`] is
//! the name service of a stock Debian system ("hosts: files dns"): the hosts file, then DNS
//! through our resolver, with the search list for forward lookups, as glibc does; error
//! numbers map as glibc maps them (NXDOMAIN: `EAI_NONAME`, NODATA: `EAI_NODATA`,
//! SERVFAIL or no answer: `EAI_AGAIN`, other failures: `EAI_FAIL`).

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::rc::Rc;

use crate::hosts::HostsFile;
use crate::inet_proto::InetProtocols;
use crate::lookup::{Checks, ReqFlags};
use crate::resolver::{ResFlags, Resolver};
use crate::rr::{RrData, RrType};
use crate::status::{DnsError, HErrno, Status};
use crate::valid::check_hostname;

/// A `getaddrinfo()`/`getnameinfo()` error, with glibc's `gai_strerror()` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AiError {
    /// `EAI_AGAIN`.
    Again,
    /// `EAI_FAIL`.
    Fail,
    /// `EAI_NODATA`.
    NoData,
    /// `EAI_NONAME`.
    NoName,
    /// `EAI_MEMORY`.
    Memory,
    /// `EAI_SYSTEM`.
    System,
    /// `EAI_FAMILY`.
    Family,
}

impl AiError {
    /// glibc's text for the error.
    pub fn text(self) -> &'static str {
        match self {
            AiError::Again => "Temporary failure in name resolution",
            AiError::Fail => "Non-recoverable failure in name resolution",
            AiError::NoData => "No address associated with hostname",
            AiError::NoName => "Name or service not known",
            AiError::Memory => "Memory allocation failure",
            AiError::System => "System error",
            AiError::Family => "ai_family not supported",
        }
    }

    /// Postfix's `TEMP_AI_ERROR()`/`RETRY_AI_ERROR()`: worth trying again later.
    pub fn is_temporary(self) -> bool {
        matches!(self, AiError::Again | AiError::Memory | AiError::System)
    }

    /// The error whose text is `text`, if glibc has one.
    pub fn from_text(text: &str) -> Option<AiError> {
        [
            AiError::Again,
            AiError::Fail,
            AiError::NoData,
            AiError::NoName,
            AiError::Memory,
            AiError::System,
            AiError::Family,
        ]
        .into_iter()
        .find(|e| e.text() == text)
    }
}

impl fmt::Display for AiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// A name service.
pub trait HostDb {
    /// `getnameinfo(NI_NAMEREQD)`: the name of `addr`.
    fn addr_to_name(&self, addr: IpAddr) -> Result<String, AiError>;

    /// `getaddrinfo()` restricted to the `families` given: the addresses of `name`.
    fn name_to_addrs(&self, name: &str, families: InetProtocols) -> Result<Vec<IpAddr>, AiError>;
}

/// The hosts file, then DNS.
pub struct FilesDns<'a> {
    hosts: Rc<HostsFile>,
    resolver: &'a Resolver,
}

impl<'a> FilesDns<'a> {
    /// The system's hosts file (the thread's [`HostsFile::system`], looked at again for
    /// each lookup) and `resolver`.
    pub fn system(resolver: &'a Resolver) -> FilesDns<'a> {
        FilesDns {
            hosts: HostsFile::system(),
            resolver,
        }
    }

    /// The hosts file at `hosts` (looked at again for each lookup) and `resolver`.
    pub fn new(hosts: &Path, resolver: &'a Resolver) -> FilesDns<'a> {
        FilesDns {
            hosts: Rc::new(HostsFile::new(hosts)),
            resolver,
        }
    }
}

impl HostDb for FilesDns<'_> {
    fn addr_to_name(&self, addr: IpAddr) -> Result<String, AiError> {
        if let Some(name) = self.hosts.current().name(addr) {
            return Ok(name.to_string());
        }
        let query = format!(
            "{}.{}",
            reversed(addr),
            if addr.is_ipv4() {
                "in-addr.arpa"
            } else {
                "ip6.arpa"
            }
        );
        let records = self
            .resolver
            .lookup_with(
                &query,
                RrType::Ptr,
                ResFlags::default(),
                ReqFlags::default(),
                Checks::NameService,
            )
            .map_err(|e| match e.status {
                Status::Retry => AiError::Again,
                _ => AiError::NoName,
            })?;
        records
            .into_iter()
            .find_map(|rr| match rr.data {
                RrData::Ptr(name) => Some(name),
                _ => None,
            })
            .ok_or(AiError::NoName)
    }

    fn name_to_addrs(&self, name: &str, families: InetProtocols) -> Result<Vec<IpAddr>, AiError> {
        let files = self
            .hosts
            .current()
            .addrs(name, |addr| families.accepts(addr));
        if !files.is_empty() {
            return Ok(files);
        }
        let types = families.address_types();
        if types.is_empty() {
            return Err(AiError::Family);
        }
        let records = self
            .resolver
            .lookup_types_with(
                name,
                &types,
                ResFlags::SEARCH,
                ReqFlags::default(),
                Checks::NameService,
            )
            .map_err(|e| ai_error(&e))?;
        Ok(records.iter().filter_map(|rr| rr.addr()).collect())
    }
}

/// The `getaddrinfo()` error for a failed lookup.
fn ai_error(error: &DnsError) -> AiError {
    match (error.status, error.h_errno) {
        (Status::NotFound, HErrno::NoData) => AiError::NoData,
        (Status::NotFound, _) => AiError::NoName,
        (Status::Retry, _) => AiError::Again,
        _ => AiError::Fail,
    }
}

/// `sockaddr_to_hostname()`: the name of `addr`, refused (`EAI_NONAME`, with Postfix's
/// warning) when it is numeric or not a valid host name, so that no forged or garbled
/// name reaches access checks or logs.
pub fn sockaddr_to_hostname(db: &dyn HostDb, addr: IpAddr) -> Result<String, AiError> {
    let name = db.addr_to_name(addr)?;
    if util::valid_hostname::valid_hostaddr(&name) {
        log::msg_warn!("numeric hostname: {name}");
        return Err(AiError::NoName);
    }
    if let Err(why) = check_hostname(&name, false) {
        log::msg_warn!("{why}");
        return Err(AiError::NoName);
    }
    Ok(name)
}

/// The labels of a reverse lookup for `addr`, without the suffix: `4.3.2.1` for
/// 1.2.3.4, 32 hexadecimal nibbles lowest first for IPv6 (as PTR and DNSBL queries use).
pub fn reversed(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}")
        }
        IpAddr::V6(v6) => v6
            .octets()
            .iter()
            .rev()
            .map(|byte| format!("{:x}.{:x}", byte & 0xf, byte >> 4))
            .collect::<Vec<_>>()
            .join("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reversed_names() {
        assert_eq!(reversed("192.0.2.1".parse().unwrap()), "1.2.0.192");
        let v6 = reversed("2001:db8::1".parse().unwrap());
        assert!(v6.starts_with("1.0.0.0.0.0.0.0"), "{v6}");
        assert!(v6.ends_with("8.b.d.0.1.0.0.2"), "{v6}");
        assert_eq!(v6.split('.').count(), 32);
    }

    #[test]
    fn error_texts() {
        assert_eq!(AiError::NoName.text(), "Name or service not known");
        assert_eq!(
            AiError::from_text("Temporary failure in name resolution"),
            Some(AiError::Again)
        );
        assert!(AiError::Again.is_temporary() && !AiError::NoData.is_temporary());
    }
}
