//! Where ironpost is installed, fixed at build time.
//!
//! Postfix counterpart: the `DEF_*_DIR` values that `make makefiles` compiles in. Each can be
//! set when building with an environment variable of the same name in upper case, prefixed by
//! `IRONPOST_` (e.g. `IRONPOST_CONFIG_DIRECTORY=/etc/postfix cargo build`); `scripts/install`
//! documents the defaults.

macro_rules! build_setting {
    ($(#[doc = $doc:expr])* $id:ident, $env:literal, $default:literal) => {
        $(#[doc = $doc])*
        pub const $id: &str = match option_env!($env) {
            Some(value) => value,
            None => $default,
        };
    };
}

build_setting!(
    /// Where main.cf and master.cf live.
    CONFIG_DIRECTORY, "IRONPOST_CONFIG_DIRECTORY", "/etc/ironpost");
build_setting!(
    /// Where the daemons live, one file per daemon name.
    DAEMON_DIRECTORY, "IRONPOST_DAEMON_DIRECTORY", "/usr/libexec/ironpost");
build_setting!(
    /// Where the administrative commands live.
    COMMAND_DIRECTORY, "IRONPOST_COMMAND_DIRECTORY", "/usr/sbin");
build_setting!(
    /// The queue.
    QUEUE_DIRECTORY, "IRONPOST_QUEUE_DIRECTORY", "/var/spool/ironpost");
build_setting!(
    /// Writable state that is not mail (caches, the master lock).
    DATA_DIRECTORY, "IRONPOST_DATA_DIRECTORY", "/var/lib/ironpost");
build_setting!(
    /// Read-only files that describe the installation.
    META_DIRECTORY, "IRONPOST_META_DIRECTORY", "/etc/ironpost");
build_setting!(
    /// Shared libraries and plugins.
    SHLIB_DIRECTORY, "IRONPOST_SHLIB_DIRECTORY", "/usr/lib/ironpost");
build_setting!(
    /// The sendmail-compatible command.
    SENDMAIL_PATH, "IRONPOST_SENDMAIL_PATH", "/usr/sbin/sendmail");
build_setting!(
    /// The newaliases command.
    NEWALIASES_PATH, "IRONPOST_NEWALIASES_PATH", "/usr/bin/newaliases");
build_setting!(
    /// The mailq command.
    MAILQ_PATH, "IRONPOST_MAILQ_PATH", "/usr/bin/mailq");
build_setting!(
    /// Manual pages.
    MANPAGE_DIRECTORY, "IRONPOST_MANPAGE_DIRECTORY", "/usr/share/man");
build_setting!(
    /// Sample configuration files.
    SAMPLE_DIRECTORY, "IRONPOST_SAMPLE_DIRECTORY", "/etc/ironpost");
build_setting!(
    /// README files.
    README_DIRECTORY, "IRONPOST_README_DIRECTORY", "/usr/share/doc/ironpost");
build_setting!(
    /// HTML documentation.
    HTML_DIRECTORY, "IRONPOST_HTML_DIRECTORY", "/usr/share/doc/ironpost/html");

/// ironpost's version, reported as `mail_version`.
pub const MAIL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The release date of this version, reported as `mail_release_date`.
pub const MAIL_RELEASE_DATE: &str = "20261129";
