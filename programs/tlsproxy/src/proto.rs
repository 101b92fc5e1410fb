//! The attributes of tlsproxy's client role: what a tlsproxy client sends before the
//! handshake, and the TLS context tlsproxy sends back after it.
//!
//! Postfix counterparts: `tls/tls_proxy_client_scan.c` (`tls_proxy_client_param_scan()`,
//! `tls_proxy_client_init_scan()`, `tls_proxy_client_start_scan()`, with the DANE and
//! TLSA parts), `util/argv_attr_scan.c` (the match list) and
//! `tls/tls_proxy_context_print.c` (`tls_proxy_context_print()`). Postfix sends the three
//! structures as one attribute list, each field in a fixed order and read strictly, so
//! [`Cursor`] takes them one after the other by name.

use ipc::Attrs;

/// The flags of a request (`TLS_PROXY_FLAG_*`).
pub const FLAG_ROLE_SERVER: i32 = 1 << 0;
/// The client role: tlsproxy makes the TLS connection.
pub const FLAG_ROLE_CLIENT: i32 = 1 << 1;
/// Send the TLS context back after the handshake.
pub const FLAG_SEND_CONTEXT: i32 = 1 << 2;

/// The first list of a request (`tlsp_get_request_event()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `[addr]:port` of the remote end (`remote_endpoint`).
    pub remote_endpt: String,
    /// `TLS_PROXY_FLAG_*`.
    pub flags: i32,
    /// Seconds for the handshake.
    pub handshake_timeout: i32,
    /// Seconds for the session after it.
    pub session_timeout: i32,
    /// The client's name for the connection (e.g. `smtp/127.0.0.1/25`).
    pub serverid: String,
}

/// Reads the first list of a request; None when it is not exactly Postfix's five.
pub fn request(attrs: &Attrs) -> Option<Request> {
    let mut c = Cursor::new(attrs);
    let request = Request {
        remote_endpt: c.str("remote_endpoint").ok()?,
        flags: c.int("flags").ok()?,
        handshake_timeout: c.int("timeout").ok()?,
        session_timeout: c.int("timeout").ok()?,
        serverid: c.str("serverid").ok()?,
    };
    c.end().ok()?;
    Some(request)
}

/// `TLS_CLIENT_PARAMS`: the tls_* settings of the client's main.cf.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientParams {
    /// tls_high_cipherlist and its siblings.
    pub cipher_lists: [String; 5],
    /// Every field in order, the key of the engine cache with the init props.
    pub serialized: String,
}

/// `TLS_CLIENT_INIT_PROPS`: what the engine is made from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InitProps {
    /// The name of the log level parameter (`smtp_tls_loglevel`).
    pub log_param: String,
    /// `smtp` when the client has smtp_tls_session_cache_database set, else empty:
    /// sessions are kept only then, as in Postfix.
    pub cache_type: String,
    /// Its value.
    pub log_level: String,
    /// smtp_tls_chain_files.
    pub chain_files: String,
    /// smtp_tls_cert_file.
    pub cert_file: String,
    /// smtp_tls_key_file.
    pub key_file: String,
    /// smtp_tls_dcert_file.
    pub dcert_file: String,
    /// smtp_tls_dkey_file.
    pub dkey_file: String,
    /// smtp_tls_eccert_file.
    pub eccert_file: String,
    /// smtp_tls_eckey_file.
    pub eckey_file: String,
    /// smtp_tls_CAfile.
    pub ca_file: String,
    /// smtp_tls_CApath.
    pub ca_path: String,
    /// smtp_tls_fingerprint_digest.
    pub mdalg: String,
    /// Every field in order.
    pub serialized: String,
}

/// `TLS_CLIENT_START_PROPS`: what one handshake checks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StartProps {
    /// `TLS_LEV_*`.
    pub tls_level: i32,
    /// The next-hop domain.
    pub nexthop: String,
    /// The server's host name.
    pub host: String,
    /// `host[addr]:port`, the name in the log lines.
    pub namaddr: String,
    /// The SNI name, empty for none.
    pub sni: String,
    /// The session cache key.
    pub serverid: String,
    /// The protocols setting.
    pub protocols: String,
    /// The cipher grade.
    pub cipher_grade: String,
    /// The cipher exclusions.
    pub cipher_exclusions: String,
    /// The match list (names, or fingerprints at the fingerprint level).
    pub matches: Vec<String>,
    /// The DANE records, when the level has them.
    pub dane: Option<tls::Dane>,
}

