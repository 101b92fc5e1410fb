//! The SASL client: AUTH after EHLO with SCRAM-SHA-512/384/256/1, CRAM-MD5, PLAIN
//! or LOGIN, with credentials from `smtp_sasl_password_maps`.
//!
//! Postfix counterparts: `smtp/smtp_sasl_proto.c` (`smtp_sasl_helo_auth()`,
//! `smtp_sasl_helo_login()`), `smtp/smtp_sasl_glue.c` (`smtp_sasl_passwd_lookup()`,
//! `smtp_sasl_authenticate()`), `xsasl/xsasl_cyrus_client.c`, and the client side of
//! Cyrus SASL, which Debian's Postfix uses: its mechanism choice (`sasl_client_start()`)
//! and its plug-ins (`plugins/scram.c`, `cram.c`, `plain.c`, `login.c`).
//!
//! Cyrus ranks its client plug-ins once, not by the server's order: of the mechanisms
//! the server offers (less those `smtp_sasl_mechanism_filter` leaves out) and
//! `smtp_sasl_security_options` allows, it takes the first of SCRAM-SHA-512,
//! SCRAM-SHA-384, SCRAM-SHA-256, SCRAM-SHA-224, SCRAM-SHA-1, DIGEST-MD5, CRAM-MD5,
//! NTLM, PLAIN, LOGIN, ANONYMOUS (found by running Debian's libsasl2 2.1.28 on every
//! pair of them, each way round). Of these, SCRAM-SHA-224, DIGEST-MD5, NTLM and
//! ANONYMOUS are not implemented here: a server offering one of them gets the best
//! of the others. A mechanism is allowed when it has every property the options
//! ask for (Cyrus's security flags): PLAIN and LOGIN send the password as it is
//! (not noplaintext), none of them resists dictionary attacks (nodictionary allows
//! none), only SCRAM resists active attacks (noactive) and authenticates the server
//! (mutual_auth), and all refuse anonymous logins (noanonymous).

mod cram_md5;
mod scram;

use crate::chat::{Except, Resp};
use crate::proto::Session;
use crate::state::{Fail, State};
use global::mail_addr_find::{Form, Strategy};

/// What the client can do, best first in Cyrus's ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mech {
    Scram(scram::Hash),
    CramMd5,
    Plain,
    Login,
}

/// Cyrus's `SASL_SEC_*` properties, as `smtp_sasl_security_options` names them.
const SECURITY: [(&str, u32); 6] = [
    ("noplaintext", 0x01),
    ("noactive", 0x02),
    ("nodictionary", 0x04),
    ("forward_secrecy", 0x08),
    ("noanonymous", 0x10),
    ("mutual_auth", 0x40),
];

impl Mech {
    const RANKED: [Mech; 7] = [
        Mech::Scram(scram::Hash::Sha512),
        Mech::Scram(scram::Hash::Sha384),
        Mech::Scram(scram::Hash::Sha256),
        Mech::Scram(scram::Hash::Sha1),
        Mech::CramMd5,
        Mech::Plain,
        Mech::Login,
    ];

    fn name(self) -> &'static str {
        match self {
            Mech::Scram(hash) => hash.mech(),
            Mech::CramMd5 => "CRAM-MD5",
            Mech::Plain => "PLAIN",
            Mech::Login => "LOGIN",
        }
    }

    /// The plug-in's security flags (noplaintext, noactive, noanonymous, mutual_auth).
    fn flags(self) -> u32 {
        match self {
            Mech::Scram(_) => 0x01 | 0x02 | 0x10 | 0x40,
            Mech::CramMd5 => 0x01 | 0x10,
            Mech::Plain | Mech::Login => 0x10,
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
    let wanted = options
        .split([',', ' ', '\t', '\r', '\n'])
        .filter_map(|w| {
            SECURITY
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(w))
        })
        .fold(0, |flags, (_, flag)| flags | flag);
    // Cyrus reads mechanism names as runs of letters, digits, '-' and '_'.
    let offered: Vec<&str> = mechanisms
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    Mech::RANKED
        .into_iter()
        .filter(|m| wanted & !m.flags() == 0)
        .find(|m| offered.iter().any(|o| o.eq_ignore_ascii_case(m.name())))
        .ok_or("no mechanism available")
}

