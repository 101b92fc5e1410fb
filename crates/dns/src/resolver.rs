//! The stub resolver: one query for one name (`res_query`), and the search-list walk that
//! decides which names to try (`res_search`), with the resolver's error number.
//!
//! Postfix counterpart: none of its own; `dns/dns_lookup.c` calls `res_nsearch()`, and this
//! follows glibc's `res_query.c`: the reply code and answer count become `h_errno`
//! (NXDOMAIN: `HOST_NOT_FOUND`; NOERROR without answers: `NO_DATA`; SERVFAIL or no reply:
//! `TRY_AGAIN`; anything else: `NO_RECOVERY`); a name with at least `ndots` dots (or a
//! trailing dot) is tried as it is first; the search domains are appended when the caller
//! asks (`RES_DEFNAMES` for dotless names, `RES_DNSRCH` for the others), going on after
//! NXDOMAIN, NODATA and SERVFAIL; and the error reported is that of the name tried as it is,
//! else NODATA if any domain gave it, else SERVFAIL's, else the last one.

use std::cell::{Cell, Ref, RefCell};
use std::path::Path;
use std::rc::Rc;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};

use crate::filter::ReplyFilter;
use crate::random::{Random, SeededRandom};
use crate::resolv_conf::{ResolvConf, Watch};
use crate::rr::RrType;
use crate::status::HErrno;
use crate::transport::{self, Request};

/// glibc's `MAXDNAME`: the longest name (search domain included) worth a query.
const MAX_NAME: usize = 1025;
/// RCODE values that `res_query` tells apart.
const NXDOMAIN: u16 = 3;
const SERVFAIL: u16 = 2;
/// The EDNS0 payload size glibc offers (`RESOLV_EDNS_BUFFER_SIZE`).
const EDNS_PAYLOAD: u16 = 1200;

/// The resolver flags Postfix lets callers choose (its `rflags`, from
/// `smtp_dns_resolver_options` and `smtp_dns_support_level`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResFlags {
    /// `RES_DEFNAMES`: append the search domains to dotless names.
    pub defnames: bool,
    /// `RES_DNSRCH`: append the search domains to names with dots too.
    pub dnsrch: bool,
    /// `RES_USE_DNSSEC`: ask for DNSSEC records (EDNS0 with DO, and AD) and keep the AD bit.
    pub dnssec: bool,
}

impl ResFlags {
    /// The flags a name service switch lookup uses (`getaddrinfo()`'s defaults).
    pub const SEARCH: ResFlags = ResFlags {
        defnames: true,
        dnsrch: true,
        dnssec: false,
    };

    /// Parses `smtp_dns_resolver_options` (`res_defnames`, `res_dnsrch`, separated by
    /// commas or blanks), with Postfix's error for an unknown name.
    pub fn parse(param: &str, value: &str) -> Result<ResFlags, String> {
        let mask =
            util::name_mask::name_mask(param, &[("res_defnames", 1), ("res_dnsrch", 2)], value)?;
        Ok(ResFlags {
            defnames: mask & 1 != 0,
            dnsrch: mask & 2 != 0,
            dnssec: false,
        })
    }
}

/// A reply that answers the question (NOERROR with at least one answer record).
pub(crate) struct Reply {
    pub bytes: Vec<u8>,
}

/// Why a name could not be resolved: the error number, the reply code if a server
/// answered, and the negative reply itself when there was one (for its SOA TTL).
pub(crate) struct Failure {
    pub h_errno: HErrno,
    pub rcode: Option<u16>,
    pub reply: Option<Vec<u8>>,
}

impl Failure {
    fn new(h_errno: HErrno) -> Failure {
        Failure {
            h_errno,
            rcode: None,
            reply: None,
        }
    }
}

/// A stub resolver: resolv.conf settings plus the state of the queries made so far.
/// Not shareable between threads; each daemon process has its own, as each Postfix
/// process has its own resolver state.
pub struct Resolver {
    conf: RefCell<ResolvConf>,
    watch: Option<Watch>,
    ids: RefCell<SeededRandom>,
    queries: Cell<usize>,
    pub(crate) filter: Option<Box<dyn ReplyFilter>>,
}

