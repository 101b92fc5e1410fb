//! The address verification service and its clients, and the connection cache service.
//!
//! Postfix counterpart: global/mail_params.h (address_verify_*, connection_cache_*),
//! verify/verify.c and scache/scache.c tables, smtpd/smtpd.c (the polling settings).

crate::params! {
    /// The table where the verify service keeps what it learned about addresses, as
    /// type:name; it must support updates (btree, lmdb, hash). Empty keeps the cache in
    /// the process's memory only, and the service then never exits on its own. The
    /// default is btree:$data_directory/verify_cache. Added in Postfix 2.1.
    "address_verify_map" ADDRESS_VERIFY_MAP: Str = "btree:$data_directory/verify_cache";
    /// The sender address of address verification probes; empty or <> sends them with
    /// the null sender, which some sites refuse. The default is $double_bounce_sender, so
    /// that a bounced probe is discarded. Added in Postfix 2.1.
    "address_verify_sender" ADDRESS_VERIFY_SENDER: Str = "$double_bounce_sender";
    /// How often the probe sender address changes: when non-zero, a time stamp in base 31
    /// is appended to its local part, which defeats sites that whitelist or blacklist the
    /// probe sender. A time with optional unit suffix; 0 (the default) keeps the address
    /// fixed. Added in Postfix 2.9.
    "address_verify_sender_ttl" ADDRESS_VERIFY_SENDER_TTL: Time(b's') = "0s", min 0;
    /// How long a deliverable address stays in the cache before it must be probed again
    /// before it is answered. A time with optional unit suffix; the default is 31d.
    /// Added in Postfix 2.1.
    "address_verify_positive_expire_time" ADDRESS_VERIFY_POSITIVE_EXPIRE_TIME: Time(b's') = "31d", min 1;
    /// How old a deliverable result may get before a query also sends a new probe (the
    /// cached answer is still given). A time with optional unit suffix; the default is 7d.
    /// Added in Postfix 2.1.
    "address_verify_positive_refresh_time" ADDRESS_VERIFY_POSITIVE_REFRESH_TIME: Time(b's') = "7d", min 1;
    /// How long an undeliverable address stays in the cache before it must be probed
    /// again. A time with optional unit suffix; the default is 3d. Added in Postfix 2.1.
    "address_verify_negative_expire_time" ADDRESS_VERIFY_NEGATIVE_EXPIRE_TIME: Time(b's') = "3d", min 1;
    /// How old an undeliverable result may get before a query also sends a new probe. A
    /// time with optional unit suffix; the default is 3h. Added in Postfix 2.1.
    "address_verify_negative_refresh_time" ADDRESS_VERIFY_NEGATIVE_REFRESH_TIME: Time(b's') = "3h", min 1;
    /// How often the verify service walks its persistent cache to drop expired entries,
    /// logging "cache ... full cleanup: retained=N dropped=N entries" at the end of each
    /// run; 0 disables the cleanup. A time with optional unit suffix; the default is 12h.
    /// Added in Postfix 2.7.
    "address_verify_cache_cleanup_interval" ADDRESS_VERIFY_CACHE_CLEANUP_INTERVAL: Time(b's') = "12h", min 0;
    /// How many times smtpd asks the verify service about an address whose probe is in
    /// progress before it answers with a temporary reject; 1 never waits. The default is
    /// 3, or 1 when the server runs under stress. Added in Postfix 2.1.
    "address_verify_poll_count" ADDRESS_VERIFY_POLL_COUNT: Int = "${stress?{1}:{3}}", min 1;
    /// The pause between two such queries. A time with optional unit suffix; the default
    /// is 3s. Added in Postfix 2.1.
    "address_verify_poll_delay" ADDRESS_VERIFY_POLL_DELAY: Time(b's') = "3s", min 1;
    /// The name of the connection cache service in master.cf, for the SMTP and LMTP
    /// clients. The default is scache. Added in Postfix 2.2.
    "connection_cache_service_name" CONNECTION_CACHE_SERVICE_NAME: Str = "scache", min 1;
    /// The time limit for a request to the connection cache service. A time with
    /// optional unit suffix; the default is 5s. Added in Postfix 2.3.
    "connection_cache_protocol_timeout" CONNECTION_CACHE_PROTOCOL_TIMEOUT: Time(b's') = "5s", min 1;
    /// The longest time-to-live the connection cache service grants a saved connection or
    /// destination binding; longer requests are cut to it. A time with optional unit
    /// suffix; the default is 2s. Added in Postfix 2.2.
    "connection_cache_ttl_limit" CONNECTION_CACHE_TTL_LIMIT: Time(b's') = "2s", min 1;
    /// How often the connection cache service logs its hit and miss counts and peak sizes
    /// ("statistics: ..."), and resets them; also logged when it exits. A time with
    /// optional unit suffix; the default is 600s. Added in Postfix 2.2.
    "connection_cache_status_update_time" CONNECTION_CACHE_STATUS_UPDATE_TIME: Time(b's') = "600s", min 1;
}
