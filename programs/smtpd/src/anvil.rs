//! The client connection count and rate limits, counted by the anvil service.
//!
//! Postfix counterparts: `global/anvil_clnt.c` and the `anvil_clnt_*()` calls of
//! `smtpd/smtpd.c` (`smtpd_proto()`, `mail_cmd()`, `rcpt_cmd()`,
//! `smtpd_sasl_auth_cmd_wrapper()`, `smtpd_start_tls()`). Each session tells anvil about
//! its connection and its end (so that anvil keeps the client's counts for the right
//! time, even when no limit is set); MAIL, RCPT, AUTH and a new TLS session ask for the
//! client's rate when their limit is set. A client in
//! `smtpd_client_event_limit_exceptions` is never counted. The counter is identified as
//! `service:address`, the service being master.cf's name for this smtpd. When anvil cannot
//! be asked, nothing is limited.

use crate::check::policy::AttrClient;
use global::match_list::{MatchList, Matcher};
use ipc::Attrs;
use params::decl::smtpd as s;

/// The limits main.cf sets (0: none).
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// `smtpd_client_connection_count_limit`.
    pub count: i64,
    /// `smtpd_client_connection_rate_limit`.
    pub rate: i64,
    /// `smtpd_client_message_rate_limit`.
    pub message: i64,
    /// `smtpd_client_recipient_rate_limit`.
    pub recipient: i64,
    /// `smtpd_client_new_tls_session_rate_limit`.
    pub newtls: i64,
    /// `smtpd_client_auth_rate_limit`.
    pub auth: i64,
}

/// The events anvil counts at a client's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// MAIL FROM.
    Message,
    /// RCPT TO.
    Recipient,
    /// A new TLS session.
    NewTls,
    /// The new TLS session rate so far, not counting (before a handshake).
    NewTlsStatus,
    /// AUTH.
    Auth,
}

impl Event {
    /// The request name.
    fn request(self) -> &'static str {
        match self {
            Event::Message => "message",
            Event::Recipient => "recipient",
            Event::NewTls => "newtls",
            Event::NewTlsStatus => "newtls_status",
            Event::Auth => "auth",
        }
    }
}

/// smtpd's anvil client and limits.
pub struct Anvil {
    client: AttrClient,
    /// master.cf's service name.
    service: String,
    /// `smtpd_client_event_limit_exceptions`.
    exceptions: MatchList,
    /// The limits.
    pub limits: Limits,
}

impl Anvil {
    /// The client, when any limit is set (`anvil_clnt_create()` in `pre_jail_init()`).
    pub fn from_config(config: &params::Config, service: &str) -> Option<Anvil> {
        let int = |p| config.int(p).unwrap_or_else(|e| crate::settings::fatal(e));
        let limits = Limits {
            count: int(&s::SMTPD_CLIENT_CONNECTION_COUNT_LIMIT),
            rate: int(&s::SMTPD_CLIENT_CONNECTION_RATE_LIMIT),
            message: int(&s::SMTPD_CLIENT_MESSAGE_RATE_LIMIT),
            recipient: int(&s::SMTPD_CLIENT_RECIPIENT_RATE_LIMIT),
            newtls: int(&s::SMTPD_CLIENT_NEW_TLS_SESSION_RATE_LIMIT),
            auth: int(&s::SMTPD_CLIENT_AUTH_RATE_LIMIT),
        };
        let l = limits;
        if [l.count, l.rate, l.message, l.recipient, l.newtls, l.auth] == [0; 6] {
            return None;
        }
        let exceptions = global::match_list::from_parameter(
            config,
            &s::SMTPD_CLIENT_EVENT_LIMIT_EXCEPTIONS,
            &[Matcher::Hostname, Matcher::Hostaddr],
        )
        .unwrap_or_else(|e| crate::settings::fatal(e));
        let timeout = config
            .time(&params::decl::process::IPC_TIMEOUT)
            .unwrap_or_else(|e| crate::settings::fatal(e));
        let timeout = std::time::Duration::from_secs(timeout.max(1) as u64);
        Some(Anvil {
            client: AttrClient::local("private/anvil", timeout, ipc::mail_attr::PROTO_ANVIL),
            service: service.to_string(),
            exceptions,
            limits,
        })
    }

    /// Whether the client is counted at all (not in the exceptions).
    pub fn counts(&self, name: &str, addr: &str) -> bool {
        !self.exceptions.matches(&[name, addr]).unwrap_or_else(|e| {
            log::msg_warn!("{e}");
            false
        })
    }

    /// The counter's name: `service:address`, unprintable bytes as `?`.
    fn ident(&self, addr: &str) -> String {
        format!("{}:{addr}", self.service)
            .chars()
            .map(|c| if c.is_ascii_graphic() { c } else { '?' })
            .collect()
    }

    /// One request; the reply when its status is OK.
    fn ask(&mut self, request: &str, addr: &str) -> Option<Attrs> {
        let attrs = Attrs::new()
            .str("request", request)
            .str("ident", &self.ident(addr));
        let reply = self.client.request(&attrs, "status")?;
        (reply.get_int("status") == Some(0)).then_some(reply)
    }

    /// `anvil_clnt_connect()`: the client's connection count and rate, this one included.
    pub fn connect(&mut self, addr: &str) -> Option<(i64, i64)> {
        let reply = self.ask("connect", addr)?;
        Some((
            i64::from(reply.get_int("count")?),
            i64::from(reply.get_int("rate")?),
        ))
    }

    /// `anvil_clnt_disconnect()`.
    pub fn disconnect(&mut self, addr: &str) {
        let _ = self.ask("disconnect", addr);
    }

    /// The rate of `event` for the client, this one included, when its limit is set and
    /// exceeded: Some(rate).
    pub fn exceeded(&mut self, event: Event, addr: &str) -> Option<i64> {
        let limit = match event {
            Event::Message => self.limits.message,
            Event::Recipient => self.limits.recipient,
            Event::NewTls | Event::NewTlsStatus => self.limits.newtls,
            Event::Auth => self.limits.auth,
        };
        if limit <= 0 {
            return None;
        }
        let rate = i64::from(self.ask(event.request(), addr)?.get_int("rate")?);
        (rate > limit).then_some(rate)
    }

    /// master.cf's service name, for the warnings.
    pub fn service(&self) -> &str {
        &self.service
    }
}
