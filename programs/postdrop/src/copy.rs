//! The record stream from sendmail to the maildrop file, checked on the way.
//!
//! Postfix counterpart: the copy loop of `postdrop/postdrop.c`. The input is a queue file
//! in the making: envelope records (`MFSRVAin`, ended by `M`), content (`XLN`, ended by
//! `X`), extracted records (`EAR`, ended by `E`, the end of the stream). Anything else is
//! refused, so that pickup can trust what it reads. postdrop writes its own time record
//! first (the caller may not send one), keeps only the attribute records that a user may set,
//! and counts senders and recipients: a file without both is refused. Each sender is
//! checked against local_login_sender_maps here, at submission time; after a refusal (or
//! a write error) the rest of the input is read and dropped, so that the client gets the
//! verdict instead of a broken pipe.

use global::cleanup_user::{STAT_BAD, STAT_OK};
use global::record::{RecError, rec_attr_map, rec_get, rec_put, rec_type};
use ipc::mail_attr;
use std::io::{self, Read, Write};

/// The records a submission may have in each segment; the first one ends the segment
/// (Postfix's `REC_TYPE_POST_ENVELOPE`, `_CONTENT`, `_EXTRACT`).
const SEGMENTS: [&[u8]; 3] = [b"MFSRVAin", b"XLN", b"EAR"];

/// How the copy ended, when it did not end in a fatal error.
#[derive(Debug)]
pub enum Ending {
    /// The input stopped before the END record: the client gave up.
    Canceled,
    /// The input was read to its end.
    Done {
        /// The verdict so far (the file is still to be finished).
        status: u32,
        /// Why, for the client, when the status is not OK.
        reason: String,
        /// The first error writing the file; the file is incomplete.
        write_error: Option<io::Error>,
    },
}

/// What the copy needs to know.
pub struct Copy<'a> {
    /// The submitting user, for log messages.
    pub uid: u32,
    /// The longest record accepted (line_length_limit).
    pub line_limit: usize,
    /// Decides whether a sender (the data of an `S` record) is allowed: a status, and a
    /// reason in the string when it is not OK.
    pub check_sender: &'a mut dyn FnMut(&[u8], &mut String) -> u32,
}

/// The output file, which remembers its first write error as a stream does: every later
/// write fails too.
struct Output<'w, W: Write> {
    out: &'w mut W,
    error: Option<io::Error>,
}

impl<W: Write> Output<'_, W> {
    fn put(&mut self, kind: u8, data: &[u8]) -> bool {
        if self.error.is_some() {
            return false;
        }
        match rec_put(self.out, kind, data) {
            Ok(()) => true,
            Err(e) => {
                self.error = Some(e);
                false
            }
        }
    }
}

