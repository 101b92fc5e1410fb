//! MAIL FROM: order, syntax, the sender address and the ESMTP parameters.
//!
//! Postfix counterpart: `mail_cmd()` in `smtpd/smtpd.c`. Postfix interleaves its own steps
//! with steps that need the outside world; the session calls the steps here in this
//! order, doing its own where they fall:
//!
//! 1. [`Transaction::mail_start`]: HELO required, nested MAIL, MAIL after BDAT, `FROM:`.
//! 2. *session*: `smtpd_client_message_rate_limit` (`450 4.7.1 Error: too much mail from
//!    ADDR`).
//! 3. [`Transaction::mail_sender`]: the address ([`extract_addr`]).
//! 4. *session*: does the address resolve (`smtpd_check_addr()`, not in stand-alone
//!    mode)? If not, [`unresolvable_address`].
//! 5. [`Transaction::mail_params`]: SIZE, BODY, SMTPUTF8, AUTH, XVERP, RET, ENVID, the
//!    `message_size_limit` check and XVERP's non-null sender.
//! 6. *session*: the sender restrictions, milters, the address-verification sender.
//! 7. [`smtputf8_check`](crate::smtputf8_check): `strict_smtputf8`.
//! 8. *session*: queue space; open the queue file unless delayed until the first RCPT.
//! 9. [`Transaction::mail_accept`]: `250 2.1.0 Ok`.
//!
//! Parameters are checked in the order the client sent them and the first bad one
//! decides the reply, so a refusal can come after some parameters already changed the
//! transaction: a SIZE= before a bad RET= is remembered, as in Postfix.

use crate::addr::{AddrRules, extract_addr};
use crate::command::Verb;
use crate::dsn;
use crate::ehlo::EhloMask;
use crate::notice::{Notice, Reject};
use crate::rcpt::BAD_RECIPIENT;
use crate::reply::Reply;
use crate::text::{self, eq_nocase, strip_prefix_nocase};
use crate::token::Token;
use crate::transaction::{Body, Transaction};

/// The settings MAIL FROM depends on.
#[derive(Debug, Clone, Copy)]
pub struct MailOptions<'a> {
    /// `smtpd_helo_required`.
    pub helo_required: bool,
    /// `smtputf8_enable`.
    pub smtputf8_enable: bool,
    /// The session's discarded EHLO keywords (SMTPUTF8 and DSN matter here).
    pub discard: EhloMask,
    /// `strict_rfc821_envelopes`.
    pub strict_rfc821_envelopes: bool,
    /// The client matches `smtpd_authorized_verp_clients`.
    pub verp_allowed: bool,
    /// `default_verp_delimiters`, for a bare XVERP.
    pub verp_delims: &'a str,
    /// `verp_delimiter_filter`, the characters XVERP=xy may use.
    pub verp_filter: &'a str,
    /// `message_size_limit` (0: none).
    pub message_size_limit: u64,
}

/// What MAIL FROM's parameters set that only counts once the command is accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailExtras {
    /// XVERP delimiters.
    pub verp_delims: Option<String>,
    /// ENVID=, decoded.
    pub envid: Option<Vec<u8>>,
}

/// `501 5.1.7 Bad sender address syntax`.
pub(crate) const BAD_SENDER: &str = "501 5.1.7 Bad sender address syntax";

impl Transaction {
    /// Step 1: whether MAIL may come now, and `MAIL FROM:<address>` syntax. Like Postfix,
    /// this first forgets SMTPUTF8, BODY= and RET= of the transaction, even when it then
    /// refuses the command.
    pub fn mail_start(
        &mut self,
        helo_seen: bool,
        args: &[Token],
        opts: &MailOptions<'_>,
    ) -> Result<(), Reject> {
        self.smtputf8 = false;
        self.body = None;
        self.dsn_ret = None;
        if opts.helo_required && !helo_seen {
            return Err(Reject::policy("503 5.5.1 Error: send HELO/EHLO first"));
        }
        if self.in_mail() {
            return Err(Reject::protocol("503 5.5.1 Error: nested MAIL command"));
        }
        if self.processing_bdat() {
            return Err(Reject::protocol("503 5.5.1 Error: MAIL after BDAT"));
        }
        if args.len() < 3 || !eq_nocase(&args[1].text, "from:") {
            return Err(Reject::protocol("501 5.5.4 Syntax: MAIL FROM:<address>"));
        }
        Ok(())
    }

