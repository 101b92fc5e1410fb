//! The server's certificates and private keys, from PEM files named as smtpd's
//! parameters name them, with Postfix's warnings when they cannot be used. Postfix
//! counterpart: `tls/tls_certkey.c` (`tls_set_ca_certificate_info()` aside).
//!
//! Two ways, as in Postfix 3.7: `smtpd_tls_chain_files` (each file holds keys, each
//! followed by its certificate chain, RSA and ECDSA alike), or the older pairs
//! `smtpd_tls_cert_file`/`smtpd_tls_key_file` (the "RSA" slot, though any key type
//! works) and `smtpd_tls_eccert_file`/`smtpd_tls_eckey_file`. When chain files are set
//! the pairs are ignored. Any failure disables TLS for the process, as Postfix does.

use rustls::crypto::KeyProvider;
use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use std::sync::Arc;

use crate::der::{self, PublicKey};
use log::Severity;

/// Certificate and key files are configuration; this bound keeps a wrong path (a
/// device, a huge log) from being read whole.
const MAX_PEM_FILE: u64 = 1 << 20;

/// Where the certificates and keys come from (smtpd's parameter values, as expanded).
#[derive(Clone, Debug, Default)]
pub struct CertKeyFiles {
    /// smtpd_tls_chain_files, already split into names.
    pub chain_files: Vec<String>,
    /// smtpd_tls_cert_file.
    pub cert_file: String,
    /// smtpd_tls_key_file (Postfix's default is the cert file).
    pub key_file: String,
    /// smtpd_tls_eccert_file.
    pub eccert_file: String,
    /// smtpd_tls_eckey_file (Postfix's default is the eccert file).
    pub eckey_file: String,
}

/// One usable key with its chain, and what the log line says of its public key.
#[derive(Clone, Debug)]
pub struct ServerKey {
    /// The chain and signing key as rustls uses them.
    pub certified: Arc<CertifiedKey>,
    /// The leaf certificate's public key, for `server-signature RSA-PSS (2048 bits)`.
    pub public: PublicKey,
}

/// Why TLS is disabled: Postfix's text, then a detail line in the place of OpenSSL's
/// `TLS library problem:` lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertKeyError {
    /// Postfix logs most of these as warnings, the CA file's as info.
    pub severity: Severity,
    /// Postfix's text without the severity, e.g. `cannot get RSA private key from file
    /// "/x": disabling TLS support`.
    pub text: String,
    /// What went wrong, in our words (Postfix logs OpenSSL's error queue here).
    pub detail: String,
}

impl std::fmt::Display for CertKeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl CertKeyFiles {
    /// Whether any certificate is configured (Postfix: no certificate, no TLS).
    pub fn is_empty(&self) -> bool {
        self.chain_files.is_empty() && self.cert_file.is_empty() && self.eccert_file.is_empty()
    }

    /// Loads every configured key and chain; the first failure disables TLS.
    pub fn load(&self, keys: &dyn KeyProvider) -> Result<Vec<ServerKey>, CertKeyError> {
        if !self.chain_files.is_empty() {
            let mut out = Vec::new();
            for file in &self.chain_files {
                out.extend(load_chain_file(file, keys).map_err(|detail| CertKeyError {
                    severity: Severity::Warning,
                    text: format!(
                        "error loading private keys and certificates from: {file}: disabling TLS support"
                    ),
                    detail,
                })?);
            }
            return Ok(out);
        }
        let mut out = Vec::new();
        for (alg, cert, key) in [
            ("RSA", &self.cert_file, &self.key_file),
            ("ECDSA", &self.eccert_file, &self.eckey_file),
        ] {
            if !cert.is_empty() {
                let key = if key.is_empty() { cert } else { key };
                out.push(load_pair(alg, cert, key, keys)?);
            }
        }
        Ok(out)
    }
}

/// Reads a PEM file's sections, bounded in size.
fn sections(file: &str) -> Result<Vec<(SectionKind, Vec<u8>)>, String> {
    use std::io::Read;
    let f = std::fs::File::open(file).map_err(|e| format!("open {file}: {e}"))?;
    let mut data = Vec::new();
    f.take(MAX_PEM_FILE + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("read {file}: {e}"))?;
    if data.len() as u64 > MAX_PEM_FILE {
        return Err(format!("{file}: larger than {MAX_PEM_FILE} bytes"));
    }
    <(SectionKind, Vec<u8>)>::pem_slice_iter(&data)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{file}: bad PEM data: {e:?}"))
}

