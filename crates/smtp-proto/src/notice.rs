//! What the protocol core asks the session to log, and how a refused command is
//! described.
//!
//! Postfix counterpart: the `msg_warn()`/`msg_info()` calls in `smtpd.c` and
//! `smtpd_chat.c` that are about the protocol (the rest, restrictions and connections, are
//! the session's). Each log line is written in one place, [`Notice::text`], so that its
//! wording is Postfix's byte for byte: tools such as fail2ban match on these lines. The
//! core does not know the client's name or the queue id; the session passes them in a
//! [`LogContext`].

use crate::ehlo::EhloMask;
use crate::reply::Reply;
use crate::text;

/// Who and what a log line is about.
#[derive(Debug, Clone, Copy)]
pub struct LogContext<'a> {
    /// The client as `name[addr]` (or with `:port`), Postfix's `state->namaddr`.
    pub namaddr: &'a str,
    /// The queue id, if a queue file is open (`NOQUEUE` otherwise).
    pub queue_id: Option<&'a str>,
    /// `smtputf8_enable`: UTF-8 in client text is shown as is rather than as `?`.
    pub utf8: bool,
}

/// The severity of a [`Notice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// `msg_info()`.
    Info,
    /// `msg_warn()`: `warning: ...`.
    Warning,
}

/// A log line the protocol core produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A command line over `line_length_limit`; `head` is what was kept of it.
    RequestTooLong {
        /// `line_length_limit`.
        limit: usize,
        /// The kept part of the line.
        head: Vec<u8>,
    },
    /// An address refused by [`extract_addr`](crate::extract_addr) or the resolver check.
    IllegalAddress {
        /// `MAIL`, `RCPT` or `VRFY`.
        command: &'static str,
        /// The argument as sent.
        arg: Vec<u8>,
    },
    /// A NOTIFY= word that is not a NOTIFY keyword.
    UnknownNotify {
        /// The word.
        word: Vec<u8>,
        /// The whole NOTIFY= value.
        value: Vec<u8>,
    },
    /// A line that looks like a mail header or HTTP request, sent as a command.
    NonSmtpCommand {
        /// The line.
        line: Vec<u8>,
    },
    /// Input that arrived ahead of a reply where PIPELINING does not allow it.
    ImproperPipelining {
        /// The command it came after (`CONNECT` before the greeting).
        after: String,
        /// The first 100 bytes of that input.
        pending: Vec<u8>,
    },
    /// EHLO keywords left out of the EHLO reply.
    DiscardingEhlo {
        /// The keywords.
        mask: EhloMask,
    },
    /// A BDAT command that is not `BDAT size [LAST]`.
    MalformedBdat {
        /// The command line.
        line: Vec<u8>,
    },
    /// `BDAT 0` without LAST.
    NullBdat,
    /// A BDAT chunk that would take the message over `message_size_limit`.
    BdatTooBig,
    /// Message content over `message_size_limit`.
    QueueFileTooBig,
    /// A non-ASCII address accepted only because of the `compatibility_level` default
    /// `smtputf8_enable = no`.
    CompatSmtputf8 {
        /// `sender` or `recipient`.
        role: &'static str,
        /// The address (internal form).
        addr: String,
    },
}

impl Notice {
    /// The severity Postfix logs it with.
    pub fn severity(&self) -> Severity {
        match self {
            Notice::ImproperPipelining { .. }
            | Notice::DiscardingEhlo { .. }
            | Notice::CompatSmtputf8 { .. } => Severity::Info,
            _ => Severity::Warning,
        }
    }

