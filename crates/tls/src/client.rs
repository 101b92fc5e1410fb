//! The SMTP client's side of TLS: STARTTLS to a remote server on rustls.
//!
//! Postfix counterpart: `tls/tls_client.c` (`tls_client_init()`, `tls_client_start()`,
//! `tls_client_post_connect()`, `verify_extract_name()`) and the verification report of
//! `tls/tls_verify.c` (`tls_log_verify_error()`). As in Postfix the handshake always
//! completes whatever the certificate; the caller decides from the [`Summary`]'s trust
//! what to do (the SMTP client defers with `Server certificate not verified` at levels
//! verify and secure unless it is `Verified`). The chain is checked against
//! smtp_tls_CAfile and smtp_tls_CApath (`Trusted`); at levels verify and secure a name
//! of [`crate::peername`] must match too (`Verified`), and a failure is logged as
//! Postfix logs it (`certificate verification failed for host[addr]:port: untrusted
//! issuer /CN=...`). At the DANE levels the chain is matched against the server's
//! TLSA records instead ([`crate::dane`]). The log lines are Postfix's: `setting up TLS connection to
//! host[addr]:port` at smtp_tls_loglevel 2, `Untrusted TLS connection established to
//! host[addr]:port: TLSv1.3 with cipher ...` at 1, `SSL_connect error to ...` when the
//! handshake fails. I/O is blocking and bounded by the socket's own timeouts, which the
//! SMTP client sets per protocol stage.
//!
//! Client certificates (smtp_tls_chain_files, or the cert/key pairs, `tls_certkey.c`) are
//! loaded with the engine and offered when a server asks; one that cannot be used turns
//! the engine off, with Postfix's `cannot get RSA private key from file ...` warning.
//! At smtp_tls_loglevel 2 the SNI name and the chain verification's trace (`depth=N
//! verify=V subject=...`, `tls_verify_certificate_callback()`) are logged as OpenSSL
//! would have them called; OpenSSL's state-machine lines (`SSL_connect:...`) have no
//! rustls counterpart and are not.

use std::io::{self, Read, Write};
use std::sync::Arc;

use log::Severity;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::dane::{self, Dane};
use crate::der;
use crate::digest::Digest;
use crate::peername::{self, Reference};
use crate::record::Recorder;
use crate::server::{HandshakeError, LogFn};
use crate::summary::Summary;

/// The client's settings from main.cf.
#[derive(Debug, Clone, Default)]
pub struct ClientSettings {
    /// smtp_tls_CAfile: the CAs that make a server certificate `Trusted`; empty for none.
    pub ca_file: String,
    /// smtp_tls_CApath: a directory of more of them; empty for none.
    pub ca_path: String,
    /// smtp_tls_loglevel.
    pub loglevel: i32,
    /// smtp_tls_fingerprint_digest, for the fingerprint level.
    pub fingerprint_digest: Digest,
    /// tls_high_cipherlist and its siblings, the lists of the cipher grades.
    pub cipher_lists: crate::ciphers::CipherLists,
    /// smtp_tls_chain_files and the cert/key pairs (`cert_file`, `eccert_file`): the
    /// client certificates, offered when a server asks for one.
    pub certs: crate::CertKeyFiles,
    /// smtp_tls_dcert_file, the "DSA" pair that CertKeyFiles has no slot for.
    pub dcert_file: String,
    /// smtp_tls_dkey_file.
    pub dkey_file: String,
}

/// The client-side TLS engine of one process (Postfix's `smtp_tls_ctx`).
pub struct ClientTls {
    provider: Arc<CryptoProvider>,
    roots: Option<Arc<rustls::RootCertStore>>,
    loglevel: i32,
    fingerprint_digest: Digest,
    cipher_lists: crate::ciphers::CipherLists,
    /// The client certificates, in Postfix's order (RSA, DSA, ECDSA); empty for none.
    certs: Arc<ClientCerts>,
    /// The verifier and certificate resolver of every handshake that keeps sessions:
    /// rustls offers a session only to a configuration with the very verifier and
    /// resolver it was made with, so these stay the same and pass each call to the
    /// handshake's own ([`Current`]).
    delegate: Arc<Delegate>,
}

thread_local! {
    /// The verifier and certificate resolver of the handshake running on this thread,
    /// for [`Delegate`].
    static CURRENT: std::cell::RefCell<Option<(Arc<PolicyVerifier>, Arc<SessionCerts>)>> =
        const { std::cell::RefCell::new(None) };
}

/// Sets [`CURRENT`] for as long as it lives.
struct Current;

impl Current {
    fn set(verifier: Arc<PolicyVerifier>, certs: Arc<SessionCerts>) -> Current {
        CURRENT.with(|c| *c.borrow_mut() = Some((verifier, certs)));
        Current
    }
}

impl Drop for Current {
    fn drop(&mut self) {
        CURRENT.with(|c| *c.borrow_mut() = None);
    }
}

/// Passes each call to the handshake running on the calling thread (rustls runs the
/// verifier and the resolver inside the caller's I/O calls).
#[derive(Debug, Default)]
struct Delegate;

fn current<T>(f: impl FnOnce(&PolicyVerifier, &SessionCerts) -> T) -> T {
    CURRENT.with(|c| {
        let c = c.borrow();
        let (v, r) = c.as_ref().expect("a handshake on this thread");
        f(v, r)
    })
}

impl ServerCertVerifier for Delegate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        current(|v, _| v.verify_server_cert(end_entity, intermediates, server_name, ocsp, now))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        current(|v, _| v.verify_tls12_signature(message, cert, dss))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        current(|v, _| v.verify_tls13_signature(message, cert, dss))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        current(|v, _| v.supported_verify_schemes())
    }
}

impl rustls::client::ResolvesClientCert for Delegate {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        current(|_, r| r.resolve(root_hint_subjects, sigschemes))
    }

    fn has_certs(&self) -> bool {
        current(|_, r| r.has_certs())
    }
}

