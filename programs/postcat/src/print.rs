//! The printer: one queue file through Postfix's envelope/header/body state machine.
//!
//! Postfix counterpart: `postfix()` in `postcat/postcat.c`. Envelope records print as
//! `name: value`, times as `asctime`; message text prints as it is, the header ending at
//! the first line that is neither a header nor a continuation. The size record's offsets
//! let the printer jump over what it was not asked to print, as Postfix's does (so a
//! broken record in a skipped part goes unseen, as there).

use global::queue_read::{self, Got, RecStream, asctime, atol, c_str, rec_type_name, scan_long};
use global::record::rec_type;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};

/// What to print and how.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    /// `-e`: envelope records.
    pub env: bool,
    /// `-h`: the primary message header.
    pub header: bool,
    /// `-b`: the rest of the message.
    pub body: bool,
    /// `-o`: each record's offset.
    pub offsets: bool,
    /// `-d`: each record's type as a decimal number.
    pub decimal: bool,
    /// `-r`: do not follow pointer records, go on after the END record.
    pub raw: bool,
    /// `-s`: start at this offset (no plausibility check, no first marker).
    pub start: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Env,
    Header,
    Body,
}

fn is_text(kind: u8) -> bool {
    kind == rec_type::CONT || kind == rec_type::NORM
}