    /// The log line, without the severity prefix.
    pub fn text(&self, ctx: &LogContext<'_>) -> String {
        let namaddr = ctx.namaddr;
        let queue_id = ctx.queue_id.unwrap_or("NOQUEUE");
        let shown = |bytes: &[u8]| text::printable_text(bytes, b'?', ctx.utf8);
        match self {
            Notice::RequestTooLong { limit, head } => {
                let head = text::printable(head, b'?', ctx.utf8);
                let head = String::from_utf8_lossy(text::truncated(&head, 30));
                format!("{namaddr}: request longer than {limit}: {head}...")
            }
            Notice::IllegalAddress { command, arg } => {
                format!(
                    "Illegal address syntax from {namaddr} in {command} command: {}",
                    shown(arg)
                )
            }
            Notice::UnknownNotify { word, value } => format!(
                "unknown DSN NOTIFY command value \"{}\" in \"{}\"",
                String::from_utf8_lossy(word),
                String::from_utf8_lossy(value)
            ),
            Notice::NonSmtpCommand { line } => {
                let escaped = text::escape(line);
                let escaped = String::from_utf8_lossy(text::truncated(escaped.as_bytes(), 100));
                format!("non-SMTP command from {namaddr}: {escaped}")
            }
            Notice::ImproperPipelining { after, pending } => format!(
                "improper command pipelining after {after} from {namaddr}: {}",
                text::escape(pending)
            ),
            Notice::DiscardingEhlo { mask } => {
                format!("discarding EHLO keywords: {}", mask.names())
            }
            Notice::MalformedBdat { line } => {
                let line = text::printable(line, b'?', ctx.utf8);
                let line = String::from_utf8_lossy(text::truncated(&line, 100));
                format!("{queue_id}: malformed BDAT command syntax from {namaddr}: {line}")
            }
            Notice::NullBdat => format!("{queue_id}: null BDAT request from {namaddr}"),
            Notice::BdatTooBig => {
                format!("{queue_id}: BDAT request from {namaddr} exceeds message size limit")
            }
            Notice::QueueFileTooBig => format!("{queue_id}: queue file size limit exceeded"),
            Notice::CompatSmtputf8 { role, addr } => format!(
                "using backwards-compatible default setting smtputf8_enable=no to accept non-ASCII {role} address \"{}\" from {namaddr}",
                util::eight_bit::shown(addr)
            ),
        }
    }
}

/// The class of a client error, for `notify_classes` (Postfix's `MAIL_ERROR_*` bits in
/// `state->error_mask`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// A protocol error (`protocol`).
    Protocol,
    /// A policy rejection (`policy`).
    Policy,
    /// Mail refused as too big (`bounce`).
    Bounce,
    /// A local resource problem (`resource`).
    Resource,
    /// A software error (`software`).
    Software,
}

/// A refused command: the reply, the error class it adds, and what to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The reply to send.
    pub reply: Reply,
    /// The error class, if the refusal is one Postfix counts in `error_mask`.
    pub class: Option<ErrorClass>,
    /// A line to log before replying.
    pub notice: Option<Notice>,
    /// Whether smtpd counts the command as failed (toward `smtpd_hard_error_limit` and in
    /// the `disconnect from` statistics). Only an over-limit recipient within
    /// `smtpd_recipient_overshoot_limit` is refused without counting.
    pub counts_as_error: bool,
}

impl Reject {
    /// A protocol error with `reply`.
    pub fn protocol(reply: impl Into<Vec<u8>>) -> Reject {
        Reject {
            class: Some(ErrorClass::Protocol),
            ..Reject::plain(Reply::new(reply))
        }
    }

    /// A policy refusal with `reply`.
    pub fn policy(reply: impl Into<Vec<u8>>) -> Reject {
        Reject {
            class: Some(ErrorClass::Policy),
            ..Reject::plain(Reply::new(reply))
        }
    }

    /// A refusal that Postfix does not classify.
    pub fn plain(reply: Reply) -> Reject {
        Reject {
            reply,
            class: None,
            notice: None,
            counts_as_error: true,
        }
    }

    /// The same refusal, logging `notice` first.
    pub fn with_notice(mut self, notice: Notice) -> Reject {
        self.notice = Some(notice);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: LogContext<'static> = LogContext {
        namaddr: "localhost[127.0.0.1]",
        queue_id: None,
        utf8: true,
    };

    #[test]
    fn texts_as_postfix_logs_them() {
        let notice = Notice::ImproperPipelining {
            after: "EHLO".into(),
            pending: b"MAIL FROM:<a@b>\r\n".to_vec(),
        };
        assert_eq!(notice.severity(), Severity::Info);
        assert_eq!(
            notice.text(&CTX),
            "improper command pipelining after EHLO from localhost[127.0.0.1]: MAIL FROM:<a@b>\\r\\n"
        );
        let notice = Notice::RequestTooLong {
            limit: 2048,
            head: [b'a'; 40].to_vec(),
        };
        assert_eq!(
            notice.text(&CTX),
            "localhost[127.0.0.1]: request longer than 2048: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..."
        );
        assert_eq!(
            Notice::NullBdat.text(&CTX),
            "NOQUEUE: null BDAT request from localhost[127.0.0.1]"
        );
    }
}
