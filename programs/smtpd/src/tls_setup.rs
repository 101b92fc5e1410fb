//! smtpd's TLS settings and the server engine, made once per process before the jail.
//!
//! Postfix counterpart: the TLS part of `pre_jail_init()` in `smtpd/smtpd.c`. The
//! security level comes from `smtpd_tls_security_level`, or, when that is empty, from
//! the obsolete `smtpd_enforce_tls` (encrypt) and `smtpd_use_tls` (may), as Postfix
//! maps them. An engine that cannot be set up (a missing key...) has already logged
//! Postfix's warning: TLS is then off for the process and STARTTLS is not offered.
//!
//! Session resumption goes through tlsmgr ([`Tlsmgr`], Postfix's `tls/tls_mgr.c`): at
//! the process's first STARTTLS, smtpd asks tlsmgr's policy for the `smtpd` cache;
//! tickets and the session cache are then on as tlsmgr and tls_session_ticket_cipher
//! allow.
//! Without tlsmgr, Postfix's smtpd turns TLS off for want of entropy; ironpost's needs
//! none from it and only goes without resumption, after Postfix's two warnings.

use global::clnt_stream::ClntStream;
use global::msg_stats::{base64_decode, base64_encode};
use ipc::{Attrs, mail_attr};
use params::Config;
use params::decl::{process, tls as t, tlsmgr as m};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tls::resume::{Resumption, TicketKey, TlsManager};
use tls::{CertKeyFiles, SecurityLevel, ServerSettings, ServerTls};

/// The protocol tlsmgr announces (`MAIL_ATTR_PROTO_TLSMGR`).
const PROTO_TLSMGR: &str = "tlsmgr_protocol";
/// tlsmgr's success status (`TLS_MGR_STAT_OK`).
const STAT_OK: i32 = 0;

/// The client of tlsmgr (`tls_mgr.c`): one connection, kept between requests.
struct Tlsmgr {
    stream: Mutex<ClntStream>,
}

impl Tlsmgr {
    fn new(config: &Config) -> Tlsmgr {
        let seconds = |p| {
            let value = config.time(p).unwrap_or_else(|e| crate::settings::fatal(e));
            Duration::from_secs(u64::try_from(value).unwrap_or(1))
        };
        let service = config
            .str(&m::TLSMGR_SERVICE_NAME)
            .unwrap_or_else(|e| crate::settings::fatal(e));
        Tlsmgr {
            stream: Mutex::new(ClntStream::new(
                &service,
                PROTO_TLSMGR,
                seconds(&process::IPC_TIMEOUT),
                seconds(&process::IPC_IDLE),
                seconds(&process::IPC_TTL),
            )),
        }
    }

    /// One request and its reply, which must have a status (`attr_clnt_request()`).
    /// A failure is logged with Postfix's words, once: Postfix's client tries again a
    /// second later, which would only hold the session up here.
    fn request(&self, request: &Attrs) -> Option<Attrs> {
        let mut stream = self.stream.lock().unwrap_or_else(|e| e.into_inner());
        let name = format!("{}/{}", stream.dir, stream.service);
        let reply = match stream.access() {
            Ok(conn) => conn.exchange(request),
            Err(e) => {
                log::msg_warn!("connect to {name}: {}", sys::os_error(&e));
                Err(e)
            }
        };
        match reply {
            Ok(reply) if reply.get_int(mail_attr::STATUS).is_some() => Some(reply),
            Ok(_) => {
                stream.recover();
                let e = global::clnt_stream::protocol_error();
                log::msg_warn!("problem talking to server {name}: {}", sys::os_error(&e));
                None
            }
            Err(e) => {
                stream.recover();
                log::msg_warn!("problem talking to server {name}: {}", sys::os_error(&e));
                None
            }
        }
    }

    /// A request whose reply says `STAT_OK`.
    fn ok(&self, request: &Attrs) -> Option<Attrs> {
        self.request(request)
            .filter(|r| r.get_int(mail_attr::STATUS) == Some(STAT_OK))
    }
}

fn request(name: &str) -> Attrs {
    Attrs::new().str(mail_attr::REQ, name)
}

/// A DATA attribute's bytes: attr_print0 sends them in base64.
fn data(reply: &Attrs, name: &str) -> Option<Vec<u8>> {
    base64_decode(reply.get_bytes(name)?)
}

impl TlsManager for Tlsmgr {
    fn policy(&self, cache_type: &str) -> Option<(bool, i64)> {
        let reply = self.ok(&request("policy").str("cache_type", cache_type))?;
        Some((
            reply.get_int("cachable")? != 0,
            i64::from(reply.get_int("timeout")?),
        ))
    }

    fn key(&self, name: Option<&[u8]>) -> Option<TicketKey> {
        // A null name (the current key) travels as an empty one.
        let name = base64_encode(name.unwrap_or(b""));
        let reply = self.ok(&request("tktkey").str("keyname", &name))?;
        TicketKey::from_keybuf(&data(&reply, "keybuf")?)
    }

    fn lookup(&self, cache_type: &str, id: &str) -> Option<Vec<u8>> {
        let reply = self.ok(&request("lookup")
            .str("cache_type", cache_type)
            .str("cache_id", id))?;
        data(&reply, "session")
    }

