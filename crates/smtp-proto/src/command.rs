//! The commands smtpd knows, and turning a command line into one.
//!
//! Postfix counterpart: `smtpd_cmd_table` and the top of the command loop in
//! `smtpd_proto()` (`smtpd/smtpd.c`). Each command has three properties there: whether it
//! counts toward `smtpd_junk_command_limit` (a command that can be repeated without doing
//! anything), whether it is allowed before STARTTLS when TLS is enforced, and whether it
//! must be the last of a PIPELINING command group (RFC 2920: EHLO, DATA, VRFY, NOOP and
//! the like; smtpd flags input sent ahead of their reply). HELP, EXPN, TURN and `.` are not
//! in Postfix's table: they get `500 5.5.2 Error: command not recognized`.
//!
//! [`Command::parse`] does the checks Postfix does on every line before it looks at the
//! command: valid UTF-8 when `smtputf8_enable` is on, then at least one word. The session
//! does its own steps between them (see the crate documentation for the order).

use crate::notice::Notice;
use crate::reply::Reply;
use crate::text;
use crate::token::{Token, tokenize};

/// An SMTP command that smtpd implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `HELO hostname`.
    Helo,
    /// `EHLO hostname`.
    Ehlo,
    /// XCLIENT attribute=value... (client attributes from a trusted proxy).
    Xclient,
    /// XFORWARD attribute=value... (logging attributes from a trusted content filter).
    Xforward,
    /// STARTTLS.
    Starttls,
    /// `AUTH mechanism [initial-response]`.
    Auth,
    /// `MAIL FROM:<address> [parameters]`.
    Mail,
    /// `RCPT TO:<address> [parameters]`.
    Rcpt,
    /// DATA.
    Data,
    /// `BDAT size [LAST]` (CHUNKING).
    Bdat,
    /// RSET.
    Rset,
    /// `NOOP [anything]`.
    Noop,
    /// `VRFY address [SMTPUTF8]`.
    Vrfy,
    /// `ETRN domain`.
    Etrn,
    /// QUIT.
    Quit,
}

/// Counts toward the junk command limit.
const LIMIT: u8 = 1 << 0;
/// Allowed before STARTTLS.
const PRE_TLS: u8 = 1 << 1;
/// Last in a PIPELINING command group.
const LAST: u8 = 1 << 2;

/// The command table, in Postfix's order (the order matters for nothing but stays
/// recognisable).
const TABLE: [(Verb, &str, u8); 15] = [
    (Verb::Helo, "HELO", LIMIT | PRE_TLS | LAST),
    (Verb::Ehlo, "EHLO", LIMIT | PRE_TLS | LAST),
    (Verb::Xclient, "XCLIENT", PRE_TLS),
    (Verb::Xforward, "XFORWARD", 0),
    (Verb::Starttls, "STARTTLS", PRE_TLS),
    (Verb::Auth, "AUTH", 0),
    (Verb::Mail, "MAIL", 0),
    (Verb::Rcpt, "RCPT", 0),
    (Verb::Data, "DATA", LAST),
    (Verb::Bdat, "BDAT", 0),
    (Verb::Rset, "RSET", LIMIT),
    (Verb::Noop, "NOOP", LIMIT | PRE_TLS | LAST),
    (Verb::Vrfy, "VRFY", LIMIT | LAST),
    (Verb::Etrn, "ETRN", LIMIT),
    (Verb::Quit, "QUIT", PRE_TLS),
];

impl Verb {
    /// The command named `name`, ignoring case.
    pub fn lookup(name: &[u8]) -> Option<Verb> {
        TABLE
            .iter()
            .find(|(_, n, _)| text::eq_nocase(name, n))
            .map(|&(verb, _, _)| verb)
    }

    /// Every command, in table order (for per-command statistics).
    pub fn all() -> impl Iterator<Item = Verb> {
        TABLE.iter().map(|&(verb, _, _)| verb)
    }

    fn flags(self) -> u8 {
        TABLE
            .iter()
            .find(|(v, _, _)| *v == self)
            .map_or(0, |&(_, _, f)| f)
    }

    /// The command's name in upper case, as Postfix logs it (`... after RCPT from ...`,
    /// `ehlo=1 mail=1` in lower case in the disconnect statistics).
    pub fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|(v, _, _)| *v == self)
            .map_or("UNKNOWN", |&(_, n, _)| n)
    }

    /// Whether the command counts toward `smtpd_junk_command_limit`.
    pub fn counts_as_junk(self) -> bool {
        self.flags() & LIMIT != 0
    }

    /// Whether the command is allowed before STARTTLS when TLS is enforced (otherwise:
    /// `530 5.7.0 Must issue a STARTTLS command first`).
    pub fn allowed_before_tls(self) -> bool {
        self.flags() & PRE_TLS != 0
    }

    /// Whether the command must end a PIPELINING command group.
    pub fn ends_pipeline_group(self) -> bool {
        self.flags() & LAST != 0
    }
}

