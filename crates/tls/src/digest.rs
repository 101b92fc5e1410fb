//! Certificate and public-key fingerprints with smtpd_tls_fingerprint_digest, written as
//! Postfix writes them (`AB:CD:...`). Postfix counterpart: `tls/tls_fprint.c`
//! (`tls_fingerprint()`, `tls_pkey_fprint()`, `tls_digest_encode()`).
//!
//! SHA-1 and SHA-2 come from ring. MD5, which Postfix 3.7 still uses when
//! compatibility_level is below 3.6 (and so many check_ccert_access tables are keyed
//! by), is not in ring; it is implemented here after RFC 1321.

/// A digest Postfix accepts for fingerprints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Digest {
    /// md5 (Postfix's default below compatibility_level 3.6).
    Md5,
    /// sha1.
    Sha1,
    /// sha256 (the default from compatibility_level 3.6).
    #[default]
    Sha256,
    /// sha384.
    Sha384,
    /// sha512.
    Sha512,
}

impl Digest {
    /// The digest named by smtpd_tls_fingerprint_digest (case-insensitive), if supported.
    pub fn by_name(name: &str) -> Option<Digest> {
        Some(match name.to_ascii_lowercase().as_str() {
            "md5" => Digest::Md5,
            "sha1" => Digest::Sha1,
            "sha256" => Digest::Sha256,
            "sha384" => Digest::Sha384,
            "sha512" => Digest::Sha512,
            _ => return None,
        })
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use ring::digest;
        let alg = match self {
            Digest::Md5 => return md5(data).to_vec(),
            Digest::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Digest::Sha256 => &digest::SHA256,
            Digest::Sha384 => &digest::SHA384,
            Digest::Sha512 => &digest::SHA512,
        };
        digest::digest(alg, data).as_ref().to_vec()
    }

    /// The fingerprint of `data`: upper-case hex bytes joined by colons.
    pub fn fingerprint(self, data: &[u8]) -> String {
        let hex: Vec<String> = self
            .digest(data)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        hex.join(":")
    }
}

/// Per-round shift amounts of RFC 1321.
const SHIFTS: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

/// RFC 1321's table T: the integer part of 2^32 * |sin(i + 1)|.
const T: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

fn md5(data: &[u8]) -> [u8; 16] {
    let mut state: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_le_bytes());
    for block in message.chunks_exact(64) {
        let m: Vec<u32> = block
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect();
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let shift = SHIFTS[(i / 16) * 4 + i % 4];
            let rotated = a
                .wrapping_add(f)
                .wrapping_add(T[i])
                .wrapping_add(m[g])
                .rotate_left(shift);
            (a, d, c) = (d, c, b);
            b = b.wrapping_add(rotated);
        }
        for (s, v) in state.iter_mut().zip([a, b, c, d]) {
            *s = s.wrapping_add(v);
        }
    }
    let mut out = [0u8; 16];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: Digest, data: &[u8]) -> String {
        d.digest(data).iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn md5_rfc1321_vectors() {
        assert_eq!(hex(Digest::Md5, b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(Digest::Md5, b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            hex(
                Digest::Md5,
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            ),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
        assert_eq!(
            hex(
                Digest::Md5,
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
            ),
            "d174ab98d277d9f5a5611c2c9f419d9f"
        );
    }

    #[test]
    fn names_and_format() {
        assert_eq!(Digest::by_name("SHA256"), Some(Digest::Sha256));
        assert_eq!(Digest::by_name("sha3"), None);
        assert_eq!(Digest::Sha1.fingerprint(b"abc").len(), 20 * 3 - 1);
    }
}
