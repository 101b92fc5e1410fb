//! What-if mode (`smtpd -W client_address=... [client_name=...] [helo=...] [sender=...]
//! recipient=... [sasl_username=...] [sasl_method=...]`): would smtpd accept this client,
//! HELO, sender and recipient, and which restriction decided, without a connection.
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
//! [`Trace`]: crate::check::trace::Trace

use crate::check::{Checker, Facts};
use crate::peer::Peer;
use crate::settings::Settings;
use global::whatif::{WhatIf, emit, finish};
use ipc::Attrs;
use std::net::{IpAddr, SocketAddr};

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
        shown: 0,
    };
    let delay = session.checker.delay_reject();
    let status = (|| {
        if !delay {
            session.stage("CONNECT", None, |c, f| c.client(f))?;
            session.stage("HELO", None, |c, f| c.helo(f))?;
        }
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
            rcpt_count: 0,
            size: 0,
            instance: "whatif",
            tls: None,
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
}
