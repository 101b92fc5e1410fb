//! RCPT TO: order, syntax, the recipient address, NOTIFY= and ORCPT=, and the recipient
//! limit.
//!
//! Postfix counterpart: `rcpt_cmd()` in `smtpd/smtpd.c`. As with MAIL, the session calls
//! the steps in order and does its own in between:
//!
//! 1. [`Transaction::rcpt_start`]: MAIL first, no RCPT after BDAT, `TO:`.
//! 2. *session*: `smtpd_client_recipient_rate_limit` (`450 4.7.1 Error: too many
//!    recipients from ADDR`).
//! 3. [`Transaction::rcpt_recipient`]: the address ([`extract_addr`](crate::extract_addr),
//!    `<>` refused).
//! 4. *session*: does the address resolve? If not,
//!    [`unresolvable_address`](crate::unresolvable_address).
//! 5. [`Transaction::rcpt_params`]: NOTIFY, ORCPT, then `smtpd_recipient_limit`.
//! 6. [`smtputf8_check`](crate::smtputf8_check): `strict_smtputf8`.
//! 7. *session*: recipient restrictions, milters, open the queue file, proxy.
//! 8. [`Transaction::rcpt_accept`]: `250 2.1.5 Ok`, and the `orcpt`/`notify_flags`
//!    attributes for the queue file.

use crate::addr::AddrRules;
use crate::dsn::{self, NotifyError};
use crate::ehlo::EhloMask;
use crate::mail::{dsn_allowed, envelope_address, params, unsupported};
use crate::notice::{ErrorClass, Notice, Reject};
use crate::reply::Reply;
use crate::text::{eq_nocase, strip_prefix_nocase};
use crate::token::Token;
use crate::transaction::Transaction;
use crate::xtext::{uxtext_decode, xtext_decode};

/// The settings RCPT TO depends on.
#[derive(Debug, Clone, Copy)]
pub struct RcptOptions {
    /// The session's discarded EHLO keywords (DSN matters here).
    pub discard: EhloMask,
    /// `strict_rfc821_envelopes`.
    pub strict_rfc821_envelopes: bool,
    /// `smtpd_recipient_limit` (0: none).
    pub recipient_limit: usize,
    /// `smtpd_recipient_overshoot_limit`: how many "too many recipients" replies are not
    /// yet counted as errors.
    pub recipient_overshoot_limit: usize,
}

/// The original recipient of RFC 3461 (ORCPT=TYPE;ADDR), decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orcpt {
    /// The address type as sent (`rfc822`, `utf-8`...).
    pub kind: Vec<u8>,
    /// The address, decoded (xtext, or utf-8-addr-xtext for `utf-8`).
    pub addr: Vec<u8>,
}

impl Orcpt {
    /// The value of the queue file's `orcpt` attribute, `TYPE;ADDR`, cut at a NUL as
    /// Postfix's `%.*s` cuts it.
    pub fn attr_value(&self) -> Vec<u8> {
        let mut value = self.kind.clone();
        value.push(b';');
        value.extend_from_slice(crate::text::c_str(&self.addr));
        value
    }
}

/// What RCPT's parameters say about one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcptParams {
    /// NOTIFY= as a mask of [`dsn::NOTIFY_NEVER`](crate::dsn::NOTIFY_NEVER) etc.; 0 when
    /// not given (and then not written to the queue file).
    pub notify: u32,
    /// ORCPT=, or the address as sent (`rfc822;` and the argument without `<>`), which
    /// Postfix records when the client gave none.
    pub orcpt: Orcpt,
}

/// `501 5.1.3 Bad recipient address syntax`.
pub(crate) const BAD_RECIPIENT: &str = "501 5.1.3 Bad recipient address syntax";

