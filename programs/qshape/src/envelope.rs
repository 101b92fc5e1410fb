//! What qshape reads of a queue file: arrival time, sender, recipients.
//!
//! Postfix counterpart: `qenv()` and `rec_get()` in `auxiliary/qshape/qshape.pl`. The
//! reader is qshape's own, not Postfix's: it takes files whose name is six or more letters
//! and digits and whose mode is 0700 in the bits 0733 (so a force-expired file, 0710, is
//! left out); it wants a size record then the time record, or (an old or maildrop file)
//! a sender first, with the file's mtime as the arrival time; it skips the message content
//! by the size record's length, follows pointer records, and counts a message only when
//! its END record is reached with a time, a sender and at least one recipient; a file
//! that starts with any other record counts as an empty message, as there. Record
//! lengths longer than three length bytes end the file, as there.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;

/// One message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Arrival time, seconds; None for a file the script reads as a message without one.
    pub time: Option<i64>,
    /// The last sender record; None as for the time.
    pub sender: Option<Vec<u8>>,
    /// The recipient records, in order.
    pub recipients: Vec<Vec<u8>>,
}

type Rec = (u8, Vec<u8>);

fn rec_get(h: &mut impl Read) -> Option<Rec> {
    let mut byte = [0u8; 1];
    h.read_exact(&mut byte).ok()?;
    let kind = byte[0];
    // Perl's getc result "0" is false: such a record ends the file there.
    if kind == b'0' {
        return None;
    }
    let mut len: usize = 0;
    let mut shift = 0;
    loop {
        if h.read_exact(&mut byte).is_err() {
            break;
        }
        len |= usize::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 14 {
            return None;
        }
    }
    let mut data = vec![0u8; len];
    if len != 0 && h.read_exact(&mut data).is_err() {
        return None;
    }
    Some((kind, data))
}

/// Perl's numeric value of a string: leading white space, a number, else 0.
fn num(data: &[u8]) -> i64 {
    let text = String::from_utf8_lossy(data);
    let text = text.trim_start();
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(text.len(), |(i, _)| i);
    text[..end].parse().unwrap_or(0)
}

/// Whether the file name is one qshape looks at.
fn name_ok(name: &str) -> bool {
    name.len() >= 6 && name.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Reads the envelope of `path` (named `name`), or None when qshape would skip it.
pub fn qenv(path: &std::path::Path, name: &str) -> Option<Envelope> {
    if !name_ok(name) {
        return None;
    }
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.file_type().is_file() || meta.mode() & 0o733 != 0o700 {
        return None;
    }
    let mut h = BufReader::new(File::open(path).ok()?);
    let (mut sender, mut dlen) = (None, None);
    let (r, d) = rec_get(&mut h).unwrap_or((0, Vec::new()));
    let time: i64 = if r == b'C' {
        dlen = size_field(&d);
        let (r, d) = rec_get(&mut h)?;
        if r != b'T' {
            return None;
        }
        // The first white-space separated field (empty if the record starts with one).
        let first = d.split(|b| b.is_ascii_whitespace()).next().unwrap_or(&[]);
        num(first)
    } else if r == b'S' || r == b'F' {
        let mut d = d;
        if r != b'S' {
            let (r2, d2) = rec_get(&mut h)?;
            if r2 != b'S' {
                return None;
            }
            d = d2;
        }
        sender = Some(d);
        meta.mtime()
    } else {
        // The script's `return undef` is a one-element list, which its caller takes for a
        // message: no time, no sender, no recipients (so Perl warns about the time, and a
        // sender count sees the null sender).
        return Some(Envelope {
            time: None,
            sender: None,
            recipients: Vec::new(),
        });
    };
    let mut recipients = Vec::new();
    while let Some((r, d)) = rec_get(&mut h) {
        if r == b'p' && num(&d) > 0 {
            h.seek(SeekFrom::Start(num(&d) as u64)).ok()?;
        }
        match r {
            b'R' => recipients.push(d),
            b'S' => sender = Some(d),
            b'M' => {
                sender.as_ref()?;
                let next = match dlen {
                    Some(len) => {
                        h.seek(SeekFrom::Current(len)).ok()?;
                        rec_get(&mut h)
                    }
                    None => loop {
                        match rec_get(&mut h) {
                            Some((r, d)) if matches!(r, b'N' | b'L' | b'p') => {
                                if r == b'p' && num(&d) > 0 {
                                    h.seek(SeekFrom::Start(num(&d) as u64)).ok()?;
                                }
                            }
                            other => break other,
                        }
                    },
                };
                if next.map(|(r, _)| r) != Some(b'X') {
                    return None;
                }
            }
            b'E' => {
                if sender.is_none() || recipients.is_empty() {
                    // "last": the file counts for nothing.
                    return None;
                }
                return Some(Envelope {
                    time: Some(time),
                    sender,
                    recipients,
                });
            }
            _ => {}
        }
    }
    None
}

/// The content length from a size record whose data starts with three numbers.
fn size_field(d: &[u8]) -> Option<i64> {
    let text = String::from_utf8_lossy(d);
    let mut fields = text.split_ascii_whitespace();
    let first = fields.next()?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !text.starts_with(|c: char| c.is_ascii_whitespace() || c.is_ascii_digit())
        || !all_digits(first)
    {
        return None;
    }
    // Two more numbers must follow; trailing text after the third is allowed.
    let second = fields.next()?;
    let third = fields.next()?;
    if !all_digits(second) || !third.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    first.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_perl_reads_them() {
        assert_eq!(num(b" 42 x"), 42);
        assert_eq!(num(b"0000000000"), 0);
        assert_eq!(num(b"abc"), 0);
        assert_eq!(size_field(b"      1234        567 1 0 1234"), Some(1234));
        assert_eq!(size_field(b"12 x"), None);
        assert!(name_ok("4F2C81A0B3"));
        assert!(!name_ok("4F2C8"));
        assert!(!name_ok("4F2C81A0B3#FIX"));
    }
}
