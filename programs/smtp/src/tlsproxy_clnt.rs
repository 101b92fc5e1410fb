//! The SMTP client's half of the tlsproxy protocol: the TLS of a session done by the
//! long-lived tlsproxy process, which the client talks to in plaintext.
//!
//! Postfix counterparts: `tls/tls_proxy_clnt.c` (`tls_proxy_open()`,
//! `tls_proxy_context_receive()`), `tls/tls_proxy_client_print.c` (the settings sent
//! with a request) and the `state->tls->conn_reuse` part of `smtp/smtp_proto.c`
//! (`smtp_start_tls()`). The client connects to `private/tlsproxy`, sends the remote
//! endpoint, flags, timeouts and service name, then its TLS settings in the order
//! programs/tlsproxy's decoder (and Postfix's `tls_proxy_client_*_scan()`) reads them;
//! on `status=1` it passes its TCP connection as a descriptor, and after the handshake
//! tlsproxy sends the TLS context, from which the client logs `... TLS connection
//! established to ...` as Postfix's smtp does. The plaintext stream is then the
//! session's connection: it can be kept in scache with its context, and taken over by
//! any smtp process.

use ipc::{Attrs, Flavor};
use params::Param;
use std::io::BufReader;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Duration;

/// `TLS_PROXY_FLAG_ROLE_CLIENT | TLS_PROXY_FLAG_SEND_CONTEXT` (`PROXY_OPEN_FLAGS`).
const OPEN_FLAGS: i32 = (1 << 1) | (1 << 2);
/// `TLSPROXY_INIT_TIMEOUT`: how long connecting to tlsproxy may take.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// What every request of this client sends: the service, and the settings lists that
/// do not depend on the server (`TLS_CLIENT_PARAMS`, `TLS_CLIENT_INIT_PROPS`).
pub struct Client {
    /// tlsproxy_service_name.
    service: String,
    /// `smtp` or `lmtp`: the request's server id, and the session cache type.
    pub proto: &'static str,
    /// The parameters and init props, in Postfix's order.
    settings: Attrs,
    /// smtp_tls_fingerprint_digest, sent again with the start props.
    mdalg: String,
}

impl Client {
    /// The client of `smtp` or `lmtp`, from main.cf (`tls_proxy_client_param_from_config()`
    /// and the init props of `smtp_start_tls()`).
    pub fn from_config(config: &params::Config, lmtp: bool) -> Result<Client, params::ConfigError> {
        use params::decl::smtp::*;
        use params::decl::smtp_tls::*;
        let pick = |smtp: &'static Param, lmtp_twin: &'static Param| {
            if lmtp { lmtp_twin } else { smtp }
        };
        // Settings Postfix sends that ironpost does not declare: their main.cf values,
        // expanded (tlsproxy reads them but uses only the cipher lists among them).
        let raw = |name: &str| -> Result<String, params::ConfigError> {
            match config.raw(name) {
                Some(v) => config.expand(&v),
                None => Ok(String::new()),
            }
        };
        let flag = |name: &str| -> Result<i32, params::ConfigError> {
            Ok(matches!(raw(name)?.trim(), "yes" | "YES" | "true" | "1") as i32)
        };
        let mut settings = Attrs::new()
            .str("config_file", &raw("tls_config_file")?)
            .str("config_name", &raw("tls_config_name")?);
        for param in [
            &params::decl::tls::TLS_HIGH_CIPHERLIST,
            &params::decl::tls::TLS_MEDIUM_CIPHERLIST,
            &params::decl::tls::TLS_LOW_CIPHERLIST,
            &params::decl::tls::TLS_EXPORT_CIPHERLIST,
            &params::decl::tls::TLS_NULL_CIPHERLIST,
        ] {
            settings = settings.str(param.name, &config.str(param)?);
        }
        for name in tls::client::PROXY_PARAM_TEXTS {
            settings = settings.str(name, &raw(name)?);
        }
        let [random, flags @ ..] = tls::client::PROXY_PARAM_NUMBERS;
        settings = settings.int(random, raw(random)?.trim().parse().unwrap_or(32));
        for name in flags {
            settings = settings.int(name, flag(name)?);
        }
        let loglevel = pick(&SMTP_TLS_LOGLEVEL, &LMTP_TLS_LOGLEVEL);
        let depth_name = if lmtp {
            "lmtp_tls_scert_verifydepth"
        } else {
            "smtp_tls_scert_verifydepth"
        };
        let proto = if lmtp { "lmtp" } else { "smtp" };
        let mdalg = config.str(pick(
            &SMTP_TLS_FINGERPRINT_DIGEST,
            &LMTP_TLS_FINGERPRINT_DIGEST,
        ))?;
        settings = settings
            .str("log_param", loglevel.name)
            .str("log_level", &config.str(loglevel)?)
            .int("verifydepth", raw(depth_name)?.trim().parse().unwrap_or(9))
            .str("cache_type", proto);
        for (name, smtp, lmtp_twin) in [
            ("chain_files", &SMTP_TLS_CHAIN_FILES, &LMTP_TLS_CHAIN_FILES),
            ("cert_file", &SMTP_TLS_CERT_FILE, &LMTP_TLS_CERT_FILE),
            ("key_file", &SMTP_TLS_KEY_FILE, &LMTP_TLS_KEY_FILE),
            ("dcert_file", &SMTP_TLS_DCERT_FILE, &LMTP_TLS_DCERT_FILE),
            ("dkey_file", &SMTP_TLS_DKEY_FILE, &LMTP_TLS_DKEY_FILE),
            ("eccert_file", &SMTP_TLS_ECCERT_FILE, &LMTP_TLS_ECCERT_FILE),
            ("eckey_file", &SMTP_TLS_ECKEY_FILE, &LMTP_TLS_ECKEY_FILE),
            ("CAfile", &SMTP_TLS_CAFILE, &LMTP_TLS_CAFILE),
            ("CApath", &SMTP_TLS_CAPATH, &LMTP_TLS_CAPATH),
        ] {
            settings = settings.str(name, &config.str(pick(smtp, lmtp_twin))?);
        }
        settings = settings.str("mdalg", &mdalg);
        Ok(Client {
            service: config.str(&params::decl::tlsmgr::TLSPROXY_SERVICE_NAME)?,
            proto,
            settings,
            mdalg,
        })
    }

