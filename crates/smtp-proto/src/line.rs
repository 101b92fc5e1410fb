//! Splitting client input into lines, with Postfix's line-length bound and its rules for
//! CR, LF and bare LF.
//!
//! Postfix counterpart: `smtp_get_noexcept()` in `global/smtp_stream.c` (with
//! `vstring_get_flags_bound()`), and the `smtpd_forbid_bare_newline` mask in `smtpd.c`.
//! Every line smtpd reads, command or message content, goes through these rules:
//!
//! - A line ends at LF. At most `line_length_limit` bytes are taken; a longer line comes out
//!   in pieces, each but the last one *incomplete* (Postfix's `REC_TYPE_CONT`). When the
//!   bound falls right after a CR, the next byte is looked at first, so that a CRLF is never
//!   split between two pieces.
//! - Without bare-LF detection (`smtpd_forbid_bare_newline = no`, or an excluded client)
//!   CRLF and bare LF both end a line, and every CR before the LF is removed.
//! - With detection on, exactly one CR before the LF is removed; a line ending in LF
//!   without CR is marked as having a bare LF. What that mark then does (refuse the
//!   command, require CRLF.CRLF to end DATA) is up to the reader.
//! - A CR elsewhere is data.

use crate::input::Input;

/// `smtpd_forbid_bare_newline` as it applies to one client (Postfix's `smtp_detect_bare_lf`
/// mask).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BareLf {
    /// `no`, or a client in `smtpd_forbid_bare_newline_exclusions`: LF ends a line, with or
    /// without CR.
    #[default]
    Allow,
    /// `normalize` (or `yes`): bare LF is accepted as a line end, but DATA ends only at
    /// CRLF.CRLF.
    Normalize,
    /// `reject`: as `normalize`, and a command or message with a bare LF is refused.
    Reject,
}

impl BareLf {
    /// The setting named by a `smtpd_forbid_bare_newline` value (case-insensitive, as
    /// Postfix's `name_code()`), `None` for a value Postfix refuses.
    pub fn from_param(value: &str) -> Option<BareLf> {
        ["normalize", "yes", "reject", "no"]
            .iter()
            .position(|name| name.eq_ignore_ascii_case(value))
            .map(|i| {
                [
                    BareLf::Normalize,
                    BareLf::Normalize,
                    BareLf::Reject,
                    BareLf::Allow,
                ][i]
            })
    }

    /// The setting for one session: detection is off for a client that matches
    /// `smtpd_forbid_bare_newline_exclusions` (`excluded`, decided by the caller's
    /// match list) and in stand-alone mode (`sendmail -bs`).
    pub fn for_client(self, excluded: bool, stand_alone: bool) -> BareLf {
        if excluded || stand_alone {
            BareLf::Allow
        } else {
            self
        }
    }

    /// Whether bare LF is detected at all.
    pub fn detects(self) -> bool {
        self != BareLf::Allow
    }

    /// Whether DATA must end with CRLF.CRLF (`BARE_LF_FLAG_WANT_STD_EOD`).
    pub fn wants_standard_end(self) -> bool {
        self != BareLf::Allow
    }

    /// Whether a bare LF gets a command or message refused (`BARE_LF_FLAG_REPLY_REJECT`).
    pub fn rejects(self) -> bool {
        self == BareLf::Reject
    }
}

/// How a line taken by [`Splitter::fill`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The line ended at LF (its CR/LF removed); `bare_lf` when detection found no CR.
    Complete {
        /// The line ended in LF without CR, and detection is on.
        bare_lf: bool,
    },
    /// The line reached the length bound; more of it follows.
    Partial,
}

/// One line under construction, at most `line_length_limit` (+1 for a peeked LF) bytes.
#[derive(Debug, Default, Clone)]
pub(crate) struct Splitter {
    buf: Vec<u8>,
}

impl Splitter {
    /// The line so far (after [`Splitter::fill`] reported an ending: the whole line).
    pub(crate) fn line(&self) -> &[u8] {
        &self.buf
    }

