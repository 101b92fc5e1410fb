//! DNS block and allow lists in the restrictions: `reject_rbl_client`,
//! `reject_rhsbl_client`, `reject_rhsbl_reverse_client`, `reject_rhsbl_helo`,
//! `reject_rhsbl_sender`, `reject_rhsbl_recipient`, `permit_dnswl_client` and
//! `permit_rhswl_client`, with `rbl_reply_maps` and `default_rbl_reply`.
//!
//! Postfix counterparts: `reject_rbl_addr()`, `reject_rbl_domain()`,
//! `permit_dnswl_addr()`, `permit_dnswl_domain()`, `rbl_reject_reply()` and
//! `rbl_expand_lookup()` in `smtpd/smtpd_check.c`. The lookups are `dns::rbl`'s
//! (reversed address or domain under the list, `domain=pattern` filters, TXT reasons);
//! answers are kept for the session, as Postfix keeps them in its cache. A list that
//! cannot be asked blocks nothing; an allow list that cannot be asked turns a later
//! rejection into a deferral (DEFER_IF_REJECT).

use super::reply::{Refusal, Verdict};
use super::{Checker, Facts};
use dns::rbl::{Dnsxl, Listing};
use global::dsn_util::dsn_split;
use smtp_proto::ErrorClass;
use std::collections::HashMap;

/// What a list restriction tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsxlKind {
    /// `reject_rbl_client`: the client address.
    RblClient,
    /// `permit_dnswl_client`: the client address, on an allow list.
    DnswlClient,
    /// `reject_rhsbl_client`: the client name.
    RhsblClient,
    /// `permit_rhswl_client`: the client name, on an allow list.
    RhswlClient,
    /// `reject_rhsbl_reverse_client`: the unverified reverse name.
    RhsblReverseClient,
    /// `reject_rhsbl_helo`: the HELO name.
    RhsblHelo,
    /// `reject_rhsbl_sender`: the sender's domain.
    RhsblSender,
    /// `reject_rhsbl_recipient`: the recipient's domain.
    RhsblRecipient,
}

/// The list restrictions by name (`reject_rbl` is the old name of `reject_rbl_client`).
pub const NAMES: &[(&str, DnsxlKind)] = &[
    ("reject_rbl_client", DnsxlKind::RblClient),
    ("reject_rbl", DnsxlKind::RblClient),
    ("permit_dnswl_client", DnsxlKind::DnswlClient),
    ("reject_rhsbl_client", DnsxlKind::RhsblClient),
    ("permit_rhswl_client", DnsxlKind::RhswlClient),
    ("reject_rhsbl_reverse_client", DnsxlKind::RhsblReverseClient),
    ("reject_rhsbl_helo", DnsxlKind::RhsblHelo),
    ("reject_rhsbl_sender", DnsxlKind::RhsblSender),
    ("reject_rhsbl_recipient", DnsxlKind::RhsblRecipient),
];

impl DnsxlKind {
    /// The restriction's name.
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("", |(n, _)| n)
    }
}

/// The session's answers, by list and query, as Postfix's per-process cache keeps them.
#[derive(Debug, Default)]
pub struct DnsxlCache {
    answers: HashMap<(String, String), Dnsxl>,
}

/// The settings of the replies.
pub struct RblReplies {
    /// `default_rbl_reply`.
    pub default_reply: String,
    /// `maps_rbl_reject_code`.
    pub code: u16,
    /// `rbl_reply_maps`.
    pub maps: Option<global::maps::Maps>,
    /// `smtpd_expansion_filter`, unescaped: the bytes an expanded value may keep.
    pub filter: Vec<u8>,
    /// `myhostname`, for `$server_name`.
    pub server_name: String,
}

impl Checker {
    /// A list restriction with its `domain` argument.
    pub(super) fn dnsxl(&mut self, kind: DnsxlKind, domain: &str, facts: &Facts) -> Verdict {
        let peer = facts.peer;
        let known = |name: &str| (!name.eq_ignore_ascii_case("unknown")).then(|| name.to_string());
        let (what, class) = match kind {
            DnsxlKind::RblClient | DnsxlKind::DnswlClient => {
                (Some(peer.addr.clone()), "Client host")
            }
            DnsxlKind::RhsblClient | DnsxlKind::RhswlClient => (known(&peer.name), "Client host"),
            DnsxlKind::RhsblReverseClient => (known(&peer.reverse_name), "Unverified Client host"),
            DnsxlKind::RhsblHelo => (facts.helo.map(str::to_string), "Helo command"),
            DnsxlKind::RhsblSender => (
                facts.sender.filter(|s| !s.is_empty()).map(str::to_string),
                super::SENDER,
            ),
            DnsxlKind::RhsblRecipient => (facts.recipient.map(str::to_string), super::RECIPIENT),
        };
        let Some(what) = what else {
            return Verdict::Dunno;
        };
        let allow = matches!(kind, DnsxlKind::DnswlClient | DnsxlKind::RhswlClient);
        if allow
            && facts.stage == "RCPT"
            && facts.recipient.is_some()
            && self.auth_destination(facts, true) != Verdict::Permit
        {
            // An allow list never helps relaying.
            return Verdict::Dunno;
        }
        let by_addr = matches!(kind, DnsxlKind::RblClient | DnsxlKind::DnswlClient);
        let answer = self.dnsxl_lookup(domain, &what, by_addr);
        match (answer, allow) {
            (Dnsxl::Listed(_), true) => Verdict::Permit,
            (Dnsxl::Soft, true) => {
                let text = format!("<{what}>: {class} rejected: Service unavailable");
                let refusal = Refusal::new(450, "4.7.1", &text, ErrorClass::Policy, false);
                self.defer_if_reject(refusal)
            }
            (Dnsxl::Listed(listing), false) => {
                self.rbl_reply(&listing, domain, &what, class, facts)
            }
            _ => Verdict::Dunno,
        }
    }

