//! What the bounce service reads from main.cf, once, before the jail.
//!
//! Postfix counterpart: the parameter tables of `bounce/bounce.c`, with the global ones
//! the notices use (`mail_addr.c`'s double-bounce address, `mail_error.c`'s
//! notify_classes names, `hfrom_format.c`, `int_filt.c`). A template's `$name` may name
//! any parameter (`mail_conf_lookup_eval`): for those the daemon's configuration is
//! passed along with each request.

use global::input_transp::mail_src;
use params::decl::bounce::{
    BACKWARDS_BOUNCE_LOGFILE_COMPATIBILITY, BOUNCE_TEMPLATE_FILE, ENABLE_THREADED_BOUNCES,
};
use params::decl::identity::{MAIL_NAME, MYDOMAIN, MYHOSTNAME, SMTPUTF8_ENABLE};
use params::decl::process::IPC_TIMEOUT;
use params::decl::queue::{
    BOUNCE_NOTICE_RECIPIENT, BOUNCE_SIZE_LIMIT, DELAY_NOTICE_RECIPIENT, DELAY_WARNING_TIME,
    DOUBLE_BOUNCE_SENDER, MAXIMAL_QUEUE_LIFETIME, NOTIFY_CLASSES, TWO_BOUNCE_NOTICE_RECIPIENT,
};
use params::decl::submission::CLEANUP_SERVICE_NAME;
use params::{Config, ConfigError};
use std::time::Duration;

/// notify_classes bits (Postfix's `MAIL_ERROR_*`): the bounce service acts on bounce,
/// 2bounce and delay.
pub use global::chat_notify::mail_error as error_class;

/// The bounce service's settings.
pub struct Settings {
    /// `bounce_size_limit`.
    pub size_limit: i64,
    /// `maximal_queue_lifetime`, seconds.
    pub max_queue_time: i64,
    /// `delay_warning_time`, seconds.
    pub delay_warn_time: i64,
    /// `notify_classes` as bits.
    pub notify_mask: u32,
    /// `bounce_notice_recipient`.
    pub bounce_rcpt: String,
    /// `2bounce_notice_recipient`.
    pub two_bounce_rcpt: String,
    /// `delay_notice_recipient`.
    pub delay_rcpt: String,
    /// `bounce_template_file`.
    pub template_file: String,
    /// `header_from_format = standard` (else obsolete).
    pub std_from: bool,
    /// `enable_threaded_bounces`.
    pub threaded: bool,
    /// `backwards_bounce_logfile_compatibility`.
    pub oldlog_compat: bool,
    /// `smtputf8_enable`.
    pub smtputf8_enable: bool,
    /// `myhostname`.
    pub myhostname: String,
    /// `mydomain`.
    pub mydomain: String,
    /// `mail_name` as it is, for the `Received:` header.
    pub mail_name_raw: String,
    /// `mail_name`, made a valid RFC 822 atom for `X-<name>-Queue-ID` and the like.
    pub mail_name: String,
    /// The double-bounce address, `$double_bounce_sender@$myhostname`.
    pub double_bounce: String,
    /// `cleanup_service_name`.
    pub cleanup_service: String,
    /// The cleanup flags of every notice (`post_mail_init`).
    pub cleanup_flags: u32,
    /// `ipc_timeout`.
    pub ipc_timeout: Duration,
    /// The queue file layout.
    pub layout: global::mail_queue::Layout,
}

impl Settings {
    /// Reads the settings; a bad value is a configuration error.
    pub fn from_config(config: &Config) -> Result<Settings, ConfigError> {
        let notify = config.str(&NOTIFY_CLASSES)?;
        let notify_mask =
            global::chat_notify::notify_mask(&notify).unwrap_or_else(|e| log::msg_fatal!("{e}"));
        let myhostname = config.str(&MYHOSTNAME)?;
        let smtputf8_enable = config.bool(&SMTPUTF8_ENABLE)?;
        Ok(Settings {
            size_limit: config.int(&BOUNCE_SIZE_LIMIT)?,
            max_queue_time: config.time(&MAXIMAL_QUEUE_LIFETIME)?,
            delay_warn_time: config.time(&DELAY_WARNING_TIME)?,
            notify_mask,
            bounce_rcpt: config.str(&BOUNCE_NOTICE_RECIPIENT)?,
            two_bounce_rcpt: config.str(&TWO_BOUNCE_NOTICE_RECIPIENT)?,
            delay_rcpt: config.str(&DELAY_NOTICE_RECIPIENT)?,
            template_file: config.str(&BOUNCE_TEMPLATE_FILE)?,
            std_from: global::chat_notify::std_from(config)?,
            threaded: config.bool(&ENABLE_THREADED_BOUNCES)?,
            oldlog_compat: config.bool(&BACKWARDS_BOUNCE_LOGFILE_COMPATIBILITY)?,
            smtputf8_enable,
            mydomain: config.str(&MYDOMAIN)?,
            mail_name: atom(&config.str(&MAIL_NAME)?),
            mail_name_raw: config.str(&MAIL_NAME)?,
            double_bounce: format!("{}@{myhostname}", config.str(&DOUBLE_BOUNCE_SENDER)?),
            myhostname,
            cleanup_service: config.str(&CLEANUP_SERVICE_NAME)?,
            cleanup_flags: global::chat_notify::post_flags(config, mail_src::BOUNCE)?,
            ipc_timeout: Duration::from_secs(config.time(&IPC_TIMEOUT)? as u64),
            layout: global::mail_queue::Layout::from_config(config)?,
        })
    }
}

/// `mail_name` with the characters an RFC 822 atom may not hold replaced by '-', for the
/// `X-Postfix-*` field and diagnostic type names (Postfix's `translit`).
fn atom(name: &str) -> String {
    name.chars()
        .map(|c| {
            if " \t\r\n()<>@,;:\\\".[]".contains(c) {
                '-'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_name_becomes_an_atom() {
        assert_eq!(atom("Postfix"), "Postfix");
        assert_eq!(atom("My Mail (test)"), "My-Mail--test-");
    }
}
