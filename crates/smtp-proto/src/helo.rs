//! HELO and EHLO: the argument, the name smtpd keeps, and the HELO reply.
//!
//! Postfix counterpart: the syntax half of `helo_cmd()` and `ehlo_cmd()` in
//! `smtpd/smtpd.c` (the EHLO keywords are in [`ehlo`](crate::ehlo)). Words after the first
//! are joined with single spaces, so `HELO my host` is the name `my host`, which
//! `smtpd_helo_restrictions` see as is. The name kept for logs and the `Received:` header
//! has non-printable characters and the characters ` <>()\";@` replaced by `?`.
//! Neither HELO nor EHLO reply carries an enhanced status code (RFC 2034 exempts them).
//! Both end any mail transaction, as RSET does.

use crate::command::Verb;
use crate::notice::Reject;
use crate::reply::Reply;
use crate::text;
use crate::token::Token;

/// Characters that must not reach a log line or header from a HELO name.
const NEUTER_CHARACTERS: &[u8] = b" <>()\\\";@";

/// A HELO or EHLO argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helo {
    /// The argument as sent, words joined by a space: what the HELO restrictions check.
    pub arg: Vec<u8>,
    /// The name smtpd keeps (`helo=<...>` in logs).
    pub name: String,
}

impl Helo {
    /// The argument of HELO or EHLO (`verb`), or `501 Syntax: HELO hostname` (`EHLO`)
    /// without one. `utf8` is `smtputf8_enable`, which lets UTF-8 into the kept name.
    pub fn parse(verb: Verb, args: &[Token], utf8: bool) -> Result<Helo, Reject> {
        if args.len() < 2 {
            return Err(Reject::protocol(format!(
                "501 Syntax: {} hostname",
                verb.name()
            )));
        }
        let arg = collapse(&args[1..]);
        let mut name = text::printable(&arg, b'?', utf8);
        text::neuter(&mut name, NEUTER_CHARACTERS, b'?');
        let name = String::from_utf8_lossy(&name).into_owned();
        Ok(Helo { arg, name })
    }
}

/// `250 MYHOSTNAME`, the HELO reply.
pub fn helo_reply(myhostname: &str) -> Reply {
    Reply::new(format!("250 {myhostname}"))
}

/// Words joined by single spaces (`collapse_args()`).
pub(crate) fn collapse(words: &[Token]) -> Vec<u8> {
    words
        .iter()
        .map(|t| t.text.as_slice())
        .collect::<Vec<_>>()
        .join(&b' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tokenize;

    #[test]
    fn names() {
        let helo = Helo::parse(Verb::Helo, &tokenize(b"HELO  my  <host>\x01"), true).unwrap();
        assert_eq!(helo.arg, b"my <host>\x01");
        assert_eq!(helo.name, "my??host??");
        let err = Helo::parse(Verb::Ehlo, &tokenize(b"EHLO"), true).unwrap_err();
        assert_eq!(err.reply.to_string(), "501 Syntax: EHLO hostname");
    }
}
