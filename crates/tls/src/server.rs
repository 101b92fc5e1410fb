//! The server side: settings from smtpd's parameters, the engine made from them once per
//! process, and a handshake per session with Postfix's log lines. Postfix counterpart:
//! `tls/tls_server.c` (`tls_server_init()`, `tls_server_start()`,
//! `tls_server_post_accept()`). Session resumption (tickets, tlsmgr's cache) is in
//! [`crate::resume`].

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;

use log::Severity;
use rustls::crypto::CryptoProvider;

use crate::certkey::{CertKeyFiles, ServerKey};
use crate::digest::Digest;
use crate::protocols::{InvalidProtocols, Protocols};
use crate::record::{AnyClientCert, Recorder, SessionKeys};
use crate::resume::{Resumption, Session};
use crate::stream::{Tap, TlsStream};

/// Where log records go: severity and text without prefix, as `log::write` takes them
/// (tests pass a collector).
pub type LogFn<'a> = &'a mut dyn FnMut(Severity, &str);

/// smtpd_tls_security_level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityLevel {
    /// No STARTTLS.
    None,
    /// STARTTLS offered; plain sessions allowed.
    May,
    /// STARTTLS required before MAIL (smtpd enforces that).
    Encrypt,
}

impl SecurityLevel {
    /// Parses the value; the empty value is `none` (Postfix then looks at the obsolete
    /// smtpd_use_tls/smtpd_enforce_tls, which the caller maps itself).
    pub fn parse(value: &str) -> Option<SecurityLevel> {
        match value.to_ascii_lowercase().as_str() {
            "" | "none" => Some(SecurityLevel::None),
            "may" => Some(SecurityLevel::May),
            "encrypt" => Some(SecurityLevel::Encrypt),
            _ => None,
        }
    }
}

/// smtpd's TLS parameters, as plain values.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// smtpd_tls_security_level.
    pub level: SecurityLevel,
    /// The certificate and key files.
    pub files: CertKeyFiles,
    /// smtpd_tls_protocols (level `may`).
    pub protocols: String,
    /// smtpd_tls_mandatory_protocols (level `encrypt`).
    pub mandatory_protocols: String,
    /// smtpd_tls_ask_ccert.
    pub ask_ccert: bool,
    /// smtpd_tls_req_ccert (Postfix honours it at level `encrypt` only; the handshake
    /// completes and smtpd then ends the session, see [`ServerTls::requires_ccert`]).
    pub req_ccert: bool,
    /// smtpd_tls_loglevel.
    pub loglevel: u32,
    /// smtpd_tls_CAfile: CAs that make a client certificate `Trusted` (PEM).
    pub ca_file: String,
    /// smtpd_tls_fingerprint_digest, as expanded (`sha256`, or `md5` below
    /// compatibility_level 3.6).
    pub fingerprint_digest: String,
    /// smtpd_tls_ciphers (level `may`).
    pub ciphers: String,
    /// smtpd_tls_mandatory_ciphers (level `encrypt`).
    pub mandatory_ciphers: String,
    /// smtpd_tls_exclude_ciphers.
    pub exclude_ciphers: String,
    /// smtpd_tls_mandatory_exclude_ciphers (level `encrypt`).
    pub mandatory_exclude_ciphers: String,
    /// tls_high_cipherlist and its siblings.
    pub cipher_lists: crate::ciphers::CipherLists,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            level: SecurityLevel::None,
            files: CertKeyFiles::default(),
            protocols: ">=TLSv1".into(),
            mandatory_protocols: ">=TLSv1".into(),
            ask_ccert: false,
            req_ccert: false,
            loglevel: 0,
            ca_file: String::new(),
            fingerprint_digest: "sha256".into(),
            ciphers: "medium".into(),
            mandatory_ciphers: "medium".into(),
            exclude_ciphers: String::new(),
            mandatory_exclude_ciphers: String::new(),
            cipher_lists: crate::ciphers::CipherLists::default(),
        }
    }
}

