//! The SMTP and LMTP client's connection cache parameters: which destinations keep
//! their connections for the next delivery, for how long, and how often one connection
//! may be used.
//!
//! Postfix counterpart: global/mail_params.h (smtp_connection_cache_* and
//! smtp_connection_reuse_*), read by smtp/smtp.c and smtp/smtp_connect.c.

crate::params! {
    /// The SMTP client: Destinations (domains, [host]:port next hops, patterns) whose
    /// connections are always kept in the connection cache. The default is empty.
    "smtp_connection_cache_destinations" SMTP_CONNECTION_CACHE_DESTINATIONS: Str = "";
    /// The LMTP client: Destinations whose connections are always kept. The default is empty.
    "lmtp_connection_cache_destinations" LMTP_CONNECTION_CACHE_DESTINATIONS: Str = "";
    /// The SMTP client: Whether a connection is kept when the queue manager says the
    /// destination has more mail waiting. The default is yes.
    "smtp_connection_cache_on_demand" SMTP_CONNECTION_CACHE_ON_DEMAND: Bool = "yes";
    /// The LMTP client: Whether a connection is kept on demand. The default is yes.
    "lmtp_connection_cache_on_demand" LMTP_CONNECTION_CACHE_ON_DEMAND: Bool = "yes";
    /// The SMTP client: How long an idle connection waits in the cache. The default is 2s.
    "smtp_connection_cache_time_limit" SMTP_CONNECTION_CACHE_TIME_LIMIT: Time(b's') = "2s", min 1;
    /// The LMTP client: How long an idle connection waits in the cache. The default is 2s.
    "lmtp_connection_cache_time_limit" LMTP_CONNECTION_CACHE_TIME_LIMIT: Time(b's') = "2s", min 1;
    /// The SMTP client: How long after it was made a connection may still be used again.
    /// The default is 300s.
    "smtp_connection_reuse_time_limit" SMTP_CONNECTION_REUSE_TIME_LIMIT: Time(b's') = "300s", min 1;
    /// The LMTP client: How long after it was made a connection may still be used again. The
    /// default is 300s.
    "lmtp_connection_reuse_time_limit" LMTP_CONNECTION_REUSE_TIME_LIMIT: Time(b's') = "300s", min 1;
    /// The SMTP client: How many times a connection may be used again; 0 means no limit. The
    /// default is 0.
    "smtp_connection_reuse_count_limit" SMTP_CONNECTION_REUSE_COUNT_LIMIT: Int = "0", min 0;
    /// The LMTP client: How many times a connection may be used again. The default is 0.
    "lmtp_connection_reuse_count_limit" LMTP_CONNECTION_REUSE_COUNT_LIMIT: Int = "0", min 0;
    /// The SMTP client: Whether TLS connections are kept. With yes the client runs its TLS
    /// through tlsproxy and keeps the plaintext stream to it in scache, as Postfix does.
    /// The default is no.
    "smtp_tls_connection_reuse" SMTP_TLS_CONNECTION_REUSE: Bool = "no";
    /// The LMTP client: Whether TLS connections are kept (through tlsproxy, as for smtp).
    /// The default is no.
    "lmtp_tls_connection_reuse" LMTP_TLS_CONNECTION_REUSE: Bool = "no";
}
