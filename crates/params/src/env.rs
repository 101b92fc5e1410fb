//! The environment variables through which Postfix's programs pass their configuration
//! directory, verbosity, debugging and log tag to the programs they start.
//!
//! Postfix counterpart: `global/mail_params.h` (`CONF_ENV`, `CONF_ENV_VERB`,
//! `CONF_ENV_DEBUG`, `LOG_TAG_ENV`). `postfix -c`, `sendmail -C` and the master set them;
//! every program reads them at start-up.

/// The configuration directory (`postfix -c dir`, `sendmail -C dir`).
pub const CONF_ENV: &str = "MAIL_CONFIG";
/// Verbose logging (`postfix -v`, `master -v`).
pub const CONF_ENV_VERB: &str = "MAIL_VERBOSE";
/// Run `debugger_command` at start-up (`postfix -D`).
pub const CONF_ENV_DEBUG: &str = "MAIL_DEBUG";
/// The log tag (`postdrop`, `postlog -t`).
pub const LOG_TAG_ENV: &str = "MAIL_LOGTAG";
