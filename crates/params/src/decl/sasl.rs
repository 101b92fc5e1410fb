//! smtpd's SASL parameters, the values crates/xsasl and smtpd's AUTH take as plain
//! settings.
//!
//! Postfix counterpart: global/mail_params.h (smtpd_sasl_*, broken_sasl_auth_clients),
//! smtpd/smtpd.c tables.

crate::params! {
    /// Offer AUTH (RFC 4954) and authenticate clients through the SASL server below.
    "smtpd_sasl_auth_enable" SMTPD_SASL_AUTH_ENABLE: Bool = "no";
    /// The SASL server implementation; ironpost has `dovecot` (Dovecot's auth protocol).
    "smtpd_sasl_type" SMTPD_SASL_TYPE: Str = "cyrus";
    /// Where the SASL server is: for dovecot a UNIX socket, relative to the queue
    /// directory (`private/auth`) or absolute, or `inet:host:port`.
    "smtpd_sasl_path" SMTPD_SASL_PATH: Str = "smtpd";
    /// The service name given to the SASL server (Dovecot's `service=`). Added in
    /// Postfix 3.3.
    "smtpd_sasl_service" SMTPD_SASL_SERVICE: Str = "smtp";
    /// Which mechanisms may be offered without TLS: noanonymous, noplaintext,
    /// nodictionary, noactive, forward_secrecy, mutual_auth.
    "smtpd_sasl_security_options" SMTPD_SASL_SECURITY_OPTIONS: Str = "noanonymous";
    /// The same under TLS. Added in Postfix 2.2.
    "smtpd_sasl_tls_security_options" SMTPD_SASL_TLS_SECURITY_OPTIONS: Str =
        "$smtpd_sasl_security_options";
    /// Mechanisms to hide from EHLO even when the server offers them (a list with `!`
    /// and type:table). Added in Postfix 3.6.
    "smtpd_sasl_mechanism_filter" SMTPD_SASL_MECHANISM_FILTER: Str = "!external, static:rest";
    /// The longest client response to a challenge; longer ones get `500 5.5.6 SASL
    /// response limit exceeded`. Added in Postfix 3.4.
    "smtpd_sasl_response_limit" SMTPD_SASL_RESPONSE_LIMIT: Int = "12288", min 1;
    /// Also announce the mechanisms as `AUTH=...` for clients that only know the
    /// pre-RFC form (old Outlook).
    "broken_sasl_auth_clients" BROKEN_SASL_AUTH_CLIENTS: Bool = "no";
    /// The realm passed to the SASL server (Cyrus only).
    "smtpd_sasl_local_domain" SMTPD_SASL_LOCAL_DOMAIN: Str = "";
    /// Put the SASL login name in the Received: header.
    "smtpd_sasl_authenticated_header" SMTPD_SASL_AUTHENTICATED_HEADER: Bool = "no";
    /// Clients to whom AUTH is not offered.
    "smtpd_sasl_exceptions_networks" SMTPD_SASL_EXCEPTIONS_NETWORKS: Str = "";
    /// Who owns which sender address: MAIL FROM address to SASL login names, for
    /// reject_sender_login_mismatch and its variants.
    "smtpd_sender_login_maps" SMTPD_SENDER_LOGIN_MAPS: Str = "";
}
