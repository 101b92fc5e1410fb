//! The server's certificates and private keys, from PEM files named as smtpd's
//! parameters name them, with Postfix's warnings when they cannot be used. Postfix
//! counterpart: `tls/tls_certkey.c` (`tls_set_ca_certificate_info()` aside).
//!
//! Two ways, as in Postfix 3.7: `smtpd_tls_chain_files` (the files read as one
//! sequence: each key, then its certificate and issuers, RSA and ECDSA alike), or the
//! older pairs `smtpd_tls_cert_file`/`smtpd_tls_key_file` (the "RSA" slot, though any key
//! type works) and `smtpd_tls_eccert_file`/`smtpd_tls_eckey_file`. A pair whose two
//! names are the same file (the key file's default) is read in one pass, its one key
//! anywhere among the certificates (`load_mixed_file()`). When chain files are set the
//! pairs are ignored. Any failure disables TLS for the process, with Postfix's warnings.

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
        self.load_warned(keys).map(|(out, _)| out)
    }

    /// [`load`](Self::load), with the warnings Postfix logs about files it still uses
    /// (a second key in a cert file, a PEM object that is neither key nor certificate).
    pub fn load_warned(
        &self,
        keys: &dyn KeyProvider,
    ) -> Result<(Vec<ServerKey>, Vec<String>), CertKeyError> {
        if !self.chain_files.is_empty() {
            return load_chain_files(&self.chain_files, keys);
        }
        let mut out = Vec::new();
        let mut warnings = Vec::new();
        for (alg, cert, key) in [
            ("RSA", &self.cert_file, &self.key_file),
            ("ECDSA", &self.eccert_file, &self.eckey_file),
        ] {
            if cert.is_empty() {
                continue;
            }
            // One file for both, as the key file's default makes it: read in one pass,
            // so that a key rollover cannot pair an old key with a new certificate.
            if key.is_empty() || key == cert {
                let (key, warned) = load_mixed_warned(cert, keys)?;
                out.push(key);
                warnings.extend(warned);
            } else {
                out.push(load_pair(alg, cert, key, keys)?);
            }
        }
        Ok((out, warnings))
    }
}

impl CertKeyError {
    /// Logs the error as Postfix does: each of its warnings on a line of its own, then
    /// the library's reason when there is one.
    pub fn log(&self, log: crate::LogFn<'_>) {
        for line in self.text.lines() {
            log(self.severity, line);
        }
        if !self.detail.is_empty() {
            log(
                Severity::Warning,
                &format!("TLS library problem: {}", self.detail),
            );
        }
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
/// each a warning of its own, and its `detail` is empty (the library's reasons are among
/// the lines, where Postfix logs them).
pub(crate) fn load_mixed(file: &str, keys: &dyn KeyProvider) -> Result<ServerKey, CertKeyError> {
    load_mixed_warned(file, keys).map(|(key, _)| key)
}

/// [`load_mixed`], with the warnings about a file that is still used.
fn load_mixed_warned(
    file: &str,
    keys: &dyn KeyProvider,
) -> Result<(ServerKey, Vec<String>), CertKeyError> {
    let mut load = PemLoad::new(file, true, keys);
    let data = match read_pem_file(file) {
        Ok(data) => data,
        Err(opening) => return Err(load.unopened(opening)),
    };
    load.file(file, &data, true)?;
    let key = load.loaded.pop().ok_or_else(|| load.failed(Vec::new()))?;
    Ok((key, load.warnings))
}

/// smtpd_tls_chain_files (or smtp_tls_chain_files): the files read as one sequence of
/// keys, each followed by its certificate and issuers (Postfix's `load_chain_files()`).
/// Postfix names the parameter's value in its last warning; the names rejoined with
/// commas stand in for it.
fn load_chain_files(
    files: &[String],
    keys: &dyn KeyProvider,
) -> Result<(Vec<ServerKey>, Vec<String>), CertKeyError> {
    let origin = files.join(", ");
    let mut load = PemLoad::new(&origin, false, keys);
    for (n, file) in files.iter().enumerate() {
        let data = match read_pem_file(file) {
            Ok(data) => data,
            // Postfix stops there with this warning alone (and, unlike here, keeps TLS on
            // with whatever the earlier files held: a handshake then fails).
            Err(opening) => return Err(load.unopened(opening)),
        };
        load.file(file, &data, n + 1 == files.len())?;
    }
    Ok((load.loaded, load.warnings))
}

/// A PEM file's bytes, bounded in size; Err is Postfix's warning when it cannot be
/// opened.
fn read_pem_file(file: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let f = std::fs::File::open(file)
        .map_err(|e| format!("error opening chain file: {file}: {}", sys::os_error(&e)))?;
    let mut data = Vec::new();
    // A read error or an oversized file: left for the PEM reader to find nothing in.
    let _ = f.take(MAX_PEM_FILE + 1).read_to_end(&mut data);
    if data.len() as u64 > MAX_PEM_FILE {
        data.clear();
    }
    Ok(data)
}

/// What the PEM reader saw last (Postfix's `PEM_LOAD_STATE_*` of tls_certkey.c, the
/// failed states being an `Err`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Nothing yet.
    Nothing,
    /// A private key, waiting for its certificate.
    Key,
    /// A certificate (and maybe issuers) after its key, or first in a mixed file.
    Cert,
    /// In a mixed file: the key and the first certificate, in either order.
    Both,
}

/// The state of one load: the key and chain being put together, the keys done, and
/// the warnings so far.
struct PemLoad<'k> {
    keys: &'k dyn KeyProvider,
    /// The chain files' names, or the mixed file's: the last warning's subject.
    origin: String,
    /// One file whose one key may come anywhere (`load_mixed_file()`).
    mixed: bool,
    seen: Seen,
    key: Option<PrivateKeyDer<'static>>,
    chain: Vec<CertificateDer<'static>>,
    /// Where the current key was: its object number and file.
    keynum: usize,
    keysrc: String,
    loaded: Vec<ServerKey>,
    warnings: Vec<String>,
}