/// The client certificates of the process, each with its public key for the log.
type ClientCerts = Vec<crate::certkey::ServerKey>;

/// What the client signed with in one handshake: the scheme and its certificate's key,
/// for `client-signature RSA-PSS (2048 bits) client-digest SHA256` (Postfix's
/// `tls_get_signature_params()`, which asks OpenSSL).
type Signed = Arc<std::sync::Mutex<Option<(SignatureScheme, der::PublicKey)>>>;

/// The client certificates offered in one handshake when the server asks for one.
/// Postfix loads them all into one SSL_CTX and OpenSSL picks the first whose key can
/// sign with an algorithm the server accepts; this does the same for rustls.
#[derive(Debug)]
struct SessionCerts {
    keys: Arc<ClientCerts>,
    signed: Signed,
}

impl rustls::client::ResolvesClientCert for SessionCerts {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        let key = self
            .keys
            .iter()
            .find(|k| k.certified.key.choose_scheme(sigschemes).is_some())?;
        let recording = SigningRecorder {
            inner: key.certified.key.clone(),
            public: key.public.clone(),
            signed: self.signed.clone(),
        };
        Some(Arc::new(rustls::sign::CertifiedKey::new(
            key.certified.cert.clone(),
            Arc::new(recording),
        )))
    }

    fn has_certs(&self) -> bool {
        !self.keys.is_empty()
    }
}

/// A client key that notes the scheme it is asked to sign with.
#[derive(Debug)]
struct SigningRecorder {
    inner: Arc<dyn rustls::sign::SigningKey>,
    public: der::PublicKey,
    signed: Signed,
}

impl rustls::sign::SigningKey for SigningRecorder {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn rustls::sign::Signer>> {
        // In the server's order, as OpenSSL picks (rustls's keys go by their own, which
        // puts RSA-PSS with SHA512 before SHA256).
        let signer = offered
            .iter()
            .find_map(|s| self.inner.choose_scheme(std::slice::from_ref(s)))?;
        *self.signed.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((signer.scheme(), self.public.clone()));
        Some(signer)
    }

    fn public_key(&self) -> Option<rustls::pki_types::SubjectPublicKeyInfoDer<'_>> {
        self.inner.public_key()
    }

    fn algorithm(&self) -> rustls::SignatureAlgorithm {
        self.inner.algorithm()
    }
}

/// `tls_set_my_certificate_key_info()` for the client: smtp_tls_chain_files when set,
/// else each pair that is configured, RSA, DSA, ECDSA. A file that cannot be used
/// disables TLS for the process, as in Postfix.
fn load_client_certs(
    settings: &ClientSettings,
    keys: &dyn rustls::crypto::KeyProvider,
) -> Result<ClientCerts, crate::CertKeyError> {
    let files = &settings.certs;
    if !files.chain_files.is_empty() {
        return files.load(keys);
    }
    let mut out = Vec::new();
    for (alg, cert, key) in [
        ("RSA", &files.cert_file, &files.key_file),
        ("DSA", &settings.dcert_file, &settings.dkey_file),
        ("ECDSA", &files.eccert_file, &files.eckey_file),
    ] {
        if cert.is_empty() {
            continue;
        }
        // One file for both, as the key file's default makes it: Postfix reads it
        // otherwise (`load_mixed_file()`).
        if key.is_empty() || key == cert {
            out.push(crate::certkey::load_mixed(cert, keys)?);
        } else {
            out.push(crate::certkey::load_pair(alg, cert, key, keys)?);
        }
    }
    Ok(out)
}

/// The security levels at which the client runs a handshake (Postfix's `TLS_LEV_MAY` to
/// `TLS_LEV_SECURE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClientLevel {
    /// Opportunistic: any certificate.
    May,
    /// Mandatory encryption: any certificate.
    Encrypt,
    /// A certificate or public key with one of the fingerprints, trusted or not.
    Fingerprint,
    /// DANE for a server under an MX RRset that was not validated: the TLSA records
    /// must match, but the session is never more than `Trusted`.
    HalfDane,
    /// DANE: the chain matches one of the server's DNSSEC-validated TLSA records
    /// ([`StartProps::dane`]).
    Dane,
    /// dane-only: as [`ClientLevel::Dane`]; told apart only in the warning about
    /// records that cannot be used.
    DaneOnly,
    /// A trusted certificate that matches smtp_tls_verify_cert_match.
    Verify,
    /// A trusted certificate that matches smtp_tls_secure_cert_match.
    Secure,
}

impl ClientLevel {
    /// Whether the certificate must match (`TLS_MUST_MATCH()`).
    pub fn must_match(self) -> bool {
        self >= ClientLevel::Fingerprint
    }

    /// Whether a session of `trust` satisfies the level (`TLS_CERT_IS_MATCHED()`): at
    /// half-dane a match leaves it `Trusted` (`TLS_NEVER_SECURED()`).
    pub fn matched(self, trust: crate::Trust) -> bool {
        trust == crate::Trust::Verified
            || (self == ClientLevel::HalfDane && trust == crate::Trust::Trusted)
    }
}

/// What one handshake is to check (Postfix's `TLS_CLIENT_START_PROPS`).
#[derive(Debug, Clone, Copy)]
pub struct StartProps<'a> {
    /// The policy's level.
    pub level: ClientLevel,
    /// `host[addr]:port`, for the log.
    pub peer: &'a str,
    /// The server's name (`hostname` in a match list).
    pub host: &'a str,
    /// The next-hop domain (`nexthop`, `dot-nexthop`).
    pub nexthop: &'a str,
    /// The match list at levels verify and secure; the fingerprints at level
    /// fingerprint.
    pub matches: &'a [String],
    /// The protocol list, in Postfix's syntax.
    pub protocols: &'a str,
    /// The cipher grade: high, medium, low, export or null.
    pub cipher_grade: &'a str,
    /// The cipher names and aliases left out (`set_cipher_grade()`'s exclusions).
    pub cipher_exclusions: &'a str,
    /// The name for SNI; empty sends none.
    pub servername: &'a str,
    /// At the DANE levels: the usable TLSA records and the names a DANE-TA chain must
    /// match.
    pub dane: Option<&'a Dane>,
    /// Log why the chain is not trusted even where no match is required (Postfix's
    /// `TLS_LOG_UNTRUSTED`, set from the policy's level: a dane session that fell back
    /// to encrypt).
    pub log_untrusted: bool,
}

