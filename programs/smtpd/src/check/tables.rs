//! What the restrictions consult, opened once before the jail: the restriction lists and
//! classes, the access tables they name, mynetworks, the recipient tables and the reply
//! codes.
//!
//! Postfix counterpart: `smtpd_check_init()` in `smtpd/smtpd_check.c`.

use super::list::{self, Restriction};
use crate::settings::fatal;
use dict::Flags;
use global::addr_context::AddrContext;
use global::maps::Maps;
use global::match_list::{MatchList, Matcher};
use params::decl::address as a;
use params::decl::smtpd as s;
use params::{Config, Param};
use std::collections::HashMap;

/// The reply codes main.cf sets.
pub struct Codes {
    /// `reject_code`.
    pub reject: u16,
    /// `defer_code`.
    pub defer: u16,
    /// `plaintext_reject_code`.
    pub plaintext: u16,
    /// `multi_recipient_bounce_reject_code`.
    pub multi_rcpt_bounce: u16,
    /// `access_map_reject_code`.
    pub access_reject: u16,
    /// `access_map_defer_code`.
    pub access_defer: u16,
    /// `relay_domains_reject_code`.
    pub relay: u16,
    /// `non_fqdn_reject_code`.
    pub non_fqdn: u16,
    /// `invalid_hostname_reject_code`.
    pub invalid_hostname: u16,
    /// `unknown_local_recipient_reject_code`.
    pub unknown_local: u16,
    /// `unknown_relay_recipient_reject_code`.
    pub unknown_relay: u16,
    /// `unknown_virtual_alias_reject_code`.
    pub unknown_virtual_alias: u16,
    /// `unknown_virtual_mailbox_reject_code`.
    pub unknown_virtual_mailbox: u16,
    /// `unknown_client_reject_code`.
    pub unknown_client: u16,
}

/// The restriction lists, by the parameter that holds each.
pub struct Lists {
    /// `smtpd_client_restrictions`.
    pub client: Vec<Restriction>,
    /// `smtpd_helo_restrictions`.
    pub helo: Vec<Restriction>,
    /// `smtpd_sender_restrictions`.
    pub sender: Vec<Restriction>,
    /// `smtpd_relay_restrictions`.
    pub relay: Vec<Restriction>,
    /// `smtpd_recipient_restrictions`.
    pub recipient: Vec<Restriction>,
    /// `smtpd_data_restrictions`.
    pub data: Vec<Restriction>,
    /// `smtpd_end_of_data_restrictions`.
    pub end_of_data: Vec<Restriction>,
    /// `smtpd_etrn_restrictions`.
    pub etrn: Vec<Restriction>,
    /// `smtpd_restriction_classes`: each name's list.
    pub classes: HashMap<String, Vec<Restriction>>,
}

/// Everything the restrictions look things up in.
pub struct Tables {
    /// `mynetworks`.
    pub mynetworks: MatchList,
    /// The access tables, by `type:name`.
    pub access: HashMap<String, Maps>,
    /// `default_rbl_reply`, `maps_rbl_reject_code` and `rbl_reply_maps`.
    pub rbl: super::rbl::RblReplies,
    /// The policy service clients, by `check_policy_service` argument.
    pub policies: HashMap<String, super::policy::PolicyClient>,
    /// `local_recipient_maps`.
    pub local_rcpt: Option<Maps>,
    /// `virtual_alias_maps`.
    pub virt_alias: Option<Maps>,
    /// `canonical_maps`, `sender_canonical_maps` and `recipient_canonical_maps`: an
    /// address they rewrite is not checked against the recipient tables.
    pub canonical: [Option<Maps>; 3],
    /// `virtual_mailbox_maps`.
    pub virt_mailbox: Option<Maps>,
    /// `relay_recipient_maps`.
    pub relay_rcpt: Option<Maps>,
    /// `relay_clientcerts`.
    pub relay_ccerts: Option<Maps>,
    /// `smtpd_sender_login_maps`.
    pub sender_login: Option<Maps>,
    /// For `user` and `user+ext` lookups.
    pub addr: AddrContext,
    /// Whether `smtpd_access_maps` is in `parent_domain_matches_subdomains`.
    pub parent_style: bool,
    /// `smtpd_null_access_lookup_key`.
    pub null_key: String,
    /// `inet_protocols`: the address families host lookups return.
    pub inet: dns::inet_proto::InetProtocols,
    /// `local_header_rewrite_clients`.
    pub rewrite_clients: super::rewrite::RewriteClients,
    /// mydestination, for permit_mx_backup's MX host names.
    pub local: global::resolve_local::ResolveLocal,
    /// Our addresses (inet_interfaces and proxy_interfaces), for permit_mx_backup's MX
    /// hosts.
    pub own_addrs: Vec<std::net::IpAddr>,
    /// `permit_mx_backup_networks`, when set.
    pub mx_networks: Option<MatchList>,
    /// `smtpd_log_access_permit_actions`.
    pub permit_log: MatchList,
}