    /// Step 3: the sender address in internal form. Also notes an SMTPUTF8 parameter, which
    /// the address check of step 4 needs ([`Transaction::smtputf8`]).
    pub fn mail_sender(
        &mut self,
        args: &[Token],
        opts: &MailOptions<'_>,
    ) -> Result<String, Reject> {
        if smtputf8_offered(opts.smtputf8_enable, opts.discard) {
            self.smtputf8 = params(args).iter().any(|a| eq_nocase(&a.text, "SMTPUTF8"));
        }
        let rules = AddrRules {
            allow_empty: true,
            strict_rfc821: opts.strict_rfc821_envelopes,
        };
        envelope_address(args, rules, BAD_SENDER, "MAIL")
    }

    /// Step 5: the parameters, then `message_size_limit` against SIZE= (the SIZE= of
    /// this command, or one left from a refused MAIL), then XVERP's need for a sender.
    pub fn mail_params(
        &mut self,
        sender: &str,
        args: &[Token],
        opts: &MailOptions<'_>,
    ) -> Result<MailExtras, Reject> {
        let mut extras = MailExtras::default();
        for arg in params(args) {
            self.mail_param(&arg.text, opts, &mut extras)?;
        }
        if opts.message_size_limit > 0 && self.msg_size > opts.message_size_limit {
            return Err(Reject::policy("552 5.3.4 Message size exceeds fixed limit"));
        }
        if extras.verp_delims.is_some() && sender.is_empty() {
            return Err(Reject::plain(Reply::new(
                "503 5.5.4 Error: XVERP requires non-null sender",
            )));
        }
        Ok(extras)
    }

    /// One parameter.
    fn mail_param(
        &mut self,
        arg: &[u8],
        opts: &MailOptions<'_>,
        extras: &mut MailExtras,
    ) -> Result<(), Reject> {
        if eq_nocase(arg, "BODY=8BITMIME") {
            self.body = Some(Body::EightBitMime);
        } else if eq_nocase(arg, "BODY=7BIT") {
            self.body = Some(Body::SevenBit);
        } else if let Some(size) = strip_prefix_nocase(arg, "SIZE=") {
            if !text::alldig(size) {
                return Err(Reject::protocol("501 5.5.4 Bad message size syntax"));
            }
            self.msg_size = text::off_cvt(size).ok_or_else(|| {
                Reject::policy("552 5.3.4 Message size exceeds file system imposed limit")
            })?;
        } else if smtputf8_offered(opts.smtputf8_enable, opts.discard) && eq_nocase(arg, "SMTPUTF8")
        {
            // Noted by mail_sender().
        } else if let Some(addr) = strip_prefix_nocase(arg, "AUTH=") {
            if self.sasl_sender.is_some() {
                return Err(Reject::protocol("503 5.5.4 Error: multiple AUTH= options"));
            }
            if addr != b"<>" {
                self.sasl_sender = Some(text::printable_text(addr, b'?', opts.smtputf8_enable));
            }
        } else if let Some(delims) = verp_param(arg).filter(|_| opts.verp_allowed) {
            let delims = match delims {
                None => opts.verp_delims.to_string(),
                Some(d) if verp_delims_ok(d, opts.verp_filter) => {
                    String::from_utf8_lossy(d).into_owned()
                }
                Some(_) => {
                    let text = format!(
                        "501 5.5.4 Error: XVERP needs two characters from {}",
                        opts.verp_filter
                    );
                    return Err(Reject::protocol(text));
                }
            };
            extras.verp_delims = Some(delims);
        } else if let Some(ret) = strip_prefix_nocase(arg, "RET=") {
            dsn_allowed(opts.discard)?;
            if self.dsn_ret.is_some() {
                return Err(Reject::protocol("501 5.5.4 Bad RET parameter syntax"));
            }
            self.dsn_ret = Some(
                dsn::ret_code(ret)
                    .ok_or_else(|| Reject::protocol("501 5.5.4 Bad RET parameter syntax"))?,
            );
        } else if let Some(envid) = strip_prefix_nocase(arg, "ENVID=") {
            dsn_allowed(opts.discard)?;
            let decoded = crate::xtext::xtext_decode(envid).filter(|d| text::allprint(d));
            match decoded {
                Some(d) if extras.envid.is_none() => extras.envid = Some(text::c_str(&d).to_vec()),
                _ => return Err(Reject::protocol("501 5.5.4 Bad ENVID parameter syntax")),
            }
        } else {
            return Err(unsupported(arg));
        }
        Ok(())
    }

