//! Keeping only the environment the configuration allows.
//!
//! Postfix counterpart: `util/clean_env.c` with `import_environment`. Privileged programs
//! (the master, set-gid commands) drop every variable not listed; `NAME=value` entries set
//! a value. What is left is what every daemon inherits.

use params::Config;
use params::decl::install::IMPORT_ENVIRONMENT;

/// Rebuilds the environment from `import_environment`.
pub fn clean_env(config: &Config) -> Result<(), params::ConfigError> {
    let list = config.list(&IMPORT_ENVIRONMENT)?;
    let mut keep: Vec<(String, std::ffi::OsString)> = Vec::new();
    for item in &list {
        match item.split_once('=') {
            Some((name, value)) => keep.push((name.to_string(), value.into())),
            None => {
                if let Some(value) = std::env::var_os(item) {
                    keep.push((item.clone(), value));
                }
            }
        }
    }
    let names: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .collect();
    for name in names {
        sys::unsetenv(&name);
    }
    for (name, value) in keep {
        sys::setenv(&name, &value);
    }
    Ok(())
}
