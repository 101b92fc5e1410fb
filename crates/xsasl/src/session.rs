//! One SMTP session's SASL server: the mechanisms EHLO announces after the security
//! options, and the AUTH exchange (first request, then one CONT per client response),
//! ending in success, a challenge for the client, or a failure that is final or
//! temporary.
//!
//! Postfix counterpart: `XSASL_DOVECOT_SERVER` with `xsasl_dovecot_server_create()`,
//! `_get_mechanism_list()`, `_first()`, `_next()`, `xsasl_dovecot_handle_reply()` and
//! `_get_username()` (`xsasl/xsasl_dovecot_server.c`). Postfix keeps the text of the last
//! reply in one buffer per session (`sasl_reply`), written only where Postfix writes it;
//! so is [`Session`]'s, so that a failure that sets no text shows what Postfix shows.
//!
//! Differences from Postfix 3.7, on purpose: Dovecot's `temp` flag on FAIL (its
//! password database failed) is a temporary failure (454), where 3.7 answers 535 and the
//! client is told its password is wrong; a trusted client certificate adds
//! `valid-client-cert` (Postfix 3.8); the connection is dropped after it is lost, so
//! the next AUTH reconnects (later Postfix releases); initial responses are not logged
//! at `-v` (Postfix logs them, and PLAIN's carries the password).

use crate::client::Dovecot;
use crate::proto::{self, AuthRequest, ReplyKind, ServerLine, Tls};
use crate::secprops::{self, SecProps};
use crate::text::printable;
use log::{msg_info, msg_warn};

/// The most lines that are not the awaited reply (other ids, unknown commands) read
/// before giving up on a reply.
pub const MAX_IGNORED_LINES: usize = 1000;

/// What a session is created with (Postfix's `XSASL_SERVER_CREATE_ARGS`).
#[derive(Debug, Clone, Copy)]
pub struct SessionArgs<'a> {
    /// The client's address (`rip=`), empty when unknown.
    pub client_addr: &'a str,
    /// The server's address the client connected to (`lip=`), empty when unknown.
    pub server_addr: &'a str,
    /// smtpd_sasl_service (`smtp`).
    pub service: &'a str,
    /// smtpd_sasl_security_options, or smtpd_sasl_tls_security_options under TLS.
    pub security_options: &'a str,
    /// The session's TLS state.
    pub tls: Tls,
}

/// How an AUTH step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Authenticated as this user (already made printable).
    Done(String),
    /// A challenge (base64) to send as `334 <challenge>`; the client's answer goes to
    /// [`Session::next`].
    Continue(String),
    /// Failed. `reason` is the text Postfix shows (possibly empty: see
    /// [`crate::text`]); `temporary` says 454 rather than 535.
    Fail {
        /// The reason text.
        reason: String,
        /// A temporary failure: no server, the connection lost, or Dovecot's `temp`.
        temporary: bool,
    },
}

/// One SMTP session's SASL state.
#[derive(Debug)]
pub struct Session {
    service: String,
    client_addr: String,
    server_addr: String,
    tls: Tls,
    options: SecProps,
    mechanisms: Option<Vec<String>>,
    request_id: u32,
    reply: String,
    username: Option<String>,
}

impl Session {
    /// A session; `Err` is Postfix's fatal text for an unknown security option.
    pub fn new(args: &SessionArgs<'_>) -> Result<Session, String> {
        if log::verbose() > 0 {
            msg_info!(
                "xsasl_dovecot_server_create: SASL service={}, realm=(null)",
                args.service
            );
        }
        Ok(Session {
            service: args.service.to_string(),
            client_addr: args.client_addr.to_string(),
            server_addr: args.server_addr.to_string(),
            tls: args.tls,
            options: secprops::parse_options(args.security_options)?,
            mechanisms: None,
            request_id: 0,
            reply: String::new(),
            username: None,
        })
    }

    /// The mechanisms to announce, space-separated, in the server's order, filtered by
    /// the security options; computed once per session. `None` when there are none or
    /// no server answers (Postfix's smtpd then ends with `fatal: no SASL authentication
    /// mechanisms`).
    pub fn mechanisms(&mut self, dovecot: &mut Dovecot) -> Option<String> {
        if self.mechanisms.is_none() {
            let offered = dovecot.mechanisms()?;
            let mut kept = Vec::new();
            for mech in offered {
                let keep = mech.props.suits(self.options);
                if log::verbose() > 0 {
                    let what = if keep { "keep" } else { "skip" };
                    msg_info!(
                        "xsasl_dovecot_server_mech_filter: {what} mechanism: {}",
                        mech.name
                    );
                }
                if keep {
                    kept.push(mech.name.clone());
                }
            }
            self.mechanisms = Some(kept);
        }
        let list = self.mechanisms.as_ref()?.join(" ");
        (!list.is_empty()).then_some(list)
    }