    /// The answer of list `domain` about `what`, asked once per session.
    fn dnsxl_lookup(&mut self, domain: &str, what: &str, by_addr: bool) -> Dnsxl {
        let key = (domain.to_string(), what.to_string());
        if let Some(answer) = self.dnsxl_cache.answers.get(&key) {
            return answer.clone();
        }
        // Read each time: resolv.conf may change while the process lives.
        let resolver = dns::Resolver::system();
        let result = if by_addr {
            match what.parse() {
                Ok(addr) => dns::rbl::find_addr(&resolver, domain, addr),
                Err(_) => Ok(Dnsxl::NotListed),
            }
        } else {
            dns::rbl::find_domain(&resolver, domain, what)
        };
        let answer = result.unwrap_or_else(|e| log::msg_fatal!("{e}"));
        self.dnsxl_cache.answers.insert(key, answer.clone());
        answer
    }

    /// `rbl_reject_reply()`: the reply from `rbl_reply_maps` or `default_rbl_reply`.
    /// The template's `$name`s are the list's (`rbl_expand_lookup()`) and the session's
    /// (`smtpd_expand_lookup()`), their values filtered by `smtpd_expansion_filter`; a
    /// template with an unknown name is bad and gives way to `default_rbl_reply`.
    fn rbl_reply(
        &self,
        listing: &Listing,
        domain: &str,
        what: &str,
        class: &str,
        facts: &Facts,
    ) -> Verdict {
        let replies = &self.tables.rbl;
        let mut template = None;
        if let Some(maps) = &replies.maps {
            match maps.find(domain, false) {
                Ok(found) => template = found,
                Err(e) => {
                    log::msg_warn!("{}: {e:?}", maps.title());
                    return self.server_error();
                }
            }
        }
        let list = domain.split_once('=').map_or(domain, |(d, _)| d);
        let reason = listing.txt.clone().unwrap_or_default();
        let peer = facts.peer;
        let session = crate::footer::Context {
            server_name: &replies.server_name,
            client: &peer.namaddr,
            client_address: &peer.addr,
            client_port: &peer.port,
            client_name: &peer.name,
            reverse_client_name: &peer.reverse_name,
            helo_name: facts.helo,
            sender: facts.sender,
            recipient: facts.recipient,
            filter: &replies.filter,
        };
        let lookup = |name: &str, _: util::mac_expand::Mode| -> Option<String> {
            let value = match name {
                "rbl_code" => replies.code.to_string(),
                "rbl_domain" => list.to_string(),
                "rbl_reason" | "rbl_txt" => reason.clone(),
                "rbl_what" => what.to_string(),
                "rbl_class" => class.to_string(),
                _ => return session.lookup(name),
            };
            Some(crate::footer::filtered(&value, &replies.filter))
        };
        let flags = util::mac_expand::Flags::default();
        let why = match template {
            Some(template) => match util::mac_expand::expand(&template, flags, lookup) {
                Ok(e) if !e.undefined => e.text,
                _ => {
                    log::msg_warn!(
                        "rbl_reject_reply: bad rbl reply template for domain {domain}: {template}"
                    );
                    self.default_rbl_reply(lookup)
                }
            },
            None => self.default_rbl_reply(lookup),
        };
        let b = why.as_bytes();
        let well_formed = b.len() >= 4
            && matches!(b[0], b'4' | b'5')
            && b[1].is_ascii_digit()
            && b[2].is_ascii_digit()
            && b[3] == b' ';
        if !well_formed {
            log::msg_warn!("rbl response code configuration error: {why}");
            return self.refusal(450, "4.7.1", "Service unavailable", ErrorClass::Policy);
        }
        let code: u16 = why[..3].parse().unwrap_or(450);
        let (dsn, text) = dsn_split("4.7.1", &why[4..]);
        let text = if text.is_empty() {
            "Service unavailable"
        } else {
            text
        };
        let dsn = super::action::dsn_fix(dsn, class);
        self.refusal(code, &dsn, text, ErrorClass::Policy)
    }

    /// `default_rbl_reply` expanded; a template that does not expand is fatal.
    fn default_rbl_reply(
        &self,
        lookup: impl FnMut(&str, util::mac_expand::Mode) -> Option<String>,
    ) -> String {
        let template = &self.tables.rbl.default_reply;
        match util::mac_expand::expand(template, util::mac_expand::Flags::default(), lookup) {
            Ok(e) if !e.undefined => e.text,
            _ => {
                log::msg_fatal!("rbl_reject_reply: bad default rbl reply template: {template}")
            }
        }
    }
}
