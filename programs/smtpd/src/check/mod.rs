//! The restriction engine: smtpd_client/helo/sender/relay/recipient/data/end_of_data
//! restrictions evaluated as data, with a trace of what decided.
//!
//! Postfix counterpart: `smtpd/smtpd_check.c` (`generic_checks()`, `smtpd_check_client()`
//! and its siblings, `smtpd_check_reject()`). A list is evaluated in order; the first
//! restriction that permits or refuses ends it (`warn_if_reject` turns the next refusal
//! into a `reject_warning` line). Every refusal logs Postfix's `NOQUEUE: reject: ...`
//! line here, in one place. With `smtpd_delay_reject` (the default) the client, HELO and
//! sender lists are evaluated at each RCPT, as in Postfix.
//!
//! DEFER_IF_PERMIT and DEFER_IF_REJECT results are kept as Postfix keeps them: the first
//! reason of each, the first sent when a RCPT or DATA stage would otherwise accept, the
//! second instead of a later 5xx refusal in the same stage.
//!
//! The modules: [`list`] (parsing), [`tables`] (what is opened before the jail),
//! [`access`] (`check_*_access`), [`action`] (what a table or policy server answers),
//! [`server_access`] (`check_*_{mx,ns,a}_access`), [`rbl`] (DNS lists), [`unknown`]
//! (names that must exist), [`mx_backup`] (`permit_mx_backup`), [`legacy`]
//! (`check_relay_domains`, `reject_maps_rbl`), [`permit_log`]
//! (`smtpd_log_access_permit_actions`), [`policy`] and
//! [`policy_request`] (`check_policy_service`),
//! [`address`] (destinations
//! and recipient tables), [`helo`] (HELO name checks), [`rewrite`] (whose headers are
//! local), [`verify`] (address verification), [`queue_space`] (room in the queue),
//! [`resolve_cache`] (trivial-rewrite's answers), [`reply`] (refusals), [`trace`]
//! (decisions).

pub mod access;
pub mod action;
mod address;
mod helo;
mod legacy;
pub mod list;
mod login;
mod mx_backup;
mod permit_log;
pub mod policy;
mod policy_request;
mod queue_space;
mod rbl;
pub mod reply;
mod resolve_cache;
mod rewrite;
mod server_access;
pub mod tables;
#[cfg(test)]
mod tests;
pub mod trace;
mod unknown;
mod verify;

use crate::peer::Peer;
use dns::peer::PeerCode;
use global::info_log_addr_form::AddrForm;
use global::rewrite_clnt::RewriteClient;
use list::Restriction;
use reply::{Refusal, Verdict};
use smtp_proto::ErrorClass;
use tables::{Codes, Lists, Tables};
use trace::{Decision, Trace};

/// How deep restriction classes and access table answers may nest (Postfix stops
/// runaway recursion the same way).
const MAX_DEPTH: usize = 100;

/// What the session knows when it asks: the facts restrictions test, and the context of
/// the log lines.
pub struct Facts<'a> {
    /// The client.
    pub peer: &'a Peer,
    /// The HELO name, once given.
    pub helo: Option<&'a str>,
    /// The sender (internal form), in a transaction or while MAIL is checked.
    pub sender: Option<&'a str>,
    /// The recipient (internal form) while RCPT is checked, or the only one at DATA.
    pub recipient: Option<&'a str>,
    /// The queue id once the queue file is open.
    pub queue_id: Option<&'a str>,
    /// `SMTP` or `ESMTP`.
    pub protocol: &'a str,
    /// The command being checked (`RCPT`, `DATA`, `END-OF-MESSAGE`...).
    pub stage: &'a str,
    /// `info_log_address_format`.
    pub addr_form: &'a AddrForm,
    /// The client pipelined commands improperly (`SMTPD_FLAG_ILL_PIPELINING`).
    pub ill_pipelining: bool,
    /// The SASL user name, after AUTH.
    pub sasl_username: Option<&'a str>,
    /// The SASL mechanism, after AUTH.
    pub sasl_method: Option<&'a str>,
    /// MAIL FROM's AUTH= address.
    pub sasl_sender: Option<&'a str>,
    /// The accepted recipients so far.
    pub rcpt_count: usize,
    /// The message size: MAIL FROM's SIZE=, or the content's at the end of data.
    pub size: u64,
    /// The transaction's unique instance (for policy servers).
    pub instance: &'a str,
    /// What TLS negotiated.
    pub tls: Option<&'a tls::Summary>,
    /// `stress` (`yes` when master says the server is overloaded).
    pub stress: &'a str,
}

