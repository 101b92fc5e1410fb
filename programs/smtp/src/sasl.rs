//! The SASL client: AUTH with PLAIN or LOGIN after EHLO, with credentials from
//! `smtp_sasl_password_maps`.
//!
//! Postfix counterparts: `smtp/smtp_sasl_proto.c` (`smtp_sasl_helo_auth()`,
//! `smtp_sasl_helo_login()`), `smtp/smtp_sasl_glue.c` (`smtp_sasl_passwd_lookup()`,
//! `smtp_sasl_authenticate()`) and the mechanism choice of Cyrus SASL's client, which
//! Debian's Postfix uses: of the mechanisms the server offers (less those
//! `smtp_sasl_mechanism_filter` leaves out), those `smtp_sasl_security_options` allow;
//! a mechanism that sends the first response (PLAIN) before one that waits for a
//! challenge (LOGIN). PLAIN and LOGIN are plaintext mechanisms, so the default options
//! (noplaintext) allow neither: Postfix then fails with "no mechanism available" too.

use crate::chat::{Except, Resp};
use crate::proto::Session;
use crate::state::{Fail, State};
use global::mail_addr_find::{Form, Strategy};

/// What the client can do (Cyrus's plug-ins that Debian installs and Postfix uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mech {
    Plain,
    Login,
}

impl Mech {
    fn name(self) -> &'static str {
        match self {
            Mech::Plain => "PLAIN",
            Mech::Login => "LOGIN",
        }
    }
}

/// Base64 (RFC 4648, with padding).
fn base64(data: &[u8]) -> String {
    global::msg_stats::base64_encode(data)
}

/// The credentials for this session (`smtp_sasl_passwd_lookup()`): by sender address
/// with smtp_sender_dependent_authentication (`user+ext@domain`, `user@domain`, `user`
/// in a local domain, `@domain`, as `mail_addr_find()` tries them), then by server host
/// name, then by next hop; None when there are none.
fn passwd_lookup(state: &State, session: &Session) -> Result<Option<(String, String)>, ()> {
    let Some(maps) = &state.settings.sasl_passwd_maps else {
        return Ok(None);
    };
    let sender = &state.request.sender;
    let by_sender = match &state.settings.sender_auth_context {
        Some(context) if !sender.is_empty() => context
            .with(|context| {
                global::mail_addr_find::mail_addr_find(
                    maps,
                    sender,
                    Form::Internal,
                    Form::ExternalFirst,
                    Form::External,
                    Strategy::DEFAULT,
                    context,
                )
            })
            .map(|found| found.map(|found| found.value)),
        _ => Ok(None),
    };
    let mut found = by_sender;
    for key in [session.host.as_str(), session.dest.as_str()] {
        if !matches!(found, Ok(None)) {
            break;
        }
        found = maps.find(key, false);
    }
    match found {
        Ok(Some(value)) => {
            let (user, pass) = value.split_once(':').unwrap_or((&value, ""));
            if log::verbose() > 0 {
                log::msg_info!(
                    "smtp_sasl_passwd_lookup: host `{}' user `{user}' pass `{pass}'",
                    session.host
                );
            }
            Ok(Some((user.to_string(), pass.to_string())))
        }
        Ok(None) => {
            if log::verbose() > 0 {
                log::msg_info!(
                    "smtp_sasl_passwd_lookup: no auth info found (sender=`{}', host=`{}')",
                    state.request.sender,
                    session.host
                );
            }
            Ok(None)
        }
        Err(_) => {
            log::msg_warn!("{}: {} lookup error", state.request.queue_id, maps.title());
            Err(())
        }
    }
}

/// Whether SASL is on and the password tables have credentials for this session
/// (`HAVE_SASL_CREDENTIALS`).
pub fn have_credentials(state: &State, session: &Session) -> bool {
    state.settings.sasl_enable && matches!(passwd_lookup(state, session), Ok(Some(_)))
}

/// The mechanism Cyrus's client would choose, or its error text.
fn choose(mechanisms: &str, options: &str) -> Result<Mech, &'static str> {
    let options: Vec<String> = options
        .split([',', ' ', '\t'])
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    // PLAIN and LOGIN send the password in the clear and are open to dictionary
    // attacks; neither offers mutual authentication.
    let refused = |_: Mech| {
        options
            .iter()
            .any(|o| matches!(o.as_str(), "noplaintext" | "nodictionary" | "mutual_auth"))
    };
    let offered: Vec<Mech> = mechanisms
        .split(' ')
        .filter_map(|w| match w.to_ascii_uppercase().as_str() {
            "PLAIN" => Some(Mech::Plain),
            "LOGIN" => Some(Mech::Login),
            _ => None,
        })
        .filter(|&m| !refused(m))
        .collect();
    [Mech::Plain, Mech::Login]
        .into_iter()
        .find(|m| offered.contains(m))
        .ok_or("no mechanism available")
}

