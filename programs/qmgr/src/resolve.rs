//! Routing a message's recipients: each is resolved through trivial-rewrite to a
//! transport and next hop, then added to that destination's waiting entries.
//!
//! Postfix counterpart: `qmgr_message_resolve()` and `qmgr_resolve_one()` in
//! `qmgr/qmgr_message.c`, with `qmgr/qmgr_error.c`. A content filter overrides the
//! answer; an address the resolver cannot handle goes to the `retry` transport (a
//! temporary failure) or the `error` transport (bad syntax), with the reason as next
//! hop, so that an agent logs it; so do recipients for a transport in
//! `defer_transports`, address verification probes beyond
//! `address_verify_pending_request_limit`, a throttled transport or a dead destination.
//! Mail for the local double-bounce address goes to the `discard` transport. For
//! transports with a recipient limit of 1 the destination is the recipient
//! (`user@nexthop`, without the address extension), so concurrency limits apply per user.

use crate::job::Budgets;
use crate::message::{Message, Recipient};
use crate::transport::{Limits, Transport};
use global::deliver_request::DEL_REQ_FLAG_MTA_VRFY;
use global::resolve_clnt::{CLASS_LOCAL, FLAG_ERROR, FLAG_FAIL};
use global::rewrite_clnt::{RULE_LOCAL, RewriteClient};
use params::Config;
use std::collections::BTreeMap;

/// The transport for temporary failures.
const RETRY: &str = "retry";
/// The transport for permanent failures.
const ERROR: &str = "error";
/// The transport that drops mail.
const DISCARD: &str = "discard";

/// What routing needs.
pub struct Routing<'a> {
    /// main.cf, for transport limits.
    pub config: &'a Config,
    /// The queue manager's settings.
    pub settings: &'a crate::settings::Settings,
    /// The resolve client.
    pub rewrite: &'a mut RewriteClient,
    /// Transports by name.
    pub transports: &'a mut BTreeMap<String, Transport>,
    /// Now, in seconds.
    pub now: i64,
    /// Ignore defer_transports (`postqueue -f`).
    pub flush_dfxp: bool,
    /// The in-memory recipient budgets of the active queue's messages.
    pub budgets: &'a mut Budgets,
    /// Recipients in memory in the whole active queue (`qmgr_recipient_count`).
    pub in_memory: &'a mut i64,
    /// Messages in the active queue (`qmgr_message_count`), for the clogging warning.
    pub messages: usize,
    /// Address verification probes in the active queue (`qmgr_vrfy_pend_count`).
    pub vrfy_pending: i64,
}

