//! BDAT (CHUNKING, RFC 3030): the command, the checks on each chunk, and reading chunks
//! into lines.
//!
//! Postfix counterpart: `bdat_cmd()` and `skip_bdat()` in `smtpd/smtpd.c`. The chunk is
//! raw bytes, counted, not dot-stuffed; smtpd still cuts it into lines (with
//! `line_length_limit` and the bare-LF rules of [`BareLf`]) because the queue file holds
//! lines. A line may run across chunks; what is left at the end of the LAST chunk is
//! written as a line of its own.
//!
//! A malformed BDAT gets `521` and the session ends: the bytes that follow would be read as
//! commands. Any other refusal comes after the chunk's bytes are read and thrown away
//! ([`Discard`]), so that the client stays in step, and after a refused chunk smtpd
//! discards every following chunk with `551 5.0.0 Discarded N bytes after earlier error`
//! until BDAT LAST or RSET. The session calls, per BDAT command:
//!
//! 1. [`BdatCommand::parse`].
//! 2. [`Transaction::bdat_check`]: `BDAT 0`, the discard state, recipients.
//! 3. *session*, for the first chunk: `smtpd_data_restrictions`, milters, proxy (a refusal
//!    there is discarded like the others).
//! 4. [`Transaction::bdat_size_check`].
//! 5. For a refusal: [`Discard`] the chunk, reply, then [`Transaction::bdat_discarded`].
//!    Otherwise [`Transaction::bdat_accept`], and for the first chunk a new [`BdatReader`];
//!    [`BdatReader::start_chunk`] and [`BdatReader::read`] to the chunk's end; then, for a
//!    LAST chunk or a failed one, the end-of-message handling, and for a failed chunk
//!    that is not LAST, [`Transaction::bdat_failed`]; or else [`bdat_chunk_ok`].

use crate::content::{Admit, Content};
use crate::ehlo::EhloMask;
use crate::input::Input;
use crate::line::{BareLf, Ending, Splitter};
use crate::notice::{Notice, Reject};
use crate::reply::Reply;
use crate::text::{self, eq_nocase};
use crate::token::Token;
use crate::transaction::{BdatState, Transaction};

/// `BDAT size [LAST]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BdatCommand {
    /// The chunk size in bytes.
    pub size: u64,
    /// LAST: the message ends with this chunk.
    pub last: bool,
}

impl BdatCommand {
    /// Parses a BDAT command (`args`, with the `line` it came from for the warning).
    /// Refused with `521 5.5.1 Error: command not implemented` when CHUNKING is discarded
    /// for this client, and `521 5.5.4 Syntax: BDAT count [LAST]` (and a warning) when
    /// malformed; both end the session.
    pub fn parse(args: &[Token], line: &[u8], discard: EhloMask) -> Result<BdatCommand, Reject> {
        if discard.contains(EhloMask::CHUNKING) {
            return Err(Reject::protocol("521 5.5.1 Error: command not implemented"));
        }
        let malformed = || {
            Reject::protocol("521 5.5.4 Syntax: BDAT count [LAST]").with_notice(
                Notice::MalformedBdat {
                    line: line.to_vec(),
                },
            )
        };
        let (size, last) = match args {
            [_, size] => (size, false),
            [_, size, last] if eq_nocase(&last.text, "LAST") => (size, true),
            _ => return Err(malformed()),
        };
        if !text::alldig(&size.text) {
            return Err(malformed());
        }
        let size = text::off_cvt(&size.text).ok_or_else(malformed)?;
        Ok(BdatCommand { size, last })
    }
}

impl Transaction {
    /// Step 2: whether this chunk is taken. `Ok(true)` for the first chunk of a message
    /// (the session then runs its DATA checks), `Ok(false)` for a later one.
    pub fn bdat_check(&self, cmd: &BdatCommand) -> Result<bool, Reject> {
        if cmd.size == 0 && !cmd.last {
            // Empty chunks would be a free NOOP, outside the junk command limit.
            return Err(Reject::plain(Reply::new("551 5.7.1 Null BDAT request"))
                .with_notice(Notice::NullBdat));
        }
        if self.bdat == BdatState::Error {
            let text = format!("551 5.0.0 Discarded {} bytes after earlier error", cmd.size);
            return Err(Reject::plain(Reply::new(text)));
        }
        if self.processing_bdat() {
            return Ok(false);
        }
        if self.rcpt_count == 0 {
            // As with DATA: PIPELINING may have sent BDAT before the RCPT replies.
            return Err(if self.in_mail() {
                Reject::plain(Reply::new("554 5.5.1 Error: no valid recipients"))
            } else {
                Reject::protocol("503 5.5.1 Error: need RCPT command")
            });
        }
        Ok(true)
    }

