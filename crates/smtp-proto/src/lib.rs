//! The SMTP server protocol as Postfix 3.7's smtpd speaks it, without I/O.
//!
//! Bytes from the client go into an [`Input`]; readers take command lines
//! ([`CommandReader`]), message content after DATA ([`DataReader`]) or BDAT chunks
//! ([`BdatReader`]) out of it; per-command functions check order and syntax and give
//! Postfix's replies ([`Reply`]) or refusals ([`Reject`]: reply, error class, log line).
//! There are no sockets, clocks, tables or configuration files here: the session passes
//! the parameter values in (each function names the parameter it takes) and does the
//! steps that need the outside world (restrictions, the rewriting service, anvil,
//! cleanup, TLS, SASL, milters) where the command modules say they fall.
//!
//! Postfix counterparts: `smtpd/smtpd.c` (the command functions and `smtpd_proto()`),
//! `smtpd/smtpd_chat.c`, `smtpd/smtpd_token.c`, `global/smtp_stream.c`,
//! `global/ehlo_mask.c`, `global/xtext.c`, `global/uxtext.c`, `global/dsn_mask.c`. Replies
//! and their order were checked against Postfix 3.7.11 (`tests/golden/`).
//!
//! # The command loop
//!
//! Postfix's `smtpd_proto()` does, for each command, in this order (steps marked
//! *session* are not here):
//!
//! 1. If the session has made `smtpd_hard_error_limit` errors: `421 4.7.0 MYHOSTNAME Error:
//!    too many errors`, end.
//! 2. [`CommandReader::read`]; log [`CommandLine::too_long`].
//! 3. A bare LF under `reject` ([`CommandLine::bare_lf`], [`BareLf::rejects`]): log
//!    `reject: bare <LF> received`, reply [`bare_lf_reply`], end without QUIT.
//! 4. [`check_utf8`] (an error); *session*: `smtpd_command_filter`; [`Command::from_line`]
//!    (an error).
//! 5. *session*: `smtpd_noop_commands` (`250 2.0.0 Ok`, counted as junk).
//! 6. Unknown command: if [`Command::looks_like_header`] or in `smtpd_forbidden_commands`,
//!    log [`Command::non_smtp_notice`], reply [`Command::non_smtp_reply`], end.
//! 7. *session*: a client refused at connect time gets `503 5.7.0 Error: access denied for
//!    NAMADDR` for anything but QUIT (an error).
//! 8. Unknown command: [`Command::unknown_reply`] (an error).
//! 9. `smtpd_enforce_tls` before STARTTLS: `530 5.7.0 Must issue a STARTTLS command first`
//!    unless [`Verb::allowed_before_tls`] (an error).
//! 10. [`Pipelining::check`]; with `smtpd_forbid_unauth_pipelining`, [`sync_reply`] and end.
//! 11. The command; a refusal counts as an error unless [`Reject::counts_as_error`] says
//!     otherwise; [`Verb::counts_as_junk`] commands past `smtpd_junk_command_limit` count
//!     as errors too. QUIT ends the session; so does any reply that
//!     [`Reply::ends_session`] (421, 521).
//!
//! A reply sent after `smtpd_soft_error_limit` errors is delayed by
//! `smtpd_error_sleep_time`; `soft_bounce` applies [`Reply::soft_bounce`] to every reply.
//! The session logs each [`Notice`] with [`Notice::text`].
//!
//! Client bytes that are not UTF-8 (possible with `smtputf8_enable = no`) stay bytes in
//! tokens and replies; addresses are `String`s that carry such bytes with
//! `util::eight_bit`.

mod addr;
mod bdat;
mod chat;
mod command;
mod content;
mod control;
mod data;
pub mod dsn;
mod ehlo;
mod etrn;
mod helo;
mod input;
mod line;
mod mail;
mod notice;
mod pipelining;
mod rcpt;
mod reply;
pub mod server_reply;
mod smtputf8;
pub mod text;
mod token;
mod transaction;
mod vrfy;
mod xattr;
pub mod xtext;

pub use addr::{AddrRules, extract_addr};
pub use bdat::{BdatCommand, BdatEvent, BdatReader, Discard, bdat_chunk_ok, bdat_queued};
pub use chat::{CommandLine, CommandReader};
pub use command::{Command, Verb, after, check_utf8};
pub use content::{Content, ContentError, bare_lf_reply};
pub use control::{
    AuthState, auth_check, ok_reply, quit_reply, rset_check, starttls_check, starttls_reply,
};
pub use data::{DataEvent, DataReader, data_go_ahead, data_queued};
pub use ehlo::{EhloMask, Features, discard_notice, ehlo_reply};
pub use etrn::{etrn_domain, etrn_helo_check};
pub use helo::{Helo, helo_reply};
pub use input::Input;
pub use line::BareLf;
pub use mail::{MailExtras, MailOptions, unresolvable_address};
pub use notice::{ErrorClass, LogContext, Notice, Reject, Severity};
pub use pipelining::{Pipelining, sync_reply};
pub use rcpt::{Orcpt, RcptOptions, RcptParams};
pub use reply::Reply;
pub use smtputf8::smtputf8_check;
pub use token::{Token, tokenize};
pub use transaction::{BdatState, Body, Transaction};
pub use vrfy::Vrfy;
pub use xattr::{Attr, attributes, bad_name, bad_value, xattr_check};
