//! XCLIENT and XFORWARD: who may use them, and their `NAME=value` attributes.
//!
//! Postfix counterpart: the common part of `xclient_cmd()` and `xforward_cmd()` in
//! `smtpd/smtpd.c`. Each attribute is `NAME=value` with a non-empty value of at most 255
//! bytes; the value is xtext-decoded if it decodes (Postfix before 2.3 did not encode),
//! and made printable. What each attribute means, and the checks on its value
//! ([`bad_value`], [`bad_name`]), are the session's: attributes are handled one at a time
//! and the first problem decides the reply, so [`attributes`] yields them in order.

use crate::command::Verb;
use crate::notice::Reject;
use crate::text;
use crate::xtext::xtext_decode;

/// The longest attribute value.
const MAX_VALUE: usize = 255;

/// Whether XCLIENT or XFORWARD (`verb`) may run: not inside a mail transaction, with an
/// attribute, from an authorized client (`allowed`: the client matches
/// `smtpd_authorized_xclient_hosts` or `smtpd_authorized_xforward_hosts`).
pub fn xattr_check(
    verb: Verb,
    args: &[crate::Token],
    in_mail: bool,
    allowed: bool,
) -> Result<(), Reject> {
    if in_mail {
        return Err(Reject::protocol(
            "503 5.5.1 Error: MAIL transaction in progress",
        ));
    }
    if args.len() < 2 {
        return Err(Reject::protocol(format!(
            "501 5.5.4 Syntax: {} attribute=value...",
            verb.name()
        )));
    }
    if !allowed {
        return Err(Reject::policy(
            "550 5.7.0 Error: insufficient authorization",
        ));
    }
    Ok(())
}

/// One attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// The name as sent (compare ignoring case).
    pub name: Vec<u8>,
    /// The value, decoded and made printable.
    pub value: String,
}

/// The attributes of `args` (after the command name), in order, each checked for
/// `NAME=value` form and length. `utf8`: `smtputf8_enable`.
pub fn attributes(
    args: &[crate::Token],
    utf8: bool,
) -> impl Iterator<Item = Result<Attr, Reject>> + '_ {
    args.iter().skip(1).map(move |arg| {
        let text = text::c_str(&arg.text);
        let eq = text.iter().position(|&b| b == b'=');
        let (name, raw) = match eq {
            Some(eq) if eq + 1 < text.len() => (&text[..eq], &text[eq + 1..]),
            _ => {
                return Err(Reject::protocol(
                    "501 5.5.4 Error: attribute=value expected",
                ));
            }
        };
        if raw.len() > MAX_VALUE {
            return Err(Reject::protocol(
                "501 5.5.4 Error: attribute value too long",
            ));
        }
        let decoded = xtext_decode(raw);
        let value = text::printable_text(decoded.as_deref().unwrap_or(raw), b'?', utf8);
        Ok(Attr {
            name: name.to_vec(),
            value,
        })
    })
}

/// `501 5.5.4 Bad NAME syntax: VALUE`, for a value the session refuses.
pub fn bad_value(name: &str, value: &str) -> Reject {
    Reject::protocol(format!("501 5.5.4 Bad {name} syntax: {value}"))
}

/// `501 5.5.4 Bad XCLIENT attribute name: NAME` (or XFORWARD).
pub fn bad_name(verb: Verb, name: &[u8]) -> Reject {
    let mut text = format!("501 5.5.4 Bad {} attribute name: ", verb.name()).into_bytes();
    text.extend_from_slice(name);
    Reject::protocol(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::tokenize;

    #[test]
    fn attribute_syntax() {
        let args = tokenize(b"XCLIENT NAME=a+2Eb ADDR=\x01 HELO= PORT=1");
        let attrs: Vec<Result<Attr, String>> = attributes(&args, true)
            .map(|r| r.map_err(|e| e.reply.to_string()))
            .collect();
        assert_eq!(
            attrs[0],
            Ok(Attr {
                name: b"NAME".to_vec(),
                value: "a.b".into()
            })
        );
        assert_eq!(
            attrs[1],
            Ok(Attr {
                name: b"ADDR".to_vec(),
                value: "?".into()
            })
        );
        assert_eq!(
            attrs[2],
            Err("501 5.5.4 Error: attribute=value expected".into())
        );
        let long = format!("XFORWARD IDENT={}", "x".repeat(256));
        let err = attributes(&tokenize(long.as_bytes()), true)
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(
            err.reply.to_string(),
            "501 5.5.4 Error: attribute value too long"
        );
        let err = xattr_check(Verb::Xforward, &tokenize(b"XFORWARD"), false, true).unwrap_err();
        assert_eq!(
            err.reply.to_string(),
            "501 5.5.4 Syntax: XFORWARD attribute=value..."
        );
    }
}