fn private_key(kind: SectionKind, der: Vec<u8>) -> Option<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem(kind, der)
}

/// A certificate chain plus its key, checked to belong together.
fn certified(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    keys: &dyn KeyProvider,
) -> Result<ServerKey, String> {
    let signing = keys
        .load_private_key(key)
        .map_err(|e| format!("unusable private key: {e}"))?;
    let leaf = chain.first().ok_or("no certificate")?;
    let info = der::parse_cert(leaf).ok_or("certificate not in X.509 DER")?;
    let public = info
        .key
        .ok_or("certificate with an unknown public key type")?;
    // Compared here rather than with rustls's keys_match(), which parses the certificate
    // with webpki and so refuses X.509 v1 certificates that OpenSSL (and Postfix) use.
    if signing
        .public_key()
        .is_some_and(|spki| spki.as_ref() != info.spki.as_slice())
    {
        return Err("key values mismatch".into());
    }
    let certified = CertifiedKey::new(chain, signing);
    Ok(ServerKey {
        certified: Arc::new(certified),
        public,
    })
}

/// smtpd_tls_cert_file/key_file or the eccert pair. Postfix reads the certificate first,
/// then the key, whose check against the certificate also reports a mismatch.
pub(crate) fn load_pair(
    alg: &str,
    cert_file: &str,
    key_file: &str,
    keys: &dyn KeyProvider,
) -> Result<ServerKey, CertKeyError> {
    let fail = |what: &str, file: &str, detail: String| CertKeyError {
        severity: Severity::Warning,
        text: format!("cannot get {alg} {what} from file \"{file}\": disabling TLS support"),
        detail,
    };
    let chain: Vec<CertificateDer<'static>> = sections(cert_file)
        .map_err(|d| fail("certificate", cert_file, d))?
        .into_iter()
        .filter_map(|(kind, der)| CertificateDer::from_pem(kind, der))
        .collect();
    if chain.is_empty() {
        return Err(fail(
            "certificate",
            cert_file,
            format!("{cert_file}: no certificate"),
        ));
    }
    let key = sections(key_file)
        .map_err(|d| fail("private key", key_file, d))?
        .into_iter()
        .find_map(|(kind, der)| private_key(kind, der))
        .ok_or_else(|| {
            fail(
                "private key",
                key_file,
                format!("{key_file}: no private key"),
            )
        })?;
    certified(chain, key, keys).map_err(|d| fail("private key", key_file, d))
}

/// A cert file that is its own key file too (the key file's default): Postfix's
/// `load_mixed_file()`, which takes one key anywhere in the file and the certificates
/// in their order, with warnings of its own. The error's `text` may hold several lines,
/// each a warning of its own, and its `detail` is empty where Postfix logs no library
/// errors. Only the SMTP client uses it so far; smtpd's pairs still go through
/// [`load_pair`].
pub(crate) fn load_mixed(file: &str, keys: &dyn KeyProvider) -> Result<ServerKey, CertKeyError> {
    let lines = |lines: Vec<String>, detail: String| CertKeyError {
        severity: Severity::Warning,
        text: lines.join("\n"),
        detail,
    };
    let failed =
        format!("error loading private keys and certificates from: {file}: disabling TLS support");
    if let Err(e) = std::fs::File::open(file) {
        let text = format!("error opening chain file: {file}: {}", sys::os_error(&e));
        return Err(lines(vec![text], String::new()));
    }
    let objects = sections(file).map_err(|detail| {
        lines(
            vec![format!("TLS library problem: {detail}"), failed.clone()],
            String::new(),
        )
    })?;
    let mut key = None;
    let mut chain = Vec::new();
    for (n, (kind, der)) in objects.into_iter().enumerate() {
        if let Some(found) = private_key(kind, der.clone()) {
            // A second key is passed over (with a warning in Postfix, not fatal).
            key.get_or_insert((n + 1, found));
        } else if let Some(cert) = CertificateDer::from_pem(kind, der) {
            chain.push(cert);
        }
    }
    match (key, chain.is_empty()) {
        (None, true) => Err(lines(
            vec![format!("No PEM data in {file}"), failed],
            String::new(),
        )),
        (Some((at, _)), true) => Err(lines(
            vec![format!("No certs for key at index {at} in {file}"), failed],
            String::new(),
        )),
        (None, false) => Err(lines(
            vec![format!("No private key found in {file}"), failed],
            String::new(),
        )),
        (Some((at, key)), false) => certified(chain, key, keys).map_err(|detail| {
            lines(
                vec![
                    format!("key at index {at} in {file} does not match next certificate"),
                    format!("TLS library problem: {detail}"),
                    failed,
                ],
                String::new(),
            )
        }),
    }
}