/// A value, or the fatal configuration error.
fn get<T>(result: Result<T, params::ConfigError>) -> T {
    result.unwrap_or_else(|e| fatal(e))
}

/// A reply code parameter.
fn code(config: &Config, param: &'static Param) -> u16 {
    let value = get(config.int(param));
    u16::try_from(value)
        .ok()
        .filter(|c| (400..600).contains(c))
        .unwrap_or_else(|| log::msg_fatal!("bad {} value: {value}", param.name))
}

impl Codes {
    /// The codes main.cf sets.
    pub fn from_config(config: &Config) -> Codes {
        Codes {
            reject: code(config, &s::REJECT_CODE),
            defer: code(config, &s::DEFER_CODE),
            plaintext: code(config, &s::PLAINTEXT_REJECT_CODE),
            multi_rcpt_bounce: code(config, &s::MULTI_RECIPIENT_BOUNCE_REJECT_CODE),
            access_reject: code(config, &s::ACCESS_MAP_REJECT_CODE),
            access_defer: code(config, &s::ACCESS_MAP_DEFER_CODE),
            relay: code(config, &s::RELAY_DOMAINS_REJECT_CODE),
            non_fqdn: code(config, &s::NON_FQDN_REJECT_CODE),
            invalid_hostname: code(config, &s::INVALID_HOSTNAME_REJECT_CODE),
            unknown_local: code(config, &s::UNKNOWN_LOCAL_RECIPIENT_REJECT_CODE),
            unknown_relay: code(config, &s::UNKNOWN_RELAY_RECIPIENT_REJECT_CODE),
            unknown_virtual_alias: code(config, &s::UNKNOWN_VIRTUAL_ALIAS_REJECT_CODE),
            unknown_virtual_mailbox: code(config, &s::UNKNOWN_VIRTUAL_MAILBOX_REJECT_CODE),
            unknown_client: code(config, &s::UNKNOWN_CLIENT_REJECT_CODE),
        }
    }
}

impl Lists {
    /// Parses the lists and the classes.
    pub fn from_config(config: &Config) -> Lists {
        let names: Vec<String> = get(config.list(&s::SMTPD_RESTRICTION_CLASSES));
        let parse = |param: &'static Param| list::parse(&get(config.str(param)), &names);
        let classes = names
            .iter()
            .map(|name| {
                let text = config.raw(name).map(|raw| get(config.expand(&raw)));
                let text = text.unwrap_or_else(|| {
                    log::msg_fatal!("restriction class `{name}' needs a definition")
                });
                (name.clone(), list::parse(&text, &names))
            })
            .collect();
        Lists {
            client: parse(&s::SMTPD_CLIENT_RESTRICTIONS),
            helo: parse(&s::SMTPD_HELO_RESTRICTIONS),
            sender: parse(&s::SMTPD_SENDER_RESTRICTIONS),
            relay: parse(&s::SMTPD_RELAY_RESTRICTIONS),
            recipient: parse(&s::SMTPD_RECIPIENT_RESTRICTIONS),
            data: parse(&s::SMTPD_DATA_RESTRICTIONS),
            end_of_data: parse(&s::SMTPD_END_OF_DATA_RESTRICTIONS),
            etrn: parse(&s::SMTPD_ETRN_RESTRICTIONS),
            classes,
        }
    }

