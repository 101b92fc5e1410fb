//! Copying a queued message to a mailbox, a file or a command.
//!
//! Postfix counterparts: `global/mail_copy.c`, `global/mark_corrupt.c` and `mbox_dsn`
//! of `global/mbox_open.c`. The message content (the queue file's `N` and `L` records
//! from the content offset to the `X` record) is written with, as the caller asks:
//! the mbox `From sender  date` line, `Return-Path:`, `X-Original-To:` (when there is an
//! original recipient and enable_original_recipient is on) and `Delivered-To:` in front;
//! `>` before body lines that start with `From `, a doubled leading dot (bsmtp), a blank
//! line at the end so that the next From_ line can be found. A message that does not end
//! in a newline gets one. A file is appended to, fsynced, and cut back to its old length
//! when anything failed, so that a mailbox never holds half a message; a corrupt queue
//! file is marked as such (mode u=r) for the queue manager to move aside.

use crate::pipe_command::{Copied, Why, sys_exits_detail};
use crate::record::{RecError, rec_get, rec_type};
use rfc822::quote::{QuoteFlags, quote_822_local};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::os::fd::OwnedFd;

/// Prepend `>` to lines that start with `From ` (`MAIL_COPY_QUOTE`).
pub const MAIL_COPY_QUOTE: u32 = 1 << 0;
/// The destination is a file: append, fsync, truncate on error (`MAIL_COPY_TOFILE`).
pub const MAIL_COPY_TOFILE: u32 = 1 << 1;
/// Prepend the From_ line (`MAIL_COPY_FROM`).
pub const MAIL_COPY_FROM: u32 = 1 << 2;
/// Prepend `Delivered-To:` (`MAIL_COPY_DELIVERED`).
pub const MAIL_COPY_DELIVERED: u32 = 1 << 3;
/// Prepend `Return-Path:` (`MAIL_COPY_RETURN_PATH`).
pub const MAIL_COPY_RETURN_PATH: u32 = 1 << 4;
/// Double a leading dot, for bsmtp (`MAIL_COPY_DOT`).
pub const MAIL_COPY_DOT: u32 = 1 << 5;
/// Append a blank line (`MAIL_COPY_BLANK`).
pub const MAIL_COPY_BLANK: u32 = 1 << 6;
/// Prepend `X-Original-To:` (`MAIL_COPY_ORIG_RCPT`).
pub const MAIL_COPY_ORIG_RCPT: u32 = 1 << 7;
/// What a UNIX-style mailbox gets (`MAIL_COPY_MBOX`).
pub const MAIL_COPY_MBOX: u32 = MAIL_COPY_FROM
    | MAIL_COPY_QUOTE
    | MAIL_COPY_TOFILE
    | MAIL_COPY_DELIVERED
    | MAIL_COPY_RETURN_PATH
    | MAIL_COPY_BLANK
    | MAIL_COPY_ORIG_RCPT;
/// Nothing added (`MAIL_COPY_NONE`).
pub const MAIL_COPY_NONE: u32 = 0;

/// The permission bits of a corrupt queue file (`MAIL_QUEUE_STAT_CORRUPT`).
const MAIL_QUEUE_STAT_CORRUPT: u32 = 0o400;

/// The sender's name in a From_ line for the null sender (`MAIL_ADDR_MAIL_DAEMON`).
pub const MAIL_ADDR_MAIL_DAEMON: &str = "MAILER-DAEMON";

/// Where the message goes.
pub enum Dest<'a> {
    /// A file (a mailbox, a maildir file, a /file/name destination), closed here so that
    /// a failing close (a remote file system) counts as a write error.
    File(File),
    /// A command's input or another stream.
    Stream(&'a mut dyn Write),
}

/// What to copy and what to add.
pub struct CopyArgs<'a> {
    /// The envelope sender (From_ line, Return-Path:).
    pub sender: &'a str,
    /// The original recipient (X-Original-To:).
    pub orig_rcpt: &'a str,
    /// The recipient (Delivered-To:).
    pub delivered: &'a str,
    /// `MAIL_COPY_*`.
    pub flags: u32,
    /// The line ending: `\n`, or `\r\n` for some commands.
    pub eol: &'a str,
    /// enable_original_recipient.
    pub enable_orcpt: bool,
    /// The mail system owner (uid, gid), to mark a corrupt queue file.
    pub owner: (u32, u32),
}