impl Facts<'_> {
    /// Logs a `log_whatsup()` line about this command.
    pub fn whatsup(&self, action: &str, text: &str) {
        let sender = self.sender.map(|s| self.addr_form.format(s));
        let recipient = self.recipient.map(|r| self.addr_form.format(r));
        crate::log_line::Whatsup {
            queue_id: self.queue_id,
            action,
            stage: self.stage,
            namaddr: &self.peer.namaddr,
            text,
            sender: sender.as_deref(),
            recipient: recipient.as_deref(),
            protocol: self.protocol,
            helo: self.helo,
        }
        .log();
    }
}

/// Whom a refusal is about: `<name>: Class rejected: ...` (`reply_name`, `reply_class`).
#[derive(Debug, Clone)]
pub struct Subject {
    /// The name in angle brackets.
    pub name: String,
    /// `Client host`, `Helo command`, `Sender address`, `Recipient address`...
    pub class: &'static str,
}

pub use action::Effects;

/// The session-independent settings of the engine.
pub struct Policy {
    /// `smtpd_delay_reject`.
    pub delay_reject: bool,
    /// `smtpd_reject_unlisted_recipient` (and no `no_unknown_recipient_checks`).
    pub reject_unlisted_recipient: bool,
    /// `smtpd_reject_unlisted_sender`.
    pub reject_unlisted_sender: bool,
    /// `smtpd_relay_before_recipient_restrictions`.
    pub relay_first: bool,
    /// `soft_bounce`.
    pub soft_bounce: bool,
    /// `show_user_unknown_table_name`.
    pub show_table: bool,
    /// `smtputf8_enable`: a policy server's action must be UTF-8.
    pub smtputf8: bool,
    /// `smtpd_tls_ask_ccert`: without it `check_ccert_access` has nothing to look at.
    pub ask_ccert: bool,
}

/// The engine with its tables, the rewriting service client, and the session's trace.
pub struct Checker {
    lists: Lists,
    tables: Tables,
    codes: Codes,
    policy: Policy,
    rewriter: RewriteClient,
    /// What decided, this session.
    pub trace: Trace,
    /// What table actions asked of this transaction.
    pub effects: Effects,
    /// The restriction being evaluated follows `warn_if_reject`.
    warn_if_reject: bool,
    /// A DEFER_IF_PERMIT result waiting for the stage's end.
    defer_if_permit: Option<Refusal>,
    /// A DEFER_IF_REJECT result waiting for a 5xx refusal.
    defer_if_reject: Option<Refusal>,
    /// `defer_if_permit` as the client, HELO and sender stages left it.
    deferred: [Option<Refusal>; 3],
    /// A policy server's default action is being evaluated.
    in_default_action: bool,
    /// The DNS list answers of this session.
    dnsxl_cache: rbl::DnsxlCache,
    /// The settings of the unknown name checks.
    unknown_codes: unknown::UnknownCodes,
    /// The verify service and the settings of the unverified address checks.
    verification: verify::Verification,
    /// queue_minfree and message_size_limit.
    queue_space: queue_space::QueueSpace,
    /// The resolving service's answers, kept across sessions.
    resolve_cache: resolve_cache::ResolveCache,
    /// reject_unlisted_sender, reject_unlisted_recipient ran in this stage (not under
    /// warn_if_reject): the implicit check at its end and later ones are skipped
    /// (`sender_rcptmap_checked`, `recipient_rcptmap_checked`).
    unlisted_checked: [bool; 2],
    /// `smtpd_sasl_auth_enable`: without it `check_sasl_access` is ignored.
    sasl_enable: bool,
    /// The ETRN domain while `smtpd_etrn_restrictions` are evaluated (Postfix's
    /// `etrn_name`), for `check_etrn_access`.
    etrn_domain: Option<String>,
    /// "restriction `X' after `reject' is ignored" warnings, logged at the stage's end
    /// after its refusal, in Postfix's order.
    ignored: Vec<String>,
    /// The deprecated restrictions' settings and warnings.
    legacy: legacy::Legacy,
    /// `allow_untrusted_routing`: a source-routed recipient may be an authorized
    /// destination.
    untrusted_routing: bool,
}

