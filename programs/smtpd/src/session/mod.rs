//! One SMTP session: the greeting, the command loop, and the end of the session.
//!
//! Postfix counterpart: `smtpd_proto()` and `smtpd_state.c` in `smtpd/smtpd.c`. The loop
//! follows the order the protocol core documents (`smtp_proto` crate docs), doing the
//! steps that are smtpd's own: restrictions, the rewriting service, cleanup. Each command
//! has its module with a check step (syntax, order, limits, restrictions) and a proceed
//! step: [`helo`], [`mail`], [`rcpt`], [`data`], [`bdat`], [`starttls`], [`auth`],
//! [`other`] (RSET, NOOP, VRFY, ETRN, QUIT), [`xclient`], [`xforward`].
//!
//! Every reply goes through [`Session::send`] (soft_bounce, the error sleep, the tap),
//! every read through [`SessionIo`]. The session ends on QUIT, on a reply that ends it,
//! after `smtpd_hard_error_limit` errors, on a timeout or when the client goes away, and
//! logs Postfix's `... after X from ...` and `disconnect from` lines.

mod auth;
mod bdat;
mod data;
mod helo;
mod mail;
mod other;
mod rcpt;
mod starttls;
mod xclient;
mod xforward;

use crate::check::reply::Refusal;
use crate::check::{Checker, Facts};
use crate::io::{Hangup, SessionIo, Wire};
use crate::log_line::{self, Reason, Stage};
use crate::peer::Peer;
use crate::settings::Settings;
use crate::stats::Stats;
use global::cleanup_clnt::CleanupStream;
use smtp_proto::{
    BareLf, BdatReader, Command, CommandReader, ErrorClass, LogContext, Notice, Pipelining, Reject,
    Reply, Transaction, Verb,
};

/// The state of one session.
pub struct Session<'a, W: Wire> {
    settings: &'a Settings,
    checker: &'a mut Checker,
    peer: Peer,
    io: SessionIo<W>,
    reader: CommandReader,
    /// `smtpd_forbid_bare_newline` as it applies to this client.
    bare_lf: BareLf,
    txn: Transaction,
    pipelining: Pipelining,
    helo: Option<String>,
    esmtp: bool,
    error_count: usize,
    junk_cmds: usize,
    stats: Stats,
    stage: Stage,
    cleanup: Option<CleanupStream>,
    bdat: Option<BdatReader>,
    /// The client sent commands ahead of a reply it had to wait for.
    ill_pipelining: bool,
    /// A refusal of the client at connect time (`smtpd_delay_reject = no`).
    access_denied: Option<String>,
    /// When the transaction's MAIL came, seconds and microseconds since the epoch: the
    /// `T` record, from which the delivery lines' delays count.
    arrival: (i64, i64),
    /// The transaction's unique name for policy servers (`pid.sec.usec.seqno`, hex).
    instance: String,
    /// How many transactions have started in this session.
    seqno: u32,
    /// The size of the content received so far.
    act_size: u64,
    /// What TLS negotiated, once it is active.
    tls: Option<tls::Summary>,
    /// The process's auth server client, with SASL on.
    dovecot: Option<&'a mut xsasl::Dovecot>,
    /// The session's SASL server, while SASL is active.
    sasl: Option<xsasl::Session>,
    /// The mechanisms EHLO announces: the session's, through
    /// `smtpd_sasl_mechanism_filter`.
    sasl_mechanisms: Option<String>,
    /// The client may send XFORWARD (`smtpd_authorized_xforward_hosts`).
    xforward_allowed: bool,
    /// What it forwarded, until the transaction ends.
    xforward: Option<xforward::XForward>,
    /// The client may send XCLIENT (`smtpd_authorized_xclient_hosts`); such clients are
    /// not counted by anvil.
    xclient_allowed: bool,
    /// XCLIENT replaced the client: the session starts over with a new greeting.
    restarted: bool,
    /// The anvil client, when this client is counted (limits set, not an exception).
    anvil: Option<&'a mut crate::anvil::Anvil>,
    /// The anvil client while this client is not counted: a client that XCLIENT
    /// brings in may be.
    anvil_spare: Option<&'a mut crate::anvil::Anvil>,
    /// Who the client authenticated as.
    authenticated: Option<auth::Authenticated>,
    /// The session is over (QUIT, a 421/521, too many errors).
    closed: bool,
    reason: Option<Reason>,
    /// The transcript and error classes for the postmaster's notices.
    chat: crate::chat_notify::Chat,
}

