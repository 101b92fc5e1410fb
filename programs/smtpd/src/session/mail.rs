//! MAIL FROM, and opening the queue file.
//!
//! Postfix counterpart: `mail_cmd()` and `mail_open_stream()` in `smtpd/smtpd.c`, with
//! `smtpd_check_addr()`, `smtpd_check_size()` and `smtpd_check_queue()`. The protocol core checks order, syntax
//! and parameters; smtpd asks the resolving service whether the address is deliverable
//! at all, logs a refused SIZE= as a `reject:` line, applies the client, HELO and sender
//! restrictions unless `smtpd_delay_reject` postpones them, refuses the transaction when
//! the queue file system is short of space, and opens the queue file now
//! or (`smtpd_delay_open_until_valid_rcpt`, the default) at the first accepted recipient.

use super::{Session, rejected};
use crate::io::Wire;
use global::cleanup_user::FLAG_SMTPUTF8;
use global::record::rec_type;
use ipc::mail_attr;
use smtp_proto::{MailOptions, Reject, Reply, Token, Verb};

/// The log attributes smtpd writes into the envelope (`MAIL_ATTR_LOG_*`,
/// `MAIL_ATTR_ACT_*`).
mod attr {
    pub const LOG_CLIENT_NAME: &str = "log_client_name";
    pub const LOG_CLIENT_ADDR: &str = "log_client_address";
    pub const LOG_CLIENT_PORT: &str = "log_client_port";
    pub const LOG_ORIGIN: &str = "log_message_origin";
    pub const LOG_HELO_NAME: &str = "log_helo_name";
    pub const LOG_PROTO_NAME: &str = "log_protocol_name";
    pub const CLIENT_NAME: &str = "client_name";
    pub const REVERSE_CLIENT_NAME: &str = "reverse_client_name";
    pub const CLIENT_ADDR: &str = "client_address";
    pub const CLIENT_PORT: &str = "client_port";
    pub const SERVER_ADDR: &str = "server_address";
    pub const SERVER_PORT: &str = "server_port";
    pub const HELO_NAME: &str = "helo_name";
    pub const PROTO_NAME: &str = "protocol_name";
    pub const LOG_IDENT: &str = "log_ident";
    pub const CLIENT_AF: &str = "client_address_type";
}

/// The address families as Linux numbers them, for `client_address_type`.
const AF_INET: u32 = 2;
/// See [`AF_INET`].
const AF_INET6: u32 = 10;

