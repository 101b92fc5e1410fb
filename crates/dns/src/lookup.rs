//! Looking up records of one or several types for a name, with Postfix's statuses and
//! reason texts: the interface the SMTP server and client use.
//!
//! Postfix counterpart: `dns_lookup_x()`, `dns_query()` and `dns_lookup_rv()` in
//! `dns/dns_lookup.c`. Numeric and malformed names are "not found" without a query; CNAME
//! chains are followed up to ten aliases; a failed query's reason is "Host or domain name
//! not found. Name service error for name=N type=T: <h_errno text>"; a reply without
//! usable records is "Malformed or unexpected name server reply"; the reply filter may
//! drop records ("DNS reply filter drops all results", `DNS_POLICY`). With several types,
//! the best status wins (see [`Status`]).

use crate::answer::{self, Extracted};
use crate::filter::{self, ReplyFilter};
use crate::resolver::{Failure, ResFlags, Resolver};
use crate::rr::{RR_LIST_LIMIT, Rr, RrType, append_limited};
use crate::status::{DnsError, HErrno, Status};
use crate::valid::valid_hostname;
use crate::{dnssec, transport};

/// Postfix's limit on CNAME indirections in one lookup.
const MAX_ALIASES: usize = 10;
/// The RCODE Postfix reports for names it refuses to look up.
const NXDOMAIN: u16 = 3;

/// What a lookup checks beyond the DNS itself.
#[derive(Clone, Copy)]
pub(crate) enum Checks<'a> {
    /// Postfix's: every name in the reply must be a valid host name, and the reply filter,
    /// if any, sees the records.
    Postfix(Option<&'a dyn ReplyFilter>),
    /// The C library's, for name service emulation: names are taken as they come (the
    /// caller checks the one it uses), no filter.
    NameService,
}

/// Postfix's `lflags`: when a lookup of several types stops, and negative caching.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReqFlags {
    /// `DNS_REQ_FLAG_STOP_OK`: stop at the first type found.
    pub stop_ok: bool,
    /// `DNS_REQ_FLAG_STOP_INVAL`: stop at a malformed reply.
    pub stop_inval: bool,
    /// `DNS_REQ_FLAG_STOP_NULLMX`: stop at a null MX.
    pub stop_nullmx: bool,
    /// `DNS_REQ_FLAG_STOP_MX_POLICY`: stop when the filter drops every MX record.
    pub stop_mx_policy: bool,
    /// `DNS_REQ_FLAG_NCACHE_TTL`: with "not found", return the reply's SOA records (their
    /// TTL is how long the answer holds). Turns off search domains.
    pub ncache_ttl: bool,
}

impl ReqFlags {
    /// `DNS_REQ_FLAG_STOP_OK` alone (e.g. `reject_unknown_helo_hostname`: A, AAAA, MX).
    pub const STOP_OK: ReqFlags = ReqFlags {
        stop_ok: true,
        stop_inval: false,
        stop_nullmx: false,
        stop_mx_policy: false,
        ncache_ttl: false,
    };

    /// smtpd's `MAILHOST_LOOKUP_FLAGS` (`reject_unknown_sender_domain` and
    /// `reject_unknown_recipient_domain`: MX, A, AAAA).
    pub const MAILHOST: ReqFlags = ReqFlags {
        stop_ok: true,
        stop_inval: true,
        stop_nullmx: true,
        stop_mx_policy: true,
        ncache_ttl: false,
    };
}

impl Resolver {
    /// `dns_lookup()`: the `rtype` records of `name`, through the reply filter if the
    /// resolver has one.
    pub fn lookup(&self, name: &str, rtype: RrType, flags: ResFlags) -> Result<Vec<Rr>, DnsError> {
        self.lookup_x(name, rtype, flags, ReqFlags::default())
    }

