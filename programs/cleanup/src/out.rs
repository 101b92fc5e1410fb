//! Writing queue file records: one record, a long text line as several, a header as lines.
//!
//! Postfix counterpart: `cleanup/cleanup_out.c`. Nothing more is written once the message
//! has failed in a way that stops processing (see [`State::out_ok`]); a write error is
//! logged once per record and remembered in the status (`queue file size limit exceeded`
//! when the file would outgrow `message_size_limit`, else `write queue file: ...`).
//!
//! The queue file is reached through [`QueueSink`] so that the record logic can be tested
//! on memory; [`Output`] counts the bytes written, which gives the offsets of the content
//! segment (Postfix asks `vstream_ftell`) and enforces the size limit that Postfix has the
//! kernel enforce (`RLIMIT_FSIZE`, hence the `EFBIG` error).

use crate::state::State;
use global::cleanup_user::{STAT_SIZE, STAT_WRITE};
use global::record::{rec_put, rec_type};
use std::io::{self, Write};

/// Where queue file records go: a file that can also be patched in place, and read back.
pub trait QueueSink: Write {
    /// Overwrites `data` at `offset` from the start.
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()>;

    /// What was written so far, from the start (after what could be written out).
    fn read_back(&mut self) -> io::Result<Box<dyn io::BufRead + '_>>;
}

impl QueueSink for global::mail_queue::QueueFile {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        global::mail_queue::QueueFile::write_at(self, offset, data)
    }

    fn read_back(&mut self) -> io::Result<Box<dyn io::BufRead + '_>> {
        // A buffer that cannot be written out is lost: the rest is still worth reading
        // (Postfix purges it the same way).
        let _ = self.flush();
        let file = std::fs::File::open(self.path())?;
        Ok(Box::new(io::BufReader::new(file)))
    }
}

/// For tests: a file in memory.
impl QueueSink for io::Cursor<Vec<u8>> {
    fn read_back(&mut self) -> io::Result<Box<dyn io::BufRead + '_>> {
        Ok(Box::new(io::Cursor::new(self.get_ref().as_slice())))
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(io::Error::other)?;
        let buf = self.get_mut();
        let end = start + data.len();
        if buf.len() < end {
            buf.resize(end, 0);
        }
        buf[start..end].copy_from_slice(data);
        Ok(())
    }
}

/// The queue file being written, with its size so far.
pub struct Output<W: QueueSink> {
    sink: W,
    offset: u64,
    size_limit: u64,
}

impl<W: QueueSink> Output<W> {
    /// Output to `sink`, which may grow to `size_limit` bytes (0: no limit).
    pub fn new(sink: W, size_limit: u64) -> Output<W> {
        Output {
            sink,
            offset: 0,
            size_limit,
        }
    }

    /// Bytes written so far: the offset of the next record.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Writes one record as it is.
    pub fn put(&mut self, kind: u8, data: &[u8]) -> io::Result<()> {
        let size = record_size(data.len());
        if self.size_limit > 0 && self.offset + size > self.size_limit {
            return Err(io::Error::from_raw_os_error(sys::libc::EFBIG));
        }
        rec_put(&mut self.sink, kind, data)?;
        self.offset += size;
        Ok(())
    }

    /// Overwrites `data` at `offset`.
    pub fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.sink.write_at(offset, data)
    }

    /// The records written so far, to read from the start.
    pub fn read_back(&mut self) -> io::Result<Box<dyn io::BufRead + '_>> {
        self.sink.read_back()
    }

    /// The sink, to finish or abandon.
    pub fn into_inner(self) -> W {
        self.sink
    }
}

/// How many bytes a record with `len` bytes of data takes: the type, the length in 7-bit
/// groups, the data.
pub fn record_size(len: usize) -> u64 {
    let mut groups = 1;
    let mut rest = len >> 7;
    while rest != 0 {
        groups += 1;
        rest >>= 7;
    }
    (1 + groups + len) as u64
}