/// Prints `file`, named `path` in markers and warnings; `stdin` says the input is
/// standard input, where `-s` reads its way forward instead of seeking.
pub fn postcat(out: &mut impl Write, file: impl Read + Seek, path: &str, flags: &Flags) {
    let verbose = log::verbose() > 0;
    let rec_flags = if verbose { 0 } else { queue_read::DEFAULT };
    let mut rs = RecStream::new(BufReader::new(file), path);
    let is_stdin = path == "stdin";
    // Postfix's ftell on a pipe is -1, which -o prints as the largest unsigned long.
    let seekable = rs.seek(SeekFrom::Current(0)).is_ok();

    if flags.start > 0 {
        if is_stdin {
            for skipped in 0..flags.start {
                if rs.getc().is_none() {
                    log::msg_fatal!("{path}: skip {} bytes failed after {skipped}", flags.start);
                }
            }
        } else if let Err(e) = rs.seek(SeekFrom::Start(flags.start)) {
            log::msg_fatal!("{path}: seek to {}: {}", flags.start, sys::os_error(&e));
        }
    }
    if flags.start == 0
        && let Some(first) = peek(&mut rs)
        && !rec_type::ENVELOPE.contains(&first)
    {
        log::msg_warn!("{path}: input is not a valid queue file");
        return;
    }
    if flags.start == 0 && flags.env {
        let _ = writeln!(out, "*** ENVELOPE RECORDS {path} ***");
    }
    let mut state = State::Env;
    let mut do_print = flags.env;
    let (mut data_offset, mut data_size): (i64, i64) = (-1, -1);
    let mut prev_type = 0u8;
    let mut buf = Vec::new();

    let prefix = |out: &mut dyn Write, offset: u64, kind: u8| {
        if flags.offsets {
            let _ = write!(out, "{offset:9} ");
        }
        if flags.decimal {
            let _ = write!(out, "{kind:3} ");
        }
    };
    let marker = |out: &mut dyn Write, offset: u64, kind: u8, text: &str| {
        prefix(out, offset, kind);
        let _ = writeln!(out, "*** {text} {path} ***");
        let _ = out.flush();
    };
    let seek_to = |rs: &mut RecStream<_>, to: i64| {
        let result = u64::try_from(to)
            .map_err(|_| std::io::Error::from_raw_os_error(sys::libc::EINVAL))
            .and_then(|to| rs.seek(SeekFrom::Start(to)));
        if let Err(e) = result {
            log::msg_fatal!("seek error: {}", sys::os_error(&e));
        }
    };

    loop {
        let offset = if seekable { rs.offset() } else { u64::MAX };
        let mut kind = match rs.get_raw(&mut buf, 0, rec_flags) {
            Got::Rec(kind) => kind,
            Got::Eof => break,
            Got::Error => log::msg_fatal!("record read error"),
        };

        if is_text(kind) {
            // A message that starts with white space is taken for a header here, as in
            // Postfix.
            if state == State::Header
                && (flags.header || flags.body)
                && prev_type != rec_type::CONT
                && rfc822::mime::header_opts::is_header(c_str(&buf)) == 0
                && !matches!(buf.first(), Some(b' ' | b'\t'))
            {
                state = State::Body;
                do_print = flags.body;
                if !do_print && !flags.env {
                    break;
                }
                if !do_print && flags.env && data_offset >= 0 && data_size >= 0 {
                    seek_to(&mut rs, data_offset + data_size);
                }
            }
        } else if kind == rec_type::MESG {
            if state != State::Env {
                log::msg_warn!("{path}: out-of-order message content marker");
            }
            if flags.env {
                marker(out, offset, kind, "MESSAGE CONTENTS");
            }
            if !(flags.header || flags.body) && data_offset >= 0 && data_size >= 0 {
                seek_to(&mut rs, data_offset + data_size);
            }
            state = State::Header;
            do_print = flags.header;
            continue;
        } else if kind == rec_type::XTRA {
            if state != State::Header && state != State::Body {
                log::msg_warn!("{path}: out-of-order extracted segment marker");
            }
            // A header or body line left unterminated gets its newline.
            if do_print && prev_type == rec_type::CONT {
                let _ = out.write_all(b"\n");
            }
            if flags.env {
                marker(out, offset, kind, "HEADER EXTRACTED");
            }
            state = State::Env;
            do_print = flags.env;
            if !do_print {
                break;
            }
            continue;
        } else if kind == rec_type::END {
            if state != State::Env {
                log::msg_warn!("{path}: out-of-order message end marker");
            }
            if flags.env {
                marker(out, offset, kind, "MESSAGE FILE END");
            }
            if flags.raw {
                continue;
            }
            break;
        } else if kind == rec_type::PTR {
            // Pointer records show only with -v: otherwise the reader follows them.
            if do_print {
                print_record(out, &prefix, offset, kind, &buf);
            }
            if !flags.raw && !rs.goto(&String::from_utf8_lossy(c_str(&buf))) {
                log::msg_fatal!("bad pointer record, or input is not seekable");
            }
            continue;
        } else if kind == rec_type::SIZE {
            if do_print {
                print_record(out, &prefix, offset, kind, &buf);
            }
            if data_size >= 0 || data_offset >= 0 {
                log::msg_warn!("file contains multiple size records");
            } else {
                let text = c_str(&buf);
                let first = scan_long(text);
                if let Some((size, _)) = first {
                    data_size = size;
                }
                let second = first.and_then(|(_, rest)| scan_long(rest));
                if let Some((offset, _)) = second {
                    data_offset = offset;
                }
                if second.is_none() || data_offset <= 0 || data_size <= 0 {
                    let shown: String = String::from_utf8_lossy(text).chars().take(100).collect();
                    log::msg_warn!("invalid size record: {shown}");
                }
                if !flags.env {
                    seek_to(&mut rs, data_offset);
                    state = State::Header;
                    do_print = flags.header;
                }
            }
            continue;
        }

        if !do_print {
            continue;
        }
        prefix(out, offset, kind);
        match kind {
            rec_type::TIME | rec_type::WARN => {
                let _ = write!(out, "{}: {}", rec_type_name(kind), asctime(atol(&buf)));
            }
            rec_type::CONT => {
                if state == State::Env {
                    let _ = write!(out, "{}: ", rec_type_name(kind));
                } else if verbose {
                    let _ = write!(out, "unterminated_text: ");
                }
                let _ = out.write_all(&buf);
                if state == State::Env || verbose || flags.offsets {
                    // The line was ended here: the next record does not continue it.
                    kind = 0;
                    let _ = out.write_all(b"\n");
                }
            }
            rec_type::NORM => {
                if verbose {
                    let _ = write!(out, "{}: ", rec_type_name(kind));
                }
                let _ = out.write_all(&buf);
                let _ = out.write_all(b"\n");
            }
            rec_type::DTXT => {
                let _ = write!(out, "{}: ", rec_type_name(kind));
                let _ = out.write_all(&buf);
                let _ = out.write_all(b"\n");
            }
            rec_type::ATTR => {
                let text = String::from_utf8_lossy(c_str(&buf));
                match util::name_value::split(&text) {
                    Err(why) => {
                        let shown: String = text.chars().take(100).collect();
                        log::msg_warn!("{path}: malformed attribute: {why}: {shown}");
                    }
                    Ok(("create_time", value)) => {
                        let _ = write!(out, "create_time: {}", asctime(atol(value.as_bytes())));
                    }
                    Ok((name, value)) => {
                        let _ = writeln!(out, "{}: {name}={value}", rec_type_name(kind));
                    }
                }
            }
            _ => {
                let _ = write!(out, "{}: ", rec_type_name(kind));
                let _ = out.write_all(c_str(&buf));
                let _ = out.write_all(b"\n");
            }
        }
        prev_type = kind;
        // Out before the next record, which may be the broken one.
        let _ = out.flush();
    }
}