impl Routing<'_> {
    /// Routes the recipients of `message` read so far, which leave it for the entries;
    /// the number of entries made.
    pub fn message(&mut self, message: &mut Message) -> usize {
        let mut entries = 0;
        let rcpts = std::mem::take(&mut message.rcpts);
        for (n, rcpt) in sorted(&rcpts).into_iter().enumerate() {
            // A REDIRECT action: the first recipient becomes the redirect address, the
            // others are dropped (they are neither delivered nor deferred), and so are
            // those still in the file.
            let redirected = match &message.redirect_addr {
                Some(_) if n > 0 => continue,
                Some(target) => {
                    message.rcpt_offset = 0;
                    message.rcpt_unread = 0;
                    Some(self.rewrite.rewrite_internal(RULE_LOCAL, target))
                }
                None => None,
            };
            let address = redirected.as_deref().unwrap_or(&rcpt.address);
            let (transport, nexthop, address) = self.resolve(message, address);
            let rcpt = Recipient {
                address,
                ..rcpt.clone()
            };
            if message.unthrottle {
                self.unthrottle(&transport, &nexthop, &rcpt.address);
            }
            if self.assign(message, rcpt, transport, nexthop) {
                entries += 1;
            }
        }
        // The jobs' sizes changed: earlier candidate choices may no longer hold.
        for transport in self.transports.values_mut() {
            transport.jobs.sizes_changed(&message.id);
        }
        entries
    }

    /// Transport, next hop and address for one recipient.
    fn resolve(&mut self, message: &Message, address: &str) -> (String, String, String) {
        // Trace-only messages (sendmail -bv) are never filtered; nor is a redirect.
        if let Some(filter) = &message.filter_xport
            && message.redirect_addr.is_none()
            && message.tflags & (1 << 8 | 1 << 9) == 0
        {
            let (transport, nexthop) = filter.split_once(':').unwrap_or((filter, ""));
            let nexthop = if !nexthop.is_empty() {
                nexthop.to_string()
            } else if !self.settings.default_filter_nexthop.is_empty() {
                self.settings.default_filter_nexthop.clone()
            } else {
                match address.rsplit_once('@') {
                    Some((_, domain)) if !domain.is_empty() => domain.to_string(),
                    _ => self.settings.myhostname.clone(),
                }
            };
            return (transport.to_string(), nexthop, address.to_string());
        }
        let reply = self.rewrite.resolve(&message.sender, address);
        let class = reply.flags;
        let (transport, nexthop) = if reply.flags & FLAG_FAIL != 0 {
            (
                RETRY.to_string(),
                "4.3.0 address resolver failure".to_string(),
            )
        } else if reply.flags & FLAG_ERROR != 0 {
            (ERROR.to_string(), "5.1.3 bad address syntax".to_string())
        } else {
            (reply.transport, reply.nexthop)
        };
        let address = if reply.recipient.is_empty() && reply.flags & (FLAG_FAIL | FLAG_ERROR) != 0 {
            address.to_string()
        } else {
            reply.recipient
        };
        if address.is_empty() {
            return (
                ERROR.to_string(),
                "5.1.3 null recipient address".to_string(),
                address,
            );
        }
        if message.force_expire {
            let why = "4.7.0 message is administratively expired";
            return (RETRY.to_string(), why.to_string(), address);
        }
        // A notice to the double-bounce address has nowhere to go: it is dropped.
        // Postfix's qmgr logs the "sent" line itself; here the discard agent does, with
        // the same text.
        if class & CLASS_LOCAL != 0 {
            let local = address
                .rsplit_once('@')
                .map_or(address.as_str(), |(l, _)| l);
            if local.eq_ignore_ascii_case(&self.settings.double_bounce_sender) {
                let why = "2.0.0 undeliverable postmaster notification discarded";
                return (DISCARD.to_string(), why.to_string(), address);
            }
        }
        // A safety net behind the verify service's own limits: probes beyond
        // address_verify_pending_request_limit are tried again later. Postfix checks
        // this after defer_transports, so this reason wins over that one.
        if message.tflags & DEL_REQ_FLAG_MTA_VRFY != 0
            && self.vrfy_pending > self.settings.vrfy_pend_limit
        {
            return (
                RETRY.to_string(),
                "4.3.2 Too many address verification requests".to_string(),
                address,
            );
        }
        if !self.flush_dfxp && self.settings.defer_transports.contains(&transport) {
            return (
                RETRY.to_string(),
                "4.3.2 deferred transport".to_string(),
                address,
            );
        }
        (transport, nexthop, address)
    }

    /// Revives the transport and destination of a message that asked for it
    /// (`QMGR_FLUSH_EACH`).
    fn unthrottle(&mut self, transport: &str, nexthop: &str, address: &str) {
        let queue_name = self.queue_name(transport, nexthop, address);
        let t = self.transport(transport);
        t.throttled = None;
        let limits = t.limits;
        if let Some(queue) = t.queues.get_mut(&queue_name) {
            queue.revive(&limits);
        }
    }

    /// Adds `rcpt` of `message` to its destination's entries; true for a new entry.
    fn assign(
        &mut self,
        message: &Message,
        rcpt: Recipient,
        transport: String,
        nexthop: String,
    ) -> bool {
        let (mut transport, mut nexthop) = (transport, nexthop);
        let now = self.now;
        if let Some(why) = self.transport(&transport).is_throttled(now) {
            (transport, nexthop) = (RETRY.to_string(), why);
        }
        let queue_name = self.queue_name(&transport, &nexthop, &rcpt.address);
        let t = self.transport(&transport);
        let limits = t.limits;
        if let Some(why) = t.queue(&queue_name, &nexthop).is_dead(now, &limits) {
            return self.assign_to(message, rcpt, RETRY, &why);
        }
        self.assign_to(message, rcpt, &transport, &nexthop)
    }

    /// Puts `rcpt` in an entry of its destination, counted as in memory for the job, the
    /// message and the active queue (`qmgr_message_assign`).
    fn assign_to(
        &mut self,
        message: &Message,
        rcpt: Recipient,
        transport: &str,
        nexthop: &str,
    ) -> bool {
        let id = message.id.as_str();
        let queue_name = self.queue_name(transport, nexthop, &rcpt.address);
        let t = transport_in(self.transports, self.config, self.settings, transport);
        let limits = t.limits;
        t.jobs.obtain(id, message.active.0, self.budgets);
        let queue = t.queue(&queue_name, nexthop);
        let new_entry = queue.todo.add(id, rcpt, limits.rcpt_limit);
        if new_entry {
            let clog = self.settings.clog;
            queue.entry_added(id, transport, &limits, clog, self.messages, self.now);
            t.jobs.add_entry(id, &queue_name);
        }
        t.jobs.count_rcpts(id, 1);
        crate::job::budget(self.budgets, id).count += 1;
        *self.in_memory += 1;
        new_entry
    }

    /// The transport named `name`, created with its limits on first use.
    fn transport(&mut self, name: &str) -> &mut Transport {
        transport_in(self.transports, self.config, self.settings, name)
    }

    /// The destination's name: the next hop, or `user@nexthop` for per-recipient
    /// transports; lowercase.
    fn queue_name(&mut self, transport: &str, nexthop: &str, address: &str) -> String {
        let per_rcpt = transport != ERROR
            && transport != RETRY
            && self.transport(transport).limits.rcpt_limit == 1;
        let name = if per_rcpt {
            let local = address.rsplit_once('@').map_or(address, |(l, _)| l);
            let local = strip_extension(local, &self.settings.rcpt_delim);
            format!("{local}@{nexthop}")
        } else {
            nexthop.to_string()
        };
        name.to_lowercase()
    }
}

