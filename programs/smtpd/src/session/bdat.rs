//! BDAT (CHUNKING): message content in counted chunks.
//!
//! Postfix counterpart: `bdat_cmd()` in `smtpd/smtpd.c`. The first chunk starts the
//! message segment (Received: header); each chunk's lines go to cleanup as they arrive
//! and are answered when the chunk has been read; the LAST chunk ends the message like
//! DATA's dot. A chunk refused (order, size) is still read and thrown away, because its
//! bytes are on the wire; a syntax error ends the session, as the chunk's end is unknown.

use super::{Done, Session};
use crate::io::Wire;
use crate::log_line::Stage;
use smtp_proto::{BdatCommand, BdatEvent, BdatReader, Discard, Notice, Reject, Reply, Token};

impl<W: Wire> Session<'_, W> {
    /// Check: syntax, order, size; proceed: read (or discard) the chunk, then answer.
    pub(super) fn bdat_command(&mut self, args: &[Token], line: &[u8]) -> Done {
        let cmd = match BdatCommand::parse(args, line, self.settings.discard) {
            Ok(cmd) => cmd,
            Err(reject) => {
                self.closed = true;
                return Ok(!self.refuse(reject));
            }
        };
        let checked = self.txn.bdat_check(&cmd).and_then(|first| {
            let size = match (&self.bdat, first) {
                (Some(reader), false) => reader.content().size(),
                _ => 0,
            };
            self.txn
                .bdat_size_check(&cmd, size, self.settings.message_size_limit)
                .map(|()| first)
        });
        match checked {
            Err(reject) => self.discard_chunk(&cmd, reject),
            Ok(first) => {
                if first {
                    self.bdat = Some(BdatReader::new(
                        self.settings.line_length_limit,
                        self.settings.message_size_limit,
                        self.bare_lf,
                    ));
                    self.start_message();
                }
                self.txn.bdat_accept();
                self.read_chunk(&cmd)
            }
        }
    }

    /// Reads and drops a refused chunk, then sends the refusal.
    fn discard_chunk(&mut self, cmd: &BdatCommand, reject: Reject) -> Done {
        let mut discard = Discard::new(cmd);
        while !discard.read(&mut self.io.input) {
            self.io.fill()?;
        }
        let ok = !self.refuse(reject);
        self.txn.bdat_discarded(cmd.last);
        if cmd.last {
            self.bdat = None;
        }
        Ok(ok)
    }

    /// Reads an accepted chunk into the queue file and answers it.
    fn read_chunk(&mut self, cmd: &BdatCommand) -> Done {
        let Some(mut reader) = self.bdat.take() else {
            return Ok(false);
        };
        reader.start_chunk(cmd);
        loop {
            let Some(event) = reader.read(&mut self.io.input) else {
                self.stage = Stage::BdatContent(reader.content().size());
                self.io.fill()?;
                continue;
            };
            match event {
                BdatEvent::ChunkEnd => break,
                BdatEvent::TooBig => self.note(Some(Notice::QueueFileTooBig)),
                BdatEvent::Line { text, complete } => {
                    if let Some(stream) = self.cleanup.as_mut() {
                        stream.record(super::data::kind(complete), text);
                    }
                }
            }
        }
        self.stage = Stage::After("BDAT");
        let content = *reader.content();
        if cmd.last {
            let queued = smtp_proto::bdat_queued(&content, &self.queue_id());
            return Ok(self.end_of_message(&content, queued));
        }
        if !content.is_ok() {
            // The message is lost; the rest of its chunks are discarded.
            self.end_of_message(&content, Reply::new(""));
            self.txn.bdat_failed();
            return Ok(false);
        }
        self.send(&smtp_proto::bdat_chunk_ok(cmd));
        self.bdat = Some(reader);
        Ok(true)
    }
}