/// A client-side TLS stream.
pub struct ClientStream<S> {
    conn: rustls::ClientConnection,
    io: S,
    summary: Summary,
}

impl ClientTls {
    /// Sets up the engine, or logs why not and returns None (Postfix then says "TLS is
    /// required, but our TLS engine is unavailable" where TLS is required).
    pub fn new(settings: &ClientSettings, log: LogFn<'_>) -> Option<ClientTls> {
        if settings.loglevel >= 2 {
            log(Severity::Info, "initializing the client-side TLS engine");
        }
        // The ring provider, as the server side (no aws-lc-sys build).
        #[allow(deprecated)]
        let mut provider = rustls::crypto::ring::default_provider();
        // The key shares in the order of Postfix 3.7's tls_eecdh_auto_curves (X25519
        // X448 prime256v1 secp521r1 secp384r1), of those ring has: the server takes the
        // first share it supports, and rustls's own order starts with secp384r1.
        {
            use rustls::crypto::ring::kx_group::{SECP256R1, SECP384R1, X25519};
            provider.kx_groups = vec![X25519, SECP256R1, SECP384R1];
        }
        let provider = Arc::new(provider);
        let mut roots = match settings.ca_file.as_str() {
            "" => rustls::RootCertStore::empty(),
            file => crate::certkey::load_roots(file)
                .map_err(|e| e.log(log))
                .ok()?,
        };
        if !settings.ca_path.is_empty() {
            crate::certkey::add_root_dir(&mut roots, &settings.ca_path)
                .map_err(|e| e.log(log))
                .ok()?;
        }
        let roots = (!roots.is_empty()).then(|| Arc::new(roots));
        let certs = load_client_certs(settings, provider.key_provider)
            .map_err(|e| e.log(log))
            .ok()?;
        Some(ClientTls {
            provider,
            roots,
            loglevel: settings.loglevel,
            fingerprint_digest: settings.fingerprint_digest,
            cipher_lists: settings.cipher_lists.clone(),
            certs: Arc::new(certs),
            delegate: Arc::default(),
        })
    }

    /// Runs the handshake on `io` after the server's `220` to STARTTLS (the caller's
    /// socket timeouts bound each read and write), checks the certificate as `props`
    /// ask, and logs as Postfix does.
    pub fn connect<S: Read + Write>(
        &self,
        io: S,
        props: &StartProps<'_>,
        log: LogFn<'_>,
    ) -> Result<ClientStream<S>, HandshakeError> {
        self.connect_cached(io, props, None, log)
    }

