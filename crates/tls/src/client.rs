//! The SMTP client's side of TLS: STARTTLS to a remote server on rustls.
//!
//! Postfix counterpart: `tls/tls_client.c` (`tls_client_init()`, `tls_client_start()`)
//! for the security levels that do not authenticate the server (`may` and `encrypt`):
//! any certificate is accepted, the handshake signature is always checked, and with
//! smtp_tls_CAfile the chain is checked against those CAs so that the log says
//! `Trusted` rather than `Untrusted`. The log lines are Postfix's: `setting up TLS
//! connection to host[addr]:port` at smtp_tls_loglevel 2, `Untrusted TLS connection
//! established to host[addr]:port: TLSv1.3 with cipher ...` at 1, `SSL_connect error to
//! ...` when the handshake fails. I/O is blocking and bounded by the socket's own
//! timeouts, which the SMTP client sets per protocol stage.

use std::io::{self, Read, Write};
use std::sync::Arc;

use log::Severity;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::der;
use crate::digest::Digest;
use crate::record::Recorder;
use crate::server::{HandshakeError, LogFn};
use crate::summary::Summary;

/// The client's settings from main.cf.
#[derive(Debug, Clone, Default)]
pub struct ClientSettings {
    /// smtp_tls_CAfile: the CAs that make a server certificate `Trusted`; empty for none.
    pub ca_file: String,
    /// smtp_tls_loglevel.
    pub loglevel: i32,
}

/// The client-side TLS engine of one process (Postfix's `smtp_tls_ctx`).
pub struct ClientTls {
    provider: Arc<CryptoProvider>,
    roots: Option<Arc<rustls::RootCertStore>>,
    loglevel: i32,
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
        let roots = if settings.ca_file.is_empty() {
            None
        } else {
            match crate::certkey::load_roots(&settings.ca_file) {
                Ok(roots) => Some(Arc::new(roots)),
                Err(e) => {
                    log(e.severity, &e.text);
                    log(
                        Severity::Warning,
                        &format!("TLS library problem: {}", e.detail),
                    );
                    return None;
                }
            }
        };
        Some(ClientTls {
            provider,
            roots,
            loglevel: settings.loglevel,
        })
    }

    /// Runs the handshake on `io` after the server's `220` to STARTTLS (the caller's
    /// socket timeouts bound each read and write), and logs as Postfix does;
    /// `servername` goes into SNI when it is a DNS name, `peer` is `host[addr]:port`.
    pub fn connect<S: Read + Write>(
        &self,
        io: S,
        servername: &str,
        peer: &str,
        log: LogFn<'_>,
    ) -> Result<ClientStream<S>, HandshakeError> {
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
        let rec = Arc::new(Recorder::default());
        let verifier = AnyServerCert {
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
        };
        let config = rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| fail(log, io::Error::other(e)))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        // SNI only for a DNS name; an empty name or an address sends none, as Postfix
        // sends none without smtp_tls_servername.
        let (name, sni) = match ServerName::try_from(servername.to_string()) {
            Ok(ServerName::DnsName(name)) => (ServerName::DnsName(name), true),
            _ => (
                ServerName::try_from("invalid").expect("a valid name"),
                false,
            ),
        };
        let mut config = config;
        config.enable_sni = sni;
        let mut conn = rustls::ClientConnection::new(Arc::new(config), name)
            .map_err(|e| fail(log, io::Error::other(e)))?;
        let mut io = io;
        while conn.is_handshaking() {
            match conn.complete_io(&mut io) {
                Ok((0, 0)) if conn.is_handshaking() => {
                    return Err(fail(
                        log,
                        io::Error::new(io::ErrorKind::UnexpectedEof, "lost connection"),
                    ));
                }
                Ok(_) => {}
                Err(e) => return Err(fail(log, e)),
            }
        }
        let summary = rec.summary(&conn, false, Digest::Sha256);
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

/// Levels may and encrypt: any server certificate is taken; with smtp_tls_CAfile its
/// chain decides between Trusted and Untrusted. The handshake signature is always
/// checked, and recorded with the server's key for the log line.
#[derive(Debug)]
struct AnyServerCert {
    provider: Arc<CryptoProvider>,
    rec: Arc<Recorder>,
    ca: Option<Arc<rustls::client::WebPkiServerVerifier>>,
}

impl ServerCertVerifier for AnyServerCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(ca) = &self.ca {
            // Trusted is about the chain, not the name (Postfix's TLS_CERT_IS_TRUSTED).
            let trusted =
                match ca.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
                    Ok(_) => true,
                    Err(rustls::Error::InvalidCertificate(e)) => matches!(
                        e,
                        rustls::CertificateError::NotValidForName
                            | rustls::CertificateError::NotValidForNameContext { .. }
                    ),
                    Err(_) => false,
                };
            self.rec.set_trusted(trusted);
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
