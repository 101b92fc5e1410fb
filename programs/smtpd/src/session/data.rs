//! DATA: the message content, streamed to cleanup, and the end of a message.
//!
//! Postfix counterpart: `data_cmd()` and the end-of-message part of it shared with
//! `bdat_cmd()` in `smtpd/smtpd.c`. The data restrictions run first; then the
//! Received: header is written, `354` sent, and each content line goes to cleanup as a
//! record as it arrives (dot-unstuffed by the protocol core, long lines as continued
//! records, nothing past `message_size_limit`). At the end the end-of-data restrictions
//! run and cleanup's verdict decides the reply: `250 2.0.0 Ok: queued as ID` only after
//! cleanup has synced the queue file.

use super::{Done, Session, mail::now};
use crate::io::Wire;
use crate::log_line::{END_OF_MESSAGE, Stage};
use crate::received::Received;
use global::record::rec_type;
use smtp_proto::{Content, DataEvent, DataReader, Notice, Reply, Token};

impl<W: Wire> Session<'_, W> {
    /// Check: order, syntax, the data restrictions; proceed: read the message.
    pub(super) fn data_command(&mut self, args: &[Token]) -> Done {
        if let Err(reject) = self.txn.data_start(args) {
            return Ok(!self.refuse(reject));
        }
        let only = (self.txn.rcpt_count == 1)
            .then(|| self.txn.recipient.clone())
            .flatten();
        let checked = self.with_facts("DATA", only.as_deref(), |checker, facts| {
            checker.data(facts)
        });
        if let Err(refusal) = checked {
            return Ok(!self.refuse(super::rejected(refusal)));
        }
        self.start_message();
        self.send(&smtp_proto::data_go_ahead());
        let mut reader = DataReader::new(
            self.settings.line_length_limit,
            self.settings.message_size_limit,
            self.bare_lf,
        );
        self.stage = Stage::DataContent(0);
        loop {
            let event = reader.read(&mut self.io.input);
            let Some(event) = event else {
                self.stage = Stage::DataContent(reader.content().size());
                self.io.fill()?;
                continue;
            };
            match event {
                DataEvent::End => break,
                DataEvent::TooBig => self.note(Some(Notice::QueueFileTooBig)),
                DataEvent::Blank => self.content(rec_type::NORM, b""),
                DataEvent::MailboxLine { text, complete } => {
                    let mut line = b"X-Mailbox-Line: ".to_vec();
                    line.extend_from_slice(text);
                    self.content(kind(complete), &line);
                }
                DataEvent::Line { text, complete } => self.content(kind(complete), text),
            }
        }
        let content = *reader.content();
        let queue_id = self.queue_id();
        Ok(self.end_of_message(&content, smtp_proto::data_queued(&queue_id)))
    }

    /// One content record.
    fn content(&mut self, kind: u8, data: &[u8]) {
        if let Some(stream) = self.cleanup.as_mut() {
            stream.record(kind, data);
        }
    }

    /// The queue id, for the replies (cleanup is open once a recipient was accepted).
    pub(super) fn queue_id(&self) -> String {
        self.cleanup
            .as_ref()
            .map_or_else(String::new, |c| c.queue_id.clone())
    }

    /// The message segment: its start record and the Received: header.
    pub(super) fn start_message(&mut self) {
        let date = global::mail_date::mail_date(if self.arrival.0 > 0 {
            self.arrival.0
        } else {
            now()
        });
        let only = (self.txn.rcpt_count == 1)
            .then(|| self.txn.recipient.clone())
            .flatten();
        let queue_id = self.queue_id();
        let protocol = self.received_protocol();
        let received = Received {
            helo: self.helo.as_deref(),
            name: &self.peer.name,
            rfc_addr: &self.peer.rfc_addr,
            myhostname: &self.settings.myhostname,
            mail_name: &self.settings.mail_name,
            protocol: &protocol,
            queue_id: &queue_id,
            recipient: only.as_deref(),
            date: &date,
            tls: self
                .tls
                .as_ref()
                .filter(|_| self.settings.tls.received_header)
                .map(tls::Summary::received_clause),
            sasl_username: self
                .authenticated
                .as_ref()
                .filter(|_| self.settings.sasl.authenticated_header)
                .map(|a| a.username.as_str()),
        };
        let lines = received.lines();
        let effects = &self.checker.effects;
        let flags = effects.flags();
        let prepend = effects.prepend.clone();
        if let Some(stream) = self.cleanup.as_mut() {
            // Actions that fired before the first recipient was accepted.
            if flags != 0 {
                stream.record(REC_FLGS, flags.to_string().as_bytes());
            }
            stream.record(rec_type::MESG, b"");
            for line in prepend.iter().chain(&lines) {
                stream.record(rec_type::NORM, line.as_bytes());
            }
        }
    }

    /// The end of a message (DATA's dot or BDAT LAST): the end-of-data restrictions,
    /// cleanup's verdict, the reply. True when the message was queued.
    pub(super) fn end_of_message(&mut self, content: &Content, queued: Reply) -> bool {
        self.stage = Stage::After(END_OF_MESSAGE);
        self.act_size = content.size();
        let outcome = match content.error() {
            Some(error) => {
                self.chat.error(error.class());
                if error == smtp_proto::ContentError::BareLf {
                    self.whatsup("reject", "bare <LF> received");
                }
                Err(error.reply(self.settings.bare_lf_code, &self.settings.myhostname))
            }
            None => self.finish_message(queued),
        };
        let ok = match outcome {
            Ok(reply) => {
                self.error_count = 0;
                self.chat.queued();
                self.junk_cmds = 0;
                self.send(&reply);
                true
            }
            Err(reply) => {
                self.send(&reply);
                false
            }
        };
        self.chat_flush();
        self.reset();
        ok
    }

    /// The end-of-data restrictions, then cleanup's verdict.
    fn finish_message(&mut self, queued: Reply) -> Result<Reply, Reply> {
        let only = (self.txn.rcpt_count == 1)
            .then(|| self.txn.recipient.clone())
            .flatten();
        let checked = self.with_facts(END_OF_MESSAGE, only.as_deref(), |checker, facts| {
            checker.end_of_data(facts)
        });
        if let Err(refusal) = checked {
            self.chat.error(refusal.class);
            return Err(Reply::new(refusal.reply));
        }
        let Some(stream) = self.cleanup.take() else {
            return Err(Reply::new("451 4.3.0 Error: queue file write error"));
        };
        match stream.finish(&self.delegated_records()) {
            (0, _) => Ok(queued),
            (status, why) => {
                self.chat.cleanup_error(status, &why);
                Err(Reply::new(crate::cleanup::refused_reply(status, &why)))
            }
        }
    }
}

