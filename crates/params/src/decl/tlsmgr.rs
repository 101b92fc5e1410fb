//! TLS session resumption: tlsmgr's session caches and the session ticket cipher.
//!
//! Postfix counterpart: global/mail_params.h (VAR_SMTPD_TLS_SCACHE_DB,
//! VAR_SMTPD_TLS_SCACHTIME and their smtp/lmtp siblings, VAR_TLS_TKT_CIPHER,
//! VAR_TLS_MGR_SERVICE), read by tlsmgr/tlsmgr.c and tls/tls_server.c.

crate::params! {
    /// The table (btree:, lmdb:...) where tlsmgr keeps smtpd's TLS sessions for TLS 1.2
    /// clients without session tickets; empty keeps none. Emptied when tlsmgr starts.
    "smtpd_tls_session_cache_database" SMTPD_TLS_SESSION_CACHE_DATABASE: Str = "";
    /// How long smtpd's TLS sessions can be resumed (cache entries and ticket keys); 0
    /// turns resumption off. tlsmgr raises values below 120s to 120s.
    "smtpd_tls_session_cache_timeout" SMTPD_TLS_SESSION_CACHE_TIMEOUT: Time(b's') = "3600s", min 0, max 8640000;
    /// The table where tlsmgr keeps the SMTP client's TLS sessions (for Postfix's smtp).
    /// Ironpost's smtp does its TLS through tlsproxy when it is set, and tlsproxy keeps
    /// the sessions in its memory instead.
    "smtp_tls_session_cache_database" SMTP_TLS_SESSION_CACHE_DATABASE: Str = "";
    /// How long the SMTP client's cached TLS sessions stay usable.
    "smtp_tls_session_cache_timeout" SMTP_TLS_SESSION_CACHE_TIMEOUT: Time(b's') = "3600s", min 0, max 8640000;
    /// The table where tlsmgr keeps the LMTP client's TLS sessions.
    "lmtp_tls_session_cache_database" LMTP_TLS_SESSION_CACHE_DATABASE: Str = "";
    /// How long the LMTP client's cached TLS sessions stay usable.
    "lmtp_tls_session_cache_timeout" LMTP_TLS_SESSION_CACHE_TIMEOUT: Time(b's') = "3600s", min 0, max 8640000;
    /// The cipher of TLS session tickets; empty turns tickets off. ironpost seals its
    /// tickets with AES-256-GCM whenever the value names a cipher Postfix accepts.
    "tls_session_ticket_cipher" TLS_SESSION_TICKET_CIPHER: Str = "aes-256-cbc";
    /// The name of the tlsmgr service in master.cf.
    "tlsmgr_service_name" TLSMGR_SERVICE_NAME: Str = "tlsmgr";
    /// The name of the tlsproxy service in master.cf, to which the SMTP client hands its
    /// TLS connections (to keep them in scache, or to resume sessions across processes).
    "tlsproxy_service_name" TLSPROXY_SERVICE_NAME: Str = "tlsproxy";
}