impl Transaction {
    /// Step 1: whether RCPT may come now, and `RCPT TO:<address>` syntax.
    pub fn rcpt_start(&self, args: &[Token]) -> Result<(), Reject> {
        if !self.in_mail() {
            return Err(Reject::protocol("503 5.5.1 Error: need MAIL command"));
        }
        if self.processing_bdat() {
            return Err(Reject::protocol("503 5.5.1 Error: RCPT after BDAT"));
        }
        if args.len() < 3 || !eq_nocase(&args[1].text, "to:") {
            return Err(Reject::protocol("501 5.5.4 Syntax: RCPT TO:<address>"));
        }
        Ok(())
    }

    /// Step 3: the recipient address in internal form.
    pub fn rcpt_recipient(&self, args: &[Token], opts: &RcptOptions) -> Result<String, Reject> {
        let rules = AddrRules {
            allow_empty: false,
            strict_rfc821: opts.strict_rfc821_envelopes,
        };
        envelope_address(args, rules, BAD_RECIPIENT, "RCPT")
    }

    /// Step 5: the parameters, then the recipient limit. A recipient over the limit gets
    /// `452 4.5.3 Error: too many recipients`, which Postfix does not count as an error
    /// for the first `smtpd_recipient_overshoot_limit` times.
    pub fn rcpt_params(
        &mut self,
        args: &[Token],
        opts: &RcptOptions,
    ) -> Result<RcptParams, Reject> {
        let mut notify = 0;
        let mut orcpt = None;
        for arg in params(args) {
            let arg = &arg.text[..];
            if let Some(value) = strip_prefix_nocase(arg, "NOTIFY=") {
                dsn_allowed(opts.discard)?;
                let bad = || Reject::protocol("501 5.5.4 Error: Bad NOTIFY parameter syntax");
                if notify != 0 {
                    return Err(bad());
                }
                notify = dsn::notify_mask(value).map_err(|e| match e {
                    NotifyError::Unknown { word } => bad().with_notice(Notice::UnknownNotify {
                        word,
                        value: value.to_vec(),
                    }),
                    NotifyError::Invalid => bad(),
                })?;
            } else if let Some(value) = strip_prefix_nocase(arg, "ORCPT=") {
                dsn_allowed(opts.discard)?;
                match orcpt_param(value) {
                    Some(o) if orcpt.is_none() => orcpt = Some(o),
                    _ => {
                        return Err(Reject::protocol(
                            "501 5.5.4 Error: Bad ORCPT parameter syntax",
                        ));
                    }
                }
            } else {
                return Err(unsupported(arg));
            }
        }
        if opts.recipient_limit > 0 && self.rcpt_count >= opts.recipient_limit {
            let mut reject = Reject::plain(Reply::new("452 4.5.3 Error: too many recipients"));
            if self.rcpt_overshoot >= opts.recipient_overshoot_limit {
                reject.class = Some(ErrorClass::Policy);
            } else {
                reject.counts_as_error = false;
            }
            self.rcpt_overshoot += 1;
            return Err(reject);
        }
        let orcpt = orcpt.unwrap_or_else(|| {
            let raw = args.get(2).map_or(&[][..], |a| &a.text[..]);
            let addr = match raw {
                [b'<', inner @ .., b'>'] => inner,
                _ => raw,
            };
            Orcpt {
                kind: b"rfc822".to_vec(),
                addr: addr.to_vec(),
            }
        });
        Ok(RcptParams { notify, orcpt })
    }

    /// Step 8: the recipient is accepted. Returns `250 2.1.5 Ok`.
    pub fn rcpt_accept(&mut self, recipient: String) -> Reply {
        self.rcpt_count += 1;
        self.recipient.get_or_insert(recipient);
        Reply::new("250 2.1.5 Ok")
    }
}