impl Resolver {
    /// A resolver with the given settings, kept as they are.
    pub fn new(conf: ResolvConf) -> Resolver {
        Resolver {
            conf: RefCell::new(conf),
            watch: None,
            ids: RefCell::new(SeededRandom::new()),
            queries: Cell::new(0),
            filter: None,
        }
    }

    /// A resolver with the settings of the resolv.conf file at `path`
    /// ([`ResolvConf::from_file`]), read again whenever the file changes.
    pub fn from_file(path: &Path) -> Resolver {
        let (watch, conf) = Watch::new(path);
        Resolver {
            watch: Some(watch),
            ..Resolver::new(conf)
        }
    }

    /// A resolver with the system's settings ([`ResolvConf::PATH`]). A daemon makes it
    /// after entering its chroot jail, so that it reads the jail's copy, as Postfix's
    /// daemons do (their first lookup comes after the chroot).
    pub fn system() -> Resolver {
        Resolver::from_file(Path::new(ResolvConf::PATH))
    }

    /// The thread's one [`Resolver::system`], made at its first use: a daemon that looks up
    /// names for every client keeps its settings, as a C program keeps its resolver state,
    /// and looks at resolv.conf's time (not its text) at each lookup.
    pub fn system_shared() -> Rc<Resolver> {
        thread_local! {
            static SYSTEM: Rc<Resolver> = Rc::new(Resolver::system());
        }
        SYSTEM.with(Rc::clone)
    }

    /// The same resolver with a reply filter (`smtp_dns_reply_filter`,
    /// `smtpd_dns_reply_filter`) applied to every [`Resolver::lookup`].
    pub fn with_filter(mut self, filter: Box<dyn ReplyFilter>) -> Resolver {
        self.filter = Some(filter);
        self
    }

    /// The same resolver with every name server on `port`, also after rereading the file
    /// (for tests; resolv.conf cannot name a port).
    pub fn with_port(self, port: u16) -> Resolver {
        if let Some(watch) = &self.watch {
            watch.set_port(port);
        }
        let conf = self.conf.replace(ResolvConf::default()).with_port(port);
        self.conf.replace(conf);
        self
    }

