//! AUTH: the SASL exchange through crates/xsasl, and what an authenticated session
//! changes.
//!
//! Postfix counterparts: `smtpd_sasl_auth_cmd()` (`smtpd/smtpd_sasl_proto.c`) and
//! `smtpd_sasl_activate()`, `smtpd_sasl_authenticate()` (`smtpd/smtpd_sasl_glue.c`).
//! SASL is activated when the session starts and again after STARTTLS (with
//! `smtpd_sasl_tls_security_options`); EHLO then announces the mechanisms unless
//! `smtpd_tls_auth_only` holds them back until TLS. The replies and warnings are
//! crates/xsasl's texts, in the order smtpd_sasl_glue.c sends and logs them; the
//! `SASL LOGIN authentication failed` warning is the line fail2ban reads. The client's
//! responses never reach the tap or the log: they carry passwords.

use super::{Done, Session};
use crate::io::{Hangup, Wire};
use smtp_proto::{AuthState, EhloMask, Reply, Token};
use xsasl::{Dovecot, SessionArgs, Step, text};

/// The mechanism and user of an authenticated session (also for the Received: header's
/// `(Authenticated sender: user)`, see [`crate::received`]).
pub struct Authenticated {
    /// The mechanism as the client named it.
    pub method: String,
    /// The user name, made printable.
    pub username: String,
}

