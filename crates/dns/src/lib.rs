//! DNS lookups with Postfix's semantics: what the SMTP server needs for client names,
//! `reject_unknown_*` and DNS block lists, and what the SMTP client needs to find mail
//! exchangers and their addresses.
//!
//! Postfix counterpart: `src/dns` (`dns_lookup.c`, `dns_rr*.c`, `dns_strerror.c`,
//! `dns_rr_filter.c`, `dns_sec.c` ([`dnssec`])), plus the DNS parts of `smtpd/smtpd_peer.c` ([`peer`]),
//! `smtpd/smtpd_check.c` ([`rbl`]), `smtp/smtp_addr.c` ([`smtp_addr`]),
//! `util/myaddrinfo.c` ([`hostdb`], [`native`]), `util/inet_proto.c` and
//! `util/ip_match.c`.
//!
//! # Layers
//!
//! - [`ResolvConf`] reads resolv.conf as glibc does; [`Resolver`] is a stub resolver of
//!   our own over it (UDP, TCP when a reply is truncated, search domains and `ndots`,
//!   glibc's error numbers, the file read again when it changes), reached through [`Resolver::lookup`] and
//!   [`Resolver::lookup_types`], which are Postfix's `dns_lookup()` and `dns_lookup_v()`:
//!   the same statuses ([`Status`]), the same reason texts, the same checks on names.
//! - [`hostdb`] is the name service as `getaddrinfo()`/`getnameinfo()` see it (the hosts
//!   file, then DNS with the search list); [`peer`] is smtpd's client name logic on top
//!   of it; [`native`] is `smtp_host_lookup = native` through the C library.
//! - [`smtp_addr`] turns a destination into an ordered list of addresses (MX preference,
//!   shuffling of equals, null MX, "loops back to myself", A/AAAA fallback); [`rbl`] asks
//!   DNS block lists.
//!
//! Everything takes plain values (no parameter lookups), so each daemon passes its own
//! settings, and tests point a [`Resolver`] at a server of their own.
//!
//! # Why our own stub resolver on hickory-proto
//!
//! The DNS library kept here is `hickory-proto` (the message layer of the Hickory DNS
//! project, MIT/Apache-2.0, MSRV 1.88), without its resolver:
//!
//! - Postfix's behaviour is glibc's resolver plus Postfix's own checks: which names are
//!   tried in which order, which errors mean "try again", what a truncated reply does.
//!   `hickory-resolver` has its own answers to those (caching, its own search and error
//!   classes) and an async runtime that no ironpost daemon has: they are synchronous,
//!   poll-based processes, one request at a time, as Postfix's are.
//! - Owning the exchange keeps the raw reply: the AD bit for `smtp_dns_support_level =
//!   dnssec` and DANE, the SOA TTL of negative answers for postscreen, the RCODE.
//! - It keeps the build lean: hickory-proto with only `std` adds about 45 small crates
//!   (12 s of a clean build on two cores), with no ring or aws-lc-sys (those come only
//!   with its DNSSEC features). The alternative, NLnet Labs' `domain` 0.12, is as light
//!   but its generic octet-sequence API is harder to read.
//!
//! Every wait is bounded by resolv.conf's timeout and attempts, every reply by the
//! protocol's 64 KiB, every record list by [`rr::RR_LIST_LIMIT`], and CNAME chains by ten
//! aliases.

mod answer;
pub mod dnssec;
pub mod filter;
#[doc(hidden)]
pub mod fuzz;
pub mod hostdb;
pub mod hosts;
pub mod inet_proto;
pub mod ip_match;
mod lookup;
pub mod native;
pub mod peer;
pub mod random;
pub mod rbl;
pub mod resolv_conf;
mod resolver;
pub mod rr;
pub mod smtp_addr;
pub mod status;
mod transport;
pub mod valid;

pub use filter::{ReplyFilter, TableError};
pub use lookup::ReqFlags;
pub use resolv_conf::ResolvConf;
pub use resolver::{ResFlags, Resolver};
pub use rr::{AddrPref, Rr, RrData, RrType};
pub use status::{DnsError, HErrno, Status};