/// One mechanism's exchange in progress: what the Cyrus plug-in keeps.
enum Exchange {
    Scram(scram::Client),
    /// CRAM-MD5, PLAIN and LOGIN: the answers still to give, in order.
    Answers(std::vec::IntoIter<Answer>),
}

/// A CRAM-MD5, PLAIN or LOGIN answer: fixed, or computed from the challenge.
enum Answer {
    Fixed(Vec<u8>),
    Cram,
}

impl Exchange {
    /// The exchange and its initial response (`sasl_client_start()`); CRAM-MD5 and
    /// LOGIN have none: the server speaks first.
    fn start(mech: Mech, user: &str, pass: &str) -> (Exchange, Option<Vec<u8>>) {
        let answers = |list: Vec<Answer>| Exchange::Answers(list.into_iter());
        match mech {
            Mech::Scram(hash) => {
                let mut random = [0u8; scram::Client::RANDOM_LEN];
                // A nonce that repeats only weakens replay protection; the
                // exchange itself still needs the password.
                let _ =
                    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random);
                let (client, first) = scram::Client::start(hash, user, pass, &random);
                (Exchange::Scram(client), Some(first.into_bytes()))
            }
            Mech::CramMd5 => (answers(vec![Answer::Cram]), None),
            Mech::Plain => {
                // No authorization identity: Cyrus sends none when it equals the user.
                let mut token = vec![0];
                token.extend_from_slice(user.as_bytes());
                token.push(0);
                token.extend_from_slice(pass.as_bytes());
                (answers(vec![]), Some(token))
            }
            Mech::Login => (
                answers(vec![
                    Answer::Fixed(user.as_bytes().to_vec()),
                    Answer::Fixed(pass.as_bytes().to_vec()),
                ]),
                None,
            ),
        }
    }

    /// The answer to a decoded server challenge (`sasl_client_step()`).
    fn step(
        &mut self,
        user: &str,
        pass: &str,
        challenge: &[u8],
    ) -> Result<Vec<u8>, scram::StepError> {
        match self {
            Exchange::Scram(client) => client.step(challenge),
            Exchange::Answers(answers) => match answers.next() {
                Some(Answer::Fixed(answer)) => Ok(answer),
                Some(Answer::Cram) => Ok(cram_md5::response(user, pass, challenge)),
                None => Err(scram::StepError::after_done()),
            },
        }
    }
}