    /// [`ClientTls::connect`] that offers and keeps sessions in `sessions` under the
    /// server id (tlsproxy's process-wide cache, [`crate::sessions`]). A resumed
    /// session's certificate is checked again as a new one is, so the trust reported
    /// does not depend on resumption (Postfix checks the peer certificate that the
    /// session holds).
    pub fn connect_cached<S: Read + Write>(
        &self,
        io: S,
        props: &StartProps<'_>,
        sessions: Option<(&crate::sessions::SessionCache, &str)>,
        log: LogFn<'_>,
    ) -> Result<ClientStream<S>, HandshakeError> {
        let peer = props.peer;
        if self.loglevel >= 2 {
            log(
                Severity::Info,
                &format!("setting up TLS connection to {peer}"),
            );
        }
        let fail = |log: LogFn<'_>, e: io::Error| {
            let reason = match e.kind() {
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                    Some("Connection timed out".to_string())
                }
                io::ErrorKind::UnexpectedEof => Some("lost connection".to_string()),
                _ if e.raw_os_error().is_some() => Some(sys::os_error(&e)),
                _ => None,
            };
            match reason {
                Some(reason) => log(
                    Severity::Info,
                    &format!("SSL_connect error to {peer}: {reason}"),
                ),
                None => {
                    log(Severity::Info, &format!("SSL_connect error to {peer}: -1"));
                    log(Severity::Warning, &format!("TLS library problem: {e}"));
                }
            }
            HandshakeError(e)
        };
        let protocols = match crate::Protocols::parse(props.protocols) {
            Ok(protocols) => protocols,
            Err(e) => {
                log(
                    Severity::Warning,
                    &format!(
                        "{peer}: Invalid TLS protocol list \"{}\": aborting TLS session",
                        e.0
                    ),
                );
                return Err(HandshakeError(io::Error::other("invalid protocol list")));
            }
        };
        // tls_set_ciphers(): the grade's OpenSSL list less the exclusions, mapped onto
        // rustls's suites.
        let cipher_list = crate::ciphers::usable_cipher_list(
            &self.cipher_lists,
            props.cipher_grade,
            props.cipher_exclusions,
        );
        let cipher_list =
            crate::ciphers::log_cipher_list(&cipher_list, peer, self.loglevel >= 2, &mut *log)
                .map_err(|e| HandshakeError(io::Error::other(e.0)))?;
        let store = sessions.map(|(cache, serverid)| {
            cache.for_server(&crate::sessions::lookup_key(
                serverid,
                props.protocols,
                cipher_list,
            ))
        });
        let provider = Arc::new(CryptoProvider {
            cipher_suites: crate::ciphers::suites(cipher_list),
            ..(*self.provider).clone()
        });
        let dane = match props.level {
            ClientLevel::HalfDane | ClientLevel::Dane | ClientLevel::DaneOnly => {
                props.dane.cloned()
            }
            _ => None,
        };
        let references = {
            let mut warn = |text: String| log(Severity::Warning, &format!("{peer}: {text}"));
            if let Some(dane) = &dane {
                // With DANE trust anchors the names are the TLSA base domain and the MX
                // names, not configurable (`dane_init()`).
                peername::references(&dane.names, props.host, props.nexthop, &mut warn)
            } else if props.level >= ClientLevel::Verify {
                peername::references(props.matches, props.host, props.nexthop, &mut warn)
            } else {
                Vec::new()
            }
        };
        let rec = Arc::new(Recorder::default());
        let dane_matched = Arc::new(std::sync::Mutex::new(Vec::new()));
        let depth_lines = Arc::new(std::sync::Mutex::new(Vec::new()));
        let signed = Signed::default();
        let verifier = Arc::new(PolicyVerifier {
            provider: self.provider.clone(),
            rec: rec.clone(),
            ca: self.roots.as_ref().and_then(|roots| {
                rustls::client::WebPkiServerVerifier::builder_with_provider(
                    roots.clone(),
                    self.provider.clone(),
                )
                .build()
                .ok()
            }),
            must_match: props.level.must_match(),
            references,
            fingerprints: if props.level == ClientLevel::Fingerprint {
                Some((
                    self.fingerprint_digest,
                    props.matches.iter().map(|m| normalize_fpt(m)).collect(),
                ))
            } else {
                None
            },
            dane,
            half_dane: props.level == ClientLevel::HalfDane,
            dane_matched: dane_matched.clone(),
            peer: peer.to_string(),
            roots: self.roots.clone(),
            depth_lines: (self.loglevel >= 2).then(|| depth_lines.clone()),
        });
        let resolver = Arc::new(SessionCerts {
            keys: self.certs.clone(),
            signed: signed.clone(),
        });
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&protocols.rustls_versions())
            .map_err(|e| fail(log, io::Error::other(e)))?
            .dangerous();
        // With sessions kept, the engine's delegate stands in for this handshake's
        // verifier and resolver (see `delegate`); it finds them through `_current`
        // until the handshake is over.
        let _current = store
            .is_some()
            .then(|| Current::set(verifier.clone(), resolver.clone()));
        let config = if store.is_some() {
            builder
                .with_custom_certificate_verifier(self.delegate.clone())
                .with_client_cert_resolver(self.delegate.clone())
        } else {
            builder
                .with_custom_certificate_verifier(verifier.clone())
                .with_client_cert_resolver(resolver)
        };
        // SNI only for a DNS name; an empty name or an address sends none, as Postfix
        // sends none without smtp_tls_servername.
        let (name, sni) = match ServerName::try_from(props.servername.to_string()) {
            Ok(ServerName::DnsName(name)) => (ServerName::DnsName(name), true),
            _ => (
                ServerName::try_from("invalid").expect("a valid name"),
                false,
            ),
        };
        let mut config = config;
        config.enable_sni = sni;
        // Without a store, rustls's default (a cache of this one configuration, so
        // nothing to resume, but the same ClientHello as before tlsproxy).
        if let Some(store) = store {
            config.resumption = rustls::client::Resumption::store(store);
        }
        if sni && self.loglevel >= 2 {
            log(
                Severity::Info,
                &format!("{peer}: SNI hostname: {}", props.servername),
            );
        }
        let name_copy = name.clone();
        let mut conn = rustls::ClientConnection::new(Arc::new(config), name)
            .map_err(|e| fail(log, io::Error::other(e)))?;
        // The verification trace (`tls_verify_certificate_callback()`), logged once
        // the handshake is over or has failed: the log function cannot go into the
        // verifier.
        let flush_trace = |log: LogFn<'_>| {
            let lines = std::mem::take(&mut *depth_lines.lock().unwrap_or_else(|e| e.into_inner()));
            for line in lines {
                log(Severity::Info, &line);
            }
        };
        let mut io = io;
        while conn.is_handshaking() {
            match conn.complete_io(&mut io) {
                Ok((0, 0)) if conn.is_handshaking() => {
                    flush_trace(log);
                    return Err(fail(
                        log,
                        io::Error::new(io::ErrorKind::UnexpectedEof, "lost connection"),
                    ));
                }
                Ok(_) => {}
                Err(e) => {
                    flush_trace(log);
                    return Err(fail(log, e));
                }
            }
        }
        if conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed) {
            // rustls skips the verifier on resumption: run it on the certificates the
            // session kept, so that the recorder sees what a full handshake shows.
            let certs = conn.peer_certificates().unwrap_or_default();
            if let Some((leaf, rest)) = certs.split_first()
                && let Err(e) =
                    verifier.verify_server_cert(leaf, rest, &name_copy, &[], UnixTime::now())
            {
                flush_trace(log);
                return Err(fail(log, io::Error::other(e)));
            }
            if self.loglevel >= 2 {
                log(Severity::Info, &format!("{peer}: Reusing old session"));
            }
        }
        flush_trace(log);
        let mut summary = rec.summary(&conn, false, Digest::Sha256);
        // A resumed TLS 1.3 session has no server signature; Postfix (OpenSSL) then
        // still names the algorithm of the session's server key, without a digest:
        // `server-signature RSA-PSS (2048 bits)`.
        if conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
            && summary.server_signature.is_none()
            && conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3)
            && let Some(key) = conn
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|c| der::parse_cert(c))
                .and_then(|info| info.key)
        {
            let scheme = match key {
                der::PublicKey::Rsa(_) => SignatureScheme::RSA_PSS_SHA256,
                der::PublicKey::Ec(_) => SignatureScheme::ECDSA_NISTP256_SHA256,
                der::PublicKey::Ed25519 => SignatureScheme::ED25519,
            };
            let (algorithm, _) = crate::names::signature(scheme, &key);
            summary.server_signature = Some(crate::Signature {
                algorithm,
                digest: None,
            });
        }
        // The recorder's client signature is the peer's (smtpd's view); here it is ours,
        // logged at TLS 1.3 only, as the server's.
        summary.client_signature = signed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .filter(|_| conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3))
            .map(|(scheme, key)| {
                let (algorithm, digest) = crate::names::signature(scheme, &key);
                crate::Signature { algorithm, digest }
            });
        // Postfix reports a failed verification only where it matters
        // (TLS_LOG_UNTRUSTED), whatever smtp_tls_loglevel says.
        if (props.level.must_match() || props.log_untrusted)
            && !props.level.matched(summary.trust)
            && let Some(text) = rec.verify_error()
        {
            log(Severity::Info, &text);
        }
        // What matched, at smtp_tls_loglevel 2 (`verify_extract_name()`,
        // `tls_dane_log()`).
        if self.loglevel >= 2 && props.level.matched(summary.trust) {
            for line in dane_matched
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
            {
                log(Severity::Info, line);
            }
        }
        if self.loglevel >= 2
            && let Some(cert) = &summary.peer_cert
        {
            log(
                Severity::Info,
                &format!(
                    "{peer}: subject_CN={}, issuer_CN={}, fingerprint={}, pkey_fingerprint={}",
                    cert.subject_cn, cert.issuer_cn, cert.fingerprint, cert.pkey_fingerprint
                ),
            );
        }
        if self.loglevel >= 1 {
            log(Severity::Info, &summary.established("to", peer));
        }
        Ok(ClientStream { conn, io, summary })
    }
}