/// The transport named `name` in `transports`, created with its limits on first use.
fn transport_in<'t>(
    transports: &'t mut BTreeMap<String, Transport>,
    config: &Config,
    settings: &crate::settings::Settings,
    name: &str,
) -> &'t mut Transport {
    transports.entry(name.to_string()).or_insert_with(|| {
        let limit = settings.process_limit(name);
        Transport::new(name, Limits::from_config(config, name, limit))
    })
}

/// The recipients in Postfix's order (`qmgr_message_sort`): by domain (addresses
/// without one last), then by address; the first one is the one a REDIRECT keeps.
fn sorted(rcpts: &[Recipient]) -> Vec<&Recipient> {
    let mut sorted: Vec<&Recipient> = rcpts.iter().collect();
    let domain = |r: &Recipient| {
        r.address
            .rfind('@')
            .map(|at| r.address[at..].to_lowercase())
    };
    sorted.sort_by(|a, b| match (domain(a), domain(b)) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.address.cmp(&b.address)),
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, None) => a.address.cmp(&b.address),
    });
    if log::verbose() > 0 {
        log::msg_info!("start sorted recipient list");
        for rcpt in &sorted {
            log::msg_info!("qmgr_message_sort: {}", rcpt.address);
        }
        log::msg_info!("end sorted recipient list");
    }
    sorted
}

/// `user` from `user+ext` for any of the delimiter characters (not for `owner-` and
/// `-request` forms, as Postfix's `split_addr` leaves those alone).
fn strip_extension<'a>(local: &'a str, delims: &str) -> &'a str {
    if delims.is_empty() {
        return local;
    }
    let lower = local.to_ascii_lowercase();
    if lower.starts_with("owner-") || lower.ends_with("-request") {
        return local;
    }
    match local.find(|c| delims.contains(c)) {
        Some(0) | None => local,
        Some(at) => &local[..at],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_sort_by_domain_then_address() {
        let rcpt = |a: &str| Recipient {
            address: a.to_string(),
            ..Recipient::default()
        };
        let list = [
            rcpt("far@relay.test"),
            rcpt("local"),
            rcpt("b@A.test"),
            rcpt("a@a.test"),
        ];
        let order: Vec<&str> = sorted(&list).iter().map(|r| r.address.as_str()).collect();
        assert_eq!(order, ["a@a.test", "b@A.test", "far@relay.test", "local"]);
    }

    #[test]
    fn extensions_are_stripped_for_the_queue_name() {
        assert_eq!(strip_extension("user+ext", "+"), "user");
        assert_eq!(strip_extension("user-ext", "+-"), "user");
        assert_eq!(strip_extension("owner-list", "-"), "owner-list");
        assert_eq!(strip_extension("+x", "+"), "+x");
        assert_eq!(strip_extension("user+ext", ""), "user+ext");
    }
}
