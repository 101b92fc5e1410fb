//! The process's connection to the Dovecot auth server: connect and handshake on first
//! use, the mechanism list it announced, the request id counter, and the disconnect that
//! makes the next request reconnect.
//!
//! Postfix counterpart: `XSASL_DOVECOT_SERVER_IMPL` with `xsasl_dovecot_server_connect()`,
//! `_disconnect()` and `_init()` (`xsasl/xsasl_dovecot_server.c`). One connection serves
//! every SMTP session of the smtpd process in turn, as in Postfix. The handshake's
//! warnings are Postfix's, word for word. Unlike Postfix, what the server may send is
//! bounded: [`MAX_MECHANISMS`] mechanisms, [`MAX_HANDSHAKE_LINES`] lines before DONE
//! (and [`crate::line::MAX_LINE`] bytes a line).

use crate::conn::{Conn, Endpoint};
use crate::proto::{self, MAJOR_VERSION, ServerLine};
use crate::secprops::SecProps;
use log::{msg_info, msg_warn};

/// The most mechanisms kept from a handshake; Dovecot 2.3 knows about twenty.
pub const MAX_MECHANISMS: usize = 64;
/// The most lines read before DONE.
pub const MAX_HANDSHAKE_LINES: usize = 512;

/// A mechanism the server offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mechanism {
    /// Its name as the server wrote it (`PLAIN`).
    pub name: String,
    /// Its security properties.
    pub props: SecProps,
}

/// The Dovecot SASL client of one smtpd process (Postfix's "server implementation").
pub struct Dovecot {
    endpoint: Endpoint,
    pub(crate) conn: Option<Conn>,
    mechanisms: Vec<Mechanism>,
    request_ids: u32,
}

impl Dovecot {
    /// A client for the auth server at `endpoint`; nothing is connected yet (Postfix
    /// connects late, with smtpd's privileges, when the first session asks).
    pub fn new(endpoint: Endpoint) -> Self {
        Dovecot {
            endpoint,
            conn: None,
            mechanisms: Vec::new(),
            request_ids: 0,
        }
    }

    /// The mechanisms of the current connection, connecting first if needed; `None`
    /// when there is no server to talk to (the warning is logged).
    pub fn mechanisms(&mut self) -> Option<&[Mechanism]> {
        if self.conn.is_none() && !self.connect() {
            return None;
        }
        Some(&self.mechanisms)
    }

    /// Connects and reads the handshake, as `xsasl_dovecot_server_connect()`.
    pub(crate) fn connect(&mut self) -> bool {
        if log::verbose() > 0 {
            msg_info!("xsasl_dovecot_server_connect: Connecting");
        }
        let mut conn = match Conn::open(&self.endpoint) {
            Ok(conn) => conn,
            Err(e) => {
                msg_warn!(
                    "SASL: Connect to Dovecot auth socket '{}' failed: {}",
                    self.endpoint.path,
                    sys::os_error(&e)
                );
                return false;
            }
        };
        if let Err(e) = conn.send(&proto::handshake_request(std::process::id())) {
            msg_warn!("SASL: Couldn't send handshake: {}", sys::os_error(&e));
            return false;
        }
        match handshake(&mut conn) {
            Some(mechanisms) => {
                self.mechanisms = mechanisms;
                self.conn = Some(conn);
                true
            }
            None => false,
        }
    }

    /// Drops the connection and its mechanism list; the next request reconnects.
    pub(crate) fn disconnect(&mut self) {
        self.conn = None;
        self.mechanisms.clear();
    }

    /// A new request id, never 0 (a reply with an unreadable id reads as 0).
    pub(crate) fn next_request_id(&mut self) -> u32 {
        self.request_ids = self.request_ids.wrapping_add(1).max(1);
        self.request_ids
    }
}

/// RFC 4422's mechanism name syntax (case is not checked: Postfix compares names in any
/// case).
fn is_mechanism_name(name: &[u8]) -> bool {
    name.len() <= 20
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// Reads the server's handshake up to DONE; the mechanisms without `private`, or `None`
/// when the server is not one smtpd can use (the reason is logged when Postfix logs it).
fn handshake(conn: &mut Conn) -> Option<Vec<Mechanism>> {
    let mut mechanisms = Vec::new();
    let mut have_mech_line = false;
    for _ in 0..MAX_HANDSHAKE_LINES {
        let line = conn.read_line().ok()?;
        if log::verbose() > 0 {
            msg_info!(
                "xsasl_dovecot_server_connect: auth reply: {}",
                String::from_utf8_lossy(&line)
            );
        }
        match proto::parse_line(&line) {
            ServerLine::Version(None) => {
                msg_warn!("SASL: Protocol version error");
                return None;
            }
            ServerLine::Version(Some((major, _))) if major != MAJOR_VERSION => {
                msg_warn!("SASL: Protocol version mismatch ({major} vs. {MAJOR_VERSION})");
                return None;
            }
            ServerLine::Mech { name, props } => {
                have_mech_line = true;
                // A name that is not a SASL mechanism name (RFC 4422: upper-case letters,
                // digits, '-' and '_') would corrupt the EHLO reply; Postfix takes any.
                if props.contains(SecProps::PRIVATE) || !is_mechanism_name(name) {
                    continue;
                }
                if mechanisms.len() == MAX_MECHANISMS {
                    msg_warn!("SASL: more than {MAX_MECHANISMS} mechanisms from the auth server");
                    return None;
                }
                mechanisms.push(Mechanism {
                    name: String::from_utf8_lossy(name).into_owned(),
                    props,
                });
            }
            // auth-master and auth-userdb sockets send VERSION and SPID and nothing else,
            // auth-client sends MECH lines before SPID.
            ServerLine::Spid if !have_mech_line => {
                msg_warn!(
                    "SASL: Connected to wrong auth socket (auth-master instead of auth-client)"
                );
                return None;
            }
            ServerLine::Done => return Some(mechanisms),
            _ => {}
        }
    }
    msg_warn!("SASL: no DONE after {MAX_HANDSHAKE_LINES} lines from the auth server");
    None
}