/// What `state->where` says for a session that is not in a command: for log lines such
/// as `lost connection after CONNECT` and `improper command pipelining after CONNECT`.
pub mod after {
    /// Before the first command.
    pub const CONNECT: &str = "CONNECT";
    /// Reading DATA content.
    pub const DATA: &str = "DATA content";
    /// Reading BDAT content.
    pub const BDAT: &str = "BDAT content";
    /// After the end of a message.
    pub const END_OF_MESSAGE: &str = "END-OF-MESSAGE";
    /// After a command that is not in the table.
    pub const UNKNOWN: &str = "UNKNOWN";
}

/// A tokenized command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The words; `args[0]` is the command name as sent. Never empty.
    pub args: Vec<Token>,
    /// The command, if smtpd knows it.
    pub verb: Option<Verb>,
}

impl Command {
    /// Checks and tokenizes a command line: with `smtputf8_enable` the whole line (bytes
    /// after a NUL included) must be UTF-8 (`500 5.5.2 Error: bad UTF-8 syntax`), and it
    /// must hold a word (`500 5.5.2 Error: bad syntax`). Both replies count as errors.
    ///
    /// Between the two checks Postfix applies `smtpd_command_filter`; a session that
    /// supports it calls [`check_utf8`] and [`Command::from_line`] separately.
    pub fn parse(line: &[u8], smtputf8_enable: bool) -> Result<Command, Reply> {
        check_utf8(line, smtputf8_enable)?;
        Command::from_line(line)
    }

    /// Tokenizes a line that passed [`check_utf8`] (and the command filter).
    pub fn from_line(line: &[u8]) -> Result<Command, Reply> {
        let args = tokenize(line);
        let verb = Verb::lookup(&args.first().ok_or_else(bad_syntax)?.text);
        Ok(Command { args, verb })
    }

    /// The command name as sent.
    pub fn name(&self) -> &[u8] {
        self.args.first().map_or(&[], |t| &t.text)
    }

    /// Whether an unknown command is a mail header or HTTP-like line sent to the SMTP port
    /// (Postfix's `is_header()` test on the command name; `smtpd_forbidden_commands` is the
    /// session's list): smtpd then answers [`Command::non_smtp_reply`] and hangs up.
    pub fn looks_like_header(&self) -> bool {
        rfc822::mime::header_opts::is_header(self.name()) > 0
    }

    /// `221 2.7.0 Error: I can break rules, too. Goodbye.`, the reply that ends a session
    /// after a non-SMTP command.
    pub fn non_smtp_reply() -> Reply {
        Reply::new("221 2.7.0 Error: I can break rules, too. Goodbye.")
    }

    /// The warning logged with [`Command::non_smtp_reply`] (`non-SMTP command from ...`).
    pub fn non_smtp_notice(line: &[u8]) -> Notice {
        Notice::NonSmtpCommand {
            line: line.to_vec(),
        }
    }

    /// `500 5.5.2 Error: command not recognized`.
    pub fn unknown_reply() -> Reply {
        Reply::new("500 5.5.2 Error: command not recognized")
    }
}

/// With `smtputf8_enable`, refuses a line that is not UTF-8: `500 5.5.2 Error: bad UTF-8
/// syntax` ("protect internal interfaces against malformed UTF-8").
pub fn check_utf8(line: &[u8], smtputf8_enable: bool) -> Result<(), Reply> {
    if smtputf8_enable && !text::valid_utf8(line) {
        return Err(Reply::new("500 5.5.2 Error: bad UTF-8 syntax"));
    }
    Ok(())
}

fn bad_syntax() -> Reply {
    Reply::new("500 5.5.2 Error: bad syntax")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_ignore_case() {
        assert_eq!(Verb::lookup(b"mAiL"), Some(Verb::Mail));
        assert_eq!(Verb::lookup(b"HELP"), None);
        assert_eq!(Verb::lookup(b"."), None);
        assert!(Verb::Data.ends_pipeline_group() && !Verb::Rcpt.ends_pipeline_group());
        assert!(Verb::Quit.allowed_before_tls() && !Verb::Mail.allowed_before_tls());
        assert!(Verb::Rset.counts_as_junk() && !Verb::Quit.counts_as_junk());
        assert_eq!(Verb::all().count(), 15);
    }

    #[test]
    fn line_checks() {
        let err = |line: &[u8], utf8| Command::parse(line, utf8).unwrap_err().to_string();
        assert_eq!(err(b"NOOP \xff", true), "500 5.5.2 Error: bad UTF-8 syntax");
        assert_eq!(err(b"  ", true), "500 5.5.2 Error: bad syntax");
        assert_eq!(err(b"\0NOOP", true), "500 5.5.2 Error: bad syntax");
        let cmd = Command::parse(b"NOOP \xff", false).unwrap();
        assert_eq!(cmd.verb, Some(Verb::Noop));
    }

    #[test]
    fn non_smtp_commands() {
        let cmd = Command::parse(b"Subject: hi", true).unwrap();
        assert!(cmd.verb.is_none() && cmd.looks_like_header());
        assert!(
            !Command::parse(b"GET / HTTP/1.0", true)
                .unwrap()
                .looks_like_header()
        );
        let ctx = crate::LogContext {
            namaddr: "h[1.2.3.4]",
            queue_id: None,
            utf8: true,
        };
        assert_eq!(
            Command::non_smtp_notice(b"Subject: \x01").text(&ctx),
            "non-SMTP command from h[1.2.3.4]: Subject: \\001"
        );
    }
}
