//! What rustls does not report after a handshake, recorded while it happens: which
//! signature scheme the server signed with (a wrapper around the signing key) and which
//! the client signed with (the client-certificate verifier, which accepts any
//! certificate as smtpd_tls_ask_ccert does without a CA). Then the [`Summary`] of the
//! session. Postfix counterpart: `tls_get_signature_params()` in `tls/tls_misc.c`, which
//! asks OpenSSL, and `tls_verify.c`'s peer name and fingerprint code.

use std::sync::{Arc, Mutex};

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureAlgorithm, SignatureScheme};

use crate::certkey::ServerKey;
use crate::der::{self, PublicKey};
use crate::digest::Digest;
use crate::names;
use crate::summary::{PeerCert, Signature, Summary, Trust};

/// The signatures seen in one handshake, and whether the client's certificate chained
/// to a trusted CA.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    server: Mutex<Option<(SignatureScheme, PublicKey)>>,
    client: Mutex<Option<SignatureScheme>>,
    trusted: Mutex<Option<bool>>,
    verified: Mutex<Option<bool>>,
    verify_error: Mutex<Option<String>>,
}

fn set<T>(slot: &Mutex<Option<T>>, value: T) {
    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(value);
}

fn get<T: Clone>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

impl Recorder {
    /// The server's handshake signature and key, as the client saw them.
    pub(crate) fn set_server_signature(&self, scheme: SignatureScheme, key: PublicKey) {
        set(&self.server, (scheme, key));
    }

    /// Whether the peer's chain verified against the configured CAs.
    pub(crate) fn set_trusted(&self, trusted: bool) {
        set(&self.trusted, trusted);
    }

    /// Whether the server's certificate was trusted and matched at a level that requires
    /// it (the client's `Verified`).
    pub(crate) fn set_verified(&self, verified: bool) {
        set(&self.verified, verified);
    }

    /// Why the peer's certificate failed verification, in Postfix's words.
    pub(crate) fn set_verify_error(&self, text: String) {
        set(&self.verify_error, text);
    }

    /// The verification failure, if one was recorded.
    pub(crate) fn verify_error(&self) -> Option<String> {
        get(&self.verify_error)
    }

    /// The session's summary once the handshake is done.
    pub(crate) fn summary(
        &self,
        conn: &rustls::CommonState,
        ccert_requested: bool,
        digest: Digest,
    ) -> Summary {
        let (cipher, usebits, algbits) = conn
            .negotiated_cipher_suite()
            .and_then(|s| names::cipher(s.suite()))
            .unwrap_or(("unknown", 0, 0));
        let version = conn.protocol_version();
        let protocol = version.map(names::protocol).unwrap_or("unknown");
        let tls13 = version == Some(rustls::ProtocolVersion::TLSv1_3);
        let leaf = conn.peer_certificates().and_then(|c| c.first());
        let info = leaf.and_then(|c| der::parse_cert(c));
        let peer_cert = leaf.map(|c| {
            let info = info.clone().unwrap_or_default();
            PeerCert {
                subject_cn: info.subject_cn.unwrap_or_default(),
                issuer_cn: info.issuer_cn.unwrap_or_default(),
                fingerprint: digest.fingerprint(c),
                pkey_fingerprint: digest.fingerprint(&info.spki),
                issuer_oneline: info.issuer_oneline,
            }
        });
        let signature = |scheme, key: &PublicKey| {
            let (algorithm, digest) = names::signature(scheme, key);
            Signature { algorithm, digest }
        };
        let client_key = info.and_then(|i| i.key);
        Summary {
            trust: match (&peer_cert, get(&self.trusted)) {
                (None, _) => Trust::Anonymous,
                (Some(_), _) if get(&self.verified) == Some(true) => Trust::Verified,
                (Some(_), Some(true)) => Trust::Trusted,
                (Some(_), _) => Trust::Untrusted,
            },
            protocol,
            cipher,
            cipher_usebits: usebits,
            cipher_algbits: algbits,
            kex: conn
                .negotiated_key_exchange_group()
                .filter(|_| tls13)
                .map(|g| names::key_exchange(g.name())),
            server_signature: get(&self.server)
                .filter(|_| tls13)
                .map(|(scheme, key)| signature(scheme, &key)),
            client_signature: get(&self.client)
                .filter(|_| tls13)
                .zip(client_key)
                .map(|(scheme, key)| signature(scheme, &key)),
            ccert_requested,
            peer_cert,
        }
    }
}

/// The server's keys for one session, each wrapped to record the scheme it signs with.
#[derive(Debug)]
pub(crate) struct SessionKeys {
    keys: Vec<ServerKey>,
    rec: Arc<Recorder>,
}

impl SessionKeys {
    pub(crate) fn new(keys: Vec<ServerKey>, rec: Arc<Recorder>) -> SessionKeys {
        SessionKeys { keys, rec }
    }
}

impl ResolvesServerCert for SessionKeys {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // The first configured key the client can verify (RSA before ECDSA, the order in
        // which Postfix loads them).
        let offered = hello.signature_schemes();
        let key = self
            .keys
            .iter()
            .find(|k| k.certified.key.choose_scheme(offered).is_some())?;
        let recording = RecordingKey {
            inner: key.certified.key.clone(),
            public: key.public.clone(),
            rec: self.rec.clone(),
        };
        Some(Arc::new(CertifiedKey::new(
            key.certified.cert.clone(),
            Arc::new(recording),
        )))
    }
}

#[derive(Debug)]
struct RecordingKey {
    inner: Arc<dyn SigningKey>,
    public: PublicKey,
    rec: Arc<Recorder>,
}

impl SigningKey for RecordingKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        // The first of the client's schemes the key can make, as OpenSSL picks without
        // server preference (rustls's own order would sign RSA-PSS with SHA512 where
        // Postfix logs server-digest SHA256).
        let signer = offered
            .iter()
            .find_map(|scheme| self.inner.choose_scheme(std::slice::from_ref(scheme)))?;
        set(&self.rec.server, (signer.scheme(), self.public.clone()));
        Some(signer)
    }

    fn public_key(&self) -> Option<rustls::pki_types::SubjectPublicKeyInfoDer<'_>> {
        self.inner.public_key()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.inner.algorithm()
    }
}

/// smtpd_tls_ask_ccert: any certificate is taken, as Postfix's smtpd takes it. With
/// smtpd_tls_CAfile the chain is checked against those CAs (the session is `Trusted`
/// when it passes, `Untrusted` when not), and the CAs' names go to the client as hints.
/// The handshake signature is always checked.
#[derive(Debug)]
pub(crate) struct AnyClientCert {
    provider: Arc<CryptoProvider>,
    mandatory: bool,
    rec: Arc<Recorder>,
    ca: Option<Arc<dyn ClientCertVerifier>>,
}

impl AnyClientCert {
    pub(crate) fn new(
        provider: Arc<CryptoProvider>,
        mandatory: bool,
        rec: Arc<Recorder>,
        ca: Option<Arc<dyn ClientCertVerifier>>,
    ) -> Self {
        AnyClientCert {
            provider,
            mandatory,
            rec,
            ca,
        }
    }
}

impl ClientCertVerifier for AnyClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.ca.as_ref().map_or(&[], |ca| ca.root_hint_subjects())
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if let Some(ca) = &self.ca {
            let ok = ca
                .verify_client_cert(end_entity, intermediates, now)
                .is_ok();
            set(&self.rec.trusted, ok);
        }
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        let valid = rustls::crypto::verify_tls13_signature(message, cert, dss, algs)?;
        set(&self.rec.client, dss.scheme);
        Ok(valid)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