/// A command's outcome for the statistics and the error count.
type Done = Result<bool, Hangup>;

impl<'a, W: Wire> Session<'a, W> {
    /// A session with `peer` over `io`.
    pub fn new(
        settings: &'a Settings,
        checker: &'a mut Checker,
        peer: Peer,
        io: SessionIo<W>,
        dovecot: Option<&'a mut xsasl::Dovecot>,
        anvil: Option<&'a mut crate::anvil::Anvil>,
    ) -> Session<'a, W> {
        let xforward_allowed = listed_client(settings.xforward_hosts.as_ref(), &peer);
        let xclient_allowed = listed_client(settings.xclient_hosts.as_ref(), &peer);
        // XCLIENT must not let a proxy's clients count against the proxy (smtpd.c
        // leaves xclient_allowed clients out of every anvil event).
        let counted = anvil
            .as_ref()
            .is_some_and(|a| !xclient_allowed && a.counts(&peer.name, &peer.addr));
        let (anvil, anvil_spare) = if counted {
            (anvil, None)
        } else {
            (None, anvil)
        };
        // By name or address, as Postfix's namadr_list_match().
        let excluded = settings
            .bare_lf_exclusions
            .matches(&[&peer.name, &peer.addr])
            .unwrap_or(false);
        Session {
            // A stand-alone session (sendmail -bs) has no server address.
            bare_lf: settings.bare_lf.for_client(excluded, peer.server.is_none()),
            settings,
            checker,
            peer,
            io,
            reader: CommandReader::new(),
            txn: Transaction::new(),
            pipelining: Pipelining::new(),
            helo: None,
            esmtp: false,
            error_count: 0,
            junk_cmds: 0,
            stats: Stats::default(),
            stage: Stage::After("CONNECT"),
            cleanup: None,
            bdat: None,
            ill_pipelining: false,
            access_denied: None,
            arrival: (0, 0),
            instance: String::new(),
            seqno: 0,
            act_size: 0,
            tls: None,
            dovecot,
            anvil,
            anvil_spare,
            xforward_allowed,
            xforward: None,
            xclient_allowed,
            restarted: false,
            sasl: None,
            sasl_mechanisms: None,
            authenticated: None,
            closed: false,
            reason: None,
            chat: Default::default(),
        }
    }

    /// Runs the session to its end and logs how it ended.
    pub fn run(mut self) {
        log_line::connect(&self.peer.namaddr);
        let ended = self.wrapper_handshake().and_then(|()| {
            if self.closed {
                // Wrapper mode refused the client before or right after the handshake.
                return Ok(());
            }
            self.sasl_activate();
            if self.talked_first() {
                return Ok(());
            }
            self.greet();
            self.commands()
        });
        let reason = match ended {
            Err(Hangup::Timeout) => {
                let text = format!(
                    "421 4.4.2 {} Error: timeout exceeded",
                    self.settings.myhostname
                );
                self.send(&Reply::new(text));
                let _ = self.io.flush();
                Some(Reason::Timeout)
            }
            Err(Hangup::Lost) => Some(Reason::Lost),
            Ok(()) => {
                self.io.close();
                self.reason
            }
        };
        if let Some(reason) = reason {
            log_line::ended(reason, &self.stage, &self.peer.namaddr);
        }
        self.chat_reset(0, reason);
        // An unfinished queue file is cleanup's to remove when the connection drops.
        self.cleanup = None;
        if let Some(anvil) = self.anvil.as_mut() {
            anvil.disconnect(&self.peer.addr);
        }
        log_line::disconnect(&self.peer.namaddr, &self.stats.format());
    }

    /// A client that talks before the greeting: logged and flagged for
    /// `reject_unauth_pipelining`; with `smtpd_forbid_unauth_pipelining` refused with
    /// 554 instead of a greeting (true). Not checked in stand-alone mode, after the
    /// wrapper-mode handshake, or for a connection postscreen passed on, as in Postfix.
    fn talked_first(&mut self) -> bool {
        if self.stand_alone() || self.tls.is_some() || self.io.handed_over() {
            return false;
        }
        self.io.collect();
        let notice = self.pipelining.check_connect(self.io.input.pending());
        let early = notice.is_some();
        self.ill_pipelining |= early;
        self.note(notice);
        if early && self.settings.forbid_unauth_pipelining {
            self.send(&smtp_proto::sync_reply());
            self.closed = true;
        }
        self.closed
    }

    /// The banner, or the refusal of a client that `smtpd_client_restrictions` rejects
    /// at connect time.
    fn greet(&mut self) {
        if !self.anvil_connect() {
            self.closed = true;
            return;
        }
        if !self.checker.delay_reject() {
            // CONNECT, or XCLIENT when that command restarted the session.
            let stage = self.stage.name();
            let result = self.with_facts(stage, None, |checker, facts| checker.client(facts));
            if let Err(refusal) = result {
                self.chat.error(refusal.class);
                self.send(&Reply::new(refusal.reply.clone()));
                self.error_count += 1;
                self.access_denied = Some(refusal.reply);
                return;
            }
        }
        let banner = Reply::multiline(220, self.settings.banner.split("\\n"));
        self.send(&banner);
    }

    /// Tells anvil about the connection; false (with the 421 sent) when the client has
    /// too many connections or makes them too fast.
    fn anvil_connect(&mut self) -> bool {
        let Some(anvil) = self.anvil.as_mut() else {
            return true;
        };
        let Some((count, rate)) = anvil.connect(&self.peer.addr) else {
            return true;
        };
        let limits = anvil.limits;
        let service = anvil.service().to_string();
        let what = if limits.count > 0 && count > limits.count {
            format!("Connection concurrency limit exceeded: {count}")
        } else if limits.rate > 0 && rate > limits.rate {
            format!("Connection rate limit exceeded: {rate}")
        } else {
            return true;
        };
        log::msg_warn!("{what} from {} for service {service}", self.peer.namaddr);
        let text = format!(
            "421 4.7.0 {} Error: too many connections from {}",
            self.settings.myhostname, self.peer.addr
        );
        self.send(&Reply::new(text));
        false
    }

    /// Whether the client's rate of `event` exceeds its limit, with Postfix's warning
    /// logged (`what` names the limit).
    fn over_limit(&mut self, event: crate::anvil::Event, what: &str) -> bool {
        let Some(anvil) = self.anvil.as_mut() else {
            return false;
        };
        let Some(rate) = anvil.exceeded(event, &self.peer.addr) else {
            return false;
        };
        log::msg_warn!(
            "{what} rate limit exceeded: {rate} from {} for service {}",
            self.peer.namaddr,
            anvil.service()
        );
        true
    }

    /// Whether the client's rate of `event` exceeds its limit, logging nothing.
    fn over_limit_quietly(&mut self, event: crate::anvil::Event) -> bool {
        let addr = &self.peer.addr;
        self.anvil
            .as_mut()
            .is_some_and(|anvil| anvil.exceeded(event, addr).is_some())
    }

    /// master.cf's name of this service, for anvil's warnings.
    fn anvil_service(&self) -> String {
        self.anvil
            .as_ref()
            .map_or_else(String::new, |a| a.service().to_string())
    }

    /// `SMTP` or `ESMTP`.
    fn protocol(&self) -> &'static str {
        if self.esmtp { "ESMTP" } else { "SMTP" }
    }

    /// Runs `f` with the facts about the session for command `stage`, `recipient` being
    /// the address under test (or None).
    fn with_facts<R>(
        &mut self,
        stage: &str,
        recipient: Option<&str>,
        f: impl FnOnce(&mut Checker, &Facts) -> R,
    ) -> R {
        let facts = Facts {
            peer: &self.peer,
            helo: self.helo.as_deref(),
            sender: self.txn.sender.as_deref(),
            recipient,
            queue_id: self.cleanup.as_ref().map(|c| c.queue_id.as_str()),
            protocol: if self.esmtp { "ESMTP" } else { "SMTP" },
            stage,
            addr_form: &self.settings.addr_form,
            ill_pipelining: self.ill_pipelining,
            sasl_username: self.authenticated.as_ref().map(|a| a.username.as_str()),
            sasl_method: self.authenticated.as_ref().map(|a| a.method.as_str()),
            sasl_sender: self.txn.sasl_sender.as_deref(),
            rcpt_count: self.txn.rcpt_count,
            size: if self.act_size > 0 {
                self.act_size
            } else {
                self.txn.msg_size
            },
            instance: &self.instance,
            tls: self.tls.as_ref(),
            stress: &self.settings.stress,
        };
        f(self.checker, &facts)
    }

    /// Sends a reply: soft_bounce applies, and a client past `smtpd_soft_error_limit`
    /// waits `smtpd_error_sleep_time` first (Postfix's sleep-on-anything).
    fn send(&mut self, reply: &Reply) {
        let reply = self.with_footer(reply);
        let reply = if self.settings.soft_bounce {
            reply.soft_bounce()
        } else {
            reply
        };
        if self.error_count >= self.settings.soft_error_limit {
            let _ = self.io.flush();
            std::thread::sleep(self.settings.error_sleep);
        }
        self.chat.reply(&self.settings.notify, &reply);
        self.io.reply(&reply);
    }

    /// A 4xx or 5xx reply with `smtpd_reject_footer_maps`' or `smtpd_reject_footer`'s
    /// text added.
    fn with_footer(&self, reply: &Reply) -> Reply {
        if !reply.is_reject() {
            return reply.clone();
        }
        let wire = reply.to_wire();
        let text = String::from_utf8_lossy(&wire);
        let text = text.strip_suffix("\r\n").unwrap_or(&text);
        let from_maps = self
            .settings
            .reject_footer_maps
            .as_ref()
            .and_then(|maps| maps.find(text, false).unwrap_or_default());
        let template = from_maps.as_deref().unwrap_or(&self.settings.reject_footer);
        if template.is_empty() {
            return reply.clone();
        }
        let context = crate::footer::Context {
            server_name: &self.settings.myhostname,
            client: &self.peer.namaddr,
            client_address: &self.peer.addr,
            client_port: &self.peer.port,
            client_name: &self.peer.name,
            reverse_client_name: &self.peer.reverse_name,
            helo_name: self.helo.as_deref(),
            sender: self.txn.sender.as_deref(),
            recipient: self.txn.recipient.as_deref(),
            filter: &self.settings.expansion_filter,
        };
        match crate::footer::apply(text, template, &context) {
            Some(text) => Reply::from_text(text.as_bytes()),
            None => reply.clone(),
        }
    }

    /// Logs a notice the protocol core asked for.
    fn note(&self, notice: Option<Notice>) {
        let Some(notice) = notice else {
            return;
        };
        let ctx = LogContext {
            namaddr: &self.peer.namaddr,
            queue_id: self.cleanup.as_ref().map(|c| c.queue_id.as_str()),
            utf8: self.settings.smtputf8,
        };
        match notice.severity() {
            smtp_proto::Severity::Warning => log::msg_warn!("{}", notice.text(&ctx)),
            smtp_proto::Severity::Info => log::msg_info!("{}", notice.text(&ctx)),
        }
    }

    /// Logs and sends a refusal; whether it counts as an error.
    fn refuse(&mut self, reject: Reject) -> bool {
        self.note(reject.notice.clone());
        if let Some(class) = reject.class {
            self.chat.error(class);
        }
        if reject.reply.ends_session() {
            self.closed = true;
        }
        self.send(&reject.reply);
        reject.counts_as_error
    }

    /// Sends the answer of a command; the command's success.
    fn answer(&mut self, result: Result<Reply, Reject>) -> bool {
        match result {
            Ok(reply) => {
                if reply.ends_session() {
                    self.closed = true;
                }
                self.send(&reply);
                true
            }
            Err(reject) => !self.refuse(reject),
        }
    }

    /// A `log_whatsup()` line about this session (no recipient under test).
    fn whatsup(&mut self, action: &str, text: &str) {
        let stage = self.stage.name();
        let recipient = self.txn.recipient.clone();
        self.with_facts(stage, recipient.as_deref(), |_, facts| {
            facts.whatsup(action, text)
        });
    }

    /// The command loop; Ok when the session ended by protocol.
    fn commands(&mut self) -> Result<(), Hangup> {
        while !self.closed {
            if self.error_count >= self.settings.hard_error_limit {
                self.reason = Some(Reason::TooManyErrors);
                self.chat.error(ErrorClass::Protocol);
                let text = format!(
                    "421 4.7.0 {} Error: too many errors",
                    self.settings.myhostname
                );
                self.send(&Reply::new(text));
                break;
            }
            self.command()?;
        }
        Ok(())
    }

    /// Reads and runs one command.
    fn command(&mut self) -> Result<(), Hangup> {
        let limit = self.settings.line_length_limit;
        let (text, too_long, bare_lf) = loop {
            if let Some(line) = self.reader.read(&mut self.io.input, limit, self.bare_lf) {
                break (line.text.to_vec(), line.too_long(limit), line.bare_lf);
            }
            self.io.fill()?;
        };
        self.io.tap.command(&text);
        self.chat.command(&self.settings.notify, &text);
        self.note(too_long);
        if bare_lf && self.bare_lf.rejects() {
            // Before the command is parsed: the log line names the previous one (or
            // CONNECT), Postfix's state->where. A protocol error for notify_classes.
            self.chat.error(ErrorClass::Protocol);
            self.whatsup("reject", "bare <LF> received");
            let reply =
                smtp_proto::bare_lf_reply(self.settings.bare_lf_code, &self.settings.myhostname);
            self.send(&reply);
            self.closed = true;
            return Ok(());
        }
        let cmd = match Command::parse(&text, self.settings.smtputf8) {
            Ok(cmd) => cmd,
            Err(reply) => {
                self.chat.error(ErrorClass::Protocol);
                self.send(&reply);
                self.error_count += 1;
                return Ok(());
            }
        };
        let name = String::from_utf8_lossy(cmd.name()).into_owned();
        if listed(self.settings.noop_commands.as_ref(), &name) {
            // smtpd_noop_commands: Ok, counted as junk, not in the statistics.
            self.send(&smtp_proto::ok_reply());
            self.count_junk();
            return Ok(());
        }
        let Some(verb) = cmd.verb else {
            self.unknown(&cmd, &text);
            return Ok(());
        };
        if self.access_denied.is_some() && verb != Verb::Quit {
            let text = format!("503 5.7.0 Error: access denied for {}", self.peer.namaddr);
            self.send(&Reply::new(text));
            self.error_count += 1;
            self.stats.count(Some(verb), false);
            return Ok(());
        }
        if self.needs_tls_first(verb) {
            return Ok(());
        }
        self.stage = Stage::After(verb.name());
        // Postfix does not check a stand-alone session (sendmail -bs): its input is a
        // file or a pipe, read ahead by design.
        let notice = if self.stand_alone() {
            None
        } else {
            if !self.pipelining.flagged() && (!self.esmtp || verb.ends_pipeline_group()) {
                self.io.collect();
            }
            self.pipelining
                .check(verb, self.esmtp, self.io.input.pending())
        };
        let early = notice.is_some();
        self.ill_pipelining |= early;
        self.note(notice);
        if early && self.settings.forbid_unauth_pipelining {
            // Attempted, as Postfix counts a command once it is looked up.
            self.stats.count(Some(verb), false);
            self.send(&smtp_proto::sync_reply());
            self.closed = true;
            return Ok(());
        }
        self.stats.attempt(Some(verb));
        let ok = self.run_command(verb, &cmd, &text)?;
        if std::mem::take(&mut self.restarted) {
            // XCLIENT's success is the new greeting: Postfix jumps back to it, counting
            // the command as attempted, neither a success nor an error.
            return Ok(());
        }
        if ok {
            self.stats.success(Some(verb));
        } else {
            self.error_count += 1;
        }
        if verb.counts_as_junk() {
            self.count_junk();
        }
        if verb == Verb::Quit {
            self.closed = true;
        }
        Ok(())
    }

    /// One more command that does nothing: past `smtpd_junk_command_limit` each counts
    /// as an error.
    fn count_junk(&mut self) {
        let before = self.junk_cmds;
        self.junk_cmds += 1;
        if before > self.settings.junk_command_limit {
            self.error_count += 1;
        }
    }

    /// A command smtpd does not know: non-SMTP traffic ends the session, anything else
    /// is an error.
    fn unknown(&mut self, cmd: &Command, text: &[u8]) {
        self.stage = Stage::After("UNKNOWN");
        self.stats.count(None, false);
        let name = String::from_utf8_lossy(cmd.name()).into_owned();
        let forbidden = if self.settings.forbidden_default {
            forbidden(cmd.name())
        } else {
            listed(self.settings.forbidden_commands.as_ref(), &name)
        };
        if cmd.looks_like_header() || forbidden {
            self.note(Some(Command::non_smtp_notice(text)));
            self.send(&Command::non_smtp_reply());
            self.closed = true;
        } else {
            self.chat.error(ErrorClass::Protocol);
            self.send(&Command::unknown_reply());
            self.error_count += 1;
        }
    }

    fn run_command(&mut self, verb: Verb, cmd: &Command, line: &[u8]) -> Done {
        let args = &cmd.args[..];
        let result = match verb {
            Verb::Helo | Verb::Ehlo => self.helo_command(verb, args),
            Verb::Mail => self.mail_command(args),
            Verb::Rcpt => self.rcpt_command(args),
            Verb::Data => return self.data_command(args),
            Verb::Bdat => return self.bdat_command(args, line),
            Verb::Rset => self.rset_command(args),
            Verb::Noop => Ok(smtp_proto::ok_reply()),
            Verb::Vrfy => self.vrfy_command(args),
            Verb::Etrn => self.etrn_command(args),
            Verb::Quit => Ok(smtp_proto::quit_reply()),
            Verb::Starttls => return self.starttls_command(args),
            Verb::Auth => return self.auth_command(args),
            Verb::Xforward => self.xforward_command(args),
            Verb::Xclient => return self.xclient_command(args),
        };
        Ok(self.answer(result))
    }

    /// Mails the postmaster the transcript when more than `threshold` lines are kept and
    /// the session's errors call for it, then starts the transcript over (`chat_reset()`);
    /// `reason` is why the session broke off, at its end.
    fn chat_reset(&mut self, threshold: usize, reason: Option<Reason>) {
        let stand_alone = self.stand_alone();
        self.chat.reset(
            &self.settings.notify,
            threshold,
            &self.peer.namaddr,
            reason.map(Reason::text),
            stand_alone,
        );
    }

    /// The transcript's flush at the end of a transaction (HELO, EHLO, RSET, the end of
    /// a message), past smtpd_history_flush_threshold lines.
    fn chat_flush(&mut self) {
        self.chat_reset(self.settings.notify.flush_threshold, None);
    }

    /// Ends the transaction (`mail_reset()`, `rcpt_reset()`): the queue file, if any, is
    /// abandoned.
    fn reset(&mut self) {
        self.txn.reset();
        self.cleanup = None;
        self.bdat = None;
        self.checker.effects = Default::default();
        self.instance.clear();
        self.act_size = 0;
        self.xforward = None;
    }
}

