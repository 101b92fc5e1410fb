//! Just enough DER to read what Postfix's log lines and Received: clause name from a
//! certificate: the public key's algorithm and size, and the subject's and issuer's common
//! names. Postfix gets these from OpenSSL (`tls_misc.c`'s key sizes, `tls_verify.c`'s
//! `tls_peer_CN()`/`tls_issuer_CN()`); rustls hands over the certificate as bytes.
//!
//! Every length is checked against the bytes that remain, so a peer's certificate can
//! make a lookup fail (None) but never read out of bounds.

/// One DER element: its tag and contents.
#[derive(Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    body: &'a [u8],
}

/// Splits the first element off `input`.
fn next(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        // Long form: at most four length bytes (certificates are far below 4 GiB).
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((
        Tlv {
            tag,
            body: &rest[..len],
        },
        &rest[len..],
    ))
}

/// The elements inside a constructed element's contents.
fn children(mut body: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    std::iter::from_fn(move || {
        let (tlv, rest) = next(body)?;
        body = rest;
        Some(tlv)
    })
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];

/// A certificate's public key as Postfix describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// RSA with its modulus size in bits.
    Rsa(u32),
    /// ECDSA on a named curve (OpenSSL's short name, e.g. `prime256v1`).
    Ec(&'static str),
    /// Ed25519.
    Ed25519,
}

/// The fields of a certificate this crate reads.
#[derive(Clone, Debug, Default)]
pub struct CertInfo {
    /// The subject's common name, if any.
    pub subject_cn: Option<String>,
    /// The issuer's common name, if any.
    pub issuer_cn: Option<String>,
    /// The issuer's name as OpenSSL's `X509_NAME_oneline()` writes it
    /// (`/C=DE/O=Example/CN=Example CA`), which Postfix logs for verification failures.
    pub issuer_oneline: String,
    /// The public key, if its algorithm is one Postfix names.
    pub key: Option<PublicKey>,
    /// The SubjectPublicKeyInfo as DER (for Postfix's public-key fingerprint).
    pub spki: Vec<u8>,
    /// The subject as DER, to tell a self-signed certificate (subject equal to issuer).
    pub subject_der: Vec<u8>,
    /// The issuer as DER.
    pub issuer_der: Vec<u8>,
    /// The dNSName entries of the subjectAltName extension.
    pub dns_names: Vec<String>,
    /// The iPAddress entries of the subjectAltName extension (4 or 16 bytes each).
    pub ip_addrs: Vec<Vec<u8>>,
}

/// Reads a DER certificate; None when it is not one.
pub fn parse_cert(der: &[u8]) -> Option<CertInfo> {
    let (cert, _) = next(der).filter(|(t, _)| t.tag == SEQUENCE)?;
    let tbs = children(cert.body).next().filter(|t| t.tag == SEQUENCE)?;
    // tbsCertificate: [0] version (optional), serial, signature, issuer, validity,
    // subject, subjectPublicKeyInfo, ...
    let mut fields = children(tbs.body).skip_while(|t| t.tag == 0xa0);
    let _serial = fields.next()?;
    let _signature = fields.next()?;
    let issuer = fields.next()?;
    let _validity = fields.next()?;
    let subject = fields.next()?;
    let spki = fields.next().filter(|t| t.tag == SEQUENCE)?;
    // issuerUniqueID [1], subjectUniqueID [2], then extensions [3].
    let extensions = fields.find(|t| t.tag == 0xa3);
    let (dns_names, ip_addrs) = extensions.map(alt_names).unwrap_or_default();
    Some(CertInfo {
        subject_der: subject.body.to_vec(),
        issuer_der: issuer.body.to_vec(),
        dns_names,
        ip_addrs,
        subject_cn: common_name(subject.body),
        issuer_cn: common_name(issuer.body),
        issuer_oneline: oneline(issuer.body),
        key: public_key(spki.body),
        spki: encode(spki),
    })
}

/// The subjectAltName extension's dNSName and iPAddress entries, from the [3]
/// extensions element.
fn alt_names(extensions: Tlv<'_>) -> (Vec<String>, Vec<Vec<u8>>) {
    const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
    const OCTET_STRING: u8 = 0x04;
    let (mut dns, mut ips) = (Vec::new(), Vec::new());
    let list = children(extensions.body).find(|t| t.tag == SEQUENCE);
    for ext in list.into_iter().flat_map(|l| children(l.body)) {
        let mut parts = children(ext.body);
        if parts
            .next()
            .is_none_or(|oid| oid.tag != OID || oid.body != OID_SAN)
        {
            continue;
        }
        // An optional critical flag, then the value.
        let Some(value) = parts.find(|t| t.tag == OCTET_STRING) else {
            continue;
        };
        let Some((names, _)) = next(value.body).filter(|(t, _)| t.tag == SEQUENCE) else {
            continue;
        };
        for name in children(names.body) {
            match name.tag {
                0x82 => dns.push(String::from_utf8_lossy(name.body).into_owned()),
                0x87 => ips.push(name.body.to_vec()),
                _ => {}
            }
        }
    }
    (dns, ips)
}