/// Reads the second list of a client-role request: params, init props, start props.
pub fn client_settings(attrs: &Attrs) -> Result<(ClientParams, InitProps, StartProps), String> {
    let mut c = Cursor::new(attrs);
    let params = {
        let from = c.pos;
        for name in ["config_file", "config_name"] {
            c.str(name)?;
        }
        let mut lists: [String; 5] = Default::default();
        for (slot, name) in lists.iter_mut().zip([
            "tls_high_cipherlist",
            "tls_medium_cipherlist",
            "tls_low_cipherlist",
            "tls_export_cipherlist",
            "tls_null_cipherlist",
        ]) {
            *slot = c.str(name)?;
        }
        for name in tls::client::PROXY_PARAM_TEXTS {
            c.str(name)?;
        }
        for name in tls::client::PROXY_PARAM_NUMBERS {
            c.int(name)?;
        }
        ClientParams {
            cipher_lists: lists,
            serialized: c.serialized(from),
        }
    };
    let init = {
        let from = c.pos;
        let log_param = c.str("log_param")?;
        let log_level = c.str("log_level")?;
        c.int("verifydepth")?;
        let cache_type = c.str("cache_type")?;
        let mut init = InitProps {
            log_param,
            cache_type,
            log_level,
            chain_files: c.str("chain_files")?,
            cert_file: c.str("cert_file")?,
            key_file: c.str("key_file")?,
            dcert_file: c.str("dcert_file")?,
            dkey_file: c.str("dkey_file")?,
            eccert_file: c.str("eccert_file")?,
            eckey_file: c.str("eckey_file")?,
            ca_file: c.str("CAfile")?,
            ca_path: c.str("CApath")?,
            mdalg: c.str("mdalg")?,
            serialized: String::new(),
        };
        init.serialized = c.serialized(from);
        init
    };
    c.int("timeout")?;
    let mut start = StartProps {
        tls_level: c.int("tls_level")?,
        nexthop: c.str("nexthop")?,
        host: c.str("host")?,
        namaddr: c.str("namaddr")?,
        sni: c.str("sni")?,
        serverid: c.str("serverid")?,
        ..Default::default()
    };
    c.str("helo")?;
    start.protocols = c.str("protocols")?;
    start.cipher_grade = c.str("cipher_grade")?;
    start.cipher_exclusions = c.str("cipher_exclusions")?;
    let count = c.int("argv_size")?;
    for _ in 0..count.max(0) {
        start.matches.push(c.str("argv_value")?);
    }
    c.str("mdalg")?;
    if c.int("dane")? != 0 {
        let base_domain = c.str("domain")?;
        let count = c.int("count")?;
        let mut tlsa = Vec::new();
        for _ in 0..count.max(0) {
            let usage = c.int("usage")?;
            let selector = c.int("selector")?;
            let mtype = c.int("mtype")?;
            let data = global::msg_stats::base64_decode(c.bytes("data")?)
                .ok_or("malformed base64 data")?;
            tlsa.push(tls::Tlsa::new(
                usage as u8,
                selector as u8,
                mtype as u8,
                data,
            ));
        }
        // A DANE-TA chain must match the base domain or one of the match names
        // (`dane_init()`).
        let mut names = vec![base_domain.clone()];
        names.extend(start.matches.iter().cloned());
        start.dane = Some(tls::Dane {
            base_domain,
            tlsa,
            names,
        });
    }
    c.end()?;
    Ok((params, init, start))
}

/// The security level of a `TLS_LEV_*` number; None for none or an unknown one.
pub fn client_level(level: i32) -> Option<tls::ClientLevel> {
    use tls::ClientLevel::*;
    Some(match level {
        1 => May,
        2 => Encrypt,
        3 => Fingerprint,
        4 => HalfDane,
        5 => Dane,
        6 => DaneOnly,
        7 => Verify,
        8 => Secure,
        _ => return None,
    })
}

/// `TLS_CERT_FLAG_*` of `peer_status`.
const CERT_PRESENT: i32 = 1 << 0;
const CERT_TRUSTED: i32 = 1 << 2;
const CERT_MATCHED: i32 = 1 << 3;

/// Splits `ECDHE (prime256v1)` or `RSA-PSS (2048 bits)` into name, curve and bits, as
/// Postfix's `TLS_SESS_STATE` holds them (its `tls_log_summary()` joins them again).
fn split_named(text: Option<&str>) -> (String, String, i32) {
    let Some(text) = text else {
        return (String::new(), String::new(), 0);
    };
    match text.split_once(" (") {
        Some((name, rest)) => {
            let inner = rest.trim_end_matches(')');
            match inner.strip_suffix(" bits").map(str::parse::<i32>) {
                Some(Ok(bits)) => (name.to_string(), String::new(), bits),
                _ => (name.to_string(), inner.to_string(), 0),
            }
        }
        None => (text.to_string(), String::new(), 0),
    }
}

