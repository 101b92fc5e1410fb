//! Postfix's one-pass MIME processor: a streaming state machine that is fed a message one
//! record at a time and tells a [`MimeSink`] what it sees (logical headers, end of the
//! primary headers, body lines, end of body, and MIME errors).
//!
//! Postfix counterpart: `global/mime_state.c` and `global/mime_state.h`; the helpers it uses
//! are in [`header_opts`] (`global/header_opts.c`, `global/is_header.c`) and [`token`]
//! (`global/header_token.c`).
//!
//! The processor knows just enough MIME to find the message structure: header blocks and
//! bodies, multipart boundaries (with a bounded stack of them), and the headers at the start
//! of a `message/rfc822` attachment. It does not decode anything. Input is a sequence of
//! records as Postfix stores them in a queue file: [`RecType::Norm`] is a complete line
//! without its line ending, [`RecType::Cont`] is the first part of a line that continues in
//! the next record, and [`RecType::NonText`] stands for any other record (Postfix passes
//! `REC_TYPE_XTRA` or end of file), which flushes what is pending and ends the body.
//! Breaking long lines into records is the caller's job, as in Postfix.
//!
//! What callers see, as with Postfix:
//!
//! - A header is delivered once it is complete: its first line and its continuation lines
//!   joined with `\n` (no line ending at the end). The obsolete form `Name :` is normalized
//!   to `Name:`. Text beyond `header_size_limit` is dropped (and reported with
//!   [`MimeOptions::REPORT_TRUNC_HEADER`]).
//! - Offsets count bytes from the start of the current header block or body block, with one
//!   byte per line end. Postfix advances the header offset by the length of the record that
//!   *ended* a header rather than by the header's own length; ironpost keeps that quirk so
//!   that offsets agree with Postfix's.
//! - Each kind of error is reported once per message, to [`MimeSink::error`], and
//!   [`MimeState::update`] returns every error so far.
//! - With `-v` (see `log::verbose()`), the same `PUSH boundary`, `POP boundary`,
//!   `header_token:` and `garbage in ... header` lines as Postfix are logged.
//!
//! Text is bytes: mail is not necessarily UTF-8. As in Postfix, whose buffers are C strings,
//! header text stops at a NUL byte within a record; body records pass through whole.

mod body;
mod content;
pub mod error;
pub mod header_opts;
mod state;
pub mod token;

use std::ops::{BitOr, BitOrAssign};

pub use error::{MimeErrorDetail, MimeErrors};
pub use header_opts::{HeaderFlags, HeaderInfo, HeaderType};
pub use state::MimeState;