/// Re-encodes an element (its header was consumed by `next`).
fn encode(tlv: Tlv<'_>) -> Vec<u8> {
    let len = tlv.body.len();
    let mut out = vec![tlv.tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(tlv.body);
    out
}

/// The last CN in a Name (OpenSSL's X509_NAME_get_index_by_NID walk finds the last one
/// Postfix then checks for uniqueness; a certificate with one CN, the usual case, agrees).
fn common_name(name: &[u8]) -> Option<String> {
    children(name)
        .filter(|rdn| rdn.tag == SET)
        .flat_map(|rdn| children(rdn.body))
        .filter_map(|atv| {
            let mut parts = children(atv.body);
            let oid = parts.next().filter(|t| t.tag == OID)?;
            let value = parts.next()?;
            (oid.body == OID_CN).then(|| String::from_utf8_lossy(value.body).into_owned())
        })
        .last()
}

/// OpenSSL's short names of the attributes certificates use.
fn short_name(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x55, 0x04, 0x05] => "serialNumber",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        _ => return None,
    })
}

/// `/SN=value` for each attribute, in order; an attribute without a short name here
/// is written as OpenSSL does for unknown ones, by its dotted OID.
pub fn oneline(name: &[u8]) -> String {
    let mut out = String::new();
    for atv in children(name)
        .filter(|rdn| rdn.tag == SET)
        .flat_map(|rdn| children(rdn.body))
    {
        let mut parts = children(atv.body);
        let (Some(oid), Some(value)) = (parts.next(), parts.next()) else {
            continue;
        };
        let label = short_name(oid.body).map_or_else(|| dotted(oid.body), str::to_string);
        out.push_str(&format!("/{label}={}", String::from_utf8_lossy(value.body)));
    }
    out
}

/// An OID's dotted form.
fn dotted(oid: &[u8]) -> String {
    let Some((&first, rest)) = oid.split_first() else {
        return String::new();
    };
    let mut arcs = vec![u64::from(first / 40), u64::from(first % 40)];
    let mut value = 0u64;
    for &b in rest {
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            arcs.push(value);
            value = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

fn public_key(spki: &[u8]) -> Option<PublicKey> {
    let mut parts = children(spki);
    let alg = parts.next().filter(|t| t.tag == SEQUENCE)?;
    let key = parts.next().filter(|t| t.tag == BIT_STRING)?;
    let mut alg_parts = children(alg.body);
    let oid = alg_parts.next().filter(|t| t.tag == OID)?;
    match oid.body {
        OID_RSA => {
            // BIT STRING: one byte of unused bits, then RSAPublicKey { modulus, exponent }.
            let (rsa, _) = next(key.body.get(1..)?)?;
            let modulus = children(rsa.body).next().filter(|t| t.tag == INTEGER)?;
            Some(PublicKey::Rsa(integer_bits(modulus.body)))
        }
        OID_EC => {
            let curve = alg_parts.next().filter(|t| t.tag == OID)?;
            let name = match curve.body {
                OID_P256 => "prime256v1",
                OID_P384 => "secp384r1",
                OID_P521 => "secp521r1",
                _ => return None,
            };
            Some(PublicKey::Ec(name))
        }
        OID_ED25519 => Some(PublicKey::Ed25519),
        _ => None,
    }
}

/// The size in bits of a non-negative DER INTEGER (OpenSSL's RSA_bits / BN_num_bits).
fn integer_bits(mut bytes: &[u8]) -> u32 {
    while let [0, rest @ ..] = bytes {
        bytes = rest;
    }
    match bytes.first() {
        None => 0,
        Some(&b) => (bytes.len() as u32 - 1) * 8 + (8 - b.leading_zeros()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_past_the_end_are_refused() {
        assert!(next(&[0x30, 0x05, 1, 2]).is_none());
        assert!(next(&[0x30, 0x85, 1, 2, 3, 4, 5]).is_none());
        assert!(parse_cert(&[0x30, 0x82, 0xff]).is_none());
        assert!(parse_cert(&[]).is_none());
    }

    #[test]
    fn damaged_certificates_never_panic() {
        let pem = include_str!("../tests/golden/certs/rsa.pem");
        let der: Vec<u8> = rustls::pki_types::pem::PemObject::from_pem_slice(pem.as_bytes())
            .map(|c: rustls::pki_types::CertificateDer<'_>| c.to_vec())
            .unwrap();
        let info = parse_cert(&der).unwrap();
        assert_eq!(info.key, Some(PublicKey::Rsa(2048)));
        assert_eq!(info.subject_cn.as_deref(), Some("mail.example"));
        assert_eq!(info.issuer_cn.as_deref(), Some("ironpost test CA"));
        assert_eq!(info.issuer_oneline, "/CN=ironpost test CA");
        assert_eq!(info.dns_names, ["mail.example"]);
        assert!(info.ip_addrs.is_empty());
        assert_ne!(info.subject_der, info.issuer_der);
        assert_eq!(
            dotted(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37]),
            "1.3.6.1.4.1.311"
        );
        for i in 0..der.len() {
            let _ = parse_cert(&der[..i]);
            for byte in [0x00, 0x7f, 0x80, 0x84, 0xff] {
                let mut bad = der.clone();
                bad[i] = byte;
                let _ = parse_cert(&bad);
            }
        }
    }

    #[test]
    fn integer_sizes() {
        assert_eq!(integer_bits(&[0x00, 0x80, 0]), 16);
        assert_eq!(integer_bits(&[0x01]), 1);
        assert_eq!(integer_bits(&[]), 0);
    }
}
