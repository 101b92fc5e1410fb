//! The DATA command and message content after it: dot-unstuffing, the end of the message,
//! and the lines to write to the queue file.
//!
//! Postfix counterpart: `data_cmd()` and `receive_data_message()` in `smtpd/smtpd.c`.
//! Content is read line by line with the rules of [`BareLf`] and `line_length_limit`; a
//! longer line comes out in pieces, the pieces before the last marked incomplete
//! (Postfix's `REC_TYPE_CONT` records). A line that starts with `.` (and does not continue
//! a longer one) loses that dot; if nothing is left, the message has ended. The end is
//! where SMTP smuggling lives, so it depends on `smtpd_forbid_bare_newline`:
//!
//! - `no`: LF ends a line, with any CRs before it dropped, so `<LF>.<LF>`, `<CR><LF>.<LF>`
//!   and `<LF>.<CR><LF>` all end the message, as Postfix 3.7 does by default.
//! - `normalize` and `reject`: a `.` line ends the message only if it ended in CRLF and so
//!   did the line before it; any other `.` line is dropped, not stored. Under `reject`
//!   any bare LF also gets the message refused at the end ([`Content`]).
//!
//! Two kludges apply to the first line, as in Postfix: `From ` (after any `>`) at the very
//! start of the content becomes an `X-Mailbox-Line:` header ([`DataEvent::MailboxLine`]),
//! and content that starts with white space gets an empty record first
//! ([`DataEvent::Blank`]) so that it is not taken as a continuation of smtpd's own
//! `Received:` header. Neither is counted toward the message size.

use crate::content::{Admit, Content};
use crate::input::Input;
use crate::line::{BareLf, Ending, Splitter};
use crate::notice::Reject;
use crate::reply::Reply;
use crate::text::c_str;
use crate::token::Token;
use crate::transaction::Transaction;

impl Transaction {
    /// Whether DATA may come now, and its syntax. The session then runs
    /// `smtpd_data_restrictions`, milters and the proxy, and replies [`data_go_ahead`].
    pub fn data_start(&self, args: &[Token]) -> Result<(), Reject> {
        if self.processing_bdat() {
            return Err(Reject::protocol("503 5.5.1 Error: DATA after BDAT"));
        }
        if self.rcpt_count == 0 {
            // With PIPELINING every RCPT may have been refused before DATA arrived: that
            // is not the client's protocol error.
            return Err(if self.in_mail() {
                Reject::plain(Reply::new("554 5.5.1 Error: no valid recipients"))
            } else {
                Reject::protocol("503 5.5.1 Error: need RCPT command")
            });
        }
        if args.len() != 1 {
            return Err(Reject::protocol("501 5.5.4 Syntax: DATA"));
        }
        Ok(())
    }
}

/// `354 End data with <CR><LF>.<CR><LF>`.
pub fn data_go_ahead() -> Reply {
    Reply::new("354 End data with <CR><LF>.<CR><LF>")
}

/// `250 2.0.0 Ok: queued as ID`, the reply to a message accepted after DATA.
pub fn data_queued(queue_id: &str) -> Reply {
    Reply::new(format!("250 2.0.0 Ok: queued as {queue_id}"))
}

/// What [`DataReader::read`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataEvent<'a> {
    /// The first line was a `From ` line: write the record `X-Mailbox-Line: TEXT` (a
    /// continued record when `complete` is false).
    MailboxLine {
        /// The line (up to a NUL, as Postfix's `%s` takes it).
        text: &'a [u8],
        /// Whether the line ends here.
        complete: bool,
    },
    /// Write an empty record: the content starts with white space.
    Blank,
    /// Write this line of content, dot-unstuffed.
    Line {
        /// The line, without its line end.
        text: &'a [u8],
        /// Whether the line ends here (false: a piece of a line longer than
        /// `line_length_limit`, Postfix's `REC_TYPE_CONT`).
        complete: bool,
    },
    /// The message is over `message_size_limit`: log
    /// [`Notice::QueueFileTooBig`](crate::Notice::QueueFileTooBig); nothing more is
    /// written.
    TooBig,
    /// The end of the message (the `.` line).
    End,
}

/// Reads one message after DATA.
#[derive(Debug, Clone)]
pub struct DataReader {
    line: Splitter,
    content: Content,
    bare_lf: BareLf,
    line_length_limit: usize,
    message_size_limit: u64,
    /// Still at the first line (for the kludges).
    first: bool,
    /// The previous line was incomplete: this one cannot be a `.` line.
    prev_partial: bool,
    /// The previous line ended in bare LF.
    prev_bare_lf: bool,
    /// The current line, already read, waits behind a [`DataEvent::Blank`].
    held: Option<Ending>,
    /// The current line was handed out: drop it before reading on.
    returned: bool,
    done: bool,
}

