//! DANE (RFC 7672) for the SMTP client: the TLSA records of a server, which of them
//! can be used, and whether a server's certificate chain matches one.
//!
//! Postfix counterpart: `tls/tls_dane.c` (`parse_tlsa_rr()`, `tls_dane_enable()`,
//! `tlsa_carp()`, `tlsa_info()`) and what OpenSSL's DANE support
//! (`SSL_dane_tlsa_add()`, `X509_verify_cert()` with DANE) does for Postfix 3.7:
//!
//! - Only DANE-TA(2) and DANE-EE(3) apply to SMTP; PKIX-TA(0) and PKIX-EE(1) records
//!   are dropped when the RRset is read, as is the private-use matching type 255 (kept
//!   for the fingerprint level).
//! - A record is usable when its selector is 0 (the whole certificate) or 1 (the
//!   public key) and its matching type is 0 (the data itself), 1 (SHA2-256) or 2
//!   (SHA2-512) with data of that digest's length.
//! - DANE-EE matches the server's own certificate; names, dates and the chain do not
//!   matter (RFC 7672 section 3.1.1, `DANE_FLAG_NO_DANE_EE_NAMECHECKS`).
//! - DANE-TA matches a certificate of the chain the server sent, above its own; that
//!   certificate is then the trust anchor of an ordinary chain verification, and one of
//!   the names (the TLSA base domain, the MX name) must match the server's certificate.
//!   A DANE-TA record of a whole certificate (2 0 0) is a trust anchor even when the
//!   server does not send it ([`crate::client`] tries it as one).

use crate::digest::Digest;

/// DANE-TA: the record names a trust anchor.
pub const USAGE_DANE_TA: u8 = 2;
/// DANE-EE: the record names the server's own certificate or key.
pub const USAGE_DANE_EE: u8 = 3;

/// One TLSA record: certificate usage, selector, matching type, association data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlsa {
    /// Certificate usage (2 or 3 once parsed).
    pub usage: u8,
    /// Selector: 0 for the certificate, 1 for its SubjectPublicKeyInfo.
    pub selector: u8,
    /// Matching type: 0 exact, 1 SHA2-256, 2 SHA2-512.
    pub mtype: u8,
    /// The association data.
    pub data: Vec<u8>,
}

/// The DNSSEC-validated TLSA records of one server, and the names a DANE-TA chain must
/// match (Postfix's `TLS_DANE` with its match list).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dane {
    /// The name the records were found under (`_25._tcp.` + this): the SNI name, and
    /// the first name to match.
    pub base_domain: String,
    /// The records Postfix keeps (usages 2 and 3, matching type not 255).
    pub tlsa: Vec<Tlsa>,
    /// The names a certificate under a DANE-TA record must match.
    pub names: Vec<String>,
}

/// Upper-case hex of `data` as `tlsa_carp()` and `tlsa_info()` log it: in full up to
/// 64 bytes, else the first and last 32 joined by "...".
pub fn dump(data: &[u8]) -> String {
    const HEAD: usize = 32;
    const TAIL: usize = 32;
    let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02X}")).collect::<String>();
    if data.is_empty() {
        "...".to_string()
    } else if data.len() > HEAD + TAIL {
        format!(
            "{}...{}",
            hex(&data[..HEAD]),
            hex(&data[data.len() - TAIL..])
        )
    } else {
        hex(data)
    }
}

impl Tlsa {
    /// A record as it is, whether Postfix would keep it or not.
    pub fn new(usage: u8, selector: u8, mtype: u8, data: Vec<u8>) -> Tlsa {
        Tlsa {
            usage,
            selector,
            mtype,
            data,
        }
    }

    /// `parse_tlsa_rr()`: the record if Postfix keeps it, else the warning it logs
    /// about it (`where_` is the TLSA owner name, with `qname -> ` before it after a
    /// CNAME).
    pub fn parse(
        usage: u8,
        selector: u8,
        mtype: u8,
        data: &[u8],
        where_: &str,
    ) -> Result<Tlsa, String> {
        let carp = |why: &str| format!("{where_} {why}: {usage} {selector} {mtype} {}", dump(data));
        if usage != USAGE_DANE_TA && usage != USAGE_DANE_EE {
            return Err(carp("unsupported TLSA certificate usage"));
        }
        if mtype == 255 {
            return Err(carp("reserved private-use matching type"));
        }
        Ok(Tlsa::new(usage, selector, mtype, data.to_vec()))
    }

    /// Whether OpenSSL takes the record (`SSL_dane_tlsa_add()` > 0): a known selector,
    /// a matching type of tls_dane_digests (sha512 sha256) or 0, data of the right size.
    pub fn usable(&self) -> bool {
        let size_ok = match self.mtype {
            0 => !self.data.is_empty(),
            1 => self.data.len() == 32,
            2 => self.data.len() == 64,
            _ => false,
        };
        self.selector <= 1 && size_ok
    }

    /// Whether `cert` (DER), whose public key is `spki`, is what the record describes.
    pub fn matches(&self, cert: &[u8], spki: &[u8]) -> bool {
        let subject = match self.selector {
            0 => cert,
            1 => spki,
            _ => return false,
        };
        match self.mtype {
            0 => subject == self.data.as_slice(),
            1 => Digest::Sha256.digest(subject) == self.data,
            2 => Digest::Sha512.digest(subject) == self.data,
            _ => false,
        }
    }
}

impl Dane {
    /// The records OpenSSL can use (`SSL_dane_tlsa_add()` > 0), and the others.
    pub fn split_usable(&self) -> (Dane, Vec<Tlsa>) {
        let (usable, unusable) = self.tlsa.iter().cloned().partition(Tlsa::usable);
        let dane = Dane {
            tlsa: usable,
            ..self.clone()
        };
        (dane, unusable)
    }
}

