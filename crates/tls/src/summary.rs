//! What a finished handshake tells the log and the Received: header, in Postfix's words.
//! Postfix counterparts: `tls_log_summary()` in `tls/tls_misc.c` (the `... TLS connection
//! established from ...` line) and the TLS clause of smtpd's Received: header
//! (`smtpd/smtpd.c`, smtpd_tls_received_header), with the peer-certificate parts of
//! `tls/tls_verify.c`.

/// How far the peer's certificate was checked (Postfix's four words).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trust {
    /// No peer certificate.
    Anonymous,
    /// A peer certificate that was not (or could not be) verified.
    Untrusted,
    /// A peer certificate verified against the trusted CAs.
    Trusted,
    /// Verified and the peer name matched (the SMTP client side only).
    Verified,
}

impl Trust {
    fn word(self) -> &'static str {
        match self {
            Trust::Anonymous => "Anonymous",
            Trust::Untrusted => "Untrusted",
            Trust::Trusted => "Trusted",
            Trust::Verified => "Verified",
        }
    }
}

/// A handshake signature: `RSA-PSS (2048 bits)` and its digest `SHA256`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The algorithm with the key's size or curve.
    pub algorithm: String,
    /// The digest, where the algorithm has one.
    pub digest: Option<&'static str>,
}

/// The peer's certificate as Postfix reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerCert {
    /// Subject common name.
    pub subject_cn: String,
    /// Issuer common name.
    pub issuer_cn: String,
    /// Colon-separated upper-case hex digest of the certificate (Postfix's
    /// `fingerprint=`, smtpd_tls_fingerprint_digest = sha256).
    pub fingerprint: String,
    /// The same of the public key (`pkey_fingerprint=`).
    pub pkey_fingerprint: String,
    /// The issuer as OpenSSL's one-line form (`/CN=Example CA`).
    pub issuer_oneline: String,
}

/// What was negotiated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Anonymous, Untrusted...
    pub trust: Trust,
    /// `TLSv1.3`, `TLSv1.2`.
    pub protocol: &'static str,
    /// OpenSSL's cipher name.
    pub cipher: &'static str,
    /// Secret bits used.
    pub cipher_usebits: u32,
    /// Secret bits of the algorithm.
    pub cipher_algbits: u32,
    /// `X25519`, `ECDHE (prime256v1)`; Postfix 3.7 with OpenSSL 3 reports it (and the
    /// signatures) for TLS 1.3 only, since a TLS 1.2 cipher name already says it.
    pub kex: Option<String>,
    /// The server's handshake signature.
    pub server_signature: Option<Signature>,
    /// The client's, when it sent a certificate.
    pub client_signature: Option<Signature>,
    /// Whether a client certificate was asked for.
    pub ccert_requested: bool,
    /// The client's certificate, when it sent one.
    pub peer_cert: Option<PeerCert>,
}

fn push_signature(out: &mut String, who: &str, sig: &Option<Signature>) {
    if let Some(sig) = sig {
        out.push_str(&format!(" {who}-signature {}", sig.algorithm));
        if let Some(digest) = sig.digest {
            out.push_str(&format!(" {who}-digest {digest}"));
        }
    }
}

impl PeerCert {
    /// Postfix's line at smtpd_tls_loglevel 2 and up: `host[addr]: subject_CN=...,
    /// issuer=..., fingerprint=..., pkey_fingerprint=...`.
    pub fn log_line(&self, peer: &str) -> String {
        format!(
            "{peer}: subject_CN={}, issuer={}, fingerprint={}, pkey_fingerprint={}",
            self.subject_cn, self.issuer_cn, self.fingerprint, self.pkey_fingerprint
        )
    }
}

impl Summary {
    /// Why smtpd must end a session under smtpd_tls_req_ccert, in Postfix's words
    /// (smtpd logs `NOQUEUE: abort: TLS from host[addr]: REASON` and replies 421):
    /// Postfix completes the handshake and judges the certificate afterwards.
    pub fn required_ccert_missing(&self) -> Option<&'static str> {
        match (&self.peer_cert, self.trust) {
            (None, _) => Some("No client certificate presented"),
            (Some(_), Trust::Trusted | Trust::Verified) => None,
            (Some(_), _) => Some("Client certificate not trusted"),
        }
    }

    /// `TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)`.
    fn cipher_text(&self) -> String {
        format!(
            "{} with cipher {} ({}/{} bits)",
            self.protocol, self.cipher, self.cipher_usebits, self.cipher_algbits
        )
    }

    /// ` key-exchange X25519 server-signature ... client-digest SHA256`, or empty.
    fn kex_text(&self) -> String {
        let mut out = String::new();
        if let Some(kex) = &self.kex {
            out.push_str(&format!(" key-exchange {kex}"));
        }
        push_signature(&mut out, "server", &self.server_signature);
        out
    }

    /// The log line, e.g. `Anonymous TLS connection established from host[addr]: TLSv1.3
    /// with cipher ...`; `direction` is `from` (smtpd) or `to` (the client).
    pub fn established(&self, direction: &str, peer: &str) -> String {
        let mut client = String::new();
        push_signature(&mut client, "client", &self.client_signature);
        format!(
            "{} TLS connection established {direction} {peer}: {}{}{client}",
            self.trust.word(),
            self.cipher_text(),
            self.kex_text()
        )
    }

    /// The Received: header's TLS clauses, folded as Postfix folds them:
    /// The handshake on one line, for a saved session transcript (global::transcript):
    /// protocol, cipher, key exchange, and the peer's certificate or its absence.
    pub fn transcript_line(&self) -> String {
        let mut out = format!("{}{}", self.cipher_text(), self.kex_text());
        match &self.peer_cert {
            Some(c) => out.push_str(&format!(
                ", peer certificate subject_CN={}, issuer={}, fingerprint={}",
                c.subject_cn, c.issuer_cn, c.fingerprint
            )),
            None => out.push_str(", no peer certificate"),
        }
        out
    }

    /// `(using TLSv1.3 with cipher ... (256/256 bits)\n\t key-exchange ...)\n\t(No client
    /// certificate requested)`. smtpd puts it after `from HELO (host [addr])` and a
    /// `\n\t`.
    pub fn received_clause(&self) -> String {
        let mut out = format!("(using {}", self.cipher_text());
        let kex = self.kex_text();
        if !kex.is_empty() {
            out.push_str("\n\t");
            out.push_str(&kex);
        }
        if self.client_signature.is_some() {
            out.push_str("\n\t");
            push_signature(&mut out, "client", &self.client_signature);
        }
        out.push_str(")\n\t");
        out.push_str(&match (&self.peer_cert, self.ccert_requested) {
            (_, false) => "(No client certificate requested)".to_string(),
            (None, true) => "(Client did not present a certificate)".to_string(),
            (Some(cert), true) => format!(
                "(Client CN \"{}\", Issuer \"{}\" ({}))",
                cert.subject_cn,
                cert.issuer_cn,
                if self.trust == Trust::Untrusted {
                    "not verified"
                } else {
                    "verified OK"
                }
            ),
        });
        out
    }
}
