//! VRFY: whether it is enabled, its syntax, and the reply.
//!
//! Postfix counterpart: `vrfy_cmd()` in `smtpd/smtpd.c`. Postfix never says whether an
//! address exists: an address that passes the recipient restrictions gets `252 2.0.0` and
//! the argument as the client wrote it. The session calls, in order:
//!
//! 1. [`Vrfy::parse`]: `disable_vrfy_command`, a trailing SMTPUTF8, an argument.
//! 2. *session*: `smtpd_client_recipient_rate_limit`; milters.
//! 3. [`Vrfy::address`]: the address ([`extract_addr`], never strict, `<>` refused).
//! 4. *session*: does the address resolve (as for RCPT; if not,
//!    [`unresolvable_address`](crate::unresolvable_address))?
//! 5. [`smtputf8_check`](crate::smtputf8_check) without the compatibility notice; a
//!    refusal here also ends a mail transaction in progress, as in Postfix.
//! 6. *session*: the recipient restrictions.
//! 7. [`Vrfy::reply`].

use crate::addr::{AddrRules, extract_addr};
use crate::ehlo::EhloMask;
use crate::helo::collapse;
use crate::mail::{bad_address, smtputf8_offered};
use crate::notice::Reject;
use crate::rcpt::BAD_RECIPIENT;
use crate::reply::Reply;
use crate::text::eq_nocase;
use crate::token::Token;

/// A VRFY command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vrfy {
    /// The argument, words joined by a space.
    pub arg: Token,
    /// The client added SMTPUTF8.
    pub smtputf8: bool,
}

impl Vrfy {
    /// Step 1, with `disable_vrfy_command`, `smtputf8_enable` and the discarded EHLO
    /// keywords.
    pub fn parse(
        args: &[Token],
        disable_vrfy_command: bool,
        smtputf8_enable: bool,
        discard: EhloMask,
    ) -> Result<Vrfy, Reject> {
        if disable_vrfy_command {
            return Err(Reject::policy("502 5.5.1 VRFY command is disabled"));
        }
        let mut args = args;
        let mut smtputf8 = false;
        if smtputf8_offered(smtputf8_enable, discard)
            && args.len() > 1
            && args.last().is_some_and(|a| eq_nocase(&a.text, "SMTPUTF8"))
        {
            args = &args[..args.len() - 1];
            smtputf8 = true;
        }
        if args.len() < 2 {
            let hint = if smtputf8_enable { " [SMTPUTF8]" } else { "" };
            return Err(Reject::protocol(format!(
                "501 5.5.4 Syntax: VRFY address{hint}"
            )));
        }
        // Postfix does not look at unclosed brackets or quotes here: the address parser
        // copes with them.
        let arg = Token {
            text: collapse(&args[1..]),
            bad: false,
        };
        Ok(Vrfy { arg, smtputf8 })
    }

    /// Step 3: the address in internal form.
    pub fn address(&self) -> Result<String, Reject> {
        let rules = AddrRules {
            allow_empty: false,
            strict_rfc821: false,
        };
        extract_addr(&self.arg, rules).ok_or_else(|| bad_address(BAD_RECIPIENT, "VRFY", &self.arg))
    }

    /// Step 7: `252 2.0.0 ARG`.
    pub fn reply(&self) -> Reply {
        let mut text = b"252 2.0.0 ".to_vec();
        text.extend_from_slice(&self.arg.text);
        Reply::new(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tokenize;

    #[test]
    fn syntax_and_reply() {
        let vrfy = Vrfy::parse(
            &tokenize(b"VRFY Joe <joe@b> SMTPUTF8"),
            false,
            true,
            EhloMask::NONE,
        )
        .unwrap();
        assert!(vrfy.smtputf8);
        assert_eq!(vrfy.address().unwrap(), "joe@b");
        assert_eq!(vrfy.reply().to_string(), "252 2.0.0 Joe <joe@b>");
        let err = |line: &[u8], off| {
            Vrfy::parse(&tokenize(line), off, true, EhloMask::NONE)
                .unwrap_err()
                .reply
                .to_string()
        };
        assert_eq!(
            err(b"VRFY SMTPUTF8", false),
            "501 5.5.4 Syntax: VRFY address [SMTPUTF8]"
        );
        assert_eq!(err(b"VRFY x", true), "502 5.5.1 VRFY command is disabled");
        let vrfy = Vrfy::parse(&tokenize(b"VRFY <>"), false, true, EhloMask::NONE).unwrap();
        assert_eq!(
            vrfy.address().unwrap_err().reply.to_string(),
            "501 5.1.3 Bad recipient address syntax"
        );
    }
}
