//! Debugging: debug_peer_list, debugger_command and helpful warnings.
//!
//! Postfix counterpart: global/mail_params.h (debugging), global/debug_peer.c.

crate::params! {
    /// Remote clients, servers or next-hop destinations for which verbose logging is raised by
    /// debug_peer_level. Give domain names, network/prefix patterns, /file/name or type:table
    /// entries separated by commas or whitespace; IPv6 addresses go in square brackets. Whether
    /// domains match subdomains follows parent_domain_matches_subdomains.
    "debug_peer_list" DEBUG_PEER_LIST: Str = "";
    /// Amount by which the verbose logging level is raised for peers that match debug_peer_list.
    /// Specify a positive integer; the default is 2.
    "debug_peer_level" DEBUG_PEER_LEVEL: Int = "2", min 1;
    /// Shell command run when a daemon is started with the -D option, to attach a debugger; it may
    /// refer to $process_name and $process_id and undergoes $name expansion, so write $$ for a
    /// literal dollar. End it with something like '& sleep 5' so the debugger can attach. If it is
    /// empty, -D is a fatal error.
    "debugger_command" DEBUGGER_COMMAND: Str = "";
    /// Whether warnings about questionable configuration are logged, together with suggestions for
    /// fixing them. Value is yes or no; the default is yes.
    "helpful_warnings" HELPFUL_WARNINGS: Bool = "yes";
    /// Whether the name of the recipient table that failed is included in User unknown replies.
    /// Value is yes or no; the default yes helps troubleshooting but reveals internal details to
    /// the client.
    "show_user_unknown_table_name" SHOW_USER_UNKNOWN_TABLE_NAME: Bool = "yes";
    /// What a daemon does when a lookup table cannot be opened: no (default) logs an error and
    /// keeps running with the affected features failing, yes logs a fatal error and exits, the
    /// historical behaviour. Value is yes or no. Added in Postfix 2.9.
    "daemon_table_open_error_is_fatal" DAEMON_TABLE_OPEN_ERROR_IS_FATAL: Bool = "no";
    /// Integer that forces particular internal operations to fail, used only to test error handling
    /// that is hard to trigger otherwise. Leave it at the default 0 on any production system.
    "fault_injection_code" FAULT_INJECTION_CODE: Int = "0";
}
