//! What-if mode (`smtpd -W client_address=... [client_name=...] [helo=...] [sender=...]
//! recipient=... [sasl_username=...] [sasl_method=...] [encryption_protocol=...]
//! [encryption_cipher=...] [encryption_keysize=...] [ccert_fingerprint=...]
//! [ccert_pubkey_fingerprint=...] [ccert_subject=...] [ccert_issuer=...]`): would smtpd
//! accept this client, HELO, sender and recipient, and which restriction decided, without
//! a connection.
//!
//! Postfix counterpart: none (see global::whatif; Postfix's nearest is a manual SMTP
//! session). The restriction engine is the one `main` builds ([`crate::checker`]), the
//! client is found as a connection's is ([`Peer::new`], the real DNS lookups) unless
//! `client_name` names it, and the stages are checked in the session's order: the client
//! at connect, HELO and MAIL only when `smtpd_delay_reject` is off, RCPT always (with the
//! delayed checks), then DATA. After each stage the engine's trace ([`Trace`]) is written
//! as `kind=decision` answers and the stage as `kind=stage` (`accept`, `reject` or `defer`
//! with the reply); the refusal's `NOQUEUE: reject:` line comes out as a log answer.
//!
//! The session's TLS facts have the names of Postfix's policy delegation attributes: any
//! `encryption_*` or `ccert_*` argument makes the session one after STARTTLS, and
//! `ccert_fingerprint` (with `ccert_pubkey_fingerprint`) the client's certificate. As in
//! the policy protocol, which gives `ccert_subject` and `ccert_issuer` only for a
//! certificate verified against smtpd's CAs, a subject or issuer makes the certificate a
//! trusted one (what `permit_tls_all_clientcerts` needs). A certificate is only asked for
//! with `smtpd_tls_ask_ccert = yes`; otherwise the given one is set aside, as a real
//! session would not have it. Without TLS, the level `encrypt` refuses AUTH and MAIL with
//! `530 5.7.0 Must issue a STARTTLS command first`, and when SASL is on
//! (`smtpd_sasl_auth_enable`) AUTH is checked as the session checks it, so that
//! `smtpd_tls_auth_only` gives its `503 5.5.1 Error: authentication not enabled`; with
//! SASL off a `sasl_username` is taken as XCLIENT's LOGIN gives it.
//!
//! [`Trace`]: crate::check::trace::Trace

use crate::check::{Checker, Facts};
use crate::peer::Peer;
use crate::settings::Settings;
use global::whatif::{WhatIf, emit, finish};
use ipc::Attrs;
use std::net::{IpAddr, SocketAddr};
use tls::SecurityLevel;

/// Answers the question and exits: 0 accepted, 1 rejected, 2 deferred.
pub fn run(query: WhatIf) -> ! {
    let settings = Settings::from_config(&query.config);
    let mut checker = crate::checker(&query.config, &settings);
    let addr: IpAddr = match query.arg("client_address").unwrap_or("127.0.0.1").parse() {
        Ok(addr) => addr,
        Err(_) => log::msg_fatal!("what-if: bad client_address"),
    };
    let mut peer = Peer::new(SocketAddr::new(addr, 0), None, &settings);
    if let Some(name) = query.arg("client_name") {
        // The name the caller says the lookups would give, as if they had.
        peer.namaddr = peer.namaddr.replacen(&peer.name, name, 1);
        peer.name = name.to_string();
        peer.reverse_name = name.to_string();
        peer.name_status = dns::peer::PeerCode::Ok;
        peer.reverse_name_status = dns::peer::PeerCode::Ok;
    }
    let recipient = query.arg("recipient");
    let sender = query.arg("sender");
    let tls = tls_facts(&query);
    let mut session = Session {
        checker: &mut checker,
        settings: &settings,
        peer: &peer,
        helo: query.arg("helo"),
        sender: None,
        sasl_username: query.arg("sasl_username"),
        sasl_method: query
            .arg("sasl_method")
            .or(query.arg("sasl_username").map(|_| "PLAIN")),
        tls: tls.as_ref(),
        level_setting: level_setting(&query),
        shown: 0,
    };
    let delay = session.checker.delay_reject();
    let status = (|| {
        if !delay {
            session.stage("CONNECT", None, |c, f| c.client(f))?;
            session.stage("HELO", None, |c, f| c.helo(f))?;
        }
        if session.sasl_username.is_some() && settings.sasl.enabled {
            session.tls_first("AUTH")?;
            session.auth()?;
        }
        session.tls_first("MAIL")?;
        session.sender = sender;
        if !delay && sender.is_some() {
            session.stage("MAIL", None, |c, f| {
                c.client(f)?;
                c.helo(f)?;
                c.sender(f)
            })?;
        }
        if let Some(rcpt) = recipient {
            session.stage("RCPT", Some(rcpt), |c, f| c.rcpt(f))?;
            session.stage("DATA", recipient, |c, f| c.data(f))?;
        }
        Ok(())
    })();
    finish(status.err().unwrap_or(0))
}