impl Checker {
    /// An engine over what main.cf names.
    pub fn new(config: &params::Config, policy: Policy, rewriter: RewriteClient) -> Checker {
        let lists = Lists::from_config(config);
        lists.require_relay_control();
        let tables = Tables::from_config(config, &lists);
        Checker {
            codes: Codes::from_config(config),
            lists,
            tables,
            policy,
            rewriter,
            trace: Trace::default(),
            effects: Effects::default(),
            warn_if_reject: false,
            defer_if_permit: None,
            defer_if_reject: None,
            deferred: Default::default(),
            in_default_action: false,
            dnsxl_cache: Default::default(),
            unknown_codes: unknown::UnknownCodes::from_config(config),
            verification: verify::Verification::from_config(config),
            queue_space: queue_space::QueueSpace::from_config(config),
            resolve_cache: Default::default(),
            unlisted_checked: [false; 2],
            sasl_enable: config
                .bool(&params::decl::sasl::SMTPD_SASL_AUTH_ENABLE)
                .unwrap_or_else(|e| crate::settings::fatal(e)),
            etrn_domain: None,
            ignored: Vec::new(),
            legacy: legacy::Legacy::from_config(config),
            untrusted_routing: config
                .bool(&params::decl::smtpd::ALLOW_UNTRUSTED_ROUTING)
                .unwrap_or_else(|e| crate::settings::fatal(e)),
        }
    }

    /// Forgets what a previous session left (the engine outlives sessions).
    pub fn new_session(&mut self) {
        self.trace = Trace::default();
        self.effects = Effects::default();
        self.defer_if_permit = None;
        self.defer_if_reject = None;
        self.deferred = Default::default();
        self.dnsxl_cache = Default::default();
    }

    /// `smtpd_delay_reject`.
    pub fn delay_reject(&self) -> bool {
        self.policy.delay_reject
    }

