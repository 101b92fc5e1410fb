//! Reading one SMTP command line, bounded by `line_length_limit`.
//!
//! Postfix counterpart: `smtpd_chat_query_limit()` in `smtpd/smtpd_chat.c`, which calls
//! `smtp_get()` with `SMTP_GET_FLAG_SKIP`. A command longer than `line_length_limit` is not
//! refused: its first `line_length_limit` bytes are kept and executed as the command, the
//! rest up to the next LF is read and thrown away (so that the next command is found where
//! the client put it), and smtpd warns `request longer than N: <first 30 bytes>...`. Such a
//! truncated line is never marked as ending in a bare LF, whatever ended it, because
//! Postfix only looks at the terminator of a line it read to the end.

use crate::input::Input;
use crate::line::{BareLf, Ending, Splitter};
use crate::notice::Notice;

/// A command line as read from the client, its terminator removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandLine<'a> {
    /// The line, at most `line_length_limit` bytes. It may hold any byte, NUL included.
    pub text: &'a [u8],
    /// The client sent more than `line_length_limit` bytes on this line; the rest was
    /// skipped.
    pub truncated: bool,
    /// The line ended in LF without CR while bare-LF detection was on.
    pub bare_lf: bool,
}

impl CommandLine<'_> {
    /// The warning smtpd logs for a truncated line (`request longer than LIMIT: ...`),
    /// `None` for a whole one.
    pub fn too_long(&self, line_length_limit: usize) -> Option<Notice> {
        self.truncated.then(|| Notice::RequestTooLong {
            limit: line_length_limit,
            head: self.text.to_vec(),
        })
    }
}

/// Reads command lines from [`Input`], one at a time.
#[derive(Debug, Default, Clone)]
pub struct CommandReader {
    line: Splitter,
    state: State,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Taking bytes into the line.
    #[default]
    Reading,
    /// The line is at the bound: skipping to its LF.
    Skipping,
    /// A line was handed out; the next call starts a new one.
    Returned,
}

impl CommandReader {
    /// A reader with no partial line.
    pub fn new() -> CommandReader {
        CommandReader::default()
    }

    /// The next command line, or `None` when `input` does not yet hold a whole one (the
    /// session then reads more from the client; if the client has closed the connection,
    /// the session has lost it, as Postfix's `smtp_get()` treats EOF inside a line).
    ///
    /// `line_length_limit` bounds what is kept of the line; `bare_lf` is the session's
    /// bare-LF setting ([`BareLf::for_client`]).
    pub fn read(
        &mut self,
        input: &mut Input,
        line_length_limit: usize,
        bare_lf: BareLf,
    ) -> Option<CommandLine<'_>> {
        if self.state == State::Returned {
            self.line.clear();
            self.state = State::Reading;
        }
        let mut ending = None;
        if self.state == State::Reading {
            match self.line.fill_from(input, line_length_limit, bare_lf)? {
                Ending::Partial => self.state = State::Skipping,
                complete => ending = Some(complete),
            }
        }
        if self.state == State::Skipping {
            // Throw away the rest of the line, its LF included.
            let pending = input.pending();
            match pending.iter().position(|&b| b == b'\n') {
                Some(lf) => input.consume(lf + 1),
                None => {
                    input.consume(pending.len());
                    return None;
                }
            }
        }
        self.state = State::Returned;
        Some(CommandLine {
            text: self.line.line(),
            truncated: ending.is_none(),
            bare_lf: ending == Some(Ending::Complete { bare_lf: true }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_one_at_a_time() {
        let mut input = Input::new();
        let mut reader = CommandReader::new();
        input.push(b"EHLO x\r\nNOOP\nQU");
        let line = reader.read(&mut input, 100, BareLf::Normalize).unwrap();
        assert_eq!(
            (line.text, line.truncated, line.bare_lf),
            (&b"EHLO x"[..], false, false)
        );
        let line = reader.read(&mut input, 100, BareLf::Normalize).unwrap();
        assert_eq!((line.text, line.bare_lf), (&b"NOOP"[..], true));
        assert!(reader.read(&mut input, 100, BareLf::Normalize).is_none());
        input.push(b"IT\r\n");
        let line = reader.read(&mut input, 100, BareLf::Normalize).unwrap();
        assert_eq!(line.text, b"QUIT");
    }

    #[test]
    fn long_lines_are_truncated_and_the_rest_skipped() {
        let mut input = Input::new();
        let mut reader = CommandReader::new();
        input.push(b"NOOP 0123456789");
        assert!(reader.read(&mut input, 8, BareLf::Allow).is_none());
        input.push(b"abc\nRSET\r\n");
        let line = reader.read(&mut input, 8, BareLf::Allow).unwrap();
        assert_eq!(
            (line.text, line.truncated, line.bare_lf),
            (&b"NOOP 012"[..], true, false)
        );
        assert_eq!(
            line.too_long(8),
            Some(Notice::RequestTooLong {
                limit: 8,
                head: b"NOOP 012".to_vec()
            })
        );
        assert_eq!(
            reader.read(&mut input, 8, BareLf::Allow).unwrap().text,
            b"RSET"
        );
    }
}