/// A refusal from the restrictions as the core's refusal type.
fn rejected(refusal: Refusal) -> Reject {
    Reject {
        reply: Reply::new(refusal.reply),
        class: Some(refusal.class),
        notice: None,
        counts_as_error: true,
    }
}

/// A refusal of smtpd's own for policy reasons (a rate limit).
fn policy_reject(reply: String) -> Reject {
    Reject {
        reply: Reply::new(reply),
        class: Some(ErrorClass::Policy),
        notice: None,
        counts_as_error: true,
    }
}

/// Whether `list` (smtpd_noop_commands, smtpd_forbidden_commands) has the command
/// `name`; a failing table counts as no match, with a warning.
fn listed(list: Option<&global::match_list::MatchList>, name: &str) -> bool {
    list.is_some_and(|list| {
        list.matches(&[name]).unwrap_or_else(|e| {
            log::msg_warn!("{e}");
            false
        })
    })
}

/// Whether the client is in a host list (a failing table counts as no match, with a
/// warning).
fn listed_client(list: Option<&global::match_list::MatchList>, peer: &Peer) -> bool {
    list.is_some_and(|list| {
        list.matches(&[&peer.name, &peer.addr]).unwrap_or_else(|e| {
            log::msg_warn!("{e}");
            false
        })
    })
}

/// `smtpd_forbidden_commands`' default: CONNECT GET POST and anything not starting with a
/// letter (`regexp:{{/^[^A-Z]/ Bogus}}`, case-insensitive).
fn forbidden(name: &[u8]) -> bool {
    ["CONNECT", "GET", "POST"]
        .iter()
        .any(|f| name.eq_ignore_ascii_case(f.as_bytes()))
        || !name.first().is_some_and(u8::is_ascii_alphabetic)
}
