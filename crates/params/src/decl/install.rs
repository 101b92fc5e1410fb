//! Where things are installed, who owns them, and the process environment.
//!
//! Postfix counterpart: global/mail_params.h (directories and accounts).

use crate::function_defaults;
use crate::install;

crate::params! {
    /// Directory that holds main.cf and master.cf. The value comes from the MAIL_CONFIG environment
    /// variable or a command's -c option, else the compiled-in default, so assigning it inside
    /// main.cf cannot change which main.cf is read. Set-gid commands accept a non-default directory
    /// only from root or when the default main.cf lists it in alternate_config_directories.
    "config_directory" CONFIG_DIRECTORY: Str = const(install::CONFIG_DIRECTORY);
    /// Absolute path of the directory with the daemon and helper programs that master starts; these
    /// are not meant to be run by hand. Root must own this directory. Its default is fixed when the
    /// software is built.
    "daemon_directory" DAEMON_DIRECTORY: Str = const(install::DAEMON_DIRECTORY), min 1;
    /// Absolute path of the directory where the administrative commands (postfix, postconf,
    /// postmap, postqueue, postsuper and friends) are installed. The default is chosen at build
    /// time.
    "command_directory" COMMAND_DIRECTORY: Str = const(install::COMMAND_DIRECTORY), min 1;
    /// Absolute path of the top-level mail queue directory; daemons that run chrooted use it as
    /// their new root. The master process ignores a changed value on reload and logs a warning, so
    /// a full stop and start is needed for it to take effect.
    "queue_directory" QUEUE_DIRECTORY: Str = const(install::QUEUE_DIRECTORY), min 1;
    /// Absolute path of the directory for files that the mail system itself writes, such as caches
    /// and saved random seed data. It must be owned by the mail_owner account and must not be
    /// shared with other software. Added in Postfix 2.5.
    "data_directory" DATA_DIRECTORY: Str = const(install::DATA_DIRECTORY), min 1;
    /// Absolute path of the directory with non-executable files shared by all instances, such as
    /// postfix-files, dynamicmaps.cf and the main.cf.proto and master.cf.proto templates; it
    /// normally equals the config directory. Keep only mail system files there. Added in Postfix
    /// 3.0.
    "meta_directory" META_DIRECTORY: Str = const(install::META_DIRECTORY), min 1;
    /// Absolute path of the directory with the shared libpostfix libraries and with database
    /// plugins named by relative path in dynamicmaps.cf, or 'no' when dynamic linking was disabled
    /// at build time. If the libraries are moved away from the compiled-in location, ldconfig or an
    /// equivalent may be required. Added in Postfix 3.0.
    "shlib_directory" SHLIB_DIRECTORY: Str = const(install::SHLIB_DIRECTORY), min 1;
    /// Absolute pathname of the Sendmail-compatible sendmail command, which local programs use to
    /// submit mail into the queue. Installation and the postfix check and set-permissions
    /// procedures use it; mail handling itself does not.
    "sendmail_path" SENDMAIL_PATH: Str = const(install::SENDMAIL_PATH), min 1;
    /// Absolute pathname of the Sendmail-compatible newaliases command, which rebuilds the indexed
    /// alias databases listed in alias_database. Installation and the postfix check and set-
    /// permissions procedures use it; mail handling itself does not.
    "newaliases_path" NEWALIASES_PATH: Str = const(install::NEWALIASES_PATH), min 1;
    /// Absolute pathname of the Sendmail-compatible mailq command, which lists the contents of the
    /// mail queue. Installation and the postfix check and set-permissions procedures use it; mail
    /// handling itself does not.
    "mailq_path" MAILQ_PATH: Str = const(install::MAILQ_PATH), min 1;
    /// Directory under which the manual pages are installed. Installation and the postfix check and
    /// set-permissions procedures use it; mail handling itself does not.
    "manpage_directory" MANPAGE_DIRECTORY: Str = const(install::MANPAGE_DIRECTORY), min 1;
    /// Directory that held example configuration files in old releases; the examples have since
    /// been replaced by the postconf(5) manual page. Only installation procedures use the value;
    /// the default is /etc/postfix.
    "sample_directory" SAMPLE_DIRECTORY: Str = const(install::SAMPLE_DIRECTORY), min 1;
    /// Directory for the plain-text README documents, or 'no' when they are not installed.
    /// Installation and the postfix check and set-permissions procedures use it; mail handling
    /// itself does not.
    "readme_directory" README_DIRECTORY: Str = const(install::README_DIRECTORY), min 1;
    /// Directory for the HTML documentation, or 'no' (the default) when no HTML files are
    /// installed. Installation and the postfix check and set-permissions procedures use it; mail
    /// handling itself does not. Added in Postfix 2.1.
    "html_directory" HTML_DIRECTORY: Str = const(install::HTML_DIRECTORY), min 1;
    /// Name of the unprivileged system account that owns the queue and runs most daemons. Use a
    /// dedicated user and group that own nothing else; never nobody or daemon. After changing it,
    /// run 'postfix set-permissions' so that file ownership matches.
    "mail_owner" MAIL_OWNER: Str = "postfix", min 1;
    /// Name of the group that owns the set-gid submission commands (postdrop, postqueue) and the
    /// group-writable queue directories such as maildrop and public. It must be a dedicated group,
    /// postdrop by default. After changing it, run 'postfix set-permissions'.
    "setgid_group" SETGID_GROUP: Str = "postdrop", min 1;
    /// Account whose rights the local delivery agent uses for delivery to files and commands when
    /// the request comes from a root-owned alias file or when delivering on behalf of root. It must
    /// name an unprivileged user, never root or the mail_owner account.
    "default_privs" DEFAULT_PRIVS: Str = "nobody", min 1;
    /// Read-only version string of the running mail system, for example 3.9.1; development
    /// snapshots also carry their release date. It can be referenced as $mail_version in other
    /// settings, such as the SMTP greeting, and setting it in main.cf has no useful effect.
    "mail_version" MAIL_VERSION: Str = const(install::MAIL_VERSION), min 1;
    /// Read-only release date of the running software, written as YYYYMMDD. It is informational and
    /// can be referenced as $mail_release_date; it should not be set in main.cf.
    "mail_release_date" MAIL_RELEASE_DATE: Str = const(install::MAIL_RELEASE_DATE), min 1;
    /// Environment variables that privileged processes keep from a non-mail-system parent; all
    /// others are removed. Give names or name=value pairs separated by whitespace or commas; a
    /// name=value entry forces that value, and braces around an entry protect embedded spaces or
    /// commas (Postfix 3.0 and later). Removing MAIL_CONFIG breaks 'postfix -c'.
    "import_environment" IMPORT_ENVIRONMENT: Str =
        "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME";
    /// Environment variables that are passed on to external programs such as pipe commands and
    /// mailbox_command. Give names or name=value pairs separated by whitespace or commas; braces
    /// around an entry protect embedded spaces or commas (Postfix 3.0 and later). Keep TZ so that
    /// children report correct local time.
    "export_environment" EXPORT_ENVIRONMENT: Str = "TZ MAIL_CONFIG LANG";
    /// Read-only parameter holding the numeric process ID of the current command or daemon. It
    /// exists so that other settings, notably debugger_command, can refer to $process_id; it cannot
    /// be set in main.cf.
    "process_id" PROCESS_ID: Str = fn(function_defaults::process_id);
    /// Read-only parameter holding the name of the current command or daemon, such as smtpd or
    /// cleanup. It exists so that other settings, notably debugger_command, can refer to
    /// $process_name; it cannot be set in main.cf.
    "process_name" PROCESS_NAME: Str = fn(function_defaults::process_name);
    /// Directory, relative to queue_directory, where the PID lock files of the master and other
    /// processes are kept (pid by default). Treat it as read-only.
    "process_id_directory" PROCESS_ID_DIRECTORY: Str = "pid", min 1;
}