    /// Step 9: the transaction starts. Returns `250 2.1.0 Ok`.
    pub fn mail_accept(&mut self, sender: String, extras: MailExtras) -> Reply {
        self.sender = Some(sender);
        self.verp_delims = extras.verp_delims;
        self.dsn_envid = extras.envid;
        Reply::new("250 2.1.0 Ok")
    }
}

/// The parameters after `MAIL FROM:<address>` or `RCPT TO:<address>`.
pub(crate) fn params(args: &[Token]) -> &[Token] {
    args.get(3..).unwrap_or_default()
}

/// Whether SMTPUTF8 is offered to this client (on, and not discarded).
pub(crate) fn smtputf8_offered(smtputf8_enable: bool, discard: EhloMask) -> bool {
    smtputf8_enable && !discard.contains(EhloMask::SMTPUTF8)
}

/// `501 5.7.1 DSN support is disabled` when DSN is discarded for this client.
pub(crate) fn dsn_allowed(discard: EhloMask) -> Result<(), Reject> {
    if discard.contains(EhloMask::DSN) {
        return Err(Reject::protocol("501 5.7.1 DSN support is disabled"));
    }
    Ok(())
}

/// `555 5.5.4 Unsupported option: ARG`, the argument echoed as sent.
pub(crate) fn unsupported(arg: &[u8]) -> Reject {
    let mut text = b"555 5.5.4 Unsupported option: ".to_vec();
    text.extend_from_slice(text::c_str(arg));
    Reject::protocol(text)
}

/// The address of `MAIL FROM:<address>` or `RCPT TO:<address>` (`args[2]`) by `rules`, or
/// `reply` when its brackets or quotes are not closed, or, with the `Illegal address
/// syntax` warning for `command`, when the address is illegal.
pub(crate) fn envelope_address(
    args: &[Token],
    rules: AddrRules,
    reply: &str,
    command: &'static str,
) -> Result<String, Reject> {
    match args.get(2) {
        Some(arg) if !arg.bad => {
            extract_addr(arg, rules).ok_or_else(|| bad_address(reply, command, arg))
        }
        _ => Err(Reject::protocol(reply)),
    }
}

/// The refusal of an address that [`extract_addr`] took but that the session's resolver
/// check (`smtpd_check_addr()`) failed: the same reply and warning as a syntax error.
/// `verb` is MAIL, RCPT or VRFY; `arg` is the address argument as sent (for VRFY,
/// [`Vrfy::arg`](crate::Vrfy::arg)).
pub fn unresolvable_address(verb: Verb, arg: &Token) -> Reject {
    match verb {
        Verb::Mail => bad_address(BAD_SENDER, "MAIL", arg),
        Verb::Vrfy => bad_address(BAD_RECIPIENT, "VRFY", arg),
        _ => bad_address(BAD_RECIPIENT, "RCPT", arg),
    }
}

/// A refused address: `reply` and the `Illegal address syntax` warning.
pub(crate) fn bad_address(reply: &str, command: &'static str, arg: &Token) -> Reject {
    Reject::protocol(reply).with_notice(Notice::IllegalAddress {
        command,
        arg: arg.text.clone(),
    })
}

/// The delimiters of an XVERP parameter: `Some(None)` for `XVERP`, `Some(Some(xy))` for
/// `XVERP=xy`, `None` for another parameter.
fn verp_param(arg: &[u8]) -> Option<Option<&[u8]>> {
    let rest = strip_prefix_nocase(arg, "XVERP")?;
    match rest {
        [] => Some(None),
        [b'=', delims @ ..] => Some(Some(delims)),
        _ => None,
    }
}

