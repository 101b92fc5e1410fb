//! Accounting for message content: the size counted against `message_size_limit`, and
//! the errors smtpd finds itself while it reads a message.
//!
//! Postfix counterpart: the `state->act_size` and `state->err` handling in
//! `receive_data_message()` and `bdat_cmd()`, and the first branches of
//! `common_post_message_handling()` (`smtpd/smtpd.c`). For each line (or piece of a long
//! line) smtpd counts its length plus 2 for the CRLF, whatever ended it; a line that would
//! take the count over `message_size_limit` is not written, nor is anything after it, and
//! the message ends with `552 5.3.4 Error: message file too big`. Under
//! `smtpd_forbid_bare_newline = reject` a line ending in bare LF stops the writing the same
//! way, and the reply is the bare-LF one. Either way smtpd keeps reading to the end of the
//! message, so that the client stays in step. The count is also what a BDAT LAST reply
//! reports (`Ok: N bytes queued as ID`).

use crate::notice::ErrorClass;
use crate::reply::Reply;

/// An error smtpd itself found in message content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentError {
    /// A line ended in bare LF under `smtpd_forbid_bare_newline = reject`.
    BareLf,
    /// The message is larger than `message_size_limit`.
    TooBig,
}

impl ContentError {
    /// The end-of-message reply: `CODE 5.5.2 MYHOSTNAME Error: bare <LF> received` (CODE
    /// is `smtpd_forbid_bare_newline_reject_code`) or `552 5.3.4 Error: message file too
    /// big`.
    pub fn reply(self, bare_lf_reject_code: u16, myhostname: &str) -> Reply {
        match self {
            ContentError::BareLf => bare_lf_reply(bare_lf_reject_code, myhostname),
            ContentError::TooBig => Reply::new("552 5.3.4 Error: message file too big"),
        }
    }

    /// The error class the reply adds.
    pub fn class(self) -> ErrorClass {
        match self {
            ContentError::BareLf => ErrorClass::Protocol,
            ContentError::TooBig => ErrorClass::Bounce,
        }
    }
}

/// `CODE 5.5.2 MYHOSTNAME Error: bare <LF> received`, for a command or a message with a
/// bare LF under `smtpd_forbid_bare_newline = reject` (the session also logs `reject: bare
/// <LF> received` with its usual `from=<> to=<>` details).
pub fn bare_lf_reply(bare_lf_reject_code: u16, myhostname: &str) -> Reply {
    Reply::new(format!(
        "{bare_lf_reject_code} 5.5.2 {myhostname} Error: bare <LF> received"
    ))
}

/// What to do with one line of content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Write it.
    Write,
    /// This line takes the message over the limit: log it once, write nothing more.
    TooBig,
    /// An error stopped the writing: read and forget.
    Skip,
}

/// The content state of one message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Content {
    size: u64,
    bare_lf: bool,
    too_big: bool,
    failed: bool,
}

impl Content {
    /// The counted size so far (Postfix's `act_size`): the length of every written line
    /// plus 2 each.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The error smtpd found, the bare LF first as in Postfix's reply order.
    pub fn error(&self) -> Option<ContentError> {
        if self.bare_lf {
            Some(ContentError::BareLf)
        } else if self.too_big {
            Some(ContentError::TooBig)
        } else {
            None
        }
    }

    /// Whether lines are still being written: no error so far, neither smtpd's nor the
    /// session's ([`Content::fail`]).
    pub fn is_ok(&self) -> bool {
        !(self.bare_lf || self.too_big || self.failed)
    }

    /// Records that the session could not write the content (cleanup or proxy trouble):
    /// the rest of the message is read and dropped.
    pub fn fail(&mut self) {
        self.failed = true;
    }

    /// Records a bare LF under `reject`.
    pub(crate) fn note_bare_lf(&mut self) {
        self.bare_lf = true;
    }

    /// Decides about a line of `len` bytes, with `message_size_limit` (0: none).
    pub(crate) fn admit(&mut self, len: usize, message_size_limit: u64) -> Admit {
        if !self.is_ok() {
            return Admit::Skip;
        }
        let counted = len as u64 + 2;
        if message_size_limit > 0 && message_size_limit.saturating_sub(self.size) < counted {
            self.too_big = true;
            return Admit::TooBig;
        }
        self.size += counted;
        Admit::Write
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_limit_counts_crlf() {
        let mut content = Content::default();
        assert_eq!(content.admit(3, 10), Admit::Write);
        assert_eq!(content.admit(3, 10), Admit::Write);
        assert_eq!(content.size(), 10);
        assert_eq!(content.admit(0, 10), Admit::TooBig);
        assert_eq!(content.admit(0, 10), Admit::Skip);
        assert_eq!(content.error(), Some(ContentError::TooBig));
        content.note_bare_lf();
        assert_eq!(content.error(), Some(ContentError::BareLf));
        let reply = content.error().unwrap().reply(550, "mx.example");
        assert_eq!(
            reply.to_string(),
            "550 5.5.2 mx.example Error: bare <LF> received"
        );
    }
}