impl Copy<'_> {
    /// Copies the submission from `input` to `out`, starting with a time record for
    /// `start` (seconds, microseconds). The error is the text of a fatal error: the
    /// input is malformed.
    pub fn run(
        &mut self,
        input: &mut impl Read,
        out: &mut impl Write,
        start: (u64, u32),
    ) -> Result<Ending, String> {
        let uid = self.uid;
        let mut out = Output { out, error: None };
        let mut status = STAT_OK;
        let mut reason = String::new();
        let mut from_count = 0usize;
        let mut rcpt_count = 0usize;
        let mut validate_input = true;
        let mut segment = 0usize;
        let mut buf = Vec::new();
        // The caller's clock is not to be trusted: this is the message's arrival time.
        out.put(
            rec_type::TIME,
            format!("{} {}", start.0, start.1).as_bytes(),
        );
        loop {
            let kind = match self.get(input, &mut buf)? {
                Some(kind) => kind,
                None => return Ok(Ending::Canceled),
            };
            // Postfix's check also lets a record of type 0 through (its strchr() finds
            // the string terminator); no client sends one and pickup would refuse the
            // file, so it is refused here.
            let expected = SEGMENTS.get(segment).copied().unwrap_or(b"");
            if !expected.contains(&kind) {
                return Err(format!("uid={uid}: unexpected record type: {kind}"));
            }
            if expected.first() == Some(&kind) {
                segment += 1;
            }
            if kind == rec_type::FROM {
                status |= (self.check_sender)(&buf, &mut reason);
                from_count += 1;
            }
            if kind == rec_type::RCPT {
                rcpt_count += 1;
            }
            if kind == rec_type::ATTR {
                self.attribute(&buf, &mut out);
                continue;
            }
            if status != STAT_OK || !out.put(kind, &buf) {
                // Read the rest, so that the client sees our answer and not a broken
                // pipe; only a malformed record still ends it all.
                loop {
                    match self.get(input, &mut buf)? {
                        Some(rec_type::END) | None => break,
                        Some(_) => {}
                    }
                }
                validate_input = false;
                break;
            }
            if kind == rec_type::END {
                break;
            }
        }
        // Mail without a sender or recipient would only be discarded by pickup: say so now.
        if validate_input && (from_count == 0 || rcpt_count == 0) {
            status |= STAT_BAD;
        }
        Ok(Ending::Done {
            status,
            reason,
            write_error: out.error,
        })
    }

    /// The next record's type, None at the end of the input, or the fatal text for a
    /// malformed record (after Postfix's warning saying what is wrong with it).
    fn get(&self, input: &mut impl Read, buf: &mut Vec<u8>) -> Result<Option<u8>, String> {
        match rec_get(input, buf, self.line_limit) {
            Ok(kind) => {
                if log::verbose() > 2 {
                    log::msg_info!(
                        "rec_get: type {} len {} data {}",
                        kind as char,
                        buf.len(),
                        c_text(buf, 10)
                    );
                }
                Ok(Some(kind))
            }
            Err(RecError::Eof) => Ok(None),
            Err(RecError::Bad(why)) => {
                log::msg_warn!("stdin: {why}");
                Err(format!("uid={}: malformed input", self.uid))
            }
        }
    }

    /// Copies an attribute record if users may set that attribute (the body type of
    /// sendmail -B, DSN and tracing requests, the rewriting context), else warns.
    fn attribute<W: Write>(&self, data: &[u8], out: &mut Output<'_, W>) {
        let uid = self.uid;
        let text = until_nul(data);
        let (name, value) = match split_nameval(text) {
            Ok(pair) => pair,
            Err(why) => {
                log::msg_warn!(
                    "uid={uid}: ignoring malformed record: {why}: {}",
                    c_text(text, 200)
                );
                return;
            }
        };
        let allowed = match std::str::from_utf8(name) {
            Ok(mail_attr::ENCODING) => matches!(value, b"7bit" | b"8bit" | b""),
            Ok(mail_attr::DSN_ENVID | mail_attr::DSN_NOTIFY | mail_attr::TRACE_FLAGS) => true,
            Ok(mail_attr::RWR_CONTEXT) => matches!(value, b"local" | b"remote"),
            Ok(other) => rec_attr_map(other).is_some(),
            Err(_) => false,
        };
        if allowed {
            let mut record = Vec::with_capacity(name.len() + 1 + value.len());
            record.extend_from_slice(name);
            record.push(b'=');
            record.extend_from_slice(value);
            out.put(rec_type::ATTR, &record);
        } else {
            log::msg_warn!(
                "uid={uid}: ignoring attribute record: {}={}",
                c_text(name, 200),
                c_text(value, 200)
            );
        }
    }
}

/// The data as C code sees it: up to the first null byte.
fn until_nul(data: &[u8]) -> &[u8] {
    match data.iter().position(|&b| b == 0) {
        Some(at) => &data[..at],
        None => data,
    }
}

/// At most `max` bytes of the data as text, as `%.<max>s` prints it.
fn c_text(data: &[u8], max: usize) -> String {
    let text = until_nul(data);
    String::from_utf8_lossy(&text[..text.len().min(max)]).into_owned()
}

