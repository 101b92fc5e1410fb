//! What main.cf says, read once at start-up: the smtp_* parameters, or their lmtp_*
//! twins when the program runs as lmtp.
//!
//! Postfix counterpart: the configuration tables of `smtp/smtp.c` (`VAR_LMTP_SMTP()`
//! picks the twin by process name).

use params::decl::smtp::*;
use params::{Config, ConfigError, Param};
use std::time::Duration;

/// The client's settings.
pub struct Settings {
    /// notify_classes and the postmaster's notices.
    pub notify: global::chat_notify::Notifier,
    /// LMTP (process name lmtp) rather than SMTP.
    pub lmtp: bool,
    /// The status clients' configuration (and the log line's form).
    pub status: global::bounce::StatusConf,
    /// Where queue files are.
    pub layout: global::mail_queue::Layout,
    /// `myhostname`.
    pub myhostname: String,
    /// `smtp_helo_name` / `lmtp_lhlo_name`.
    pub helo_name: String,
    /// `smtp_tcp_port` / `lmtp_tcp_port`.
    pub tcp_port: String,
    /// `relayhost`, to tell its configuration problems apart.
    pub relayhost: String,
    /// `smtp_fallback_relay` / `lmtp_fallback_relay`.
    pub fallback_relay: Vec<String>,
    /// Per-stage timeouts.
    pub timeouts: Timeouts,
    /// `smtp_skip_5xx_greeting`.
    pub skip_5xx_greeting: bool,
    /// `smtp_skip_quit_response`.
    pub skip_quit_resp: bool,
    /// `smtp_always_send_ehlo` (SMTP only).
    pub always_ehlo: bool,
    /// `smtp_never_send_ehlo` (SMTP only).
    pub never_ehlo: bool,
    /// `smtp_discard_ehlo_keywords` / `lmtp_discard_lhlo_keywords`.
    pub discard_ehlo: String,
    /// `smtp_discard_ehlo_keyword_address_maps` / `lmtp_discard_lhlo_keyword_address_maps`,
    /// when set.
    pub discard_ehlo_maps: Option<global::maps::Maps>,
    /// `smtp_reply_filter` / `lmtp_reply_filter`, when set.
    pub reply_filter: Option<std::rc::Rc<dyn dict::Dict>>,
    /// `smtp_mx_address_limit`.
    pub mx_address_limit: usize,
    /// `smtp_mx_session_limit`.
    pub mx_session_limit: usize,
    /// MX records are looked up: smtp_dns_support_level is not `disabled` (the host
    /// lookup method has no say in it, as in Postfix).
    pub dns_enabled: bool,
    /// `smtp_host_lookup` has dns.
    pub lookup_dns: bool,
    /// `smtp_host_lookup` has native.
    pub lookup_native: bool,
    /// `smtp_line_length_limit`.
    pub smtp_line_limit: usize,
    /// `line_length_limit`: the longest reply line kept.
    pub line_limit: usize,
    /// `inet_protocols`.
    pub inet: dns::inet_proto::InetProtocols,
    /// `smtp_address_preference`.
    pub address_preference: dns::AddrPref,
    /// `smtp_randomize_addresses`.
    pub randomize: bool,
    /// `smtp_balance_inet_protocols`.
    pub balance: bool,
    /// `smtp_defer_if_no_mx_address_found`.
    pub defer_if_no_mx_address: bool,
    /// `ignore_mx_lookup_error`.
    pub ignore_mx_lookup_error: bool,
    /// This machine's addresses, for loop detection.
    pub own_addrs: Vec<std::net::IpAddr>,
    /// `proxy_interfaces`.
    pub proxy_addrs: Vec<std::net::IpAddr>,
    /// `smtp_address_verify_target` is data (else rcpt).
    pub verify_target_data: bool,
    /// `smtp_quote_rfc821_envelope`.
    pub quote_821: bool,
    /// `disable_mime_output_conversion`.
    pub disable_mime_oconv: bool,
    /// The MIME processor's limits, for downgrading.
    pub mime_limits: rfc822::mime::MimeLimits,
    /// The TLS policies: the global level, smtp_tls_policy_maps and what goes with a
    /// level.
    pub tls_policy: crate::tls_policy::Config,
    /// The connection cache.
    pub cache: crate::reuse::Config,
    /// The TLS engine, when the level asks for TLS and the engine could start.
    pub tls: Option<tls::ClientTls>,
    /// `smtp_starttls_timeout`.
    pub starttls_timeout: Duration,
    /// The client of tlsproxy, which runs the TLS of sessions that are to be kept
    /// (smtp_tls_connection_reuse) or whose TLS sessions are to be resumed by other
    /// processes (smtp_tls_session_cache_database set).
    pub tlsproxy: Option<crate::tlsproxy_clnt::Client>,
    /// `smtp_tls_connection_reuse`: TLS only through tlsproxy, and TLS sessions kept.
    pub tls_conn_reuse: bool,
    /// `smtp_bind_address` and its name (for messages).
    pub bind_addr: Option<(std::net::IpAddr, &'static str)>,
    /// `smtp_bind_address6` and its name.
    pub bind_addr6: Option<(std::net::IpAddr, &'static str)>,
    /// `smtp_bind_address_enforce`.
    pub bind_enforce: bool,
    /// `minimal_backoff_time`, for the plaintext retry after a failed TLS handshake.
    pub min_backoff: i64,
    /// `smtp_send_xforward_command`.
    pub send_xforward: bool,
    /// `smtp_sasl_auth_enable`.
    pub sasl_enable: bool,
    /// `smtp_sasl_password_maps`, when set.
    pub sasl_passwd_maps: Option<global::maps::Maps>,
    /// `smtp_sender_dependent_authentication`: the sender is part of the cache labels.
    pub sender_auth: bool,
    /// What a sender lookup in `smtp_sasl_password_maps` needs (`mail_addr_find()`'s
    /// local-part forms); only in SMTP mode with sender-dependent authentication on.
    pub sender_auth_context: Option<global::addr_context::AddrContext>,
    /// `smtp_sasl_security_options`.
    pub sasl_options: String,
    /// `smtp_sasl_tls_security_options`.
    pub sasl_tls_options: String,
    /// `smtp_sasl_mechanism_filter`, when set.
    pub sasl_mech_filter: Option<global::match_list::MatchList>,
    /// `smtp_sasl_auth_soft_bounce`.
    pub sasl_soft_bounce: bool,
    /// `debug_peer_list`, when set, and `debug_peer_level`.
    pub debug_peer: Option<(global::match_list::MatchList, i32)>,
    /// `smtp_generic_maps`, when set.
    pub generic: Option<crate::generic::Generic>,
    /// `smtp_header_checks`, `smtp_mime_header_checks`, `smtp_nested_header_checks`,
    /// when any is set.
    pub header_checks: Option<global::header_body_checks::HeaderChecks>,
    /// `smtp_body_checks`, when set.
    pub body_checks: Option<global::header_body_checks::BodyChecks>,
}

/// The TLS security levels (Postfix's `TLS_LEV_*`) of a session, once
/// [`crate::tls_policy`] has resolved dane and the policy table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsLevel {
    /// No mail goes out with it (Postfix's `TLS_LEV_INVALID`).
    Invalid,
    /// No TLS.
    None,
    /// STARTTLS when offered.
    May,
    /// TLS required, any certificate.
    Encrypt,
    /// TLS required, a certificate or public key with a configured fingerprint.
    Fingerprint,
    /// TLS required, the certificate authenticated by the server's DNSSEC-validated
    /// TLSA records.
    Dane,
    /// As dane; mail is deferred where DANE does not apply (resolved when the policy
    /// is made).
    DaneOnly,
    /// TLS required, a trusted certificate that matches smtp_tls_verify_cert_match.
    Verify,
    /// TLS required, a trusted certificate that matches smtp_tls_secure_cert_match.
    Secure,
}

/// The timeout of each protocol stage.
pub struct Timeouts {
    /// `smtp_connect_timeout` (zero: the system's).
    pub connect: Duration,
    /// `smtp_helo_timeout` / `lmtp_lhlo_timeout`.
    pub helo: Duration,
    /// `smtp_mail_timeout`.
    pub mail: Duration,
    /// `smtp_rcpt_timeout`.
    pub rcpt: Duration,
    /// `smtp_data_init_timeout`.
    pub data_init: Duration,
    /// `smtp_data_xfer_timeout`.
    pub data_xfer: Duration,
    /// `smtp_data_done_timeout`.
    pub data_done: Duration,
    /// `smtp_rset_timeout`.
    pub rset: Duration,
    /// `smtp_quit_timeout`.
    pub quit: Duration,
    /// `smtp_xforward_timeout`.
    pub xforward: Duration,
}

fn config_error(message: String) -> ConfigError {
    ConfigError {
        warnings: Vec::new(),
        message,
    }
}

impl Settings {
    /// The settings for process `name` (`smtp`, `lmtp`, or another name for SMTP).
    pub fn from_config(config: &Config, lmtp: bool) -> Result<Settings, ConfigError> {
        // VAR_LMTP_SMTP(): the twin parameter by mode.
        let pick = |smtp: &'static Param, lmtp_twin: &'static Param| {
            if lmtp { lmtp_twin } else { smtp }
        };
        let time = |s, l| -> Result<Duration, ConfigError> {
            Ok(Duration::from_secs(config.time(pick(s, l))?.max(0) as u64))
        };
        let str = |s, l| config.str(pick(s, l));
        let bool = |s, l| config.bool(pick(s, l));
        let int = |s, l| config.int(pick(s, l));
        let lookup = str(&SMTP_HOST_LOOKUP, &LMTP_HOST_LOOKUP)?;
        let mut lookup_dns = false;
        let mut lookup_native = false;
        for word in lookup.split([',', ' ', '\t']).filter(|w| !w.is_empty()) {
            match word.to_ascii_lowercase().as_str() {
                "dns" => lookup_dns = true,
                "native" => lookup_native = true,
                _ => {
                    return Err(config_error(format!(
                        "bad {} value: {lookup}",
                        pick(&SMTP_HOST_LOOKUP, &LMTP_HOST_LOOKUP).name
                    )));
                }
            }
        }
        if !lookup_dns && !lookup_native {
            lookup_dns = true;
        }
        // Postfix's post_init(): with DNS disabled, hosts are looked up natively only.
        // An empty smtp_dns_support_level leaves it to the older disable_dns_lookups.
        let level = str(
            &params::decl::smtp_tls::SMTP_DNS_SUPPORT_LEVEL,
            &params::decl::smtp_tls::LMTP_DNS_SUPPORT_LEVEL,
        )?;
        let dns_enabled = match level.trim() {
            "" => !config.bool(&DISABLE_DNS_LOOKUPS)?,
            level => !level.eq_ignore_ascii_case("disabled"),
        };
        if !dns_enabled {
            (lookup_dns, lookup_native) = (false, true);
        }
        let target = str(&SMTP_ADDRESS_VERIFY_TARGET, &LMTP_ADDRESS_VERIFY_TARGET)?;
        let verify_target_data = match target.as_str() {
            "rcpt" => false,
            "data" => true,
            _ => {
                return Err(config_error(format!(
                    "bad protocol stage: \"{} = {target}\"",
                    pick(&SMTP_ADDRESS_VERIFY_TARGET, &LMTP_ADDRESS_VERIFY_TARGET).name
                )));
            }
        };
        let inet_text = config.str(&params::decl::identity::INET_PROTOCOLS)?;
        let inet = dns::inet_proto::InetProtocols::parse(&inet_text).map_err(config_error)?;
        let pref_param = pick(&SMTP_ADDRESS_PREFERENCE, &LMTP_ADDRESS_PREFERENCE);
        let address_preference = dns::AddrPref::parse(pref_param.name, &config.str(pref_param)?)
            .map_err(config_error)?;
        let debug_list = config.str(&params::decl::debug::DEBUG_PEER_LIST)?;
        let debug_peer = if debug_list.trim().is_empty() {
            None
        } else {
            Some((
                global::match_list::from_parameter(
                    config,
                    &params::decl::debug::DEBUG_PEER_LIST,
                    &[
                        global::match_list::Matcher::Hostname,
                        global::match_list::Matcher::Hostaddr,
                    ],
                )?,
                config.int(&params::decl::debug::DEBUG_PEER_LEVEL)? as i32,
            ))
        };
        let split = |v: String| -> Vec<String> {
            v.split([',', ' ', '\t', '\n'])
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect()
        };
        let tls_policy = crate::tls_policy::Config::from_config(config, lmtp)?;
        let tls = if tls_policy.wants_engine() {
            crate::tls_policy::Config::engine(config, lmtp)?
        } else {
            None
        };
        let tls_conn_reuse = bool(
            &params::decl::smtp_cache::SMTP_TLS_CONNECTION_REUSE,
            &params::decl::smtp_cache::LMTP_TLS_CONNECTION_REUSE,
        )?;
        let session_cache = !str(
            &params::decl::tlsmgr::SMTP_TLS_SESSION_CACHE_DATABASE,
            &params::decl::tlsmgr::LMTP_TLS_SESSION_CACHE_DATABASE,
        )?
        .is_empty();
        let tlsproxy = if tls.is_some() && (tls_conn_reuse || session_cache) {
            Some(crate::tlsproxy_clnt::Client::from_config(config, lmtp)?)
        } else {
            None
        };
        let sasl_enable = bool(&SMTP_SASL_AUTH_ENABLE, &LMTP_SASL_AUTH_ENABLE)?;
        let maps_param = pick(&SMTP_SASL_PASSWORD_MAPS, &LMTP_SASL_PASSWORD_MAPS);
        let maps_text = config.str(maps_param)?;
        let sasl_passwd_maps = if sasl_enable && !maps_text.trim().is_empty() {
            // Read before the jail, as Postfix opens them (the file holds passwords and
            // is usually root's, mode 0600).
            Some(
                global::maps::Maps::new(maps_param.name, &maps_text, dict::Flags::default())
                    .map_err(|e| config_error(e.to_string()))?,
            )
        } else {
            None
        };
        let sender_auth = bool(
            &SMTP_SENDER_DEPENDENT_AUTHENTICATION,
            &LMTP_SENDER_DEPENDENT_AUTHENTICATION,
        )?;
        // Postfix asks the table by sender only in SMTP mode (smtp_sasl_passwd_lookup()
        // tests smtp_mode), though the LMTP twin still adds the sender to cache labels.
        let sender_auth_context = if sender_auth && !lmtp && sasl_passwd_maps.is_some() {
            Some(global::addr_context::AddrContext::from_config(config)?)
        } else {
            None
        };
        let bind = |param: &'static Param| -> Result<_, ConfigError> {
            let value = config.str(param)?;
            let bare = value.trim();
            if bare.is_empty() {
                return Ok(None);
            }
            let inner = match bare.strip_prefix('[') {
                Some(rest) => match rest.strip_suffix(']') {
                    Some(inner) => inner,
                    None => {
                        return Err(config_error(format!(
                            "smtp_connect_addr: malformed {} parameter: {bare}",
                            param.name
                        )));
                    }
                },
                None => bare,
            };
            match inner.parse::<std::net::IpAddr>() {
                Ok(addr) => Ok(Some((addr, param.name))),
                Err(_) => Err(config_error(format!(
                    "smtp_connect_addr: bad {} parameter: {bare}: Name or service not known",
                    param.name
                ))),
            }
        };
        let dict_error = |e: dict::DictError| config_error(e.to_string());
        let named = |s, l| -> Result<(&'static str, String), ConfigError> {
            let param = pick(s, l);
            Ok((param.name, config.str(param)?))
        };
        let (head, mime, nest) = (
            named(&SMTP_HEADER_CHECKS, &LMTP_HEADER_CHECKS)?,
            named(&SMTP_MIME_HEADER_CHECKS, &LMTP_MIME_HEADER_CHECKS)?,
            named(&SMTP_NESTED_HEADER_CHECKS, &LMTP_NESTED_HEADER_CHECKS)?,
        );
        let header_checks = global::header_body_checks::HeaderChecks::create(
            (head.0, &head.1),
            (mime.0, &mime.1),
            (nest.0, &nest.1),
        )
        .map_err(dict_error)?;
        let body = named(&SMTP_BODY_CHECKS, &LMTP_BODY_CHECKS)?;
        let body_checks =
            global::header_body_checks::BodyChecks::create(body.0, &body.1).map_err(dict_error)?;
        let mut status = global::bounce::StatusConf::from_config(config)?;
        let filter = named(&SMTP_DELIVERY_STATUS_FILTER, &LMTP_DELIVERY_STATUS_FILTER)?;
        status
            .bounce_client_init(filter.0, &filter.1)
            .map_err(config_error)?;
        Ok(Settings {
            generic: crate::generic::Generic::from_config(config, lmtp)?,
            header_checks,
            body_checks,
            bind_addr: bind(pick(&SMTP_BIND_ADDRESS, &LMTP_BIND_ADDRESS))?,
            bind_addr6: bind(pick(&SMTP_BIND_ADDRESS6, &LMTP_BIND_ADDRESS6))?,
            bind_enforce: bool(&SMTP_BIND_ADDRESS_ENFORCE, &LMTP_BIND_ADDRESS_ENFORCE)?,
            min_backoff: config.time(&params::decl::queue::MINIMAL_BACKOFF_TIME)?,
            send_xforward: bool(&SMTP_SEND_XFORWARD_COMMAND, &LMTP_SEND_XFORWARD_COMMAND)?,
            sasl_enable,
            sasl_passwd_maps,
            sender_auth,
            sender_auth_context,
            sasl_options: str(&SMTP_SASL_SECURITY_OPTIONS, &LMTP_SASL_SECURITY_OPTIONS)?,
            sasl_tls_options: str(
                &SMTP_SASL_TLS_SECURITY_OPTIONS,
                &LMTP_SASL_TLS_SECURITY_OPTIONS,
            )?,
            sasl_mech_filter: {
                let param = pick(&SMTP_SASL_MECHANISM_FILTER, &LMTP_SASL_MECHANISM_FILTER);
                if config.str(param)?.trim().is_empty() {
                    None
                } else {
                    Some(global::match_list::from_parameter(
                        config,
                        param,
                        &[global::match_list::Matcher::String],
                    )?)
                }
            },
            sasl_soft_bounce: bool(&SMTP_SASL_AUTH_SOFT_BOUNCE, &LMTP_SASL_AUTH_SOFT_BOUNCE)?,
            tls_policy,
            cache: crate::reuse::Config::from_config(config, lmtp)?,
            tls,
            starttls_timeout: time(&SMTP_STARTTLS_TIMEOUT, &LMTP_STARTTLS_TIMEOUT)?,
            tlsproxy,
            tls_conn_reuse,
            lmtp,
            status,
            layout: global::mail_queue::Layout::from_config(config)?,
            myhostname: config.str(&params::decl::identity::MYHOSTNAME)?,
            helo_name: str(&SMTP_HELO_NAME, &LMTP_LHLO_NAME)?,
            tcp_port: str(&SMTP_TCP_PORT, &LMTP_TCP_PORT)?,
            relayhost: config.str(&params::decl::address::RELAYHOST)?,
            fallback_relay: split(str(&SMTP_FALLBACK_RELAY, &LMTP_FALLBACK_RELAY)?),
            timeouts: Timeouts {
                connect: time(&SMTP_CONNECT_TIMEOUT, &LMTP_CONNECT_TIMEOUT)?,
                helo: time(&SMTP_HELO_TIMEOUT, &LMTP_LHLO_TIMEOUT)?,
                mail: time(&SMTP_MAIL_TIMEOUT, &LMTP_MAIL_TIMEOUT)?,
                rcpt: time(&SMTP_RCPT_TIMEOUT, &LMTP_RCPT_TIMEOUT)?,
                data_init: time(&SMTP_DATA_INIT_TIMEOUT, &LMTP_DATA_INIT_TIMEOUT)?,
                data_xfer: time(&SMTP_DATA_XFER_TIMEOUT, &LMTP_DATA_XFER_TIMEOUT)?,
                data_done: time(&SMTP_DATA_DONE_TIMEOUT, &LMTP_DATA_DONE_TIMEOUT)?,
                rset: time(&SMTP_RSET_TIMEOUT, &LMTP_RSET_TIMEOUT)?,
                quit: time(&SMTP_QUIT_TIMEOUT, &LMTP_QUIT_TIMEOUT)?,
                xforward: time(&SMTP_XFORWARD_TIMEOUT, &LMTP_XFORWARD_TIMEOUT)?,
            },
            skip_5xx_greeting: bool(&SMTP_SKIP_5XX_GREETING, &LMTP_SKIP_5XX_GREETING)?,
            skip_quit_resp: bool(&SMTP_SKIP_QUIT_RESPONSE, &LMTP_SKIP_QUIT_RESPONSE)?,
            always_ehlo: config.bool(&SMTP_ALWAYS_SEND_EHLO)?,
            never_ehlo: config.bool(&SMTP_NEVER_SEND_EHLO)?,
            discard_ehlo: str(&SMTP_DISCARD_EHLO_KEYWORDS, &LMTP_DISCARD_LHLO_KEYWORDS)?,
            reply_filter: {
                let text = str(&SMTP_REPLY_FILTER, &LMTP_REPLY_FILTER)?;
                if text.trim().is_empty() {
                    None
                } else {
                    let dict = dict::open(text.trim(), dict::Flags::default())
                        .map_err(|e| config_error(e.to_string()))?;
                    Some(std::rc::Rc::from(dict))
                }
            },
            discard_ehlo_maps: {
                let param = pick(
                    &SMTP_DISCARD_EHLO_KEYWORD_ADDRESS_MAPS,
                    &LMTP_DISCARD_LHLO_KEYWORD_ADDRESS_MAPS,
                );
                let text = config.str(param)?;
                if text.trim().is_empty() {
                    None
                } else {
                    Some(
                        global::maps::Maps::new(param.name, &text, dict::Flags::default())
                            .map_err(|e| config_error(e.to_string()))?,
                    )
                }
            },
            mx_address_limit: int(&SMTP_MX_ADDRESS_LIMIT, &LMTP_MX_ADDRESS_LIMIT)? as usize,
            mx_session_limit: int(&SMTP_MX_SESSION_LIMIT, &LMTP_MX_SESSION_LIMIT)? as usize,
            dns_enabled,
            lookup_dns,
            lookup_native,
            smtp_line_limit: int(&SMTP_LINE_LENGTH_LIMIT, &LMTP_LINE_LENGTH_LIMIT)? as usize,
            line_limit: config.int(&params::decl::smtpd::LINE_LENGTH_LIMIT)? as usize,
            inet,
            address_preference,
            randomize: bool(&SMTP_RANDOMIZE_ADDRESSES, &LMTP_RANDOMIZE_ADDRESSES)?,
            balance: bool(&SMTP_BALANCE_INET_PROTOCOLS, &LMTP_BALANCE_INET_PROTOCOLS)?,
            defer_if_no_mx_address: bool(
                &SMTP_DEFER_IF_NO_MX_ADDRESS_FOUND,
                &LMTP_DEFER_IF_NO_MX_ADDRESS_FOUND,
            )?,
            ignore_mx_lookup_error: config.bool(&IGNORE_MX_LOOKUP_ERROR)?,
            own_addrs: global::resolve_local::interface_addresses(
                &config.str(&params::decl::identity::INET_INTERFACES)?,
            ),
            proxy_addrs: global::resolve_local::interface_addresses(
                &config.str(&params::decl::identity::PROXY_INTERFACES)?,
            ),
            verify_target_data,
            quote_821: bool(&SMTP_QUOTE_RFC821_ENVELOPE, &LMTP_QUOTE_RFC821_ENVELOPE)?,
            disable_mime_oconv: config.bool(&DISABLE_MIME_OUTPUT_CONVERSION)?,
            mime_limits: rfc822::mime::MimeLimits {
                header_size_limit: config.int(&params::decl::smtpd::HEADER_SIZE_LIMIT)? as usize,
                nesting_limit: config.int(&params::decl::cleanup::MIME_NESTING_LIMIT)? as usize,
                boundary_length_limit: config
                    .int(&params::decl::cleanup::MIME_BOUNDARY_LENGTH_LIMIT)?
                    as usize,
            },
            debug_peer,
            notify: global::chat_notify::Notifier::from_config(config)?,
        })
    }
}