impl<S: Read + Write> ClientStream<S> {
    /// What was negotiated.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The underlying stream, e.g. to set its timeouts.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// Whether decrypted data waits in the engine, so that a read returns without the
    /// socket being readable (a relay must drain it before it waits on the socket).
    pub fn has_pending(&mut self) -> bool {
        matches!(self.conn.process_new_packets(), Ok(s) if s.plaintext_bytes_to_read() > 0)
    }

    /// One read from the socket, which the caller found readable, then the plaintext
    /// it completed: None when none yet (part of a record, or a session ticket, which a
    /// TLS 1.3 server sends unasked), Some(0) at the end of the session. A relay
    /// cannot use [`Read::read`], which waits for plaintext however long it takes.
    pub fn read_ready(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        let got = self.conn.read_tls(&mut self.io)?;
        self.conn.process_new_packets().map_err(io::Error::other)?;
        while self.conn.wants_write() {
            self.conn.write_tls(&mut self.io)?;
        }
        match self.conn.reader().read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                Ok(if got == 0 { Some(0) } else { None })
            }
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(Some(0)),
            Err(e) => Err(e),
        }
    }

    /// Whether the session was resumed rather than made anew.
    pub fn resumed(&self) -> bool {
        self.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }

    /// Sends close_notify.
    pub fn shutdown(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        while self.conn.wants_write() {
            self.conn.write_tls(&mut self.io)?;
        }
        self.io.flush()
    }
}

impl<S: Read + Write> Read for ClientStream<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match rustls::Stream::new(&mut self.conn, &mut self.io).read(buf) {
            // A server that closes without close_notify: end of file all the same.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
            other => other,
        }
    }
}

impl<S: Read + Write> Write for ClientStream<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.conn.writer().write(buf)?;
        while self.conn.wants_write() {
            self.conn.write_tls(&mut self.io)?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            self.conn.write_tls(&mut self.io)?;
        }
        self.io.flush()
    }
}

/// The server's certificate is always taken (the handshake completes, as Postfix's
/// verify callback always continues); with CAs its chain decides between Trusted and
/// Untrusted, and at levels verify and secure a name must match too for Verified. The
/// handshake signature is always checked, and recorded with the server's key for the
/// log line.
#[derive(Debug)]
struct PolicyVerifier {
    provider: Arc<CryptoProvider>,
    rec: Arc<Recorder>,
    ca: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    must_match: bool,
    references: Vec<Reference>,
    /// At level fingerprint: the digest and the fingerprints, as [`normalize_fpt`] has
    /// them.
    fingerprints: Option<(Digest, Vec<String>)>,
    /// At the DANE levels: the usable TLSA records.
    dane: Option<Dane>,
    /// Half-dane: a match is `Trusted`, not `Verified`.
    half_dane: bool,
    /// What a match logs at smtp_tls_loglevel 2 (the matched name, a DANE record).
    dane_matched: Arc<std::sync::Mutex<Vec<String>>>,
    peer: String,
    /// The CAs, to name the trust anchor atop a verified chain in the trace.
    roots: Option<Arc<rustls::RootCertStore>>,
    /// At smtp_tls_loglevel 2: the `depth=N verify=V subject=...` lines of the chain
    /// verification.
    depth_lines: Option<Arc<std::sync::Mutex<Vec<String>>>>,
}

