//! The body half of the MIME state machine: boundary lines, 8-bit checks, and the
//! conversion of 8-bit content to quoted-printable.
//!
//! Postfix counterpart: the `MIME_STATE_BODY` case of `mime_state_update()` and
//! `mime_state_downgrade()` in `global/mime_state.c`.

use super::state::{Ctype, Encoding, MimeState, Phase, Stype};
use super::{HeaderClass, MimeErrors, MimeOptions, MimeSink, RecType};

/// A quoted-printable line gets a soft line break once it is longer than this.
const QP_LINE_LIMIT: usize = 72;

impl<S: MimeSink> MimeState<S> {
    /// Processes a record in a body (also the record that ended a header block).
    pub(super) fn body_update(&mut self, rec: RecType, text: &[u8]) {
        if rec == RecType::NonText {
            self.sink.body_end();
            return;
        }

        // The check looks at this body part's own encoding only, not at enclosing ones.
        if self.options.contains(MimeOptions::REPORT_8BIT_IN_7BIT_BODY)
            && self.encoding == Encoding::SevenBit
            && !self.errors.contains(MimeErrors::EIGHT_BIT_IN_7BIT_BODY)
            && !text.is_ascii()
        {
            self.report(MimeErrors::EIGHT_BIT_IN_7BIT_BODY, text);
        }

        // A boundary line starts a record, never continues one. Text after the boundary (or
        // after its closing "--") is ignored, as MUAs do; the saved boundary may have been
        // cut anyway. A missing inner closing boundary is recovered from by matching an
        // outer one.
        if !self.stack.entries.is_empty()
            && !self.prev_cont
            && text.len() > 2
            && text.starts_with(b"--")
        {
            let found = self.stack.entries.iter().rposition(|b| {
                text.get(2..2 + b.text.len())
                    .is_some_and(|lead| lead == b.text.as_slice())
            });
            if let Some(index) = found {
                while self.stack.entries.len() > index + 1 {
                    self.stack.pop();
                }
                let boundary = &self.stack.entries[index];
                let after = 2 + boundary.text.len();
                let defaults = (boundary.def_ctype, boundary.def_stype);
                if text.get(after..after + 2) == Some(b"--") {
                    self.stack.pop();
                    self.set_content(Phase::Body, Ctype::Other, Stype::Other);
                } else {
                    self.set_content(
                        Phase::Header(HeaderClass::Multipart),
                        defaults.0,
                        defaults.1,
                    );
                }
            }
        }

        // Last, so that a boundary line goes out after the state change, like a header.
        if self.options.contains(MimeOptions::DOWNGRADE) && self.domain != Encoding::SevenBit {
            self.downgrade(rec, text);
        } else {
            self.body_out(rec, text);
        }
    }

    /// Converts body text to quoted-printable (`mime_state_downgrade()`). Partial records
    /// are joined; output lines get a soft line break past 72 characters, and trailing white
    /// space is encoded, so no line exceeds 75.
    fn downgrade(&mut self, rec: RecType, text: &[u8]) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let mut out = std::mem::take(&mut self.buffer);
        for &ch in text {
            if out.len() > QP_LINE_LIMIT {
                out.push(b'=');
                self.body_out(RecType::Norm, &out);
                out.clear();
            }
            if (ch < 32 && ch != b'\t') || ch == b'=' || ch > 126 {
                out.extend_from_slice(&[
                    b'=',
                    HEX[usize::from(ch >> 4)],
                    HEX[usize::from(ch & 0xf)],
                ]);
            } else {
                out.push(ch);
            }
        }
        if rec == RecType::Norm {
            if let Some(&last) = out.last()
                && (last == b' ' || last == b'\t')
            {
                out.pop();
                out.extend_from_slice(&[
                    b'=',
                    HEX[usize::from(last >> 4)],
                    HEX[usize::from(last & 0xf)],
                ]);
            }
            self.body_out(RecType::Norm, &out);
            out.clear();
        }
        self.buffer = out;
    }
}