/// What the simulated session knows.
struct Session<'a> {
    checker: &'a mut Checker,
    settings: &'a Settings,
    peer: &'a Peer,
    helo: Option<&'a str>,
    sender: Option<&'a str>,
    sasl_username: Option<&'a str>,
    sasl_method: Option<&'a str>,
    /// The TLS facts, after STARTTLS.
    tls: Option<&'a tls::Summary>,
    /// The parameter that set the TLS security level: `smtpd_tls_security_level`, or
    /// when that is empty the obsolete `smtpd_enforce_tls` it falls back to.
    level_setting: &'static str,
    /// Trace decisions already written.
    shown: usize,
}

impl Session<'_> {
    /// Checks one stage and writes what decided; Err is the exit status of a refusal.
    fn stage(
        &mut self,
        stage: &str,
        recipient: Option<&str>,
        check: impl FnOnce(&mut Checker, &Facts) -> Result<(), crate::check::reply::Refusal>,
    ) -> Result<(), i32> {
        let facts = Facts {
            peer: self.peer,
            helo: self.helo,
            sender: self.sender,
            recipient,
            queue_id: None,
            protocol: "ESMTP",
            stage,
            addr_form: &self.settings.addr_form,
            ill_pipelining: false,
            sasl_username: self.sasl_username,
            sasl_method: self.sasl_method,
            sasl_sender: None,
            // The one recipient is accepted by DATA, so reject_multi_recipient_bounce
            // (and a policy server's recipient_count) sees the count a session would.
            rcpt_count: usize::from(stage == "DATA"),
            size: 0,
            instance: "whatif",
            tls: self.tls,
            stress: &self.settings.stress,
        };
        let result = check(self.checker, &facts);
        for decision in &self.checker.trace.decisions()[self.shown..] {
            emit(
                &Attrs::new()
                    .str("kind", "decision")
                    .str("stage", stage)
                    .str("list", &decision.list)
                    .str("restriction", &decision.restriction)
                    .str("key", decision.key.as_deref().unwrap_or(""))
                    .str("result", &decision.result),
            );
        }
        self.shown = self.checker.trace.decisions().len();
        let (verdict, reply, status) = match &result {
            Ok(()) => ("accept", String::new(), 0),
            Err(refusal) if refusal.reply.starts_with('4') => ("defer", refusal.reply.clone(), 2),
            Err(refusal) => ("reject", refusal.reply.clone(), 1),
        };
        emit(
            &Attrs::new()
                .str("kind", "stage")
                .str("stage", stage)
                .str("client", &self.peer.namaddr)
                .str("result", verdict)
                .str("reply", &reply),
        );
        result.map_err(|_| status)
    }

    /// A stage the session refuses before any restriction: the setting that decided and
    /// the reply, written as the engine's decisions are; Err is the exit status.
    fn refuse(&self, stage: &str, setting: &str, value: &str, reply: &str) -> Result<(), i32> {
        emit(
            &Attrs::new()
                .str("kind", "decision")
                .str("stage", stage)
                .str("list", setting)
                .str("restriction", value)
                .str("key", "")
                .str("result", reply),
        );
        emit(
            &Attrs::new()
                .str("kind", "stage")
                .str("stage", stage)
                .str("client", &self.peer.namaddr)
                .str("result", "reject")
                .str("reply", reply),
        );
        Err(1)
    }

    /// At level encrypt, `stage` (AUTH, MAIL) before STARTTLS is refused, as the session
    /// refuses every command but EHLO, HELO, STARTTLS, NOOP and QUIT.
    fn tls_first(&self, stage: &str) -> Result<(), i32> {
        if self.settings.tls.level != SecurityLevel::Encrypt || self.tls.is_some() {
            return Ok(());
        }
        let reply = "530 5.7.0 Must issue a STARTTLS command first";
        self.refuse(stage, self.level_setting, "encrypt", reply)
    }

    /// AUTH as the session checks it (smtp_proto::auth_check): SASL waits for TLS with
    /// `smtpd_tls_auth_only` (implied by level encrypt), and is then not enabled.
    fn auth(&self) -> Result<(), i32> {
        let waits = (self.settings.sasl.tls_auth_only
            || self.settings.tls.level == SecurityLevel::Encrypt)
            && self.tls.is_none();
        let state = smtp_proto::AuthState {
            helo_required: self.settings.helo_required,
            helo_seen: self.helo.is_some(),
            enabled: !waits,
            in_mail: false,
            needs_tls: false,
            authenticated: false,
        };
        let method = self.sasl_method.unwrap_or("PLAIN");
        let args = smtp_proto::tokenize(format!("AUTH {method}").as_bytes());
        let Err(reject) = smtp_proto::auth_check(&args, &state) else {
            return Ok(());
        };
        let reply = reject.reply.to_string();
        let reply = reply.trim_end();
        let setting = if waits {
            params::decl::tls::SMTPD_TLS_AUTH_ONLY.name
        } else {
            params::decl::smtpd::SMTPD_HELO_REQUIRED.name
        };
        self.refuse("AUTH", setting, "yes", reply)
    }
}

