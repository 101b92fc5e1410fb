//! STARTTLS, wrapper mode, and the refusal of commands before TLS at level encrypt.
//!
//! Postfix counterpart: `starttls_cmd()`, `smtpd_start_tls()` and the
//! `var_smtpd_enforce_tls` check of `smtpd_proto()` in `smtpd/smtpd.c`. After `220 2.0.0
//! Ready to start TLS` the handshake runs within `smtpd_starttls_timeout` through
//! crates/tls, which logs Postfix's TLS lines per `smtpd_tls_loglevel`. What the client
//! pipelined after STARTTLS is discarded (Postfix 2.8.4), and the session forgets
//! everything it knew (RFC 3207 section 4.2): the client must send EHLO again. A failed
//! handshake ends the session as a lost connection (`lost connection after STARTTLS`).

use super::{Done, Session};
use crate::io::{Hangup, Wire};
use smtp_proto::{Reply, Token, Verb};
use tls::SecurityLevel;

impl<W: Wire> Session<'_, W> {
    /// Whether STARTTLS is on offer now (the EHLO keyword; 502 otherwise): never to a
    /// stand-alone or UNIX-socket client (`sendmail -bs`), which has no socket TLS can
    /// run on.
    pub(super) fn starttls_offered(&self) -> bool {
        self.settings.tls.level != SecurityLevel::None && self.tls.is_none() && !self.stand_alone()
    }

    /// A session without a network peer (Postfix's `SMTPD_STAND_ALONE()`).
    pub(super) fn stand_alone(&self) -> bool {
        self.peer.server.is_none()
    }

    /// STARTTLS: the checks, the 220, the handshake and the reset.
    pub(super) fn starttls_command(&mut self, args: &[Token]) -> Done {
        let offered = self.starttls_offered()
            && !self
                .settings
                .discard
                .contains(smtp_proto::EhloMask::STARTTLS);
        if let Err(reject) = smtp_proto::starttls_check(args, self.tls.is_some(), offered) {
            return Ok(!self.refuse(reject));
        }
        let Some(engine) = self.settings.tls.engine.as_ref() else {
            // TLS was turned off by a set-up failure (an unusable certificate, say):
            // Postfix's words and code, and a software error for the notice.
            self.chat.error(smtp_proto::ErrorClass::Software);
            self.send(&Reply::new(
                "454 4.7.0 TLS not available due to local problem",
            ));
            return Ok(false);
        };
        if self.over_limit_quietly(crate::anvil::Event::NewTlsStatus) {
            log::msg_warn!(
                "Refusing STARTTLS request from {} for service {}",
                self.peer.namaddr,
                self.anvil_service()
            );
            let text = format!(
                "454 4.7.0 Error: too many new TLS sessions from {}",
                self.peer.namaddr
            );
            self.send(&Reply::new(text));
            return Ok(false);
        }
        self.send(&smtp_proto::starttls_reply());
        let summary = self
            .io
            .start_tls(engine, self.settings.tls.starttls_timeout)?;
        // Every session is new (there is no session cache): it counts toward the rate.
        self.new_tls_session();
        if self.closed {
            // Postfix counts the command as failed (starttls=0/1).
            return Ok(false);
        }
        let missing = summary
            .required_ccert_missing()
            .filter(|_| engine.requires_ccert());
        self.tls = Some(summary);
        if let Some(reason) = missing {
            // smtpd_tls_req_ccert: the handshake completed; the certificate is judged
            // now, and the session ends inside TLS.
            log::msg_info!("NOQUEUE: abort: TLS from {}: {reason}", self.peer.namaddr);
            let text = format!("421 4.7.1 {} Error: {reason}", self.settings.myhostname);
            self.send(&Reply::new(text));
            self.closed = true;
            return Ok(true);
        }
        self.reset();
        self.helo = None;
        // SASL starts over with the options for TLS sessions.
        self.authenticated = None;
        self.sasl = None;
        self.sasl_activate();
        Ok(true)
    }

    /// Wrapper mode (`smtpd_tls_wrappermode`, port 465): the handshake before the
    /// banner. Without a usable engine Postfix cannot talk to the client either.
    pub(super) fn wrapper_handshake(&mut self) -> Result<(), Hangup> {
        if !self.settings.tls.wrapper || self.tls.is_some() {
            return Ok(());
        }
        let engine = self.settings.tls.engine.as_ref().ok_or(Hangup::Lost)?;
        if self.over_limit_quietly(crate::anvil::Event::NewTlsStatus) {
            log::msg_warn!(
                "Refusing TLS service request from {} for service {}",
                self.peer.namaddr,
                self.anvil_service()
            );
            self.closed = true;
            return Ok(());
        }
        self.tls = Some(
            self.io
                .start_tls(engine, self.settings.tls.starttls_timeout)?,
        );
        self.new_tls_session();
        Ok(())
    }

    /// A new TLS session counts toward the client's rate; past the limit the session
    /// ends with a 421 inside TLS.
    fn new_tls_session(&mut self) {
        if self.over_limit(crate::anvil::Event::NewTls, "New TLS session") {
            let text = format!(
                "421 4.7.0 {} Error: too many new TLS sessions from {}",
                self.settings.myhostname, self.peer.namaddr
            );
            self.send(&Reply::new(text));
            self.closed = true;
        }
    }

    /// The protocol for the Received: header, with RFC 3848's `S` under TLS and `A`
    /// after AUTH, as Postfix writes `with ESMTPSA`.
    pub(super) fn received_protocol(&self) -> String {
        let mut protocol = self.protocol().to_string();
        if self.esmtp && self.tls.is_some() {
            protocol.push('S');
        }
        if self.esmtp && self.authenticated.is_some() {
            protocol.push('A');
        }
        protocol
    }

    /// At level encrypt, a command other than EHLO, HELO, STARTTLS, NOOP or QUIT before
    /// TLS: `530 5.7.0 Must issue a STARTTLS command first` (an error); true when refused.
    pub(super) fn needs_tls_first(&mut self, verb: Verb) -> bool {
        if self.settings.tls.level != SecurityLevel::Encrypt
            || self.tls.is_some()
            || verb.allowed_before_tls()
        {
            return false;
        }
        self.send(&Reply::new("530 5.7.0 Must issue a STARTTLS command first"));
        self.error_count += 1;
        self.stats.count(Some(verb), false);
        true
    }
}