    /// Step 4: whether the chunk fits in `message_size_limit` (0: none) on top of
    /// `content_size`, the message so far ([`Content::size`]; 0 for a first chunk).
    pub fn bdat_size_check(
        &self,
        cmd: &BdatCommand,
        content_size: u64,
        message_size_limit: u64,
    ) -> Result<(), Reject> {
        if message_size_limit > 0
            && u128::from(content_size) + u128::from(cmd.size) > u128::from(message_size_limit)
        {
            return Err(Reject::policy("552 5.3.4 Chunk exceeds message size limit")
                .with_notice(Notice::BdatTooBig));
        }
        Ok(())
    }

    /// After a refused chunk was discarded and answered: a LAST chunk ends the
    /// transaction; otherwise later chunks are discarded too.
    pub fn bdat_discarded(&mut self, last: bool) {
        if last {
            self.reset();
        } else {
            self.bdat = BdatState::Error;
        }
    }

    /// The chunk is taken: BDAT is in progress (MAIL, RCPT and DATA are now out of order).
    pub fn bdat_accept(&mut self) {
        self.bdat = BdatState::Ok;
    }

    /// After a chunk that is not LAST failed and its end-of-message error was answered:
    /// the transaction is over, but later chunks are still discarded.
    pub fn bdat_failed(&mut self) {
        self.reset();
        self.bdat = BdatState::Error;
    }
}

/// `250 2.0.0 Ok: N bytes`, the reply to a chunk that is not LAST.
pub fn bdat_chunk_ok(cmd: &BdatCommand) -> Reply {
    Reply::new(format!("250 2.0.0 Ok: {} bytes", cmd.size))
}

/// `250 2.0.0 Ok: N bytes queued as ID`, the reply to a message accepted after BDAT LAST;
/// N is the counted size ([`Content::size`]).
pub fn bdat_queued(content: &Content, queue_id: &str) -> Reply {
    Reply::new(format!(
        "250 2.0.0 Ok: {} bytes queued as {queue_id}",
        content.size()
    ))
}

/// Reads and forgets the bytes of a refused chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Discard {
    remaining: u64,
}

impl Discard {
    /// Discards the `cmd.size` bytes of chunk `cmd`.
    pub fn new(cmd: &BdatCommand) -> Discard {
        Discard {
            remaining: cmd.size,
        }
    }

    /// Takes what it can from `input`; true once the whole chunk is gone.
    pub fn read(&mut self, input: &mut Input) -> bool {
        let take = clamp(self.remaining, input.pending().len());
        input.consume(take);
        self.remaining -= take as u64;
        self.remaining == 0
    }
}

/// `remaining` bytes, but at most `available`.
fn clamp(remaining: u64, available: usize) -> usize {
    usize::try_from(remaining).map_or(available, |r| r.min(available))
}

/// What [`BdatReader::read`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BdatEvent<'a> {
    /// Write this line (or, `complete` false, this piece of a long line).
    Line {
        /// The line, without its line end.
        text: &'a [u8],
        /// Whether the line ends here.
        complete: bool,
    },
    /// The message is over `message_size_limit`: log
    /// [`Notice::QueueFileTooBig`](crate::Notice::QueueFileTooBig); nothing more is
    /// written.
    TooBig,
    /// The chunk has been read.
    ChunkEnd,
}

/// Reads the chunks of one message into lines.
#[derive(Debug, Clone)]
pub struct BdatReader {
    line: Splitter,
    content: Content,
    bare_lf: BareLf,
    line_length_limit: usize,
    message_size_limit: u64,
    remaining: u64,
    last: bool,
    returned: bool,
}

impl BdatReader {
    /// A reader for one message, with the session's `line_length_limit`,
    /// `message_size_limit` (0: none) and bare-LF setting ([`BareLf::for_client`]).
    pub fn new(line_length_limit: usize, message_size_limit: u64, bare_lf: BareLf) -> BdatReader {
        BdatReader {
            line: Splitter::default(),
            content: Content::default(),
            bare_lf,
            line_length_limit,
            message_size_limit,
            remaining: 0,
            last: false,
            returned: false,
        }
    }

    /// The content state: size and errors.
    pub fn content(&self) -> &Content {
        &self.content
    }

    /// The content state, for [`Content::fail`].
    pub fn content_mut(&mut self) -> &mut Content {
        &mut self.content
    }

    /// Starts reading chunk `cmd`.
    pub fn start_chunk(&mut self, cmd: &BdatCommand) {
        self.remaining = cmd.size;
        self.last = cmd.last;
    }

