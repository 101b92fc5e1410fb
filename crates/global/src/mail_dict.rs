//! Lookup tables as mail programs open them: with the proxy service configured.
//!
//! Postfix counterpart: `global/mail_dict.c`, which registers the mail-specific table types
//! (`proxy:`) with the settings of main.cf. Programs and daemon skeletons call [`init`]
//! once after reading the configuration.

/// Points `proxy:` tables at `$queue_directory/private/$proxymap_service_name`.
pub fn init(config: &params::Config) -> Result<(), params::ConfigError> {
    let queue_directory = config.str(&params::decl::install::QUEUE_DIRECTORY)?;
    let service = config.str(&params::decl::proxymap::PROXYMAP_SERVICE_NAME)?;
    dict::proxy::configure(std::path::Path::new(&queue_directory), &service);
    Ok(())
}
