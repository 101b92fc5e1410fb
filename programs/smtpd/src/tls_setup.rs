//! smtpd's TLS settings and the server engine, made once per process before the jail.
//!
//! Postfix counterpart: the TLS part of `pre_jail_init()` in `smtpd/smtpd.c`. The
//! security level comes from `smtpd_tls_security_level`, or, when that is empty, from
//! the obsolete `smtpd_enforce_tls` (encrypt) and `smtpd_use_tls` (may), as Postfix
//! maps them. An engine that cannot be set up (a missing key...) has already logged
//! Postfix's warning: TLS is then off for the process and STARTTLS is not offered.

use params::Config;
use params::decl::tls as t;
use std::time::Duration;
use tls::{CertKeyFiles, SecurityLevel, ServerSettings, ServerTls};

/// What a session needs to know about TLS.
pub struct TlsSetup {
    /// The engine, when TLS is on and usable.
    pub engine: Option<ServerTls>,
    /// The level: `may` offers STARTTLS; `encrypt` also allows nothing but EHLO, HELO,
    /// STARTTLS, NOOP and QUIT before TLS.
    pub level: SecurityLevel,
    /// `smtpd_tls_wrappermode`: the handshake at connect, no STARTTLS.
    pub wrapper: bool,
    /// `smtpd_tls_received_header`.
    pub received_header: bool,
    /// `smtpd_starttls_timeout`.
    pub starttls_timeout: Duration,
}

/// Reads the TLS parameters and sets up the engine.
pub fn from_config(config: &Config) -> TlsSetup {
    let get =
        |r: Result<String, params::ConfigError>| r.unwrap_or_else(|e| crate::settings::fatal(e));
    let text = |p| get(config.str(p));
    let yes = |p| config.bool(p).unwrap_or_else(|e| crate::settings::fatal(e));
    let level_text = text(&t::SMTPD_TLS_SECURITY_LEVEL);
    let level = if level_text.trim().is_empty() {
        if yes(&t::SMTPD_ENFORCE_TLS) {
            SecurityLevel::Encrypt
        } else if yes(&t::SMTPD_USE_TLS) {
            SecurityLevel::May
        } else {
            SecurityLevel::None
        }
    } else {
        SecurityLevel::parse(level_text.trim()).unwrap_or_else(|| {
            log::msg_fatal!(
                "invalid {} value: \"{}\"",
                t::SMTPD_TLS_SECURITY_LEVEL.name,
                level_text
            )
        })
    };
    let loglevel = text(&t::SMTPD_TLS_LOGLEVEL).trim().parse().unwrap_or(0);
    let settings = ServerSettings {
        level,
        files: CertKeyFiles {
            chain_files: text(&t::SMTPD_TLS_CHAIN_FILES)
                .split([',', ' ', '\t', '\n'])
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .collect(),
            cert_file: text(&t::SMTPD_TLS_CERT_FILE),
            key_file: text(&t::SMTPD_TLS_KEY_FILE),
            eccert_file: text(&t::SMTPD_TLS_ECCERT_FILE),
            eckey_file: text(&t::SMTPD_TLS_ECKEY_FILE),
        },
        protocols: text(&t::SMTPD_TLS_PROTOCOLS),
        mandatory_protocols: text(&t::SMTPD_TLS_MANDATORY_PROTOCOLS),
        ask_ccert: yes(&t::SMTPD_TLS_ASK_CCERT),
        req_ccert: yes(&t::SMTPD_TLS_REQ_CCERT),
        loglevel,
        ca_file: text(&t::SMTPD_TLS_CAFILE),
        fingerprint_digest: text(&t::SMTPD_TLS_FINGERPRINT_DIGEST),
        ciphers: text(&t::SMTPD_TLS_CIPHERS),
        mandatory_ciphers: text(&t::SMTPD_TLS_MANDATORY_CIPHERS),
        exclude_ciphers: text(&t::SMTPD_TLS_EXCLUDE_CIPHERS),
        mandatory_exclude_ciphers: text(&t::SMTPD_TLS_MANDATORY_EXCLUDE_CIPHERS),
        cipher_lists: tls::ciphers::CipherLists {
            high: text(&t::TLS_HIGH_CIPHERLIST),
            medium: text(&t::TLS_MEDIUM_CIPHERLIST),
            low: text(&t::TLS_LOW_CIPHERLIST),
            export: text(&t::TLS_EXPORT_CIPHERLIST),
            null: text(&t::TLS_NULL_CIPHERLIST),
        },
    };
    let engine = ServerTls::new(&settings, &mut |sev, text| log::write(sev, text));
    let timeout = config
        .time(&t::SMTPD_STARTTLS_TIMEOUT)
        .unwrap_or_else(|e| crate::settings::fatal(e));
    TlsSetup {
        level,
        engine,
        wrapper: yes(&t::SMTPD_TLS_WRAPPERMODE),
        received_header: yes(&t::SMTPD_TLS_RECEIVED_HEADER),
        starttls_timeout: Duration::from_secs(u64::try_from(timeout).unwrap_or(300)),
    }
}
