//! Resolving an address: where it goes (transport, next hop) and what class it is.
//!
//! Postfix counterpart: `trivial-rewrite/resolve.c`. The address (internal form) is
//! tokenized in quoted form; every local domain is stripped off the end (so
//! `user@otherhost@localhost` is routed to `otherhost`), `%` and `!` routing is undone
//! and quoted local parts with routing operators are opened, until what is left is
//! remote or local. Then the recipient domain picks the class: virtual alias (always an
//! error: aliases are expanded before resolving), virtual mailbox, relay, default (off-
//! host), or local; each has its transport parameter, `transport_maps` can override
//! transport and next hop, `relocated_maps` bounces moved users, and invalid domains or
//! failed lookups come back as flags, never as a guess.

use crate::rewrite::{Rules, rewrite_tree, rfind_op};
use crate::transport::Transport;
use global::mail_addr_find::{Context, Form, Found, Strategy, mail_addr_find};
use global::maps::{Maps, MapsError};
use global::match_list::MatchList;
use global::resolve_clnt::{
    CLASS_ALIAS, CLASS_DEFAULT, CLASS_LOCAL, CLASS_RELAY, CLASS_VIRTUAL, FLAG_ERROR, FLAG_FAIL,
    FLAG_ROUTED,
};
use global::resolve_local::ResolveLocal;
use rfc822::quote::{QuoteFlags, quote_822_local};
use rfc822::tok822::{StrFlags, Token, internalize, scan};

/// A transport parameter: its name (for the "null transport" warning) and value.
pub struct Setting {
    /// The parameter name, e.g. `local_transport`.
    pub name: &'static str,
    /// Its value, e.g. `local:$myhostname` expanded.
    pub value: String,
}

/// The settings of one resolver class (regular mail or address verification probes).
pub struct Resolver {
    /// local_transport (address_verify_local_transport).
    pub local_transport: Setting,
    /// virtual_transport.
    pub virtual_transport: Setting,
    /// relay_transport.
    pub relay_transport: Setting,
    /// default_transport.
    pub default_transport: Setting,
    /// relayhost.
    pub relayhost: String,
    /// transport_maps.
    pub transport: Option<Transport>,
    /// sender_dependent_relayhost_maps and the key for the null sender.
    pub sender_relayhost: Option<(Maps, String)>,
    /// sender_dependent_default_transport_maps and the key for the null sender.
    pub sender_transport: Option<(Maps, String)>,
}

/// What the whole service shares.
pub struct Shared {
    /// The local rewriting rules (myorigin, mydomain).
    pub local_rules: Rules,
    /// Local domains.
    pub local: ResolveLocal,
    /// virtual_alias_domains, virtual_mailbox_domains, relay_domains (None when empty).
    pub virtual_alias_domains: Option<MatchList>,
    /// virtual_mailbox_domains.
    pub virtual_mailbox_domains: Option<MatchList>,
    /// relay_domains.
    pub relay_domains: Option<MatchList>,
    /// relocated_maps.
    pub relocated: Option<Maps>,
    /// myhostname, appended to addresses without a domain.
    pub myhostname: String,
    /// myorigin, for lookups.
    pub myorigin: String,
    /// empty_address_recipient.
    pub empty_address: String,
    /// resolve_dequoted_address.
    pub resolve_dequoted: bool,
    /// resolve_null_domain.
    pub resolve_null_domain: bool,
    /// resolve_numeric_domain.
    pub resolve_numeric_domain: bool,
    /// allow_min_user.
    pub allow_min_user: bool,
    /// show_user_unknown_table_name.
    pub show_table_name: bool,
    /// helpful_warnings.
    pub helpful_warnings: bool,
    /// smtputf8_enable.
    pub smtputf8: bool,
    /// recipient_delimiter.
    pub delimiters: String,
    /// double_bounce_sender.
    pub double_bounce_sender: String,
    /// owner_request_special.
    pub owner_request_special: bool,
    /// config_directory, for the null-transport warning.
    pub config_directory: String,
}

/// A resolve reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The delivery transport (master.cf service name).
    pub transport: String,
    /// The next hop (transport specific: a domain, `[host]:port`, or error text).
    pub nexthop: String,
    /// The recipient as the next hop should see it.
    pub recipient: String,
    /// RESOLVE_FLAG_* | RESOLVE_CLASS_*.
    pub flags: i32,
}

