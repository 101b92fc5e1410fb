//! What smtpd reads from main.cf, once, before it enters the chroot jail.
//!
//! Postfix counterpart: the `var_*` tables of `smtpd/smtpd.c` (`main()`), `pre_jail_init()`
//! and the parts of `smtpd_check_init()` that open lists. A broken value is fatal at
//! start-up, as in Postfix, never in the middle of a session.

use global::info_log_addr_form::AddrForm;
use global::match_list::{MatchList, Matcher};
use params::decl::debug::{DEBUG_PEER_LEVEL, DEBUG_PEER_LIST};
use params::decl::identity::{
    INET_PROTOCOLS, MAIL_NAME, MYHOSTNAME, SMTPUTF8_AUTODETECT_CLASSES, SMTPUTF8_ENABLE,
};
use params::decl::process::IPC_TIMEOUT;
use params::decl::queue::SOFT_BOUNCE;
use params::decl::smtpd as s;
use params::decl::submission::{CLEANUP_SERVICE_NAME, RECEIVE_OVERRIDE_OPTIONS};
use params::{Config, Param};
use smtp_proto::{BareLf, EhloMask};
use std::time::Duration;

/// The settings of one smtpd process.
pub struct Settings {
    /// `myhostname`.
    pub myhostname: String,
    /// `mail_name`, for the Received: header.
    pub mail_name: String,
    /// `stress`: `yes` when master runs the service under stress.
    pub stress: String,
    /// `smtpd_reject_footer`.
    pub reject_footer: String,
    /// `smtpd_expansion_filter`, unescaped.
    pub expansion_filter: Vec<u8>,
    /// `smtpd_authorized_xforward_hosts`, when set.
    pub xforward_hosts: Option<MatchList>,
    /// `smtpd_authorized_xclient_hosts`, when set.
    pub xclient_hosts: Option<MatchList>,
    /// `smtpd_reject_footer_maps`.
    pub reject_footer_maps: Option<global::maps::Maps>,
    /// `smtpd_banner`, expanded.
    pub banner: String,
    /// `smtpd_timeout`.
    pub timeout: Duration,
    /// `smtpd_soft_error_limit`.
    pub soft_error_limit: usize,
    /// `smtpd_hard_error_limit`.
    pub hard_error_limit: usize,
    /// `smtpd_error_sleep_time`.
    pub error_sleep: Duration,
    /// `smtpd_junk_command_limit`.
    pub junk_command_limit: usize,
    /// `smtpd_recipient_limit`.
    pub recipient_limit: usize,
    /// `smtpd_recipient_overshoot_limit`.
    pub recipient_overshoot_limit: usize,
    /// `message_size_limit`.
    pub message_size_limit: u64,
    /// `line_length_limit`.
    pub line_length_limit: usize,
    /// `disable_vrfy_command`.
    pub disable_vrfy: bool,
    /// `strict_rfc821_envelopes`.
    pub strict_rfc821: bool,
    /// `smtputf8_enable`.
    pub smtputf8: bool,
    /// `strict_smtputf8`.
    pub strict_smtputf8: bool,
    /// `smtpd_discard_ehlo_keywords`.
    pub discard: EhloMask,
    /// `smtpd_forbid_bare_newline`.
    pub bare_lf: BareLf,
    /// `smtpd_forbid_bare_newline_reject_code`.
    pub bare_lf_code: u16,
    /// `smtpd_forbid_bare_newline_exclusions`.
    pub bare_lf_exclusions: MatchList,
    /// `smtpd_forbid_unauth_pipelining`.
    pub forbid_unauth_pipelining: bool,
    /// `smtpd_helo_required`.
    pub helo_required: bool,
    /// `smtpd_delay_open_until_valid_rcpt`.
    pub delay_open: bool,
    /// `smtpd_peername_lookup`.
    pub peername_lookup: bool,
    /// `smtpd_client_port_logging`.
    pub client_port_logging: bool,
    /// `soft_bounce`.
    pub soft_bounce: bool,
    /// `cleanup_service_name`.
    pub cleanup_service: String,
    /// `ipc_timeout`.
    pub ipc_timeout: Duration,
    /// Cleanup request flags for mail from SMTP (`receive_override_options`,
    /// `smtputf8_autodetect_classes`).
    pub cleanup_flags: u32,
    /// `receive_override_options` as a mask (`INPUT_TRANSP_*`).
    pub input_transp: u32,
    /// `inet_protocols`.
    pub inet: dns::inet_proto::InetProtocols,
    /// `debug_peer_list`, when set.
    pub debug_peer_list: Option<MatchList>,
    /// `debug_peer_level`.
    pub debug_peer_level: i32,
    /// `fast_flush_domains`, when set.
    pub fast_flush_domains: Option<MatchList>,
    /// `flush_service_name`.
    pub flush_service: String,
    /// `smtpd_noop_commands`, when set.
    pub noop_commands: Option<MatchList>,
    /// `smtpd_forbidden_commands`, when set and not the default.
    pub forbidden_commands: Option<MatchList>,
    /// `smtpd_forbidden_commands` is Postfix's default, which is matched without a table:
    /// dict has no inline `regexp:{...}` tables yet.
    pub forbidden_default: bool,
    /// `info_log_address_format`.
    pub addr_form: AddrForm,
    /// The TLS parameters and engine.
    pub tls: crate::tls_setup::TlsSetup,
    /// The SASL parameters.
    pub sasl: crate::sasl_setup::SaslSetup,
    /// notify_classes and the postmaster notices.
    pub notify: crate::chat_notify::Settings,
}

