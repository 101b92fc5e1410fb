//! Destination and address checks: `reject_unauth_destination` and friends,
//! `reject_unlisted_recipient`/`reject_unlisted_sender`, `reject_non_fqdn_sender` and
//! `reject_non_fqdn_recipient`.
//!
//! Postfix counterparts: `permit_auth_destination()`, `reject_unauth_destination()`,
//! `check_rcpt_maps()` and `reject_non_fqdn_address()` in `smtpd/smtpd_check.c`. The
//! address class comes from the resolving service (trivial-rewrite): final destinations
//! (mydestination, virtual alias and mailbox domains) and relay_domains are authorized; a
//! source-routed address is not, unless `allow_untrusted_routing` says so. An unlisted
//! recipient is one that the table of its class does not have (an address in
//! virtual_alias_maps is always listed); an empty local_recipient_maps or
//! relay_recipient_maps accepts everyone.

use super::Checker;
use super::reply::Verdict;
use global::mail_addr_find::{Form, Strategy, mail_addr_find};
use global::maps::Maps;
use global::resolve_clnt::{
    CLASS_ALIAS, CLASS_FINAL, CLASS_LOCAL, CLASS_RELAY, CLASS_VIRTUAL, FLAG_FAIL, FLAG_ROUTED,
};
use smtp_proto::ErrorClass;

/// Whether a table search found the address, or failed.
enum Listed {
    Yes,
    No,
    Failed,
}

impl Checker {
    /// `permit_auth_destination` (`permit` true) and the test behind
    /// `reject_unauth_destination`: Permit when the recipient's domain is ours or relayed.
    pub(super) fn auth_destination(&mut self, facts: &super::Facts, permit: bool) -> Verdict {
        let Some(recipient) = facts.recipient else {
            return Verdict::Dunno;
        };
        let reply = self.resolve(facts.sender.unwrap_or(""), recipient);
        if reply.flags & FLAG_FAIL != 0 {
            return self.lookup_failure(recipient);
        }
        // A source-routed address is an uncertain destination, unless
        // allow_untrusted_routing trusts it.
        let routed = reply.flags & FLAG_ROUTED != 0 && !self.untrusted_routing;
        let authorized = !reply.recipient.contains('@')
            || (!routed && reply.flags & (CLASS_FINAL | CLASS_RELAY) != 0);
        if authorized && permit {
            Verdict::Permit
        } else {
            Verdict::Dunno
        }
    }

    /// `reject_unauth_destination` or, with `defer`, `defer_unauth_destination`.
    pub(super) fn unauth_destination(&mut self, facts: &super::Facts, defer: bool) -> Verdict {
        let Some(recipient) = facts.recipient else {
            return Verdict::Dunno;
        };
        match self.auth_destination(facts, true) {
            Verdict::Permit => Verdict::Dunno,
            Verdict::Dunno => {
                let (code, dsn) = if defer {
                    (self.codes.relay - 100, "4.7.1")
                } else {
                    (self.codes.relay, "5.7.1")
                };
                let text = format!("<{recipient}>: Relay access denied");
                self.refusal(code, dsn, &text, ErrorClass::Policy)
            }
            failed => failed,
        }
    }

    /// Whether `maps` lists `address` (internal form).
    fn listed(&self, maps: &Maps, address: &str) -> Listed {
        match self.find_addr(maps, address) {
            Ok(Some(_)) => Listed::Yes,
            Ok(None) => Listed::No,
            Err(()) => Listed::Failed,
        }
    }

    /// What `maps` says of `address` (internal form), the way smtpd searches address
    /// tables (`check_mail_addr_find()`); a failed lookup is logged.
    pub(super) fn find_addr(&self, maps: &Maps, address: &str) -> Result<Option<String>, ()> {
        let found = self.tables.addr.with(|context| {
            mail_addr_find(
                maps,
                address,
                Form::Internal,
                Form::External,
                Form::External,
                Strategy::DEFAULT,
                context,
            )
        });
        match found {
            Ok(found) => Ok(found.map(|f| f.value)),
            Err(e) => {
                log::msg_warn!("{}: lookup of {address}: {e:?}", maps.title());
                Err(())
            }
        }
    }

