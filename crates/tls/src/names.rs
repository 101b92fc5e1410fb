//! OpenSSL's names for what rustls negotiated, as Postfix prints them: cipher suites
//! (`SSL_CIPHER_get_name`), their key sizes (`SSL_CIPHER_get_bits`), key-exchange groups,
//! and signature algorithms with their digests. Postfix counterpart: the naming half of
//! `tls/tls_misc.c` (`tls_get_signature_params()`, `tls_log_summary()`).

use crate::der::PublicKey;
use rustls::{CipherSuite, NamedGroup, SignatureScheme};

/// OpenSSL's name of a cipher suite and its (used, algorithm) bits; None for a suite
/// rustls might add later that has no entry here.
pub fn cipher(suite: CipherSuite) -> Option<(&'static str, u32, u32)> {
    use CipherSuite::*;
    Some(match suite {
        // TLS 1.3 suites keep their IANA names in OpenSSL.
        TLS13_AES_256_GCM_SHA384 => ("TLS_AES_256_GCM_SHA384", 256, 256),
        TLS13_AES_128_GCM_SHA256 => ("TLS_AES_128_GCM_SHA256", 128, 128),
        TLS13_CHACHA20_POLY1305_SHA256 => ("TLS_CHACHA20_POLY1305_SHA256", 256, 256),
        // TLS 1.2: OpenSSL's own names.
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => ("ECDHE-RSA-AES256-GCM-SHA384", 256, 256),
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => ("ECDHE-RSA-AES128-GCM-SHA256", 128, 128),
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => ("ECDHE-RSA-CHACHA20-POLY1305", 256, 256),
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => ("ECDHE-ECDSA-AES256-GCM-SHA384", 256, 256),
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => ("ECDHE-ECDSA-AES128-GCM-SHA256", 128, 128),
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => {
            ("ECDHE-ECDSA-CHACHA20-POLY1305", 256, 256)
        }
        _ => return None,
    })
}

/// Postfix's `key-exchange` text for a group: `X25519`, or `ECDHE (curve)` with OpenSSL's
/// curve name.
pub fn key_exchange(group: NamedGroup) -> String {
    match group {
        NamedGroup::X25519 => "X25519".into(),
        NamedGroup::X448 => "X448".into(),
        NamedGroup::secp256r1 => "ECDHE (prime256v1)".into(),
        NamedGroup::secp384r1 => "ECDHE (secp384r1)".into(),
        NamedGroup::secp521r1 => "ECDHE (secp521r1)".into(),
        other => format!("{other:?}"),
    }
}

/// Postfix's `server-signature`/`client-signature` text and digest for a signature made
/// with `key` under `scheme`: `RSA-PSS (2048 bits)` and `SHA256`, `ECDSA (prime256v1)`
/// and `SHA256`. The digest is None where the scheme has none of its own (Ed25519).
pub fn signature(scheme: SignatureScheme, key: &PublicKey) -> (String, Option<&'static str>) {
    use SignatureScheme::*;
    let digest = match scheme {
        RSA_PSS_SHA256 | RSA_PKCS1_SHA256 | ECDSA_NISTP256_SHA256 => Some("SHA256"),
        RSA_PSS_SHA384 | RSA_PKCS1_SHA384 | ECDSA_NISTP384_SHA384 => Some("SHA384"),
        RSA_PSS_SHA512 | RSA_PKCS1_SHA512 | ECDSA_NISTP521_SHA512 => Some("SHA512"),
        RSA_PKCS1_SHA1 | ECDSA_SHA1_Legacy => Some("SHA1"),
        _ => None,
    };
    let pss = matches!(scheme, RSA_PSS_SHA256 | RSA_PSS_SHA384 | RSA_PSS_SHA512);
    let text = match key {
        PublicKey::Rsa(bits) if pss => format!("RSA-PSS ({bits} bits)"),
        PublicKey::Rsa(bits) => format!("RSA ({bits} bits)"),
        PublicKey::Ec(curve) => format!("ECDSA ({curve})"),
        PublicKey::Ed25519 => "ED25519".into(),
    };
    (text, digest)
}

/// OpenSSL's protocol names (`SSL_get_version`).
pub fn protocol(version: rustls::ProtocolVersion) -> &'static str {
    match version {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
        rustls::ProtocolVersion::TLSv1_1 => "TLSv1.1",
        rustls::ProtocolVersion::TLSv1_0 => "TLSv1",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suite_rustls_offers_has_a_name() {
        for suite in rustls::crypto::ring::ALL_CIPHER_SUITES {
            assert!(cipher(suite.suite()).is_some(), "{:?}", suite.suite());
        }
        for group in rustls::crypto::ring::ALL_KX_GROUPS {
            assert!(!key_exchange(group.name()).contains("Unknown"));
        }
    }
}