/// The server-side engine, made once per process (Postfix's `TLS_APPL_STATE`).
pub struct ServerTls {
    provider: Arc<CryptoProvider>,
    versions: Vec<&'static rustls::SupportedProtocolVersion>,
    keys: Vec<ServerKey>,
    ask_ccert: bool,
    req_ccert: bool,
    loglevel: u32,
    ca: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
    digest: Digest,
    /// The OpenSSL cipher string of the grade and exclusions, or the warning that
    /// aborts each handshake (`tls_set_ciphers()` runs per session in Postfix).
    cipher_list: Result<String, crate::ciphers::CipherError>,
    /// What asks tlsmgr's policy, until the first handshake has run it.
    resumption_setup: std::sync::Mutex<Option<ResumptionSetup>>,
    /// Tickets and tlsmgr's cache, when tlsmgr's policy allows them.
    resumption: std::sync::Mutex<Option<Arc<Resumption>>>,
}

/// Sets resumption up, logging through the given function (see
/// [`ServerTls::set_resumption`]).
pub type ResumptionSetup = Box<dyn FnOnce(LogFn<'_>) -> Option<Resumption> + Send>;

/// A failed handshake (already logged).
#[derive(Debug)]
pub struct HandshakeError(pub std::io::Error);

impl std::fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ServerTls {
    /// Sets up the engine, or logs Postfix's warnings and returns None: TLS is then off
    /// for the process and smtpd offers no STARTTLS, as Postfix does.
    pub fn new(settings: &ServerSettings, log: LogFn<'_>) -> Option<ServerTls> {
        if settings.level == SecurityLevel::None {
            return None;
        }
        let files = &settings.files;
        let legacy = !(files.cert_file.is_empty() || files.cert_file.eq_ignore_ascii_case("none"))
            || !files.eccert_file.is_empty();
        if !files.chain_files.is_empty() && legacy {
            // smtpd.c's words, double spaces and all.
            log(
                Severity::Warning,
                "Both smtpd_tls_chain_files and one or more of the legacy  smtpd_tls_cert_file, smtpd_tls_eccert_file or smtpd_tls_dcert_file are non-empty; the legacy  parameters will be ignored",
            );
        }
        if settings.loglevel >= 2 {
            log(Severity::Info, "initializing the server-side TLS engine");
        }
        let list = match settings.level {
            SecurityLevel::Encrypt => &settings.mandatory_protocols,
            _ => &settings.protocols,
        };
        let versions = match Protocols::parse(list) {
            Ok(p) if !p.rustls_versions().is_empty() => p.rustls_versions(),
            Ok(_) => {
                // ironpost's own text: Postfix's OpenSSL would still speak TLSv1/TLSv1.1.
                log(
                    Severity::Warning,
                    &format!(
                        "TLS protocol list \"{list}\" allows neither TLSv1.2 nor TLSv1.3, the only versions supported: disabling TLS support"
                    ),
                );
                return None;
            }
            Err(e @ InvalidProtocols(_)) => {
                log(Severity::Warning, &e.to_string());
                return None;
            }
        };
        let Some(digest) = Digest::by_name(&settings.fingerprint_digest) else {
            // Postfix's two lines (tls_server.c).
            let name = &settings.fingerprint_digest;
            log(
                Severity::Warning,
                &format!("Digest algorithm \"{name}\" not found"),
            );
            log(Severity::Warning, "disabling TLS support");
            return None;
        };
        if settings.files.is_empty() {
            // Postfix's smtpd: no certificate, no STARTTLS (the same words as Postfix).
            log(
                Severity::Warning,
                "No server certs available. TLS won't be enabled",
            );
            return None;
        }
        // Deprecated only for lacking post-quantum key exchange, which Postfix 3.7 on
        // OpenSSL 3.0 lacks too; ring keeps aws-lc-sys and its C build out.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let loaded =
            settings
                .files
                .load_warned(provider.key_provider)
                .and_then(|(keys, warnings)| {
                    // Postfix's warnings about files it still uses come as it reads them.
                    for warning in &warnings {
                        log(Severity::Warning, warning);
                    }
                    let ca = crate::certkey::load_ca(&settings.ca_file, &provider)?;
                    Ok((keys, ca))
                });
        let (keys, ca) = match loaded {
            Ok(loaded) => loaded,
            Err(e) => {
                e.log(log);
                return None;
            }
        };
        // smtpd's grade and exclusions (smtpd_start_tls()).
        let encrypt = settings.level == SecurityLevel::Encrypt;
        let (grade, mut exclusions) = if encrypt {
            (
                &settings.mandatory_ciphers,
                vec![
                    &settings.exclude_ciphers,
                    &settings.mandatory_exclude_ciphers,
                ],
            )
        } else {
            (&settings.ciphers, vec![&settings.exclude_ciphers])
        };
        let anull = "aNULL".to_string();
        if settings.ask_ccert || settings.req_ccert {
            exclusions.push(&anull);
        }
        let exclusions: Vec<&str> = exclusions
            .into_iter()
            .map(String::as_str)
            .filter(|w| !w.is_empty())
            .collect();
        let cipher_list = crate::ciphers::usable_cipher_list(
            &settings.cipher_lists,
            grade,
            &exclusions.join(" "),
        );
        Some(ServerTls {
            cipher_list,
            ca,
            digest,
            provider,
            versions,
            keys,
            ask_ccert: settings.ask_ccert || settings.req_ccert,
            req_ccert: settings.req_ccert && settings.level == SecurityLevel::Encrypt,
            loglevel: settings.loglevel,
            resumption_setup: std::sync::Mutex::new(None),
            resumption: std::sync::Mutex::new(None),
        })
    }

    /// Turns on session resumption: `setup` asks tlsmgr's policy and makes the
    /// [`Resumption`], at the first handshake of the process. Postfix asks in
    /// `tls_server_init()`; asking only when a client wants TLS spares tlsmgr (and its
    /// warnings, when it is missing) the processes that never do, and `smtpd -W`.
    /// Without this, sessions are never resumed.
    pub fn set_resumption(&mut self, setup: ResumptionSetup) {
        self.resumption_setup = std::sync::Mutex::new(Some(setup));
    }

    /// The resumption state, made by the setup on first use.
    fn resumption(&self, log: LogFn<'_>) -> Option<Arc<Resumption>> {
        let setup = lock(&self.resumption_setup).take();
        let mut resumption = lock(&self.resumption);
        if let Some(setup) = setup {
            *resumption = setup(log).map(Arc::new);
        }
        resumption.clone()
    }

    /// Whether smtpd must end a session without a trusted client certificate
    /// (smtpd_tls_req_ccert at level encrypt); see [`crate::Summary::required_ccert_missing`].
    pub fn requires_ccert(&self) -> bool {
        self.req_ccert
    }

    /// A rustls configuration for one session, with recorders for what rustls does not
    /// report itself (which signature each side made). A process serves one session at
    /// a time, so this costs a few allocations per STARTTLS. `resume` is this session's
    /// ticket producer and store, when resumption is on.
    fn session_config(
        &self,
        cipher_list: &str,
        resume: Option<&Session>,
    ) -> Result<(Arc<rustls::ServerConfig>, Arc<Recorder>), rustls::Error> {
        let rec = Arc::new(Recorder::default());
        let provider = Arc::new(CryptoProvider {
            cipher_suites: crate::ciphers::suites(cipher_list),
            ..(*self.provider).clone()
        });
        let builder = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&self.versions)?;
        let builder = if self.ask_ccert {
            // Never mandatory in the handshake: Postfix's smtpd_tls_req_ccert lets it
            // complete, then smtpd aborts the session (Summary::required_ccert_missing).
            builder.with_client_cert_verifier(Arc::new(AnyClientCert::new(
                self.provider.clone(),
                false,
                rec.clone(),
                self.ca.clone(),
            )))
        } else {
            builder.with_no_client_auth()
        };
        let mut config =
            builder.with_cert_resolver(Arc::new(SessionKeys::new(self.keys.clone(), rec.clone())));
        config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
        config.send_tls13_tickets = 0;
        if let Some(resume) = resume {
            if let Some(ticketer) = resume.tickets() {
                config.ticketer = ticketer;
            }
            if let Some(store) = resume.store() {
                config.session_storage = store;
            }
            // One ticket per full handshake, as Postfix tells OpenSSL
            // (SSL_CTX_set_num_tickets(1)).
            config.send_tls13_tickets = 1;
        }
        Ok((Arc::new(config), rec))
    }

    /// Runs the server handshake on `io` (after `220 Ready to start TLS`, or at once in
    /// wrapper mode) within `timeout`, logs as Postfix does for smtpd_tls_loglevel, and
    /// returns the stream; `peer` is `host[addr]`.
    pub fn accept<S: Read + Write + AsRawFd, T: Tap>(
        &self,
        io: S,
        tap: T,
        peer: &str,
        timeout: Duration,
        log: LogFn<'_>,
    ) -> Result<TlsStream<S, T>, HandshakeError> {
        if self.loglevel >= 2 {
            log(
                Severity::Info,
                &format!("setting up TLS connection from {peer}"),
            );
        }
        let fail = |log: LogFn<'_>, e: std::io::Error| {
            // Postfix logs the system's reason for an I/O failure (%m, "lost connection"
            // at end of file), and for a protocol failure OpenSSL's return value, -1,
            // then the library's reason.
            let reason = match e.kind() {
                std::io::ErrorKind::TimedOut => Some("Connection timed out".to_string()),
                std::io::ErrorKind::UnexpectedEof => Some("lost connection".to_string()),
                _ if e.raw_os_error().is_some() => Some(sys::os_error(&e)),
                _ => None,
            };
            if let Some(reason) = reason {
                log(
                    Severity::Info,
                    &format!("SSL_accept error from {peer}: {reason}"),
                );
            } else {
                log(Severity::Info, &format!("SSL_accept error from {peer}: -1"));
                log(Severity::Warning, &format!("TLS library problem: {e}"));
            }
            HandshakeError(e)
        };
        let cipher_list =
            crate::ciphers::log_cipher_list(&self.cipher_list, peer, self.loglevel >= 2, &mut *log)
                .map_err(|e| HandshakeError(std::io::Error::other(e.0)))?;
        let resume = self.resumption(&mut *log).map(|r| r.session(peer));
        let (config, rec) = self
            .session_config(cipher_list, resume.as_ref())
            .map_err(|e| fail(log, std::io::Error::other(e)))?;
        let conn = rustls::ServerConnection::new(config)
            .map_err(|e| fail(log, std::io::Error::other(e)))?;
        let mut stream = TlsStream::new(conn, io, tap);
        // Postfix logs the cache and ticket steps as OpenSSL calls back during the
        // handshake; rustls's callbacks cannot log, so their lines come right after it.
        let cache_log = |log: LogFn<'_>, lines: Vec<String>| {
            if self.loglevel >= 2 {
                for line in lines {
                    log(Severity::Info, &line);
                }
            }
        };
        if let Err(e) = stream.handshake(timeout) {
            if let Some(resume) = &resume {
                cache_log(log, resume.abandon());
            }
            return Err(fail(log, e));
        }
        let conn = stream.connection();
        let tls13 = conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3);
        let resumed = conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
        if let Some(resume) = &resume {
            cache_log(log, resume.finish(tls13, resumed));
        }
        let mut summary = rec.summary(stream.connection(), self.ask_ccert, self.digest);
        if resumed && tls13 && summary.server_signature.is_none() {
            // A resumed TLS 1.3 session has no server signature; OpenSSL still
            // reports the server key's algorithm, without a digest.
            summary.server_signature = self.keys.first().map(|k| resumed_signature(&k.public));
        }
        if let Some(cert) = summary.peer_cert.as_ref() {
            // Postfix logs untrusted certificates when it requires trusted ones
            // (TLS_LOG_UNTRUSTED). The reason is "untrusted issuer" for a chain to no
            // configured CA; rustls's other reasons (expiry...) are not told apart yet.
            if self.req_ccert && summary.trust == crate::Trust::Untrusted {
                let issuer = &cert.issuer_oneline;
                log(
                    Severity::Info,
                    &format!(
                        "certificate verification failed for {peer}: untrusted issuer {issuer}"
                    ),
                );
            }
        }
        if let Some(cert) = summary.peer_cert.as_ref().filter(|_| self.loglevel >= 2) {
            log(Severity::Info, &cert.log_line(peer));
        }
        if self.loglevel >= 1 {
            log(Severity::Info, &summary.established("from", peer));
        }
        stream.set_summary(summary);
        Ok(stream)
    }
}

/// What Postfix shows as the server signature of a resumed TLS 1.3 session: the
/// algorithm TLS 1.3 signs with for the key, no digest.
fn resumed_signature(key: &crate::der::PublicKey) -> crate::Signature {
    use rustls::SignatureScheme as S;
    let scheme = match key {
        crate::der::PublicKey::Rsa(_) => S::RSA_PSS_SHA256,
        crate::der::PublicKey::Ec(_) => S::ECDSA_NISTP256_SHA256,
        crate::der::PublicKey::Ed25519 => S::ED25519,
    };
    crate::Signature {
        algorithm: crate::names::signature(scheme, key).0,
        digest: None,
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
