//! Logging: syslog, maillog_file and the postlog service.
//!
//! Postfix counterpart: global/mail_params.h (logging), global/maillog_client.c.

crate::params! {
    /// Prefix placed before the program name in log records, giving for example postfix/smtpd. The
    /// default is postfix, or the multi_instance_name when one is set. A non-default value only
    /// applies once a process has read its configuration, so early errors still use the default
    /// name.
    "syslog_name" SYSLOG_NAME: Str =
        "${multi_instance_name?{$multi_instance_name}:{postfix}}", min 1;
    /// Syslog facility used for logging, one of the names known to syslog.conf; the default is
    /// mail. A non-default value only applies once a process has read its configuration, so early
    /// errors still use the default facility.
    "syslog_facility" SYSLOG_FACILITY: Str = "mail", min 1;
    /// Optional file that the postlogd service writes log records to instead of syslog, or
    /// /dev/stdout for foreground operation with postfix start-fg. Empty means log to syslog. The
    /// path must start with a prefix listed in maillog_file_prefixes. Added in Postfix 3.4.
    "maillog_file" MAILLOG_FILE: Str = "";
    /// Allowed path prefixes for maillog_file, a guard against logging into an unintended file.
    /// Give prefixes separated by commas or whitespace; the default is /var, /dev/stdout. Added in
    /// Postfix 3.4.
    "maillog_file_prefixes" MAILLOG_FILE_PREFIXES: Str = "/var, /dev/stdout", min 1;
    /// strftime format of the suffix appended to maillog_file when postfix logrotate rotates it.
    /// The default %Y%m%d-%H%M%S gives a date and time stamp, allowing several rotations per day.
    /// Added in Postfix 3.4.
    "maillog_file_rotate_suffix" MAILLOG_FILE_ROTATE_SUFFIX: Str = "%Y%m%d-%H%M%S", min 1;
    /// Program run on a rotated maillog_file after postfix logrotate, with the rotated file name as
    /// its argument. The default is gzip. Added in Postfix 3.4.
    "maillog_file_compressor" MAILLOG_FILE_COMPRESSOR: Str = "gzip", min 1;
    /// Name of the master.cf service of the postlogd daemon, which writes records to maillog_file.
    /// The default is postlog. Added in Postfix 3.4.
    "postlog_service_name" POSTLOG_SERVICE_NAME: Str = "postlog", min 1;
    /// Watchdog limit on how long a postlogd process may take for one request before it is killed.
    /// Specify a time of at least 10s with optional unit suffix s, m, h, d or w (default unit
    /// seconds); the default is 10s. Added in Postfix 3.4.
    "postlogd_watchdog_timeout" POSTLOGD_WATCHDOG_TIMEOUT: Time(b's') = "10s", min 10;
    /// Optional name of this instance in a multi-instance setup, managed by postmulti. When set it
    /// is also the default for syslog_name. Added in Postfix 2.6.
    "multi_instance_name" MULTI_INSTANCE_NAME: Str = "";
    /// Whether a multi-instance manager such as postmulti may start, stop and otherwise control
    /// this instance. Value is yes or no; the default no keeps new instances from starting by
    /// accident. Leave it to the instance manager to change. Added in Postfix 2.6.
    "multi_instance_enable" MULTI_INSTANCE_ENABLE: Bool = "no";
    /// How addresses appear in informational log records (from=, to=, orig_to=):
    /// external (quoted as in mail headers, "a b"@example.com) or internal (as stored, a
    /// b@example.com). Added in Postfix 3.5.
    "info_log_address_format" INFO_LOG_ADDRESS_FORMAT: Str = "external", min 1;
}
