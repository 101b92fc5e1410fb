//! Choosing where a program's log records go: syslog, or `maillog_file` through postlogd.
//!
//! Postfix counterpart: `global/maillog_client.c`. With `maillog_file` empty, records go to
//! syslog with `syslog_facility`. Otherwise they go to the postlog service
//! (`$queue_directory/public/$postlog_service_name`), and commands that may run while the
//! mail system is down (postlog, postfix, postsuper) write the file themselves when the
//! service does not answer. The file must start with one of `maillog_file_prefixes`, so that
//! a bad setting cannot make a privileged program write anywhere.

use params::decl::identity::MYHOSTNAME;
use params::decl::install::QUEUE_DIRECTORY;
use params::decl::logging::{
    MAILLOG_FILE, MAILLOG_FILE_PREFIXES, POSTLOG_SERVICE_NAME, SYSLOG_FACILITY,
};
use params::{Config, ConfigError};
use std::path::PathBuf;

/// Whether a program may write maillog_file itself when postlogd does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// Write the file directly (postlog, postfix, postsuper).
    WriteFile,
    /// Drop the record (daemons: postlogd is their only writer).
    Drop,
    /// Always write the file directly, never through postlogd: for the last records of a
    /// system that is stopping, when postlogd may already be gone.
    Direct,
}

/// Replaces the program's syslog or maillog sinks with the ones this configuration asks for.
/// Stderr sinks stay. The error text is fatal in Postfix's words.
pub fn init(config: &Config, tag: &str, fallback: Fallback) -> Result<(), ConfigError> {
    log::set_utf8(config.bool(&params::decl::identity::SMTPUTF8_ENABLE)?);
    let file = config.str(&MAILLOG_FILE)?;
    // Checked whatever the log's destination, and before the old sinks go, so that the
    // fatal error reaches the log the program had (Postfix's mail_params.c).
    let facility_name = config.str(&SYSLOG_FACILITY)?;
    let facility = log::Facility::from_name(&facility_name).ok_or_else(|| ConfigError {
        warnings: Vec::new(),
        message: format!(
            "file {}/main.cf: parameter {}: unrecognized value: {facility_name}",
            config.config_directory.display(),
            SYSLOG_FACILITY.name
        ),
    })?;
    log::retain_sinks(|s| s.is_stderr());
    if file.is_empty() {
        log::add_sink(Box::new(log::Syslog::new(tag, facility)));
        return Ok(());
    }
    let prefixes = config.list(&MAILLOG_FILE_PREFIXES)?;
    if !prefixes.iter().any(|p| file.starts_with(p.as_str())) {
        return Err(ConfigError {
            warnings: Vec::new(),
            message: format!(
                "{} value '{file}' does not match any prefix in {}",
                MAILLOG_FILE.name, MAILLOG_FILE_PREFIXES.name
            ),
        });
    }
    let host = config.str(&MYHOSTNAME)?;
    let socket = PathBuf::from(config.str(&QUEUE_DIRECTORY)?)
        .join("public")
        .join(config.str(&POSTLOG_SERVICE_NAME)?);
    let direct = (fallback != Fallback::Drop).then(|| PathBuf::from(&file));
    let socket = (fallback != Fallback::Direct).then_some(socket);
    log::add_sink(Box::new(log::MaillogFile::new(tag, &host, direct, socket)));
    Ok(())
}
