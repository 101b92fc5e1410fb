//! trivial-rewrite - the address rewriting and resolving service.
//!
//! Postfix counterpart: `trivial-rewrite/trivial-rewrite.c`. A multi-client server that
//! cleanup, qmgr, smtpd and the delivery agents ask, over the attribute protocol:
//! `request=rewrite, rule=local|remote, address=...` returns the address in canonical form
//! (see rewrite.rs); `request=resolve` (regular mail) and `request=verify` (address
//! verification probes, with the address_verify_* settings) with `sender` and `address`
//! return `transport`, `nexthop`, `recipient` and the class flags (see resolve.rs). `-v`
//! logs each request with its answer. When a table file changes, the service exits after
//! at most 10 seconds so the master starts one that reads the new content.
//!
//! Addresses are bytes, as in Postfix: one that is not UTF-8 (an old client's Latin-1)
//! goes through the text code carried by util::eight_bit and comes back byte for byte.

mod resolve;
mod rewrite;
mod transport;
mod whatif;

use dict::Flags;
use global::maps::Maps;
use global::match_list::{MatchList, Matcher};
use ipc::{Attrs, Flavor, mail_attr};
use params::decl::{address as a, debug as d, identity as i, resolve as r};
use resolve::{Resolver, Setting, Shared};
use rewrite::Rules;
use rfc822::tok822::scan_addr;
use server::multi::{Client, Service};
use std::borrow::Cow;
use std::time::Duration;
use util::eight_bit;

struct TrivialRewrite {
    shared: Shared,
    regular: Resolver,
    verify: Resolver,
    remote_rules: Rules,
    /// The tables to restart for when they change.
    watch: global::table_watch::TableWatch,
}

/// An address (or sender) from a request, as text that keeps every byte.
fn address_arg<'a>(request: &'a Attrs, name: &str) -> Option<Cow<'a, str>> {
    request.get_bytes(name).map(eight_bit::to_text)
}

impl TrivialRewrite {
    fn rewrite(&self, request: &Attrs) -> Option<Attrs> {
        let (Ok(rule), Some(address), 3) = (
            request.get_str(mail_attr::RULE),
            address_arg(request, "address"),
            request.len(),
        ) else {
            return None;
        };
        let rules = match rule {
            "local" => &self.shared.local_rules,
            "remote" => &self.remote_rules,
            other => {
                log::msg_warn!("unknown context: {other}");
                return None;
            }
        };
        let result = if address.is_empty() {
            log::msg_warn!("rewrite_addr: null address");
            String::new()
        } else {
            let mut tree = scan_addr(&address).tokens;
            rewrite::rewrite_tree(rules, &mut tree);
            rewrite::externalize_address(&tree)
        };
        if log::verbose() > 0 {
            log::msg_info!(
                "`{rule}' `{}' -> `{}'",
                eight_bit::shown(&address),
                eight_bit::shown(&result)
            );
        }
        Some(
            Attrs::new()
                .int(mail_attr::FLAGS, 0)
                .bytes(mail_attr::ADDR, &eight_bit::to_bytes(&result)),
        )
    }

    fn resolve(&self, request: &Attrs, resolver: &Resolver) -> Option<Attrs> {
        let (Some(sender), Some(address), 3) = (
            address_arg(request, "sender"),
            address_arg(request, "address"),
            request.len(),
        ) else {
            return None;
        };
        let answer = resolve::resolve(&self.shared, resolver, &sender, &address);
        if log::verbose() > 0 {
            log::msg_info!(
                "`{}' -> `{}' -> (`{}' `{}' `{}' `{}')",
                eight_bit::shown(&sender),
                eight_bit::shown(&address),
                eight_bit::shown(&answer.transport),
                eight_bit::shown(&answer.nexthop),
                eight_bit::shown(&answer.recipient),
                answer.flags
            );
        }
        // The next hop and recipient may hold the address's bytes; the transport comes
        // from tables, but a table may hold 8-bit text too.
        Some(
            Attrs::new()
                .int(mail_attr::FLAGS, 0)
                .bytes(
                    mail_attr::TRANSPORT,
                    &eight_bit::to_bytes(&answer.transport),
                )
                .bytes(mail_attr::NEXTHOP, &eight_bit::to_bytes(&answer.nexthop))
                .bytes(mail_attr::RECIP, &eight_bit::to_bytes(&answer.recipient))
                .int(mail_attr::FLAGS, answer.flags),
        )
    }
}

