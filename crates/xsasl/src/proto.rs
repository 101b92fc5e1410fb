//! Dovecot's auth protocol, client side: what each server line means, and the request
//! lines smtpd sends, byte for byte as Postfix's smtpd sends them.
//!
//! Postfix counterpart: the line handling of `xsasl_dovecot_server_connect()`,
//! `xsasl_dovecot_parse_reply()`, `xsasl_dovecot_parse_reply_args()` and the
//! `vstream_fprintf()` calls of `xsasl_dovecot_server_first()`/`_next()`
//! (`xsasl/xsasl_dovecot_server.c`). The protocol is Dovecot's "auth client" protocol:
//! tab-separated fields, one line per message. Postfix announces version 1.0 (minor
//! versions are compatible; Dovecot 2.3 answers 1.2), and so does ironpost, so that the two
//! send the same bytes.

use crate::secprops::{self, SecProps};

/// The protocol's major version; a server with another one cannot be talked to.
pub const MAJOR_VERSION: u32 = 1;
/// The minor version announced, Postfix's.
pub const MINOR_VERSION: u32 = 0;

/// Which reply to a request a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// Authentication succeeded.
    Ok,
    /// The server sends a challenge and waits for a response.
    Cont,
    /// Authentication failed.
    Fail,
}

impl ReplyKind {
    /// The command word, for log texts.
    pub fn word(self) -> &'static str {
        match self {
            ReplyKind::Ok => "OK",
            ReplyKind::Cont => "CONT",
            ReplyKind::Fail => "FAIL",
        }
    }
}

/// One line from the server, with what Postfix looks at in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerLine<'a> {
    /// `VERSION major minor`; `None` when the numbers do not parse.
    Version(Option<(u32, u32)>),
    /// `MECH name flags...`.
    Mech {
        /// The mechanism name.
        name: &'a [u8],
        /// Its properties, from the flags.
        props: SecProps,
    },
    /// `SPID pid`: the handshake of an auth-client socket sends MECH lines before it.
    Spid,
    /// `DONE`: the handshake is over.
    Done,
    /// `OK`, `CONT` or `FAIL`.
    Reply {
        /// Which one.
        kind: ReplyKind,
        /// The request id (`None`: no id field at all, a protocol error).
        id: Option<u32>,
        /// What follows the id and its tab (`None`: nothing, not even a tab).
        rest: Option<&'a [u8]>,
    },
    /// Anything else (CUID, COOKIE, a MECH without a name, commands of newer versions):
    /// ignored, as Postfix does.
    Other,
}

/// Splits at the first tab, as Postfix's `split_at(line, '\t')`.
fn split_tab(line: &[u8]) -> (&[u8], Option<&[u8]>) {
    match line.iter().position(|&b| b == b'\t') {
        Some(at) => (&line[..at], Some(&line[at + 1..])),
        None => (line, None),
    }
}

/// The decimal number at the start of `text` after white space, as `strtoul()` and
/// `sscanf("%u")` read it; `None` without a digit or past `u32`.
fn leading_number(text: &[u8]) -> Option<u32> {
    let text = text.trim_ascii_start();
    let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&text[..digits]).ok()?.parse().ok()
}

/// What a line from the server is.
pub fn parse_line(line: &[u8]) -> ServerLine<'_> {
    let (cmd, rest) = split_tab(line);
    match (cmd, rest) {
        (b"VERSION", rest) => {
            let (major, minor) = split_tab(rest.unwrap_or_default());
            let version = leading_number(major).zip(minor.and_then(leading_number));
            ServerLine::Version(version)
        }
        (b"MECH", Some(rest)) => {
            let (name, flags) = split_tab(rest);
            if name.is_empty() {
                // Postfix would announce an empty name; nothing good comes of it.
                return ServerLine::Other;
            }
            let props = flags.map(secprops::parse_mech_flags).unwrap_or_default();
            ServerLine::Mech { name, props }
        }
        (b"SPID", _) => ServerLine::Spid,
        (b"DONE", _) => ServerLine::Done,
        (b"OK" | b"CONT" | b"FAIL", rest) => {
            let kind = match cmd {
                b"OK" => ReplyKind::Ok,
                b"CONT" => ReplyKind::Cont,
                _ => ReplyKind::Fail,
            };
            let (id, rest) = match rest {
                Some(fields) => {
                    let (id, rest) = split_tab(fields);
                    // strtoul() gives 0 for no digits: a number no request has.
                    (Some(leading_number(id).unwrap_or(0)), rest)
                }
                None => (None, None),
            };
            ServerLine::Reply { kind, id, rest }
        }
        _ => ServerLine::Other,
    }
}

/// The arguments of an OK or FAIL reply that Postfix reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyArgs<'a> {
    /// `user=`: the (last) user name.
    pub user: Option<&'a [u8]>,
    /// `reason=`: the (last) reason, shown to the client on failure.
    pub reason: Option<&'a [u8]>,
    /// The `temp` flag (or `code=temp_fail`): a temporary failure of the server, such as
    /// its password database being unreachable.
    pub temp: bool,
}

/// The `name=value` and flag fields after a reply's id.
pub fn reply_args(rest: Option<&[u8]>) -> ReplyArgs<'_> {
    let mut args = ReplyArgs::default();
    for field in rest.into_iter().flat_map(|r| r.split(|&b| b == b'\t')) {
        if let Some(user) = field.strip_prefix(b"user=") {
            args.user = Some(user);
        } else if let Some(reason) = field.strip_prefix(b"reason=") {
            args.reason = Some(reason);
        } else if field == b"temp" || field == b"code=temp_fail" {
            args.temp = true;
        }
    }
    args
}