    /// `dns_lookup_x()`: [`Resolver::lookup`] with request flags.
    pub fn lookup_x(
        &self,
        name: &str,
        rtype: RrType,
        flags: ResFlags,
        req: ReqFlags,
    ) -> Result<Vec<Rr>, DnsError> {
        self.lookup_with(
            name,
            rtype,
            flags,
            req,
            Checks::Postfix(self.filter.as_deref()),
        )
    }

    /// `dns_lookup_v()`: the records of each of `types` in turn, stopping as `req` says.
    /// The records of every successful type are returned together; when none succeeded,
    /// the error is the one of highest precedence (the last of equals).
    pub fn lookup_types(
        &self,
        name: &str,
        types: &[RrType],
        flags: ResFlags,
        req: ReqFlags,
    ) -> Result<Vec<Rr>, DnsError> {
        let checks = Checks::Postfix(self.filter.as_deref());
        self.lookup_types_with(name, types, flags, req, checks)
    }

    /// [`Resolver::lookup_types`] with explicit checks.
    pub(crate) fn lookup_types_with(
        &self,
        name: &str,
        types: &[RrType],
        flags: ResFlags,
        req: ReqFlags,
        checks: Checks<'_>,
    ) -> Result<Vec<Rr>, DnsError> {
        let mut records = Vec::new();
        let mut soa = Vec::new();
        let mut best: Option<(Status, Option<DnsError>)> = None;
        for &rtype in types {
            let mut truncated = false;
            let (status, error) = match self.lookup_with(name, rtype, flags, req, checks) {
                Ok(list) => {
                    truncated = append_limited(&mut records, list, RR_LIST_LIMIT);
                    (Status::Ok, None)
                }
                Err(mut error) => {
                    soa.append(&mut error.soa);
                    (error.status, Some(error))
                }
            };
            let stop = match status {
                Status::Ok => req.stop_ok,
                Status::Inval => req.stop_inval,
                Status::Policy => rtype == RrType::Mx && req.stop_mx_policy,
                Status::NullMx => req.stop_nullmx,
                _ => false,
            };
            if best.as_ref().is_none_or(|(best, _)| status >= *best) {
                best = Some((status, error));
            }
            if truncated || stop {
                break;
            }
        }
        match best {
            Some((_, Some(mut error))) => {
                error.soa = soa;
                Err(error)
            }
            _ => Ok(records),
        }
    }

    /// `dns_lookup_x()` with explicit checks.
    pub(crate) fn lookup_with(
        &self,
        name: &str,
        rtype: RrType,
        mut flags: ResFlags,
        req: ReqFlags,
        checks: Checks<'_>,
    ) -> Result<Vec<Rr>, DnsError> {
        if util::valid_hostname::valid_hostaddr(name)
            || (name != "." && !valid_hostname(name, true))
        {
            return Err(DnsError {
                rcode: Some(NXDOMAIN),
                ..DnsError::new(
                    Status::NotFound,
                    HErrno::HostNotFound,
                    format!("Name service error for {name}: invalid host or domain name"),
                )
            });
        }
        if req.ncache_ttl && (flags.defnames || flags.dnsrch) {
            log::msg_warn!("negative caching disables RES_DEFNAMES and RES_DNSRCH");
            flags.defnames = false;
            flags.dnsrch = false;
        }
        let orig_name = name;
        let orig_flags = flags;
        let mut name = name.to_string();
        let mut maybe_secure = true;
        for _ in 0..MAX_ALIASES {
            // glibc clears the AD bit unless the resolver is trusted to validate.
            let trust_ad = self.conf().trust_ad || flags.dnssec;
            let searched = self.search(&name, rtype, flags);
            let raw = match &searched {
                Ok(reply) => Some(reply.bytes.as_slice()),
                Err(failure) => failure.reply.as_deref(),
            };
            dnssec::note_reply(trust_ad && raw.is_some_and(transport::authentic));
            dnssec::after_lookup(self, orig_flags);
            let reply = match searched {
                Ok(reply) => reply,
                Err(failure) => return Err(query_error(&name, rtype, orig_name, failure, req)),
            };
            let extracted = match answer::parse(&reply.bytes) {
                Some(mut parsed) => {
                    if !trust_ad {
                        parsed.distrust_ad();
                    }
                    let check_names = matches!(checks, Checks::Postfix(_));
                    answer::answers(
                        &mut parsed,
                        orig_name,
                        rtype,
                        &mut maybe_secure,
                        check_names,
                    )
                }
                None => Extracted::Failed(Status::Retry),
            };
            let target = match extracted {
                Extracted::Found(list) => return finish(&name, rtype, Ok(list), checks),
                Extracted::Failed(status) => return finish(&name, rtype, Err(status), checks),
                Extracted::Alias(target) => target,
            };
            if log::verbose() > 0 {
                log::msg_info!("dns_lookup: {name} aliased to {target}");
            }
            // Past an alias that was not validated, nothing is.
            flags.dnssec &= maybe_secure;
            name = target;
        }
        log::msg_warn!("dns_lookup: Name server loop for {name}");
        Err(DnsError::new(
            Status::NotFound,
            HErrno::None,
            format!("Name server loop for {name}"),
        ))
    }
}