    /// The rewriting context of the client's headers (`smtpd_check_rewrite()`).
    pub fn rewrite_context(&self, peer: &Peer) -> &'static str {
        self.tables
            .rewrite_clients
            .context(peer, &self.tables.mynetworks)
    }

    /// What the resolving service says about `address` from `sender`, through the
    /// cache (`smtpd_resolve_addr()`).
    pub fn resolve(&mut self, sender: &str, address: &str) -> global::resolve_clnt::Resolved {
        let utf8 = self.policy.smtputf8;
        self.resolve_cache
            .resolve(&mut self.rewriter, utf8, sender, address)
    }

    /// A refusal with `code`, soft-bounced as main.cf says.
    fn refusal(&self, code: u16, dsn: &str, text: &str, class: ErrorClass) -> Verdict {
        Verdict::Refuse(Refusal::new(
            code,
            dsn,
            text,
            class,
            self.policy.soft_bounce,
        ))
    }

    /// A refusal of a malformed name or address: `CODE X.5.2 TEXT`.
    fn syntax_refusal(&self, code: u16, text: &str) -> Verdict {
        let dsn = format!("{}.5.2", code / 100);
        self.refusal(code, &dsn, text, ErrorClass::Policy)
    }

    /// `451 4.3.0 <name>: Temporary lookup failure` (`reject_dict_retry()`).
    fn lookup_failure(&self, name: &str) -> Verdict {
        self.refusal(
            451,
            "4.3.0",
            &format!("<{name}>: Temporary lookup failure"),
            ErrorClass::Resource,
        )
    }

    /// Evaluates `list` (named `list_name` in the trace) about `subject`.
    fn evaluate(
        &mut self,
        list_name: &str,
        list: &[Restriction],
        subject: &Subject,
        facts: &Facts,
        depth: usize,
    ) -> Verdict {
        if depth > MAX_DEPTH {
            log::msg_warn!("{list_name}: restriction nesting is too deep");
            return self.server_error();
        }
        let mut warn_if_reject = false;
        for (i, restriction) in list.iter().enumerate() {
            if self.effects.discard {
                break;
            }
            // Postfix warns that what follows permit, reject or defer is never reached
            // (after the refusal's log line).
            let final_name = match restriction {
                Restriction::Permit => Some("permit"),
                Restriction::Reject | Restriction::Defer if !warn_if_reject => {
                    Some(if *restriction == Restriction::Reject {
                        "reject"
                    } else {
                        "defer"
                    })
                }
                _ => None,
            };
            if let (Some(name), Some(next)) = (final_name, list.get(i + 1)) {
                let next = next.name();
                let word = next.split(' ').next().unwrap_or_default();
                self.ignored
                    .push(format!("restriction `{word}' after `{name}' is ignored"));
            }
            if *restriction == Restriction::WarnIfReject {
                warn_if_reject = true;
                continue;
            }
            self.warn_if_reject = warn_if_reject;
            let (mut verdict, key) = self.one(restriction, subject, facts, depth);
            self.warn_if_reject = false;
            // check_relay_domains decides once there is a recipient, so Postfix warns
            // about what follows it: after the refusal's line, or now.
            if *restriction == Restriction::CheckRelayDomains
                && !warn_if_reject
                && let Some(next) = list.get(i + 1)
            {
                let next = next.name();
                let word = next.split(' ').next().unwrap_or_default();
                let warning =
                    format!("restriction `{word}' after `check_relay_domains' is ignored");
                if matches!(verdict, Verdict::Refuse(_)) {
                    self.ignored.push(warning);
                } else {
                    log::msg_warn!("{warning}");
                }
            }
            if let Verdict::Refuse(refusal) = &verdict
                && !warn_if_reject
                && refusal.reply.starts_with('5')
                && let Some(deferral) = self.defer_if_reject.take()
            {
                verdict = Verdict::Refuse(deferral);
            }
            if verdict != Verdict::Dunno || key.is_some() {
                self.trace.note(Decision {
                    list: list_name.to_string(),
                    restriction: restriction.name(),
                    key,
                    result: verdict.shown(),
                });
            }
            match verdict {
                Verdict::Dunno => {}
                Verdict::Refuse(refusal) if warn_if_reject => {
                    facts.whatsup("reject_warning", &refusal.reply);
                }
                decided => return decided,
            }
            warn_if_reject = false;
        }
        Verdict::Dunno
    }

    /// `451 4.3.5 Server configuration error`.
    fn server_error(&self) -> Verdict {
        self.refusal(
            451,
            "4.3.5",
            "Server configuration error",
            ErrorClass::Software,
        )
    }

    /// One restriction's verdict, and the table key it looked up, if any; a permit is
    /// logged as smtpd_log_access_permit_actions asks.
    fn one(
        &mut self,
        restriction: &Restriction,
        subject: &Subject,
        facts: &Facts,
        depth: usize,
    ) -> (Verdict, Option<String>) {
        let (verdict, key) = self.decide(restriction, subject, facts, depth);
        if verdict == Verdict::Permit {
            self.restriction_permit(restriction, subject, facts);
        }
        (verdict, key)
    }

    /// [`one`](Self::one) without the permit's log line.
    fn decide(
        &mut self,
        restriction: &Restriction,
        subject: &Subject,
        facts: &Facts,
        depth: usize,
    ) -> (Verdict, Option<String>) {
        let class = ErrorClass::Policy;
        let denied = format!(
            "<{}>: {} rejected: Access denied",
            subject.name, subject.class
        );
        let verdict = match restriction {
            Restriction::Permit => Verdict::Permit,
            Restriction::Reject => self.refusal(self.codes.reject, "5.7.1", &denied, class),
            Restriction::Defer => self.refusal(self.codes.defer, "4.7.1", &denied, class),
            Restriction::WarnIfReject => Verdict::Dunno,
            Restriction::PermitSaslAuthenticated if facts.sasl_username.is_some() => {
                Verdict::Permit
            }
            Restriction::PermitSaslAuthenticated => Verdict::Dunno,
            Restriction::SenderLogin(check) => self.sender_login(*check, facts),
            Restriction::PermitMynetworks => self.permit_mynetworks(facts.peer),
            Restriction::PermitInetInterfaces => {
                let own = self.tables.rewrite_clients.own_address(facts.peer);
                if own { Verdict::Permit } else { Verdict::Dunno }
            }
            Restriction::PermitNakedIpAddress => self.naked_ip_address(facts.helo),
            Restriction::CheckRelayDomains => self.check_relay_domains(facts),
            Restriction::RejectMapsRbl => return self.reject_maps_rbl(facts),
            Restriction::Sleep(seconds) => match seconds.parse::<u64>() {
                Ok(n) if seconds.bytes().all(|b| b.is_ascii_digit()) => {
                    std::thread::sleep(std::time::Duration::from_secs(n));
                    Verdict::Dunno
                }
                _ => {
                    log::msg_warn!("restriction {} must be followed by number", list::SLEEP);
                    self.server_error()
                }
            },
            Restriction::PermitTlsClientcerts => self.permit_tls_clientcerts(facts, false),
            Restriction::PermitTlsAllClientcerts => self.permit_tls_clientcerts(facts, true),
            // The reply names neither client nor address, as Postfix's.
            Restriction::RejectPlaintextSession if facts.tls.is_none() => self.refusal(
                self.codes.plaintext,
                "4.7.1",
                "Session encryption is required",
                class,
            ),
            Restriction::RejectPlaintextSession => Verdict::Dunno,
            Restriction::PermitAuthDestination => self.auth_destination(facts, true),
            Restriction::PermitMxBackup => self.permit_mx_backup(facts),
            Restriction::RejectUnauthDestination => self.unauth_destination(facts, false),
            Restriction::DeferUnauthDestination => self.unauth_destination(facts, true),
            Restriction::RejectUnlistedRecipient => match facts.recipient {
                Some(rcpt) if self.first_unlisted_check(1) => {
                    self.unlisted(facts.sender.unwrap_or(""), rcpt, RECIPIENT)
                }
                _ => Verdict::Dunno,
            },
            Restriction::RejectUnlistedSender => match facts.sender {
                // Resolved from the recipient, as Postfix's check_sender_rcpt_maps() does.
                Some(sender) if !sender.is_empty() && self.first_unlisted_check(0) => {
                    self.unlisted(facts.recipient.unwrap_or(""), sender, SENDER)
                }
                _ => Verdict::Dunno,
            },
            Restriction::RejectNonFqdnHelo => self.non_fqdn_helo(facts.helo),
            Restriction::RejectInvalidHelo => self.invalid_helo(facts.helo),
            Restriction::RejectUnauthPipelining if facts.ill_pipelining => {
                let text = format!(
                    "<{}>: {} rejected: Improper use of SMTP command pipelining",
                    subject.name, subject.class
                );
                self.refusal(503, "5.5.0", &text, ErrorClass::Protocol)
            }
            Restriction::RejectUnauthPipelining => Verdict::Dunno,
            Restriction::RejectMultiRecipientBounce => self.multi_recipient_bounce(facts, subject),
            Restriction::RejectUnknownClient => {
                self.unknown_client(facts.peer.name_status, "hostname", "7.25", facts.peer)
            }
            Restriction::RejectUnknownReverseClient => self.unknown_client(
                facts.peer.reverse_name_status,
                "reverse hostname",
                "7.1",
                facts.peer,
            ),
            Restriction::RejectNonFqdnSender => match facts.sender {
                Some(sender) if !sender.is_empty() => self.non_fqdn_address(sender, SENDER),
                _ => Verdict::Dunno,
            },
            Restriction::RejectUnverifiedSender => self.unverified(facts, true),
            Restriction::RejectUnverifiedRecipient => self.unverified(facts, false),
            Restriction::RejectNonFqdnRecipient => match facts.recipient {
                Some(rcpt) => self.non_fqdn_address(rcpt, RECIPIENT),
                None => Verdict::Dunno,
            },
            Restriction::Access(kind, table) => {
                return self.check_access(*kind, table, facts, depth);
            }
            Restriction::Policy(server) => return self.check_policy(server, subject, facts, depth),
            Restriction::ServerAccess(kind, rtype, table) => {
                let name = list::server_access_name(*kind, *rtype);
                return self.check_server(*kind, *rtype, table, &name, facts, depth);
            }
            Restriction::RejectUnknownHelo => self.unknown_helo(facts),
            Restriction::RejectUnknownSenderDomain => self.unknown_domain(facts, true),
            Restriction::RejectUnknownRecipientDomain => self.unknown_domain(facts, false),
            Restriction::Dnsxl(kind, domain) if domain.is_empty() => {
                log::msg_warn!("restriction {} requires domain name argument", kind.name());
                Verdict::Dunno
            }
            Restriction::Dnsxl(kind, domain) => {
                let verdict = self.dnsxl(*kind, domain, facts);
                return (verdict, Some(domain.clone()));
            }
            Restriction::DeferIfPermit | Restriction::DeferIfReject => {
                let permit = *restriction == Restriction::DeferIfPermit;
                let name = if permit {
                    "defer_if_permit"
                } else {
                    "defer_if_reject"
                };
                let text = format!(
                    "<{}>: {} rejected: {name} requested",
                    subject.name, subject.class
                );
                let soft = self.policy.soft_bounce;
                let refusal = Refusal::new(450, "4.7.0", &text, class, soft);
                if permit {
                    self.defer_if_permit(refusal)
                } else {
                    self.defer_if_reject(refusal)
                }
            }
            Restriction::Class(name) => match self.lists.classes.get(name).cloned() {
                Some(list) => self.evaluate(name, &list, subject, facts, depth + 1),
                None => self.server_error(),
            },
            Restriction::Unknown(name) if name.eq_ignore_ascii_case(list::POLICY) => {
                log::msg_warn!("restriction {name} must be followed by transport:server");
                self.server_error()
            }
            Restriction::Unknown(name) => {
                log::msg_warn!("unknown smtpd restriction: \"{name}\"");
                self.server_error()
            }
        };
        (verdict, None)
    }

    /// Evaluates the list in `param` and logs a refusal; Err is the reply to send.
    fn stage(
        &mut self,
        list_name: &'static str,
        pick: fn(&Lists) -> &Vec<Restriction>,
        subject: Subject,
        facts: &Facts,
    ) -> Result<(), Refusal> {
        let list = pick(&self.lists).clone();
        self.defer_if_reject = None;
        let verdict = self.evaluate(list_name, &list, &subject, facts, 0);
        if let Verdict::Refuse(refusal) = &verdict {
            facts.whatsup("reject", &refusal.reply);
        }
        for warning in std::mem::take(&mut self.ignored) {
            log::msg_warn!("{warning}");
        }
        match verdict {
            Verdict::Refuse(refusal) => Err(refusal),
            _ => Ok(()),
        }
    }

    /// The end of a RCPT or DATA stage that did not refuse: a waiting DEFER_IF_PERMIT
    /// now refuses.
    fn deferred_permit(&mut self, facts: &Facts) -> Result<(), Refusal> {
        match self.defer_if_permit.take() {
            Some(refusal) => logged(Verdict::Refuse(refusal), facts),
            None => Ok(()),
        }
    }

    /// `smtpd_client_restrictions` (`smtpd_check_client()`).
    pub fn client(&mut self, facts: &Facts) -> Result<(), Refusal> {
        let subject = Subject {
            name: facts.peer.namaddr.clone(),
            class: "Client host",
        };
        self.defer_if_permit = None;
        let result = self.stage("smtpd_client_restrictions", |l| &l.client, subject, facts);
        self.deferred[0] = self.defer_if_permit.clone();
        result
    }

    /// `smtpd_helo_restrictions` (`smtpd_check_helo()`), once a HELO name was given.
    pub fn helo(&mut self, facts: &Facts) -> Result<(), Refusal> {
        let Some(helo) = facts.helo else {
            return Ok(());
        };
        let subject = Subject {
            name: helo.to_string(),
            class: "Helo command",
        };
        self.defer_if_permit = self.deferred[0].clone();
        let result = self.stage("smtpd_helo_restrictions", |l| &l.helo, subject, facts);
        self.deferred[1] = self.defer_if_permit.clone();
        result
    }

    /// `smtpd_sender_restrictions` and `smtpd_reject_unlisted_sender`
    /// (`smtpd_check_mail()`), in a transaction.
    pub fn sender(&mut self, facts: &Facts) -> Result<(), Refusal> {
        let Some(sender) = facts.sender else {
            return Ok(());
        };
        let subject = Subject {
            name: sender.to_string(),
            class: SENDER,
        };
        self.defer_if_permit = self.deferred[0]
            .clone()
            .or_else(|| self.deferred[1].clone());
        self.unlisted_checked[0] = false;
        let result = self.stage("smtpd_sender_restrictions", |l| &l.sender, subject, facts);
        self.deferred[2] = self.defer_if_permit.clone();
        result?;
        if self.policy.reject_unlisted_sender
            && !sender.is_empty()
            && !self.effects.discard
            && !self.unlisted_checked[0]
        {
            let verdict = self.unlisted(facts.recipient.unwrap_or(""), sender, SENDER);
            return logged(verdict, facts);
        }
        Ok(())
    }

    /// The delayed checks and the recipient's own (`smtpd_check_rcpt()`).
    pub fn rcpt(&mut self, facts: &Facts) -> Result<(), Refusal> {
        self.unlisted_checked[1] = false;
        if self.policy.delay_reject {
            self.client(facts)?;
            self.helo(facts)?;
            self.sender(facts)?;
        }
        let Some(recipient) = facts.recipient else {
            return Ok(());
        };
        if recipient.eq_ignore_ascii_case("postmaster") {
            return Ok(());
        }
        let subject = Subject {
            name: recipient.to_string(),
            class: RECIPIENT,
        };
        self.defer_if_permit = self.deferred[2].clone();
        let relay: (&'static str, fn(&Lists) -> &Vec<Restriction>) =
            ("smtpd_relay_restrictions", |l| &l.relay);
        let rcpt: (&'static str, fn(&Lists) -> &Vec<Restriction>) =
            ("smtpd_recipient_restrictions", |l| &l.recipient);
        let order = if self.policy.relay_first {
            [relay, rcpt]
        } else {
            [rcpt, relay]
        };
        for (name, pick) in order {
            if let Err(refusal) = self.stage(name, pick, subject.clone(), facts) {
                self.defer_if_permit = None;
                return Err(refusal);
            }
        }
        self.deferred_permit(facts)?;
        if self.policy.reject_unlisted_recipient
            && !self.effects.discard
            && !self.unlisted_checked[1]
        {
            let sender = facts.sender.unwrap_or("");
            let verdict = self.unlisted(sender, recipient, RECIPIENT);
            return logged(verdict, facts);
        }
        Ok(())
    }

    /// Room in the queue for a new transaction (`smtpd_check_queue()`): the queue file
    /// system, which is the working directory, must keep queue_minfree and one and a
    /// half messages of message_size_limit free.
    pub fn queue(&self, facts: &Facts) -> Result<(), Refusal> {
        let fs = queue_space::FsSpace::of(".");
        let logged = |refusal: &Refusal| facts.whatsup("reject", &refusal.reply);
        match self.queue_space.check(fs, logged) {
            Some(refusal) => Err(refusal),
            None => Ok(()),
        }
    }

    /// The delayed client and HELO checks, then `smtpd_etrn_restrictions` about
    /// `domain` (`smtpd_check_etrn()`).
    pub fn etrn(&mut self, facts: &Facts, domain: &str) -> Result<(), Refusal> {
        if self.policy.delay_reject {
            self.client(facts)?;
            self.helo(facts)?;
        }
        let subject = Subject {
            name: domain.to_string(),
            class: "Etrn command",
        };
        self.defer_if_permit = self.deferred[0]
            .clone()
            .or_else(|| self.deferred[1].clone());
        self.etrn_domain = Some(domain.to_string());
        let result = self.stage("smtpd_etrn_restrictions", |l| &l.etrn, subject, facts);
        self.etrn_domain = None;
        result?;
        self.deferred_permit(facts)
    }

    /// `smtpd_data_restrictions` (`smtpd_check_data()`).
    pub fn data(&mut self, facts: &Facts) -> Result<(), Refusal> {
        let subject = Subject {
            name: "DATA".into(),
            class: "Data command",
        };
        self.defer_if_permit = None;
        self.stage("smtpd_data_restrictions", |l| &l.data, subject, facts)?;
        self.deferred_permit(facts)
    }

    /// `smtpd_end_of_data_restrictions` (`smtpd_check_eod()`).
    pub fn end_of_data(&mut self, facts: &Facts) -> Result<(), Refusal> {
        let subject = Subject {
            name: crate::log_line::END_OF_MESSAGE.into(),
            class: "End-of-data",
        };
        self.defer_if_permit = None;
        self.stage(
            "smtpd_end_of_data_restrictions",
            |l| &l.end_of_data,
            subject,
            facts,
        )?;
        self.deferred_permit(facts)
    }

    /// `reject_multi_recipient_bounce`: a bounce goes to one recipient. At RCPT the count
    /// is of the recipients already accepted, so the second one is refused; at DATA and
    /// after it the count includes them all, so more than one is refused.
    fn multi_recipient_bounce(&self, facts: &Facts, subject: &Subject) -> Verdict {
        let limit = usize::from(facts.stage != "RCPT");
        if facts.sender != Some("") || facts.rcpt_count <= limit {
            return Verdict::Dunno;
        }
        let text = format!(
            "<{}>: {} rejected: Multi-recipient bounce",
            subject.name, subject.class
        );
        self.refusal(
            self.codes.multi_rcpt_bounce,
            "5.5.3",
            &text,
            ErrorClass::Policy,
        )
    }

    /// `reject_unknown_client_hostname` and `reject_unknown_reverse_client_hostname`:
    /// the lookup's `status` must be good; a temporary failure always gets 450. Postfix
    /// 3.7 gives the first the RFC 7372 detail `X.7.25`, the second `X.7.1`.
    fn unknown_client(&self, status: PeerCode, what: &str, detail: &str, peer: &Peer) -> Verdict {
        if status == PeerCode::Ok {
            return Verdict::Dunno;
        }
        let code = if status >= PeerCode::Perm {
            self.codes.unknown_client
        } else {
            450
        };
        let text = format!(
            "Client host rejected: cannot find your {what}, [{}]",
            peer.addr
        );
        let dsn = format!("{}.{detail}", code / 100);
        self.refusal(code, &dsn, &text, ErrorClass::Policy)
    }

    /// Whether the unlisted sender (0) or recipient (1) check is still to be done in
    /// this stage; a check not under warn_if_reject marks it done.
    fn first_unlisted_check(&mut self, which: usize) -> bool {
        if self.unlisted_checked[which] {
            return false;
        }
        if !self.warn_if_reject {
            self.unlisted_checked[which] = true;
        }
        true
    }

    /// `permit_mynetworks`.
    fn permit_mynetworks(&self, peer: &Peer) -> Verdict {
        match self.tables.mynetworks.matches(&[&peer.addr]) {
            Ok(true) => Verdict::Permit,
            Ok(false) => Verdict::Dunno,
            Err(e) => {
                log::msg_warn!("{e}");
                self.lookup_failure(&peer.namaddr)
            }
        }
    }
}

/// A single check's verdict as a stage result, logging a refusal.
fn logged(verdict: Verdict, facts: &Facts) -> Result<(), Refusal> {
    match verdict {
        Verdict::Refuse(refusal) => {
            facts.whatsup("reject", &refusal.reply);
            Err(refusal)
        }
        _ => Ok(()),
    }
}

/// The reply class of sender checks.
const SENDER: &str = "Sender address";
/// The reply class of recipient checks.
const RECIPIENT: &str = "Recipient address";