impl DataReader {
    /// A reader for one message, with the session's `line_length_limit`,
    /// `message_size_limit` (0: none) and bare-LF setting ([`BareLf::for_client`]).
    pub fn new(line_length_limit: usize, message_size_limit: u64, bare_lf: BareLf) -> DataReader {
        DataReader {
            line: Splitter::default(),
            content: Content::default(),
            bare_lf,
            line_length_limit,
            message_size_limit,
            first: true,
            prev_partial: false,
            prev_bare_lf: false,
            held: None,
            returned: false,
            done: false,
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

    /// The next thing to do, or `None` when `input` holds no more (the session reads from
    /// the client; if the client has closed the connection, it was lost during DATA).
    /// After [`DataEvent::End`] every call returns `End` again.
    pub fn read(&mut self, input: &mut Input) -> Option<DataEvent<'_>> {
        loop {
            if self.returned {
                self.line.clear();
                self.returned = false;
            }
            if self.done {
                return Some(DataEvent::End);
            }
            let ending = match self.held.take() {
                Some(ending) => ending,
                None => {
                    let ending =
                        self.line
                            .fill_from(input, self.line_length_limit, self.bare_lf)?;
                    if ending == (Ending::Complete { bare_lf: true }) && self.bare_lf.rejects() {
                        self.content.note_bare_lf();
                    }
                    ending
                }
            };
            let partial = ending == Ending::Partial;
            let bare = ending == Ending::Complete { bare_lf: true };
            let text = self.line.line();
            if self.first {
                let line = c_str(text);
                let quoted = line.iter().take_while(|&&b| b == b'>').count();
                if line[quoted..].starts_with(b"From ") {
                    self.next_line(partial, bare);
                    let text = c_str(self.line.line());
                    return Some(DataEvent::MailboxLine {
                        text,
                        complete: !partial,
                    });
                }
                self.first = false;
                if matches!(text.first(), Some(b' ' | b'\t')) {
                    self.held = Some(ending);
                    return Some(DataEvent::Blank);
                }
            }
            let mut start = 0;
            if !self.prev_partial && text.first() == Some(&b'.') {
                let lone_dot = text.len() == 1;
                if lone_dot && self.bare_lf.wants_standard_end() && (bare || self.prev_bare_lf) {
                    // Not CRLF.CRLF: neither the end nor content.
                    self.next_line(partial, bare);
                    continue;
                }
                if lone_dot {
                    self.done = true;
                    return Some(DataEvent::End);
                }
                start = 1;
            }
            let len = text.len() - start;
            self.next_line(partial, bare);
            match self.content.admit(len, self.message_size_limit) {
                Admit::Write => {
                    let text = &self.line.line()[start..];
                    return Some(DataEvent::Line {
                        text,
                        complete: !partial,
                    });
                }
                Admit::TooBig => return Some(DataEvent::TooBig),
                Admit::Skip => continue,
            }
        }
    }

    /// Done with the current line: remember how it ended, and drop it on the next call.
    fn next_line(&mut self, partial: bool, bare: bool) {
        self.prev_partial = partial;
        self.prev_bare_lf = bare;
        self.returned = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records and the end, as text: `N:` complete, `C:` incomplete, `X:` mailbox
    /// line, `B` blank, `BIG`, `END`.
    fn records(content: &[u8], limit: usize, max: u64, mode: BareLf) -> (Vec<String>, Content) {
        let mut input = Input::new();
        input.push(content);
        let mut reader = DataReader::new(limit, max, mode);
        let mut out = Vec::new();
        while let Some(event) = reader.read(&mut input) {
            let show = |t: &[u8]| String::from_utf8_lossy(t).into_owned();
            out.push(match event {
                DataEvent::MailboxLine { text, complete } => {
                    format!("X{}:{}", u8::from(complete), show(text))
                }
                DataEvent::Blank => "B".into(),
                DataEvent::Line { text, complete } => {
                    format!("{}:{}", if complete { "N" } else { "C" }, show(text))
                }
                DataEvent::TooBig => "BIG".into(),
                DataEvent::End => "END".into(),
            });
            if event == DataEvent::End {
                break;
            }
        }
        (out, *reader.content())
    }

    #[test]
    fn dot_unstuffing_and_end() {
        let (recs, content) = records(b"a\r\n..b\r\n.\r\nafter", 100, 0, BareLf::Allow);
        assert_eq!(recs, ["N:a", "N:.b", "END"]);
        assert_eq!(content.size(), 3 + 4);
    }

    #[test]
    fn bare_lf_end_of_data_by_setting() {
        let smuggle = b"a\n.\nb\r\n.\r\n";
        assert_eq!(records(smuggle, 100, 0, BareLf::Allow).0, ["N:a", "END"]);
        assert_eq!(
            records(smuggle, 100, 0, BareLf::Normalize).0,
            ["N:a", "N:b", "END"]
        );
        let (recs, content) = records(b"a\r\n.\nb\n.\r\n.\r\n", 100, 0, BareLf::Reject);
        assert_eq!(recs, ["N:a", "END"]);
        assert_eq!(content.error(), Some(crate::ContentError::BareLf));
    }

    #[test]
    fn first_line_kludges() {
        let (recs, _) = records(b">From x\r\n\tfolded\r\n.\r\n", 100, 0, BareLf::Allow);
        assert_eq!(recs, ["X1:>From x", "B", "N:\tfolded", "END"]);
    }

    #[test]
    fn long_lines_and_size_limit() {
        assert_eq!(
            records(b"abcdef\r\n.\r\n", 4, 0, BareLf::Allow).0,
            ["C:abcd", "N:ef", "END"]
        );
        assert_eq!(
            records(b"abcd\r\n.b\r\n.\r\n", 4, 0, BareLf::Allow).0,
            ["C:abcd", "N:", "N:b", "END"]
        );
        let (recs, content) = records(b"123\r\n456\r\n789\r\n.\r\n", 100, 10, BareLf::Allow);
        assert_eq!(recs, ["N:123", "N:456", "BIG", "END"]);
        assert_eq!(content.error(), Some(crate::ContentError::TooBig));
    }
}
