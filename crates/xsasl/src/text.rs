//! The texts smtpd sends and logs for SASL, Postfix 3.7's exactly (recorded from Debian's
//! Postfix 3.7.11 smtpd in `tests/golden/`, which `tests/golden.rs` checks these against).
//!
//! Postfix counterpart: `smtpd_sasl_authenticate()` (`smtpd/smtpd_sasl_glue.c`), the
//! `client=` line of `smtpd.c`, and `printable()` (`util/printable.c`). How smtpd uses
//! them, in Postfix's order:
//!
//! - When a session starts (and again after STARTTLS, with
//!   smtpd_sasl_tls_security_options), `Session::mechanisms` gives EHLO's `AUTH` list; when
//!   it is `None` (no server, or every mechanism filtered out) Postfix's smtpd ends with
//!   `fatal: no SASL authentication mechanisms`. The AUTH command's own checks (`503 5.5.1
//!   Error: authentication not enabled`, `already authenticated`, `501 5.5.4 Syntax: AUTH
//!   mechanism`...) are smtp-proto's `auth_check`.
//! - [`Step::Continue`](crate::Step::Continue): send [`challenge_reply`], read a line; if
//!   it is over smtpd_sasl_response_limit send [`response_limit_reply`] and stop; if it is
//!   `*`, log [`aborted_log`] as a warning, send [`aborted_reply`] and stop; otherwise pass
//!   it to `next`.
//! - [`Step::Fail`](crate::Step::Fail): log [`failure_log`] as a warning (fail2ban reads
//!   it), send [`failure_reply`].
//! - [`Step::Done`](crate::Step::Done): send [`success_reply`]; remember the mechanism
//!   and user made [`printable`]; the `client=` line then ends in [`client_line_sasl`].

/// Postfix's `printable(text, '?')` with UTF-8 enabled (smtputf8_enable, the default),
/// for bytes from the server: valid UTF-8 stays, every other byte that is not printable
/// ASCII becomes `?` (util's printable over util's 8-bit text).
pub fn printable(text: &[u8]) -> String {
    util::printable::printable(&util::eight_bit::to_text(text), true).into_owned()
}

/// `%.100s`: at most 100 bytes, cut at a character boundary.
fn at_most_100(text: &str) -> &str {
    let mut end = text.len().min(100);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `334 <challenge>`.
pub fn challenge_reply(challenge: &str) -> String {
    format!("334 {challenge}")
}

/// `235 2.7.0 Authentication successful` (RFC 4954 section 6).
pub fn success_reply() -> &'static str {
    "235 2.7.0 Authentication successful"
}

/// The reason as Postfix shows it: an empty one is `(reason unavailable)`.
fn shown_reason(reason: &str) -> &str {
    if reason.is_empty() {
        "(reason unavailable)"
    } else {
        reason
    }
}

/// `535 5.7.8 Error: authentication failed: <reason>`, or for a temporary failure
/// `454 4.7.0 Temporary authentication failure: <reason>`.
pub fn failure_reply(reason: &str, temporary: bool) -> String {
    let reason = shown_reason(reason);
    if temporary {
        format!("454 4.7.0 Temporary authentication failure: {reason}")
    } else {
        format!("535 5.7.8 Error: authentication failed: {reason}")
    }
}

/// The warning (without `warning: `) logged for a failure:
/// `host[addr]: SASL LOGIN authentication failed: <reason>, sasl_username=<user>`.
/// `username` is the session's (`Session::username`), `(unavailable)` when none.
pub fn failure_log(namaddr: &str, mechanism: &str, reason: &str, username: Option<&str>) -> String {
    format!(
        "{namaddr}: SASL {} authentication failed: {}, sasl_username={}",
        at_most_100(mechanism),
        shown_reason(reason),
        at_most_100(username.unwrap_or("(unavailable)"))
    )
}

/// The warning (without `warning: `) when the client answers a challenge with `*`.
pub fn aborted_log(namaddr: &str, mechanism: &str) -> String {
    format!("{namaddr}: SASL {mechanism} authentication aborted")
}

/// `501 5.7.0 Authentication aborted`.
pub fn aborted_reply() -> &'static str {
    "501 5.7.0 Authentication aborted"
}

/// `500 5.5.6 SASL response limit exceeded` (a response over smtpd_sasl_response_limit).
pub fn response_limit_reply() -> &'static str {
    "500 5.5.6 SASL response limit exceeded"
}

/// What the `QUEUEID: client=host[addr]` line gets after an authentication:
/// `, sasl_method=PLAIN, sasl_username=alice`, and `, sasl_sender=...` when MAIL FROM
/// had an `AUTH=` other than `<>`.
pub fn client_line_sasl(method: &str, username: &str, sender: Option<&str>) -> String {
    let mut text = format!(", sasl_method={method}, sasl_username={username}");
    if let Some(sender) = sender {
        text.push_str(", sasl_sender=");
        text.push_str(sender);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_text() {
        assert_eq!(printable(b"alice"), "alice");
        assert_eq!(printable(b"a\x01b\tc\x7f"), "a?b?c?");
        assert_eq!(printable("jürgen".as_bytes()), "jürgen");
        assert_eq!(printable(b"j\xfcrgen"), "j?rgen");
    }

    #[test]
    fn texts() {
        assert_eq!(
            failure_reply("", false),
            "535 5.7.8 Error: authentication failed: (reason unavailable)"
        );
        assert_eq!(
            failure_reply("Connection lost to authentication server", true),
            "454 4.7.0 Temporary authentication failure: Connection lost to authentication server"
        );
        let long = "x".repeat(150);
        assert_eq!(
            failure_log("h[1.2.3.4]", &long, "r", Some("é".repeat(60).as_str())),
            format!(
                "h[1.2.3.4]: SASL {} authentication failed: r, sasl_username={}",
                "x".repeat(100),
                "é".repeat(50)
            )
        );
    }
}