/// ORCPT=TYPE;ADDR decoded, `None` when malformed: no `;`, an empty type, or bad xtext.
fn orcpt_param(value: &[u8]) -> Option<Orcpt> {
    let semi = value.iter().position(|&b| b == b';')?;
    let (kind, coded) = (&value[..semi], &value[semi + 1..]);
    if kind.is_empty() {
        return None;
    }
    let addr = if eq_nocase(kind, "utf-8") {
        uxtext_decode(coded)?
    } else {
        xtext_decode(coded)?
    };
    Some(Orcpt {
        kind: kind.to_vec(),
        addr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tokenize;

    const OPTS: RcptOptions = RcptOptions {
        discard: EhloMask::NONE,
        strict_rfc821_envelopes: false,
        recipient_limit: 2,
        recipient_overshoot_limit: 1,
    };

    fn rcpt(txn: &mut Transaction, line: &str) -> Result<RcptParams, Reject> {
        let args = tokenize(line.as_bytes());
        txn.rcpt_start(&args)?;
        let addr = txn.rcpt_recipient(&args, &OPTS)?;
        let params = txn.rcpt_params(&args, &OPTS)?;
        txn.rcpt_accept(addr);
        Ok(params)
    }

    fn err(txn: &mut Transaction, line: &str) -> String {
        rcpt(txn, line).unwrap_err().reply.to_string()
    }

    #[test]
    fn parameters_and_defaults() {
        let mut txn = Transaction {
            sender: Some(String::new()),
            ..Transaction::new()
        };
        let params = rcpt(
            &mut txn,
            "RCPT TO:<a@b> NOTIFY=SUCCESS,FAILURE ORCPT=utf-8;\\x{E9}+41",
        )
        .unwrap();
        assert_eq!(params.notify, dsn::NOTIFY_SUCCESS | dsn::NOTIFY_FAILURE);
        assert_eq!(params.orcpt.attr_value(), "utf-8;é+41".as_bytes());
        let params = rcpt(&mut txn, "RCPT TO:<\"x y\"@b>").unwrap();
        assert_eq!(params.orcpt.attr_value(), b"rfc822;\"x y\"@b");
        assert_eq!((txn.rcpt_count, txn.recipient.as_deref()), (2, Some("a@b")));
    }

    #[test]
    fn refusals() {
        let mut txn = Transaction::new();
        assert_eq!(
            err(&mut txn, "RCPT TO:<a@b>"),
            "503 5.5.1 Error: need MAIL command"
        );
        txn.sender = Some("s@b".into());
        assert_eq!(
            err(&mut txn, "RCPT TO:<>"),
            "501 5.1.3 Bad recipient address syntax"
        );
        assert_eq!(
            err(&mut txn, "RCPT <a@b>"),
            "501 5.5.4 Syntax: RCPT TO:<address>"
        );
        assert_eq!(
            err(&mut txn, "RCPT TO:<a@b> NOTIFY=NEVER,DELAY"),
            "501 5.5.4 Error: Bad NOTIFY parameter syntax"
        );
        assert_eq!(
            err(&mut txn, "RCPT TO:<a@b> ORCPT=rfc822"),
            "501 5.5.4 Error: Bad ORCPT parameter syntax"
        );
        assert_eq!(
            err(&mut txn, "RCPT TO:<a@b> SIZE=1"),
            "555 5.5.4 Unsupported option: SIZE=1"
        );
        let notice = rcpt(&mut txn, "RCPT TO:<a@b> NOTIFY=x").unwrap_err().notice;
        assert_eq!(
            notice,
            Some(Notice::UnknownNotify {
                word: b"x".to_vec(),
                value: b"x".to_vec()
            })
        );
    }

    #[test]
    fn recipient_limit_and_overshoot() {
        let mut txn = Transaction {
            sender: Some(String::new()),
            rcpt_count: 2,
            ..Transaction::new()
        };
        let first = rcpt(&mut txn, "RCPT TO:<a@b>").unwrap_err();
        assert_eq!(
            first.reply.to_string(),
            "452 4.5.3 Error: too many recipients"
        );
        assert!(!first.counts_as_error && first.class.is_none());
        let second = rcpt(&mut txn, "RCPT TO:<a@b>").unwrap_err();
        assert!(second.counts_as_error && second.class == Some(ErrorClass::Policy));
    }
}