/// The error for a query that failed (`dns_query()`): "Host or domain name not found...",
/// with the SOA records of a negative reply when `ncache_ttl` asks for them.
fn query_error(
    name: &str,
    rtype: RrType,
    orig_name: &str,
    failure: Failure,
    req: ReqFlags,
) -> DnsError {
    let status = match failure.h_errno {
        HErrno::NoRecovery => Status::Fail,
        HErrno::HostNotFound | HErrno::NoData => Status::NotFound,
        _ => Status::Retry,
    };
    let soa = match &failure.reply {
        Some(reply) if status == Status::NotFound && req.ncache_ttl => answer::parse(reply)
            .map(|mut parsed| answer::authority_soa(&mut parsed, orig_name))
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    if log::verbose() > 0 {
        log::msg_info!("dns_query: {name} ({rtype}): {}", failure.h_errno.text());
    }
    DnsError {
        rcode: failure.rcode,
        soa,
        ..DnsError::new(
            status,
            failure.h_errno,
            format!(
                "Host or domain name not found. Name service error for name={name} \
                 type={rtype}: {}",
                failure.h_errno.text()
            ),
        )
    }
}

/// The end of a lookup whose reply was read: the records through the filter, or the
/// error for a null MX or a reply without usable records.
fn finish(
    name: &str,
    rtype: RrType,
    extracted: Result<Vec<Rr>, Status>,
    checks: Checks<'_>,
) -> Result<Vec<Rr>, DnsError> {
    let fail = |status, h_errno, why: String| {
        Err(DnsError {
            rcode: Some(0),
            ..DnsError::new(status, h_errno, why)
        })
    };
    let mut list = match extracted {
        Ok(list) => list,
        Err(Status::NullMx) => {
            let why = format!("Domain {name} does not accept mail (nullMX)");
            return fail(Status::NullMx, HErrno::NoData, why);
        }
        Err(status) => {
            let why = format!(
                "Name service error for name={name} type={rtype}: Malformed or unexpected name \
                 server reply"
            );
            return fail(status, HErrno::None, why);
        }
    };
    let Checks::Postfix(Some(filter)) = checks else {
        return Ok(list);
    };
    if filter::execute(filter, &mut list).is_err() {
        let why =
            format!("Error looking up name={name} type={rtype}: Invalid DNS reply filter syntax");
        return fail(Status::Retry, HErrno::None, why);
    }
    if list.is_empty() {
        let why = format!(
            "Error looking up name={name} type={rtype}: DNS reply filter drops all results"
        );
        return fail(Status::Policy, HErrno::None, why);
    }
    Ok(list)
}
