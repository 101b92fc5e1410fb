//! What cleanup reads from main.cf, once, before it enters the chroot jail.
//!
//! Postfix counterpart: `cleanup/cleanup_init.c` (the parameter tables, `pre_jail` and
//! `post_jail`) and the `message_drop_headers` part of `global/header_opts.c`. A broken
//! setting is an error here; the program turns it into a fatal one.

use crate::tables::Tables;
use global::bounce::StatusConf;
use global::info_log_addr_form::AddrForm;
use global::mail_queue::Layout;
use params::Config;
use params::ConfigError;
use params::decl::cleanup as c;
use params::decl::identity::{MYHOSTNAME, SMTPUTF8_ENABLE};
use params::decl::queue::{DELAY_WARNING_TIME, ENABLE_LONG_QUEUE_IDS};
use params::decl::resolve::REMOTE_HEADER_REWRITE_DOMAIN;
use params::decl::sendmail::VERP_DELIMITER_FILTER;
use params::decl::smtpd::{HEADER_SIZE_LIMIT, LINE_LENGTH_LIMIT, MESSAGE_SIZE_LIMIT};
use rfc822::mime::{MimeLimits, MimeOptions};
use std::time::Duration;
use util::unescape::unescape;

/// The cleanup settings.
pub struct Settings {
    /// `line_length_limit`: text records longer than this are split.
    pub line_limit: usize,
    /// `header_size_limit`.
    pub header_limit: usize,
    /// `message_size_limit`: the largest queue file; 0 = no limit.
    pub size_limit: u64,
    /// `hopcount_limit`.
    pub hopcount_limit: usize,
    /// `duplicate_filter_limit`; 0 = no limit.
    pub dup_filter_limit: usize,
    /// `queue_file_attribute_count_limit`.
    pub qattr_count_limit: usize,
    /// `always_add_missing_headers`.
    pub always_add_hdrs: bool,
    /// `always_bcc`.
    pub always_bcc: String,
    /// `empty_address_recipient`: where mail to the null address goes.
    pub empty_addr: String,
    /// `undisclosed_recipients_header`.
    pub rcpt_witheld: String,
    /// `enable_original_recipient`.
    pub enable_orcpt: bool,
    /// `message_drop_headers`, lower-cased.
    pub drop_headers: Vec<String>,
    /// `cleanup_replace_stray_cr_lf`.
    pub mask_stray_cr_lf: bool,
    /// `detect_8bit_encoding_header`.
    pub auto_8bit_enc_hdr: bool,
    /// `header_from_format = standard` (else obsolete).
    pub hfrom_standard: bool,
    /// `disable_mime_input_processing`.
    pub disable_mime: bool,
    /// The MIME checks the strict_* settings and header checks ask for (with header/body
    /// checks enabled).
    pub strict_options: MimeOptions,
    /// The MIME processor's limits.
    pub mime_limits: MimeLimits,
    /// `header_address_token_limit`.
    pub token_limit: usize,
    /// `queue_service_name`: whom to wake up for a new message.
    pub queue_service: String,
    /// `myhostname`, for Message-Id headers.
    pub myhostname: String,
    /// `delay_warning_time` in seconds.
    pub delay_warn_time: i64,
    /// `remote_header_rewrite_domain`.
    pub remote_rwr_domain: String,
    /// `smtputf8_enable`.
    pub smtputf8_enable: bool,
    /// `verp_delimiter_filter`.
    pub verp_filter: String,
    /// `info_log_address_format`.
    pub addr_form: AddrForm,
    /// `ipc_timeout`, for the client connection.
    pub ipc_timeout: Duration,
    /// `trigger_timeout`, for waking the queue manager.
    pub trigger_timeout: Duration,
    /// Queue file names and places.
    pub layout: Layout,
    /// `virtual_alias_recursion_limit`.
    pub virt_recur_limit: usize,
    /// `virtual_alias_expansion_limit`.
    pub virt_expan_limit: usize,
    /// `virtual_alias_address_length_limit`.
    pub virt_addrlen_limit: usize,
    /// What the bounce, trace and verify clients need (service names, soft_bounce, the
    /// status line's form).
    pub status: StatusConf,
    /// `disable_verp_bounces`.
    pub verp_bounce_off: bool,
    /// `message_reject_characters`, unescaped.
    pub reject_chars: Vec<u8>,
    /// `message_strip_characters`, unescaped.
    pub strip_chars: Vec<u8>,
    /// `body_checks_size_limit`: how far into the body body_checks look; 0: all of it.
    pub body_check_len: u64,
    /// The tables.
    pub tables: Tables,
}