impl<W: Wire> Session<'_, W> {
    /// The MAIL options main.cf sets.
    fn mail_options(&self) -> MailOptions<'static> {
        MailOptions {
            helo_required: self.settings.helo_required,
            smtputf8_enable: self.settings.smtputf8,
            discard: self.settings.discard,
            strict_rfc821_envelopes: self.settings.strict_rfc821,
            verp_allowed: false,
            verp_delims: "+=",
            verp_filter: "-=+",
            message_size_limit: self.settings.message_size_limit,
        }
    }

    /// Check: order, syntax, the address, parameters, restrictions; proceed: the
    /// transaction starts (and the queue file opens unless that waits for a recipient).
    pub(super) fn mail_command(&mut self, args: &[Token]) -> Result<Reply, Reject> {
        let opts = self.mail_options();
        self.txn.mail_start(self.helo.is_some(), args, &opts)?;
        if self.over_limit(crate::anvil::Event::Message, "Message delivery request") {
            let text = format!("450 4.7.1 Error: too much mail from {}", self.peer.addr);
            return Err(super::policy_reject(text));
        }
        let mut sender = self.txn.mail_sender(args, &opts)?;
        self.check_addr(&sender, Verb::Mail, args.get(2))?;
        let extras = match self.txn.mail_params(&sender, args, &opts) {
            Ok(extras) => extras,
            Err(reject) => {
                // smtpd_check_size() logs its refusal like a restriction's.
                if reject.reply.code() == Some(552) {
                    self.txn.sender = Some(sender);
                    let text = String::from_utf8_lossy(&reject.reply.to_wire())
                        .trim_end()
                        .to_string();
                    self.whatsup("reject", &text);
                    self.txn.sender = None;
                }
                return Err(reject);
            }
        };
        let notice = smtp_proto::smtputf8_check(
            &sender,
            self.txn.smtputf8,
            self.settings.strict_smtputf8,
            false,
            "sender",
        )?;
        self.note(notice);
        // This site's own probe sender goes in without its time stamp, so that the
        // restrictions see one address (valid_verify_sender_addr()).
        if !self.stand_alone()
            && let Some(probe) = self.checker.probe_sender(&sender)
        {
            sender = probe;
        }
        if !self.checker.delay_reject() {
            self.txn.sender = Some(sender.clone());
            let checked = self.with_facts("MAIL", None, |checker, facts| {
                checker.client(facts)?;
                checker.helo(facts)?;
                checker.sender(facts)
            });
            self.txn.sender = None;
            checked.map_err(rejected)?;
        }
        if !self.stand_alone() {
            self.with_facts("MAIL", None, |checker, facts| checker.queue(facts))
                .map_err(rejected)?;
        }
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        self.arrival = (since.as_secs() as i64, i64::from(since.subsec_micros()));
        self.instance = format!(
            "{:x}.{:x}.{:x}.{:x}",
            std::process::id(),
            since.as_secs(),
            since.subsec_micros(),
            self.seqno
        );
        self.seqno += 1;
        let reply = self.txn.mail_accept(sender, extras);
        if !self.settings.delay_open {
            self.open_queue_file();
        }
        Ok(reply)
    }

    /// `smtpd_check_addr()`: the resolving service must take the address, and a
    /// non-ASCII domain needs SMTPUTF8.
    pub(super) fn check_addr(
        &mut self,
        addr: &str,
        verb: Verb,
        arg: Option<&Token>,
    ) -> Result<(), Reject> {
        if addr.is_empty() {
            return Ok(());
        }
        let sender = self.txn.sender.clone().unwrap_or_default();
        let reply = self.checker.resolve(&sender, addr);
        let domain = addr.rsplit_once('@').map_or("", |(_, d)| d);
        let bad = reply.flags & global::resolve_clnt::FLAG_ERROR != 0
            || (!self.txn.smtputf8 && !domain.is_ascii());
        match (bad, arg) {
            (true, Some(arg)) => Err(smtp_proto::unresolvable_address(verb, arg)),
            _ => Ok(()),
        }
    }

    /// Connects to cleanup and writes the envelope so far (`mail_open_stream()`); logs
    /// `QUEUEID: client=name[addr]`.
    pub(super) fn open_queue_file(&mut self) {
        if self.cleanup.is_some() {
            return;
        }
        let mut flags = self.settings.cleanup_flags;
        if self.txn.smtputf8 {
            flags |= FLAG_SMTPUTF8;
        }
        let Ok(mut stream) = global::cleanup_clnt::CleanupStream::open(
            &self.settings.cleanup_service,
            self.settings.ipc_timeout,
            flags,
            global::cleanup_clnt::Connect::Wait,
        ) else {
            log::msg_fatal!(
                "unable to connect to the public {} service",
                self.settings.cleanup_service
            );
        };
        let forward = self.xforward.clone().unwrap_or_default();
        let orig = |on: bool, name: &str, value: &str| {
            if on {
                format!(", {name}={value}")
            } else {
                String::new()
            }
        };
        let suffix = format!(
            "{}{}{}",
            self.sasl_log_suffix(),
            orig(
                forward.ident.is_some(),
                "orig_queue_id",
                forward.ident.as_deref().unwrap_or_default()
            ),
            orig(forward.client, "orig_client", &forward.namaddr)
        );
        crate::log_line::client(&stream.queue_id, &self.peer.namaddr, &suffix);
        let peer = &self.peer;
        let protocol = self.protocol();
        // The log attributes name the forwarded client, if any, else the real one.
        let (log_name, log_addr, log_port, log_origin, log_helo, log_proto) = if forward.client {
            (
                forward.name.as_str(),
                forward.rfc_addr.as_str(),
                forward.port.as_str(),
                forward.namaddr.as_str(),
                forward.helo.as_deref(),
                forward.protocol.as_str(),
            )
        } else {
            (
                peer.name.as_str(),
                peer.rfc_addr.as_str(),
                peer.port.as_str(),
                peer.namaddr.as_str(),
                self.helo.as_deref(),
                protocol,
            )
        };
        let stand_alone = self.stand_alone();
        // Postfix's order (mail_open_stream()).
        stream.record(
            rec_type::TIME,
            format!("{} {}", self.arrival.0, self.arrival.1).as_bytes(),
        );
        if !stand_alone {
            let ident = forward
                .ident
                .as_deref()
                .unwrap_or(&stream.queue_id)
                .to_string();
            stream.attr(attr::LOG_IDENT, ident.as_bytes());
            let context = forward
                .domain
                .unwrap_or_else(|| self.checker.rewrite_context(&self.peer));
            stream.attr(mail_attr::RWR_CONTEXT, context.as_bytes());
            if let Some(auth) = &self.authenticated {
                stream.attr("sasl_method", auth.method.as_bytes());
                stream.attr("sasl_username", auth.username.as_bytes());
            }
            if let Some(sender) = &self.txn.sasl_sender {
                stream.attr("sasl_sender", sender.as_bytes());
            }
            if let Some(envid) = &self.txn.dsn_envid {
                stream.attr(mail_attr::DSN_ENVID, envid);
            }
            if let Some(ret) = self.txn.dsn_ret {
                stream.attr(mail_attr::DSN_RET, ret.to_string().as_bytes());
            }
        }
        let sender = self.txn.sender.clone().unwrap_or_default();
        stream.record(rec_type::FROM, &util::eight_bit::to_bytes(&sender));
        if let Some(body) = self.txn.body {
            stream.attr(mail_attr::ENCODING, body.encoding().as_bytes());
        }
        if !stand_alone {
            stream.attr(attr::LOG_CLIENT_NAME, log_name.as_bytes());
            stream.attr(attr::LOG_CLIENT_ADDR, log_addr.as_bytes());
            stream.attr(attr::LOG_CLIENT_PORT, log_port.as_bytes());
            stream.attr(attr::LOG_ORIGIN, log_origin.as_bytes());
            if let Some(helo) = log_helo {
                stream.attr(attr::LOG_HELO_NAME, helo.as_bytes());
            }
            stream.attr(attr::LOG_PROTO_NAME, log_proto.as_bytes());
            stream.attr(attr::CLIENT_NAME, peer.name.as_bytes());
            stream.attr(attr::REVERSE_CLIENT_NAME, peer.reverse_name.as_bytes());
            stream.attr(attr::CLIENT_ADDR, peer.addr.as_bytes());
            stream.attr(attr::CLIENT_PORT, peer.port.as_bytes());
            if let Some(addr) = &peer.dest_addr {
                stream.attr(attr::SERVER_ADDR, addr.as_bytes());
            }
            if let Some(port) = &peer.dest_port {
                stream.attr(attr::SERVER_PORT, port.as_bytes());
            }
            if let Some(helo) = &self.helo {
                stream.attr(attr::HELO_NAME, helo.as_bytes());
            }
            stream.attr(attr::PROTO_NAME, protocol.as_bytes());
            let family = match peer.server.map(|s| s.ip()) {
                Some(std::net::IpAddr::V6(_)) if peer.addr.contains(':') => AF_INET6,
                _ => AF_INET,
            };
            stream.attr(attr::CLIENT_AF, family.to_string().as_bytes());
        }
        self.cleanup = Some(stream);
    }
}

/// Seconds since the epoch.
pub(super) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
