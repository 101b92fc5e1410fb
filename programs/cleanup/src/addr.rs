//! Envelope addresses: the sender, each recipient and automatic BCC recipients, to
//! canonical form and into the queue file.
//!
//! Postfix counterpart: `cleanup/cleanup_addr.c`. An address without a domain is for all
//! purposes a local one, so each is rewritten in the `local` context: `user` becomes
//! `user@$myorigin`. Then the canonical maps and masquerading of its class apply (see
//! mapping.rs); virtual aliases are expanded when a recipient is written. The sender and
//! each recipient may bring an automatic BCC recipient (sender_bcc_maps,
//! recipient_bcc_maps) when the client allows it. A sender of `MAILER-DAEMON@$myorigin` becomes the null sender, so
//! that bounces of bounces are recognized. A non-ASCII address asks for SMTPUTF8 when the
//! client wants that detected. A recipient without a DSN original recipient gets one
//! (`rfc822;address`, or `utf-8;address` with SMTPUTF8).

use crate::out::QueueSink;
use crate::rewrite::rewrite_internal;
use crate::state::{SMTPUTF8_REQUESTED, SMTPUTF8_SENDER, State};
use crate::tables::{ENV_FROM, ENV_RCPT};
use global::cleanup_user::{FLAG_AUTOUTF8, FLAG_BCC_OK};
use global::mail_addr_find::{Form, Strategy, mail_addr_find};
use global::maps::Maps;
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
        self.map_address(&mut clean, ENV_FROM);
        if self.needs_smtputf8(&clean) {
            self.smtputf8 |= SMTPUTF8_SENDER;
            self.ask_smtputf8();
        }
        self.out(rec_type::FROM, &eight_bit::to_bytes(&clean));
        let bcc_maps = self.settings.tables.send_bcc.as_ref();
        if let Some(maps) = bcc_maps.filter(|_| self.bcc_ok(&clean)) {
            self.bcc_lookup(maps, &clean);
        }
        self.sender = Some(clean);
    }

    /// Processes an envelope recipient (`cleanup_addr_recipient`).
    pub fn addr_recipient(&mut self, address: &str) {
        let address = if address.is_empty() {
            self.settings.empty_addr.as_str()
        } else {
            address
        };
        let mut clean = rewrite_internal(self.rewriter, RULE_LOCAL, address);
        self.map_address(&mut clean, ENV_RCPT);
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
        let bcc_maps = self.settings.tables.rcpt_bcc.as_ref();
        if let Some(maps) = bcc_maps.filter(|_| self.bcc_ok(&clean)) {
            self.bcc_lookup(maps, &clean);
        }
        self.recip = Some(clean);
    }

    /// Whether an automatic BCC may be looked up for `address`: the client allows it, and
    /// the address is not the null address.
    fn bcc_ok(&self, address: &str) -> bool {
        self.flags & FLAG_BCC_OK != 0 && !address.is_empty()
    }

    /// Adds the automatic BCC recipient that `maps` (sender_ or recipient_bcc_maps) give
    /// for `address`, if any (the lookups in `cleanup_addr_sender` and
    /// `cleanup_addr_recipient`).
    fn bcc_lookup(&mut self, maps: &Maps, address: &str) {
        let found = self.settings.tables.context.with(|context| {
            mail_addr_find(
                maps,
                address,
                Form::Internal,
                Form::ExternalFirst,
                Form::External,
                Strategy::DEFAULT,
                context,
            )
        });
        match found {
            Ok(Some(bcc)) => {
                self.decisions
                    .note(&self.queue_id, maps.title(), address, &bcc.value);
                self.addr_bcc(&bcc.value);
            }
            Ok(None) => {}
            Err(_) => self.lookup_problem(maps.title(), None),
        }
    }

    /// Adds an automatic BCC recipient (`cleanup_addr_bcc`): it is local configuration,
    /// so it is rewritten in the local context, and never gets delivery notifications.
    pub fn addr_bcc(&mut self, address: &str) {
        let mut clean = rewrite_internal(self.rewriter, RULE_LOCAL, address);
        self.map_address(&mut clean, ENV_RCPT);
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
