//! The answer of the address resolving service: the flags that say what kind of
//! destination an address has.
//!
//! Postfix counterpart: `global/resolve_clnt.h` (`RESOLVE_FLAG_*`, `RESOLVE_CLASS_*`).
//! trivial-rewrite sets them in its `resolve` replies; smtpd (`reject_unauth_destination`),
//! cleanup and qmgr decide by them. They travel as the `flags` attribute.
//!
//! The client (`resolve_clnt_query_from()`) asks the rewriting service, over the
//! connection the rewrite client keeps (both go to `$rewrite_service_name`), with
//! `request=resolve`, `sender` and `address` (internal form); the answer is a server
//! status `flags`, `transport`, `nexthop`, `recipient` and the resolve `flags`, in that
//! order. As in Postfix, a request is retried every second until it is answered, and
//! the last answer is kept for 30 seconds (a one-entry cache: smtpd, cleanup and qmgr
//! resolve the same address several times per message).

/// Final delivery (`RESOLVE_FLAG_FINAL`).
pub const FLAG_FINAL: i32 = 1 << 0;
/// The destination is routed (`user@a@b`, `a!b`, `a%b` in the local part).
pub const FLAG_ROUTED: i32 = 1 << 1;
/// Bad destination syntax.
pub const FLAG_ERROR: i32 = 1 << 2;
/// The request failed (a table lookup error): try again.
pub const FLAG_FAIL: i32 = 1 << 3;
/// mydestination, inet_interfaces, proxy_interfaces.
pub const CLASS_LOCAL: i32 = 1 << 8;
/// virtual_alias_domains.
pub const CLASS_ALIAS: i32 = 1 << 9;
/// virtual_mailbox_domains.
pub const CLASS_VIRTUAL: i32 = 1 << 10;
/// relay_domains.
pub const CLASS_RELAY: i32 = 1 << 11;
/// Everything else (what `reject_unauth_destination` refuses).
pub const CLASS_DEFAULT: i32 = 1 << 12;
/// The classes delivered on this system.
pub const CLASS_FINAL: i32 = CLASS_LOCAL | CLASS_ALIAS | CLASS_VIRTUAL;
/// Every class bit.
pub const CLASS_MASK: i32 = CLASS_LOCAL | CLASS_ALIAS | CLASS_VIRTUAL | CLASS_RELAY | CLASS_DEFAULT;

use crate::rewrite_clnt::{CACHE_TTL, RewriteClient};
use ipc::{Attrs, mail_attr};
use std::time::{Duration, Instant};

/// The last answer, for whom and until when.
pub(crate) struct Cached {
    sender: String,
    address: String,
    answer: Resolved,
    expires: Instant,
}

/// The pause between attempts when the service does not answer.
const RETRY_DELAY: Duration = Duration::from_secs(1);

/// What the resolving service says about an address (`RESOLVE_REPLY`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// The delivery transport.
    pub transport: String,
    /// The next hop.
    pub nexthop: String,
    /// The recipient as the transport sees it (internal form).
    pub recipient: String,
    /// `FLAG_*` and `CLASS_*` bits.
    pub flags: i32,
}

impl Resolved {
    /// The answer's address class bits.
    pub fn class(&self) -> i32 {
        self.flags & CLASS_MASK
    }

    /// The answer from a reply's attributes in Postfix's order: server flags, transport,
    /// nexthop, recipient, resolve flags. None when it is malformed.
    fn from_reply(reply: &Attrs) -> Option<Resolved> {
        let text = |name: &str| {
            reply
                .get_bytes(name)
                .map(|b| util::eight_bit::to_text(b).into_owned())
        };
        let mut flags = reply
            .iter()
            .filter(|(n, _)| *n == mail_attr::FLAGS.as_bytes())
            .map(|(_, v)| std::str::from_utf8(v).ok()?.parse::<u32>().ok());
        let (Some(Some(server)), Some(Some(resolve)), None) =
            (flags.next(), flags.next(), flags.next())
        else {
            return None;
        };
        Some(Resolved {
            transport: text(mail_attr::TRANSPORT)?,
            nexthop: text(mail_attr::NEXTHOP)?,
            recipient: text(mail_attr::RECIP)?,
            flags: (resolve as i32) | if server != 0 { FLAG_FAIL } else { 0 },
        })
    }
}

impl RewriteClient {
    /// How `address` (internal form) from `sender` resolves (`resolve_clnt_query_from`).
    pub fn resolve(&mut self, sender: &str, address: &str) -> Resolved {
        // Postfix never answers the null address from the cache.
        if let Some(c) = &self.resolve_cache
            && !address.is_empty()
            && Instant::now() < c.expires
            && c.address == address
            && c.sender == sender
        {
            if log::verbose() > 0 {
                log::msg_info!(
                    "resolve_clnt: cached: `{sender}' `{address}' -> `{}' `{}' `{}' `{}'",
                    c.answer.transport,
                    c.answer.nexthop,
                    c.answer.recipient,
                    c.answer.flags
                );
            }
            return c.answer.clone();
        }
        let request = Attrs::new()
            .str(mail_attr::REQ, "resolve")
            .bytes("sender", &util::eight_bit::to_bytes(sender))
            .bytes(mail_attr::ADDR, &util::eight_bit::to_bytes(address));
        let mut count = 0;
        loop {
            count += 1;
            let answer = self.exchange(&request).and_then(|reply| {
                Resolved::from_reply(&reply).ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed reply")
                })
            });
            match answer {
                Ok(answer) => {
                    if log::verbose() > 0 {
                        log::msg_info!(
                            "resolve_clnt: `{sender}' `{address}' -> `{}' `{}' `{}' `{}'",
                            answer.transport,
                            answer.nexthop,
                            answer.recipient,
                            answer.flags
                        );
                    }
                    // A failed lookup is asked again next time rather than kept.
                    self.resolve_cache = (answer.flags & FLAG_FAIL == 0).then(|| Cached {
                        sender: sender.to_string(),
                        address: address.to_string(),
                        answer: answer.clone(),
                        expires: Instant::now() + CACHE_TTL,
                    });
                    return answer;
                }
                Err(e) => {
                    if log::verbose() > 0 || count > 1 {
                        log::msg_warn!(
                            "problem talking to service {}: {}",
                            self.service(),
                            sys::os_error(&e)
                        );
                    }
                    self.disconnect();
                    std::thread::sleep(RETRY_DELAY);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_in_postfix_order() {
        let reply = Attrs::new()
            .int(mail_attr::FLAGS, 0)
            .str(mail_attr::TRANSPORT, "smtp")
            .str(mail_attr::NEXTHOP, "example.com")
            .str(mail_attr::RECIP, "a@example.com")
            .int(mail_attr::FLAGS, CLASS_DEFAULT);
        let answer = Resolved::from_reply(&reply).unwrap();
        assert_eq!(answer.class(), CLASS_DEFAULT);
        assert_eq!(answer.nexthop, "example.com");
        let short = Attrs::new().int(mail_attr::FLAGS, 0);
        assert_eq!(Resolved::from_reply(&short), None);
    }
}