/// Prints one record as `name: value` after its prefix.
fn print_record(
    out: &mut dyn Write,
    prefix: &dyn Fn(&mut dyn Write, u64, u8),
    offset: u64,
    kind: u8,
    buf: &[u8],
) {
    prefix(out, offset, kind);
    let _ = write!(out, "{}: ", rec_type_name(kind));
    let _ = out.write_all(c_str(buf));
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// The next byte, left in place.
fn peek<R: Read + Seek>(rs: &mut RecStream<BufReader<R>>) -> Option<u8> {
    rs.inner_mut().fill_buf().ok()?.first().copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use global::record::rec_put;
    use std::io::Cursor;

    /// A queue file as cleanup writes it: size record, envelope, content, extracted
    /// segment, end.
    fn queue_file() -> Vec<u8> {
        let mut head = Vec::new();
        rec_put(&mut head, b'T', b"1770000000 123456").unwrap();
        rec_put(&mut head, b'A', b"create_time=1770000000").unwrap();
        rec_put(&mut head, b'S', b"sender@example.org").unwrap();
        rec_put(&mut head, b'R', b"rcpt@example.com").unwrap();
        rec_put(&mut head, b'M', b"").unwrap();
        let mut content = Vec::new();
        rec_put(&mut content, b'N', b"Subject: test").unwrap();
        rec_put(&mut content, b'L', b"X-Long: part one ").unwrap();
        rec_put(&mut content, b'N', b"part two").unwrap();
        rec_put(&mut content, b'N', b"").unwrap();
        rec_put(&mut content, b'N', b"body line").unwrap();
        let mut tail = Vec::new();
        rec_put(&mut tail, b'X', b"").unwrap();
        rec_put(&mut tail, b'E', b"").unwrap();
        // The size record has fixed-width fields, so its length does not depend on them.
        let size_len = 2 + format!("{:15} {:15} {:15} {:15} {:15}", 0, 0, 0, 0, 0).len();
        let data_offset = size_len + head.len();
        let size = format!(
            "{:15} {:15} {:15} {:15} {:15}",
            content.len(),
            data_offset,
            1,
            0,
            content.len()
        );
        let mut file = Vec::new();
        rec_put(&mut file, b'C', size.as_bytes()).unwrap();
        file.extend(head);
        file.extend(content);
        file.extend(tail);
        file
    }

    fn run(flags: Flags) -> String {
        let mut out = Vec::new();
        postcat(&mut out, Cursor::new(queue_file()), "q/ID", &flags);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn header_only_and_body_only() {
        let header = Flags {
            header: true,
            ..Flags::default()
        };
        assert_eq!(run(header), "Subject: test\nX-Long: part one part two\n");
        let body = Flags {
            body: true,
            ..Flags::default()
        };
        // Postfix remembers the previous record type only for records it prints: with
        // -b alone the second half of a long header line is taken for the body.
        assert_eq!(run(body), "part two\n\nbody line\n");
    }

    #[test]
    fn everything() {
        let all = Flags {
            env: true,
            header: true,
            body: true,
            ..Flags::default()
        };
        let text = run(all);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "*** ENVELOPE RECORDS q/ID ***");
        assert!(lines[1].starts_with("message_size: "), "{text}");
        assert!(lines[2].starts_with("message_arrival_time: "), "{text}");
        assert!(lines[3].starts_with("create_time: "), "{text}");
        assert_eq!(lines[4], "sender: sender@example.org");
        assert_eq!(lines[5], "recipient: rcpt@example.com");
        assert_eq!(lines[6], "*** MESSAGE CONTENTS q/ID ***");
        assert_eq!(lines[7], "Subject: test");
        assert_eq!(lines[8], "X-Long: part one part two");
        assert_eq!(lines[10], "body line");
        assert_eq!(lines[11], "*** HEADER EXTRACTED q/ID ***");
        assert_eq!(lines[12], "*** MESSAGE FILE END q/ID ***");
    }

    #[test]
    fn not_a_queue_file() {
        let mut out = Vec::new();
        postcat(
            &mut out,
            Cursor::new(b"hello".to_vec()),
            "x",
            &Flags {
                env: true,
                ..Flags::default()
            },
        );
        assert!(out.is_empty());
    }
}
