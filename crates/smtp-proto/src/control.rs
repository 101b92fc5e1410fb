//! The commands with little or no argument: RSET, NOOP, QUIT, STARTTLS, AUTH.
//!
//! Postfix counterparts: `rset_cmd()`, `noop_cmd()`, `quit_cmd()`, the checks of
//! `starttls_cmd()` (`smtpd/smtpd.c`) and of `smtpd_sasl_auth_cmd()`
//! (`smtpd/smtpd_sasl_proto.c`). NOOP takes any argument (RFC 2821), RSET none; QUIT's
//! argument is not looked at. After `220 2.0.0 Ready to start TLS` the session purges
//! its [`Input`](crate::Input) before the handshake, and resets HELO and the transaction.
//! Milter replies for STARTTLS and AUTH are the session's, before the TLS and
//! authentication checks.

use crate::notice::Reject;
use crate::reply::Reply;
use crate::token::Token;

/// `250 2.0.0 Ok`, the reply to RSET and NOOP.
pub fn ok_reply() -> Reply {
    Reply::new("250 2.0.0 Ok")
}

/// RSET takes no argument (`501 5.5.4 Syntax: RSET`); the session then resets the
/// transaction and replies [`ok_reply`].
pub fn rset_check(args: &[Token]) -> Result<(), Reject> {
    if args.len() != 1 {
        return Err(Reject::protocol("501 5.5.4 Syntax: RSET"));
    }
    Ok(())
}

/// `221 2.0.0 Bye`.
pub fn quit_reply() -> Reply {
    Reply::new("221 2.0.0 Bye")
}

/// STARTTLS: no argument, not already under TLS, offered (`smtpd_use_tls` and not
/// discarded by the EHLO keyword settings: `offered`). The session then applies the TLS
/// handshake rate limit and replies [`starttls_reply`].
pub fn starttls_check(args: &[Token], tls_active: bool, offered: bool) -> Result<(), Reject> {
    if args.len() != 1 {
        return Err(Reject::protocol("501 5.5.4 Syntax: STARTTLS"));
    }
    if tls_active {
        return Err(Reject::protocol("554 5.5.1 Error: TLS already active"));
    }
    if !offered {
        return Err(Reject::protocol("502 5.5.1 Error: command not implemented"));
    }
    Ok(())
}

/// `220 2.0.0 Ready to start TLS`.
pub fn starttls_reply() -> Reply {
    Reply::new("220 2.0.0 Ready to start TLS")
}

/// Where AUTH stands in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthState {
    /// `smtpd_helo_required`.
    pub helo_required: bool,
    /// HELO or EHLO was accepted.
    pub helo_seen: bool,
    /// SASL is on for this session and AUTH not discarded (never in stand-alone mode).
    pub enabled: bool,
    /// A mail transaction is in progress.
    pub in_mail: bool,
    /// `smtpd_tls_auth_only` and no TLS yet.
    pub needs_tls: bool,
    /// The client has authenticated already.
    pub authenticated: bool,
}

/// AUTH's checks, in Postfix's order; `Ok` gives the mechanism and the initial response.
pub fn auth_check<'a>(
    args: &'a [Token],
    state: &AuthState,
) -> Result<(&'a [u8], Option<&'a [u8]>), Reject> {
    if state.helo_required && !state.helo_seen {
        return Err(Reject::policy("503 5.5.1 Error: send HELO/EHLO first"));
    }
    if !state.enabled {
        return Err(Reject::protocol(
            "503 5.5.1 Error: authentication not enabled",
        ));
    }
    if state.in_mail {
        return Err(Reject::protocol(
            "503 5.5.1 Error: MAIL transaction in progress",
        ));
    }
    if state.needs_tls {
        return Err(Reject::protocol(
            "504 5.5.4 Encryption required for requested authentication mechanism",
        ));
    }
    if state.authenticated {
        return Err(Reject::protocol("503 5.5.1 Error: already authenticated"));
    }
    match args {
        [_, mechanism] => Ok((&mechanism.text, None)),
        [_, mechanism, response] => Ok((&mechanism.text, Some(&response.text))),
        _ => Err(Reject::protocol("501 5.5.4 Syntax: AUTH mechanism")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tokenize;

    #[test]
    fn checks() {
        assert!(rset_check(&tokenize(b"RSET x")).is_err());
        assert_eq!(
            starttls_check(&tokenize(b"STARTTLS"), false, false)
                .unwrap_err()
                .reply
                .to_string(),
            "502 5.5.1 Error: command not implemented"
        );
        let state = AuthState {
            helo_required: false,
            helo_seen: true,
            enabled: true,
            in_mail: false,
            needs_tls: false,
            authenticated: false,
        };
        let args = tokenize(b"AUTH PLAIN AGZvbwBiYXI=");
        let (mechanism, response) = auth_check(&args, &state).unwrap();
        assert_eq!(
            (mechanism, response),
            (&b"PLAIN"[..], Some(&b"AGZvbwBiYXI="[..]))
        );
        let off = AuthState {
            enabled: false,
            ..state
        };
        assert_eq!(
            auth_check(&args, &off).unwrap_err().reply.to_string(),
            "503 5.5.1 Error: authentication not enabled"
        );
    }
}
