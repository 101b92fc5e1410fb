//! smtpd's TLS parameters, the values crates/tls takes as plain settings.
//!
//! Postfix counterpart: global/mail_params.h (smtpd_tls_*, smtpd_starttls_timeout),
//! smtpd/smtpd.c tables.

crate::params! {
    /// Whether smtpd offers or requires STARTTLS: `none`, `may` (offered) or `encrypt`
    /// (required before MAIL). Empty means the obsolete smtpd_use_tls and
    /// smtpd_enforce_tls decide. Added in Postfix 2.3.
    "smtpd_tls_security_level" SMTPD_TLS_SECURITY_LEVEL: Str = "";
    /// Obsolete form of smtpd_tls_security_level = may.
    "smtpd_use_tls" SMTPD_USE_TLS: Bool = "no";
    /// Obsolete form of smtpd_tls_security_level = encrypt.
    "smtpd_enforce_tls" SMTPD_ENFORCE_TLS: Bool = "no";
    /// A PEM file with the server's RSA certificate (and, optionally, its chain and key).
    "smtpd_tls_cert_file" SMTPD_TLS_CERT_FILE: Str = "";
    /// The PEM file with the private key of smtpd_tls_cert_file.
    "smtpd_tls_key_file" SMTPD_TLS_KEY_FILE: Str = "$smtpd_tls_cert_file";
    /// A PEM file with the server's ECDSA certificate. Added in Postfix 2.6.
    "smtpd_tls_eccert_file" SMTPD_TLS_ECCERT_FILE: Str = "";
    /// The PEM file with the private key of smtpd_tls_eccert_file.
    "smtpd_tls_eckey_file" SMTPD_TLS_ECKEY_FILE: Str = "$smtpd_tls_eccert_file";
    /// PEM files each holding private keys, each followed by its certificate chain; when
    /// set, the cert/key pairs above are ignored. Added in Postfix 3.4.
    "smtpd_tls_chain_files" SMTPD_TLS_CHAIN_FILES: Str = "";
    /// CA certificates (PEM) that make a client certificate trusted, and whose names are
    /// sent as hints when one is asked for.
    "smtpd_tls_CAfile" SMTPD_TLS_CAFILE: Str = "";
    /// TLS protocols allowed with opportunistic TLS (`>=TLSv1.2`, `!SSLv3, !TLSv1`...).
    /// ironpost speaks TLSv1.2 and TLSv1.3 only.
    "smtpd_tls_protocols" SMTPD_TLS_PROTOCOLS: Str = ">=TLSv1";
    /// TLS protocols allowed when TLS is required (level encrypt).
    "smtpd_tls_mandatory_protocols" SMTPD_TLS_MANDATORY_PROTOCOLS: Str = ">=TLSv1";
    /// Ask a client for a certificate (its fingerprint is then known to restrictions).
    "smtpd_tls_ask_ccert" SMTPD_TLS_ASK_CCERT: Bool = "no";
    /// Require a trusted client certificate (at level encrypt only).
    "smtpd_tls_req_ccert" SMTPD_TLS_REQ_CCERT: Bool = "no";
    /// TLS logging: 0 none, 1 the "TLS connection established" summary, 2 more detail
    /// (peer certificate line, set-up steps).
    "smtpd_tls_loglevel" SMTPD_TLS_LOGLEVEL: Str = "0";
    /// Put the protocol, cipher and client certificate in the Received: header.
    "smtpd_tls_received_header" SMTPD_TLS_RECEIVED_HEADER: Bool = "no";
    /// TLS from the first byte, without STARTTLS (port 465, "smtps").
    "smtpd_tls_wrappermode" SMTPD_TLS_WRAPPERMODE: Bool = "no";
    /// Offer AUTH only inside TLS.
    "smtpd_tls_auth_only" SMTPD_TLS_AUTH_ONLY: Bool = "no";
    /// The digest of client certificate fingerprints (check_ccert_access keys, logs).
    "smtpd_tls_fingerprint_digest" SMTPD_TLS_FINGERPRINT_DIGEST: Str =
        "${{$compatibility_level} <level {3.6} ? {md5} : {sha256}}";
    /// The time limit of the TLS handshake after STARTTLS (and of the whole handshake
    /// in wrapper mode).
    "smtpd_starttls_timeout" SMTPD_STARTTLS_TIMEOUT: Time(b's') = "${stress?{10}:{300}}s", min 1;
    /// The cipher grade smtpd offers at level may (high, medium, low, export, null).
    "smtpd_tls_ciphers" SMTPD_TLS_CIPHERS: Str = "medium";
    /// The cipher grade smtpd offers at level encrypt.
    "smtpd_tls_mandatory_ciphers" SMTPD_TLS_MANDATORY_CIPHERS: Str = "medium";
    /// OpenSSL cipher names or aliases smtpd leaves out at every level.
    "smtpd_tls_exclude_ciphers" SMTPD_TLS_EXCLUDE_CIPHERS: Str = "";
    /// Cipher names or aliases smtpd also leaves out at level encrypt.
    "smtpd_tls_mandatory_exclude_ciphers" SMTPD_TLS_MANDATORY_EXCLUDE_CIPHERS: Str = "";
    /// The OpenSSL cipher list of the cipher grade high.
    "tls_high_cipherlist" TLS_HIGH_CIPHERLIST: Str = "aNULL:-aNULL:HIGH:@STRENGTH";
    /// The OpenSSL cipher list of the cipher grade medium.
    "tls_medium_cipherlist" TLS_MEDIUM_CIPHERLIST: Str = "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH";
    /// The OpenSSL cipher list of the cipher grade low.
    "tls_low_cipherlist" TLS_LOW_CIPHERLIST: Str = "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH";
    /// The OpenSSL cipher list of the cipher grade export.
    "tls_export_cipherlist" TLS_EXPORT_CIPHERLIST: Str =
        "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH";
    /// The OpenSSL cipher list of the cipher grade null (no encryption).
    "tls_null_cipherlist" TLS_NULL_CIPHERLIST: Str = "eNULL:!aNULL";
}