/// Copies the message in queue file `src` (at `path`) from content offset `offset` to
/// `dst` (`mail_copy`).
pub fn mail_copy(args: &CopyArgs, src: &File, path: &str, offset: u64, dst: Dest) -> Copied {
    match dst {
        Dest::Stream(out) => {
            let mut outcome = write_message(args, src, path, offset, out);
            if let Err(e) = out.flush() {
                outcome.write_error.get_or_insert(e);
            }
            outcome.result()
        }
        Dest::File(file) => copy_to_file(args, src, path, offset, file),
    }
}

/// How a copy went.
#[derive(Default)]
struct Outcome {
    /// The queue file is corrupt.
    corrupt: bool,
    /// Reading the queue file failed.
    read_error: Option<io::Error>,
    /// Writing failed.
    write_error: Option<io::Error>,
}

impl Outcome {
    /// The result in the form the callers share with pipe_command: a write error
    /// describes the failure rather than a read error, as in Postfix.
    fn result(self) -> Copied {
        let ioerr = sys_exits_detail(74).1;
        if self.corrupt {
            Copied::Corrupt
        } else if let Some(e) = self.write_error {
            let status = mbox_dsn(e.raw_os_error().unwrap_or(0), "5.3.0");
            Copied::Failed {
                broken_pipe: e.raw_os_error() == Some(sys::libc::EPIPE),
                why: Why::new(
                    status,
                    &ioerr,
                    format!("error writing message: {}", sys::os_error(&e)),
                ),
            }
        } else if let Some(e) = self.read_error {
            let again = matches!(
                e.raw_os_error(),
                Some(sys::libc::EAGAIN | sys::libc::ESTALE)
            );
            Copied::Failed {
                broken_pipe: false,
                why: Why::new(
                    if again { "4.3.0" } else { "5.3.0" },
                    &ioerr,
                    format!("error reading message: {}", sys::os_error(&e)),
                ),
            }
        } else {
            Copied::Ok
        }
    }
}

/// Appends to a file: fsynced, cut back to its old length on any failure, and closed.
fn copy_to_file(args: &CopyArgs, src: &File, path: &str, offset: u64, file: File) -> Copied {
    let to_file = args.flags & MAIL_COPY_TOFILE != 0;
    let mut orig_length = 0;
    if to_file {
        orig_length = match (&file).seek(SeekFrom::End(0)) {
            Ok(length) => length,
            Err(e) => log::msg_fatal!("seek file: {}", sys::os_error(&e)),
        };
    }
    let mut writer = BufWriter::new(&file);
    let mut outcome = write_message(args, src, path, offset, &mut writer);
    let flushed = writer.flush();
    drop(writer);
    if let Err(e) = flushed {
        outcome.write_error.get_or_insert(e);
    }
    if to_file {
        if let Err(e) = file.sync_all() {
            outcome.write_error.get_or_insert(e);
        }
        let failed =
            outcome.corrupt || outcome.read_error.is_some() || outcome.write_error.is_some();
        if failed {
            // With flock-style locks this must happen before the close drops the lock.
            let _ = file.set_len(orig_length);
        }
    }
    if let Err(e) = sys::close(OwnedFd::from(file)) {
        outcome.write_error.get_or_insert(e);
    }
    outcome.result()
}

/// The queue file as read for copying: a read error is remembered, not mistaken for
/// the end of the content.
struct Source<'a> {
    inner: BufReader<&'a File>,
    error: Option<io::Error>,
}

impl io::Read for Source<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let got = self.inner.read(buf);
        if let Err(e) = &got
            && e.kind() != io::ErrorKind::Interrupted
            && self.error.is_none()
        {
            self.error = Some(io::Error::from(e.kind()));
            if let Some(code) = e.raw_os_error() {
                self.error = Some(io::Error::from_raw_os_error(code));
            }
        }
        got
    }
}