    /// `tls_proxy_open()`, then `tls_proxy_context_receive()`: tlsproxy runs the
    /// handshake on `tcp` as `props` ask; the plaintext stream to it and what was
    /// negotiated. An error when tlsproxy cannot be used (the warning's text is in
    /// `Unreachable`), or when the handshake failed (tlsproxy logged why).
    pub fn open(
        &self,
        tcp: &TcpStream,
        serverid: &str,
        props: &tls::StartProps<'_>,
        timeouts: (Duration, Duration),
    ) -> Result<crate::chat::Proxied, Failure> {
        let path = format!("private/{}", self.service);
        let socket = global::mail_connect::connect("private", &self.service, INIT_TIMEOUT)
            .map_err(|e| {
                Failure::Unreachable(format!("connect to {path} service: {}", sys::os_error(&e)))
            })?;
        let _ = socket.set_read_timeout(Some(INIT_TIMEOUT));
        let mut stream = BufReader::new(socket);
        let hello = ipc::attr::read(&mut stream, Flavor::Null).ok().flatten();
        let announced = hello.is_some_and(|a| {
            a.names_are(&[ipc::mail_attr::PROTO])
                && a.get_str(ipc::mail_attr::PROTO).ok() == Some("tlsproxy_protocol")
        });
        if !announced {
            return Err(Failure::Unreachable(format!(
                "error receiving {path} service initial response"
            )));
        }
        let peer = tcp
            .peer_addr()
            .map_err(|e| Failure::Unreachable(format!("{}: {}", props.peer, sys::os_error(&e))))?;
        let (handshake, session) = timeouts;
        let request = Attrs::new()
            .str(
                "remote_endpoint",
                &format!("[{}]:{}", peer.ip(), peer.port()),
            )
            .int("flags", OPEN_FLAGS)
            .int("timeout", handshake.as_secs() as i32)
            .int("timeout", session.as_secs() as i32)
            .str("serverid", self.proto);
        let sent = ipc::attr::write(stream.get_mut(), Flavor::Null, &request).and_then(|()| {
            ipc::attr::write(
                stream.get_mut(),
                Flavor::Null,
                &self.start_props(serverid, props, handshake),
            )
        });
        if let Err(e) = sent {
            return Err(Failure::Unreachable(format!(
                "error sending request to {path} service: {}",
                sys::os_error(&e)
            )));
        }
        let status = ipc::attr::read(&mut stream, Flavor::Null)
            .ok()
            .flatten()
            .and_then(|a| a.get_int(ipc::mail_attr::STATUS));
        if status.unwrap_or(0) == 0 {
            return Err(Failure::Unreachable(format!(
                "{path} service role \"client\" is not available"
            )));
        }
        if let Err(e) = sys::fdpass::send_fd(stream.get_ref(), tcp.as_raw_fd()) {
            return Err(Failure::Unreachable(format!(
                "sending file handle to {path} service: {}",
                sys::os_error(&e)
            )));
        }
        // The handshake is tlsproxy's: wait for it as long as it may take there.
        let _ = stream
            .get_ref()
            .set_read_timeout(Some(handshake.max(Duration::from_secs(1)) + INIT_TIMEOUT));
        match ipc::attr::read(&mut stream, Flavor::Null) {
            Ok(Some(context)) => Ok(crate::chat::Proxied {
                stream,
                summary: summary(&context),
                context,
            }),
            _ => Err(Failure::Handshake),
        }
    }

