//! RSET, VRFY and ETRN.
//!
//! Postfix counterparts: `rset_cmd()`, `vrfy_cmd()` and `etrn_cmd()` in `smtpd/smtpd.c`.
//! VRFY runs the recipient restrictions (with `reject_unlisted_recipient` it tells
//! whether a user exists) and answers 252. ETRN asks the fast flush service about a
//! domain in `fast_flush_domains` (`global::flush_clnt`).

use super::{Session, rejected};
use crate::io::Wire;
use global::flush_clnt::{self, FlushStatus};
use smtp_proto::{Reject, Reply, Token, Verb, Vrfy};

impl<W: Wire> Session<'_, W> {
    /// RSET: ends the transaction.
    pub(super) fn rset_command(&mut self, args: &[Token]) -> Result<Reply, Reject> {
        smtp_proto::rset_check(args)?;
        self.chat_flush();
        self.reset();
        Ok(smtp_proto::ok_reply())
    }

    /// VRFY address: syntax, the address, the recipient restrictions, then 252.
    pub(super) fn vrfy_command(&mut self, args: &[Token]) -> Result<Reply, Reject> {
        let vrfy = Vrfy::parse(
            args,
            self.settings.disable_vrfy,
            self.settings.smtputf8,
            self.settings.discard,
        )?;
        let addr = vrfy.address()?;
        self.check_addr(&addr, Verb::Vrfy, Some(&vrfy.arg))?;
        if let Err(reject) = smtp_proto::smtputf8_check(
            &addr,
            vrfy.smtputf8,
            self.settings.strict_smtputf8,
            false,
            "recipient",
        ) {
            self.txn.reset();
            return Err(reject);
        }
        self.with_facts("VRFY", Some(&addr), |checker, facts| checker.rcpt(facts))
            .map_err(rejected)?;
        Ok(vrfy.reply())
    }

    /// ETRN domain.
    pub(super) fn etrn_command(&mut self, args: &[Token]) -> Result<Reply, Reject> {
        smtp_proto::etrn_helo_check(self.settings.helo_required, self.helo.is_some())?;
        let domain = smtp_proto::etrn_domain(self.txn.in_mail(), args)?;
        self.with_facts("ETRN", None, |checker, facts| checker.etrn(facts, &domain))
            .map_err(rejected)?;
        let eligible = self
            .settings
            .fast_flush_domains
            .as_ref()
            .map_or(Ok(false), |list| {
                list.matches(&[&domain]).map_err(|e| e.to_string())
            });
        let status = flush_clnt::send_site(
            &self.settings.flush_service,
            self.settings.ipc_timeout,
            &domain,
            eligible,
        );
        let refused = |reply: String| Err(Reject::plain(Reply::new(reply)));
        match status {
            FlushStatus::Ok => Ok(Reply::new("250 Queuing started")),
            FlushStatus::Deny => {
                log::msg_warn!("reject: ETRN {:.100}... from {}", domain, self.peer.namaddr);
                refused(format!("459 <{domain}>: service unavailable"))
            }
            FlushStatus::Bad => {
                log::msg_warn!(
                    "bad ETRN {:.100}... request from {}",
                    domain,
                    self.peer.namaddr
                );
                refused("458 Unable to queue messages".into())
            }
            FlushStatus::Fail => {
                log::msg_warn!("unable to talk to fast flush service");
                refused("458 Unable to queue messages".into())
            }
        }
    }
}
