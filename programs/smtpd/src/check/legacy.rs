//! The deprecated restrictions Postfix 3.7 still runs: `check_relay_domains` and
//! `reject_maps_rbl`.
//!
//! Postfix counterparts: `check_relay_domains()` and `reject_maps_rbl()` in
//! `smtpd/smtpd_check.c`. Each says once per process that it will be removed and what to
//! use instead. `check_relay_domains` ends the list whatever it finds: a client whose
//! name matches relay_domains, or a recipient that permit_auth_destination allows,
//! permits; any other recipient is refused as relaying. `reject_maps_rbl` is
//! `reject_rbl_client` for each list of `maps_rbl_domains` in turn, until one decides.

use super::reply::Verdict;
use super::{Checker, Facts};
use crate::settings::fatal;
use global::match_list::{MatchList, Matcher};
use params::Config;
use params::decl::address::RELAY_DOMAINS;
use params::decl::smtpd::MAPS_RBL_DOMAINS;
use smtp_proto::ErrorClass;

/// What the deprecated restrictions consult, and whether they have warned yet.
pub struct Legacy {
    /// `relay_domains`, matched against the client's name.
    relay_domains: MatchList,
    /// `maps_rbl_domains`.
    rbl_domains: Vec<String>,
    /// `mail_name`, which the deprecation warnings name.
    mail_name: String,
    /// check_relay_domains has warned in this process.
    relay_warned: bool,
    /// reject_maps_rbl has warned in this process.
    rbl_warned: bool,
}

impl Legacy {
    /// The lists main.cf gives.
    pub fn from_config(config: &Config) -> Legacy {
        let list = config.list(&MAPS_RBL_DOMAINS).unwrap_or_else(|e| fatal(e));
        Legacy {
            relay_domains: global::match_list::from_parameter(
                config,
                &RELAY_DOMAINS,
                &[Matcher::Hostname],
            )
            .unwrap_or_else(|e| fatal(e)),
            rbl_domains: list,
            mail_name: config
                .str(&params::decl::identity::MAIL_NAME)
                .unwrap_or_else(|e| fatal(e)),
            relay_warned: false,
            rbl_warned: false,
        }
    }
}

/// Says, the first time in this process (`warned`), that restriction `name` will be
/// removed and what to use `instead`.
fn deprecated(warned: &mut bool, mail_name: &str, name: &str, instead: &str) {
    if !*warned {
        *warned = true;
        log::msg_warn!(
            "support for restriction \"{name}\" will be removed from {mail_name}; \
             use \"{instead}\" instead"
        );
    }
}

impl Checker {
    /// `check_relay_domains`: Permit or a refusal once there is a recipient.
    pub(super) fn check_relay_domains(&mut self, facts: &Facts) -> Verdict {
        let legacy = &mut self.legacy;
        deprecated(
            &mut legacy.relay_warned,
            &legacy.mail_name,
            "check_relay_domains",
            "reject_unauth_destination",
        );
        let Some(recipient) = facts.recipient else {
            return Verdict::Dunno;
        };
        // relay_domains is not a list whose table failure can be survived: Postfix
        // opens it without MATCH_FLAG_RETURN.
        match self.legacy.relay_domains.matches(&[&facts.peer.name]) {
            Ok(true) => return Verdict::Permit,
            Ok(false) => {}
            Err(e) => log::msg_fatal!("{e}"),
        }
        match self.auth_destination(facts, true) {
            Verdict::Dunno => {
                let text =
                    format!("<{recipient}>: Recipient address rejected: Relay access denied");
                self.refusal(self.codes.relay, "5.7.1", &text, ErrorClass::Policy)
            }
            decided => decided,
        }
    }

    /// `reject_maps_rbl`: the first list of `maps_rbl_domains` that decides, and its
    /// name for the trace.
    pub(super) fn reject_maps_rbl(&mut self, facts: &Facts) -> (Verdict, Option<String>) {
        let legacy = &mut self.legacy;
        deprecated(
            &mut legacy.rbl_warned,
            &legacy.mail_name,
            "reject_maps_rbl",
            "reject_rbl_client domain-name",
        );
        for domain in self.legacy.rbl_domains.clone() {
            let verdict = self.dnsxl(super::rbl::DnsxlKind::RblClient, &domain, facts);
            if verdict != Verdict::Dunno {
                return (verdict, Some(domain));
            }
        }
        (Verdict::Dunno, None)
    }
}