impl<W: Wire> Session<'_, W> {
    /// Whether SASL waits for TLS: `smtpd_tls_auth_only`, implied by level encrypt.
    fn sasl_waits_for_tls(&self) -> bool {
        let auth_only = self.settings.sasl.tls_auth_only
            || self.settings.tls.level == tls::SecurityLevel::Encrypt;
        auth_only && self.tls.is_none()
    }

    /// `smtpd_sasl_activate()`: a SASL session with the options for the TLS state;
    /// without mechanisms Postfix's smtpd cannot serve and neither can we. While SASL
    /// waits for TLS it stays inactive, so AUTH before STARTTLS is `not enabled`, as in
    /// Postfix.
    pub(super) fn sasl_activate(&mut self) {
        if self.sasl_waits_for_tls() || self.stand_alone() {
            return;
        }
        let Some(dovecot) = self.dovecot.as_deref_mut() else {
            return;
        };
        let sasl = &self.settings.sasl;
        let server_addr = self
            .peer
            .server
            .map(|s| s.ip().to_string())
            .unwrap_or_default();
        let args = SessionArgs {
            client_addr: &self.peer.addr,
            server_addr: &server_addr,
            service: &sasl.service,
            security_options: if self.tls.is_some() {
                &sasl.tls_security_options
            } else {
                &sasl.security_options
            },
            tls: if self.tls.is_some() {
                xsasl::Tls::Secured
            } else {
                xsasl::Tls::None
            },
        };
        let mut session = xsasl::Session::new(&args).unwrap_or_else(|e| log::msg_fatal!("{e}"));
        let Some(list) = session.mechanisms(dovecot) else {
            log::msg_fatal!("no SASL authentication mechanisms");
        };
        self.sasl_mechanisms = Some(sasl.filter_mechanisms(&list));
        self.sasl = Some(session);
    }

    /// The mechanisms for EHLO's AUTH keyword, when AUTH is on offer now. A client in
    /// `smtpd_sasl_exceptions_networks` is not told, though AUTH still works for it, as
    /// in Postfix.
    pub(super) fn auth_offered(&mut self) -> Option<String> {
        let sasl = &self.settings.sasl;
        if self.sasl_waits_for_tls() || sasl.excepted(&self.peer.name, &self.peer.addr) {
            return None;
        }
        self.sasl.as_ref()?;
        self.sasl_mechanisms.clone()
    }

    /// AUTH mechanism [initial-response].
    pub(super) fn auth_command(&mut self, args: &[Token]) -> Done {
        if self.over_limit(crate::anvil::Event::Auth, "AUTH command") {
            let text = format!(
                "450 4.7.1 Error: too many AUTH commands from {}",
                self.peer.addr
            );
            return Ok(!self.refuse(super::policy_reject(text)));
        }
        let state = AuthState {
            helo_required: self.settings.helo_required,
            helo_seen: self.helo.is_some(),
            enabled: self.sasl.is_some() && !self.settings.discard.contains(EhloMask::AUTH),
            in_mail: self.txn.in_mail(),
            needs_tls: self.sasl_waits_for_tls(),
            authenticated: self.authenticated.is_some(),
        };
        let (method, initial) = match smtp_proto::auth_check(args, &state) {
            Ok((m, r)) => (
                String::from_utf8_lossy(m).into_owned(),
                r.map(|r| String::from_utf8_lossy(r).into_owned()),
            ),
            Err(reject) => return Ok(!self.refuse(reject)),
        };
        // Both are put back whatever happens; the exchange needs `self` for the chat.
        let (Some(mut sasl), Some(dovecot)) = (self.sasl.take(), self.dovecot.take()) else {
            return Ok(false);
        };
        let result = self.exchange(&mut sasl, dovecot, &method, initial.as_deref());
        self.sasl = Some(sasl);
        self.dovecot = Some(dovecot);
        result
    }

    /// `smtpd_sasl_authenticate()`: challenges and responses until success or failure.
    fn exchange(
        &mut self,
        sasl: &mut xsasl::Session,
        dovecot: &mut Dovecot,
        method: &str,
        initial: Option<&str>,
    ) -> Done {
        let mut step = sasl.first(dovecot, method, initial);
        loop {
            match step {
                Step::Continue(challenge) => {
                    self.send(&Reply::new(text::challenge_reply(&challenge)));
                    let Some(response) = self.response()? else {
                        self.send(&Reply::new(text::response_limit_reply()));
                        return Ok(false);
                    };
                    if response == "*" {
                        log::msg_warn!("{}", text::aborted_log(&self.peer.namaddr, method));
                        self.send(&Reply::new(text::aborted_reply()));
                        return Ok(false);
                    }
                    step = sasl.next(dovecot, &response);
                }
                Step::Fail { reason, temporary } => {
                    let namaddr = &self.peer.namaddr;
                    log::msg_warn!(
                        "{}",
                        text::failure_log(namaddr, method, &reason, sasl.username())
                    );
                    self.send(&Reply::new(text::failure_reply(&reason, temporary)));
                    return Ok(false);
                }
                Step::Done(username) => {
                    self.send(&Reply::new(text::success_reply()));
                    self.authenticated = Some(Authenticated {
                        method: method.to_string(),
                        username,
                    });
                    return Ok(true);
                }
            }
        }
    }

    /// One client response within `smtpd_sasl_response_limit` (None when longer). Not
    /// shown to the tap: it carries credentials.
    fn response(&mut self) -> Result<Option<String>, Hangup> {
        let limit = self.settings.sasl.response_limit;
        loop {
            if let Some(line) = self.reader.read(&mut self.io.input, limit, self.bare_lf) {
                // The transcript has it all the same, as Postfix's smtpd_chat_query().
                self.chat.command(&self.settings.notify, line.text);
                return Ok(
                    (!line.truncated).then(|| String::from_utf8_lossy(line.text).into_owned())
                );
            }
            self.io.fill()?;
        }
    }

    /// What the `client=` line gets: the method and user after an authentication,
    /// and MAIL FROM's `AUTH=` address whether or not the client authenticated (Postfix
    /// logs it even with SASL off).
    pub(super) fn sasl_log_suffix(&self) -> String {
        let sender = self.txn.sasl_sender.as_deref();
        match &self.authenticated {
            Some(a) => text::client_line_sasl(&a.method, &a.username, sender),
            None => sender.map_or_else(String::new, |s| format!(", sasl_sender={s}")),
        }
    }
}
