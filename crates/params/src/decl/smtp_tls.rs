//! The SMTP and LMTP client's TLS policy parameters beyond the security level: trust
//! anchors, the names a certificate must match, the per-destination policy table, the
//! protocols and cipher grades, and the DNS support level that decides whether the
//! DANE levels can work.
//!
//! Postfix counterpart: global/mail_params.h (smtp_tls_* and lmtp_tls_*), read by
//! smtp/smtp.c and smtp/smtp_tls_policy.c.

crate::params! {
    /// The SMTP client: A directory of trusted CA certificates in PEM format (one per file,
    /// as `openssl rehash` leaves them). The default is empty.
    "smtp_tls_CApath" SMTP_TLS_CAPATH: Str = "";
    /// The LMTP client: A directory of trusted CA certificates in PEM format. The default is
    /// empty.
    "lmtp_tls_CApath" LMTP_TLS_CAPATH: Str = "";
    /// The SMTP client: The names a server certificate must match at level verify: hostname (the
    /// server's name), nexthop, dot-nexthop, a name, or .domain for its subdomains. The default is
    /// hostname.
    "smtp_tls_verify_cert_match" SMTP_TLS_VERIFY_CERT_MATCH: Str = "hostname";
    /// The LMTP client: The names a server certificate must match at level verify. The default is
    /// hostname.
    "lmtp_tls_verify_cert_match" LMTP_TLS_VERIFY_CERT_MATCH: Str = "hostname";
    /// The SMTP client: The names a server certificate must match at level secure. The default is
    /// nexthop, dot-nexthop.
    "smtp_tls_secure_cert_match" SMTP_TLS_SECURE_CERT_MATCH: Str = "nexthop, dot-nexthop";
    /// The LMTP client: The names a server certificate must match at level secure. The default is
    /// nexthop.
    "lmtp_tls_secure_cert_match" LMTP_TLS_SECURE_CERT_MATCH: Str = "nexthop";
    /// The SMTP client: Lookup tables with a TLS policy (a level, then match=, protocols=,
    /// ciphers=, exclude=, servername= attributes) by next-hop destination, then by parent domain
    /// (.domain). The default is empty.
    "smtp_tls_policy_maps" SMTP_TLS_POLICY_MAPS: Str = "";
    /// The LMTP client: Lookup tables with a TLS policy by next-hop destination. The default is
    /// empty.
    "lmtp_tls_policy_maps" LMTP_TLS_POLICY_MAPS: Str = "";
    /// The SMTP client: The TLS protocols at level may. The default is >=TLSv1 (rustls speaks TLS
    /// 1.2 and 1.3).
    "smtp_tls_protocols" SMTP_TLS_PROTOCOLS: Str = ">=TLSv1";
    /// The LMTP client: The TLS protocols at level may. The default is >=TLSv1.
    "lmtp_tls_protocols" LMTP_TLS_PROTOCOLS: Str = ">=TLSv1";
    /// The SMTP client: The TLS protocols at levels encrypt and up. The default is >=TLSv1.
    "smtp_tls_mandatory_protocols" SMTP_TLS_MANDATORY_PROTOCOLS: Str = ">=TLSv1";
    /// The LMTP client: The TLS protocols at levels encrypt and up. The default is >=TLSv1.
    "lmtp_tls_mandatory_protocols" LMTP_TLS_MANDATORY_PROTOCOLS: Str = ">=TLSv1";
    /// The SMTP client: The cipher grade at level may (export, low, medium, high, null); every
    /// rustls cipher is of grade high, so any grade but null allows them all. The default is
    /// medium.
    "smtp_tls_ciphers" SMTP_TLS_CIPHERS: Str = "medium";
    /// The LMTP client: The cipher grade at level may. The default is medium.
    "lmtp_tls_ciphers" LMTP_TLS_CIPHERS: Str = "medium";
    /// The SMTP client: The cipher grade at levels encrypt and up. The default is medium.
    "smtp_tls_mandatory_ciphers" SMTP_TLS_MANDATORY_CIPHERS: Str = "medium";
    /// The LMTP client: The cipher grade at levels encrypt and up. The default is medium.
    "lmtp_tls_mandatory_ciphers" LMTP_TLS_MANDATORY_CIPHERS: Str = "medium";
    /// The SMTP client: OpenSSL cipher names or aliases left out at every TLS level
    /// (AES256, aRSA, ...). The default is empty.
    "smtp_tls_exclude_ciphers" SMTP_TLS_EXCLUDE_CIPHERS: Str = "";
    /// The LMTP client: Cipher names or aliases left out at every TLS level. The default is
    /// empty.
    "lmtp_tls_exclude_ciphers" LMTP_TLS_EXCLUDE_CIPHERS: Str = "";
    /// The SMTP client: Cipher names or aliases also left out at levels encrypt and up. The
    /// default is empty.
    "smtp_tls_mandatory_exclude_ciphers" SMTP_TLS_MANDATORY_EXCLUDE_CIPHERS: Str = "";
    /// The LMTP client: Cipher names or aliases also left out at levels encrypt and up. The
    /// default is empty.
    "lmtp_tls_mandatory_exclude_ciphers" LMTP_TLS_MANDATORY_EXCLUDE_CIPHERS: Str = "";
    /// The SMTP client: The name sent in SNI: a host name, or hostname (the server's) or nexthop;
    /// empty sends none. The default is empty.
    "smtp_tls_servername" SMTP_TLS_SERVERNAME: Str = "";
    /// The LMTP client: The name sent in SNI. The default is empty.
    "lmtp_tls_servername" LMTP_TLS_SERVERNAME: Str = "";
    /// The SMTP client: Obsolete: with smtp_enforce_tls, whether the server's name must match
    /// (level verify) or not (encrypt) when smtp_tls_security_level is empty. The default is yes.
    "smtp_tls_enforce_peername" SMTP_TLS_ENFORCE_PEERNAME: Bool = "yes";
    /// The LMTP client: Obsolete: as smtp_tls_enforce_peername. The default is yes.
    "lmtp_tls_enforce_peername" LMTP_TLS_ENFORCE_PEERNAME: Bool = "yes";
    /// The SMTP client: The fingerprints a server certificate or its public key must have at
    /// level fingerprint (hex, colons optional), computed with smtp_tls_fingerprint_digest. The
    /// default is empty.
    "smtp_tls_fingerprint_cert_match" SMTP_TLS_FINGERPRINT_CERT_MATCH: Str = "";
    /// The LMTP client: The fingerprints at level fingerprint. The default is empty.
    "lmtp_tls_fingerprint_cert_match" LMTP_TLS_FINGERPRINT_CERT_MATCH: Str = "";
    /// The SMTP client: The digest of the fingerprints (md5, sha1, sha256). The default is
    /// sha256 from compatibility level 3.6, else md5.
    "smtp_tls_fingerprint_digest" SMTP_TLS_FINGERPRINT_DIGEST: Str =
        "${{$compatibility_level} <level {3.6} ? {md5} : {sha256}}";
    /// The LMTP client: The digest of the fingerprints. The default is sha256 from compatibility
    /// level 3.6, else md5.
    "lmtp_tls_fingerprint_digest" LMTP_TLS_FINGERPRINT_DIGEST: Str =
        "${{$compatibility_level} <level {3.6} ? {md5} : {sha256}}";
    /// The SMTP client: disabled, enabled or dnssec. The dane levels need dnssec, with which
    /// lookups ask for DNSSEC and trust the AD bit of the resolver. The default is empty.
    "smtp_dns_support_level" SMTP_DNS_SUPPORT_LEVEL: Str = "";
    /// The LMTP client: as smtp_dns_support_level. The default is empty.
    "lmtp_dns_support_level" LMTP_DNS_SUPPORT_LEVEL: Str = "";
    /// The question (type:name) asked once per process when no DNSSEC-validated reply was
    /// seen, to warn that validation may be unavailable; empty for none. The default is
    /// ns:. (the root's name servers).
    "dnssec_probe" DNSSEC_PROBE: Str = "ns:.";
    /// The SMTP client at the dane levels: look up TLSA records of a host whose address
    /// records were not DNSSEC-validated too. The default is no.
    "smtp_tls_force_insecure_host_tlsa_lookup" SMTP_TLS_FORCE_INSECURE_HOST_TLSA_LOOKUP: Bool = "no";
    /// The LMTP client: as smtp_tls_force_insecure_host_tlsa_lookup. The default is no.
    "lmtp_tls_force_insecure_host_tlsa_lookup" LMTP_TLS_FORCE_INSECURE_HOST_TLSA_LOOKUP: Bool = "no";
    /// The SMTP client at level dane, for a server under an MX RRset that was not
    /// DNSSEC-validated: may (no DANE), encrypt, or dane (its addresses and TLSA records
    /// are looked up with DNSSEC all the same, and TLSA records authenticate it). The
    /// default is dane when smtp_tls_security_level is dane, else may.
    "smtp_tls_dane_insecure_mx_policy" SMTP_TLS_DANE_INSECURE_MX_POLICY: Str =
        "${{$smtp_tls_security_level} == {dane} ? {dane} : {may}}";
    /// The SMTP client: Files of private keys, each followed by its certificate chain, offered
    /// when a server asks for a client certificate; when set, the cert/key pairs are ignored.
    /// The default is empty.
    "smtp_tls_chain_files" SMTP_TLS_CHAIN_FILES: Str = "";
    /// The LMTP client: as smtp_tls_chain_files. The default is empty.
    "lmtp_tls_chain_files" LMTP_TLS_CHAIN_FILES: Str = "";
    /// The SMTP client: The client certificate (RSA, or any type) with its chain, offered when a
    /// server asks for one. The default is empty.
    "smtp_tls_cert_file" SMTP_TLS_CERT_FILE: Str = "";
    /// The LMTP client: as smtp_tls_cert_file. The default is empty.
    "lmtp_tls_cert_file" LMTP_TLS_CERT_FILE: Str = "";
    /// The SMTP client: The private key of smtp_tls_cert_file. The default is
    /// $smtp_tls_cert_file.
    "smtp_tls_key_file" SMTP_TLS_KEY_FILE: Str = "$smtp_tls_cert_file";
    /// The LMTP client: The private key of lmtp_tls_cert_file. The default is
    /// $lmtp_tls_cert_file.
    "lmtp_tls_key_file" LMTP_TLS_KEY_FILE: Str = "$lmtp_tls_cert_file";
    /// The SMTP client: A DSA client certificate (ring signs with no DSA key, so only one of
    /// another type works here). The default is empty.
    "smtp_tls_dcert_file" SMTP_TLS_DCERT_FILE: Str = "";
    /// The LMTP client: as smtp_tls_dcert_file. The default is empty.
    "lmtp_tls_dcert_file" LMTP_TLS_DCERT_FILE: Str = "";
    /// The SMTP client: The private key of smtp_tls_dcert_file. The default is
    /// $smtp_tls_dcert_file.
    "smtp_tls_dkey_file" SMTP_TLS_DKEY_FILE: Str = "$smtp_tls_dcert_file";
    /// The LMTP client: The private key of lmtp_tls_dcert_file. The default is
    /// $lmtp_tls_dcert_file.
    "lmtp_tls_dkey_file" LMTP_TLS_DKEY_FILE: Str = "$lmtp_tls_dcert_file";
    /// The SMTP client: An ECDSA client certificate with its chain. The default is empty.
    "smtp_tls_eccert_file" SMTP_TLS_ECCERT_FILE: Str = "";
    /// The LMTP client: as smtp_tls_eccert_file. The default is empty.
    "lmtp_tls_eccert_file" LMTP_TLS_ECCERT_FILE: Str = "";
    /// The SMTP client: The private key of smtp_tls_eccert_file. The default is
    /// $smtp_tls_eccert_file.
    "smtp_tls_eckey_file" SMTP_TLS_ECKEY_FILE: Str = "$smtp_tls_eccert_file";
    /// The LMTP client: The private key of lmtp_tls_eccert_file. The default is
    /// $lmtp_tls_eccert_file.
    "lmtp_tls_eckey_file" LMTP_TLS_ECKEY_FILE: Str = "$lmtp_tls_eccert_file";
    /// The SMTP client: TLS from the first byte, before the server's greeting (SMTPS, port
    /// 465); needs smtp_tls_security_level encrypt or stronger. The default is no.
    "smtp_tls_wrappermode" SMTP_TLS_WRAPPERMODE: Bool = "no";
    /// The LMTP client: as smtp_tls_wrappermode. The default is no.
    "lmtp_tls_wrappermode" LMTP_TLS_WRAPPERMODE: Bool = "no";
    /// The SMTP client: Obsolete (smtp_tls_policy_maps replaced it, and wins when both are
    /// set): lookup tables with a level (NONE, MAY, MUST_NOPEERMATCH, MUST) by next-hop
    /// destination and by server hostname, the stronger of the two. The default is empty.
    "smtp_tls_per_site" SMTP_TLS_PER_SITE: Str = "";
    /// The LMTP client: Obsolete: as smtp_tls_per_site. The default is empty.
    "lmtp_tls_per_site" LMTP_TLS_PER_SITE: Str = "";
    /// The SMTP client: Log "Host offered STARTTLS" for a server that offers STARTTLS when
    /// the level is none. The default is no.
    "smtp_tls_note_starttls_offer" SMTP_TLS_NOTE_STARTTLS_OFFER: Bool = "no";
    /// The LMTP client: as smtp_tls_note_starttls_offer. The default is no.
    "lmtp_tls_note_starttls_offer" LMTP_TLS_NOTE_STARTTLS_OFFER: Bool = "no";
}
