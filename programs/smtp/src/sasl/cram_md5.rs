//! The CRAM-MD5 SASL client's response (RFC 2195) and its HMAC-MD5 (RFC 2104).
//!
//! Postfix counterpart: none in Postfix itself; Debian's Postfix gets CRAM-MD5 from
//! Cyrus SASL's `plugins/cram.c`, which has its own HMAC-MD5. ring, the crypto
//! library in the tree, has no MD5 and so no HMAC-MD5; MD5 itself (RFC 1321) is the
//! one crates/tls implements for certificate fingerprints.

/// The MD5 digest of `data` (the TLS library's, kept for certificate fingerprints).
fn md5(data: &[u8]) -> [u8; 16] {
    let mut out = [0; 16];
    out.copy_from_slice(&tls::digest::Digest::Md5.digest(data));
    out
}

/// HMAC-MD5 (RFC 2104) of `data` under `key`.
fn hmac_md5(key: &[u8], data: &[u8]) -> [u8; 16] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..16].copy_from_slice(&md5(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let mut inner = pad(0x36);
    inner.extend_from_slice(data);
    let mut outer = pad(0x5c);
    outer.extend_from_slice(&md5(&inner));
    md5(&outer)
}

/// The CRAM-MD5 response (RFC 2195): the user name, a space, and the hex HMAC-MD5
/// of the server's challenge under the password.
pub fn response(user: &str, password: &str, challenge: &[u8]) -> Vec<u8> {
    format!("{user} {}", hex(&hmac_md5(password.as_bytes(), challenge))).into_bytes()
}

/// Lower-case hex, as CRAM-MD5 sends the digest.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2104_and_cram_md5_examples() {
        // RFC 2104, section 2 test vectors.
        assert_eq!(
            hex(&hmac_md5(&[0x0b; 16], b"Hi There")),
            "9294727a3638bb1c13f48ef8158bfc9d"
        );
        assert_eq!(
            hex(&hmac_md5(b"Jefe", b"what do ya want for nothing?")),
            "750c783e6ab0b503eaa86e310a5db738"
        );
        // RFC 2202, test case 6: a key longer than a block is hashed first.
        assert_eq!(
            hex(&hmac_md5(
                &[0xaa; 80],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"
        );
        // RFC 2195, section 2: the CRAM-MD5 example exchange.
        assert_eq!(
            hex(&hmac_md5(
                b"tanstaaftanstaaf",
                b"<1896.697170952@postoffice.reston.mci.net>"
            )),
            "b913a602c7eda7a495b4e6e7334d3890"
        );
    }

    #[test]
    fn cram_md5_rfc2195() {
        assert_eq!(
            response(
                "tim",
                "tanstaaftanstaaf",
                b"<1896.697170952@postoffice.reston.mci.net>"
            ),
            b"tim b913a602c7eda7a495b4e6e7334d3890"
        );
    }
}