impl<W: Wire> Session<'_, W> {
    /// The records of the actions cleanup carries out, for the extracted segment:
    /// FILTER, REDIRECT, each BCC recipient (never notified), HOLD and DISCARD.
    fn delegated_records(&self) -> Vec<(u8, Vec<u8>)> {
        let effects = &self.checker.effects;
        let mut records = Vec::new();
        if let Some(filter) = &effects.filter {
            records.push((rec_type::FILT, filter.as_bytes().to_vec()));
        }
        if let Some(redirect) = &effects.redirect {
            records.push((
                rec_type::RDR,
                util::eight_bit::to_bytes(redirect).into_owned(),
            ));
        }
        for bcc in &effects.bcc {
            records.push((rec_type::RCPT, util::eight_bit::to_bytes(bcc).into_owned()));
            let notify = format!("{}={DSN_NOTIFY_NEVER}", ipc::mail_attr::DSN_NOTIFY);
            records.push((rec_type::ATTR, notify.into_bytes()));
        }
        if effects.flags() != 0 {
            records.push((REC_FLGS, effects.flags().to_string().into_bytes()));
        }
        records
    }
}

/// Not part of the queue file: processing flags for cleanup (`REC_TYPE_FLGS`).
const REC_FLGS: u8 = b'f';

/// `DSN_NOTIFY_NEVER`.
const DSN_NOTIFY_NEVER: u32 = 1;

/// A whole line is a normal record, a piece of a long one a continued record.
pub(super) fn kind(complete: bool) -> u8 {
    if complete {
        rec_type::NORM
    } else {
        rec_type::CONT
    }
}