/// A fingerprint without colons, in upper case: how Postfix's list may write it.
fn normalize_fpt(text: &str) -> String {
    text.chars()
        .filter(|c| *c != ':')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl PolicyVerifier {
    /// Postfix's report of a chain that did not verify (`tls_log_verify_error()`).
    fn chain_error(
        &self,
        error: &rustls::CertificateError,
        leaf: Option<&der::CertInfo>,
        intermediates: &[CertificateDer<'_>],
    ) -> String {
        use rustls::CertificateError as E;
        let peer = &self.peer;
        // OpenSSL looks for the issuer first: a lone self-signed certificate fails
        // there, whatever else webpki finds wrong with it (a CA certificate as the end
        // entity, as `openssl req -x509` makes).
        let self_signed =
            intermediates.is_empty() && leaf.is_some_and(|c| c.subject_der == c.issuer_der);
        if self_signed {
            return format!("certificate verification failed for {peer}: self-signed certificate");
        }
        match error {
            E::UnknownIssuer => {
                // The issuer of the last certificate the server sent: the one no trusted
                // CA vouches for.
                let issuer = match intermediates.last() {
                    Some(top) => der::parse_cert(top).map(|c| c.issuer_oneline),
                    None => leaf.map(|c| c.issuer_oneline.clone()),
                };
                format!(
                    "certificate verification failed for {peer}: untrusted issuer {}",
                    issuer.unwrap_or_else(|| "<unknown>".to_string())
                )
            }
            E::Expired | E::ExpiredContext { .. } => format!(
                "server certificate verification failed for {peer}: certificate has expired"
            ),
            E::NotValidYet | E::NotValidYetContext { .. } => format!(
                "server certificate verification failed for {peer}: certificate not yet valid"
            ),
            E::InvalidPurpose | E::InvalidPurposeContext { .. } => format!(
                "certificate verification failed for {peer}: not designated for use as a server certificate"
            ),
            E::BadSignature => format!(
                "server certificate verification failed for {peer}: num=7:certificate signature failure"
            ),
            E::Revoked => format!(
                "server certificate verification failed for {peer}: num=23:certificate revoked"
            ),
            _ => format!(
                "server certificate verification failed for {peer}: num=1:unspecified certificate verification error"
            ),
        }
    }
}

impl PolicyVerifier {
    /// The lines `tls_verify_certificate_callback()` logs at smtp_tls_loglevel 2, as
    /// OpenSSL's chain verification calls it: first for each error (an issuer not
    /// found or not trusted at the top of the chain the server sent, then a name that
    /// does not match at depth 0 where names are checked), then once per certificate
    /// from the trust anchor down to the server's (`internal_verify()`). Only for the
    /// levels that verify by CA; DANE and fingerprints go through OpenSSL's DANE code.
    fn depth_trace(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        trusted: bool,
        name_ok: bool,
    ) -> Vec<String> {
        struct Link {
            subject: String,
            self_issued: bool,
            issuer_der: Vec<u8>,
        }
        let link = |der: &[u8]| match der::parse_cert(der) {
            Some(info) => Link {
                subject: der::oneline(&info.subject_der),
                self_issued: info.subject_der == info.issuer_der,
                issuer_der: info.issuer_der,
            },
            None => Link {
                subject: "<unknown>".to_string(),
                self_issued: false,
                issuer_der: Vec::new(),
            },
        };
        let mut chain: Vec<Link> = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| link(c))
            .collect();
        let peer = &self.peer;
        let line = |depth: usize, ok: bool, subject: &str| {
            format!(
                "{peer}: depth={depth} verify={} subject={subject}",
                u8::from(ok)
            )
        };
        let mut out = Vec::new();
        let top_self_issued = chain.last().is_some_and(|l| l.self_issued);
        if trusted {
            // The CA the chain ends in, unless the server sent it.
            if !top_self_issued
                && let Some(top) = chain.last()
                && let Some(anchor) = self.roots.as_ref().and_then(|roots| {
                    roots
                        .roots
                        .iter()
                        .find(|ta| ta.subject.as_ref() == top.issuer_der.as_slice())
                })
            {
                let subject = der::oneline(anchor.subject.as_ref());
                chain.push(Link {
                    subject,
                    self_issued: true,
                    issuer_der: Vec::new(),
                });
            }
        } else if let Some(top) = chain.last() {
            out.push(line(chain.len() - 1, false, &top.subject));
        }
        if !name_ok {
            out.push(line(0, false, &chain[0].subject));
        }
        let top = chain.len() - 1;
        if trusted || top_self_issued {
            out.extend((0..=top).rev().map(|d| line(d, true, &chain[d].subject)));
        } else if top == 0 {
            // No issuer to check the server's signature with: a failure, then the
            // certificate's own success all the same (OpenSSL 3).
            out.push(line(0, false, &chain[0].subject));
            out.push(line(0, true, &chain[0].subject));
        } else {
            out.extend((0..top).rev().map(|d| line(d, true, &chain[d].subject)));
        }
        out
    }

    /// Whether the chain from `end_entity` through `intermediates` leads to `anchor`,
    /// whatever the names (they are checked apart).
    fn anchored(
        &self,
        anchor: &CertificateDer<'_>,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<(), rustls::CertificateError> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(anchor.clone().into_owned())
            .map_err(|_| rustls::CertificateError::BadEncoding)?;
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            self.provider.clone(),
        )
        .build()
        .map_err(|_| rustls::CertificateError::BadEncoding)?;
        match verifier.verify_server_cert(end_entity, intermediates, server_name, &[], now) {
            Ok(_) => Ok(()),
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(()),
            Err(rustls::Error::InvalidCertificate(e)) => Err(e),
            Err(_) => Err(rustls::CertificateError::BadEncoding),
        }
    }

    /// DANE as OpenSSL does it for Postfix: a DANE-EE match is enough; a DANE-TA match
    /// makes that certificate the only trust anchor of a chain verification whose leaf
    /// must match one of the DANE names (a 2 0 0 record's certificate is tried as the
    /// anchor above the chain the server sent when nothing in it matched); otherwise
    /// `num=65:no matching DANE TLSA records`.
    fn dane_verify(
        &self,
        dane: &Dane,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<(), String> {
        let peer = &self.peer;
        let chain: Vec<&[u8]> = intermediates.iter().map(|c| c.as_ref()).collect();
        let spki_of = |c: &[u8]| der::parse_cert(c).map(|info| info.spki);
        let matched = |what: &str, depth: usize, t: &dane::Tlsa| {
            format!(
                "{peer}: Matched DANE {what} at depth {depth}: {} {} {} {}",
                t.usage,
                t.selector,
                t.mtype,
                dane::dump(&t.data)
            )
        };
        let mut log = self.dane_matched.lock().unwrap_or_else(|e| e.into_inner());
        let leaf = der::parse_cert(end_entity);
        let (at, tlsa, chain) = match dane::find(&dane.tlsa, end_entity, &chain, &spki_of) {
            dane::Match::EndEntity(t) => {
                log.push(matched("EE certificate", 0, &t));
                return Ok(());
            }
            dane::Match::TrustAnchor(at, t) => {
                let below = &intermediates[..at];
                let chain = self.anchored(&intermediates[at], end_entity, below, server_name, now);
                (at, t, chain)
            }
            dane::Match::None => {
                // A DANE-TA record of a whole certificate (2 0 0) is a trust anchor
                // even when the server leaves it out of its chain, as OpenSSL takes it.
                let at = intermediates.len();
                let anchored = dane.tlsa.iter().find(|t| {
                    t.usage == dane::USAGE_DANE_TA && t.selector == 0 && t.mtype == 0 && {
                        let anchor = CertificateDer::from(t.data.clone());
                        self.anchored(&anchor, end_entity, intermediates, server_name, now)
                            .is_ok()
                    }
                });
                match anchored {
                    Some(t) => (at, t.clone(), Ok(())),
                    None => {
                        return Err(format!(
                            "server certificate verification failed for {peer}: num=65:no matching DANE TLSA records"
                        ));
                    }
                }
            }
        };
        if let Err(e) = chain {
            return Err(self.chain_error(&e, leaf.as_ref(), intermediates));
        }
        match leaf
            .as_ref()
            .and_then(|c| peername::matched(c, &self.references))
        {
            Some(name) => {
                log.push(format!("{peer}: matched peername: {}", name.text()));
                log.push(matched("TA certificate", at + 1, &tlsa));
                Ok(())
            }
            None => {
                let (num, text) = peername::mismatch(&self.references);
                Err(format!(
                    "server certificate verification failed for {peer}: num={num}:{text}"
                ))
            }
        }
    }
}

impl ServerCertVerifier for PolicyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let leaf = der::parse_cert(end_entity);
        // Trust is about the chain, not the SNI name (Postfix's TLS_CERT_IS_TRUSTED); the
        // names are this verifier's own business below.
        let chain = match &self.ca {
            None => Err(rustls::CertificateError::UnknownIssuer),
            Some(ca) => {
                match ca.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
                    Ok(_) => Ok(()),
                    Err(rustls::Error::InvalidCertificate(e)) => match e {
                        rustls::CertificateError::NotValidForName
                        | rustls::CertificateError::NotValidForNameContext { .. } => Ok(()),
                        e => Err(e),
                    },
                    Err(_) => Err(rustls::CertificateError::BadEncoding),
                }
            }
        };
        if let Some(lines) = &self.depth_lines
            && self.fingerprints.is_none()
            && self.dane.is_none()
        {
            let name_ok = !self.must_match
                || leaf
                    .as_ref()
                    .and_then(|c| peername::matched(c, &self.references))
                    .is_some();
            let trace = self.depth_trace(end_entity, intermediates, chain.is_ok(), name_ok);
            *lines.lock().unwrap_or_else(|e| e.into_inner()) = trace;
        }
        if !self.must_match {
            if self.ca.is_some() {
                self.rec.set_trusted(chain.is_ok());
            }
            if let Err(e) = &chain {
                let text = self.chain_error(e, leaf.as_ref(), intermediates);
                self.rec.set_verify_error(text);
            }
            return Ok(ServerCertVerified::assertion());
        }
        // Postfix 3.7 matches fingerprints as DANE-EE TLSA records of the certificate
        // and of its public key: the chain does not matter.
        if let Some((digest, wanted)) = &self.fingerprints {
            let spki = leaf.as_ref().map(|c| c.spki.clone()).unwrap_or_default();
            let have = [
                normalize_fpt(&digest.fingerprint(end_entity)),
                normalize_fpt(&digest.fingerprint(&spki)),
            ];
            let matched = wanted.iter().any(|w| have.contains(w));
            self.rec.set_trusted(matched);
            self.rec.set_verified(matched);
            if !matched {
                self.rec.set_verify_error(format!(
                    "server certificate verification failed for {}: num=65:no matching DANE TLSA records",
                    self.peer
                ));
            }
            return Ok(ServerCertVerified::assertion());
        }
        if let Some(dane) = &self.dane {
            let outcome = self.dane_verify(dane, end_entity, intermediates, server_name, now);
            self.rec.set_trusted(outcome.is_ok());
            self.rec.set_verified(outcome.is_ok() && !self.half_dane);
            if let Err(text) = outcome {
                self.rec.set_verify_error(text);
            }
            return Ok(ServerCertVerified::assertion());
        }
        // OpenSSL checks the names inside the chain verification at these levels: a
        // name that does not match leaves the certificate untrusted altogether.
        let outcome = match chain {
            Err(e) => Err(self.chain_error(&e, leaf.as_ref(), intermediates)),
            Ok(()) => {
                let matched = leaf
                    .as_ref()
                    .and_then(|c| peername::matched(c, &self.references));
                match matched {
                    Some(name) => {
                        // SSL_get0_peername(), logged at smtp_tls_loglevel 2.
                        self.dane_matched
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(format!("{}: matched peername: {}", self.peer, name.text()));
                        Ok(())
                    }
                    None => {
                        let (num, text) = peername::mismatch(&self.references);
                        Err(format!(
                            "server certificate verification failed for {}: num={num}:{text}",
                            self.peer
                        ))
                    }
                }
            }
        };
        self.rec.set_trusted(outcome.is_ok());
        self.rec.set_verified(outcome.is_ok());
        if let Err(text) = outcome {
            self.rec.set_verify_error(text);
        }
        Ok(ServerCertVerified::assertion())
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
        if let Some(key) = der::parse_cert(cert).and_then(|info| info.key) {
            self.rec.set_server_signature(dss.scheme, key);
        }
        Ok(valid)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The text settings of a tlsproxy request's `TLS_CLIENT_PARAMS` after its cipher lists,