    /// `has_required()`: whether `list` (with the classes it names) has a restriction
    /// that refuses relaying by default. A `permit` ends the search, with Postfix's
    /// warning about what follows it; what follows `warn_if_reject` does not count.
    fn has_required(&self, list: &[Restriction], depth: usize) -> bool {
        let mut items = list.iter().peekable();
        while let Some(restriction) = items.next() {
            match restriction {
                Restriction::WarnIfReject => {
                    items.next();
                }
                Restriction::Permit => {
                    if let Some(next) = items.peek() {
                        let next = next.name();
                        let word = next.split(' ').next().unwrap_or_default();
                        log::msg_warn!("restriction `{word}' after `permit' is ignored");
                    }
                    return false;
                }
                Restriction::RejectUnauthDestination
                | Restriction::DeferUnauthDestination
                | Restriction::Reject
                | Restriction::Defer
                | Restriction::DeferIfPermit
                | Restriction::CheckRelayDomains => return true,
                // A class that names itself would never end (Postfix's would not).
                Restriction::Class(name) if depth < super::MAX_DEPTH => {
                    if let Some(class) = self.classes.get(name)
                        && self.has_required(class, depth + 1)
                    {
                        return true;
                    }
                }
                _ => {}
            }
        }
        false
    }

    /// Fatal unless smtpd_recipient_restrictions or smtpd_relay_restrictions refuses
    /// relaying by default (Postfix's `fail_required()`): an open relay must be a
    /// deliberate choice.
    pub fn require_relay_control(&self) {
        if self.has_required(&self.recipient, 0) || self.has_required(&self.relay, 0) {
            return;
        }
        log::msg_fatal!(
            "in parameter {} or {}, specify at least one working instance of: \
             reject_unauth_destination, defer_unauth_destination, reject, defer, \
             defer_if_permit or check_relay_domains",
            s::SMTPD_RELAY_RESTRICTIONS.name,
            s::SMTPD_RECIPIENT_RESTRICTIONS.name
        );
    }

    /// Every list, for opening their tables.
    fn all(&self) -> impl Iterator<Item = &Vec<Restriction>> {
        [
            &self.client,
            &self.helo,
            &self.sender,
            &self.relay,
            &self.recipient,
            &self.data,
            &self.end_of_data,
            &self.etrn,
        ]
        .into_iter()
        .chain(self.classes.values())
    }
}