    /// The settings lists, then `TLS_CLIENT_START_PROPS` of this handshake.
    fn start_props(&self, serverid: &str, props: &tls::StartProps<'_>, timeout: Duration) -> Attrs {
        let mut attrs = self.settings.clone();
        let level = match props.level {
            tls::ClientLevel::May => 1,
            tls::ClientLevel::Encrypt => 2,
            tls::ClientLevel::Fingerprint => 3,
            tls::ClientLevel::HalfDane => 4,
            tls::ClientLevel::Dane => 5,
            tls::ClientLevel::DaneOnly => 6,
            tls::ClientLevel::Verify => 7,
            tls::ClientLevel::Secure => 8,
        };
        attrs = attrs
            .int("timeout", timeout.as_secs() as i32)
            .int("tls_level", level)
            .str("nexthop", props.nexthop)
            .str("host", props.host)
            .str("namaddr", props.peer)
            .str("sni", props.servername)
            .str("serverid", serverid)
            .str("helo", "")
            .str("protocols", props.protocols)
            .str("cipher_grade", props.cipher_grade)
            .str("cipher_exclusions", props.cipher_exclusions)
            .int("argv_size", props.matches.len() as i32);
        for name in props.matches {
            attrs = attrs.str("argv_value", name);
        }
        attrs = attrs.str("mdalg", &self.mdalg);
        match props.dane {
            None => attrs.int("dane", 0),
            Some(dane) => {
                attrs = attrs
                    .int("dane", 1)
                    .str("domain", &dane.base_domain)
                    .int("count", dane.tlsa.len() as i32);
                for t in &dane.tlsa {
                    attrs = attrs
                        .int("usage", t.usage.into())
                        .int("selector", t.selector.into())
                        .int("mtype", t.mtype.into())
                        .str("data", &global::msg_stats::base64_encode(&t.data));
                }
                attrs
            }
        }
    }
}

/// Why a TLS connection through tlsproxy did not come about.
#[derive(Debug)]
pub enum Failure {
    /// tlsproxy could not be asked: Postfix's warning text.
    Unreachable(String),
    /// tlsproxy took the connection, but its handshake failed.
    Handshake,
}

/// The TLS context tlsproxy sent (`tls_proxy_context_scan()`), as a summary to log.
pub fn summary(context: &Attrs) -> tls::Summary {
    tls::client::summary_from_context(
        &|name| context.get_str(name).unwrap_or_default().to_string(),
        &|name| context.get_int(name).unwrap_or(0),
    )
}

/// The server id of a connection's sessions (`smtp_key_prefix()` with the service,
/// the current next hop, the host name and address, each followed by `&`).
pub fn serverid(proto: &str, dest: &str, host: &str, addr: &str) -> String {
    [proto, dest, host, addr]
        .iter()
        .map(|f| {
            if f.is_empty() {
                "*&".to_string()
            } else {
                format!("{f}&")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_to_summary_line() {
        let context = Attrs::new()
            .str("peer_CN", "mx.example")
            .str("issuer_CN", "CA")
            .str("peer_fingerprint", "AA")
            .str("peer_pubkey_fingerprint", "BB")
            .int("level", 2)
            .int("peer_status", 1)
            .str("cipher_protocol", "TLSv1.3")
            .str("cipher_name", "TLS_AES_256_GCM_SHA384")
            .int("cipher_usebits", 256)
            .int("cipher_algbits", 256)
            .str("key_exchange", "X25519")
            .str("key_exchange_curve", "")
            .int("key_exchange_bits", 0)
            .str("clnt_signature", "")
            .str("clnt_signature_curve", "")
            .int("clnt_signature_bits", 0)
            .str("clnt_signature_digest", "")
            .str("srvr_signature", "RSA-PSS")
            .str("srvr_signature_curve", "")
            .int("srvr_signature_bits", 2048)
            .str("srvr_signature_digest", "SHA256")
            .str("namaddr", "h[1.2.3.4]:25");
        assert_eq!(
            summary(&context).established("to", "h[1.2.3.4]:25"),
            "Untrusted TLS connection established to h[1.2.3.4]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256"
        );
        assert_eq!(
            serverid("smtp", "[h]:25", "h", "1.2.3.4"),
            "smtp&[h]:25&h&1.2.3.4&"
        );
    }
}
