//! Submitting one message: the envelope and content as queue file records, through
//! postdrop into the maildrop queue.
//!
//! Postfix counterparts: `enqueue()`, `output_header()` and `output_text()` in
//! `sendmail/sendmail.c`, and the command part of `global/mail_stream.c`. sendmail runs
//! `$command_directory/postdrop -r`, reads the queue id it announces, writes the records
//! (the rewrite context, full name, sender, trace flags, recipients, the message, the
//! recipients that -t found in the headers), and reads postdrop's verdict. For `-bv` the
//! message is a short probe; for `-bv` and `-v` sendmail then says where the delivery
//! status report will go.

use crate::Request;
use global::cleanup_user::{self, STAT_WRITE};
use global::record::{rec_put, rec_type};
use ipc::{Flavor, mail_attr};
use rfc822::mime::header_opts::{HeaderFlags, HeaderInfo};
use rfc822::mime::{HeaderClass, MimeLimits, MimeOptions, MimeSink, MimeState, RecType};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{ChildStdin, Command, Stdio};

/// Trace flags (Postfix's `DEL_REQ_FLAG_*`): a what-if probe (`-bv`).
pub const USR_VRFY: u32 = 1 << 9;
/// Trace flags: deliver and report (`-v`).
pub const RECORD: u32 = 1 << 10;

/// The record stream to postdrop; a write error is fatal.
struct Drop<'a> {
    out: BufWriter<ChildStdin>,
    who: &'a str,
}

impl Drop<'_> {
    fn put(&mut self, kind: u8, data: &[u8]) {
        if let Err(e) = rec_put(&mut self.out, kind, data) {
            log::msg_fatal!(
                "{}: error writing queue file: {}",
                self.who,
                sys::os_error(&e)
            );
        }
    }

    fn attr(&mut self, name: &str, value: &str) {
        self.put(rec_type::ATTR, format!("{name}={value}").as_bytes());
    }
}

/// Where `-t` puts headers and body records, collecting recipients on the way.
struct Extractor<'a, 'b> {
    drop: &'a mut Drop<'b>,
    line_limit: usize,
    recipients: Vec<String>,
    resent_recipients: Vec<String>,
    resent: bool,
}

impl MimeSink for Extractor<'_, '_> {
    fn header(
        &mut self,
        class: HeaderClass,
        info: Option<&'static HeaderInfo>,
        text: &mut Vec<u8>,
        _offset: u64,
    ) {
        if class == HeaderClass::Primary
            && let Some(info) = info
            && info.flags.contains(HeaderFlags::XRECIP)
            && (!self.resent || info.flags.contains(HeaderFlags::RR))
        {
            let rr = info.flags.contains(HeaderFlags::RR);
            if rr {
                self.resent = true;
            }
            let value = String::from_utf8_lossy(&text[info.name.len() + 1..]).into_owned();
            let tree = rfc822::tok822::parse(&value);
            let list = if rr {
                &mut self.resent_recipients
            } else {
                &mut self.recipients
            };
            list.extend(
                rfc822::tok822::addresses(&tree)
                    .iter()
                    .map(|a| a.internalize()),
            );
        }
        // Back to records: one per line, long lines in pieces.
        for line in text.split(|&b| b == b'\n') {
            let mut rest = line;
            while rest.len() > self.line_limit {
                self.drop.put(rec_type::CONT, &rest[..self.line_limit]);
                rest = &rest[self.line_limit..];
            }
            self.drop.put(rec_type::NORM, rest);
        }
    }

    fn body(&mut self, rec: RecType, text: &[u8], _offset: u64) {
        let kind = if rec == RecType::Cont {
            rec_type::CONT
        } else {
            rec_type::NORM
        };
        self.drop.put(kind, text);
    }
}

/// Where message text goes: straight to postdrop, or through the header parser (-t).
enum Output<'a, 'b> {
    Plain(&'a mut Drop<'b>),
    Mime(MimeState<Extractor<'a, 'b>>),
}

/// How carriage returns at line ends are treated (sendmail_fix_line_endings).
#[derive(PartialEq, Eq)]
enum StripCr {
    Unknown,
    Yes,
    No,
}

/// Reads one line record as Postfix's `rec_streamlf_get`: a line without its newline
/// (`N`), or `limit` bytes of a longer one (`L`); None at the end of input.
fn read_line(input: &mut impl BufRead, buf: &mut Vec<u8>, limit: usize) -> Option<u8> {
    buf.clear();
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => log::msg_fatal!("error reading input: {}", sys::os_error(&e)),
        };
        if available.is_empty() {
            return (!buf.is_empty()).then_some(rec_type::NORM);
        }
        let room = limit - buf.len();
        let take = available.len().min(room);
        if let Some(nl) = available[..take].iter().position(|&b| b == b'\n') {
            buf.extend_from_slice(&available[..nl]);
            input.consume(nl + 1);
            return Some(rec_type::NORM);
        }
        buf.extend_from_slice(&available[..take]);
        input.consume(take);
        if buf.len() >= limit {
            return Some(rec_type::CONT);
        }
    }
}