/// Text for a log record: what Postfix's logging would print, each byte that is not
/// printable ASCII shown as `?`.
fn printable(text: &[u8]) -> String {
    text.iter()
        .map(|&b| {
            if (b' '..=b'~').contains(&b) {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}

/// The kind of an input record (Postfix's `REC_TYPE_NORM`, `REC_TYPE_CONT`, and the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecType {
    /// A complete line, or the last part of a long line (`REC_TYPE_NORM`, `N`).
    Norm,
    /// A part of a long line that continues in the next record (`REC_TYPE_CONT`, `L`).
    Cont,
    /// Any record that is not message text, e.g. the end of the content or of the input.
    /// Pending text is flushed and [`MimeSink::body_end`] is called.
    NonText,
}

impl RecType {
    /// The record type letter in Postfix's queue files: `N`, `L`, or `?` for non-text.
    pub fn letter(self) -> char {
        match self {
            RecType::Norm => 'N',
            RecType::Cont => 'L',
            RecType::NonText => '?',
        }
    }
}

/// Where a header is (Postfix's `MIME_HDR_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderClass {
    /// In the message's own headers (`MIME_HDR_PRIMARY`).
    Primary,
    /// In the headers after a multipart boundary (`MIME_HDR_MULTIPART`).
    Multipart,
    /// In the headers at the start of an attached message (`MIME_HDR_NESTED`).
    Nested,
}

/// What the state machine reports to its user: Postfix's `head_out`, `head_end`, `body_out`,
/// `body_end` and `err_print` call-backs. Only `header` and `body` must be written.
///
/// When the primary headers end, one `update` may call `header`, `header_end` and `body` (or
/// `body_end`) in a row; as in Postfix, a sink that fails should remember that itself.
pub trait MimeSink {
    /// A complete logical header, with its continuation lines joined by `\n`. `info` is set
    /// for the headers Postfix knows by name (see [`header_opts`]); it is `None` for a
    /// `Content-Transfer-Encoding:` header that [`MimeOptions::DOWNGRADE`] inserts. The sink
    /// may change or take `text`: the state machine no longer needs it.
    fn header(
        &mut self,
        class: HeaderClass,
        info: Option<&'static HeaderInfo>,
        text: &mut Vec<u8>,
        offset: u64,
    );

    /// The primary headers have ended (called once, before their first body line).
    fn header_end(&mut self) {}

    /// A body record: a complete line ([`RecType::Norm`]) or part of a long line
    /// ([`RecType::Cont`]), without line ending. Boundary lines and the blank line that ends
    /// a header block are body records too.
    fn body(&mut self, rec: RecType, text: &[u8], offset: u64);

    /// A non-text record arrived: the last chance to write pending output.
    fn body_end(&mut self) {}

    /// An error of one kind (a single [`MimeErrors`] bit), the first time it happens, with the
    /// offending header or body text.
    fn error(&mut self, error: MimeErrors, text: &[u8]) {
        let _ = (error, text);
    }
}

/// A borrowed sink works too, so that the caller can keep ownership of its own.
impl<T: MimeSink + ?Sized> MimeSink for &mut T {
    fn header(
        &mut self,
        class: HeaderClass,
        info: Option<&'static HeaderInfo>,
        text: &mut Vec<u8>,
        offset: u64,
    ) {
        (**self).header(class, info, text, offset);
    }

    fn header_end(&mut self) {
        (**self).header_end();
    }

    fn body(&mut self, rec: RecType, text: &[u8], offset: u64) {
        (**self).body(rec, text, offset);
    }

    fn body_end(&mut self) {
        (**self).body_end();
    }

    fn error(&mut self, error: MimeErrors, text: &[u8]) {
        (**self).error(error, text);
    }
}

/// Processing options (Postfix's `MIME_OPT_*`), combined with `|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MimeOptions(u32);

impl MimeOptions {
    /// No special processing (`MIME_OPT_NONE`).
    pub const NONE: MimeOptions = MimeOptions(0);
    /// Turn content that claims to be 8-bit into quoted-printable, and fix the
    /// `Content-Transfer-Encoding:` headers to match (`MIME_OPT_DOWNGRADE`).
    pub const DOWNGRADE: MimeOptions = MimeOptions(1 << 0);
    /// Report 8-bit data in a body (part) that is, or defaults to, 7bit
    /// (`MIME_OPT_REPORT_8BIT_IN_7BIT_BODY`).
    pub const REPORT_8BIT_IN_7BIT_BODY: MimeOptions = MimeOptions(1 << 1);
    /// Report 8-bit data in a header (`MIME_OPT_REPORT_8BIT_IN_HEADER`).
    pub const REPORT_8BIT_IN_HEADER: MimeOptions = MimeOptions(1 << 2);
    /// Report a message/* or multipart/* entity whose Content-Transfer-Encoding is not an
    /// identity encoding (`MIME_OPT_REPORT_ENCODING_DOMAIN`).
    pub const REPORT_ENCODING_DOMAIN: MimeOptions = MimeOptions(1 << 3);
    /// Accepted for compatibility; Postfix 3.7's MIME processor never looks at it
    /// (`MIME_OPT_RECURSE_ALL_MESSAGE`).
    pub const RECURSE_ALL_MESSAGE: MimeOptions = MimeOptions(1 << 4);
    /// Report a header longer than `header_size_limit` (`MIME_OPT_REPORT_TRUNC_HEADER`).
    pub const REPORT_TRUNC_HEADER: MimeOptions = MimeOptions(1 << 5);
    /// Ignore Content-* headers: everything after the primary headers is plain body
    /// (`MIME_OPT_DISABLE_MIME`).
    pub const DISABLE_MIME: MimeOptions = MimeOptions(1 << 6);
    /// Report multipart nesting beyond `mime_nesting_limit` (`MIME_OPT_REPORT_NESTING`).
    pub const REPORT_NESTING: MimeOptions = MimeOptions(1 << 7);

    /// The options as Postfix's bit mask.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Options from Postfix's bit mask; unknown bits are dropped.
    pub const fn from_bits(bits: u32) -> MimeOptions {
        MimeOptions(bits & 0xff)
    }

    /// Whether every option in `other` is set.
    pub const fn contains(self, other: MimeOptions) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for MimeOptions {
    type Output = MimeOptions;

    fn bitor(self, rhs: MimeOptions) -> MimeOptions {
        MimeOptions(self.0 | rhs.0)
    }
}

impl BitOrAssign for MimeOptions {
    fn bitor_assign(&mut self, rhs: MimeOptions) {
        self.0 |= rhs.0;
    }
}

/// The safety limits that fend off denial of service, from main.cf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MimeLimits {
    /// `header_size_limit`: text of one logical header beyond this is dropped. A header can
    /// end up one record longer, because the check is made before a line is appended.
    pub header_size_limit: usize,
    /// `mime_nesting_limit`: multipart boundaries beyond this depth are ignored.
    pub nesting_limit: usize,
    /// `mime_boundary_length_limit`: a boundary string is cut to this many bytes.
    pub boundary_length_limit: usize,
}

impl Default for MimeLimits {
    /// Postfix 3.7's defaults: 102400, 100 and 2048.
    fn default() -> MimeLimits {
        MimeLimits {
            header_size_limit: 102_400,
            nesting_limit: 100,
            boundary_length_limit: 2048,
        }
    }
}