    /// `check_rcpt_maps()`: refuses `address` (from `sender`) when the table of its
    /// address class does not list it. `class` is the reply class (`Recipient address` or
    /// `Sender address`).
    pub(super) fn unlisted(&mut self, sender: &str, address: &str, class: &str) -> Verdict {
        let reply = self.resolve(sender, address);
        if reply.flags & FLAG_FAIL != 0 {
            return self.lookup_failure(address);
        }
        let resolved = reply.recipient.as_str();
        // An address some map rewrites is taken as good: the rewritten one is what
        // gets delivered. sender_canonical_maps counts for senders only.
        let t = &self.tables;
        let [canonical, sender_canonical, recipient_canonical] = &t.canonical;
        let sender = class == super::SENDER;
        let rewriting = [
            recipient_canonical.as_ref(),
            sender_canonical.as_ref().filter(|_| sender),
            canonical.as_ref(),
            t.virt_alias.as_ref(),
        ];
        for maps in rewriting.into_iter().flatten() {
            match self.listed(maps, resolved) {
                Listed::Yes => return Verdict::Dunno,
                Listed::Failed => return self.lookup_failure(address),
                Listed::No => {}
            }
        }
        if let Some(verdict) = self.undeliverable(&reply, address, class) {
            return verdict;
        }
        if reply.class() & CLASS_LOCAL != 0 && self.absorbed(resolved) {
            return Verdict::Dunno;
        }
        let t = &self.tables;
        let (maps, code, table) = match reply.class() {
            c if c & CLASS_LOCAL != 0 => (
                t.local_rcpt.as_ref(),
                self.codes.unknown_local,
                "local recipient",
            ),
            c if c & CLASS_ALIAS != 0 => {
                // Not in virtual_alias_maps, which was searched above.
                return self.unknown(
                    self.codes.unknown_virtual_alias,
                    address,
                    class,
                    "virtual alias",
                );
            }
            c if c & CLASS_VIRTUAL != 0 => (
                t.virt_mailbox.as_ref(),
                self.codes.unknown_virtual_mailbox,
                "virtual mailbox",
            ),
            c if c & CLASS_RELAY != 0 => (
                t.relay_rcpt.as_ref(),
                self.codes.unknown_relay,
                "relay recipient",
            ),
            _ => return Verdict::Dunno,
        };
        let Some(maps) = maps else {
            return Verdict::Dunno;
        };
        match self.listed(maps, resolved) {
            Listed::Yes => Verdict::Dunno,
            Listed::Failed => self.lookup_failure(address),
            Listed::No => self.unknown(code, address, class, table),
        }
    }

    /// An address that resolves to the `error` transport is known to bounce, one that
    /// resolves to `retry` to defer: refused now with the transport's next-hop text
    /// (`error:5.1.1 mailbox unavailable`, a bare text taking 5.1.1, 5.1.0 for a sender).
    /// Virtual alias domains' addresses resolve to `error:User unknown` and take
    /// `unknown_virtual_alias_reject_code`.
    fn undeliverable(
        &self,
        reply: &global::resolve_clnt::Resolved,
        address: &str,
        class: &str,
    ) -> Option<Verdict> {
        let sender = class == super::SENDER;
        let (code, default) = match reply.transport.as_str() {
            "error" if reply.class() & CLASS_ALIAS != 0 => {
                (self.codes.unknown_virtual_alias, "5.1.1")
            }
            "error" => (550, "5.1.1"),
            "retry" => (450, "4.1.1"),
            _ => return None,
        };
        let default = if sender {
            format!("{}.1.0", &default[..1])
        } else {
            default.to_string()
        };
        let (dsn, text) = global::dsn_util::dsn_split(&default, &reply.nexthop);
        let dsn = super::action::dsn_fix(dsn, class);
        let text = format!("<{address}>: {class} rejected: {text}");
        Some(self.refusal(code, &dsn, &text, ErrorClass::Bounce))
    }

    /// Local addresses the mail system itself answers for, never looked up:
    /// the double-bounce sender (absorbed by qmgr), postmaster and MAILER-DAEMON.
    fn absorbed(&self, resolved: &str) -> bool {
        let local = resolved.rsplit_once('@').map_or(resolved, |(l, _)| l);
        let double_bounce = self.tables.addr.double_bounce_sender();
        [double_bounce, "postmaster", "MAILER-DAEMON"]
            .iter()
            .any(|name| local.eq_ignore_ascii_case(name))
    }

    /// `CODE 5.1.1 <address>: Recipient address rejected: User unknown in TABLE table`
    /// (5.1.0 for a sender; without the table name under
    /// `show_user_unknown_table_name = no`).
    fn unknown(&self, code: u16, address: &str, class: &str, table: &str) -> Verdict {
        let detail = if class == super::SENDER { "1.0" } else { "1.1" };
        let dsn = format!("{}.{detail}", code / 100);
        let shown = if self.policy.show_table {
            format!(" in {table} table")
        } else {
            String::new()
        };
        let text = format!("<{address}>: {class} rejected: User unknown{shown}");
        self.refusal(code, &dsn, &text, ErrorClass::Bounce)
    }

    /// `reject_non_fqdn_sender`/`recipient`: the address needs a domain with a dot (or an
    /// address literal).
    pub(super) fn non_fqdn_address(&self, address: &str, class: &str) -> Verdict {
        let domain = address
            .rsplit_once('@')
            .map(|(_, d)| d.trim_end_matches('.'));
        let fqdn = domain.is_some_and(|d| {
            (d.starts_with('[') && d.ends_with(']')) || (d.contains('.') && !d.starts_with('.'))
        });
        if fqdn {
            return Verdict::Dunno;
        }
        let text = format!("<{address}>: {class} rejected: need fully-qualified address");
        self.syntax_refusal(self.codes.non_fqdn, &text)
    }
}
