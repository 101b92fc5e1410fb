//! Reading the queue as the queue tools do: walking queue directories, checking that a
//! file is complete, reading records with Postfix's transparency options, naming record
//! types, and printing times as `asctime`.
//!
//! Postfix counterparts: `global/mail_scan_dir.c` and `util/scan_dir.c` (a queue directory
//! with its one-character hash subdirectories), `global/mail_open_ok.c` (only complete
//! regular files are shown), `global/record.c` (`rec_get_raw` with `REC_FLAG_FOLLOW_PTR`,
//! `REC_FLAG_SKIP_DTXT`, `REC_FLAG_SEEK_END`, and `rec_goto`) and `global/rec_type.c`
//! (`rec_type_name`). showq, postcat, postsuper and qshape share them.

use crate::record::{RecError, rec_get, rec_type};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;

/// Follow pointer records to their target.
pub const FOLLOW_PTR: u32 = 1 << 0;
/// Skip padding records.
pub const SKIP_DTXT: u32 = 1 << 1;
/// After the END record, go to the end of the file (nothing after it is read).
pub const SEEK_END: u32 = 1 << 2;
/// All three: how Postfix's programs read queue files unless they look at raw records.
pub const DEFAULT: u32 = FOLLOW_PTR | SKIP_DTXT | SEEK_END;

/// How many backward pointer jumps a file may make before it is taken for a loop: one per
/// inserted header is normal, ten thousand is not.
const REVERSE_JUMP_LIMIT: u32 = 10_000;

/// Any input a queue file can come from; standard input is one too (its seeks fail
/// when it is a pipe, as Postfix's do).
pub trait Input: Read + Seek {}
impl<T: Read + Seek> Input for T {}

/// A queue file opened for reading records, with its name for warnings and its offset.
pub struct RecStream<R: Input> {
    inner: R,
    /// The name in warnings (`active/4F2C81A0B3`, `stdin`).
    pub path: String,
    offset: u64,
    saved_offset: u64,
    reverse_count: u32,
}

/// What one read gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Got {
    /// A record of this type.
    Rec(u8),
    /// The end of the input.
    Eof,
    /// A broken record or a failed jump; the warning is logged.
    Error,
}

impl<R: Input> RecStream<R> {
    /// Reads records from `inner`, named `path` in warnings.
    pub fn new(inner: R, path: &str) -> RecStream<R> {
        RecStream {
            inner,
            path: path.to_string(),
            offset: 0,
            saved_offset: 0,
            reverse_count: 0,
        }
    }

    /// The underlying input (to peek at a buffered reader without consuming).
    pub fn inner_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The offset of the next byte to read.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Moves to `pos`.
    pub fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let at = self.inner.seek(pos)?;
        self.offset = at;
        Ok(at)
    }

    /// Reads one byte; None at the end of the input.
    pub fn getc(&mut self) -> Option<u8> {
        let mut byte = [0u8; 1];
        match self.read(&mut byte) {
            Ok(1) => Some(byte[0]),
            _ => None,
        }
    }

    /// Reads one record with the transparency `flags` (Postfix's `rec_get_raw`); a
    /// record longer than `limit` (0: no limit) is an error.
    pub fn get_raw(&mut self, buf: &mut Vec<u8>, limit: usize, flags: u32) -> Got {
        loop {
            let kind = match rec_get(self, buf, limit) {
                Ok(kind) => kind,
                Err(RecError::Eof) => return Got::Eof,
                Err(RecError::Bad(why)) => {
                    log::msg_warn!("{}: {why}", self.path);
                    return Got::Error;
                }
            };
            if log::verbose() > 2 {
                let head: String = String::from_utf8_lossy(buf).chars().take(10).collect();
                log::msg_info!(
                    "rec_get: type {} len {} data {head}",
                    char::from(kind),
                    buf.len()
                );
            }
            if flags == 0 {
                return Got::Rec(kind);
            }
            if kind == rec_type::PTR && flags & FOLLOW_PTR != 0 {
                let target = String::from_utf8_lossy(buf).into_owned();
                if self.goto(&target) {
                    continue;
                }
                return Got::Error;
            }
            if kind == rec_type::DTXT && flags & SKIP_DTXT != 0 {
                continue;
            }
            if kind == rec_type::END
                && flags & SEEK_END != 0
                && let Err(e) = self.seek(SeekFrom::End(0))
            {
                log::msg_warn!(
                    "{}: seek error after reading END record: {}",
                    self.path,
                    sys::os_error(&e)
                );
                return Got::Error;
            }
            return Got::Rec(kind);
        }
    }

    /// Jumps to the offset a pointer record names (Postfix's `rec_goto`); false, with a
    /// warning, for a malformed value, a seek error or too many backward jumps. Offset 0
    /// is a placeholder: reading goes on after it.
    pub fn goto(&mut self, value: &str) -> bool {
        let value = value.trim_start_matches(util::name_value::is_space);
        let Some(offset) = off_cvt(value) else {
            log::msg_warn!("{}: malformed pointer record value: {value}", self.path);
            return false;
        };
        if offset == 0 {
            return true;
        }
        if offset <= self.saved_offset {
            self.reverse_count += 1;
            if self.reverse_count > REVERSE_JUMP_LIMIT {
                log::msg_warn!("{}: too many reverse jump records", self.path);
                return false;
            }
        }
        if let Err(e) = self.seek(SeekFrom::Start(offset)) {
            log::msg_warn!(
                "{}: seek error after pointer record: {}",
                self.path,
                sys::os_error(&e)
            );
            return false;
        }
        self.saved_offset = offset;
        true
    }
}

