//! The name a program logs under: `$syslog_name/program`.
//!
//! Postfix counterpart: `global/mail_task.c`. `MAIL_LOGTAG` in the environment (set by the
//! master for its children) takes precedence over `syslog_name`, so that
//! `-o syslog_name=postfix/submission` on a master.cf service shows up as
//! `postfix/submission/smtpd`.

use params::Config;
use params::decl::logging::SYSLOG_NAME;
use params::env::LOG_TAG_ENV;

/// The log tag for `program` (a path or a name) with this configuration.
pub fn mail_task(config: &Config, program: &str) -> String {
    let program = match program.rsplit_once('/') {
        Some((_, base)) if !base.is_empty() => base,
        _ => program,
    };
    let tag = match std::env::var(LOG_TAG_ENV) {
        Ok(tag) if !tag.is_empty() => tag,
        _ => config
            .str(&SYSLOG_NAME)
            .unwrap_or_else(|_| "postfix".to_string()),
    };
    format!("{tag}/{program}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use params::main_cf::MainCf;
    use std::path::Path;

    #[test]
    fn tags() {
        let main = MainCf::parse(Path::new("/x/main.cf"), "").unwrap();
        let config = Config::new(Path::new("/x"), main);
        if std::env::var_os(LOG_TAG_ENV).is_none() {
            assert_eq!(
                mail_task(&config, "/usr/libexec/ironpost/smtpd"),
                "postfix/smtpd"
            );
        }
        let main = MainCf::parse(Path::new("/x/main.cf"), "multi_instance_name = out\n").unwrap();
        let config = Config::new(Path::new("/x"), main);
        if std::env::var_os(LOG_TAG_ENV).is_none() {
            assert_eq!(mail_task(&config, "qmgr"), "out/qmgr");
        }
    }
}