    /// Forgets the current line, ready for the next.
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
    }

    /// Adds bytes from `avail` to the line until it ends or reaches `line_length_limit`
    /// bytes. Returns how many bytes of `avail` were used, and the ending if the line is
    /// ready; `None` means all of `avail` was used and more input is needed to finish it.
    pub(crate) fn fill(
        &mut self,
        avail: &[u8],
        line_length_limit: usize,
        bare_lf: BareLf,
    ) -> (usize, Option<Ending>) {
        // Postfix's smallest line_length_limit is 512; a 0 here must not mean "no limit".
        let limit = line_length_limit.max(1);
        let mut used = 0;
        if self.buf.len() < limit {
            let room = limit - self.buf.len();
            let window = &avail[..avail.len().min(room)];
            if let Some(lf) = window.iter().position(|&b| b == b'\n') {
                self.buf.extend_from_slice(&window[..=lf]);
                return (lf + 1, Some(self.complete(bare_lf)));
            }
            self.buf.extend_from_slice(window);
            used = window.len();
            if self.buf.len() < limit {
                return (used, None);
            }
        }
        // At the bound. A CR here may be the first half of CRLF: look at the next byte.
        if self.buf.last() != Some(&b'\r') {
            return (used, Some(Ending::Partial));
        }
        match avail.get(used) {
            None => (used, None),
            Some(b'\n') => {
                self.buf.push(b'\n');
                (used + 1, Some(self.complete(bare_lf)))
            }
            Some(_) => (used, Some(Ending::Partial)),
        }
    }

    /// Removes the line terminator of a line that ended at LF.
    fn complete(&mut self, bare_lf: BareLf) -> Ending {
        self.buf.pop();
        if bare_lf.detects() {
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
                Ending::Complete { bare_lf: false }
            } else {
                Ending::Complete { bare_lf: true }
            }
        } else {
            while self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            Ending::Complete { bare_lf: false }
        }
    }

    /// Takes the next line (or piece) from `input`, `None` if more input is needed.
    pub(crate) fn fill_from(
        &mut self,
        input: &mut Input,
        line_length_limit: usize,
        bare_lf: BareLf,
    ) -> Option<Ending> {
        let (used, ending) = self.fill(input.pending(), line_length_limit, bare_lf);
        input.consume(used);
        ending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8], limit: usize, mode: BareLf) -> Vec<(Vec<u8>, Ending)> {
        let mut s = Splitter::default();
        let mut out = Vec::new();
        let mut rest = input;
        loop {
            let (used, ending) = s.fill(rest, limit, mode);
            rest = &rest[used..];
            match ending {
                Some(e) => {
                    out.push((s.line().to_vec(), e));
                    s.clear();
                }
                None => return out,
            }
        }
    }

    const DONE: Ending = Ending::Complete { bare_lf: false };
    const BARE: Ending = Ending::Complete { bare_lf: true };

    #[test]
    fn crs_before_lf_without_detection() {
        let lines = split(b"a\r\r\nb\nc\rd\r\n", 100, BareLf::Allow);
        let want = [
            (b"a".to_vec(), DONE),
            (b"b".to_vec(), DONE),
            (b"c\rd".to_vec(), DONE),
        ];
        assert_eq!(lines, want);
    }

    #[test]
    fn one_cr_before_lf_with_detection() {
        let lines = split(b"a\r\r\nb\n\n", 100, BareLf::Normalize);
        let want = [
            (b"a\r".to_vec(), DONE),
            (b"b".to_vec(), BARE),
            (b"".to_vec(), BARE),
        ];
        assert_eq!(lines, want);
    }

    #[test]
    fn long_lines_come_in_pieces_and_crlf_is_not_split() {
        let lines = split(b"abcd\r\nabc\r\nab\rx\r\n", 4, BareLf::Reject);
        let want = [
            (b"abcd".to_vec(), Ending::Partial),
            (b"".to_vec(), DONE),
            (b"abc".to_vec(), DONE),
            (b"ab\rx".to_vec(), Ending::Partial),
            (b"".to_vec(), DONE),
        ];
        assert_eq!(lines, want);
    }

    #[test]
    fn a_cr_at_the_bound_waits_for_the_next_byte() {
        let mut s = Splitter::default();
        assert_eq!(s.fill(b"abc\r", 4, BareLf::Allow), (4, None));
        assert_eq!(s.fill(b"\n", 4, BareLf::Allow), (1, Some(DONE)));
        assert_eq!(s.line(), b"abc");
    }

    #[test]
    fn parameter_values() {
        assert_eq!(BareLf::from_param("Yes"), Some(BareLf::Normalize));
        assert_eq!(BareLf::from_param("reject"), Some(BareLf::Reject));
        assert_eq!(BareLf::from_param("no"), Some(BareLf::Allow));
        assert_eq!(BareLf::from_param("strict"), None);
        assert_eq!(BareLf::Reject.for_client(true, false), BareLf::Allow);
    }
}