    /// The next thing to do with the current chunk, or `None` when `input` holds no more
    /// of it. After [`BdatEvent::ChunkEnd`] every call returns `ChunkEnd` again until the
    /// next [`BdatReader::start_chunk`].
    pub fn read(&mut self, input: &mut Input) -> Option<BdatEvent<'_>> {
        loop {
            if self.returned {
                self.line.clear();
                self.returned = false;
            }
            let ending = if self.remaining == 0 {
                if !self.last || self.line.line().is_empty() {
                    return Some(BdatEvent::ChunkEnd);
                }
                // The message ends inside a line: it is a line as it stands.
                Ending::Complete { bare_lf: false }
            } else {
                let pending = input.pending();
                let avail = &pending[..clamp(self.remaining, pending.len())];
                if avail.is_empty() {
                    return None;
                }
                let (used, ending) = self.line.fill(avail, self.line_length_limit, self.bare_lf);
                input.consume(used);
                self.remaining -= used as u64;
                match ending {
                    Some(ending) => ending,
                    None => continue,
                }
            };
            if ending == (Ending::Complete { bare_lf: true }) && self.bare_lf.rejects() {
                self.content.note_bare_lf();
            }
            self.returned = true;
            match self
                .content
                .admit(self.line.line().len(), self.message_size_limit)
            {
                Admit::Write => {
                    let complete = ending != Ending::Partial;
                    return Some(BdatEvent::Line {
                        text: self.line.line(),
                        complete,
                    });
                }
                Admit::TooBig => return Some(BdatEvent::TooBig),
                Admit::Skip => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tokenize;

    fn parse(line: &str, discard: EhloMask) -> Result<BdatCommand, String> {
        BdatCommand::parse(&tokenize(line.as_bytes()), line.as_bytes(), discard)
            .map_err(|r| r.reply.to_string())
    }

    #[test]
    fn commands() {
        assert_eq!(
            parse("BDAT 10 last", EhloMask::NONE),
            Ok(BdatCommand {
                size: 10,
                last: true
            })
        );
        assert_eq!(
            parse("BDAT 0", EhloMask::NONE),
            Ok(BdatCommand {
                size: 0,
                last: false
            })
        );
        let syntax = Err("521 5.5.4 Syntax: BDAT count [LAST]".to_string());
        assert_eq!(parse("BDAT", EhloMask::NONE), syntax);
        assert_eq!(parse("BDAT -1", EhloMask::NONE), syntax);
        assert_eq!(parse("BDAT 1 LAST x", EhloMask::NONE), syntax);
        assert_eq!(parse("BDAT 99999999999999999999", EhloMask::NONE), syntax);
        let off = Err("521 5.5.1 Error: command not implemented".to_string());
        assert_eq!(parse("BDAT 1", EhloMask::CHUNKING), off);
    }

    fn chunks(chunks: &[(&[u8], bool)], limit: usize, mode: BareLf) -> Vec<String> {
        let mut reader = BdatReader::new(limit, 0, mode);
        let mut out = Vec::new();
        for &(bytes, last) in chunks {
            let mut input = Input::new();
            input.push(bytes);
            input.push(b"NEXT");
            reader.start_chunk(&BdatCommand {
                size: bytes.len() as u64,
                last,
            });
            while let Some(event) = reader.read(&mut input) {
                match event {
                    BdatEvent::Line { text, complete } => out.push(format!(
                        "{}:{}",
                        if complete { "N" } else { "C" },
                        String::from_utf8_lossy(text)
                    )),
                    BdatEvent::TooBig => out.push("BIG".into()),
                    BdatEvent::ChunkEnd => break,
                }
            }
            assert_eq!(input.pending(), b"NEXT");
        }
        out
    }

    #[test]
    fn lines_across_chunks() {
        let out = chunks(
            &[(b"a\r\nb", false), (b"c\r", false), (b"\n.d\re", true)],
            100,
            BareLf::Allow,
        );
        assert_eq!(out, ["N:a", "N:bc", "N:.d\re"]);
        let out = chunks(&[(b"abcd\r", false), (b"\nx", true)], 4, BareLf::Normalize);
        assert_eq!(out, ["C:abcd", "N:", "N:x"]);
        let out = chunks(&[(b"abc\r", false), (b"\n", true)], 4, BareLf::Normalize);
        assert_eq!(out, ["N:abc"]);
        assert!(chunks(&[(b"", true)], 4, BareLf::Allow).is_empty());
    }

    #[test]
    fn chunk_checks() {
        let mut txn = Transaction::new();
        let cmd = BdatCommand {
            size: 5,
            last: false,
        };
        let err = |txn: &Transaction, cmd| txn.bdat_check(&cmd).unwrap_err().reply.to_string();
        assert_eq!(err(&txn, cmd), "503 5.5.1 Error: need RCPT command");
        assert_eq!(
            err(
                &txn,
                BdatCommand {
                    size: 0,
                    last: false
                }
            ),
            "551 5.7.1 Null BDAT request"
        );
        txn.bdat_discarded(false);
        assert_eq!(
            err(&txn, cmd),
            "551 5.0.0 Discarded 5 bytes after earlier error"
        );
        txn.bdat_discarded(true);
        txn.sender = Some(String::new());
        assert_eq!(err(&txn, cmd), "554 5.5.1 Error: no valid recipients");
        txn.rcpt_count = 1;
        assert_eq!(txn.bdat_check(&cmd), Ok(true));
        txn.bdat_accept();
        assert_eq!(txn.bdat_check(&cmd), Ok(false));
        assert!(txn.bdat_size_check(&cmd, 6, 10).is_err());
        assert!(txn.bdat_size_check(&cmd, 5, 10).is_ok());
    }
}
