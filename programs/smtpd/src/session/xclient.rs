//! XCLIENT: an authorized client (a proxy, a test tool) replaces the client smtpd sees,
//! and the session starts over as if that client had connected.
//!
//! Postfix counterpart: `xclient_cmd()` in `smtpd/smtpd.c`. Clients in
//! `smtpd_authorized_xclient_hosts` see the keyword in EHLO and may send NAME,
//! REVERSE_NAME, ADDR, PORT, PROTO, HELO, LOGIN, DESTADDR and DESTPORT outside a
//! transaction; `[UNAVAILABLE]` (and `[TEMPUNAVAIL]` for the names) stands for a value
//! the proxy does not have: `unknown` for the client and server address and port, no
//! HELO name, no login. Unlike XFORWARD the new client is the client for everything
//! that follows: the restrictions, the log, the Received: header. Attributes apply one at
//! a time, so those before a bad one stay (as in Postfix, whose `name[addr]` is then not
//! rebuilt). On success there is no 250: the transaction, HELO (unless given), the
//! protocol (unless given) and SASL (unless LOGIN) are forgotten, anvil counts the new
//! client (the proxy itself is never counted), connect-time restrictions run again for
//! it, and the reply is a new 220 greeting.

use super::auth::Authenticated;
use super::xforward::{UNAVAILABLE, neuter, normalize_addr};
use super::{Done, Session, listed_client};
use crate::io::Wire;
use dns::peer::{CLIENT_NAME_UNKNOWN, PeerCode};
use smtp_proto::{Reject, Token, Verb};

/// `[TEMPUNAVAIL]`: a name lookup that failed for now.
const TEMPUNAVAIL: &str = "[TEMPUNAVAIL]";
/// The longest HELO value (`VALID_HOSTNAME_LEN`).
const MAX_HELO: usize = 255;

/// Which session facts the command set itself, so the restart keeps them.
#[derive(Default)]
struct Given {
    namaddr: bool,
    helo: bool,
    proto: bool,
    login: bool,
}

/// A name attribute's lookup status: `[UNAVAILABLE]` is a permanent failure,
/// `[TEMPUNAVAIL]` a temporary one (Postfix's `peer_codes`, any case).
fn name_status(value: &str) -> PeerCode {
    if value.eq_ignore_ascii_case(UNAVAILABLE) {
        PeerCode::Perm
    } else if value.eq_ignore_ascii_case(TEMPUNAVAIL) {
        PeerCode::Temp
    } else {
        PeerCode::Ok
    }
}

/// A port value: digits, at most five of them.
fn valid_port(value: &str) -> bool {
    value.bytes().all(|b| b.is_ascii_digit()) && value.len() <= 5
}

