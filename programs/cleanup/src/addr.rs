//! Envelope addresses: the sender, each recipient and automatic BCC recipients, to
//! canonical form and into the queue file.
//!
//! Postfix counterpart: `cleanup/cleanup_addr.c`. An address without a domain is for all
//! purposes a local one, so each is rewritten in the `local` context: `user` becomes
//! `user@$myorigin`. A sender of `MAILER-DAEMON@$myorigin` becomes the null sender, so
//! that bounces of bounces are recognized. A non-ASCII address asks for SMTPUTF8 when the
//! client wants that detected. A recipient without a DSN original recipient gets one
//! (`rfc822;address`, or `utf-8;address` with SMTPUTF8).

use crate::out::QueueSink;
use crate::rewrite::rewrite_internal;
use crate::state::{SMTPUTF8_REQUESTED, SMTPUTF8_SENDER, State};
use global::cleanup_user::FLAG_AUTOUTF8;
use global::record::rec_type;
use global::rewrite_clnt::RULE_LOCAL;
use util::eight_bit;

/// The local part of the address bounces come from.
const MAIL_DAEMON: &str = "MAILER-DAEMON";

impl<W: QueueSink> State<'_, W> {
    /// Processes the envelope sender (`cleanup_addr_sender`).
    pub fn addr_sender(&mut self, address: &str) {
        let mut clean = rewrite_internal(self.rewriter, RULE_LOCAL, address);
        let prefix = MAIL_DAEMON.len() + 1;
        if clean.len() >= prefix
            && clean.as_bytes()[..prefix - 1].eq_ignore_ascii_case(MAIL_DAEMON.as_bytes())
            && clean.as_bytes()[prefix - 1] == b'@'
        {
            let daemon = rewrite_internal(self.rewriter, RULE_LOCAL, MAIL_DAEMON);
            if dict::casefold(&clean) == dict::casefold(&daemon) {
                clean.clear();
            }
        }
        if self.needs_smtputf8(&clean) {
            self.smtputf8 |= SMTPUTF8_SENDER;
            self.ask_smtputf8();
        }
        self.out(rec_type::FROM, &eight_bit::to_bytes(&clean));
        self.sender = Some(clean);
    }

    /// Processes an envelope recipient (`cleanup_addr_recipient`).
    pub fn addr_recipient(&mut self, address: &str) {
        let address = if address.is_empty() {
            self.settings.empty_addr.as_str()
        } else {
            address
        };
        let clean = rewrite_internal(self.rewriter, RULE_LOCAL, address);
        if self.needs_smtputf8(&clean) {
            self.ask_smtputf8();
        }
        if self.dsn_orcpt.is_none() && !clean.is_empty() {
            let kind = if !clean.is_ascii() && self.smtputf8 & SMTPUTF8_REQUESTED != 0 {
                "utf-8"
            } else {
                "rfc822"
            };
            self.dsn_orcpt = Some(format!("{kind};{clean}"));
        }
        let dsn_orcpt = self.dsn_orcpt.clone();
        let orig = self.orig_rcpt.clone().unwrap_or_default();
        self.out_recipient(dsn_orcpt.as_deref(), self.dsn_notify, &orig, &clean);
        self.recip = Some(clean);
    }

    /// Adds an automatic BCC recipient (`cleanup_addr_bcc`): it is local configuration,
    /// so it is rewritten in the local context, and never gets delivery notifications.
    pub fn addr_bcc(&mut self, address: &str) {
        let clean = rewrite_internal(self.rewriter, RULE_LOCAL, address);
        if self.needs_smtputf8(&clean) {
            self.ask_smtputf8();
        }
        self.out_recipient(None, global::dsn_mask::NOTIFY_NEVER, &clean, &clean);
    }

    /// Whether `address` is a UTF-8 address that needs SMTPUTF8.
    fn needs_smtputf8(&self, address: &str) -> bool {
        self.settings.smtputf8_enable
            && !address.is_empty()
            && !address.is_ascii()
            && eight_bit::is_utf8(address)
    }

    /// Requests SMTPUTF8 when the client wants that detected.
    fn ask_smtputf8(&mut self) {
        if self.flags & FLAG_AUTOUTF8 != 0 {
            self.smtputf8 |= SMTPUTF8_REQUESTED;
        }
    }
}