    /// The user name of the last OK or FAIL that named one (for the failure log line's
    /// `sasl_username=`).
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    fn fail(&mut self, reason: &str, temporary: bool) -> Step {
        self.reply = reason.to_string();
        self.reply_fail(temporary)
    }

    fn reply_fail(&self, temporary: bool) -> Step {
        Step::Fail {
            reason: self.reply.clone(),
            temporary,
        }
    }

    /// Starts an exchange: `AUTH mechanism [initial-response]`. The initial response is
    /// passed on as the client wrote it (base64). Call [`Session::mechanisms`] first:
    /// only a mechanism it announced is tried.
    pub fn first(
        &mut self,
        dovecot: &mut Dovecot,
        mechanism: &str,
        initial_response: Option<&str>,
    ) -> Step {
        if log::verbose() > 0 {
            let with = if initial_response.is_some() {
                ", init_response (not logged)"
            } else {
                ""
            };
            msg_info!("xsasl_dovecot_server_first: sasl_method {mechanism}{with}");
        }
        let known = self
            .mechanisms
            .iter()
            .flatten()
            .any(|m| m.eq_ignore_ascii_case(mechanism));
        if !known {
            return self.fail("Invalid authentication mechanism", false);
        }
        if initial_response.is_some_and(|r| !proto::is_base64(r)) {
            return self.fail("Invalid base64 data in initial response", false);
        }
        // A write that fails on a connection the server has closed meanwhile gets one
        // more try on a new connection, as in Postfix.
        for attempt in 0..2 {
            if dovecot.conn.is_none() && !dovecot.connect() {
                return self.reply_fail(true);
            }
            self.request_id = dovecot.next_request_id();
            let request = AuthRequest {
                id: self.request_id,
                mechanism,
                service: &self.service,
                local_addr: &self.server_addr,
                remote_addr: &self.client_addr,
                tls: self.tls,
                initial_response,
            };
            let sent = dovecot.conn.as_mut().map(|c| c.send(&request.line()));
            if matches!(sent, Some(Ok(()))) {
                break;
            }
            dovecot.disconnect();
            if attempt == 1 {
                return self.fail("Can't connect to authentication server", true);
            }
        }
        self.handle_reply(dovecot)
    }

    /// Continues an exchange with the client's response (base64) to the last challenge.
    pub fn next(&mut self, dovecot: &mut Dovecot, response: &str) -> Step {
        if !proto::is_base64(response) {
            return self.fail("Invalid base64 data in continued response", false);
        }
        let request = proto::cont_request(self.request_id, response);
        let sent = dovecot.conn.as_mut().map(|c| c.send(&request));
        if !matches!(sent, Some(Ok(()))) {
            dovecot.disconnect();
            return self.fail("Connection lost to authentication server", true);
        }
        self.handle_reply(dovecot)
    }

    /// Reads lines until the reply to the current request, as
    /// `xsasl_dovecot_handle_reply()`.
    fn handle_reply(&mut self, dovecot: &mut Dovecot) -> Step {
        for _ in 0..MAX_IGNORED_LINES {
            let Some(line) = dovecot.conn.as_mut().and_then(|c| c.read_line().ok()) else {
                break;
            };
            if log::verbose() > 0 {
                msg_info!(
                    "xsasl_dovecot_handle_reply: auth reply: {}",
                    String::from_utf8_lossy(&line)
                );
            }
            let ServerLine::Reply { kind, id, rest } = proto::parse_line(&line) else {
                continue;
            };
            match id {
                None => {
                    msg_warn!("SASL: Protocol error");
                    continue;
                }
                // A reply to another request; should not happen.
                Some(id) if id != self.request_id => continue,
                Some(_) => {}
            }
            return match kind {
                ReplyKind::Cont => match rest {
                    Some(challenge) => {
                        self.reply = String::from_utf8_lossy(challenge).into_owned();
                        Step::Continue(self.reply.clone())
                    }
                    None => self.backend_error(kind),
                },
                ReplyKind::Ok | ReplyKind::Fail => self.finish(kind, rest),
            };
        }
        dovecot.disconnect();
        self.fail("Connection lost to authentication server", true)
    }

    /// An OK or FAIL for the current request (`xsasl_dovecot_parse_reply_args()`).
    fn finish(&mut self, kind: ReplyKind, rest: Option<&[u8]>) -> Step {
        let args = proto::reply_args(rest);
        self.username = args.user.map(printable);
        self.reply.clear();
        if kind == ReplyKind::Fail {
            if let Some(reason) = args.reason {
                self.reply = printable(reason);
            }
            return self.reply_fail(args.temp);
        }
        match &self.username {
            Some(user) => Step::Done(user.clone()),
            None => self.backend_error(kind),
        }
    }

    /// An OK without `user=` or a CONT without a challenge.
    fn backend_error(&mut self, kind: ReplyKind) -> Step {
        let field = if kind == ReplyKind::Ok {
            "username"
        } else {
            "reply"
        };
        msg_warn!("missing Dovecot server {} {field} field", kind.word());
        self.fail("Authentication backend error", false)
    }
}