/// Which parameter set the TLS security level (see [`Session::level_setting`]).
fn level_setting(query: &WhatIf) -> &'static str {
    let level = &params::decl::tls::SMTPD_TLS_SECURITY_LEVEL;
    let text = query
        .config
        .str(level)
        .unwrap_or_else(|e| crate::settings::fatal(e));
    if text.trim().is_empty() {
        params::decl::tls::SMTPD_ENFORCE_TLS.name
    } else {
        level.name
    }
}

/// The session's TLS facts from the question's policy-delegation-named arguments; None
/// for a plaintext session.
fn tls_facts(query: &WhatIf) -> Option<tls::Summary> {
    const NAMES: [&str; 7] = [
        "encryption_protocol",
        "encryption_cipher",
        "encryption_keysize",
        "ccert_fingerprint",
        "ccert_pubkey_fingerprint",
        "ccert_subject",
        "ccert_issuer",
    ];
    if !NAMES.iter().any(|n| query.arg(n).is_some()) {
        return None;
    }
    // The summary keeps the handshake's names as static text; this process answers
    // one question and exits.
    let leak = |name: &str, default: &str| -> &'static str {
        Box::leak(
            query
                .arg(name)
                .unwrap_or(default)
                .to_string()
                .into_boxed_str(),
        )
    };
    let bits = query
        .arg("encryption_keysize")
        .map(|b| {
            b.parse()
                .unwrap_or_else(|_| log::msg_fatal!("what-if: bad encryption_keysize"))
        })
        .unwrap_or(256);
    let ask_ccert = query
        .config
        .bool(&params::decl::tls::SMTPD_TLS_ASK_CCERT)
        .unwrap_or_else(|e| crate::settings::fatal(e));
    let given = query.arg("ccert_fingerprint").map(|fingerprint| {
        let subject = query.arg("ccert_subject");
        let issuer = query.arg("ccert_issuer");
        let cert = tls::PeerCert {
            subject_cn: subject.unwrap_or_default().to_string(),
            issuer_cn: issuer.unwrap_or_default().to_string(),
            fingerprint: fingerprint.to_string(),
            pkey_fingerprint: query
                .arg("ccert_pubkey_fingerprint")
                .unwrap_or_default()
                .to_string(),
            issuer_oneline: issuer.map(|i| format!("/CN={i}")).unwrap_or_default(),
        };
        (cert, subject.is_some() || issuer.is_some())
    });
    let (peer_cert, trusted) = match given {
        Some(_) if !ask_ccert => {
            log::msg_info!(
                "what-if: smtpd_tls_ask_ccert = no: the client is not asked for a certificate; ccert_fingerprint set aside"
            );
            (None, false)
        }
        Some((cert, trusted)) => (Some(cert), trusted),
        None => (None, false),
    };
    let trust = match (&peer_cert, trusted) {
        (None, _) => tls::Trust::Anonymous,
        (Some(_), false) => tls::Trust::Untrusted,
        (Some(_), true) => tls::Trust::Trusted,
    };
    Some(tls::Summary {
        trust,
        protocol: leak("encryption_protocol", "TLSv1.3"),
        cipher: leak("encryption_cipher", "TLS_AES_256_GCM_SHA384"),
        cipher_usebits: bits,
        cipher_algbits: bits,
        kex: None,
        server_signature: None,
        client_signature: None,
        ccert_requested: ask_ccert,
        peer_cert,
    })
}
