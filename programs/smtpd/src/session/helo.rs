//! HELO and EHLO.
//!
//! Postfix counterpart: `helo_cmd()` and `ehlo_cmd()` in `smtpd/smtpd.c`. The name is
//! kept for logs and the Received: header and a new HELO ends any transaction. Without
//! `smtpd_delay_reject` the HELO restrictions are applied here; EHLO answers with the
//! keywords in Postfix's order, less `smtpd_discard_ehlo_keywords`.

use super::{Session, rejected};
use crate::io::Wire;
use smtp_proto::{Features, Helo, Reject, Reply, Token, Verb};

impl<W: Wire> Session<'_, W> {
    /// Check: the argument; proceed: the restrictions (when not delayed) and the reply.
    pub(super) fn helo_command(&mut self, verb: Verb, args: &[Token]) -> Result<Reply, Reject> {
        let helo = Helo::parse(verb, args, self.settings.smtputf8)?;
        self.reset();
        self.helo = Some(helo.name);
        if !self.checker.delay_reject() {
            self.with_facts(verb.name(), None, |checker, facts| checker.helo(facts))
                .map_err(|refusal| {
                    self.helo = None;
                    rejected(refusal)
                })?;
        }
        self.chat_flush();
        if verb == Verb::Helo {
            self.esmtp = false;
            return Ok(smtp_proto::helo_reply(&self.settings.myhostname));
        }
        self.esmtp = true;
        self.note(smtp_proto::discard_notice(self.settings.discard));
        let auth = self.auth_offered();
        let features = Features {
            myhostname: &self.settings.myhostname,
            message_size_limit: self.settings.message_size_limit,
            vrfy: !self.settings.disable_vrfy,
            smtputf8: self.settings.smtputf8,
            starttls: self.starttls_offered(),
            auth: auth.as_deref(),
            broken_auth_clients: self.settings.sasl.broken_clients,
            xforward: self.xforward_allowed,
            xclient: self.xclient_allowed,
            // XVERP once its client list is.
            ..Features::default()
        };
        Ok(smtp_proto::ehlo_reply(&features, self.settings.discard))
    }
}