impl Service for TrivialRewrite {
    fn connected(&mut self, _daemon: &mut server::Daemon, client: &mut Client) {
        client.announce(Flavor::Null, mail_attr::PROTO_TRIVIAL);
    }

    fn request(&mut self, _daemon: &mut server::Daemon, client: &mut Client) -> bool {
        let Some(request) = client.receive(Flavor::Null) else {
            return false;
        };
        let reply = match request.get_str(mail_attr::REQ).unwrap_or_default() {
            "rewrite" => self.rewrite(&request),
            "resolve" => self.resolve(&request, &self.regular),
            "verify" => self.resolve(&request, &self.verify),
            other => {
                log::msg_warn!("bad command {:.30}", other);
                None
            }
        };
        match reply {
            Some(reply) => client.send(Flavor::Null, &reply),
            None => false,
        }
    }

    fn tick(&mut self, _daemon: &mut server::Daemon) -> Option<Duration> {
        self.watch.exit_if_changed();
        Some(Duration::from_secs(10))
    }
}

/// Reads the configuration; a broken setting is fatal, as in Postfix.
struct Settings<'a> {
    config: &'a params::Config,
    flags: Flags,
    watch: global::table_watch::TableWatch,
}

impl Settings<'_> {
    fn text(&self, param: &'static params::Param) -> String {
        self.config
            .str(param)
            .unwrap_or_else(|e| global::fatal_config(e))
    }

    fn yes(&self, param: &'static params::Param) -> bool {
        self.config
            .bool(param)
            .unwrap_or_else(|e| global::fatal_config(e))
    }

    fn setting(&self, param: &'static params::Param) -> Setting {
        Setting {
            name: param.name,
            value: self.text(param),
        }
    }

    fn maps(&mut self, param: &'static params::Param) -> Option<Maps> {
        let value = self.text(param);
        if value.trim().is_empty() {
            return None;
        }
        self.watch.watch(&value);
        Some(Maps::new(param.name, &value, self.flags).unwrap_or_else(|e| log::msg_fatal!("{e}")))
    }

    fn list(&self, param: &'static params::Param, matcher: Matcher) -> Option<MatchList> {
        if self.text(param).trim().is_empty() {
            return None;
        }
        Some(
            global::match_list::from_parameter(self.config, param, &[matcher])
                .unwrap_or_else(|e| global::fatal_config(e)),
        )
    }

    fn resolver(
        &mut self,
        local: &'static params::Param,
        virtual_: &'static params::Param,
        relay: &'static params::Param,
        default: &'static params::Param,
        relayhost: &'static params::Param,
        transport_maps: &'static params::Param,
        sender_relayhost: &'static params::Param,
        sender_transport: &'static params::Param,
    ) -> Resolver {
        let transport = self.maps(transport_maps).map(|maps| {
            let parent = global::match_list::parent_style(self.config, a::TRANSPORT_MAPS.name)
                .unwrap_or_else(|e| global::fatal_config(e));
            transport::Transport::new(maps, parent)
        });
        let null_relay_key = self.text(&r::EMPTY_ADDRESS_RELAYHOST_MAPS_LOOKUP_KEY);
        let null_xport_key = self.text(&r::EMPTY_ADDRESS_DEFAULT_TRANSPORT_MAPS_LOOKUP_KEY);
        Resolver {
            local_transport: self.setting(local),
            virtual_transport: self.setting(virtual_),
            relay_transport: self.setting(relay),
            default_transport: self.setting(default),
            relayhost: self.text(relayhost),
            transport,
            sender_relayhost: self.maps(sender_relayhost).map(|m| (m, null_relay_key)),
            sender_transport: self.maps(sender_transport).map(|m| (m, null_xport_key)),
        }
    }
}

fn main() {
    if let Some(query) = global::whatif::enter() {
        whatif::run(query);
    }
    let mut daemon = server::Daemon::start(server::Requirements::default());
    let service = service(&daemon.config);
    daemon.enter_jail();
    server::multi::serve(daemon, service)
}

