//! The SMTP and LMTP client's parameters: each smtp_* parameter with its lmtp_* twin,
//! which the same program reads when it runs as lmtp.
//!
//! Postfix counterpart: global/mail_params.h (smtp and lmtp client), smtp/smtp.c tables.

crate::params! {
    /// The SMTP client: The default TCP port (a service name or number) of the servers the client
    /// connects to when the next hop names none. The default is smtp.
    "smtp_tcp_port" SMTP_TCP_PORT: Str = "smtp";
    /// The LMTP client: The default TCP port (a service name or number) of the servers the client
    /// connects to when the next hop names none. The default is 24.
    "lmtp_tcp_port" LMTP_TCP_PORT: Str = "24";
    /// The SMTP client: How long to wait for a TCP connection to be made; 0 means as long as the
    /// system allows. The default is 30s.
    "smtp_connect_timeout" SMTP_CONNECT_TIMEOUT: Time(b's') = "30s", min 0;
    /// The LMTP client: How long to wait for a TCP connection to be made; 0 means as long as the
    /// system allows. The default is 0s.
    "lmtp_connect_timeout" LMTP_CONNECT_TIMEOUT: Time(b's') = "0s", min 0;
    /// The SMTP client: How long to wait for the server's greeting and for the reply to HELO, EHLO
    /// or LHLO. The default is 300s.
    "smtp_helo_timeout" SMTP_HELO_TIMEOUT: Time(b's') = "300s", min 1;
    /// The LMTP client: How long to wait for the server's greeting and for the reply to HELO, EHLO
    /// or LHLO. The default is 300s.
    "lmtp_lhlo_timeout" LMTP_LHLO_TIMEOUT: Time(b's') = "300s", min 1;
    /// The SMTP client: How long to wait for the reply to MAIL FROM. The default is 300s.
    "smtp_mail_timeout" SMTP_MAIL_TIMEOUT: Time(b's') = "300s", min 1;
    /// The LMTP client: How long to wait for the reply to MAIL FROM. The default is 300s.
    "lmtp_mail_timeout" LMTP_MAIL_TIMEOUT: Time(b's') = "300s", min 1;
    /// The SMTP client: How long to wait for the reply to RCPT TO. The default is 300s.
    "smtp_rcpt_timeout" SMTP_RCPT_TIMEOUT: Time(b's') = "300s", min 1;
    /// The LMTP client: How long to wait for the reply to RCPT TO. The default is 300s.
    "lmtp_rcpt_timeout" LMTP_RCPT_TIMEOUT: Time(b's') = "300s", min 1;
    /// The SMTP client: How long to wait for the reply to DATA. The default is 120s.
    "smtp_data_init_timeout" SMTP_DATA_INIT_TIMEOUT: Time(b's') = "120s", min 1;
    /// The LMTP client: How long to wait for the reply to DATA. The default is 120s.
    "lmtp_data_init_timeout" LMTP_DATA_INIT_TIMEOUT: Time(b's') = "120s", min 1;
    /// The SMTP client: How long a write of message content may block. The default is 180s.
    "smtp_data_xfer_timeout" SMTP_DATA_XFER_TIMEOUT: Time(b's') = "180s", min 1;
    /// The LMTP client: How long a write of message content may block. The default is 180s.
    "lmtp_data_xfer_timeout" LMTP_DATA_XFER_TIMEOUT: Time(b's') = "180s", min 1;
    /// The SMTP client: How long to wait for the reply to the end of the message content. The
    /// default is 600s.
    "smtp_data_done_timeout" SMTP_DATA_DONE_TIMEOUT: Time(b's') = "600s", min 1;
    /// The LMTP client: How long to wait for the reply to the end of the message content. The
    /// default is 600s.
    "lmtp_data_done_timeout" LMTP_DATA_DONE_TIMEOUT: Time(b's') = "600s", min 1;
    /// The SMTP client: How long to wait for the reply to QUIT. The default is 300s.
    "smtp_quit_timeout" SMTP_QUIT_TIMEOUT: Time(b's') = "300s", min 1;
    /// The LMTP client: How long to wait for the reply to QUIT. The default is 300s.
    "lmtp_quit_timeout" LMTP_QUIT_TIMEOUT: Time(b's') = "300s", min 1;
    /// The SMTP client: How long to wait for the reply to RSET. The default is 20s.
    "smtp_rset_timeout" SMTP_RSET_TIMEOUT: Time(b's') = "20s", min 1;
    /// The LMTP client: How long to wait for the reply to RSET. The default is 20s.
    "lmtp_rset_timeout" LMTP_RSET_TIMEOUT: Time(b's') = "20s", min 1;
    /// The SMTP client: The host name sent with HELO, EHLO or LHLO. The default is $myhostname.
    "smtp_helo_name" SMTP_HELO_NAME: Str = "$myhostname";
    /// The LMTP client: The host name sent with HELO, EHLO or LHLO. The default is $myhostname.
    "lmtp_lhlo_name" LMTP_LHLO_NAME: Str = "$myhostname";
    /// The SMTP client: Whether a 5xx greeting only makes the client try the next server (the
    /// status becomes 4xx) instead of bouncing the mail. The default is yes.
    "smtp_skip_5xx_greeting" SMTP_SKIP_5XX_GREETING: Bool = "yes";
    /// The LMTP client: Whether a 5xx greeting only makes the client try the next server (the
    /// status becomes 4xx) instead of bouncing the mail. The default is yes.
    "lmtp_skip_5xx_greeting" LMTP_SKIP_5XX_GREETING: Bool = "yes";
    /// The SMTP client: Whether the client hangs up after QUIT without waiting for the reply. The
    /// default is yes.
    "smtp_skip_quit_response" SMTP_SKIP_QUIT_RESPONSE: Bool = "yes";
    /// The LMTP client: Whether the client hangs up after QUIT without waiting for the reply. The
    /// default is no.
    "lmtp_skip_quit_response" LMTP_SKIP_QUIT_RESPONSE: Bool = "no";
    /// The SMTP client: EHLO (LHLO) keywords the client ignores in the server's reply, separated by
    /// commas or white space; `silent-discard` suppresses the log line saying so. The default is
    /// empty.
    "smtp_discard_ehlo_keywords" SMTP_DISCARD_EHLO_KEYWORDS: Str = "";
    /// The LMTP client: EHLO (LHLO) keywords the client ignores in the server's reply, separated by
    /// commas or white space; `silent-discard` suppresses the log line saying so. The default is
    /// empty.
    "lmtp_discard_lhlo_keywords" LMTP_DISCARD_LHLO_KEYWORDS: Str = "";
    /// The SMTP client: Lookup tables with the EHLO keywords to ignore, by the server's IP
    /// address; a server the tables do not list gets smtp_discard_ehlo_keywords. The default is
    /// empty.
    "smtp_discard_ehlo_keyword_address_maps" SMTP_DISCARD_EHLO_KEYWORD_ADDRESS_MAPS: Str = "";
    /// The LMTP client: Lookup tables with the LHLO keywords to ignore, by the server's IP
    /// address. The default is empty.
    "lmtp_discard_lhlo_keyword_address_maps" LMTP_DISCARD_LHLO_KEYWORD_ADDRESS_MAPS: Str = "";
    /// The SMTP client: A lookup table (type:name) that replaces each line of a server's reply
    /// before the client reads it, for working around broken servers or testing. The default is
    /// empty.
    "smtp_reply_filter" SMTP_REPLY_FILTER: Str = "";
    /// The LMTP client: A lookup table that replaces each line of a server's reply. The default
    /// is empty.
    "lmtp_reply_filter" LMTP_REPLY_FILTER: Str = "";
    /// The SMTP client: Next hops to try, in order, when the destination's own servers cannot be
    /// reached: host, [host], host:port or [host]:port, separated by commas or white space. The
    /// default is $fallback_relay.
    "smtp_fallback_relay" SMTP_FALLBACK_RELAY: Str = "$fallback_relay";
    /// The LMTP client: Next hops to try, in order, when the destination's own servers cannot be
    /// reached: host, [host], host:port or [host]:port, separated by commas or white space. The
    /// default is empty.
    "lmtp_fallback_relay" LMTP_FALLBACK_RELAY: Str = "";
    /// The SMTP client: The most addresses of mail exchangers the client tries per next hop; 0
    /// means no limit. The default is 5.
    "smtp_mx_address_limit" SMTP_MX_ADDRESS_LIMIT: Int = "5", min 0;
    /// The LMTP client: The most addresses of mail exchangers the client tries per next hop; 0
    /// means no limit. The default is 5.
    "lmtp_mx_address_limit" LMTP_MX_ADDRESS_LIMIT: Int = "5", min 0;
    /// The SMTP client: The most SMTP sessions per next hop that end in a delivery attempt; 0 means
    /// no limit. The default is 2.
    "smtp_mx_session_limit" SMTP_MX_SESSION_LIMIT: Int = "2", min 0;
    /// The LMTP client: The most SMTP sessions per next hop that end in a delivery attempt; 0 means
    /// no limit. The default is 2.
    "lmtp_mx_session_limit" LMTP_MX_SESSION_LIMIT: Int = "2", min 0;
    /// The SMTP client: How server addresses are found: dns, native (the system's name service) or
    /// both, in order. The default is dns.
    "smtp_host_lookup" SMTP_HOST_LOOKUP: Str = "dns";
    /// The LMTP client: How server addresses are found: dns, native (the system's name service) or
    /// both, in order. The default is dns.
    "lmtp_host_lookup" LMTP_HOST_LOOKUP: Str = "dns";
    /// The SMTP and LMTP client: No DNS lookups (no MX lookup, hosts through the system's
    /// name service), when smtp_dns_support_level is empty. The default is no.
    "disable_dns_lookups" DISABLE_DNS_LOOKUPS: Bool = "no";
    /// The SMTP client: A failed MX lookup (not a missing MX record) falls back to the
    /// domain's own addresses instead of deferring the mail. The default is no.
    "ignore_mx_lookup_error" IGNORE_MX_LOOKUP_ERROR: Bool = "no";
    /// The SMTP client: Longer lines of message content are broken with <CR><LF>SPACE; 0 means no
    /// limit. The default is 998.
    "smtp_line_length_limit" SMTP_LINE_LENGTH_LIMIT: Int = "998", min 0;
    /// The LMTP client: Longer lines of message content are broken with <CR><LF>SPACE; 0 means no
    /// limit. The default is 998.
    "lmtp_line_length_limit" LMTP_LINE_LENGTH_LIMIT: Int = "998", min 0;
    /// The SMTP client: Which address family to try first when a server has both: ipv4, ipv6 or
    /// any. The default is any.
    "smtp_address_preference" SMTP_ADDRESS_PREFERENCE: Str = "any";
    /// The LMTP client: Which address family to try first when a server has both: ipv4, ipv6 or
    /// any. The default is any.
    "lmtp_address_preference" LMTP_ADDRESS_PREFERENCE: Str = "any";
    /// The SMTP client: Whether addresses of equal preference are tried in random order. The
    /// default is yes.
    "smtp_randomize_addresses" SMTP_RANDOMIZE_ADDRESSES: Bool = "yes";
    /// The LMTP client: Whether addresses of equal preference are tried in random order. The
    /// default is yes.
    "lmtp_randomize_addresses" LMTP_RANDOMIZE_ADDRESSES: Bool = "yes";
    /// The SMTP client: Whether, with both address families enabled, the address limit leaves room
    /// for each family. The default is yes.
    "smtp_balance_inet_protocols" SMTP_BALANCE_INET_PROTOCOLS: Bool = "yes";
    /// The LMTP client: Whether, with both address families enabled, the address limit leaves room
    /// for each family. The default is yes.
    "lmtp_balance_inet_protocols" LMTP_BALANCE_INET_PROTOCOLS: Bool = "yes";
    /// The SMTP client: Whether mail is deferred rather than bounced when no mail exchanger has an
    /// address. The default is no.
    "smtp_defer_if_no_mx_address_found" SMTP_DEFER_IF_NO_MX_ADDRESS_FOUND: Bool = "no";
    /// The LMTP client: Whether mail is deferred rather than bounced when no mail exchanger has an
    /// address. The default is no.
    "lmtp_defer_if_no_mx_address_found" LMTP_DEFER_IF_NO_MX_ADDRESS_FOUND: Bool = "no";
    /// The SMTP client: Where an address probe ends the session: rcpt (after RCPT TO) or data
    /// (after DATA). The default is rcpt.
    "smtp_address_verify_target" SMTP_ADDRESS_VERIFY_TARGET: Str = "rcpt";
    /// The LMTP client: Where an address probe ends the session: rcpt (after RCPT TO) or data
    /// (after DATA). The default is rcpt.
    "lmtp_address_verify_target" LMTP_ADDRESS_VERIFY_TARGET: Str = "rcpt";
    /// The SMTP client: Whether envelope addresses are quoted as RFC 5321 requires. The default is
    /// yes.
    "smtp_quote_rfc821_envelope" SMTP_QUOTE_RFC821_ENVELOPE: Bool = "yes";
    /// The LMTP client: Whether envelope addresses are quoted as RFC 5321 requires. The default is
    /// yes.
    "lmtp_quote_rfc821_envelope" LMTP_QUOTE_RFC821_ENVELOPE: Bool = "yes";
    /// The SMTP client: Whether the client always says HELO instead of EHLO. The default is no.
    "smtp_never_send_ehlo" SMTP_NEVER_SEND_EHLO: Bool = "no";
    /// The SMTP client: Whether the client says EHLO even when the greeting does not mention ESMTP.
    /// The default is yes.
    "smtp_always_send_ehlo" SMTP_ALWAYS_SEND_EHLO: Bool = "yes";
    /// Whether the SMTP and LMTP client leaves 8-bit mail as it is for a server that does not
    /// announce 8BITMIME, instead of converting it to 7-bit quoted-printable. The default is no.
    "disable_mime_output_conversion" DISABLE_MIME_OUTPUT_CONVERSION: Bool = "no";
    /// The SMTP client: The default TLS security level: none, may (STARTTLS when offered), encrypt
    /// (mandatory TLS), fingerprint, verify, secure (a certificate that matches); dane and
    /// dane-only as without DNSSEC (may; deferred). Empty means the level that smtp_use_tls and
    /// smtp_enforce_tls imply. The default is empty.
    "smtp_tls_security_level" SMTP_TLS_SECURITY_LEVEL: Str = "";
    /// The LMTP client: The default TLS security level: none, may (STARTTLS when offered), encrypt
    /// (mandatory TLS), fingerprint, verify, secure (a certificate that matches); dane and
    /// dane-only as without DNSSEC (may; deferred). Empty means the level that lmtp_use_tls and
    /// lmtp_enforce_tls imply. The default is empty.
    "lmtp_tls_security_level" LMTP_TLS_SECURITY_LEVEL: Str = "";
    /// The SMTP client: Obsolete: opportunistic TLS (level may) when smtp_tls_security_level is
    /// empty. The default is no.
    "smtp_use_tls" SMTP_USE_TLS: Bool = "no";
    /// The LMTP client: Obsolete: opportunistic TLS (level may) when smtp_tls_security_level is
    /// empty. The default is no.
    "lmtp_use_tls" LMTP_USE_TLS: Bool = "no";
    /// The SMTP client: Obsolete: mandatory TLS (level encrypt) when smtp_tls_security_level is
    /// empty. The default is no.
    "smtp_enforce_tls" SMTP_ENFORCE_TLS: Bool = "no";
    /// The LMTP client: Obsolete: mandatory TLS (level encrypt) when smtp_tls_security_level is
    /// empty. The default is no.
    "lmtp_enforce_tls" LMTP_ENFORCE_TLS: Bool = "no";
    /// The SMTP client: How much TLS activity is logged: 0 nothing, 1 the summary line, 2 also the
    /// set-up. The default is 0.
    "smtp_tls_loglevel" SMTP_TLS_LOGLEVEL: Int = "0", min 0;
    /// The LMTP client: How much TLS activity is logged: 0 nothing, 1 the summary line, 2 also the
    /// set-up. The default is 0.
    "lmtp_tls_loglevel" LMTP_TLS_LOGLEVEL: Int = "0", min 0;
    /// The SMTP client: A file of trusted CA certificates in PEM format; a server certificate that
    /// chains to one is Trusted (and, at levels verify and secure, Verified when its name
    /// matches). The default is empty.
    "smtp_tls_CAfile" SMTP_TLS_CAFILE: Str = "";
    /// The LMTP client: A file of trusted CA certificates in PEM format; a server certificate that
    /// chains to one is Trusted (and, at levels verify and secure, Verified when its name
    /// matches). The default is empty.
    "lmtp_tls_CAfile" LMTP_TLS_CAFILE: Str = "";
    /// The SMTP client: How long to wait for the reply to STARTTLS and for the TLS handshake. The
    /// default is 300s.
    "smtp_starttls_timeout" SMTP_STARTTLS_TIMEOUT: Time(b's') = "300s", min 1;
    /// The LMTP client: How long to wait for the reply to STARTTLS and for the TLS handshake. The
    /// default is 300s.
    "lmtp_starttls_timeout" LMTP_STARTTLS_TIMEOUT: Time(b's') = "300s", min 1;
    /// The SMTP client: Whether the client authenticates to servers that offer AUTH, with the
    /// credentials of smtp_sasl_password_maps. The default is no.
    "smtp_sasl_auth_enable" SMTP_SASL_AUTH_ENABLE: Bool = "no";
    /// The LMTP client: Whether the client authenticates to servers that offer AUTH, with the
    /// credentials of smtp_sasl_password_maps. The default is no.
    "lmtp_sasl_auth_enable" LMTP_SASL_AUTH_ENABLE: Bool = "no";
    /// The SMTP client: Lookup tables with username:password by server host name, then by next hop
    /// ([host]:port as in the request). The default is empty.
    "smtp_sasl_password_maps" SMTP_SASL_PASSWORD_MAPS: Str = "";
    /// The LMTP client: Lookup tables with username:password by server host name, then by next hop
    /// ([host]:port as in the request). The default is empty.
    "lmtp_sasl_password_maps" LMTP_SASL_PASSWORD_MAPS: Str = "";
    /// The SMTP client: Which SASL mechanisms are out: noplaintext, noactive, nodictionary,
    /// noanonymous, mutual_auth. The default is noplaintext, noanonymous.
    "smtp_sasl_security_options" SMTP_SASL_SECURITY_OPTIONS: Str = "noplaintext, noanonymous";
    /// The LMTP client: Which SASL mechanisms are out: noplaintext, noactive, nodictionary,
    /// noanonymous, mutual_auth. The default is noplaintext, noanonymous.
    "lmtp_sasl_security_options" LMTP_SASL_SECURITY_OPTIONS: Str = "noplaintext, noanonymous";
    /// The SMTP client: The same inside TLS. The default is $smtp_sasl_security_options.
    "smtp_sasl_tls_security_options" SMTP_SASL_TLS_SECURITY_OPTIONS: Str = "$smtp_sasl_security_options";
    /// The LMTP client: The same inside TLS. The default is $lmtp_sasl_security_options.
    "lmtp_sasl_tls_security_options" LMTP_SASL_TLS_SECURITY_OPTIONS: Str = "$lmtp_sasl_security_options";
    /// The SMTP client: The server's AUTH mechanisms the client considers; empty means all. The
    /// default is empty.
    "smtp_sasl_mechanism_filter" SMTP_SASL_MECHANISM_FILTER: Str = "";
    /// The LMTP client: The server's AUTH mechanisms the client considers; empty means all. The
    /// default is empty.
    "lmtp_sasl_mechanism_filter" LMTP_SASL_MECHANISM_FILTER: Str = "";
    /// The SMTP client: Whether smtp_sasl_password_maps is searched by the sender address
    /// (user@domain, then @domain) before the server name and next hop, and sessions are kept
    /// in the connection cache per sender. The default is no.
    "smtp_sender_dependent_authentication" SMTP_SENDER_DEPENDENT_AUTHENTICATION: Bool = "no";
    /// The LMTP client: Whether sessions are kept in the connection cache per sender (Postfix
    /// searches lmtp_sasl_password_maps by sender only in SMTP mode). The default is no.
    "lmtp_sender_dependent_authentication" LMTP_SENDER_DEPENDENT_AUTHENTICATION: Bool = "no";
    /// The SMTP client: Whether a 5xx reply to AUTH defers the mail instead of bouncing it. The
    /// default is yes.
    "smtp_sasl_auth_soft_bounce" SMTP_SASL_AUTH_SOFT_BOUNCE: Bool = "yes";
    /// The LMTP client: Whether a 5xx reply to AUTH defers the mail instead of bouncing it. The
    /// default is yes.
    "lmtp_sasl_auth_soft_bounce" LMTP_SASL_AUTH_SOFT_BOUNCE: Bool = "yes";
    /// The SMTP client: Whether the client sends the original client's name, address, port,
    /// protocol, HELO name, log identifier and source (XFORWARD) to a server that offers XFORWARD,
    /// as content filters want. The default is no.
    "smtp_send_xforward_command" SMTP_SEND_XFORWARD_COMMAND: Bool = "no";
    /// The LMTP client: Whether the client sends the original client's name, address, port,
    /// protocol, HELO name, log identifier and source (XFORWARD) to a server that offers XFORWARD,
    /// as content filters want. The default is no.
    "lmtp_send_xforward_command" LMTP_SEND_XFORWARD_COMMAND: Bool = "no";
    /// The SMTP client: How long to wait for the reply to XFORWARD. The default is 300s.
    "smtp_xforward_timeout" SMTP_XFORWARD_TIMEOUT: Time(b's') = "300s", min 1;
    /// The LMTP client: How long to wait for the reply to XFORWARD. The default is 300s.
    "lmtp_xforward_timeout" LMTP_XFORWARD_TIMEOUT: Time(b's') = "300s", min 1;
    /// The SMTP client: The local IPv4 address for outgoing connections; empty means the system's
    /// choice (or the one inet_interfaces address that is not loopback). The default is empty.
    "smtp_bind_address" SMTP_BIND_ADDRESS: Str = "";
    /// The LMTP client: The local IPv4 address for outgoing connections; empty means the system's
    /// choice (or the one inet_interfaces address that is not loopback). The default is empty.
    "lmtp_bind_address" LMTP_BIND_ADDRESS: Str = "";
    /// The SMTP client: The local IPv6 address for outgoing connections, as smtp_bind_address. The
    /// default is empty.
    "smtp_bind_address6" SMTP_BIND_ADDRESS6: Str = "";
    /// The LMTP client: The local IPv6 address for outgoing connections, as smtp_bind_address. The
    /// default is empty.
    "lmtp_bind_address6" LMTP_BIND_ADDRESS6: Str = "";
    /// The SMTP client: Whether a failed bind to smtp_bind_address(6) defers the mail instead of
    /// connecting from any address. The default is no.
    "smtp_bind_address_enforce" SMTP_BIND_ADDRESS_ENFORCE: Bool = "no";
    /// The LMTP client: Whether a failed bind to smtp_bind_address(6) defers the mail instead of
    /// connecting from any address. The default is no.
    "lmtp_bind_address_enforce" LMTP_BIND_ADDRESS_ENFORCE: Bool = "no";
    /// The SMTP client: One-to-one address tables that rewrite the envelope sender and
    /// recipients and the addresses in the message's own headers as mail goes out (generic(5)).
    /// The default is empty.
    "smtp_generic_maps" SMTP_GENERIC_MAPS: Str = "";
    /// The LMTP client: One-to-one address tables that rewrite the envelope sender and
    /// recipients and the addresses in the message's own headers as mail goes out (generic(5)).
    /// The default is empty.
    "lmtp_generic_maps" LMTP_GENERIC_MAPS: Str = "";
    /// The SMTP client: header_checks(5) tables applied to the message's own headers as the
    /// message is sent, with the actions WARN, INFO, REPLACE, STRIP, IGNORE and DUNNO. The
    /// default is empty.
    "smtp_header_checks" SMTP_HEADER_CHECKS: Str = "";
    /// The LMTP client: header_checks(5) tables applied to the message's own headers as the
    /// message is sent, with the actions WARN, INFO, REPLACE, STRIP, IGNORE and DUNNO. The
    /// default is empty.
    "lmtp_header_checks" LMTP_HEADER_CHECKS: Str = "";
    /// The SMTP client: Such tables for MIME headers. The default is empty.
    "smtp_mime_header_checks" SMTP_MIME_HEADER_CHECKS: Str = "";
    /// The LMTP client: Such tables for MIME headers. The default is empty.
    "lmtp_mime_header_checks" LMTP_MIME_HEADER_CHECKS: Str = "";
    /// The SMTP client: Such tables for the headers of attached messages. The default is
    /// empty.
    "smtp_nested_header_checks" SMTP_NESTED_HEADER_CHECKS: Str = "";
    /// The LMTP client: Such tables for the headers of attached messages. The default is
    /// empty.
    "lmtp_nested_header_checks" LMTP_NESTED_HEADER_CHECKS: Str = "";
    /// The SMTP client: body_checks(5) tables applied to each body line as the message is
    /// sent, with the actions of smtp_header_checks. The default is empty.
    "smtp_body_checks" SMTP_BODY_CHECKS: Str = "";
    /// The LMTP client: body_checks(5) tables applied to each body line as the message is
    /// sent, with the actions of lmtp_header_checks. The default is empty.
    "lmtp_body_checks" LMTP_BODY_CHECKS: Str = "";
    /// The SMTP client's delivery status filter, in the form of default_delivery_status_filter.
    /// The default is $default_delivery_status_filter.
    "smtp_delivery_status_filter" SMTP_DELIVERY_STATUS_FILTER: Str = "$default_delivery_status_filter";
    /// The LMTP client's delivery status filter, in the form of default_delivery_status_filter.
    /// The default is $default_delivery_status_filter.
    "lmtp_delivery_status_filter" LMTP_DELIVERY_STATUS_FILTER: Str = "$default_delivery_status_filter";
}