/// C `isspace` in the C locale.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Splits `name = value` bytes as Postfix's `split_nameval` (spaces around both parts
/// dropped), keeping the bytes as they are.
fn split_nameval(text: &[u8]) -> Result<(&[u8], &[u8]), &'static str> {
    let start = text
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(text.len());
    let text = &text[start..];
    if text.is_empty() || text[0] == b'=' {
        return Err("missing attribute name");
    }
    let name_end = text
        .iter()
        .position(|&b| is_space(b) || b == b'=')
        .unwrap_or(text.len());
    let (name, rest) = text.split_at(name_end);
    let after_blanks = rest
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(rest.len());
    let Some(value) = rest[after_blanks..].strip_prefix(b"=") else {
        return Err("missing '=' after attribute name");
    };
    let first = value
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(value.len());
    let last = value
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(first, |at| at + 1);
    Ok((name, &value[first..last.max(first)]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use global::cleanup_user::STAT_NOPERM;

    fn records(list: &[(u8, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (kind, data) in list {
            rec_put(&mut out, *kind, data).unwrap();
        }
        out
    }

    fn parse(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        let mut buf = Vec::new();
        while let Ok(kind) = rec_get(&mut bytes, &mut buf, 0) {
            out.push((kind, buf.clone()));
        }
        out
    }

    fn run_with(
        input: &[u8],
        check: &mut dyn FnMut(&[u8], &mut String) -> u32,
    ) -> (Result<Ending, String>, Vec<u8>, usize) {
        let mut copy = Copy {
            uid: 1000,
            line_limit: 2048,
            check_sender: check,
        };
        let mut out = Vec::new();
        let mut input = input;
        let result = copy.run(&mut input, &mut out, (1_700_000_000, 42));
        (result, out, input.len())
    }

    fn run(input: &[u8]) -> (Result<Ending, String>, Vec<u8>) {
        let (result, out, _) = run_with(input, &mut |_, _| STAT_OK);
        (result, out)
    }

    fn status(ending: &Result<Ending, String>) -> u32 {
        match ending {
            Ok(Ending::Done { status, .. }) => *status,
            other => panic!("{other:?}"),
        }
    }

    const GOOD: &[(u8, &[u8])] = &[
        (b'A', b"rewrite_context=local"),
        (b'F', b"Charlie Root"),
        (b'S', b"root"),
        (b'A', b" encoding = 8bit "),
        (b'R', b"user@example.com"),
        (b'M', b""),
        (b'N', b"Subject: hi"),
        (b'N', b""),
        (b'L', b"long "),
        (b'N', b"line"),
        (b'X', b""),
        (b'R', b"extracted@example.com"),
        (b'E', b""),
    ];

    #[test]
    fn a_submission_is_copied_with_our_time() {
        let (ending, out) = run(&records(GOOD));
        assert_eq!(status(&ending), STAT_OK);
        let mut expected: Vec<(u8, Vec<u8>)> = vec![(b'T', b"1700000000 42".to_vec())];
        for (kind, data) in GOOD {
            let data = if *kind == b'A' && data.starts_with(b" enc") {
                b"encoding=8bit".to_vec()
            } else {
                data.to_vec()
            };
            expected.push((*kind, data));
        }
        assert_eq!(parse(&out), expected);
    }

    #[test]
    fn records_out_of_place_are_fatal() {
        // A recipient after the content started.
        let (ending, _) = run(&records(&[
            (b'S', b"root"),
            (b'R', b"a@b"),
            (b'M', b""),
            (b'R', b"late@b"),
        ]));
        assert_eq!(ending.unwrap_err(), "uid=1000: unexpected record type: 82");
        // Record types pickup uses internally are not for users.
        let (ending, _) = run(&records(&[(b'S', b"root"), (b'>', b"x")]));
        assert_eq!(ending.unwrap_err(), "uid=1000: unexpected record type: 62");
        // The time is ours to say.
        let (ending, _) = run(&records(&[(b'T', b"1 2")]));
        assert_eq!(ending.unwrap_err(), "uid=1000: unexpected record type: 84");
        let (ending, _) = run(&records(&[(0, b"")]));
        assert_eq!(ending.unwrap_err(), "uid=1000: unexpected record type: 0");
    }

    #[test]
    fn malformed_input_is_fatal() {
        let (ending, _) = run(b"S\x85");
        assert_eq!(ending.unwrap_err(), "uid=1000: malformed input");
        let long = vec![b'x'; 3000];
        let (ending, _) = run(&records(&[(b'S', b"root"), (b'R', &long)]));
        assert_eq!(ending.unwrap_err(), "uid=1000: malformed input");
    }

    #[test]
    fn early_end_of_input_cancels() {
        let (ending, _) = run(&records(&GOOD[..7]));
        assert!(matches!(ending, Ok(Ending::Canceled)), "{ending:?}");
        let (ending, _) = run(b"");
        assert!(matches!(ending, Ok(Ending::Canceled)), "{ending:?}");
    }

    #[test]
    fn sender_and_recipient_are_required() {
        let no_rcpt: Vec<(u8, &[u8])> = GOOD
            .iter()
            .copied()
            .filter(|(kind, _)| *kind != b'R')
            .collect();
        assert_eq!(status(&run(&records(&no_rcpt)).0), STAT_BAD);
        let no_from: Vec<(u8, &[u8])> = GOOD
            .iter()
            .copied()
            .filter(|(kind, _)| *kind != b'S')
            .collect();
        assert_eq!(status(&run(&records(&no_from)).0), STAT_BAD);
        // A recipient in the extracted segment counts.
        let extracted_only: Vec<(u8, &[u8])> = GOOD
            .iter()
            .copied()
            .filter(|(kind, data)| *kind != b'R' || data.starts_with(b"extracted"))
            .collect();
        assert_eq!(status(&run(&records(&extracted_only)).0), STAT_OK);
    }

    #[test]
    fn only_user_attributes_pass() {
        let input = records(&[
            (b'S', b"root"),
            (b'A', b"encoding=base64"),
            (b'A', b"rewrite_context=elsewhere"),
            (b'A', b"client_address=10.0.0.1"),
            (b'A', b"no equals sign"),
            (b'A', b"envelope_id=xyz"),
            (b'A', b"ret_flags=1"),
            (b'A', b"trace_flags = 2"),
            (b'R', b"a@b"),
            (b'M', b""),
            (b'X', b""),
            (b'A', b"notify_flags=4"),
            (b'A', b"dsn_orig_rcpt=rfc822;a@b"),
            (b'E', b""),
        ]);
        let (ending, out) = run(&input);
        assert_eq!(status(&ending), STAT_OK);
        let attrs: Vec<Vec<u8>> = parse(&out)
            .into_iter()
            .filter(|(kind, _)| *kind == b'A')
            .map(|(_, data)| data)
            .collect();
        assert_eq!(
            attrs,
            [
                &b"envelope_id=xyz"[..],
                b"ret_flags=1",
                b"trace_flags=2",
                b"notify_flags=4",
                b"dsn_orig_rcpt=rfc822;a@b"
            ]
        );
    }

    #[test]
    fn a_refused_sender_stops_the_copy_but_reads_everything() {
        let mut input = records(GOOD);
        input.extend_from_slice(b"trailing");
        let (ending, out, left) = run_with(&input, &mut |sender, reason| {
            *reason = format!(
                "not authorized to use sender='{}'",
                String::from_utf8_lossy(sender)
            );
            STAT_NOPERM
        });
        match ending {
            Ok(Ending::Done {
                status,
                reason,
                write_error,
            }) => {
                assert_eq!(status, STAT_NOPERM);
                assert_eq!(reason, "not authorized to use sender='root'");
                assert!(write_error.is_none());
            }
            other => panic!("{other:?}"),
        }
        // Read through END; the sender and what follows were not written.
        assert_eq!(left, b"trailing".len());
        assert!(
            !parse(&out)
                .iter()
                .any(|(kind, _)| *kind == b'S' || *kind == b'M')
        );
    }

    #[test]
    fn a_write_error_is_reported_after_reading_everything() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::from_raw_os_error(27)) // EFBIG
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut copy = Copy {
            uid: 0,
            line_limit: 2048,
            check_sender: &mut |_, _| STAT_OK,
        };
        let input = records(GOOD);
        let mut reader = input.as_slice();
        match copy.run(&mut reader, &mut Full, (0, 0)) {
            Ok(Ending::Done {
                status,
                write_error: Some(e),
                ..
            }) => {
                // Not BAD for a missing recipient: the input was not checked to its end.
                assert_eq!(status, STAT_OK);
                assert_eq!(e.raw_os_error(), Some(27));
            }
            other => panic!("{other:?}"),
        }
        assert!(reader.is_empty());
    }

    #[test]
    fn split_nameval_as_postfix() {
        assert_eq!(split_nameval(b"  a =  b c  "), Ok((&b"a"[..], &b"b c"[..])));
        assert_eq!(split_nameval(b"a="), Ok((&b"a"[..], &b""[..])));
        assert_eq!(split_nameval(b"a = \xff"), Ok((&b"a"[..], &b"\xff"[..])));
        assert_eq!(split_nameval(b" =b"), Err("missing attribute name"));
        assert_eq!(
            split_nameval(b"a b"),
            Err("missing '=' after attribute name")
        );
    }
}