/// One smtpd_tls_chain_files entry: each private key followed by its certificates.
fn load_chain_file(file: &str, keys: &dyn KeyProvider) -> Result<Vec<ServerKey>, String> {
    let mut groups: Vec<(PrivateKeyDer<'static>, Vec<CertificateDer<'static>>)> = Vec::new();
    for (kind, der) in sections(file)? {
        if let Some(key) = private_key(kind, der.clone()) {
            groups.push((key, Vec::new()));
        } else if let Some(cert) = CertificateDer::from_pem(kind, der) {
            let (_, chain) = groups
                .last_mut()
                .ok_or_else(|| format!("{file}: certificate before its private key"))?;
            chain.push(cert);
        }
    }
    if groups.is_empty() {
        return Err(format!("{file}: no private key"));
    }
    groups
        .into_iter()
        .map(|(key, chain)| certified(chain, key, keys))
        .collect()
}

/// smtpd_tls_CAfile as a verifier of client certificates, None when unset. Postfix's
/// text when the file cannot be used is from `tls_set_ca_certificate_info()`.
pub(crate) fn load_ca(
    file: &str,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>, CertKeyError> {
    if file.is_empty() {
        return Ok(None);
    }
    let roots = load_roots(file)?;
    rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map(Some)
        .map_err(|e| ca_error(file, format!("{file}: {e}")))
}

/// The certificates of a CA file (smtpd_tls_CAfile, smtp_tls_CAfile).
pub(crate) fn load_roots(file: &str) -> Result<rustls::RootCertStore, CertKeyError> {
    let mut roots = rustls::RootCertStore::empty();
    for (kind, der) in sections(file).map_err(|e| ca_error(file, e))? {
        if let Some(cert) = CertificateDer::from_pem(kind, der) {
            roots
                .add(cert)
                .map_err(|e| ca_error(file, format!("{file}: {e}")))?;
        }
    }
    Ok(roots)
}

/// Adds the certificates of a CA directory (smtp_tls_CApath): every file in it that
/// holds PEM certificates, as the hashed names `openssl rehash` makes point to them.
/// Files that are not PEM are passed over, as OpenSSL's lookup never reads them.
pub(crate) fn add_root_dir(
    roots: &mut rustls::RootCertStore,
    dir: &str,
) -> Result<(), CertKeyError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ca_path_error(dir, format!("{dir}: {e}")))?;
    let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths.into_iter().filter(|p| p.is_file()) {
        let Ok(sections) = sections(&path.to_string_lossy()) else {
            continue;
        };
        for (kind, der) in sections {
            if let Some(cert) = CertificateDer::from_pem(kind, der) {
                // A duplicate (a file and its hash link) is refused quietly by the store.
                let _ = roots.add(cert);
            }
        }
    }
    Ok(())
}

/// Postfix's refusal of an unusable CA directory.
fn ca_path_error(dir: &str, detail: String) -> CertKeyError {
    CertKeyError {
        severity: Severity::Info,
        text: format!(
            "cannot load Certification Authority data, CApath=\"{dir}\": disabling TLS support"
        ),
        detail,
    }
}

/// Postfix's refusal of an unusable CA file, with the library's `detail`.
fn ca_error(file: &str, detail: String) -> CertKeyError {
    CertKeyError {
        severity: Severity::Info,
        text: format!(
            "cannot load Certification Authority data, CAfile=\"{file}\": disabling TLS support"
        ),
        detail,
    }
}
