//! Queue file records: the typed, length-prefixed records of queue files and of the
//! streams between postdrop, pickup, smtpd and cleanup.
//!
//! Postfix counterparts: `global/record.c` and `global/rec_type.h`. A record is one type
//! byte, the data length in 7-bit groups (least significant first, the high bit saying
//! "more follows"), then the data. The record types and the sets allowed in each segment
//! are Postfix's, so queue files are interchangeable with Postfix's.

use ipc::mail_attr;
use std::io::{self, Read, Write};

/// Record types (Postfix's `REC_TYPE_*`).
pub mod rec_type {
    /// First record, written by cleanup: sizes and offsets.
    pub const SIZE: u8 = b'C';
    /// Arrival time, required.
    pub const TIME: u8 = b'T';
    /// Create time.
    pub const CTIME: u8 = b'c';
    /// Full name of the sender.
    pub const FULL: u8 = b'F';
    /// Inspector transport.
    pub const INSP: u8 = b'I';
    /// Content filter transport (the same byte as CONT, in the envelope).
    pub const FILT: u8 = b'L';
    /// Envelope sender, required.
    pub const FROM: u8 = b'S';
    /// Delivered recipient.
    pub const DONE: u8 = b'D';
    /// Recipient still to deliver.
    pub const RCPT: u8 = b'R';
    /// Original recipient.
    pub const ORCP: u8 = b'O';
    /// Canceled recipient.
    pub const DRCP: u8 = b'/';
    /// When the next delay warning is due.
    pub const WARN: u8 = b'W';
    /// A named attribute (`name=value`).
    pub const ATTR: u8 = b'A';
    /// Killed record.
    pub const KILL: u8 = b'K';
    /// Redirect target.
    pub const RDR: u8 = b'>';
    /// Start of the message content.
    pub const MESG: u8 = b'M';
    /// Part of a long line, continued in the next record.
    pub const CONT: u8 = b'L';
    /// A complete line of message content.
    pub const NORM: u8 = b'N';
    /// Padding.
    pub const DTXT: u8 = b'w';
    /// Start of the records extracted from headers.
    pub const XTRA: u8 = b'X';
    /// Return-receipt address, from headers.
    pub const RRTO: u8 = b'r';
    /// Errors-to address, from headers.
    pub const ERTO: u8 = b'e';
    /// Pointer to another record.
    pub const PTR: u8 = b'p';
    /// DSN original recipient.
    pub const DSN_ORCPT: u8 = b'o';
    /// DSN notify flags.
    pub const DSN_NOTIFY: u8 = b'n';
    /// DSN envelope id.
    pub const DSN_ENVID: u8 = b'i';
    /// DSN full/headers.
    pub const DSN_RET: u8 = b'<';
    /// End of the queue file or stream.
    pub const END: u8 = b'E';

    /// The records of the envelope segment; the first one ends it.
    pub const ENVELOPE: &[u8] = b"MCTcFILSDRO/WVA>K<ion";
    /// The records of the content segment; the first one ends it.
    pub const CONTENT: &[u8] = b"XLNw";
    /// The records of the extracted segment; the first one ends it.
    pub const EXTRACT: &[u8] = b"EDRO/PreAFIL>Kon";
}

/// Why a record could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum RecError {
    /// The input ended before a record started.
    Eof,
    /// The record is malformed or too long; the text says how, as Postfix logs it after
    /// the stream's name (`illegal length 5000, record type 78`).
    Bad(String),
}

