//! How a command takes its configuration: whether a set-gid command may use the
//! configuration directory it was given, and the environment main.cf imports.
//!
//! Postfix counterparts: `global/mail_conf.c` (`mail_conf_checkdir`), `util/unsafe.c` and
//! `update_env()` in `util/clean_env.c`.
//! A program that runs with privileges its user does not have (postqueue, postdrop) trusts
//! nothing the user controls: a configuration directory other than the default one (`-c`,
//! `MAIL_CONFIG`) is accepted from a user other than root only when the default main.cf
//! lists it in alternate_config_directories or multi_instance_directories.

use std::path::Path;

/// Whether the process runs with privileges its user does not have, so that what the
/// user controls (environment, arguments) must not be trusted (Postfix's `unsafe()`).
pub fn untrusted() -> bool {
    let (uid, euid) = (sys::getuid(), sys::geteuid());
    if uid == 0 && euid == 0 {
        return false;
    }
    euid != uid || sys::getgid() != sys::getegid()
}

/// Why a configuration directory is refused: an error record, then the fatal one.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Logged as an error first, when there is one.
    pub error: Option<String>,
    /// The fatal message.
    pub fatal: String,
}

/// Accepts `config_dir` only if `main_cf` (the default main.cf) lists it in
/// alternate_config_directories or multi_instance_directories. The values are read as
/// written, without `$name` expansion.
pub fn checkdir(main_cf: &Path, config_dir: &str) -> Result<(), Refusal> {
    const NAMES: [&str; 2] = ["alternate_config_directories", "multi_instance_directories"];
    let bytes = std::fs::read(main_cf).map_err(|e| Refusal {
        error: None,
        fatal: format!("open file {}: {}", main_cf.display(), sys::os_error(&e)),
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let (lines, _) = util::readlline::logical_lines(main_cf, &text);
    for line in lines {
        let Ok((name, value)) = util::name_value::split(&line.text) else {
            continue;
        };
        if NAMES.contains(&name)
            && util::tokens::split(value, util::tokens::COMMA_SPACE).any(|dir| dir == config_dir)
        {
            return Ok(());
        }
    }
    Err(Refusal {
        error: Some(format!(
            "unauthorized configuration directory name: {config_dir}"
        )),
        fatal: format!(
            "specify \"{} = {config_dir}\" or \"{} = {config_dir}\" in {}",
            NAMES[0],
            NAMES[1],
            main_cf.display()
        ),
    })
}

/// The configuration directory from `MAIL_CONFIG` (where `-c` puts it), checked as
/// above when the process is untrusted; a refusal is fatal.
pub fn checked_config_directory() -> std::path::PathBuf {
    let config_dir = params::config::config_directory(None);
    if config_dir.as_os_str() != params::install::CONFIG_DIRECTORY && untrusted() {
        let default_main_cf = Path::new(params::install::CONFIG_DIRECTORY).join("main.cf");
        if let Err(refusal) = checkdir(&default_main_cf, &config_dir.to_string_lossy()) {
            if let Some(error) = refusal.error {
                log::msg_error!("{error}");
            }
            log::msg_fatal!("{}", refusal.fatal);
        }
    }
    config_dir
}

/// Sets the `NAME=value` entries of import_environment (Postfix's `update_env`): what
/// unprivileged commands (postcat, postsuper, postkick, postlock) do, where privileged
/// ones rebuild their environment with `clean_env`.
pub fn update_env(config: &params::Config) -> Result<(), params::ConfigError> {
    for item in config.list(&params::decl::install::IMPORT_ENVIRONMENT)? {
        if let Some((name, value)) = item.split_once('=') {
            sys::setenv(name, std::ffi::OsStr::new(value));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_must_be_listed() {
        let dir = crate::scratch_dir("checkdir");
        let path = dir.join("main.cf");
        std::fs::write(
            &path,
            "# alternate_config_directories = /etc/commented\n\
             alternate_config_directories = /etc/a,\n  /etc/b\n\
             multi_instance_directories = /etc/m\n",
        )
        .unwrap();
        assert_eq!(checkdir(&path, "/etc/a"), Ok(()));
        assert_eq!(checkdir(&path, "/etc/b"), Ok(()));
        assert_eq!(checkdir(&path, "/etc/m"), Ok(()));
        let refusal = checkdir(&path, "/etc/commented").unwrap_err();
        assert_eq!(
            refusal.error.as_deref(),
            Some("unauthorized configuration directory name: /etc/commented")
        );
        assert_eq!(
            refusal.fatal,
            format!(
                "specify \"alternate_config_directories = /etc/commented\" or \
                 \"multi_instance_directories = /etc/commented\" in {}",
                path.display()
            )
        );
        // Compared as written: no trailing slash games, no $name expansion.
        assert!(checkdir(&path, "/etc/a/").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_default_main_cf_must_exist() {
        let refusal = checkdir(Path::new("/nonexistent/main.cf"), "/x").unwrap_err();
        assert_eq!(refusal.error, None);
        assert_eq!(
            refusal.fatal,
            "open file /nonexistent/main.cf: No such file or directory"
        );
    }
}