    fn update(&self, cache_type: &str, id: &str, session: &[u8]) -> bool {
        self.ok(&request("update")
            .str("cache_type", cache_type)
            .str("cache_id", id)
            .str("session", &base64_encode(session)))
            .is_some()
    }

    fn delete(&self, cache_type: &str, id: &str) -> bool {
        self.ok(&request("delete")
            .str("cache_type", cache_type)
            .str("cache_id", id))
            .is_some()
    }
}

/// What a session needs to know about TLS.
pub struct TlsSetup {
    /// The engine, when TLS is on and usable.
    pub engine: Option<ServerTls>,
    /// The level: `may` offers STARTTLS; `encrypt` also allows nothing but EHLO, HELO,
    /// STARTTLS, NOOP and QUIT before TLS.
    pub level: SecurityLevel,
    /// `smtpd_tls_wrappermode`: the handshake at connect, no STARTTLS.
    pub wrapper: bool,
    /// `smtpd_tls_received_header`.
    pub received_header: bool,
    /// `smtpd_starttls_timeout`.
    pub starttls_timeout: Duration,
}

/// Reads the TLS parameters and sets up the engine.
pub fn from_config(config: &Config) -> TlsSetup {
    let get =
        |r: Result<String, params::ConfigError>| r.unwrap_or_else(|e| crate::settings::fatal(e));
    let text = |p| get(config.str(p));
    let yes = |p| config.bool(p).unwrap_or_else(|e| crate::settings::fatal(e));
    let level_text = text(&t::SMTPD_TLS_SECURITY_LEVEL);
    let level = if level_text.trim().is_empty() {
        if yes(&t::SMTPD_ENFORCE_TLS) {
            SecurityLevel::Encrypt
        } else if yes(&t::SMTPD_USE_TLS) {
            SecurityLevel::May
        } else {
            SecurityLevel::None
        }
    } else {
        SecurityLevel::parse(level_text.trim()).unwrap_or_else(|| {
            log::msg_fatal!(
                "invalid {} value: \"{}\"",
                t::SMTPD_TLS_SECURITY_LEVEL.name,
                level_text
            )
        })
    };
    let loglevel = text(&t::SMTPD_TLS_LOGLEVEL).trim().parse().unwrap_or(0);
    let settings = ServerSettings {
        level,
        files: CertKeyFiles {
            chain_files: text(&t::SMTPD_TLS_CHAIN_FILES)
                .split([',', ' ', '\t', '\n'])
                .filter(|f| !f.is_empty())
                .map(str::to_string)
                .collect(),
            cert_file: text(&t::SMTPD_TLS_CERT_FILE),
            key_file: text(&t::SMTPD_TLS_KEY_FILE),
            eccert_file: text(&t::SMTPD_TLS_ECCERT_FILE),
            eckey_file: text(&t::SMTPD_TLS_ECKEY_FILE),
        },
        protocols: text(&t::SMTPD_TLS_PROTOCOLS),
        mandatory_protocols: text(&t::SMTPD_TLS_MANDATORY_PROTOCOLS),
        ask_ccert: yes(&t::SMTPD_TLS_ASK_CCERT),
        req_ccert: yes(&t::SMTPD_TLS_REQ_CCERT),
        loglevel,
        ca_file: text(&t::SMTPD_TLS_CAFILE),
        fingerprint_digest: text(&t::SMTPD_TLS_FINGERPRINT_DIGEST),
        ciphers: text(&t::SMTPD_TLS_CIPHERS),
        mandatory_ciphers: text(&t::SMTPD_TLS_MANDATORY_CIPHERS),
        exclude_ciphers: text(&t::SMTPD_TLS_EXCLUDE_CIPHERS),
        mandatory_exclude_ciphers: text(&t::SMTPD_TLS_MANDATORY_EXCLUDE_CIPHERS),
        cipher_lists: tls::ciphers::CipherLists {
            high: text(&t::TLS_HIGH_CIPHERLIST),
            medium: text(&t::TLS_MEDIUM_CIPHERLIST),
            low: text(&t::TLS_LOW_CIPHERLIST),
            export: text(&t::TLS_EXPORT_CIPHERLIST),
            null: text(&t::TLS_NULL_CIPHERLIST),
        },
    };
    let mut engine = ServerTls::new(&settings, &mut |sev, text| log::write(sev, text));
    if let Some(engine) = engine.as_mut() {
        // The cache ids carry the master.cf service name, as Postfix's serverid.
        let serverid = config
            .explicit("service_name")
            .unwrap_or("smtpd")
            .to_string();
        let cipher = text(&m::TLS_SESSION_TICKET_CIPHER).trim().to_string();
        let tlsmgr = Tlsmgr::new(config);
        engine.set_resumption(Box::new(move |log| {
            Resumption::new(Arc::new(tlsmgr), "smtpd", &cipher, &serverid, log)
        }));
    }
    let timeout = config
        .time(&t::SMTPD_STARTTLS_TIMEOUT)
        .unwrap_or_else(|e| crate::settings::fatal(e));
    TlsSetup {
        level,
        engine,
        wrapper: yes(&t::SMTPD_TLS_WRAPPERMODE),
        received_header: yes(&t::SMTPD_TLS_RECEIVED_HEADER),
        starttls_timeout: Duration::from_secs(u64::try_from(timeout).unwrap_or(300)),
    }
}
