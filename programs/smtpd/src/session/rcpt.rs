//! RCPT TO.
//!
//! Postfix counterpart: `rcpt_cmd()` in `smtpd/smtpd.c` with `smtpd_check_rcpt()`. The
//! protocol core checks order, syntax, parameters and `smtpd_recipient_limit`; smtpd asks
//! the resolving service about the address, runs the restrictions (the delayed client,
//! HELO and sender ones first) unless the recipient is this site's own address
//! verification sender, opens the queue file at the first accepted recipient, and writes
//! the recipient with its DSN attributes.

use super::{Session, rejected};
use crate::io::Wire;
use global::record::rec_type;
use ipc::mail_attr;
use smtp_proto::{RcptOptions, Reject, Reply, Token, Verb};

impl<W: Wire> Session<'_, W> {
    /// Check: order, syntax, limits, the address, restrictions; proceed: the recipient
    /// goes into the queue file.
    pub(super) fn rcpt_command(&mut self, args: &[Token]) -> Result<Reply, Reject> {
        let opts = RcptOptions {
            discard: self.settings.discard,
            strict_rfc821_envelopes: self.settings.strict_rfc821,
            recipient_limit: self.settings.recipient_limit,
            recipient_overshoot_limit: self.settings.recipient_overshoot_limit,
        };
        self.txn.rcpt_start(args)?;
        if self.over_limit(crate::anvil::Event::Recipient, "Recipient address") {
            let text = format!(
                "450 4.7.1 Error: too many recipients from {}",
                self.peer.addr
            );
            return Err(super::policy_reject(text));
        }
        let recipient = self.txn.rcpt_recipient(args, &opts)?;
        self.check_addr(&recipient, Verb::Rcpt, args.get(2))?;
        let params = self.txn.rcpt_params(args, &opts)?;
        let notice = smtp_proto::smtputf8_check(
            &recipient,
            self.txn.smtputf8,
            self.settings.strict_smtputf8,
            false,
            "recipient",
        )?;
        self.note(notice);
        // Another site's probe for our own probe sender is never refused, so that two
        // sites that verify each other do not cache each other as bad.
        let probe = match self.stand_alone() {
            true => None,
            false => self.checker.probe_sender(&recipient),
        };
        let recipient = match probe {
            Some(probe) => probe,
            None => {
                self.with_facts("RCPT", Some(&recipient), |checker, facts| {
                    checker.rcpt(facts)
                })
                .map_err(rejected)?;
                recipient
            }
        };
        self.open_queue_file();
        if let Some(stream) = self.cleanup.as_mut() {
            stream.attr(mail_attr::DSN_ORCPT, &params.orcpt.attr_value());
            if params.notify != 0 {
                stream.attr(mail_attr::DSN_NOTIFY, params.notify.to_string().as_bytes());
            }
            stream.record(rec_type::RCPT, &util::eight_bit::to_bytes(&recipient));
            stream.flush();
        }
        Ok(self.txn.rcpt_accept(recipient))
    }
}