impl Shared {
    /// Looks `key` (internal form) up with `strategy` as the resolver's callers do
    /// (Postfix's legacy forms: quoted keys first, quoted results).
    pub fn find_address(
        &self,
        maps: &Maps,
        key: &str,
        strategy: Strategy,
    ) -> Result<Option<Found>, MapsError> {
        let is_local = |d: &str| self.local.is_local(d);
        let context = Context {
            delimiters: &self.delimiters,
            myorigin: &self.myorigin,
            double_bounce_sender: &self.double_bounce_sender,
            owner_request_special: self.owner_request_special,
            is_local: &is_local,
        };
        mail_addr_find(
            maps,
            key,
            Form::Internal,
            Form::ExternalFirst,
            Form::External,
            strategy,
            &context,
        )
    }

    fn list_match(list: &Option<MatchList>, domain: &str) -> Result<bool, String> {
        match list {
            Some(list) => list.matches(&[domain]).map_err(|e| e.to_string()),
            None => Ok(false),
        }
    }
}

/// Whether `domain` is a valid host name (an IDN passes when SMTPUTF8 is on).
fn valid_domain(smtputf8: bool, domain: &str) -> bool {
    if domain.is_ascii() {
        util::valid_hostname::valid_hostname(domain)
    } else {
        smtputf8
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.contains(|c: char| {
                        c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    })
            })
    }
}