/// Logs a configuration error and exits, as Postfix does for a bad main.cf value.
pub fn fatal(error: params::ConfigError) -> ! {
    global::fatal_config(error)
}

/// A value, or the fatal configuration error.
fn get<T>(result: Result<T, params::ConfigError>) -> T {
    result.unwrap_or_else(|e| fatal(e))
}

/// A count parameter (declared with a minimum of 1 or 0, so never negative).
fn count(config: &Config, param: &'static Param) -> usize {
    usize::try_from(get(config.int(param))).unwrap_or(0)
}

/// A time parameter.
fn seconds(config: &Config, param: &'static Param) -> Duration {
    Duration::from_secs(u64::try_from(get(config.time(param))).unwrap_or(0))
}

/// A match list in `param` compared with `matchers`, None when empty.
pub fn list(config: &Config, param: &'static Param, matchers: &[Matcher]) -> Option<MatchList> {
    if get(config.str(param)).trim().is_empty() {
        return None;
    }
    Some(get(global::match_list::from_parameter(
        config, param, matchers,
    )))
}

impl Settings {
    /// Reads main.cf.
    pub fn from_config(config: &Config) -> Settings {
        let text = |param| get(config.str(param));
        let yes = |param| get(config.bool(param));
        let fatal_text = |e: String| -> ! { log::msg_fatal!("{e}") };
        let input_transp = global::input_transp::input_transp_mask(
            RECEIVE_OVERRIDE_OPTIONS.name,
            &text(&RECEIVE_OVERRIDE_OPTIONS),
        )
        .unwrap_or_else(|e| fatal_text(e));
        let autoutf8 = global::input_transp::smtputf8_autodetect(
            yes(&SMTPUTF8_ENABLE),
            &text(&SMTPUTF8_AUTODETECT_CLASSES),
            global::input_transp::mail_src::SMTPD,
        )
        .unwrap_or_else(|e| fatal_text(e));
        let cleanup_flags = global::input_transp::input_transp_cleanup(
            global::cleanup_user::FLAG_MASK_EXTERNAL,
            input_transp,
        ) | autoutf8;
        let bare_lf_value = text(&s::SMTPD_FORBID_BARE_NEWLINE);
        let bare_lf = BareLf::from_param(&bare_lf_value).unwrap_or_else(|| {
            log::msg_fatal!(
                "invalid {} value: \"{bare_lf_value}\"",
                s::SMTPD_FORBID_BARE_NEWLINE.name
            )
        });
        let debug_peer_level = get(config.int(&DEBUG_PEER_LEVEL));
        if debug_peer_level <= 0 {
            log::msg_fatal!("non-positive parameter {}", DEBUG_PEER_LEVEL.name);
        }
        let forbidden_default = matches!(
            s::SMTPD_FORBIDDEN_COMMANDS.default,
            params::def::Default::Text(d) if text(&s::SMTPD_FORBIDDEN_COMMANDS).trim() == d
        );
        Settings {
            myhostname: text(&MYHOSTNAME),
            mail_name: text(&MAIL_NAME),
            banner: text(&s::SMTPD_BANNER),
            timeout: seconds(config, &s::SMTPD_TIMEOUT),
            soft_error_limit: count(config, &s::SMTPD_SOFT_ERROR_LIMIT),
            hard_error_limit: count(config, &s::SMTPD_HARD_ERROR_LIMIT),
            error_sleep: seconds(config, &s::SMTPD_ERROR_SLEEP_TIME),
            junk_command_limit: count(config, &s::SMTPD_JUNK_COMMAND_LIMIT),
            recipient_limit: count(config, &s::SMTPD_RECIPIENT_LIMIT),
            recipient_overshoot_limit: count(config, &s::SMTPD_RECIPIENT_OVERSHOOT_LIMIT),
            message_size_limit: u64::try_from(get(config.int(&s::MESSAGE_SIZE_LIMIT))).unwrap_or(0),
            line_length_limit: count(config, &s::LINE_LENGTH_LIMIT),
            disable_vrfy: yes(&s::DISABLE_VRFY_COMMAND),
            strict_rfc821: yes(&s::STRICT_RFC821_ENVELOPES),
            smtputf8: yes(&SMTPUTF8_ENABLE),
            stress: config
                .str(&params::decl::process::STRESS)
                .unwrap_or_else(|e| fatal(e)),
            reject_footer: text(&s::SMTPD_REJECT_FOOTER),
            expansion_filter: util::unescape::unescape(&text(&s::SMTPD_EXPANSION_FILTER)),
            xforward_hosts: list(
                config,
                &s::SMTPD_AUTHORIZED_XFORWARD_HOSTS,
                &[Matcher::Hostname, Matcher::Hostaddr],
            ),
            xclient_hosts: list(
                config,
                &s::SMTPD_AUTHORIZED_XCLIENT_HOSTS,
                &[Matcher::Hostname, Matcher::Hostaddr],
            ),
            reject_footer_maps: {
                let value = text(&s::SMTPD_REJECT_FOOTER_MAPS);
                (!value.trim().is_empty()).then(|| {
                    global::maps::Maps::new(
                        s::SMTPD_REJECT_FOOTER_MAPS.name,
                        &value,
                        dict::Flags::default(),
                    )
                    .unwrap_or_else(|e| log::msg_fatal!("{e}"))
                })
            },
            strict_smtputf8: yes(&s::STRICT_SMTPUTF8),
            discard: EhloMask::parse(&text(&s::SMTPD_DISCARD_EHLO_KEYWORDS)),
            bare_lf,
            bare_lf_code: u16::try_from(get(config.int(&s::SMTPD_FORBID_BARE_NEWLINE_REJECT_CODE)))
                .unwrap_or(550),
            bare_lf_exclusions: get(global::match_list::from_parameter(
                config,
                &s::SMTPD_FORBID_BARE_NEWLINE_EXCLUSIONS,
                // namadr_list: the client's name, then its address.
                &[Matcher::Hostname, Matcher::Hostaddr],
            )),
            forbid_unauth_pipelining: yes(&s::SMTPD_FORBID_UNAUTH_PIPELINING),
            helo_required: yes(&s::SMTPD_HELO_REQUIRED),
            delay_open: yes(&s::SMTPD_DELAY_OPEN_UNTIL_VALID_RCPT),
            peername_lookup: yes(&s::SMTPD_PEERNAME_LOOKUP),
            client_port_logging: yes(&s::SMTPD_CLIENT_PORT_LOGGING),
            soft_bounce: yes(&SOFT_BOUNCE),
            cleanup_service: text(&CLEANUP_SERVICE_NAME),
            ipc_timeout: seconds(config, &IPC_TIMEOUT),
            cleanup_flags,
            input_transp,
            inet: dns::inet_proto::InetProtocols::parse(&text(&INET_PROTOCOLS))
                .unwrap_or_else(|e| fatal_text(e)),
            debug_peer_list: list(
                config,
                &DEBUG_PEER_LIST,
                &[Matcher::Hostname, Matcher::Hostaddr],
            ),
            debug_peer_level: i32::try_from(debug_peer_level).unwrap_or(2),
            fast_flush_domains: list(config, &s::FAST_FLUSH_DOMAINS, &[Matcher::Hostname]),
            flush_service: text(&s::FLUSH_SERVICE_NAME),
            noop_commands: list(config, &s::SMTPD_NOOP_COMMANDS, &[Matcher::String]),
            forbidden_default,
            forbidden_commands: if forbidden_default {
                None
            } else {
                list(config, &s::SMTPD_FORBIDDEN_COMMANDS, &[Matcher::String])
            },
            addr_form: AddrForm::from_config(config).unwrap_or_else(|e| fatal_text(e)),
            tls: crate::tls_setup::from_config(config),
            sasl: crate::sasl_setup::from_config(config),
            notify: get(crate::chat_notify::Settings::from_config(config)),
        }
    }
}