impl Tlsa {
    /// The warning `tls_dane_enable()` logs for a record that cannot be used
    /// (`host[addr]:port: unusable TLSA RR: 3 7 1 AB...`).
    pub fn unusable_warning(&self, peer: &str) -> String {
        format!(
            "{peer}: unusable TLSA RR: {} {} {} {}",
            self.usage,
            self.selector,
            self.mtype,
            dump(&self.data)
        )
    }
}

/// The outcome of matching a chain against TLSA records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// This DANE-EE record matches the server's certificate.
    EndEntity(Tlsa),
    /// This DANE-TA record matches a certificate of the chain, which becomes the trust
    /// anchor (its index among the certificates above the leaf).
    TrustAnchor(usize, Tlsa),
    /// Nothing matches (OpenSSL's `X509_V_ERR_DANE_NO_MATCH`).
    None,
}

/// Matches the server's certificate `leaf` and the chain above it against `tlsa`:
/// DANE-EE records first (they need nothing else), then DANE-TA records against each
/// certificate above the leaf, lowest first. `spki_of` gives a certificate's public key.
pub fn find(
    tlsa: &[Tlsa],
    leaf: &[u8],
    chain: &[&[u8]],
    spki_of: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
) -> Match {
    let leaf_spki = spki_of(leaf).unwrap_or_default();
    if let Some(t) = tlsa
        .iter()
        .find(|t| t.usage == USAGE_DANE_EE && t.matches(leaf, &leaf_spki))
    {
        return Match::EndEntity(t.clone());
    }
    for (at, cert) in chain.iter().enumerate() {
        let spki = spki_of(cert).unwrap_or_default();
        if let Some(t) = tlsa
            .iter()
            .find(|t| t.usage == USAGE_DANE_TA && t.matches(cert, &spki))
        {
            return Match::TrustAnchor(at, t.clone());
        }
    }
    Match::None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_drops_pkix_usages_and_private_use() {
        let w = "_25._tcp.mx.example";
        assert_eq!(
            Tlsa::parse(1, 1, 1, &[0xab, 0x01], w).unwrap_err(),
            "_25._tcp.mx.example unsupported TLSA certificate usage: 1 1 1 AB01"
        );
        assert!(Tlsa::parse(0, 0, 1, &[1], w).is_err());
        assert_eq!(
            Tlsa::parse(3, 1, 255, &[], w).unwrap_err(),
            "_25._tcp.mx.example reserved private-use matching type: 3 1 255 ..."
        );
        assert_eq!(Tlsa::parse(2, 0, 1, &[7], w).unwrap().usage, 2);
    }

    #[test]
    fn long_data_is_dumped_head_and_tail() {
        let data: Vec<u8> = (0..100).collect();
        let text = dump(&data);
        assert!(text.starts_with("000102"));
        assert!(text.ends_with("6263"));
        assert_eq!(text.len(), 64 + 3 + 64);
        assert_eq!(dump(&data[..64]).len(), 128);
    }

    #[test]
    fn usable_and_matching() {
        let cert = b"certificate".to_vec();
        let spki = b"key".to_vec();
        let sha256 = Digest::Sha256.digest(&spki);
        let sha512 = Digest::Sha512.digest(&cert);
        assert!(Tlsa::new(3, 1, 1, sha256.clone()).usable());
        assert!(!Tlsa::new(3, 1, 1, sha512.clone()).usable());
        assert!(!Tlsa::new(3, 2, 1, sha256.clone()).usable());
        assert!(!Tlsa::new(3, 1, 3, sha256.clone()).usable());
        assert!(Tlsa::new(3, 1, 1, sha256.clone()).matches(&cert, &spki));
        assert!(!Tlsa::new(3, 0, 1, sha256.clone()).matches(&cert, &spki));
        assert!(Tlsa::new(3, 0, 2, sha512).matches(&cert, &spki));
        assert!(Tlsa::new(3, 0, 0, cert.clone()).matches(&cert, &spki));
        let dane = Dane {
            tlsa: vec![Tlsa::new(3, 1, 1, sha256), Tlsa::new(3, 7, 1, vec![1, 2])],
            ..Dane::default()
        };
        let (usable, unusable) = dane.split_usable();
        assert_eq!(usable.tlsa.len(), 1);
        assert_eq!(
            unusable[0].unusable_warning("h[a]:25"),
            "h[a]:25: unusable TLSA RR: 3 7 1 0102"
        );
    }

    #[test]
    fn end_entity_before_trust_anchor() {
        let (leaf, ca) = (b"leaf".as_slice(), b"ca".as_slice());
        let spki = |c: &[u8]| Some([c, b"-key"].concat());
        let ee = Tlsa::new(3, 1, 1, Digest::Sha256.digest(b"leaf-key"));
        let ta = Tlsa::new(2, 0, 1, Digest::Sha256.digest(ca));
        assert_eq!(
            find(&[ta.clone(), ee.clone()], leaf, &[ca], &spki),
            Match::EndEntity(ee)
        );
        assert_eq!(
            find(std::slice::from_ref(&ta), leaf, &[ca], &spki),
            Match::TrustAnchor(0, ta.clone())
        );
        // A DANE-TA record of the leaf itself is no trust anchor.
        let ta_leaf = Tlsa::new(2, 0, 1, Digest::Sha256.digest(leaf));
        assert_eq!(find(&[ta_leaf], leaf, &[ca], &spki), Match::None);
        assert_eq!(find(&[ta], leaf, &[], &spki), Match::None);
    }
}