/// in the order Postfix's `tls_proxy_client_param_print()` sends them.
pub const PROXY_PARAM_TEXTS: [&str; 8] = [
    "tls_eecdh_auto_curves",
    "tls_eecdh_strong_curve",
    "tls_eecdh_ultra_curve",
    "tls_disable_workarounds",
    "tls_ssl_options",
    "tls_dane_digests",
    "tlsmgr_service_name",
    "tls_session_ticket_cipher",
];

/// The number settings that follow them: a byte count, then four booleans.
pub const PROXY_PARAM_NUMBERS: [&str; 5] = [
    "tls_daemon_random_bytes",
    "tls_append_default_CA",
    "tls_legacy_public_key_fingerprints",
    "tls_preempt_cipherlist",
    "tls_wildcard_matches_multiple_labels",
];

/// The handshake's outcome as tlsproxy sends it back to its client (Postfix's
/// `tls_proxy_context_scan()`), read through `text` and `int` by Postfix's attribute
/// names, for the client to log `... TLS connection established to ...` and judge the
/// certificate by. Names the summary holds as static text are matched against the ones
/// this crate can negotiate ("unknown" for others).
pub fn summary_from_context(text: &dyn Fn(&str) -> String, int: &dyn Fn(&str) -> i32) -> Summary {
    // TLS_CERT_FLAG_PRESENT, _TRUSTED, _MATCHED.
    let status = int("peer_status");
    let peer_cert = (status & 1 != 0).then(|| crate::PeerCert {
        subject_cn: text("peer_CN"),
        issuer_cn: text("issuer_CN"),
        fingerprint: text("peer_fingerprint"),
        pkey_fingerprint: text("peer_pubkey_fingerprint"),
        issuer_oneline: String::new(),
    });
    let trust = match (&peer_cert, status & 4 != 0, status & 8 != 0) {
        (None, _, _) => crate::Trust::Anonymous,
        (Some(_), _, true) => crate::Trust::Verified,
        (Some(_), true, false) => crate::Trust::Trusted,
        (Some(_), false, false) => crate::Trust::Untrusted,
    };
    // `tls_log_summary()`'s joining: `NAME (curve)` or `NAME (N bits)`.
    let named = |prefix: &str| -> Option<String> {
        let name = text(prefix);
        if name.is_empty() {
            return None;
        }
        let curve = text(&format!("{prefix}_curve"));
        let bits = int(&format!("{prefix}_bits"));
        Some(if !curve.is_empty() {
            format!("{name} ({curve})")
        } else if bits > 0 {
            format!("{name} ({bits} bits)")
        } else {
            name
        })
    };
    let signature = |prefix: &str| {
        named(prefix).map(|algorithm| crate::Signature {
            algorithm,
            digest: ["SHA256", "SHA384", "SHA512", "SHA1"]
                .into_iter()
                .find(|d| *d == text(&format!("{prefix}_digest"))),
        })
    };
    let protocol = text("cipher_protocol");
    let cipher = text("cipher_name");
    Summary {
        trust,
        protocol: ["TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1"]
            .into_iter()
            .find(|p| *p == protocol)
            .unwrap_or("unknown"),
        cipher: rustls::crypto::ring::ALL_CIPHER_SUITES
            .iter()
            .filter_map(|s| crate::names::cipher(s.suite()))
            .map(|(name, _, _)| name)
            .find(|name| *name == cipher)
            .unwrap_or("unknown"),
        cipher_usebits: int("cipher_usebits").max(0) as u32,
        cipher_algbits: int("cipher_algbits").max(0) as u32,
        kex: named("key_exchange"),
        server_signature: signature("srvr_signature"),
        client_signature: signature("clnt_signature"),
        ccert_requested: false,
        peer_cert,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(name: &str) -> String {
        format!("{}/tests/golden/certs/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    fn load(settings: &ClientSettings) -> Result<ClientCerts, crate::CertKeyError> {
        #[allow(deprecated)]
        let provider = rustls::crypto::ring::default_provider();
        load_client_certs(settings, provider.key_provider)
    }

    fn pair(cert_file: &str, key_file: &str) -> ClientSettings {
        ClientSettings {
            certs: crate::CertKeyFiles {
                cert_file: cert(cert_file),
                key_file: cert(key_file),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn client_certificates_load_or_say_why_not() {
        assert!(load(&ClientSettings::default()).unwrap().is_empty());
        assert_eq!(load(&pair("client.pem", "client.key")).unwrap().len(), 1);
        let e = load(&pair("client.pem", "broken.key")).unwrap_err();
        assert_eq!(
            e.text,
            format!(
                "cannot get RSA private key from file \"{}\": disabling TLS support",
                cert("broken.key")
            )
        );
        // The key of another certificate.
        let e = load(&pair("client.pem", "rsa.key")).unwrap_err();
        assert!(e.text.starts_with("cannot get RSA private key"), "{e:?}");
        // The DSA pair is named as such; ECDSA comes after RSA.
        let dsa = ClientSettings {
            dcert_file: cert("client.pem"),
            dkey_file: cert("broken.key"),
            ..Default::default()
        };
        let e = load(&dsa).unwrap_err();
        assert!(e.text.starts_with("cannot get DSA private key"), "{e:?}");
        let mut both = pair("client.pem", "client.key");
        both.certs.eccert_file = cert("ecdsa.pem");
        both.certs.eckey_file = cert("ecdsa.key");
        // One file for both: Postfix's mixed-file words.
        let mixed = |file: &str| ClientSettings {
            certs: crate::CertKeyFiles {
                cert_file: file.to_string(),
                ..Default::default()
            },
            ..Default::default()
        };
        let e = load(&mixed(&cert("client.pem"))).unwrap_err();
        let file = cert("client.pem");
        assert_eq!(
            e.text,
            format!(
                "No private key found in {file}\nerror loading private keys and certificates from: {file}: disabling TLS support"
            )
        );
        assert!(e.detail.is_empty());
        let e = load(&mixed("/nonexistent/x.pem")).unwrap_err();
        assert_eq!(
            e.text,
            "error opening chain file: /nonexistent/x.pem: No such file or directory"
        );
        let keys = load(&both).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys[1].certified.key.algorithm(),
            rustls::SignatureAlgorithm::ECDSA
        );
    }
}