/// Resolves `address` (internal form) for `sender`.
pub fn resolve(shared: &Shared, rp: &Resolver, sender: &str, address: &str) -> Resolved {
    let mut out = Resolved {
        transport: "CHANNEL NOT UPDATED".into(),
        nexthop: "NEXTHOP NOT UPDATED".into(),
        recipient: "NEXTRCPT NOT UPDATED".into(),
        flags: 0,
    };
    let fail = |mut out: Resolved| {
        out.flags |= FLAG_FAIL;
        out
    };
    let mut tree: Vec<Token> = scan(&quote_822_local(address, QuoteFlags::DEFAULT));
    let mut saved_domain: Option<Vec<Token>> = None;
    let mut remote = false;
    let loop_max = address.len() + 100;
    let mut loop_count = 0;
    loop {
        if loop_count > loop_max {
            log::msg_warn!("resolve_addr: <{address}>: giving up after {loop_count} iterations");
            return fail(out);
        }
        loop_count += 1;
        let n = tree.len();
        if n >= 2
            && tree[n - 1] == Token::Op('.')
            && rfind_op(&tree, '@').is_some()
            && !matches!(tree[n - 2], Token::Op('.' | '@'))
        {
            tree.pop();
        }
        if shared.resolve_null_domain && tree.last() == Some(&Token::Op('@')) {
            tree.pop();
        }
        if let Some(at) = rfind_op(&tree, '@') {
            if at + 1 < tree.len() {
                let domain = internalize(&tree[at + 1..], StrFlags::DEFL);
                match shared.local.is_local(&domain) {
                    Err(_) => return fail(out),
                    Ok(false) => {
                        remote = true;
                        break;
                    }
                    Ok(true) => {}
                }
            }
            saved_domain = Some(tree.split_off(at));
        }
        if rfind_op(&tree, '@').is_some()
            || (shared.local_rules.swap_bangpath && rfind_op(&tree, '!').is_some())
            || (shared.local_rules.percent_hack && rfind_op(&tree, '%').is_some())
        {
            rewrite_tree(&shared.local_rules, &mut tree);
            continue;
        }
        if shared.resolve_dequoted
            && tree.len() == 1
            && let Token::QuotedString(local) = &tree[0]
        {
            let oper = local
                .rfind('@')
                .or_else(|| local.rfind('%').filter(|_| shared.local_rules.percent_hack))
                .or_else(|| {
                    local
                        .rfind('!')
                        .filter(|_| shared.local_rules.swap_bangpath)
                });
            if let Some(at) = oper {
                let mut text = local.clone();
                let op = text.as_bytes()[at];
                if op == b'%' {
                    text.replace_range(at..at + 1, "@");
                }
                if op != b'!' {
                    text = quote_822_local(&text, QuoteFlags::DEFAULT);
                }
                tree = scan(&text);
                rewrite_tree(&shared.local_rules, &mut tree);
                continue;
            }
        }
        if matches!(tree.as_slice(), [Token::QuotedString(s)] if s.is_empty()) {
            tree.clear();
        }
        if tree.is_empty() {
            tree = scan(&shared.empty_address);
            continue;
        }
        if saved_domain.is_none() {
            tree.push(Token::Op('@'));
            tree.extend(scan(&shared.myhostname));
            continue;
        }
        break;
    }
    if !remote {
        match saved_domain.take() {
            Some(domain) => tree.extend(domain),
            None => {
                tree.push(Token::Op('@'));
                tree.extend(scan(&shared.myhostname));
            }
        }
    }
    let mut recipient = internalize(&tree, StrFlags::DEFL);
    let Some(at) = recipient.rfind('@') else {
        log::msg_panic!("no @ in address: \"{recipient}\"");
    };
    let mut rcpt_domain = recipient[at + 1..].to_string();
    if rcpt_domain.starts_with('[') {
        if !util::valid_hostname::valid_mailhost_literal(&rcpt_domain) {
            out.flags |= FLAG_ERROR;
        }
    } else if shared.smtputf8 && !util::eight_bit::is_utf8(&recipient) {
        // 8-bit bytes that are not UTF-8 (an old client's Latin-1) cannot go out as
        // SMTPUTF8.
        out.flags |= FLAG_ERROR;
    } else if !valid_domain(shared.smtputf8, &rcpt_domain) {
        if shared.resolve_numeric_domain && util::valid_hostname::valid_hostaddr(&rcpt_domain) {
            rcpt_domain = format!("[{rcpt_domain}]");
            recipient = format!("{}@{rcpt_domain}", &recipient[..at]);
            match shared.local.is_local(&rcpt_domain) {
                Ok(true) => remote = false,
                Ok(false) => {}
                Err(_) => {
                    out.recipient = recipient;
                    return fail(out);
                }
            }
        } else {
            out.flags |= FLAG_ERROR;
        }
    }
    out.recipient = recipient.clone();
    if out.flags & FLAG_ERROR != 0 {
        out.flags |= CLASS_DEFAULT;
        return out;
    }
    // Routing operators in the local part are noticed even when not honoured here.
    let first_op = recipient
        .find(['@', '!', '%'])
        .map_or(recipient.len(), |i| i + 1);
    if recipient.get(first_op..) != Some(rcpt_domain.as_str()) {
        out.flags |= FLAG_ROUTED;
    }
    let mut blame: Option<&'static str> = None;
    let warn_both = |a: &str, b: &str| {
        log::msg_warn!("do not list domain {rcpt_domain} in BOTH {a} and {b}");
    };
    if remote {
        let alias = Shared::list_match(&shared.virtual_alias_domains, &rcpt_domain);
        let mailbox = || Shared::list_match(&shared.virtual_mailbox_domains, &rcpt_domain);
        let relay = || Shared::list_match(&shared.relay_domains, &rcpt_domain);
        match alias {
            Ok(true) => {
                if shared.helpful_warnings {
                    if mailbox() == Ok(true) {
                        warn_both("virtual_alias_domains", "virtual_mailbox_domains");
                    }
                    if relay() == Ok(true) {
                        warn_both("virtual_alias_domains", "relay_domains");
                    }
                }
                out.transport = "error".into();
                out.nexthop = format!(
                    "5.1.1 User unknown{}",
                    if shared.show_table_name {
                        " in virtual alias table"
                    } else {
                        ""
                    }
                );
                out.flags |= CLASS_ALIAS;
            }
            Err(_) => {
                log::msg_warn!("virtual_alias_domains lookup failure");
                return fail(out);
            }
            Ok(false) => match mailbox() {
                Ok(true) => {
                    if shared.helpful_warnings && relay() == Ok(true) {
                        warn_both("virtual_mailbox_domains", "relay_domains");
                    }
                    out.transport = rp.virtual_transport.value.clone();
                    out.nexthop = rcpt_domain.clone();
                    blame = Some(rp.virtual_transport.name);
                    out.flags |= CLASS_VIRTUAL;
                }
                Err(_) => {
                    log::msg_warn!("virtual_mailbox_domains lookup failure");
                    return fail(out);
                }
                Ok(false) => {
                    match relay() {
                        Ok(true) => {
                            out.transport = rp.relay_transport.value.clone();
                            blame = Some(rp.relay_transport.name);
                            out.flags |= CLASS_RELAY;
                        }
                        Err(_) => {
                            log::msg_warn!("relay_domains lookup failure");
                            return fail(out);
                        }
                        Ok(false) => {
                            match sender_lookup(shared, &rp.sender_transport, sender) {
                                Err(name) => {
                                    log::msg_warn!("{name} lookup failure");
                                    return fail(out);
                                }
                                Ok(Some(xport)) if !xport.eq_ignore_ascii_case("DUNNO") => {
                                    out.transport = xport;
                                    blame = Some("sender_dependent_default_transport_maps");
                                }
                                Ok(_) => {
                                    out.transport = rp.default_transport.value.clone();
                                    blame = Some(rp.default_transport.name);
                                }
                            }
                            out.flags |= CLASS_DEFAULT;
                        }
                    }
                    let relay = match sender_lookup(shared, &rp.sender_relayhost, sender) {
                        Err(name) => {
                            log::msg_warn!("{name} lookup failure");
                            return fail(out);
                        }
                        Ok(Some(r)) if !r.eq_ignore_ascii_case("DUNNO") => Some(r),
                        Ok(_) => None,
                    };
                    out.nexthop = match relay {
                        Some(relay) => relay,
                        None if !rp.relayhost.is_empty() => rp.relayhost.clone(),
                        None => rcpt_domain.clone(),
                    };
                }
            },
        }
    } else {
        if shared.helpful_warnings {
            if Shared::list_match(&shared.virtual_alias_domains, &rcpt_domain) == Ok(true) {
                warn_both("mydestination", "virtual_alias_domains");
            }
            if Shared::list_match(&shared.virtual_mailbox_domains, &rcpt_domain) == Ok(true) {
                warn_both("mydestination", "virtual_mailbox_domains");
            }
        }
        out.transport = rp.local_transport.value.clone();
        out.nexthop = rcpt_domain.clone();
        blame = Some(rp.local_transport.name);
        out.flags |= CLASS_LOCAL;
    }
    // A main.cf transport:nexthop setting overrides the next hop.
    if let Some((transport, nexthop)) = out.transport.split_once(':') {
        let (transport, nexthop) = (transport.to_string(), nexthop.to_string());
        out.transport = transport;
        if !nexthop.is_empty() {
            out.nexthop = nexthop;
        }
    }
    if out.transport.is_empty() {
        log::msg_warn!(
            "file {}/main.cf: parameter {}: null transport is not allowed",
            shared.config_directory,
            blame.unwrap_or("default_transport")
        );
        return fail(out);
    }
    if let Some(transport) = &rp.transport
        && out.flags & CLASS_ALIAS == 0
    {
        let current = (out.transport.as_str(), out.nexthop.as_str());
        let find = |maps: &Maps, key: &str, strategy| shared.find_address(maps, key, strategy);
        match transport.lookup(&recipient, &rcpt_domain, &find, current) {
            Ok(Some((t, h))) => {
                out.transport = t;
                out.nexthop = h;
            }
            Ok(None) => {}
            Err(()) => {
                log::msg_warn!("transport_maps lookup failure");
                return fail(out);
            }
        }
    }
    if let Some(relocated) = &shared.relocated {
        match shared.find_address(relocated, &recipient, Strategy::DEFAULT) {
            Ok(Some(found)) => {
                out.transport = "error".into();
                out.nexthop = format!("5.1.6 User has moved to {}", found.value);
            }
            Ok(None) => {}
            Err(_) => {
                log::msg_warn!("relocated_maps lookup failure");
                return fail(out);
            }
        }
    }
    if !shared.allow_min_user && recipient.starts_with('-') {
        out.flags |= FLAG_ERROR;
    }
    out
}

/// A sender-dependent lookup (by sender, or the null-sender key): the value, None, or the
/// table list's name on failure. An empty value is ignored with Postfix's warning.
fn sender_lookup(
    shared: &Shared,
    maps: &Option<(Maps, String)>,
    sender: &str,
) -> Result<Option<String>, String> {
    let Some((maps, null_key)) = maps else {
        return Ok(None);
    };
    let key = if sender.is_empty() {
        null_key.as_str()
    } else {
        sender
    };
    match shared.find_address(maps, key, Strategy::DEFAULT) {
        Ok(found) => Ok(found.map(|f| f.value)),
        Err(_) => Err(maps.title().to_string()),
    }
}
