//! Postfix 3.7's TLS behaviour on rustls, for smtpd and the SMTP client.
//!
//! Postfix counterpart: `src/tls` — `tls_server.c` ([`server`]), `tls_client.c`
//! ([`client`], [`peername`]), `tls_certkey.c`
//! ([`certkey`]), `tls_misc.c` ([`protocols`], [`ciphers`], [`names`], [`summary`]), `tls_verify.c`
//! ([`der`], [`record`]), `tls_fprint.c` ([`digest`]), `tls_dane.c` ([`dane`]), `tls_bio_ops.c` and
//! `tls_stream.c` ([`stream`]).
//!
//! - [`ServerSettings`] holds smtpd's parameter values; [`ServerTls::new`] loads the
//!   certificates and keys once per process and logs Postfix's warnings (`cannot get RSA
//!   private key from file "...": disabling TLS support`) when TLS must be off.
//! - [`ServerTls::accept`] runs the handshake on any `Read + Write + AsRawFd` within a
//!   timeout (after STARTTLS, or at once in wrapper mode, port 465), logs `Anonymous TLS
//!   connection established from host[addr]: ...` per smtpd_tls_loglevel, and returns a
//!   [`TlsStream`].
//! - Every plaintext byte of a session, before and after STARTTLS, passes one [`Tap`]
//!   ([`Plain`] before, [`TlsStream`] after).
//! - [`Summary`] gives the log line and the Received: header clause byte for byte as
//!   Postfix writes them, with OpenSSL's names for what rustls negotiated.
//! - [`ClientTls::connect`] runs the client's handshake after STARTTLS at a
//!   [`ClientLevel`] (may, encrypt, fingerprint, dane, verify, secure), checks the server's
//!   certificate as the [`StartProps`] ask, and logs Postfix's `Untrusted`/`Trusted`/
//!   `Verified TLS connection established to ...` line and, where a match is required,
//!   the reason a certificate failed.
//!
//! How smtpd uses it (a sketch):
//!
//! ```text
//! // Once per process, from main.cf (TLS off, with Postfix's warnings logged, on None).
//! let tls = ServerTls::new(&settings, &mut |sev, text| log::write(sev, text));
//! // Per session: every byte through one tap, plain first.
//! let mut stream = Plain::new(tcp, transcript);
//! // ... "STARTTLS" read, "220 2.0.0 Ready to start TLS" written; commands the client
//! // pipelined after STARTTLS are dropped from smtpd's own buffer (Postfix 2.8.4 fix) ...
//! let (tcp, transcript) = stream.into_parts();
//! let mut tls_stream = tls.accept(tcp, transcript, "host[addr]", starttls_timeout, log)?;
//! tls_stream.set_timeout(Some(smtpd_timeout));
//! let summary = tls_stream.summary().unwrap(); // Received: clause, abort reasons
//! ```
//!
//! Synchronous: no async runtime, as every ironpost daemon. rustls with the `ring`
//! provider only (no aws-lc-sys), TLS 1.2 and 1.3.

pub mod certkey;
pub mod ciphers;
pub mod client;
pub mod dane;
pub mod der;
pub mod digest;
pub mod names;
pub mod peername;
pub mod protocols;
mod record;
pub mod resume;
pub mod server;
pub mod sessions;
pub mod stream;
pub mod summary;

pub use certkey::{CertKeyError, CertKeyFiles};
pub use client::{ClientLevel, ClientSettings, ClientStream, ClientTls, StartProps};
pub use dane::{Dane, Tlsa};
pub use digest::Digest;
pub use protocols::Protocols;
pub use server::{HandshakeError, LogFn, SecurityLevel, ServerSettings, ServerTls};
pub use stream::{Plain, Tap, TlsStream};
pub use summary::{PeerCert, Signature, Summary, Trust};