/// The handshake smtpd opens a connection with.
pub fn handshake_request(pid: u32) -> String {
    format!("VERSION\t{MAJOR_VERSION}\t{MINOR_VERSION}\nCPID\t{pid}\n")
}

/// What TLS gives the session, for the AUTH request's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tls {
    /// No TLS.
    #[default]
    None,
    /// TLS is on (`secured`).
    Secured,
    /// TLS with a client certificate that verified (`secured` and `valid-client-cert`:
    /// Postfix 3.8's addition, for Dovecot's `auth_ssl_require_client_cert`).
    TrustedCert,
}

/// One AUTH request.
#[derive(Debug, Clone, Copy)]
pub struct AuthRequest<'a> {
    /// The request id.
    pub id: u32,
    /// The mechanism, as the client named it.
    pub mechanism: &'a str,
    /// `service=`: smtpd_sasl_service ("smtp").
    pub service: &'a str,
    /// `lip=`: the server's address the client connected to.
    pub local_addr: &'a str,
    /// `rip=`: the client's address.
    pub remote_addr: &'a str,
    /// The TLS flags.
    pub tls: Tls,
    /// `resp=`: the initial response, base64 as the client sent it.
    pub initial_response: Option<&'a str>,
}

impl AuthRequest<'_> {
    /// The request line, newline included. `nologin`: smtpd only wants the password
    /// checked, not a login session prepared.
    pub fn line(&self) -> String {
        let mut line = format!(
            "AUTH\t{}\t{}\tservice={}\tnologin\tlip={}\trip={}",
            self.id, self.mechanism, self.service, self.local_addr, self.remote_addr
        );
        if self.tls != Tls::None {
            line.push_str("\tsecured");
        }
        if self.tls == Tls::TrustedCert {
            line.push_str("\tvalid-client-cert");
        }
        if let Some(response) = self.initial_response {
            line.push_str("\tresp=");
            line.push_str(response);
        }
        line.push('\n');
        line
    }
}

/// A CONT request carrying the client's response (base64) to a challenge.
pub fn cont_request(id: u32, response: &str) -> String {
    format!("CONT\t{id}\t{response}\n")
}

/// Whether `data` has only base64 characters, Postfix's `is_valid_base64()`: a response
/// with a tab or newline would break the protocol's framing.
pub fn is_base64(data: &str) -> bool {
    data.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_lines() {
        assert_eq!(
            parse_line(b"VERSION\t1\t2"),
            ServerLine::Version(Some((1, 2)))
        );
        assert_eq!(parse_line(b"VERSION\t1"), ServerLine::Version(None));
        assert_eq!(parse_line(b"VERSION"), ServerLine::Version(None));
        assert_eq!(
            parse_line(b"MECH\tPLAIN\tplaintext"),
            ServerLine::Mech {
                name: b"PLAIN",
                props: SecProps::PLAINTEXT
            }
        );
        assert_eq!(
            parse_line(b"MECH\tEXTERNAL"),
            ServerLine::Mech {
                name: b"EXTERNAL",
                props: SecProps::default()
            }
        );
        assert_eq!(parse_line(b"MECH"), ServerLine::Other);
        assert_eq!(parse_line(b"COOKIE\tabc"), ServerLine::Other);
        assert_eq!(
            parse_line(b"CONT\t7\tVXNlcm5hbWU6"),
            ServerLine::Reply {
                kind: ReplyKind::Cont,
                id: Some(7),
                rest: Some(b"VXNlcm5hbWU6")
            }
        );
        assert_eq!(
            parse_line(b"OK\t3"),
            ServerLine::Reply {
                kind: ReplyKind::Ok,
                id: Some(3),
                rest: None
            }
        );
        assert_eq!(
            parse_line(b"FAIL"),
            ServerLine::Reply {
                kind: ReplyKind::Fail,
                id: None,
                rest: None
            }
        );
        assert!(matches!(
            parse_line(b"FAIL\tx"),
            ServerLine::Reply { id: Some(0), .. }
        ));
    }

    #[test]
    fn args() {
        let a = reply_args(Some(b"user=alice\treason=Bad\ttemp\tuser=bob"));
        assert_eq!(a.user, Some(&b"bob"[..]));
        assert_eq!(a.reason, Some(&b"Bad"[..]));
        assert!(a.temp);
        assert_eq!(reply_args(None), ReplyArgs::default());
    }

    #[test]
    fn requests() {
        let r = AuthRequest {
            id: 1,
            mechanism: "PLAIN",
            service: "smtp",
            local_addr: "127.0.0.1",
            remote_addr: "127.0.0.2",
            tls: Tls::TrustedCert,
            initial_response: Some(""),
        };
        assert_eq!(
            r.line(),
            "AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\trip=127.0.0.2\
             \tsecured\tvalid-client-cert\tresp=\n"
        );
        assert_eq!(cont_request(2, "eA=="), "CONT\t2\teA==\n");
        assert_eq!(handshake_request(42), "VERSION\t1\t0\nCPID\t42\n");
        assert!(is_base64("AGFsaWNlAHNlY3JldA==") && is_base64(""));
        assert!(!is_base64("a b") && !is_base64("a\tb"));
    }
}