impl<R: Input> Read for RecStream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.offset += n as u64;
        Ok(n)
    }
}

/// A file offset written in decimal digits only (Postfix's `off_cvt_string`).
fn off_cvt(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The record data as C code sees it: up to the first NUL.
pub fn c_str(buf: &[u8]) -> &[u8] {
    match buf.iter().position(|&b| b == 0) {
        Some(end) => &buf[..end],
        None => buf,
    }
}

/// C's `atol`: leading white space, a sign, digits; 0 when there are none.
pub fn atol(text: &[u8]) -> i64 {
    scan_long(text).map_or(0, |(value, _)| value)
}

/// One `%ld` conversion of `sscanf`: the value and the rest, or None without digits.
pub fn scan_long(text: &[u8]) -> Option<(i64, &[u8])> {
    let mut at = 0;
    while at < text.len() && text[at].is_ascii_whitespace() {
        at += 1;
    }
    let negative = match text.get(at) {
        Some(b'-') => {
            at += 1;
            true
        }
        Some(b'+') => {
            at += 1;
            false
        }
        _ => false,
    };
    let digits = text[at..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut value: i64 = 0;
    for &b in &text[at..at + digits] {
        value = value.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    Some((if negative { -value } else { value }, &text[at + digits..]))
}

/// `text` with each byte that is not printable as `?` (Postfix's `printable()`): ASCII
/// graphic characters and space, and well-formed UTF-8 when `utf8` is on. Unlike
/// `util::printable`, it takes raw bytes, as they come from queue files and sockets.
pub fn printable(text: &[u8], utf8: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for chunk in text.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == ' ' || c.is_ascii_graphic() || (utf8 && !c.is_ascii()) {
                out.push(c);
            } else {
                out.extend(std::iter::repeat_n('?', c.len_utf8()));
            }
        }
        out.extend(std::iter::repeat_n('?', chunk.invalid().len()));
    }
    out
}

/// The name postcat prints for a record type (Postfix's `rec_type_name`). Where two
/// types share a byte (`L`), the first name in Postfix's table wins.
pub fn rec_type_name(kind: u8) -> &'static str {
    match kind {
        b'C' => "message_size",
        b'T' => "message_arrival_time",
        b'c' => "queue_file_create_time",
        b'F' => "sender_fullname",
        b'I' => "content_inspector",
        b'L' => "content_filter",
        b'S' => "sender",
        b'D' => "done_recipient",
        b'/' => "canceled_recipient",
        b'R' => "recipient",
        b'O' => "original_recipient",
        b'W' => "warning_message_time",
        b'A' => "named_attribute",
        b'p' => "pointer_record",
        b'K' => "killed_record",
        b'M' => "message_content",
        b'N' => "regular_text",
        b'w' => "padding",
        b'X' => "extracted_info",
        b'r' => "return_receipt",
        b'e' => "errors_to",
        b'P' => "priority",
        b'V' => "verp_delimiters",
        b'E' => "message_end",
        b'>' => "redirect_to",
        b'f' => "flags",
        b'<' => "dsn_return_flags",
        b'i' => "dsn_envelope_id",
        b'o' => "dsn_original_recipient",
        b'n' => "dsn_notify_flags",
        _ => "unknown_record_type",
    }
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `when` in local time as C's `asctime(localtime(&when))`, with its newline:
/// `Sun Dec  6 09:45:28 2026\n`.
pub fn asctime(when: i64) -> String {
    let lt = sys::localtime(when);
    format!(
        "{} {}{:3} {:02}:{:02}:{:02} {}\n",
        DAYS[lt.weekday as usize % 7],
        MONTHS[lt.month as usize % 12],
        lt.day,
        lt.hour,
        lt.minute,
        lt.second,
        lt.year
    )
}

/// The queue file names under `queue` (relative to the working directory), descending
/// into one-character subdirectories (hashed queues) as Postfix's `mail_scan_dir_next`
/// does, in directory order. A queue that cannot be opened is fatal, as in Postfix.
pub fn scan_queue(queue: &str) -> Vec<String> {
    let mut names = Vec::new();
    scan_dir(queue, true, &mut names);
    names
}

/// The names in `dir` itself, without descending (Postfix's `scan_dir_next`, which
/// showq uses for the maildrop queue).
pub fn scan_flat(dir: &str) -> Vec<String> {
    let mut names = Vec::new();
    scan_dir(dir, false, &mut names);
    names
}

fn scan_dir(dir: &str, recurse: bool, names: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => log::msg_fatal!("open directory {dir}: {}", sys::os_error(&e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if recurse && name.len() == 1 {
            scan_dir(&format!("{dir}/{name}"), true, names);
        } else {
            names.push(name);
        }
    }
}

/// Whether queue file `path` is a complete regular file that may be opened (Postfix's
/// `mail_open_ok`), with its metadata; warns about what should not be in a queue.
pub fn open_ok(path: &str) -> Option<std::fs::Metadata> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) => {
            if e.kind() != io::ErrorKind::NotFound {
                log::msg_warn!("{path}: {}", sys::os_error(&e));
            }
            return None;
        }
    };
    if !meta.file_type().is_file() {
        log::msg_warn!("{path}: uid {}: not a regular file", meta.uid());
        return None;
    }
    if meta.mode() & 0o700 != crate::mail_queue::STAT_READY {
        return None;
    }
    if meta.nlink() > 1 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        if log::verbose() > 0 {
            log::msg_info!(
                "{path}: uid {}: file has {} links",
                meta.uid(),
                meta.nlink()
            );
        } else if meta.ctime() < now - 60 {
            // A rename in progress links a file twice for a moment; only a lasting
            // second link is news.
            log::msg_warn!(
                "{path}: uid {}: file has {} links",
                meta.uid(),
                meta.nlink()
            );
        }
    }
    Some(meta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::rec_put;
    use std::io::Cursor;

    #[test]
    fn pointers_padding_and_end() {
        let mut file = Vec::new();
        rec_put(&mut file, b'S', b"a@b").unwrap();
        let ptr_at = file.len();
        rec_put(&mut file, b'p', b"0000000000").unwrap();
        rec_put(&mut file, b'w', b"pad").unwrap();
        rec_put(&mut file, b'E', b"").unwrap();
        rec_put(&mut file, b'N', b"after the end").unwrap();
        let target = file.len();
        rec_put(&mut file, b'R', b"c@d").unwrap();
        rec_put(&mut file, b'p', format!("{:10}", ptr_at + 12).as_bytes()).unwrap();
        // Point the first pointer at the recipient.
        let ptr = format!("{target:10}");
        file[ptr_at + 2..ptr_at + 12].copy_from_slice(ptr.as_bytes());
        let mut rs = RecStream::new(Cursor::new(file), "test");
        let mut buf = Vec::new();
        assert_eq!(rs.get_raw(&mut buf, 0, DEFAULT), Got::Rec(b'S'));
        assert_eq!(rs.get_raw(&mut buf, 0, DEFAULT), Got::Rec(b'R'));
        assert_eq!(buf, b"c@d");
        // The second pointer goes back to the padding, then the END ends everything.
        assert_eq!(rs.get_raw(&mut buf, 0, DEFAULT), Got::Rec(b'E'));
        assert_eq!(rs.get_raw(&mut buf, 0, DEFAULT), Got::Eof);
        // Raw: every record is seen.
        rs.seek(SeekFrom::Start(0)).unwrap();
        let mut kinds = Vec::new();
        while let Got::Rec(kind) = rs.get_raw(&mut buf, 0, 0) {
            kinds.push(kind);
        }
        assert_eq!(kinds, b"SpwENRp");
    }

    #[test]
    fn malformed_pointer_is_an_error() {
        let mut file = Vec::new();
        rec_put(&mut file, b'p', b"12x").unwrap();
        let mut rs = RecStream::new(Cursor::new(file), "test");
        assert_eq!(rs.get_raw(&mut Vec::new(), 0, DEFAULT), Got::Error);
    }

    #[test]
    fn asctime_is_c_s() {
        let when = 1_770_000_000i64;
        let out = std::process::Command::new("date")
            .arg(format!("--date=@{when}"))
            .arg("+%a %b %e %H:%M:%S %Y")
            .output()
            .unwrap();
        assert_eq!(
            asctime(when),
            format!("{}\n", String::from_utf8(out.stdout).unwrap().trim_end())
        );
    }

    #[test]
    fn c_conversions() {
        assert_eq!(atol(b" 42abc"), 42);
        assert_eq!(atol(b"-7"), -7);
        assert_eq!(atol(b"x"), 0);
        assert_eq!(
            scan_long(b"12 34").map(|(v, r)| (v, r.len())),
            Some((12, 3))
        );
        assert_eq!(c_str(b"ab\0cd"), b"ab");
    }

    #[test]
    fn printable_masks_controls_and_bad_utf8() {
        assert_eq!(printable(b"a\tb", true), "a?b");
        assert_eq!(printable("é".as_bytes(), true), "é");
        assert_eq!(printable("é".as_bytes(), false), "??");
        assert_eq!(printable(b"a\xffb", true), "a?b");
    }

    #[test]
    fn type_names() {
        assert_eq!(rec_type_name(b'L'), "content_filter");
        assert_eq!(rec_type_name(b'<'), "dsn_return_flags");
        assert_eq!(rec_type_name(b'Z'), "unknown_record_type");
    }
}