/// The service's state, from main.cf (before the jail; also the what-if mode's).
fn service(config: &params::Config) -> TrivialRewrite {
    let smtputf8 = config
        .bool(&i::SMTPUTF8_ENABLE)
        .unwrap_or_else(|e| global::fatal_config(e));
    let mut s = Settings {
        config,
        flags: Flags {
            utf8: smtputf8,
            ..Flags::default()
        },
        watch: Default::default(),
    };
    let rules = |origin: String, domain: String, s: &Settings| Rules {
        origin,
        domain,
        swap_bangpath: s.yes(&a::SWAP_BANGPATH),
        percent_hack: s.yes(&a::ALLOW_PERCENT_HACK),
        append_at_origin: s.yes(&a::APPEND_AT_MYORIGIN),
        append_dot_domain: s.yes(&a::APPEND_DOT_MYDOMAIN),
    };
    let remote_domain = s.text(&r::REMOTE_HEADER_REWRITE_DOMAIN);
    let shared = Shared {
        local_rules: rules(s.text(&i::MYORIGIN), s.text(&i::MYDOMAIN), &s),
        local: global::resolve_local::ResolveLocal::new(config)
            .unwrap_or_else(|e| global::fatal_config(e)),
        virtual_alias_domains: s.list(&a::VIRTUAL_ALIAS_DOMAINS, Matcher::String),
        virtual_mailbox_domains: s.list(&a::VIRTUAL_MAILBOX_DOMAINS, Matcher::String),
        relay_domains: s.list(&a::RELAY_DOMAINS, Matcher::Hostname),
        relocated: s.maps(&r::RELOCATED_MAPS),
        myhostname: s.text(&i::MYHOSTNAME),
        myorigin: s.text(&i::MYORIGIN),
        empty_address: s.text(&a::EMPTY_ADDRESS_RECIPIENT),
        resolve_dequoted: s.yes(&a::RESOLVE_DEQUOTED_ADDRESS),
        resolve_null_domain: s.yes(&r::RESOLVE_NULL_DOMAIN),
        resolve_numeric_domain: s.yes(&r::RESOLVE_NUMERIC_DOMAIN),
        allow_min_user: s.yes(&r::ALLOW_MIN_USER),
        show_table_name: s.yes(&d::SHOW_USER_UNKNOWN_TABLE_NAME),
        helpful_warnings: s.yes(&d::HELPFUL_WARNINGS),
        smtputf8,
        delimiters: s.text(&a::RECIPIENT_DELIMITER),
        double_bounce_sender: s.text(&params::decl::queue::DOUBLE_BOUNCE_SENDER),
        owner_request_special: s.yes(&a::OWNER_REQUEST_SPECIAL),
        config_directory: s.text(&params::decl::install::CONFIG_DIRECTORY),
    };
    let remote_rules = rules(remote_domain.clone(), remote_domain, &s);
    let regular = s.resolver(
        &a::LOCAL_TRANSPORT,
        &a::VIRTUAL_TRANSPORT,
        &a::RELAY_TRANSPORT,
        &a::DEFAULT_TRANSPORT,
        &a::RELAYHOST,
        &a::TRANSPORT_MAPS,
        &r::SENDER_DEPENDENT_RELAYHOST_MAPS,
        &r::SENDER_DEPENDENT_DEFAULT_TRANSPORT_MAPS,
    );
    let verify = s.resolver(
        &r::ADDRESS_VERIFY_LOCAL_TRANSPORT,
        &r::ADDRESS_VERIFY_VIRTUAL_TRANSPORT,
        &r::ADDRESS_VERIFY_RELAY_TRANSPORT,
        &r::ADDRESS_VERIFY_DEFAULT_TRANSPORT,
        &r::ADDRESS_VERIFY_RELAYHOST,
        &r::ADDRESS_VERIFY_TRANSPORT_MAPS,
        &r::ADDRESS_VERIFY_SENDER_DEPENDENT_RELAYHOST_MAPS,
        &r::ADDRESS_VERIFY_SENDER_DEPENDENT_DEFAULT_TRANSPORT_MAPS,
    );
    let watch = std::mem::take(&mut s.watch);
    TrivialRewrite {
        shared,
        regular,
        verify,
        remote_rules,
        watch,
    }
}