/// Submits one message; exits on failure with Postfix's status and message.
pub fn enqueue(req: &Request) {
    let who = format!("{}({})", req.sender, req.uid);
    let mut command = format!("{}/postdrop -r", req.command_directory);
    for _ in 0..log::verbose() {
        command.push_str(" -v");
    }
    let mut child = Command::new(format!("{}/postdrop", req.command_directory))
        .arg0("postdrop")
        .arg("-r")
        .args(std::iter::repeat_n("-v", log::verbose() as usize))
        .env_clear()
        .envs(req.export_environment.iter().cloned())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            log::msg_fatal!("{who}: unable to execute {command}: {}", sys::os_error(&e))
        });
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        log::msg_fatal!("{who}: no pipe to postdrop");
    };
    let mut replies = BufReader::new(stdout);
    let announced = matches!(
        ipc::attr::read(&mut replies, Flavor::Null),
        Ok(Some(ref attrs)) if attrs.get_str(mail_attr::PROTO) == Ok(mail_attr::PROTO_POSTDROP)
            && attrs.get_bytes(mail_attr::QUEUEID).is_some()
    );
    if !announced {
        drop(stdin);
        if let Ok(status) = child.wait()
            && !status.success()
        {
            log::msg_warn!(
                "command \"{command}\" exited with status {}",
                status.code().unwrap_or(1)
            );
        }
        log::msg_fatal!("{who}: unable to execute {command}: Success");
    }
    let mut drop = Drop {
        out: BufWriter::new(stdin),
        who: &who,
    };
    let rcpt_count = write_message(req, &mut drop);
    if rcpt_count == 0 {
        log::msg_fatal!(
            "{who}: {}",
            if req.extract_recipients {
                "No recipient addresses found in message header"
            } else {
                "Recipient addresses must be specified on the command line or via the -t option"
            }
        );
    }
    drop.put(rec_type::END, b"");
    if let Err(e) = drop.out.flush() {
        log::msg_fatal!("{who}: error writing queue file: {}", sys::os_error(&e));
    }
    // postdrop's verdict, then its exit.
    let (status, why) = match ipc::attr::read(&mut replies, Flavor::Null) {
        Ok(Some(attrs)) => match (
            attrs.get_int(mail_attr::STATUS),
            attrs.get_bytes(mail_attr::WHY),
        ) {
            // The reason is shown to the user: 8-bit text is shown as well as it can be.
            (Some(status), Some(why)) => (status as u32, String::from_utf8_lossy(why).into_owned()),
            _ => (STAT_WRITE, String::new()),
        },
        _ => (STAT_WRITE, String::new()),
    };
    std::mem::drop(drop);
    let _ = child.wait();
    if status != 0 {
        let why = if why.is_empty() {
            cleanup_user::cleanup_strerror(status).to_string()
        } else {
            why
        };
        log::msg_fatal!("{who}: {why}");
    }
    if req.trace_flags != 0 {
        let mut out = std::io::stdout();
        let _ = writeln!(
            out,
            "Mail Delivery Status Report will be mailed to <{}>.",
            req.sender
        );
        let _ = out.flush();
    }
}

