//! The SMTP server: limits, timeouts and restrictions.
//!
//! Postfix counterpart: global/mail_params.h (smtpd_*), smtpd/smtpd.c tables.

crate::params! {
    /// Text sent after the 220 code in the SMTP greeting. It must begin with $myhostname, as the
    /// protocol requires. The default $myhostname ESMTP $mail_name hides the version; add
    /// $mail_version only if you want to advertise it.
    "smtpd_banner" SMTPD_BANNER: Str = "$myhostname ESMTP $mail_name", min 1;
    /// Time limit for each network read or write of the SMTP server while it waits for a client
    /// request or sends a reply. Specify a time with optional unit suffix s, m, h, d or w (default
    /// unit seconds). The default is 300s, or 10s when the server runs under stress; very large
    /// values may also require a larger ipc_timeout.
    "smtpd_timeout" SMTPD_TIMEOUT: Time(b's') = "${stress?{10}:{300}}s", min 1;
    /// Delay added by the SMTP server to each reply once a client has made more than
    /// smtpd_soft_error_limit errors (and fewer than smtpd_hard_error_limit) without delivering
    /// mail. Specify a time with optional unit suffix s, m, h, d or w (default unit seconds); the
    /// default is 1s.
    "smtpd_error_sleep_time" SMTPD_ERROR_SLEEP_TIME: Time(b's') = "1s";
    /// Number of errors a client may make without delivering mail before the SMTP server starts
    /// delaying each reply by smtpd_error_sleep_time. Specify a positive integer; the default is
    /// 10.
    "smtpd_soft_error_limit" SMTPD_SOFT_ERROR_LIMIT: Int = "10", min 1;
    /// Number of errors a client may make without delivering mail before the SMTP server
    /// disconnects. Specify a positive integer. The default is 20, dropping to 1 when the server
    /// runs under stress.
    "smtpd_hard_error_limit" SMTPD_HARD_ERROR_LIMIT: Int = "${stress?{1}:{20}}", min 1;
    /// Number of NOOP, VRFY, ETRN or RSET commands a client may send before each further one counts
    /// as an error; the count restarts after a delivered message. Specify a positive integer. The
    /// default is 100, dropping to 1 when the server runs under stress.
    "smtpd_junk_command_limit" SMTPD_JUNK_COMMAND_LIMIT: Int = "${stress?{1}:{100}}", min 1;
    /// Number of lines of session transcript the SMTP server keeps before it flushes them at
    /// the end of a transaction (HELO, EHLO, RSET, end of message), mailing them to the
    /// postmaster first when the session had errors of a class in notify_classes. The
    /// default is 100.
    "smtpd_history_flush_threshold" SMTPD_HISTORY_FLUSH_THRESHOLD: Int = "100", min 1;
    /// Largest number of recipients the SMTP server accepts for one message; further RCPT TO
    /// commands get a temporary error. Specify a positive integer; the default is 1000.
    "smtpd_recipient_limit" SMTPD_RECIPIENT_LIMIT: Int = "1000", min 1;
    /// Access restrictions evaluated for the client connection, based on the client name and
    /// address. Give restrictions such as permit_mynetworks, reject_unknown_client_hostname or
    /// check_client_access type:table, separated by commas or whitespace; they are tried in order
    /// and the first decisive one wins. Empty allows all clients; with smtpd_delay_reject they run
    /// at RCPT TO.
    "smtpd_client_restrictions" SMTPD_CLIENT_RESTRICTIONS: Str = "";
    /// Access restrictions evaluated for the HELO or EHLO hostname, such as
    /// reject_invalid_helo_hostname or check_helo_access type:table, separated by commas or
    /// whitespace and tried in order. Empty permits everything. Clients can skip these by not
    /// sending HELO unless smtpd_helo_required is yes.
    "smtpd_helo_restrictions" SMTPD_HELO_RESTRICTIONS: Str = "";
    /// Access restrictions evaluated for the MAIL FROM address, such as
    /// reject_unknown_sender_domain or check_sender_access type:table, separated by commas or
    /// whitespace and tried in order. Empty permits everything; with smtpd_delay_reject they are
    /// evaluated at RCPT TO.
    "smtpd_sender_restrictions" SMTPD_SENDER_RESTRICTIONS: Str = "";
    /// Relay control restrictions checked at RCPT TO, before smtpd_recipient_restrictions. At
    /// compatibility level 1 or higher the default permits mynetworks and SASL-authenticated
    /// clients and defers mail to foreign domains; below that it is empty. This list or
    /// smtpd_recipient_restrictions must contain a reject or defer rule such as
    /// reject_unauth_destination, or nothing is accepted. Added in Postfix 2.10.
    "smtpd_relay_restrictions" SMTPD_RELAY_RESTRICTIONS: Str =
        "${{$compatibility_level} <level {1} ? {} : {permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination}}";
    /// Access restrictions evaluated for each RCPT TO address, after smtpd_relay_restrictions;
    /// mostly used for spam policy such as check_recipient_access or reject_rbl_client. Give
    /// restrictions separated by commas or whitespace, tried in order. The default is empty; when
    /// smtpd_relay_restrictions is empty, this list must itself block unauthorized relaying.
    "smtpd_recipient_restrictions" SMTPD_RECIPIENT_RESTRICTIONS: Str = "";
    /// Access restrictions evaluated when the client sends DATA, such as reject_unauth_pipelining
    /// or reject_multi_recipient_bounce. Give restrictions separated by commas or whitespace, tried
    /// in order. Recipient-based checks only act when the message has exactly one recipient.
    "smtpd_data_restrictions" SMTPD_DATA_RESTRICTIONS: Str = "";
    /// Access restrictions evaluated after the client has sent the complete message content, when
    /// the message size is known, for example check_policy_service. Same syntax and limits as
    /// smtpd_data_restrictions. Added in Postfix 2.2.
    "smtpd_end_of_data_restrictions" SMTPD_END_OF_DATA_RESTRICTIONS: Str = "";
    /// Access restrictions evaluated for the ETRN command, such as permit_mynetworks, reject or
    /// check_etrn_access type:table, separated by commas or whitespace and tried in order. Only
    /// destinations eligible for the fast flush service can be flushed with ETRN anyway.
    "smtpd_etrn_restrictions" SMTPD_ETRN_RESTRICTIONS: Str = "";
    /// Whether clients must send HELO or EHLO before MAIL FROM and other commands that need it.
    /// Value is yes or no; the default is no. Enable it so that smtpd_helo_restrictions cannot be
    /// bypassed.
    "smtpd_helo_required" SMTPD_HELO_REQUIRED: Bool = "no";
    /// Whether client, HELO and sender restrictions are postponed until RCPT TO (or ETRN), instead
    /// of being applied at their own command. Value is yes or no; the default yes works around
    /// clients that misbehave on early rejects and lets the log show the recipient of rejected
    /// mail.
    "smtpd_delay_reject" SMTPD_DELAY_REJECT: Bool = "yes";
    /// Names of user-defined restriction classes. Each name is itself defined as a main.cf
    /// parameter holding a restriction list, and can then be used in the smtpd restriction lists or
    /// as the result of an access table lookup, for example for per-recipient policies. Give names
    /// separated by commas or whitespace.
    "smtpd_restriction_classes" SMTPD_RESTRICTION_CLASSES: Str = "";
    /// Optional text appended to every 4XX and 5XX reply of the SMTP server, for example a help
    /// desk contact. It is not subject to normal $name expansion but understands $client_address,
    /// $client_port, $localtime and $server_name; a leading backslash-c joins it to the reply line
    /// and backslash-n breaks lines. Keep it short. Added in Postfix 2.8.
    "smtpd_reject_footer" SMTPD_REJECT_FOOTER: Raw = "";
    /// Whether the SMTP VRFY command is disabled, which hinders harvesting of valid addresses.
    /// Value is yes or no; the default is no.
    "disable_vrfy_command" DISABLE_VRFY_COMMAND: Bool = "no";
    /// Whether MAIL FROM and RCPT TO addresses must be enclosed in angle brackets and free of RFC
    /// 822 comments and phrases. Value is yes or no; the default no accepts the looser syntax that
    /// much software sends.
    "strict_rfc821_envelopes" STRICT_RFC821_ENVELOPES: Bool = "no";
    /// Whether the SMTP server logs the client TCP port along with its name and address, in the
    /// form host[address]:port. Value is yes or no; the default is no. Added in Postfix 2.5.
    "smtpd_client_port_logging" SMTPD_CLIENT_PORT_LOGGING: Bool = "no";
    /// Longest line, in bytes, that is stored as one record when mail is received; longer lines are
    /// split and joined again on delivery. Specify an integer of at least 512; the default is 2048.
    "line_length_limit" LINE_LENGTH_LIMIT: Int = "2048", min 512;
    /// Largest message size in bytes, envelope included, that is accepted; 0 means no limit. The
    /// SMTP server advertises it with EHLO SIZE. Do not set it too low, or bounce messages that
    /// include the original may themselves be rejected and lost.
    "message_size_limit" MESSAGE_SIZE_LIMIT: Long = "10240000";
    /// Largest amount of memory in bytes for one message header; the cleanup daemon drops any
    /// header text beyond it. Specify a positive integer; the default is 102400.
    "header_size_limit" HEADER_SIZE_LIMIT: Int = "102400", min 1;
    /// How the SMTP server treats input lines ending in a bare LF instead of CRLF, a defence
    /// against SMTP smuggling. Values: normalize (default; require the standard end-of-data
    /// sequence but accept bare LF elsewhere), note (same, and log it), yes (alias for normalize),
    /// reject, or no. Added in Postfix 3.9 and backported to patch releases of 3.5 to 3.8.
    "smtpd_forbid_bare_newline" SMTPD_FORBID_BARE_NEWLINE: Str = "no", min 1;
    /// Names of permit actions in SMTP access restrictions that should be logged; by default only
    /// reject actions are logged. Give action names, /file/name patterns or type:table lookups
    /// separated by commas or whitespace, for example static:all to log every permit. Added in
    /// Postfix 2.10.
    "smtpd_log_access_permit_actions" SMTPD_LOG_ACCESS_PERMIT_ACTIONS: Str = "";
    /// Whether the SMTP server looks up the client's name (reverse lookup, confirmed by a
    /// forward lookup). Value is yes or no; with no the name is always "unknown". The default is
    /// yes. Added in Postfix 2.3.
    "smtpd_peername_lookup" SMTPD_PEERNAME_LOOKUP: Bool = "yes";
    /// Number of recipients past smtpd_recipient_limit that are refused without counting as an
    /// error; further ones count toward smtpd_hard_error_limit. Specify a positive integer; the
    /// default is 1000. Added in Postfix 2.2.
    "smtpd_recipient_overshoot_limit" SMTPD_RECIPIENT_OVERSHOOT_LIMIT: Int = "1000", min 1;
    /// Whether the SMTP server waits for the first accepted recipient before it opens a queue
    /// file (and logs the QUEUEID: client= line). Value is yes or no; the default is yes.
    "smtpd_delay_open_until_valid_rcpt" SMTPD_DELAY_OPEN_UNTIL_VALID_RCPT: Bool = "yes";
    /// Whether recipients that are not listed in the recipient tables of their address class
    /// are refused even when no restriction says reject_unlisted_recipient. Value is yes or no;
    /// the default is yes. Added in Postfix 2.1.
    "smtpd_reject_unlisted_recipient" SMTPD_REJECT_UNLISTED_RECIPIENT: Bool = "yes";
    /// Whether senders that are not listed in the recipient tables of their address class are
    /// refused even when no restriction says reject_unlisted_sender. Value is yes or no; the
    /// default is no. Added in Postfix 2.1.
    "smtpd_reject_unlisted_sender" SMTPD_REJECT_UNLISTED_SENDER: Bool = "no";
    /// The lookup key that access tables see for the null sender address <>. The default is <>.
    "smtpd_null_access_lookup_key" SMTPD_NULL_ACCESS_LOOKUP_KEY: Str = "<>";
    /// Reply code for a REJECT result of an access table. The default is 554.
    "access_map_reject_code" ACCESS_MAP_REJECT_CODE: Int = "554";
    /// Reply code for a DEFER result of an access table. The default is 450.
    "access_map_defer_code" ACCESS_MAP_DEFER_CODE: Int = "450";
    /// Reply code for the reject restriction. The default is 554.
    "reject_code" REJECT_CODE: Int = "554";
    /// Reply code for the defer restriction. The default is 450.
    "defer_code" DEFER_CODE: Int = "450";
    /// Reply code when reject_plaintext_session refuses a session without TLS. The default
    /// is 450.
    "plaintext_reject_code" PLAINTEXT_REJECT_CODE: Int = "450";
    /// Reply code when reject_multi_recipient_bounce refuses a null-sender message with
    /// more than one recipient. The default is 550.
    "multi_recipient_bounce_reject_code" MULTI_RECIPIENT_BOUNCE_REJECT_CODE: Int = "550";
    /// Reply code when reject_unauth_destination refuses a recipient. The default is 554.
    "relay_domains_reject_code" RELAY_DOMAINS_REJECT_CODE: Int = "554";
    /// Reply code for the reject_non_fqdn_* restrictions. The default is 504.
    "non_fqdn_reject_code" NON_FQDN_REJECT_CODE: Int = "504";
    /// Reply code for reject_invalid_helo_hostname. The default is 501.
    "invalid_hostname_reject_code" INVALID_HOSTNAME_REJECT_CODE: Int = "501";
    /// Reply code for a recipient in a local domain that local_recipient_maps does not list.
    /// The default is 550.
    "unknown_local_recipient_reject_code" UNKNOWN_LOCAL_RECIPIENT_REJECT_CODE: Int = "550";
    /// Reply code for a recipient in a relay domain that relay_recipient_maps does not list.
    /// The default is 550.
    "unknown_relay_recipient_reject_code" UNKNOWN_RELAY_RECIPIENT_REJECT_CODE: Int = "550";
    /// Reply code for a recipient in a virtual alias domain that virtual_alias_maps does not
    /// list. The default is 550.
    "unknown_virtual_alias_reject_code" UNKNOWN_VIRTUAL_ALIAS_REJECT_CODE: Int = "550";
    /// Reply code for a recipient in a virtual mailbox domain that virtual_mailbox_maps does not
    /// list. The default is 550.
    "unknown_virtual_mailbox_reject_code" UNKNOWN_VIRTUAL_MAILBOX_REJECT_CODE: Int = "550";
    /// Tables of the valid recipients in relay_domains; empty means every address is valid.
    /// Give type:table lookups separated by commas or whitespace.
    "relay_recipient_maps" RELAY_RECIPIENT_MAPS: Str = "";
    /// Tables of client certificate (or public key) fingerprints that
    /// permit_tls_clientcerts lets relay, computed with smtpd_tls_fingerprint_digest.
    /// Give type:table lookups separated by commas or whitespace; the default is none.
    "relay_clientcerts" RELAY_CLIENTCERTS: Str = "";
    /// Whether the SMTP server refuses an SMTPUTF8 address or header unless the client asked
    /// for SMTPUTF8. Value is yes or no; the default is no.
    "strict_smtputf8" STRICT_SMTPUTF8: Bool = "no";
    /// EHLO keywords the SMTP server does not announce and whose commands it refuses, such as
    /// pipelining or dsn, separated by commas or whitespace; "silent-discard" hides the log line.
    "smtpd_discard_ehlo_keywords" SMTPD_DISCARD_EHLO_KEYWORDS: Str = "";
    /// Reply code when smtpd_forbid_bare_newline = reject refuses a bare LF. The default is 550.
    "smtpd_forbid_bare_newline_reject_code" SMTPD_FORBID_BARE_NEWLINE_REJECT_CODE: Int = "550";
    /// Clients exempt from smtpd_forbid_bare_newline: network/netmask patterns, host names,
    /// /file/name or type:table. The default is $mynetworks.
    "smtpd_forbid_bare_newline_exclusions" SMTPD_FORBID_BARE_NEWLINE_EXCLUSIONS: Str = "$mynetworks";
    /// Whether the SMTP server disconnects a client that sends commands before it was allowed
    /// to (improper pipelining). Value is yes or no; the default is no.
    "smtpd_forbid_unauth_pipelining" SMTPD_FORBID_UNAUTH_PIPELINING: Bool = "no";
    /// Destinations eligible for the fast flush service (ETRN and sendmail -qR): domain names,
    /// /file/name patterns or type:table lookups. The default is $relay_domains.
    "fast_flush_domains" FAST_FLUSH_DOMAINS: Str = "$relay_domains";
    /// Clients whose message headers get local rewriting (myorigin and mydomain appended to
    /// incomplete addresses, missing From:, Date: and Message-Id: added): permit_inet_interfaces,
    /// permit_mynetworks, permit_sasl_authenticated, check_address_map type:table, or a
    /// type:table of client addresses. The default is permit_inet_interfaces.
    "local_header_rewrite_clients" LOCAL_HEADER_REWRITE_CLIENTS: Str = "permit_inet_interfaces";
    /// Reply code for reject_unknown_client_hostname and reject_unknown_reverse_client_hostname
    /// when the name is missing or forged (a temporary lookup failure always gets 450). The
    /// default is 450.
    "unknown_client_reject_code" UNKNOWN_CLIENT_REJECT_CODE: Int = "450";
    /// The name of the fast flush service (ETRN, sendmail -qR). The default is flush.
    "flush_service_name" FLUSH_SERVICE_NAME: Str = "flush";
    /// Whether smtpd_relay_restrictions are evaluated before smtpd_recipient_restrictions (yes,
    /// from compatibility level 3.6) or after them. Added in Postfix 3.6.
    "smtpd_relay_before_recipient_restrictions" SMTPD_RELAY_BEFORE_RECIPIENT_RESTRICTIONS: Bool =
        "${{$compatibility_level} <level {3.6} ? {no} : {yes}}";
    /// Commands the SMTP server answers with 250 Ok and otherwise ignores (they count toward
    /// smtpd_junk_command_limit). Give command names, /file/name patterns or type:table lookups;
    /// the default is empty. Added in Postfix 2.7.
    "smtpd_noop_commands" SMTPD_NOOP_COMMANDS: Str = "";
    /// Commands that make the SMTP server end the session at once, because they show that the
    /// client is no mail client (a web proxy, an HTTP client, a header sent as a command). The
    /// default CONNECT GET POST regexp:{{/^[^A-Z]/ Bogus}} also catches anything not starting
    /// with a letter. Added in Postfix 2.2.
    "smtpd_forbidden_commands" SMTPD_FORBIDDEN_COMMANDS: Str = "CONNECT GET POST regexp:{{/^[^A-Z]/ Bogus}}";
    /// Time limit for connecting to a check_policy_service server, sending it a request and
    /// receiving its reply. Specify a time with optional unit suffix; the default is 100s.
    /// Added in Postfix 2.1.
    "smtpd_policy_service_timeout" SMTPD_POLICY_SERVICE_TIMEOUT: Time(b's') = "100s", min 1;
    /// Time after which an idle connection to a policy server is closed. The default is 300s.
    /// Added in Postfix 2.1.
    "smtpd_policy_service_max_idle" SMTPD_POLICY_SERVICE_MAX_IDLE: Time(b's') = "300s", min 1;
    /// Time after which a connection to a policy server is closed even when it is busy. The
    /// default is 1000s. Added in Postfix 2.1.
    "smtpd_policy_service_max_ttl" SMTPD_POLICY_SERVICE_MAX_TTL: Time(b's') = "1000s", min 1;
    /// Largest number of requests sent over one connection to a policy server before it is
    /// closed; 0 means no limit (the default). Added in Postfix 3.0.
    "smtpd_policy_service_request_limit" SMTPD_POLICY_SERVICE_REQUEST_LIMIT: Int = "0", min 0;
    /// Number of attempts to send a request to a policy server before giving up with
    /// smtpd_policy_service_default_action. The default is 2. Added in Postfix 3.0.
    "smtpd_policy_service_try_limit" SMTPD_POLICY_SERVICE_TRY_LIMIT: Int = "2", min 1;
    /// Time to wait between attempts to reach a policy server. The default is 1s. Added in
    /// Postfix 3.0.
    "smtpd_policy_service_retry_delay" SMTPD_POLICY_SERVICE_RETRY_DELAY: Time(b's') = "1s", min 1;
    /// What to do when a policy server cannot be reached or gives no action: an access table
    /// action. The default "451 4.3.5 Server configuration problem" defers the request.
    /// Added in Postfix 3.0.
    "smtpd_policy_service_default_action" SMTPD_POLICY_SERVICE_DEFAULT_ACTION: Str =
        "451 4.3.5 Server configuration problem", min 1;
    /// Text sent to policy servers as the policy_context attribute, so that one server can
    /// tell apart the restriction lists that call it. The default is empty. Added in Postfix
    /// 3.1.
    "smtpd_policy_service_policy_context" SMTPD_POLICY_SERVICE_POLICY_CONTEXT: Str = "";
    /// Largest number of simultaneous connections one client may make to this SMTP service
    /// (counted by anvil); 0 means no limit. Clients in smtpd_client_event_limit_exceptions
    /// are exempt. The default is 50. Added in Postfix 2.2.
    "smtpd_client_connection_count_limit" SMTPD_CLIENT_CONNECTION_COUNT_LIMIT: Int = "50", min 0;
    /// Largest number of connections one client may make to this service per
    /// anvil_rate_time_unit; 0 (the default) means no limit. Added in Postfix 2.2.
    "smtpd_client_connection_rate_limit" SMTPD_CLIENT_CONNECTION_RATE_LIMIT: Int = "0", min 0;
    /// Largest number of MAIL FROM requests one client may send per anvil_rate_time_unit; 0
    /// (the default) means no limit. Added in Postfix 2.3.
    "smtpd_client_message_rate_limit" SMTPD_CLIENT_MESSAGE_RATE_LIMIT: Int = "0", min 0;
    /// Largest number of RCPT TO requests one client may send per anvil_rate_time_unit,
    /// accepted or not; 0 (the default) means no limit. Added in Postfix 2.3.
    "smtpd_client_recipient_rate_limit" SMTPD_CLIENT_RECIPIENT_RATE_LIMIT: Int = "0", min 0;
    /// Largest number of new (not resumed) TLS sessions one client may negotiate per
    /// anvil_rate_time_unit; 0 (the default) means no limit. Added in Postfix 2.3.
    "smtpd_client_new_tls_session_rate_limit" SMTPD_CLIENT_NEW_TLS_SESSION_RATE_LIMIT: Int = "0", min 0;
    /// Largest number of AUTH commands one client may send per anvil_rate_time_unit; 0 (the
    /// default) means no limit. Added in Postfix 3.1.
    "smtpd_client_auth_rate_limit" SMTPD_CLIENT_AUTH_RATE_LIMIT: Int = "0", min 0;
    /// Clients that the connection count and rate limits do not apply to: network/netmask
    /// patterns, host names, /file/name or type:table. The default is $mynetworks (or the old
    /// smtpd_client_connection_limit_exceptions when set). Added in Postfix 2.2.
    "smtpd_client_event_limit_exceptions" SMTPD_CLIENT_EVENT_LIMIT_EXCEPTIONS: Str =
        "${smtpd_client_connection_limit_exceptions:$mynetworks}";
    /// The reply template for a client, name or address on a DNS block list, used unless
    /// rbl_reply_maps has one for the list. $rbl_code, $rbl_class, $rbl_what, $rbl_domain and
    /// $rbl_reason (the list's TXT record) are expanded; it is not subject to normal $name
    /// expansion. Added in Postfix 2.0.
    "default_rbl_reply" DEFAULT_RBL_REPLY: Raw =
        "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}";
    /// The $rbl_code of DNS block list replies. The default is 554.
    "maps_rbl_reject_code" MAPS_RBL_REJECT_CODE: Int = "554";
    /// The DNS block lists of the deprecated reject_maps_rbl restriction, separated by commas
    /// or whitespace; use reject_rbl_client domain-name instead. The default is empty.
    "maps_rbl_domains" MAPS_RBL_DOMAINS: Str = "";
    /// Whether an untrusted client may send mail with sender-specified routing
    /// (user@domain@domain, user%domain@domain, site!user@domain) to destinations that
    /// permit_auth_destination, reject_unauth_destination, permit_mx_backup and recipient
    /// access tables would otherwise let through. Value is yes or no; the default is no.
    "allow_untrusted_routing" ALLOW_UNTRUSTED_ROUTING: Bool = "no";
    /// Tables of reply templates by DNS block list domain (with its =pattern, if any); a
    /// list not in them gets default_rbl_reply. Added in Postfix 2.0.
    "rbl_reply_maps" RBL_REPLY_MAPS: Str = "";
    /// Reply code for reject_unknown_helo_hostname when the HELO name has no A, AAAA or MX
    /// record. The default is 450.
    "unknown_hostname_reject_code" UNKNOWN_HOSTNAME_REJECT_CODE: Int = "450";
    /// Reply code for reject_unknown_sender_domain and reject_unknown_recipient_domain when
    /// the domain has no MX, A or AAAA record. The default is 450.
    "unknown_address_reject_code" UNKNOWN_ADDRESS_REJECT_CODE: Int = "450";
    /// What a temporary DNS failure does in restrictions that look names up: defer_if_permit
    /// (the default: defer unless a later restriction rejects) or defer (at once). Added in
    /// Postfix 2.6.
    "reject_tempfail_action" REJECT_TEMPFAIL_ACTION: Str = "defer_if_permit";
    /// reject_tempfail_action for reject_unknown_helo_hostname. Added in Postfix 2.6.
    "unknown_helo_hostname_tempfail_action" UNKNOWN_HELO_HOSTNAME_TEMPFAIL_ACTION: Str =
        "$reject_tempfail_action";
    /// reject_tempfail_action for reject_unknown_sender_domain and
    /// reject_unknown_recipient_domain. Added in Postfix 2.6.
    "unknown_address_tempfail_action" UNKNOWN_ADDRESS_TEMPFAIL_ACTION: Str =
        "$reject_tempfail_action";
    /// Reply code for reject_unverified_recipient when the address bounces (a probe failed
    /// for good). The default is 450. Added in Postfix 2.6.
    "unverified_recipient_reject_code" UNVERIFIED_RECIPIENT_REJECT_CODE: Int = "450";
    /// Reply code for reject_unverified_recipient while the address is being probed or its
    /// probe was deferred. The default is 450. Added in Postfix 2.6.
    "unverified_recipient_defer_code" UNVERIFIED_RECIPIENT_DEFER_CODE: Int = "450";
    /// The text of a reject_unverified_recipient refusal instead of the verify service's
    /// reason; empty (the default) gives the service's. Added in Postfix 2.6.
    "unverified_recipient_reject_reason" UNVERIFIED_RECIPIENT_REJECT_REASON: Str = "";
    /// reject_tempfail_action for reject_unverified_recipient when the verify service
    /// fails or the probe is in progress. Added in Postfix 2.6.
    "unverified_recipient_tempfail_action" UNVERIFIED_RECIPIENT_TEMPFAIL_ACTION: Str =
        "$reject_tempfail_action";
    /// Reply code for reject_unverified_sender when the address bounces. The default is
    /// 450. Added in Postfix 2.6.
    "unverified_sender_reject_code" UNVERIFIED_SENDER_REJECT_CODE: Int = "450";
    /// Reply code for reject_unverified_sender while the address is being probed or its
    /// probe was deferred. The default is 450. Added in Postfix 2.6.
    "unverified_sender_defer_code" UNVERIFIED_SENDER_DEFER_CODE: Int = "450";
    /// The text of a reject_unverified_sender refusal instead of the verify service's
    /// reason; empty (the default) gives the service's. Added in Postfix 2.6.
    "unverified_sender_reject_reason" UNVERIFIED_SENDER_REJECT_REASON: Str = "";
    /// reject_tempfail_action for reject_unverified_sender. Added in Postfix 2.6.
    "unverified_sender_tempfail_action" UNVERIFIED_SENDER_TEMPFAIL_ACTION: Str =
        "$reject_tempfail_action";
    /// The characters smtpd keeps in the values of $name expansions in DNS block list reply
    /// templates and smtpd_reject_footer; any other character becomes an underscore. C-like
    /// escapes (backslash-t, octal backslash-40) are understood. The default is tab and
    /// printable ASCII. Added in Postfix 2.0.
    "smtpd_expansion_filter" SMTPD_EXPANSION_FILTER: Raw =
        "\\t\\40!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
    /// Tables of reply footers by the reply text (for example a pcre: table matching
    /// the enhanced status code); a reply not found gets smtpd_reject_footer. Added in
    /// Postfix 3.4.
    "smtpd_reject_footer_maps" SMTPD_REJECT_FOOTER_MAPS: Str = "";
    /// Clients that may use XFORWARD to tell the SMTP server about the original client
    /// (content filters re-injecting mail): network/netmask patterns, host names,
    /// /file/name or type:table. The default is empty: nobody. Added in Postfix 2.1.
    "smtpd_authorized_xforward_hosts" SMTPD_AUTHORIZED_XFORWARD_HOSTS: Str = "";
    /// Clients that may use XCLIENT to override the client attributes smtpd logs and
    /// checks (proxies, test tools): network/netmask patterns, host names, /file/name or
    /// type:table. The default is empty: nobody. Added in Postfix 2.1.
    "smtpd_authorized_xclient_hosts" SMTPD_AUTHORIZED_XCLIENT_HOSTS: Str = "";
    /// What permit_mx_backup requires of the domain's primary MX hosts: every address of
    /// each must match these network/netmask patterns, host names, /file/name or
    /// type:table. The default is empty: any primary MX host. Added in Postfix 2.0.
    "permit_mx_backup_networks" PERMIT_MX_BACKUP_NETWORKS: Str = "";
}
