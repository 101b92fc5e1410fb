//! smtpd's SASL settings and the process's connection to the auth server.
//!
//! Postfix counterpart: `smtpd_sasl_initialize()` in `smtpd/smtpd_sasl_glue.c` and the
//! SASL part of `pre_jail_init()` in `smtpd/smtpd.c`. Only `smtpd_sasl_type = dovecot`
//! is built in, as in a Postfix without Cyrus SASL; any other type with
//! `smtpd_sasl_auth_enable = yes` is fatal at start-up with Postfix's words. The
//! connection to Dovecot is opened on first use (the first EHLO) and kept for the
//! process's sessions, as Postfix's `xsasl_dovecot_server_init()` does.

use global::match_list::{MatchList, Matcher};
use params::Config;
use params::decl::sasl as s;
use xsasl::{Dovecot, Endpoint};

/// What a session needs to know about SASL.
pub struct SaslSetup {
    /// `smtpd_sasl_auth_enable`.
    pub enabled: bool,
    /// `smtpd_sasl_service`.
    pub service: String,
    /// `smtpd_sasl_security_options`.
    pub security_options: String,
    /// `smtpd_sasl_tls_security_options`.
    pub tls_security_options: String,
    /// `smtpd_sasl_response_limit`.
    pub response_limit: usize,
    /// `broken_sasl_auth_clients`.
    pub broken_clients: bool,
    /// `smtpd_tls_auth_only`.
    pub tls_auth_only: bool,
    /// `smtpd_sasl_authenticated_header`.
    pub authenticated_header: bool,
    /// `smtpd_sasl_path`.
    path: String,
    /// `smtpd_sasl_exceptions_networks`, when set.
    exceptions: Option<MatchList>,
    /// `smtpd_sasl_mechanism_filter`, when set.
    mechanism_filter: Option<MatchList>,
}

/// Reads the SASL parameters.
pub fn from_config(config: &Config) -> SaslSetup {
    let text = |p| config.str(p).unwrap_or_else(|e| crate::settings::fatal(e));
    let yes = |p| config.bool(p).unwrap_or_else(|e| crate::settings::fatal(e));
    let enabled = yes(&s::SMTPD_SASL_AUTH_ENABLE);
    let kind = text(&s::SMTPD_SASL_TYPE);
    if enabled && kind != "dovecot" {
        log::msg_fatal!("unsupported SASL server implementation: {kind}");
    }
    let limit = config
        .int(&s::SMTPD_SASL_RESPONSE_LIMIT)
        .unwrap_or_else(|e| crate::settings::fatal(e));
    SaslSetup {
        enabled,
        service: text(&s::SMTPD_SASL_SERVICE),
        security_options: text(&s::SMTPD_SASL_SECURITY_OPTIONS),
        tls_security_options: text(&s::SMTPD_SASL_TLS_SECURITY_OPTIONS),
        response_limit: usize::try_from(limit).unwrap_or(12288),
        broken_clients: yes(&s::BROKEN_SASL_AUTH_CLIENTS),
        tls_auth_only: yes(&params::decl::tls::SMTPD_TLS_AUTH_ONLY),
        authenticated_header: yes(&s::SMTPD_SASL_AUTHENTICATED_HEADER),
        path: text(&s::SMTPD_SASL_PATH),
        exceptions: crate::settings::list(
            config,
            &s::SMTPD_SASL_EXCEPTIONS_NETWORKS,
            &[Matcher::Hostname, Matcher::Hostaddr],
        ),
        mechanism_filter: crate::settings::list(
            config,
            &s::SMTPD_SASL_MECHANISM_FILTER,
            &[Matcher::String],
        ),
    }
}

impl SaslSetup {
    /// Whether the client `name`/`addr` is in `smtpd_sasl_exceptions_networks` (no AUTH
    /// for it); a table that fails counts as no match, with a warning.
    pub fn excepted(&self, name: &str, addr: &str) -> bool {
        self.exceptions.as_ref().is_some_and(|list| {
            list.matches(&[name, addr]).unwrap_or_else(|e| {
                log::msg_warn!("{e}");
                false
            })
        })
    }

    /// `sasl_mech_filter()`: the mechanisms of `list` (space-separated) that
    /// `smtpd_sasl_mechanism_filter` keeps, for EHLO's AUTH keyword. A filter that keeps
    /// none, or fails, is fatal.
    pub fn filter_mechanisms(&self, list: &str) -> String {
        let Some(filter) = &self.mechanism_filter else {
            return list.to_string();
        };
        let mut kept = Vec::new();
        for mech in list.split([' ', '\t']).filter(|m| !m.is_empty()) {
            match filter.matches(&[mech]) {
                Ok(true) => kept.push(mech),
                Ok(false) => {}
                Err(_) => {
                    log::msg_fatal!("sasl_mech_filter: SASL mechanism filter failed for: '{mech}'")
                }
            }
            if log::verbose() > 0 {
                let what = if kept.last() == Some(&mech) {
                    "keep"
                } else {
                    "drop"
                };
                log::msg_info!("sasl_mech_filter: {what} SASL mechanism: '{mech}'");
            }
        }
        if kept.is_empty() && !list.is_empty() {
            log::msg_fatal!("smtpd_sasl_mechanism_filter discards all mechanisms in '{list}'");
        }
        kept.join(" ")
    }

    /// The process's auth client (None with SASL off). A relative path is taken from
    /// the current directory, the queue directory smtpd runs in.
    pub fn dovecot(&self) -> Option<Dovecot> {
        self.enabled
            .then(|| Dovecot::new(Endpoint::new(&self.path, None)))
    }
}