impl Settings {
    /// The settings main.cf gives.
    pub fn from_config(config: &Config) -> Result<Settings, ConfigError> {
        let yes = |p| config.bool(p);
        let int = |p| config.int(p).map(|v| v.max(0) as usize);
        let secs = |p| config.time(p).map(|t| Duration::from_secs(t.max(0) as u64));
        let hfrom = config.str(&c::HEADER_FROM_FORMAT)?;
        let hfrom_standard = match hfrom.as_str() {
            "standard" => true,
            "obsolete" => false,
            _ => {
                return Err(config_error(format!(
                    "invalid setting: \"{} = {hfrom}\"",
                    c::HEADER_FROM_FORMAT.name
                )));
            }
        };
        let strict_8bitmime = yes(&c::STRICT_8BITMIME)?;
        let strict_7bit_hdrs = yes(&c::STRICT_7BIT_HEADERS)?;
        let strict_8bit_body = yes(&c::STRICT_8BITMIME_BODY)?;
        let strict_encoding = yes(&c::STRICT_MIME_ENCODING_DOMAIN)?;
        let mut strict_options = MimeOptions::NONE;
        if strict_8bitmime || strict_7bit_hdrs {
            strict_options |= MimeOptions::REPORT_8BIT_IN_HEADER;
        }
        if strict_8bitmime || strict_8bit_body {
            strict_options |= MimeOptions::REPORT_8BIT_IN_7BIT_BODY;
        }
        if strict_encoding {
            strict_options |= MimeOptions::REPORT_ENCODING_DOMAIN;
        }
        let header_checks = [
            &c::HEADER_CHECKS,
            &c::MIME_HEADER_CHECKS,
            &c::NESTED_HEADER_CHECKS,
        ]
        .into_iter()
        .map(|p| config.str(p).map(|v| !v.is_empty()))
        .collect::<Result<Vec<_>, _>>()?
        .contains(&true);
        if strict_8bitmime
            || strict_7bit_hdrs
            || strict_8bit_body
            || strict_encoding
            || header_checks
        {
            strict_options |= MimeOptions::REPORT_NESTING;
        }
        Ok(Settings {
            line_limit: int(&LINE_LENGTH_LIMIT)?,
            header_limit: int(&HEADER_SIZE_LIMIT)?,
            size_limit: config.int(&MESSAGE_SIZE_LIMIT)?.max(0) as u64,
            hopcount_limit: int(&c::HOPCOUNT_LIMIT)?,
            dup_filter_limit: int(&c::DUPLICATE_FILTER_LIMIT)?,
            qattr_count_limit: int(&c::QUEUE_FILE_ATTRIBUTE_COUNT_LIMIT)?,
            always_add_hdrs: yes(&c::ALWAYS_ADD_MISSING_HEADERS)?,
            always_bcc: config.str(&c::ALWAYS_BCC)?,
            empty_addr: config.str(&params::decl::address::EMPTY_ADDRESS_RECIPIENT)?,
            rcpt_witheld: config.str(&c::UNDISCLOSED_RECIPIENTS_HEADER)?,
            enable_orcpt: yes(&c::ENABLE_ORIGINAL_RECIPIENT)?,
            drop_headers: util::tokens::split(
                &config.str(&c::MESSAGE_DROP_HEADERS)?,
                util::tokens::COMMA_SPACE,
            )
            .map(str::to_ascii_lowercase)
            .collect(),
            mask_stray_cr_lf: yes(&c::CLEANUP_REPLACE_STRAY_CR_LF)?,
            auto_8bit_enc_hdr: yes(&c::DETECT_8BIT_ENCODING_HEADER)?,
            hfrom_standard,
            disable_mime: yes(&c::DISABLE_MIME_INPUT_PROCESSING)?,
            strict_options,
            mime_limits: MimeLimits {
                header_size_limit: int(&HEADER_SIZE_LIMIT)?,
                nesting_limit: int(&c::MIME_NESTING_LIMIT)?,
                boundary_length_limit: int(&c::MIME_BOUNDARY_LENGTH_LIMIT)?,
            },
            token_limit: int(&c::HEADER_ADDRESS_TOKEN_LIMIT)?,
            queue_service: config.str(&c::QUEUE_SERVICE_NAME)?,
            myhostname: config.str(&MYHOSTNAME)?,
            delay_warn_time: config.time(&DELAY_WARNING_TIME)?,
            remote_rwr_domain: config.str(&REMOTE_HEADER_REWRITE_DOMAIN)?,
            smtputf8_enable: yes(&SMTPUTF8_ENABLE)?,
            verp_filter: config.str(&VERP_DELIMITER_FILTER)?,
            addr_form: AddrForm::from_config(config).map_err(config_error)?,
            ipc_timeout: secs(&params::decl::process::IPC_TIMEOUT)?,
            trigger_timeout: secs(&params::decl::submission::TRIGGER_TIMEOUT)?,
            layout: Layout {
                long_queue_ids: yes(&ENABLE_LONG_QUEUE_IDS)?,
                ..Layout::from_config(config)?
            },
            virt_recur_limit: int(&c::VIRTUAL_ALIAS_RECURSION_LIMIT)?,
            virt_expan_limit: int(&c::VIRTUAL_ALIAS_EXPANSION_LIMIT)?,
            virt_addrlen_limit: int(&c::VIRTUAL_ALIAS_ADDRESS_LENGTH_LIMIT)?,
            status: StatusConf::from_config(config)?,
            verp_bounce_off: yes(&c::DISABLE_VERP_BOUNCES)?,
            reject_chars: unescape(&config.str(&c::MESSAGE_REJECT_CHARACTERS)?),
            strip_chars: unescape(&config.str(&c::MESSAGE_STRIP_CHARACTERS)?),
            body_check_len: config.int(&c::BODY_CHECKS_SIZE_LIMIT)?.max(0) as u64,
            tables: Tables::from_config(config)?,
        })
    }

    /// Whether `name` (a header name, any case) is in `message_drop_headers`.
    pub fn drops(&self, name: &[u8]) -> bool {
        self.drop_headers
            .iter()
            .any(|d| d.as_bytes().eq_ignore_ascii_case(name))
    }
}

/// A configuration error of cleanup's own, in the form the others have.
pub fn config_error(message: String) -> ConfigError {
    ConfigError {
        warnings: Vec::new(),
        message,
    }
}