/// The 4.7.0 deferral for a failure on the client's side of the exchange.
fn sasl_failure(state: &mut State, session: &Session, dtext: &str, reason: String) -> i32 {
    state.why = global::dsn_print::Dsn {
        dtype: "sasl".into(),
        dtext: dtext.into(),
        ..global::dsn_print::Dsn::simple("4.7.0", &reason)
    };
    state.bulk_fail(Fail::Site, Some(&session.namaddrport.clone()))
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
            return Ok(sasl_failure(state, session, text, reason));
        }
    };
    let (user, pass) = creds;
    let (mut exchange, initial) = Exchange::start(mech, &user, &pass);
    // The initial response goes on the AUTH line unless that would pass SMTP's 512
    // bytes; then it waits for the server's empty challenge.
    let mut reply = initial.map(|r| base64(&r)).unwrap_or_default();
    if !reply.is_empty() && mech.name().len() + reply.len() + 8 <= 512 {
        session.chat.cmd(&format!("AUTH {} {reply}", mech.name()));
        reply.clear();
    } else {
        session.chat.cmd(&format!("AUTH {}", mech.name()));
    }
    let mut resp;
    let mut steps = 0;
    loop {
        resp = session.chat.resp()?;
        if resp.code / 100 != 3 {
            break;
        }
        steps += 1;
        if steps > 100 {
            let reason = format!(
                "SASL authentication failed; authentication protocol loop with server {}",
                session.namaddr
            );
            state.why = global::dsn_print::Dsn::simple("4.3.0", &reason);
            return Ok(state.bulk_fail(Fail::Site, Some(&session.namaddrport.clone())));
        }
        // The challenge: what follows the reply code and its separator.
        let delims = ['-', ' ', '\t', '\n'];
        let challenge = resp
            .text
            .trim_start_matches(delims)
            .split_once(delims)
            .map_or("", |(_, rest)| rest);
        if !reply.is_empty() {
            // A deferred initial response answers an empty challenge only.
            if !challenge.is_empty() {
                let reason = format!(
                    "SASL authentication failed; non-empty initial {} challenge from server {}: {reply}",
                    mech.name(),
                    session.namaddr
                );
                return Ok(sasl_failure(state, session, "protocol error", reason));
            }
        } else {
            let answer = match global::msg_stats::base64_decode(challenge.as_bytes()) {
                None => Err(None),
                Some(decoded) => exchange.step(&user, &pass, &decoded).map_err(Some),
            };
            match answer {
                Ok(answer) => reply = base64(&answer),
                Err(error) => {
                    // Cyrus reports its own errors through Postfix's log call-back;
                    // a challenge that is not base64 it only returns as a status.
                    let status = match error {
                        Some(error) => {
                            log::msg_warn!("{}", error.warning());
                            error.status
                        }
                        None => scram::BAD_PROTOCOL,
                    };
                    let reason = format!(
                        "SASL authentication failed; cannot authenticate to server {}: {status}",
                        session.namaddr
                    );
                    return Ok(sasl_failure(state, session, status, reason));
                }
            }
        }
        session.chat.cmd(&reply);
        reply.clear();
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
    use scram::Hash;

    #[test]
    fn mechanisms() {
        // Cyrus's ranking, whatever the server's order (t-78 checks it against
        // Postfix's smtp).
        assert_eq!(choose("LOGIN PLAIN", "noanonymous"), Ok(Mech::Plain));
        assert_eq!(choose("LOGIN CRAM-MD5", "noanonymous"), Ok(Mech::CramMd5));
        assert_eq!(
            choose("PLAIN LOGIN CRAM-MD5", "noanonymous"),
            Ok(Mech::CramMd5)
        );
        assert_eq!(
            choose(
                "CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256",
                "noplaintext, noanonymous"
            ),
            Ok(Mech::Scram(Hash::Sha256))
        );
        assert_eq!(
            choose("scram-sha-512 SCRAM-SHA-384", ""),
            Ok(Mech::Scram(Hash::Sha512))
        );
        // Unimplemented mechanisms leave the choice to the others.
        assert_eq!(choose("DIGEST-MD5 NTLM PLAIN", ""), Ok(Mech::Plain));
        assert_eq!(
            choose("LOGIN PLAIN", "noplaintext, noanonymous"),
            Err("no mechanism available")
        );
        assert_eq!(
            choose("CRAM-MD5 SCRAM-SHA-1", "mutual_auth"),
            Ok(Mech::Scram(Hash::Sha1))
        );
        assert_eq!(
            choose("CRAM-MD5 PLAIN", "noactive"),
            Err("no mechanism available")
        );
        assert_eq!(
            choose("SCRAM-SHA-256 CRAM-MD5", "nodictionary"),
            Err("no mechanism available")
        );
    }

    #[test]
    fn finished_mechanisms_refuse_more_challenges() {
        let (mut plain, initial) = Exchange::start(Mech::Plain, "u", "p");
        assert_eq!(initial.as_deref(), Some(&b"\0u\0p"[..]));
        assert_eq!(
            plain.step("u", "p", b"").unwrap_err().status,
            "generic failure"
        );
        let (mut cram, initial) = Exchange::start(Mech::CramMd5, "u", "p");
        assert_eq!(initial, None);
        assert!(cram.step("u", "p", b"<1.2@x>").unwrap().starts_with(b"u "));
        assert!(cram.step("u", "p", b"<1.2@x>").is_err());
    }
}
