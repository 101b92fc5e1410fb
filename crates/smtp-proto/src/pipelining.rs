//! Improper pipelining: input the client sent ahead of a reply it should have waited for.
//!
//! Postfix counterpart: `smtpd_flag_ill_pipelining()` and its two call sites in
//! `smtpd_proto()` (`smtpd/smtpd.c`). RFC 2920 lets an ESMTP client send RSET, MAIL, RCPT
//! and BDAT without waiting, but not the commands that must end a group (EHLO, DATA,
//! VRFY, NOOP...), and an SMTP (HELO or no hello) client may not pipeline at all; nobody
//! may talk before the greeting. When a reply is due and unread input exists, smtpd logs
//! `improper command pipelining after CMD from CLIENT: INPUT` once per session, and sets a
//! flag that `reject_unauth_pipelining` tests. With `smtpd_forbid_unauth_pipelining = yes`
//! it answers [`sync_reply`] and ends the session instead of running the command.
//!
//! "Unread input" is [`Input::pending`](crate::Input::pending) after the session has
//! collected whatever already arrived on the socket without waiting (Postfix peeks at the
//! socket when its buffer is empty). Stand-alone mode (`sendmail -bs`) does not check,
//! nor does a session handed over by postscreen for the pre-greeting test.

use crate::command::{Verb, after};
use crate::notice::Notice;
use crate::reply::Reply;

/// How much of the early input the log line shows.
const SHOWN: usize = 100;

/// `554 5.5.0 Error: SMTP protocol synchronization`.
pub fn sync_reply() -> Reply {
    Reply::new("554 5.5.0 Error: SMTP protocol synchronization")
}

/// The session's improper-pipelining state (Postfix's `SMTPD_FLAG_ILL_PIPELINING`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pipelining {
    flagged: bool,
}

impl Pipelining {
    /// No improper pipelining seen yet.
    pub fn new() -> Pipelining {
        Pipelining::default()
    }

    /// Whether improper pipelining was seen in this session (for
    /// `reject_unauth_pipelining`).
    pub fn flagged(&self) -> bool {
        self.flagged
    }

    /// Before the greeting: any input is early.
    pub fn check_connect(&mut self, pending: &[u8]) -> Option<Notice> {
        self.flag(after::CONNECT, pending)
    }

    /// Before running `verb`: input is early if the command must end a group, or if the
    /// session is not ESMTP (`esmtp`: the protocol is ESMTP, after EHLO).
    pub fn check(&mut self, verb: Verb, esmtp: bool, pending: &[u8]) -> Option<Notice> {
        if esmtp && !verb.ends_pipeline_group() {
            return None;
        }
        self.flag(verb.name(), pending)
    }

    fn flag(&mut self, after: &str, pending: &[u8]) -> Option<Notice> {
        if self.flagged || pending.is_empty() {
            return None;
        }
        self.flagged = true;
        let pending = pending[..pending.len().min(SHOWN)].to_vec();
        Some(Notice::ImproperPipelining {
            after: after.to_string(),
            pending,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flagged_once_where_it_matters() {
        let mut p = Pipelining::new();
        assert_eq!(p.check(Verb::Mail, true, b"RCPT TO:<a@b>\r\n"), None);
        assert_eq!(p.check(Verb::Data, true, b""), None);
        let notice = p.check(Verb::Mail, false, b"RCPT TO:<a@b>\r\n");
        assert!(
            matches!(notice, Some(Notice::ImproperPipelining { ref after, .. }) if after == "MAIL")
        );
        assert!(p.flagged());
        assert_eq!(p.check(Verb::Data, true, b"x"), None);
    }

    #[test]
    fn before_the_greeting() {
        let mut p = Pipelining::new();
        let long = [b'x'; 300];
        match p.check_connect(&long) {
            Some(Notice::ImproperPipelining { after, pending }) => {
                assert_eq!((after.as_str(), pending.len()), ("CONNECT", 100));
            }
            other => panic!("{other:?}"),
        }
    }
}