/// `tls_proxy_context_print()`: the handshake's outcome, for the tlsproxy client to log
/// and to judge the certificate by.
pub fn context(summary: &tls::Summary, level: i32, namaddr: &str) -> Attrs {
    let (cn, issuer, fpt, pkey) = match &summary.peer_cert {
        Some(c) => (
            c.subject_cn.as_str(),
            c.issuer_cn.as_str(),
            c.fingerprint.as_str(),
            c.pkey_fingerprint.as_str(),
        ),
        None => ("", "", "", ""),
    };
    let mut status = 0;
    if summary.peer_cert.is_some() {
        status |= CERT_PRESENT;
    }
    match summary.trust {
        tls::Trust::Trusted => status |= CERT_TRUSTED,
        tls::Trust::Verified => status |= CERT_TRUSTED | CERT_MATCHED,
        _ => {}
    }
    let (kex, kex_curve, kex_bits) = split_named(summary.kex.as_deref());
    let sig = |s: &Option<tls::Signature>| {
        let (name, curve, bits) = split_named(s.as_ref().map(|s| s.algorithm.as_str()));
        let digest = s.as_ref().and_then(|s| s.digest).unwrap_or("");
        (name, curve, bits, digest)
    };
    let (cs_name, cs_curve, cs_bits, cs_digest) = sig(&summary.client_signature);
    let (ss_name, ss_curve, ss_bits, ss_digest) = sig(&summary.server_signature);
    Attrs::new()
        .str("peer_CN", cn)
        .str("issuer_CN", issuer)
        .str("peer_fingerprint", fpt)
        .str("peer_pubkey_fingerprint", pkey)
        .int("level", level)
        .int("peer_status", status)
        .str("cipher_protocol", summary.protocol)
        .str("cipher_name", summary.cipher)
        .int("cipher_usebits", summary.cipher_usebits as i32)
        .int("cipher_algbits", summary.cipher_algbits as i32)
        .str("key_exchange", &kex)
        .str("key_exchange_curve", &kex_curve)
        .int("key_exchange_bits", kex_bits)
        .str("clnt_signature", &cs_name)
        .str("clnt_signature_curve", &cs_curve)
        .int("clnt_signature_bits", cs_bits)
        .str("clnt_signature_digest", cs_digest)
        .str("srvr_signature", &ss_name)
        .str("srvr_signature_curve", &ss_curve)
        .int("srvr_signature_bits", ss_bits)
        .str("srvr_signature_digest", ss_digest)
        .str("namaddr", namaddr)
}

/// Takes the attributes of a list in order, each by its expected name, as Postfix's
/// strict `attr_scan()` does.
struct Cursor<'a> {
    attrs: &'a Attrs,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(attrs: &'a Attrs) -> Cursor<'a> {
        Cursor { attrs, pos: 0 }
    }

    fn bytes(&mut self, name: &str) -> Result<&'a [u8], String> {
        match self.attrs.get(self.pos) {
            Some((n, v)) if n == name.as_bytes() => {
                self.pos += 1;
                Ok(v)
            }
            Some((n, _)) => Err(format!(
                "unexpected attribute {} instead of {name}",
                ipc::attr::escaped(n)
            )),
            None => Err(format!("missing attribute {name}")),
        }
    }

    fn str(&mut self, name: &str) -> Result<String, String> {
        let v = self.bytes(name)?;
        String::from_utf8(v.to_vec()).map_err(|_| format!("malformed attribute {name}"))
    }

    fn int(&mut self, name: &str) -> Result<i32, String> {
        let v = self.str(name)?;
        let parsed = Attrs::new().str(name, &v).get_int(name);
        parsed.ok_or_else(|| format!("malformed {name} attribute value: {v}"))
    }

    /// The attributes from `from` up to here, one `name=value` a line (Postfix's
    /// `attr_print_plain` serialisation, its cache key).
    fn serialized(&self, from: usize) -> String {
        (from..self.pos)
            .filter_map(|i| self.attrs.get(i))
            .map(|(n, v)| format!("{}={}\n", ipc::attr::escaped(n), ipc::attr::escaped(v)))
            .collect()
    }

    fn end(&self) -> Result<(), String> {
        match self.attrs.get(self.pos) {
            None => Ok(()),
            Some((n, _)) => Err(format!("unexpected attribute {}", ipc::attr::escaped(n))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_as_tls_log_summary_joins() {
        assert_eq!(
            split_named(Some("ECDHE (prime256v1)")),
            ("ECDHE".into(), "prime256v1".into(), 0)
        );
        assert_eq!(
            split_named(Some("RSA-PSS (2048 bits)")),
            ("RSA-PSS".into(), String::new(), 2048)
        );
        assert_eq!(
            split_named(Some("X25519")),
            ("X25519".into(), String::new(), 0)
        );
        assert_eq!(split_named(None), (String::new(), String::new(), 0));
    }

    #[test]
    fn request_is_strict() {
        let ok = Attrs::new()
            .str("remote_endpoint", "[127.0.0.1]:25")
            .int("flags", FLAG_ROLE_CLIENT | FLAG_SEND_CONTEXT)
            .int("timeout", 300)
            .int("timeout", 310)
            .str("serverid", "smtp/127.0.0.1/25");
        let r = request(&ok).unwrap();
        assert_eq!(r.session_timeout, 310);
        assert_eq!(r.flags, 6);
        let extra = ok.str("x", "y");
        assert!(request(&extra).is_none());
    }
}