/// The added headers and the content, to `out` (not flushed).
fn write_message(
    args: &CopyArgs,
    src: &File,
    path: &str,
    offset: u64,
    out: &mut dyn Write,
) -> Outcome {
    let mut outcome = Outcome::default();
    if let Err(e) = prepend(args, out) {
        outcome.write_error = Some(e);
        return outcome;
    }
    if let Err(e) = (&*src).seek(SeekFrom::Start(offset)) {
        outcome.read_error = Some(e);
        return outcome;
    }
    let mut source = Source {
        inner: BufReader::new(src),
        error: None,
    };
    let mut buf = Vec::new();
    let mut prev = rec_type::NORM;
    let got = loop {
        let kind = match rec_get(&mut source, &mut buf, 0) {
            Ok(kind) if kind == rec_type::NORM || kind == rec_type::CONT => kind,
            other => break other,
        };
        let mut written = Ok(());
        if prev == rec_type::NORM {
            if args.flags & MAIL_COPY_QUOTE != 0 && buf.starts_with(b"From ") {
                written = out.write_all(b">");
            }
            if args.flags & MAIL_COPY_DOT != 0 && buf.first() == Some(&b'.') {
                written = written.and_then(|()| out.write_all(b"."));
            }
        }
        written = written.and_then(|()| out.write_all(&buf));
        if kind == rec_type::NORM {
            written = written.and_then(|()| out.write_all(args.eol.as_bytes()));
        }
        if let Err(e) = written {
            outcome.write_error = Some(e);
            return outcome;
        }
        prev = kind;
    };
    outcome.read_error = source.error.take();
    if got != Ok(rec_type::XTRA) {
        let kind = match got {
            Ok(kind) => i32::from(kind),
            Err(RecError::Eof) => -1,
            Err(RecError::Bad(why)) => {
                log::msg_warn!("{path}: {why}");
                -2
            }
        };
        log::msg_warn!("bad record type: {kind} in message content");
        outcome.corrupt = mark_corrupt(src, path, args.owner);
    }
    let mut tail = Ok(());
    if prev != rec_type::NORM {
        tail = out.write_all(args.eol.as_bytes());
    }
    if args.flags & MAIL_COPY_BLANK != 0 {
        tail = tail.and_then(|()| out.write_all(args.eol.as_bytes()));
    }
    if let Err(e) = tail {
        outcome.write_error = Some(e);
    }
    outcome
}

/// The From_ line and the headers the flags ask for.
fn prepend(args: &CopyArgs, out: &mut dyn Write) -> io::Result<()> {
    let eol = args.eol;
    let quoted = |addr: &str| quote_822_local(addr, QuoteFlags::EIGHT_BIT_CLEAN);
    let to_bytes = |text: String| util::eight_bit::to_bytes(&text).into_owned();
    if args.flags & MAIL_COPY_FROM != 0 {
        let sender = if args.sender.is_empty() {
            MAIL_ADDR_MAIL_DAEMON.to_string()
        } else {
            quoted(args.sender)
        };
        let date = crate::queue_read::asctime(crate::msg_stats::now().0);
        let line = format!("From {sender}  {}{eol}", date.trim_end_matches('\n'));
        out.write_all(&to_bytes(line))?;
    }
    if args.flags & MAIL_COPY_RETURN_PATH != 0 {
        let sender = if args.sender.is_empty() {
            String::new()
        } else {
            quoted(args.sender)
        };
        out.write_all(&to_bytes(format!("Return-Path: <{sender}>{eol}")))?;
    }
    // An empty original recipient almost certainly means that original recipient
    // processing was off.
    if args.flags & MAIL_COPY_ORIG_RCPT != 0 && args.enable_orcpt && !args.orig_rcpt.is_empty() {
        let line = format!("X-Original-To: {}{eol}", quoted(args.orig_rcpt));
        out.write_all(&to_bytes(line))?;
    }
    if args.flags & MAIL_COPY_DELIVERED != 0 {
        let line = format!("Delivered-To: {}{eol}", quoted(args.delivered));
        out.write_all(&to_bytes(line))?;
    }
    Ok(())
}