    /// The settings in use.
    pub fn conf(&self) -> Ref<'_, ResolvConf> {
        self.conf.borrow()
    }

    /// `res_nsearch()`: resolves `name` trying search domains as `flags` allow.
    pub(crate) fn search(
        &self,
        name: &str,
        rtype: RrType,
        flags: ResFlags,
    ) -> Result<Reply, Failure> {
        if let Some(conf) = self.watch.as_ref().and_then(Watch::reread) {
            self.conf.replace(conf);
        }
        let conf = self.conf();
        let dots = name.matches('.').count();
        let trailing_dot = name.ends_with('.');
        let mut as_is_failure = None;
        if dots >= conf.ndots || trailing_dot {
            match self.query_domain(name, None, rtype, flags) {
                Err(failure) if !trailing_dot => as_is_failure = Some(failure),
                result => return result,
            }
        }
        let (mut searched, mut got_nodata, mut got_servfail, mut root_on_list) =
            (false, false, false, false);
        let mut last = None;
        if (dots == 0 && flags.defnames) || (dots > 0 && !trailing_dot && flags.dnsrch) {
            for domain in &conf.search {
                let domain = domain.strip_prefix('.').unwrap_or(domain);
                root_on_list |= domain.is_empty();
                searched = true;
                let failure = match self.query_domain(name, Some(domain), rtype, flags) {
                    Ok(reply) => return Ok(reply),
                    Err(failure) => failure,
                };
                let done = match failure.h_errno {
                    HErrno::NoData => {
                        got_nodata = true;
                        false
                    }
                    HErrno::HostNotFound => false,
                    HErrno::TryAgain if failure.rcode == Some(SERVFAIL) => {
                        got_servfail = true;
                        false
                    }
                    _ => true,
                };
                last = Some(failure);
                if done || !flags.dnsrch {
                    break;
                }
            }
        }
        if (dots > 0 || !searched || !conf.no_tld_query) && as_is_failure.is_none() && !root_on_list
        {
            match self.query_domain(name, None, rtype, flags) {
                Ok(reply) => return Ok(reply),
                Err(failure) => last = Some(failure),
            }
        }
        if let Some(failure) = as_is_failure {
            return Err(failure);
        }
        let mut failure = last.unwrap_or_else(|| Failure::new(HErrno::HostNotFound));
        if got_nodata {
            failure.h_errno = HErrno::NoData;
        } else if got_servfail {
            failure.h_errno = HErrno::TryAgain;
        }
        Err(failure)
    }

    /// `res_nquerydomain()`: one query for `name`, or `name.domain`.
    fn query_domain(
        &self,
        name: &str,
        domain: Option<&str>,
        rtype: RrType,
        flags: ResFlags,
    ) -> Result<Reply, Failure> {
        let full = match domain {
            Some(domain) => format!("{name}.{domain}"),
            None => name.strip_suffix('.').unwrap_or(name).to_string(),
        };
        if full.len() >= MAX_NAME {
            return Err(Failure::new(HErrno::NoRecovery));
        }
        self.query(&full, rtype, flags)
    }

    /// `res_nquery()`: asks for `rtype` records of `name` exactly.
    pub(crate) fn query(
        &self,
        name: &str,
        rtype: RrType,
        flags: ResFlags,
    ) -> Result<Reply, Failure> {
        let Some((message, question)) = self.make_query(name, rtype, flags) else {
            return Err(Failure::new(HErrno::NoRecovery));
        };
        let Ok(bytes) = message.to_vec() else {
            return Err(Failure::new(HErrno::NoRecovery));
        };
        let request = Request {
            bytes: &bytes,
            id: message.metadata.id,
            question: &question,
        };
        let conf = self.conf();
        let first = if conf.rotate {
            let n = self.queries.get();
            self.queries.set(n.wrapping_add(1));
            n % conf.nameservers.len().max(1)
        } else {
            0
        };
        let reply = match transport::send(&conf, &request, first) {
            Ok(reply) => reply,
            Err(rcode) => {
                return Err(Failure {
                    rcode,
                    ..Failure::new(HErrno::TryAgain)
                });
            }
        };
        let rcode = transport::rcode(&reply);
        let answers = reply
            .get(6..8)
            .map_or(0, |n| u16::from_be_bytes([n[0], n[1]]));
        let h_errno = match rcode {
            0 if answers > 0 => return Ok(Reply { bytes: reply }),
            0 => HErrno::NoData,
            NXDOMAIN => HErrno::HostNotFound,
            SERVFAIL => HErrno::TryAgain,
            _ => HErrno::NoRecovery,
        };
        Err(Failure {
            h_errno,
            rcode: Some(rcode),
            reply: Some(reply),
        })
    }

    /// The query message for `name` and `rtype`, and its question.
    fn make_query(&self, name: &str, rtype: RrType, flags: ResFlags) -> Option<(Message, Query)> {
        let mut qname = Name::from_ascii(name).ok()?;
        qname.set_fqdn(true);
        let question = Query::query(qname, RecordType::from(rtype.code()));
        let id = self.ids.borrow_mut().next_u32() as u16;
        let mut message = Message::new(id, MessageType::Query, OpCode::Query);
        message.metadata.recursion_desired = true;
        let conf = self.conf();
        message.metadata.authentic_data = conf.trust_ad || flags.dnssec;
        message.add_query(question.clone());
        if conf.edns0 || flags.dnssec {
            let mut edns = Edns::new();
            edns.set_max_payload(EDNS_PAYLOAD);
            edns.set_dnssec_ok(flags.dnssec);
            message.set_edns(edns);
        }
        Some((message, question))
    }
}