/// AUTH after EHLO (`smtp_sasl_helo_login()`): Ok(0) to go on, Ok(-1) after the
/// recipients were dealt with, Err when the session broke.
pub fn helo_login(state: &mut State, session: &mut Session) -> Result<i32, Except> {
    let creds = match passwd_lookup(state, session) {
        Ok(Some(creds)) => creds,
        Ok(None) => {
            session.sasl_mechanisms = None;
            return Ok(0);
        }
        Err(()) => {
            state.why = global::dsn_print::Dsn::simple(
                "4.3.0",
                &format!("local data error while talking to {}", session.namaddr),
            );
            session.broken = true;
            return Ok(state.bulk_fail(Fail::Site, Some(&session.namaddrport.clone())));
        }
    };
    let Some(mechanisms) = session.sasl_mechanisms.clone().filter(|m| !m.is_empty()) else {
        let reason = format!(
            "SASL authentication failed: server {} offered no compatible authentication mechanisms for this type of connection security",
            session.namaddr
        );
        state.why = global::dsn_print::Dsn::simple("4.7.0", &reason);
        return Ok(state.bulk_fail(Fail::Site, Some(&session.namaddrport.clone())));
    };
    if log::verbose() > 0 {
        log::msg_info!(
            "smtp_sasl_authenticate: {}: SASL mechanisms {mechanisms}",
            session.namaddrport
        );
    }
    let options = if session.chat.in_tls() {
        &state.settings.sasl_tls_options
    } else {
        &state.settings.sasl_options
    };
    let mech = match choose(&mechanisms, options) {
        Ok(mech) => mech,
        Err(text) => {
            // What Cyrus's library logs through Postfix's xsasl_cyrus_log().
            log::msg_warn!("SASL authentication failure: No worthy mechs found");
            let reason = format!(
                "SASL authentication failed; cannot authenticate to server {}: {text}",
                session.namaddr
            );
            state.why = global::dsn_print::Dsn {
                dtype: "sasl".into(),
                dtext: text.into(),
                ..global::dsn_print::Dsn::simple("4.7.0", &reason)
            };
            return Ok(state.bulk_fail(Fail::Site, Some(&session.namaddrport.clone())));
        }
    };
    let (user, pass) = creds;
    let mut answers: Vec<String> = Vec::new();
    match mech {
        Mech::Plain => {
            // No authorization identity: Cyrus sends none when it equals the user.
            let mut token = vec![0];
            token.extend_from_slice(user.as_bytes());
            token.push(0);
            token.extend_from_slice(pass.as_bytes());
            session.chat.cmd(&format!("AUTH PLAIN {}", base64(&token)));
        }
        Mech::Login => {
            session.chat.cmd("AUTH LOGIN");
            answers.push(base64(user.as_bytes()));
            answers.push(base64(pass.as_bytes()));
        }
    }
    let mut answers = answers.into_iter();
    let mut resp;
    let mut steps = 0;
    loop {
        resp = session.chat.resp()?;
        if resp.code / 100 != 3 {
            break;
        }
        steps += 1;
        let answer = answers.next();
        if steps > 100 || (mech == Mech::Plain) {
            // PLAIN sent everything at once: a challenge is a protocol error.
            let reason = format!(
                "SASL authentication failed; non-empty initial {} challenge from server {}: ",
                mech.name(),
                session.namaddr
            );
            state.why = global::dsn_print::Dsn {
                dtype: "sasl".into(),
                dtext: "protocol error".into(),
                ..global::dsn_print::Dsn::simple("4.7.0", &reason)
            };
            return Ok(state.bulk_fail(Fail::Site, Some(&session.namaddrport.clone())));
        }
        session.chat.cmd(&answer.unwrap_or_default());
    }
    if resp.code / 100 != 2 {
        let mut resp: Resp = resp;
        if state.settings.sasl_soft_bounce && resp.code / 100 == 5 {
            resp.dsn.replace_range(..1, "4");
        }
        let reason = format!(
            "SASL authentication failed; server {} said: {}",
            session.namaddr, resp.text
        );
        state.why = global::dsn_print::Dsn {
            status: resp.dsn.clone(),
            dtype: if state.settings.lmtp { "lmtp" } else { "smtp" }.into(),
            dtext: resp.text.clone(),
            mtype: "dns".into(),
            mname: session.host.clone(),
            action: String::new(),
            reason,
        };
        return Ok(state.bulk_fail(Fail::Site, Some(&session.namaddrport.clone())));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mechanisms() {
        assert_eq!(choose("LOGIN PLAIN", "noanonymous"), Ok(Mech::Plain));
        assert_eq!(choose("LOGIN CRAM-MD5", "noanonymous"), Ok(Mech::Login));
        assert_eq!(
            choose("LOGIN PLAIN", "noplaintext, noanonymous"),
            Err("no mechanism available")
        );
    }
}
