//! The local(8) and pipe(8) delivery agents' parameters (the address-related ones that
//! other programs also read, such as alias_maps and home_mailbox, are in address.rs).
//!
//! Postfix counterpart: global/mail_params.h, local/local.c and pipe/pipe.c tables.

crate::params! {
    /// Where the local delivery agent looks for a user's .forward file: a list of file
    /// names, the first one found is used. $user, $home, $shell, $recipient, $extension,
    /// $domain, $local, $recipient_delimiter and the ${name?value} forms are expanded per
    /// recipient. Added in Postfix 2.0.
    "forward_path" FORWARD_PATH: Raw = "$home/.forward${recipient_delimiter}${extension}, $home/.forward";
    /// Per-user mailbox commands, looked up with the bare user name; a result takes the
    /// place of mailbox_command. The default is empty. Added in Postfix 2.2.
    "mailbox_command_maps" MAILBOX_COMMAND_MAPS: Str = "";
    /// The master.cf transport to which the local delivery agent hands mailbox delivery,
    /// such as lmtp:unix:private/dovecot-lmtp. The default is empty (deliver itself).
    "mailbox_transport" MAILBOX_TRANSPORT: Str = "";
    /// Per-user mailbox transports, looked up with the bare user name, before
    /// mailbox_transport. The default is empty. Added in Postfix 2.3.
    "mailbox_transport_maps" MAILBOX_TRANSPORT_MAPS: Str = "";
    /// The master.cf transport for recipients that are not UNIX accounts, tried after
    /// luser_relay is not set. The default is empty.
    "fallback_transport" FALLBACK_TRANSPORT: Str = "";
    /// Per-user fallback transports, looked up with the bare user name, before
    /// fallback_transport. The default is empty. Added in Postfix 2.3.
    "fallback_transport_maps" FALLBACK_TRANSPORT_MAPS: Str = "";
    /// The address that receives mail for unknown local recipients, with the same $name
    /// expansions as forward_path. The default is empty: such mail bounces.
    "luser_relay" LUSER_RELAY: Raw = "";
    /// How long a delivery to an external command may run before it is killed. Specify a
    /// positive time with optional unit suffix s, m, h, d or w; the default is 1000s.
    "command_time_limit" COMMAND_TIME_LIMIT: Time(b's') = "1000s", min 1;
    /// The largest mailbox or maildir file the local delivery agent writes, in bytes; it
    /// must not be smaller than message_size_limit. 0 means no limit. The default is
    /// 51200000.
    "mailbox_size_limit" MAILBOX_SIZE_LIMIT: Long = "51200000", min 0;
    /// Where the local delivery agent allows deliveries to |command: any of alias, forward
    /// and include. The default is alias, forward.
    "allow_mail_to_commands" ALLOW_MAIL_TO_COMMANDS: Str = "alias, forward";
    /// Where the local delivery agent allows deliveries to /file/name: any of alias,
    /// forward and include. The default is alias, forward.
    "allow_mail_to_files" ALLOW_MAIL_TO_FILES: Str = "alias, forward";
    /// The shell for commands in aliases, .forward files and mailbox_command, such as
    /// /some/where/smrsh -c; empty (the default) runs a command line without a shell when
    /// it has no shell magic and with /bin/sh otherwise.
    "local_command_shell" LOCAL_COMMAND_SHELL: Str = "";
    /// The working directory for local commands, with the same $name expansions as
    /// forward_path; empty (the default) means the user's home directory when there is
    /// one. Added in Postfix 2.2.
    "command_execution_directory" COMMAND_EXECUTION_DIRECTORY: Raw = "";
    /// Whether an owner-alias' value instead of its name becomes the envelope sender of
    /// mail expanded through the alias. The default is no.
    "expand_owner_alias" EXPAND_OWNER_ALIAS: Bool = "no";
    /// Which local deliveries get a Delivered-To: header: any of command, file and forward
    /// (mailbox and maildir delivery always add one). The default is command, file, forward.
    "prepend_delivered_header" PREPEND_DELIVERED_HEADER: Str = "command, file, forward";
    /// Whether the local delivery agent notifies the biff service of new mail. The default
    /// is yes.
    "biff" BIFF: Bool = "yes";
    /// Whether delivery to a user whose home directory cannot be accessed is deferred
    /// (before looking for .forward). The default is no.
    "require_home_directory" REQUIRE_HOME_DIRECTORY: Bool = "no";
    /// Whether the Delivered-To: address stays the address before alias and .forward
    /// expansion (yes, the default) or becomes each intermediate address.
    "frozen_delivered_to" FROZEN_DELIVERED_TO: Bool = "yes";
    /// Whether an alias without its own owner- alias resets the owner set by an enclosing
    /// alias. The default is no.
    "reset_owner_alias" RESET_OWNER_ALIAS: Bool = "no";
    /// Whether delivery to a mailbox file that the recipient does not own is deferred. The
    /// default is yes.
    "strict_mailbox_ownership" STRICT_MAILBOX_OWNERSHIP: Bool = "yes";
    /// The characters allowed in $name expansions for commands; others become underscores.
    "command_expansion_filter" COMMAND_EXPANSION_FILTER: Str = "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    /// The characters allowed in $name expansions for forward_path; others become
    /// underscores.
    "forward_expansion_filter" FORWARD_EXPANSION_FILTER: Str = "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    /// The characters allowed in $name expansions for command_execution_directory; others
    /// become underscores.
    "execution_directory_expansion_filter" EXECUTION_DIRECTORY_EXPANSION_FILTER: Str = "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    /// Obsolete: whether only dot-locking locks the mailbox (use mailbox_delivery_lock =
    /// dotlock instead). The default is no.
    "sun_mailtool_compatibility" SUN_MAILTOOL_COMPATIBILITY: Bool = "no";
}