/// Marks queue file `src` corrupt (mode u=r), as the mail system owner, so that the
/// queue manager moves it aside (`mark_corrupt`): always true.
pub fn mark_corrupt(src: &File, path: &str, owner: (u32, u32)) -> bool {
    use std::os::unix::fs::PermissionsExt;
    log::msg_warn!("corrupted queue file: {path}");
    let saved = (sys::geteuid(), sys::getegid());
    // Only a process that can become root again can become the owner.
    let switch = saved.0 != owner.0 && (saved.0 == 0 || sys::getuid() == 0);
    if switch && let Err(e) = sys::user::set_eugid(owner.0, owner.1) {
        log::msg_fatal!("{e}");
    }
    let mode = std::fs::Permissions::from_mode(MAIL_QUEUE_STAT_CORRUPT);
    if let Err(e) = src.set_permissions(mode) {
        log::msg_fatal!("mark_corrupt: fchmod {path}: {}", sys::os_error(&e));
    }
    if switch && let Err(e) = sys::user::set_eugid(saved.0, saved.1) {
        log::msg_fatal!("{e}");
    }
    true
}

/// The status of a mailbox error: try again for a transient one, "4.3.0" for a full
/// file system, "5.2.2" for a full mailbox, else `def_dsn` (`mbox_dsn`).
pub fn mbox_dsn(err: i32, def_dsn: &str) -> &str {
    use sys::libc::{EAGAIN, EDQUOT, EFBIG, ENOSPC, ESTALE};
    match err {
        EAGAIN | ESTALE => "4.2.0",
        ENOSPC => "4.3.0",
        EDQUOT | EFBIG => "5.2.2",
        _ => def_dsn,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::rec_put;

    /// A queue file whose content starts at the returned offset: `lines` as records
    /// (`Some(true)`: a line, `Some(false)`: a piece of a longer line), then `X` unless
    /// `corrupt`.
    fn queue_file(dir: &std::path::Path, lines: &[(&str, bool)], corrupt: bool) -> (File, u64) {
        let path = dir.join("queuefile");
        let mut data = Vec::new();
        rec_put(&mut data, rec_type::FROM, b"sender@example.com").unwrap();
        rec_put(&mut data, rec_type::MESG, b"").unwrap();
        let offset = data.len() as u64;
        for (text, whole) in lines {
            let kind = if *whole {
                rec_type::NORM
            } else {
                rec_type::CONT
            };
            rec_put(&mut data, kind, text.as_bytes()).unwrap();
        }
        if !corrupt {
            rec_put(&mut data, rec_type::XTRA, b"").unwrap();
            rec_put(&mut data, rec_type::END, b"").unwrap();
        }
        std::fs::write(&path, data).unwrap();
        let file = File::options().read(true).write(true).open(&path).unwrap();
        (file, offset)
    }

    fn args(flags: u32, eol: &'static str) -> CopyArgs<'static> {
        CopyArgs {
            sender: "sender@example.com",
            orig_rcpt: "alias@example.com",
            delivered: "user@example.com",
            flags,
            eol,
            enable_orcpt: true,
            owner: (sys::geteuid(), sys::getegid()),
        }
    }

    const MESSAGE: &[(&str, bool)] = &[
        ("Subject: test", true),
        ("", true),
        ("From the start", true),
        (".dot", true),
        ("a long ", false),
        ("line", true),
        ("no newline at the end", false),
    ];

    /// MESSAGE (in a `corrupt` queue file or not) appended to a mailbox that holds
    /// "old\n": the outcome, the mailbox and the queue file.
    fn append_to_mbox(what: &str, corrupt: bool) -> (Copied, std::path::PathBuf, File) {
        let dir = crate::scratch_dir(what);
        let (src, offset) = queue_file(&dir, MESSAGE, corrupt);
        let mbox = dir.join("mbox");
        std::fs::write(&mbox, "old\n").unwrap();
        let dst = File::options().write(true).open(&mbox).unwrap();
        let args = args(MAIL_COPY_MBOX, "\n");
        let copied = mail_copy(&args, &src, "qf", offset, Dest::File(dst));
        (copied, mbox, src)
    }

    #[test]
    fn a_message_larger_than_the_buffers_is_copied_whole() {
        let dir = crate::scratch_dir("mail-copy-large");
        let lines: Vec<String> = (0..3000)
            .map(|i| format!("line {i} {}", "x".repeat(i % 90)))
            .collect();
        let records: Vec<(&str, bool)> = lines.iter().map(|l| (l.as_str(), true)).collect();
        let (src, offset) = queue_file(&dir, &records, false);
        let expected = format!("Delivered-To: user@example.com\n{}\n", lines.join("\n"));
        // Much more than the 8 kB buffers of the queue file and of the destination.
        assert!(expected.len() > 10 * 8192);
        let out = dir.join("out");
        let dst = File::create(&out).unwrap();
        let args = args(MAIL_COPY_TOFILE | MAIL_COPY_DELIVERED, "\n");
        let copied = mail_copy(&args, &src, "qf", offset, Dest::File(dst));
        assert!(matches!(copied, Copied::Ok), "{copied:?}");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
    }

    #[test]
    fn an_mbox_delivery_appends_with_headers_and_quoting() {
        let (copied, mbox, _) = append_to_mbox("mail-copy-mbox", false);
        assert!(matches!(copied, Copied::Ok), "{copied:?}");
        let text = std::fs::read_to_string(&mbox).unwrap();
        let (first, rest) = text["old\n".len()..].split_once('\n').unwrap();
        assert!(first.starts_with("From sender@example.com  "), "{first}");
        assert_eq!(
            first.len(),
            "From sender@example.com  ".len() + 24,
            "{first}"
        );
        assert_eq!(
            rest,
            "Return-Path: <sender@example.com>\nX-Original-To: alias@example.com\n\
             Delivered-To: user@example.com\nSubject: test\n\n>From the start\n.dot\n\
             a long line\nno newline at the end\n\n"
        );
    }

    #[test]
    fn a_stream_gets_dots_doubled_and_crlf() {
        let dir = crate::scratch_dir("mail-copy-stream");
        let (src, offset) = queue_file(&dir, MESSAGE, false);
        let mut out = Vec::new();
        let flags = MAIL_COPY_DOT | MAIL_COPY_DELIVERED;
        let mut a = args(flags, "\r\n");
        a.sender = "";
        let copied = mail_copy(&a, &src, "qf", offset, Dest::Stream(&mut out));
        assert!(matches!(copied, Copied::Ok), "{copied:?}");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Delivered-To: user@example.com\r\nSubject: test\r\n\r\nFrom the start\r\n\
             ..dot\r\na long line\r\nno newline at the end\r\n"
        );
        let mut out = Vec::new();
        let copied = mail_copy(
            &args(MAIL_COPY_FROM | MAIL_COPY_RETURN_PATH, "\n"),
            &src,
            "qf",
            offset,
            Dest::Stream(&mut out),
        );
        assert!(matches!(copied, Copied::Ok));
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("From sender@example.com  "), "{text}");
        let mut a = args(MAIL_COPY_FROM | MAIL_COPY_RETURN_PATH, "\n");
        a.sender = "";
        let mut out = Vec::new();
        mail_copy(&a, &src, "qf", offset, Dest::Stream(&mut out));
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("From MAILER-DAEMON  "), "{text}");
        assert!(text.contains("\nReturn-Path: <>\n"), "{text}");
    }

    #[test]
    fn a_corrupt_queue_file_leaves_the_mailbox_as_it_was() {
        use std::os::unix::fs::PermissionsExt;
        let (copied, mbox, src) = append_to_mbox("mail-copy-corrupt", true);
        assert!(matches!(copied, Copied::Corrupt), "{copied:?}");
        assert_eq!(std::fs::read_to_string(&mbox).unwrap(), "old\n");
        let mode = src.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o400);
    }

    #[test]
    fn a_write_error_is_described_with_its_status() {
        let dir = crate::scratch_dir("mail-copy-full");
        let (src, offset) = queue_file(&dir, MESSAGE, false);
        let full = File::options().write(true).open("/dev/full").unwrap();
        let copied = mail_copy(
            &args(MAIL_COPY_NONE, "\n"),
            &src,
            "qf",
            offset,
            Dest::File(full),
        );
        match copied {
            Copied::Failed { broken_pipe, why } => {
                assert!(!broken_pipe);
                assert_eq!(why.status, "4.3.0");
                assert_eq!(why.dtext, "input/output error");
                assert_eq!(why.reason, "error writing message: No space left on device");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(mbox_dsn(sys::libc::EDQUOT, "5.3.0"), "5.2.2");
        assert_eq!(mbox_dsn(sys::libc::EACCES, "5.3.0"), "5.3.0");
    }
}