impl Tables {
    /// Opens the tables main.cf and the lists name.
    pub fn from_config(config: &Config, lists: &Lists) -> Tables {
        let utf8 = get(config.bool(&params::decl::identity::SMTPUTF8_ENABLE));
        let flags = Flags {
            utf8,
            ..Flags::default()
        };
        let open = |title: &str, value: &str| {
            Maps::new(title, value, flags).unwrap_or_else(|e| log::msg_fatal!("{e}"))
        };
        let maps = |param: &'static Param| {
            let value = get(config.str(param));
            (!value.trim().is_empty()).then(|| open(param.name, &value))
        };
        let mut access = HashMap::new();
        for table in lists.all().flat_map(|l| list::tables(l)) {
            if !access.contains_key(table) {
                access.insert(table.to_string(), open(table, table));
            }
        }
        let defaults = super::policy::Settings::from_config(config);
        let mut policies = HashMap::new();
        for server in lists.all().flat_map(|l| list::policy_services(l)) {
            if !policies.contains_key(server) {
                let service = super::policy::PolicyService::parse(server);
                let client = super::policy::PolicyClient::new(&service, &defaults);
                policies.insert(server.to_string(), client);
            }
        }
        let parent_style = get(global::match_list::parent_style(
            config,
            "smtpd_access_maps",
        ));
        Tables {
            mynetworks: get(global::match_list::from_parameter(
                config,
                &params::decl::identity::MYNETWORKS,
                &[Matcher::Hostaddr],
            )),
            access,
            rbl: super::rbl::RblReplies {
                default_reply: get(config.str(&s::DEFAULT_RBL_REPLY)),
                code: code(config, &s::MAPS_RBL_REJECT_CODE),
                maps: maps(&s::RBL_REPLY_MAPS),
                filter: util::unescape::unescape(&get(config.str(&s::SMTPD_EXPANSION_FILTER))),
                server_name: get(config.str(&params::decl::identity::MYHOSTNAME)),
            },
            policies,
            local_rcpt: maps(&a::LOCAL_RECIPIENT_MAPS),
            virt_alias: maps(&a::VIRTUAL_ALIAS_MAPS),
            canonical: [
                maps(&a::CANONICAL_MAPS),
                maps(&a::SENDER_CANONICAL_MAPS),
                maps(&a::RECIPIENT_CANONICAL_MAPS),
            ],
            virt_mailbox: maps(&a::VIRTUAL_MAILBOX_MAPS),
            relay_rcpt: maps(&s::RELAY_RECIPIENT_MAPS),
            relay_ccerts: maps(&s::RELAY_CLIENTCERTS),
            sender_login: maps(&params::decl::sasl::SMTPD_SENDER_LOGIN_MAPS),
            addr: get(AddrContext::from_config(config)),
            parent_style,
            null_key: get(config.str(&s::SMTPD_NULL_ACCESS_LOOKUP_KEY)),
            inet: dns::inet_proto::InetProtocols::parse(&get(
                config.str(&params::decl::identity::INET_PROTOCOLS)
            ))
            .unwrap_or_else(|e| log::msg_fatal!("{e}")),
            rewrite_clients: super::rewrite::RewriteClients::new(
                &get(config.str(&s::LOCAL_HEADER_REWRITE_CLIENTS)),
                &get(config.str(&params::decl::identity::INET_INTERFACES)),
                flags,
            ),
            local: get(global::resolve_local::ResolveLocal::new(config)),
            own_addrs: [
                &params::decl::identity::INET_INTERFACES,
                &params::decl::identity::PROXY_INTERFACES,
            ]
            .into_iter()
            .flat_map(|p| global::resolve_local::interface_addresses(&get(config.str(p))))
            .collect(),
            mx_networks: (!get(config.str(&s::PERMIT_MX_BACKUP_NETWORKS))
                .trim()
                .is_empty())
            .then(|| {
                get(global::match_list::from_parameter(
                    config,
                    &s::PERMIT_MX_BACKUP_NETWORKS,
                    &[Matcher::Hostname, Matcher::Hostaddr],
                ))
            }),
            permit_log: super::permit_log::from_config(config, utf8),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The relay and recipient lists of a main.cf text: whether they control relaying.
    fn controlled(main_cf: &str) -> bool {
        let path = std::path::Path::new("main.cf");
        let main = params::main_cf::MainCf::parse(path, main_cf).unwrap();
        let config = Config::new(std::path::Path::new("/nonexistent"), main);
        let lists = Lists::from_config(&config);
        lists.has_required(&lists.recipient, 0) || lists.has_required(&lists.relay, 0)
    }

    #[test]
    fn relaying_must_be_refused_by_default() {
        // The default relay restrictions end with defer_unauth_destination, from
        // compatibility level 1 on; below it they are empty, as Postfix's.
        assert!(controlled("compatibility_level = 3.6\n"));
        assert!(!controlled(""));
        let relay_empty = "smtpd_relay_restrictions =\n";
        assert!(!controlled(&format!(
            "{relay_empty}smtpd_recipient_restrictions = permit_mynetworks\n"
        )));
        // What follows warn_if_reject, or permit, does not count.
        assert!(!controlled(&format!(
            "{relay_empty}smtpd_recipient_restrictions = warn_if_reject reject\n"
        )));
        assert!(!controlled(&format!(
            "{relay_empty}smtpd_recipient_restrictions = permit reject\n"
        )));
        assert!(controlled(&format!(
            "{relay_empty}smtpd_recipient_restrictions = check_relay_domains\n"
        )));
        // A class counts by what it holds, even one that names itself.
        let classes = "smtpd_restriction_classes = strict, loop\nstrict = defer_if_permit\n\
                       loop = loop\n";
        assert!(controlled(&format!(
            "{relay_empty}{classes}smtpd_recipient_restrictions = loop, strict\n"
        )));
        assert!(!controlled(&format!(
            "{relay_empty}{classes}smtpd_recipient_restrictions = loop\n"
        )));
    }
}