/// Writes the envelope, the message and the extracted recipients; returns how many
/// recipients there are.
fn write_message(req: &Request, drop: &mut Drop<'_>) -> usize {
    let who = drop.who.to_string();
    if let Some(envid) = &req.dsn_envid {
        drop.attr(mail_attr::DSN_ENVID, envid);
    }
    if req.dsn_ret != 0 {
        drop.attr(mail_attr::DSN_RET, &req.dsn_ret.to_string());
    }
    drop.attr(mail_attr::RWR_CONTEXT, &req.rewrite_context);
    if let Some(name) = &req.full_name {
        drop.put(rec_type::FULL, name.as_bytes());
    }
    drop.put(rec_type::FROM, req.sender.as_bytes());
    if req.verp_delims.is_some() && req.sender.is_empty() {
        log::msg_fatal!("{who}: -V option requires non-null sender address");
    }
    if let Some(encoding) = &req.encoding {
        drop.attr(mail_attr::ENCODING, encoding);
    }
    if req.trace_flags != 0 {
        drop.attr(mail_attr::TRACE_FLAGS, &req.trace_flags.to_string());
    }
    if let Some(delims) = &req.verp_delims {
        drop.put(b'V', delims.as_bytes());
    }
    let mut rcpt_count = 0;
    for arg in &req.recipients {
        let tree = rfc822::tok822::parse(arg);
        let addresses = rfc822::tok822::addresses(&tree);
        for addr in &addresses {
            if req.dsn_notify != 0 {
                drop.attr(mail_attr::DSN_NOTIFY, &req.dsn_notify.to_string());
            }
            drop.put(rec_type::RCPT, addr.internalize().as_bytes());
            rcpt_count += 1;
        }
        if addresses.is_empty() {
            drop.put(rec_type::RCPT, b"");
            rcpt_count += 1;
        }
    }
    drop.put(rec_type::MESG, b"");
    if req.trace_flags & USR_VRFY != 0 {
        if req.extract_recipients {
            log::msg_fatal!("{who}: -t option cannot be used with -bv");
        }
        if !req.sender.is_empty() {
            drop.put(rec_type::NORM, format!("From: {}", req.sender).as_bytes());
        }
        drop.put(rec_type::NORM, b"Subject: probe");
        if !req.recipients.is_empty() {
            drop.put(rec_type::CONT, b"To:");
            for (i, rcpt) in req.recipients.iter().enumerate() {
                let comma = if i + 1 < req.recipients.len() {
                    ","
                } else {
                    ""
                };
                drop.put(rec_type::NORM, format!("\t{rcpt}{comma}").as_bytes());
            }
        }
        drop.put(rec_type::XTRA, b"");
        return rcpt_count;
    }
    let extracted = copy_input(req, drop, &mut std::io::stdin().lock());
    drop.put(rec_type::XTRA, b"");
    for rcpt in &extracted {
        if req.dsn_notify != 0 {
            drop.attr(mail_attr::DSN_NOTIFY, &req.dsn_notify.to_string());
        }
        drop.put(rec_type::RCPT, rcpt.as_bytes());
        rcpt_count += 1;
    }
    rcpt_count
}

/// Copies the message from `input`, as records; with -t, returns the recipients found in
/// the headers (the Resent- ones when there are any).
fn copy_input(req: &Request, drop: &mut Drop<'_>, input: &mut impl Read) -> Vec<String> {
    let who = drop.who.to_string();
    let mut strip_cr = match req.fix_line_endings.as_str() {
        "always" => StripCr::Yes,
        "strict" => StripCr::Unknown,
        "never" => StripCr::No,
        other => log::msg_fatal!("invalid sendmail_fix_line_endings value: {other}"),
    };
    let mut output = if req.extract_recipients {
        Output::Mime(MimeState::new(
            MimeOptions::DISABLE_MIME | MimeOptions::REPORT_TRUNC_HEADER,
            MimeLimits {
                header_size_limit: req.header_size_limit,
                ..MimeLimits::default()
            },
            Extractor {
                drop: &mut *drop,
                line_limit: req.line_limit,
                recipients: Vec::new(),
                resent_recipients: Vec::new(),
                resent: false,
            },
        ))
    } else {
        Output::Plain(drop)
    };
    let mut input = BufReader::new(input);
    let mut buf = Vec::new();
    let mut skip_from = true;
    let mut prev = 0u8;
    let extract_error = |errors: rfc822::mime::error::MimeErrors| -> ! {
        log::msg_fatal!(
            "{who}: unable to extract recipients: {}",
            errors.text().unwrap_or("unknown error")
        )
    };
    while let Some(kind) = read_line(&mut input, &mut buf, req.line_limit) {
        let previous = prev;
        prev = kind;
        if strip_cr == StripCr::Unknown && kind == rec_type::NORM {
            strip_cr = if buf.last() == Some(&b'\r') {
                StripCr::Yes
            } else {
                StripCr::No
            };
        }
        // A leading "From " line (mbox style, any number of '>') is not message content.
        if skip_from {
            if kind == rec_type::NORM {
                let start = buf.iter().take_while(|&&b| b == b'>').count();
                if buf[start..].starts_with(b"From ") {
                    continue;
                }
            }
            skip_from = false;
        }
        if strip_cr == StripCr::Yes && kind == rec_type::NORM {
            while buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        if req.dot_ends_input && previous != rec_type::CONT && buf == b"." {
            break;
        }
        match &mut output {
            Output::Mime(state) => {
                let rec = if kind == rec_type::CONT {
                    RecType::Cont
                } else {
                    RecType::Norm
                };
                let errors = state.update(rec, &buf);
                if !errors.is_empty() {
                    extract_error(errors);
                }
            }
            Output::Plain(drop) => drop.put(kind, &buf),
        }
    }
    let Output::Mime(mut state) = output else {
        return Vec::new();
    };
    let errors = state.update(RecType::NonText, b"");
    if !errors.is_empty() {
        extract_error(errors);
    }
    let sink = state.into_sink();
    if sink.resent {
        sink.resent_recipients
    } else {
        sink.recipients
    }
}
