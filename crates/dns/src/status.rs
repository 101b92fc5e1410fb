//! Lookup result classes, the resolver's error numbers and their texts.
//!
//! Postfix counterparts: the `DNS_*` status codes of `dns/dns.h` (with their precedence when
//! one request makes several queries) and `dns/dns_strerror.c` (the `h_errno` texts that end
//! Postfix's "Name service error for name=... type=...: ..." lines).

use std::fmt;

use crate::rr::Rr;

/// How a lookup ended. The declaration order is Postfix's precedence (`DNS_NOTFOUND` lowest,
/// `DNS_OK` highest), so when a request makes several queries the greatest status wins: any
/// success beats a temporary error, which beats a "not found".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// `DNS_NOTFOUND`: the query worked; the name or the data does not exist. See
    /// [`DnsError::h_errno`] to tell NXDOMAIN (`HostNotFound`) from NODATA (`NoData`).
    NotFound,
    /// `DNS_NULLMX`: the domain publishes a null MX (RFC 7505): it accepts no mail.
    NullMx,
    /// `DNS_FAIL`: the query failed for good (FORMERR and the like).
    Fail,
    /// `DNS_INVAL`: the reply names a host that fails Postfix's `valid_hostname()`.
    Inval,
    /// `DNS_RETRY`: SERVFAIL, no answer in time, or a reply that does not parse.
    Retry,
    /// `DNS_POLICY`: the reply filter dropped every record.
    Policy,
    /// `DNS_OK`.
    Ok,
}

impl Status {
    /// Postfix's numeric value (`DNS_OK` is 0, failures are negative), for verbose logging.
    pub fn code(self) -> i32 {
        self as i32 - Status::Ok as i32
    }
}

/// The resolver library's error number (`h_errno`), which decides Postfix's status and
/// the text at the end of its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HErrno {
    /// No error (0).
    None,
    /// `HOST_NOT_FOUND`: NXDOMAIN.
    HostNotFound,
    /// `TRY_AGAIN`: SERVFAIL, REFUSED or no answer from any server.
    TryAgain,
    /// `NO_RECOVERY`: FORMERR, NOTIMP and other final errors.
    NoRecovery,
    /// `NO_DATA`: the name exists without records of the requested type.
    NoData,
}

impl HErrno {
    /// `dns_strerror()`: the text Postfix puts after the colon.
    pub fn text(self) -> &'static str {
        match self {
            HErrno::None => "Unknown error 0",
            HErrno::HostNotFound => "Host not found",
            HErrno::TryAgain => "Host not found, try again",
            HErrno::NoRecovery => "Non-recoverable error",
            HErrno::NoData => "Host found but no data record of requested type",
        }
    }
}

/// A lookup that did not end in `DNS_OK`: the status, Postfix's reason text (its `why`
/// argument), the reply code when a server answered, and what `dns_get_h_errno()` would say.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsError {
    /// The result class.
    pub status: Status,
    /// The reason exactly as Postfix words it, e.g. "Host or domain name not found. Name
    /// service error for name=example.com type=MX: Host not found, try again".
    pub why: String,
    /// The reply's RCODE when a server answered (Postfix's `rcode` argument).
    pub rcode: Option<u16>,
    /// The resolver error number behind the status.
    pub h_errno: HErrno,
    /// With `ncache_ttl` requested and a "not found" answer: the SOA records of the
    /// authority section, whose TTLs say how long the negative answer holds (RFC 2308).
    pub soa: Vec<Rr>,
}

impl DnsError {
    /// An error without a server reply behind it.
    pub(crate) fn new(status: Status, h_errno: HErrno, why: String) -> DnsError {
        DnsError {
            status,
            why,
            rcode: None,
            h_errno,
            soa: Vec::new(),
        }
    }
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.why)
    }
}

impl std::error::Error for DnsError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_codes_are_postfix_s() {
        assert!(Status::Ok > Status::Policy);
        assert!(Status::Policy > Status::Retry);
        assert!(Status::Retry > Status::Inval);
        assert!(Status::Fail > Status::NullMx);
        assert!(Status::NullMx > Status::NotFound);
        assert_eq!(Status::Ok.code(), 0);
        assert_eq!(Status::Retry.code(), -2);
        assert_eq!(Status::NotFound.code(), -6);
    }

    #[test]
    fn texts() {
        assert_eq!(HErrno::TryAgain.text(), "Host not found, try again");
        assert_eq!(
            HErrno::NoData.text(),
            "Host found but no data record of requested type"
        );
    }
}