impl<W: Wire> Session<'_, W> {
    /// XCLIENT attribute=value...: the check, the attributes, then the restart.
    pub(super) fn xclient_command(&mut self, args: &[Token]) -> Done {
        let checked = smtp_proto::xattr_check(
            Verb::Xclient,
            args,
            self.txn.in_mail(),
            self.xclient_allowed,
        );
        let mut given = Given::default();
        if let Err(reject) = checked.and_then(|()| self.xclient_attributes(args, &mut given)) {
            return Ok(!self.refuse(reject));
        }
        if given.namaddr {
            self.peer.namaddr = self.namaddr();
        }
        self.restart(&given);
        Ok(true)
    }

    /// `name[addr]` or `name[addr]:port` for the client as it now is.
    fn namaddr(&self) -> String {
        let p = &self.peer;
        if self.settings.client_port_logging {
            format!("{}[{}]:{}", p.name, p.addr, p.port)
        } else {
            format!("{}[{}]", p.name, p.addr)
        }
    }

    /// Applies the attributes in order; the first bad one is the reply.
    fn xclient_attributes(&mut self, args: &[Token], given: &mut Given) -> Result<(), Reject> {
        for attr in smtp_proto::attributes(args, self.settings.smtputf8) {
            let attr = attr?;
            let name = String::from_utf8_lossy(&attr.name).to_ascii_uppercase();
            let value = attr.value;
            let unavailable = value.eq_ignore_ascii_case(UNAVAILABLE);
            let bad = |value: &str| smtp_proto::bad_value(&name, value);
            let peer = &mut self.peer;
            match name.as_str() {
                "NAME" | "REVERSE_NAME" => {
                    let status = name_status(&value);
                    let value = if status == PeerCode::Ok {
                        if !util::valid_hostname::valid_hostname(&value) {
                            return Err(bad(&value));
                        }
                        value
                    } else {
                        CLIENT_NAME_UNKNOWN.to_string()
                    };
                    if name == "NAME" {
                        // A good name is also the reverse name; a missing one leaves
                        // the reverse name as it was.
                        if status == PeerCode::Ok {
                            peer.reverse_name = value.clone();
                            peer.reverse_name_status = status;
                        }
                        peer.name = value;
                        peer.name_status = status;
                        given.namaddr = true;
                    } else {
                        peer.reverse_name = value;
                        peer.reverse_name_status = status;
                    }
                }
                "ADDR" if unavailable => {
                    peer.addr = CLIENT_NAME_UNKNOWN.to_string();
                    peer.rfc_addr = CLIENT_NAME_UNKNOWN.to_string();
                    given.namaddr = true;
                }
                "ADDR" => {
                    let neutered = neuter(&value);
                    let (addr, rfc) = normalize_addr(&neutered, self.settings.inet)
                        .ok_or_else(|| bad(&neutered))?;
                    (peer.addr, peer.rfc_addr) = (addr, rfc);
                    given.namaddr = true;
                }
                "PORT" if unavailable => {
                    peer.port = CLIENT_NAME_UNKNOWN.to_string();
                    given.namaddr = true;
                }
                "PORT" if valid_port(&value) => {
                    peer.port = value;
                    given.namaddr = true;
                }
                "PORT" => return Err(bad(&value)),
                "HELO" if unavailable => {
                    self.helo = None;
                    given.helo = true;
                }
                "HELO" if value.len() > MAX_HELO => return Err(bad(&value)),
                "HELO" => {
                    self.helo = Some(neuter(&value));
                    given.helo = true;
                }
                "PROTO" if value.eq_ignore_ascii_case("SMTP") => {
                    self.esmtp = false;
                    given.proto = true;
                }
                "PROTO" if value.eq_ignore_ascii_case("ESMTP") => {
                    self.esmtp = true;
                    given.proto = true;
                }
                "PROTO" => return Err(bad(&value)),
                "LOGIN" if unavailable => {}
                "LOGIN" => {
                    // Works with SASL off too: the proxy did the authentication.
                    self.authenticated = Some(Authenticated {
                        method: Verb::Xclient.name().to_string(),
                        username: value,
                    });
                    given.login = true;
                }
                "DESTADDR" if unavailable => {
                    peer.dest_addr = Some(CLIENT_NAME_UNKNOWN.to_string());
                }
                "DESTADDR" => {
                    let neutered = neuter(&value);
                    let (addr, _) = normalize_addr(&neutered, self.settings.inet)
                        .ok_or_else(|| bad(&neutered))?;
                    if let (Some(server), Ok(ip)) = (peer.server.as_mut(), addr.parse()) {
                        server.set_ip(ip);
                    }
                    peer.dest_addr = Some(addr);
                }
                "DESTPORT" if unavailable => {
                    peer.dest_port = Some(CLIENT_NAME_UNKNOWN.to_string());
                }
                "DESTPORT" if valid_port(&value) => {
                    if let (Some(server), Ok(port)) = (peer.server.as_mut(), value.parse()) {
                        server.set_port(port);
                    }
                    peer.dest_port = Some(value);
                }
                "DESTPORT" => return Err(bad(&value)),
                _ => return Err(smtp_proto::bad_name(Verb::Xclient, &attr.name)),
            }
        }
        Ok(())
    }

    /// The session as for a client that has just connected, with what XCLIENT gave
    /// kept, and the new greeting.
    fn restart(&mut self, given: &Given) {
        let stand_alone = self.stand_alone();
        let peer = &self.peer;
        self.xclient_allowed = listed_client(self.settings.xclient_hosts.as_ref(), peer);
        let excluded = self
            .settings
            .bare_lf_exclusions
            .matches(&[&peer.name, &peer.addr])
            .unwrap_or(false);
        self.bare_lf = self.settings.bare_lf.for_client(excluded, stand_alone);
        // The new client is counted from here on (and its connection ends with the
        // session), unless it may use XCLIENT too.
        let counts = self
            .anvil_spare
            .as_ref()
            .is_some_and(|a| !self.xclient_allowed && a.counts(&peer.name, &peer.addr));
        if counts {
            self.anvil = self.anvil_spare.take();
        }
        if !given.helo {
            self.helo = None;
        }
        if !given.proto {
            self.esmtp = false;
        }
        if !given.login {
            self.authenticated = None;
        }
        // SASL starts over for the new client, with the options for the TLS state.
        self.sasl = None;
        self.sasl_activate();
        self.chat_reset(0, None);
        self.reset();
        self.restarted = true;
        self.greet();
    }
}