/// Whether `delims` are two characters from `filter` (`verp_delims_verify()`).
fn verp_delims_ok(delims: &[u8], filter: &str) -> bool {
    delims.len() == 2 && delims.iter().all(|b| filter.as_bytes().contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tokenize;

    const OPTS: MailOptions<'static> = MailOptions {
        helo_required: false,
        smtputf8_enable: true,
        discard: EhloMask::NONE,
        strict_rfc821_envelopes: false,
        verp_allowed: true,
        verp_delims: "+=",
        verp_filter: "-=+",
        message_size_limit: 1000,
    };

    fn mail(txn: &mut Transaction, line: &str) -> Result<Reply, String> {
        let args = tokenize(line.as_bytes());
        let run = |txn: &mut Transaction| -> Result<Reply, Reject> {
            txn.mail_start(true, &args, &OPTS)?;
            let sender = txn.mail_sender(&args, &OPTS)?;
            let extras = txn.mail_params(&sender, &args, &OPTS)?;
            Ok(txn.mail_accept(sender, extras))
        };
        run(txn).map_err(|r| r.reply.to_string())
    }

    #[test]
    fn parameters() {
        let mut txn = Transaction::new();
        let reply = mail(
            &mut txn,
            "MAIL FROM:<a@b> SIZE=10 BODY=8BITMIME RET=HDRS ENVID=x+2By XVERP=-=",
        )
        .unwrap();
        assert_eq!(reply.to_string(), "250 2.1.0 Ok");
        assert_eq!(txn.msg_size, 10);
        assert_eq!(txn.body, Some(Body::EightBitMime));
        assert_eq!(txn.dsn_ret, Some(dsn::RET_HDRS));
        assert_eq!(txn.dsn_envid.as_deref(), Some(&b"x+y"[..]));
        assert_eq!(txn.verp_delims.as_deref(), Some("-="));
        assert_eq!(
            mail(&mut txn, "MAIL FROM:<a@b>").unwrap_err(),
            "503 5.5.1 Error: nested MAIL command"
        );
    }

    #[test]
    fn refusals() {
        let mut txn = Transaction::new();
        let mut err = |line: &str| mail(&mut txn, line).unwrap_err();
        assert_eq!(
            err("MAIL FROM:<a@b> BODY=BINARYMIME"),
            "555 5.5.4 Unsupported option: BODY=BINARYMIME"
        );
        assert_eq!(
            err("MAIL FROM:<a@b> SIZE="),
            "501 5.5.4 Bad message size syntax"
        );
        assert_eq!(
            err("MAIL TO:<a@b>"),
            "501 5.5.4 Syntax: MAIL FROM:<address>"
        );
        assert_eq!(err("MAIL FROM:<a@b"), "501 5.1.7 Bad sender address syntax");
        assert_eq!(
            err("MAIL FROM:<> RET=FULL RET=HDRS"),
            "501 5.5.4 Bad RET parameter syntax"
        );
        assert_eq!(
            err("MAIL FROM:<> ENVID=a+7f"),
            "501 5.5.4 Bad ENVID parameter syntax"
        );
        assert_eq!(
            err("MAIL FROM:<> XVERP"),
            "503 5.5.4 Error: XVERP requires non-null sender"
        );
        assert_eq!(
            err("MAIL FROM:<a@b> XVERP=ab"),
            "501 5.5.4 Error: XVERP needs two characters from -=+"
        );
    }

    #[test]
    fn refused_size_and_auth_linger() {
        let mut txn = Transaction::new();
        assert_eq!(
            mail(&mut txn, "MAIL FROM:<> SIZE=2000").unwrap_err(),
            "552 5.3.4 Message size exceeds fixed limit"
        );
        assert_eq!(
            mail(&mut txn, "MAIL FROM:<>").unwrap_err(),
            "552 5.3.4 Message size exceeds fixed limit"
        );
        assert_eq!(
            mail(&mut txn, "MAIL FROM:<> SIZE=1 AUTH=x RET=x").unwrap_err(),
            "501 5.5.4 Bad RET parameter syntax"
        );
        assert_eq!(
            mail(&mut txn, "MAIL FROM:<> AUTH=<>").unwrap_err(),
            "503 5.5.4 Error: multiple AUTH= options"
        );
        txn.reset();
        assert!(mail(&mut txn, "MAIL FROM:<> AUTH=<> AUTH=<>").is_ok());
    }
}