fn is_text(kind: u8) -> bool {
    kind == rec_type::NORM || kind == rec_type::CONT
}

impl<W: QueueSink> State<'_, W> {
    /// Writes one record (`cleanup_out`); a text record longer than `line_length_limit`
    /// becomes `L` records and a last one of the given type.
    pub fn out(&mut self, kind: u8, data: &[u8]) {
        if !self.out_ok() {
            return;
        }
        if log::verbose() > 0 && !is_text(kind) {
            log::msg_info!(
                "cleanup_out: {} {}",
                kind as char,
                String::from_utf8_lossy(data)
            );
        }
        let limit = self.settings.line_limit.max(1);
        let mut rest = data;
        let written = loop {
            if rest.len() > limit && is_text(kind) {
                if let Err(e) = self.dst.put(rec_type::CONT, &rest[..limit]) {
                    break Err(e);
                }
                rest = &rest[limit..];
            } else {
                break self.dst.put(kind, rest);
            }
        };
        if let Err(e) = written {
            self.write_error(&e);
        }
    }

    /// Records a failed write of the queue file, as Postfix words it.
    pub fn write_error(&mut self, error: &io::Error) {
        if error.raw_os_error() == Some(sys::libc::EFBIG) {
            log::msg_warn!("{}: queue file size limit exceeded", self.queue_id);
            self.errs |= STAT_SIZE;
        } else {
            log::msg_warn!(
                "{}: write queue file: {}",
                self.queue_id,
                sys::os_error(error)
            );
            self.errs |= STAT_WRITE;
        }
    }

    /// Writes a string record.
    pub fn out_str(&mut self, kind: u8, text: &str) {
        self.out(kind, text.as_bytes());
    }

    /// Writes a header of one or more lines joined by `\n` (`cleanup_out_header`): each
    /// line one record, a continuation line without leading white space gets a tab (the
    /// address rewriting joined such lines). A header longer than `header_size_limit` is
    /// cut at the last line that fits, or at the limit itself if that would lose more than
    /// a tenth of it. A non-ASCII header marks the message as needing SMTPUTF8.
    pub fn out_header(&mut self, header: &[u8]) {
        let header = match header.iter().position(|&b| b == 0) {
            Some(nul) => &header[..nul],
            None => header,
        };
        if self.settings.smtputf8_enable && !header.is_empty() && !header.is_ascii() {
            self.note_8bit_header();
        }
        let limit = self.settings.header_limit;
        let mut start = 0;
        let mut first = true;
        while start <= header.len() {
            let end = header[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(header.len(), |i| start + i);
            let mut line = &header[start..end];
            let mut last = end == header.len();
            if end > limit {
                if start as f64 > 0.9 * limit as f64 {
                    break;
                }
                line = &header[start..limit.max(start)];
                last = true;
            }
            if first || matches!(line.first(), Some(b' ' | b'\t')) {
                self.out(rec_type::NORM, line);
            } else {
                let mut folded = Vec::with_capacity(line.len() + 1);
                folded.push(b'\t');
                folded.extend_from_slice(line);
                self.out(rec_type::NORM, &folded);
            }
            first = false;
            if last {
                break;
            }
            start = end + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_sizes_match_the_encoding() {
        for len in [0usize, 1, 127, 128, 16383, 16384, 70000] {
            let mut out = Vec::new();
            rec_put(&mut out, b'N', &vec![b'x'; len]).unwrap();
            assert_eq!(record_size(len), out.len() as u64, "{len}");
        }
    }

    #[test]
    fn the_size_limit_is_efbig() {
        let mut out = Output::new(io::Cursor::new(Vec::new()), 10);
        out.put(b'N', b"12345678").unwrap();
        let e = out.put(b'N', b"").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(sys::libc::EFBIG));
        assert_eq!(out.offset(), 10);
    }
}