impl<'k> PemLoad<'k> {
    fn new(origin: &str, mixed: bool, keys: &'k dyn KeyProvider) -> Self {
        PemLoad {
            keys,
            origin: origin.to_string(),
            mixed,
            seen: Seen::Nothing,
            key: None,
            chain: Vec::new(),
            keynum: 0,
            keysrc: String::new(),
            loaded: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The error that disables TLS: the warnings so far, `more`, and Postfix's closing
    /// line.
    fn failed(&mut self, more: Vec<String>) -> CertKeyError {
        let closing = format!(
            "error loading private keys and certificates from: {}: disabling TLS support",
            self.origin
        );
        self.warnings.extend(more);
        self.warnings.push(closing);
        self.error()
    }

    /// A file that cannot be opened: Postfix's one warning (after any earlier ones), with
    /// no closing line.
    fn unopened(&mut self, opening: String) -> CertKeyError {
        self.warnings.push(opening);
        self.error()
    }

    fn error(&mut self) -> CertKeyError {
        CertKeyError {
            severity: Severity::Warning,
            text: std::mem::take(&mut self.warnings).join("\n"),
            detail: String::new(),
        }
    }

    /// The current key with its chain, checked to belong together (`use_chain()`).
    fn use_chain(&mut self) -> Result<(), String> {
        let key = self.key.take().ok_or("no private key")?;
        let chain = std::mem::take(&mut self.chain);
        self.loaded.push(certified(chain, key, self.keys)?);
        Ok(())
    }

    /// Reads one file's objects; `last` completes the final chain (`load_pem_bio()`).
    fn file(&mut self, source: &str, data: &[u8], last: bool) -> Result<(), CertKeyError> {
        let mut objects = <(SectionKind, Vec<u8>)>::pem_slice_iter(data);
        let mut objnum = 0;
        loop {
            objnum += 1;
            let (kind, der) = match objects.next() {
                None => break,
                Some(Ok(object)) => object,
                Some(Err(e)) => {
                    let problem = format!("TLS library problem: {source}: bad PEM data: {e:?}");
                    return Err(self.failed(vec![problem]));
                }
            };
            if kind == SectionKind::Certificate {
                self.cert(source, objnum, CertificateDer::from(der))?;
            } else if let Some(key) = private_key(kind, der) {
                self.private_key(source, objnum, key)?;
            } else if !self.mixed {
                self.warnings.push(format!(
                    "loading {source}: ignoring PEM type: {}",
                    pem_label(kind)
                ));
            }
            // Where the key is, as Postfix notes it after each object: in a mixed file
            // the first key's place; otherwise wherever the reader is while a key waits
            // for its certificate.
            let new_key = if self.mixed {
                self.keynum == 0 && matches!(self.seen, Seen::Key | Seen::Both)
            } else {
                self.seen == Seen::Key
            };
            if new_key {
                self.keynum = objnum;
                self.keysrc = source.to_string();
            }
        }
        if !last {
            return Ok(());
        }
        let (keynum, keysrc) = (self.keynum, self.keysrc.clone());
        let problem = match self.seen {
            Seen::Nothing => format!("No PEM data in {}", self.origin),
            Seen::Key => format!("No certs for key at index {keynum} in {keysrc}"),
            Seen::Cert if self.mixed => format!("No private key found in {}", self.origin),
            Seen::Cert | Seen::Both => match self.use_chain() {
                Ok(()) => return Ok(()),
                Err(detail) => {
                    let mismatch = format!(
                        "key at index {keynum} in {keysrc} does not match next certificate"
                    );
                    return Err(
                        self.failed(vec![mismatch, format!("TLS library problem: {detail}")])
                    );
                }
            },
        };
        Err(self.failed(vec![problem]))
    }

    /// A certificate (`load_cert()`): the leaf after its key, then issuers.
    fn cert(
        &mut self,
        source: &str,
        objnum: usize,
        cert: CertificateDer<'static>,
    ) -> Result<(), CertKeyError> {
        if !self.mixed && self.seen == Seen::Nothing {
            let text = format!("error loading chain from {source}: key not first");
            return Err(self.failed(vec![text]));
        }
        if der::parse_cert(&cert).is_none() {
            let text =
                format!("error loading certificate (PEM object number {objnum}) from {source}");
            return Err(self.failed(vec![text]));
        }
        self.seen = match self.seen {
            Seen::Key if self.mixed => Seen::Both,
            Seen::Key | Seen::Nothing => Seen::Cert,
            other => other,
        };
        self.chain.push(cert);
        Ok(())
    }

    /// A private key (`load_pkey()`): the first of a file or of the next chain; in a
    /// mixed file a second one is passed over.
    fn private_key(
        &mut self,
        source: &str,
        objnum: usize,
        key: PrivateKeyDer<'static>,
    ) -> Result<(), CertKeyError> {
        match self.seen {
            Seen::Key | Seen::Both if self.mixed => {
                let first = self.keynum;
                self.warnings.push(format!(
                    "ignoring 2nd key at index {objnum} in {source} after 1st at {first}"
                ));
                return Ok(());
            }
            Seen::Key | Seen::Both => {
                let text = format!(
                    "error loading certificate chain: key at index {} in {} not followed by a certificate",
                    self.keynum, self.keysrc
                );
                return Err(self.failed(vec![text]));
            }
            Seen::Cert if !self.mixed => {
                if let Err(detail) = self.use_chain() {
                    let text = format!(
                        "error loading certificate chain: key at index {} in {} does not match the certificate",
                        self.keynum, self.keysrc
                    );
                    return Err(self.failed(vec![text, format!("TLS library problem: {detail}")]));
                }
            }
            Seen::Cert | Seen::Nothing => {}
        }
        self.seen = match self.seen {
            Seen::Cert if self.mixed => Seen::Both,
            _ => Seen::Key,
        };
        self.key = Some(key);
        Ok(())
    }
}

/// The PEM label OpenSSL would name for an object that is neither key nor certificate.
fn pem_label(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::PublicKey => "PUBLIC KEY",
        SectionKind::Crl => "X509 CRL",
        SectionKind::Csr => "CERTIFICATE REQUEST",
        SectionKind::EchConfigList => "ECHCONFIG",
        _ => "UNKNOWN",
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn certs(name: &str) -> String {
        format!("{}/tests/golden/certs/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    /// A file in a fresh directory made of the test certificates' PEM files.
    fn file(dir: &std::path::Path, name: &str, parts: &[&str]) -> String {
        let text: String = parts
            .iter()
            .map(|p| std::fs::read_to_string(certs(p)).unwrap())
            .collect();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("certkey-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    // As in server.rs: ring's provider, deprecated only for post-quantum key exchange.
    #[allow(deprecated)]
    fn provider() -> &'static dyn KeyProvider {
        rustls::crypto::ring::default_provider().key_provider
    }

    fn pair(cert: &str, key: &str) -> CertKeyFiles {
        CertKeyFiles {
            cert_file: cert.into(),
            key_file: key.into(),
            ..CertKeyFiles::default()
        }
    }

    fn chain(files: &[&str]) -> CertKeyFiles {
        CertKeyFiles {
            chain_files: files.iter().map(|f| f.to_string()).collect(),
            ..CertKeyFiles::default()
        }
    }

    fn lines(e: CertKeyError) -> Vec<String> {
        e.text.lines().map(String::from).collect()
    }

    #[test]
    fn a_cert_file_that_is_its_key_file_holds_the_key_anywhere() {
        let dir = scratch("mixed");
        for parts in [["rsa.key", "rsa.pem"], ["rsa.pem", "rsa.key"]] {
            let f = file(&dir, "mixed.pem", &parts);
            let (keys, warnings) = pair(&f, &f).load_warned(provider()).unwrap();
            assert_eq!(keys.len(), 1);
            assert!(warnings.is_empty(), "{warnings:?}");
            // The key file's default is the cert file.
            assert_eq!(pair(&f, "").load(provider()).unwrap().len(), 1);
        }
        let f = file(&dir, "two.pem", &["rsa.key", "rsa.pem", "ecdsa.key"]);
        let (_, warnings) = pair(&f, &f).load_warned(provider()).unwrap();
        assert_eq!(
            warnings,
            [format!("ignoring 2nd key at index 3 in {f} after 1st at 1")]
        );
        let closing = |f: &str| {
            format!("error loading private keys and certificates from: {f}: disabling TLS support")
        };
        let f = file(&dir, "nokey.pem", &["rsa.pem"]);
        let e = pair(&f, &f).load(provider()).unwrap_err();
        assert_eq!(
            lines(e),
            [format!("No private key found in {f}"), closing(&f)]
        );
        let f = file(&dir, "nocert.pem", &["rsa.key"]);
        let e = pair(&f, &f).load(provider()).unwrap_err();
        assert_eq!(
            lines(e),
            [format!("No certs for key at index 1 in {f}"), closing(&f)]
        );
        let f = file(&dir, "empty.pem", &[]);
        let e = pair(&f, &f).load(provider()).unwrap_err();
        assert_eq!(lines(e), [format!("No PEM data in {f}"), closing(&f)]);
        let f = file(&dir, "mismatch.pem", &["ecdsa.key", "rsa.pem"]);
        let e = lines(pair(&f, &f).load(provider()).unwrap_err());
        assert_eq!(
            e[0],
            format!("key at index 1 in {f} does not match next certificate")
        );
        assert!(e[1].starts_with("TLS library problem: "), "{e:?}");
        assert_eq!(e[2], closing(&f));
        let missing = dir.join("missing.pem").display().to_string();
        let e = pair(&missing, &missing).load(provider()).unwrap_err();
        assert_eq!(
            lines(e),
            [format!(
                "error opening chain file: {missing}: No such file or directory"
            )]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn chain_files_are_one_sequence_of_keys_each_before_its_chain() {
        let dir = scratch("chain");
        let key = file(&dir, "key.pem", &["rsa.key"]);
        let cert = file(&dir, "cert.pem", &["rsa.pem"]);
        let both = file(
            &dir,
            "both.pem",
            &["rsa.key", "rsa.pem", "ecdsa.key", "ecdsa.pem"],
        );
        assert_eq!(chain(&[&key, &cert]).load(provider()).unwrap().len(), 1);
        assert_eq!(chain(&[&both]).load(provider()).unwrap().len(), 2);
        let origin = |files: &[&str]| {
            format!(
                "error loading private keys and certificates from: {}: disabling TLS support",
                files.join(", ")
            )
        };
        let e = chain(&[&cert, &key]).load(provider()).unwrap_err();
        assert_eq!(
            lines(e),
            [
                format!("error loading chain from {cert}: key not first"),
                origin(&[&cert, &key])
            ]
        );
        let e = chain(&[&key, &key]).load(provider()).unwrap_err();
        assert_eq!(
            lines(e),
            [
                format!(
                    "error loading certificate chain: key at index 1 in {key} not followed by a certificate"
                ),
                origin(&[&key, &key])
            ]
        );
        let e = chain(&[&key]).load(provider()).unwrap_err();
        assert_eq!(
            lines(e),
            [
                format!("No certs for key at index 1 in {key}"),
                origin(&[&key])
            ]
        );
        let bad = file(
            &dir,
            "bad.pem",
            &["ecdsa.key", "rsa.pem", "rsa.key", "rsa.pem"],
        );
        let e = lines(chain(&[&bad]).load(provider()).unwrap_err());
        assert_eq!(
            e[0],
            format!(
                "error loading certificate chain: key at index 1 in {bad} does not match the certificate"
            )
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