/// Reads one record into `buf` (cleared first): its type, or why not. A record longer
/// than `limit` bytes (0 = no limit) is skipped and is an error.
pub fn rec_get(input: &mut impl Read, buf: &mut Vec<u8>, limit: usize) -> Result<u8, RecError> {
    buf.clear();
    let mut byte = [0u8; 1];
    let kind = match read_byte(input, &mut byte) {
        Some(b) => b,
        None => return Err(RecError::Eof),
    };
    let mut len: usize = 0;
    let mut shift = 0u32;
    loop {
        if shift >= 32 {
            return Err(RecError::Bad(format!(
                "too many length bits, record type {kind}"
            )));
        }
        let Some(b) = read_byte(input, &mut byte) else {
            return Err(RecError::Bad(format!(
                "unexpected EOF reading length, record type {kind}"
            )));
        };
        len |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    if len > i32::MAX as usize || (limit > 0 && len > limit) {
        let _ = io::copy(&mut input.take(len as u64), &mut io::sink());
        return Err(RecError::Bad(format!(
            "illegal length {len}, record type {kind}"
        )));
    }
    // In steps of at most RECORD_STEP rather than into a buffer sized from the length: a
    // length claimed by the input is not memory to reserve before the data arrives. Not
    // through take().read_to_end(), whose probing and growth cost more than the copy for
    // the short records of message content (a delivery agent reads one per line).
    let mut left = len;
    while left > 0 {
        let start = buf.len();
        buf.resize(start + left.min(RECORD_STEP), 0);
        let got = input.read(&mut buf[start..]);
        buf.truncate(start + *got.as_ref().unwrap_or(&0));
        match got {
            Ok(0) => break,
            Ok(n) => left -= n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    if left > 0 {
        return Err(RecError::Bad(format!(
            "unexpected EOF in data, record type {kind} length {len}"
        )));
    }
    Ok(kind)
}

/// The most of a record's claimed length that rec_get makes room for before reading.
const RECORD_STEP: usize = 64 * 1024;

fn read_byte(input: &mut impl Read, byte: &mut [u8; 1]) -> Option<u8> {
    loop {
        match input.read(byte) {
            Ok(0) => return None,
            Ok(_) => return Some(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        }
    }
}

/// Writes one record.
pub fn rec_put(out: &mut impl Write, kind: u8, data: &[u8]) -> io::Result<()> {
    let mut header = Vec::with_capacity(6);
    header.push(kind);
    let mut rest = data.len();
    loop {
        let mut b = (rest & 0x7f) as u8;
        rest >>= 7;
        if rest != 0 {
            b |= 0x80;
        }
        header.push(b);
        if rest == 0 {
            break;
        }
    }
    out.write_all(&header)?;
    out.write_all(data)
}

/// The record attribute names that map to record types of their own (Postfix's
/// `rec_attr_map`): an `A` record with one of these names is kept when mail is re-queued.
pub fn rec_attr_map(name: &str) -> Option<u8> {
    match name {
        "dsn_orig_rcpt" => Some(rec_type::DSN_ORCPT),
        mail_attr::DSN_NOTIFY => Some(rec_type::DSN_NOTIFY),
        mail_attr::DSN_ENVID => Some(rec_type::DSN_ENVID),
        mail_attr::DSN_RET => Some(rec_type::DSN_RET),
        "create_time" => Some(rec_type::CTIME),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_length_is_not_reserved_before_the_data_arrives() {
        // An 8 MiB record with three bytes behind it: an error, not an 8 MiB allocation.
        let input = [rec_type::NORM, 0x80, 0x80, 0x80, 0x04, b'a', b'b', b'c'];
        let mut buf = Vec::new();
        let got = rec_get(&mut &input[..], &mut buf, 0);
        assert_eq!(
            got,
            Err(RecError::Bad(
                "unexpected EOF in data, record type 78 length 8388608".into()
            ))
        );
        assert!(buf.capacity() < 1 << 20);
    }

    #[test]
    fn round_trip_with_long_lengths() {
        let mut out = Vec::new();
        for len in [0usize, 1, 127, 128, 300, 20_000] {
            rec_put(&mut out, rec_type::NORM, &vec![b'x'; len]).unwrap();
        }
        rec_put(&mut out, rec_type::END, b"").unwrap();
        let mut input = out.as_slice();
        let mut buf = Vec::new();
        for len in [0usize, 1, 127, 128, 300, 20_000] {
            assert_eq!(rec_get(&mut input, &mut buf, 0), Ok(rec_type::NORM));
            assert_eq!(buf.len(), len);
        }
        assert_eq!(rec_get(&mut input, &mut buf, 0), Ok(rec_type::END));
        assert_eq!(rec_get(&mut input, &mut buf, 0), Err(RecError::Eof));
    }

    #[test]
    fn length_encoding_is_postfix_s() {
        let mut out = Vec::new();
        rec_put(&mut out, b'N', &[b'a'; 300]).unwrap();
        // 300 = 0b10_0101100: low seven bits 0x2c with the "more" bit, then 0x02.
        assert_eq!(&out[..3], &[b'N', 0xac, 0x02]);
    }

    #[test]
    fn a_record_longer_than_one_step_is_read_whole_through_short_reads() {
        // A reader that hands out at most 1000 bytes per read, as a socket may.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(self.0.len()).min(1000);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let data: Vec<u8> = (0..RECORD_STEP * 2 + 7).map(|i| i as u8).collect();
        let mut out = Vec::new();
        rec_put(&mut out, b'N', &data).unwrap();
        rec_put(&mut out, b'N', b"next").unwrap();
        let mut input = Trickle(&out);
        let mut buf = b"old contents".to_vec();
        assert_eq!(rec_get(&mut input, &mut buf, 0), Ok(b'N'));
        assert_eq!(buf, data);
        assert_eq!(rec_get(&mut input, &mut buf, 0), Ok(b'N'));
        assert_eq!(buf, b"next");
    }

    #[test]
    fn limits_and_truncation_are_errors() {
        let mut out = Vec::new();
        rec_put(&mut out, b'N', &[b'a'; 600]).unwrap();
        rec_put(&mut out, b'E', b"").unwrap();
        let mut input = out.as_slice();
        let mut buf = Vec::new();
        assert_eq!(
            rec_get(&mut input, &mut buf, 512),
            Err(RecError::Bad("illegal length 600, record type 78".into()))
        );
        // The long record was skipped; the stream goes on.
        assert_eq!(rec_get(&mut input, &mut buf, 512), Ok(b'E'));
        let mut short: &[u8] = &[b'N', 5, b'a'];
        assert_eq!(
            rec_get(&mut short, &mut buf, 0),
            Err(RecError::Bad(
                "unexpected EOF in data, record type 78 length 5".into()
            ))
        );
        let mut no_len: &[u8] = b"N";
        assert_eq!(
            rec_get(&mut no_len, &mut buf, 0),
            Err(RecError::Bad(
                "unexpected EOF reading length, record type 78".into()
            ))
        );
    }
}
