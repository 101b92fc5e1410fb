//! The command's argument vector with `${sender}`, `${recipient}` and the other macros
//! expanded; an argument with a per-recipient macro is repeated once per recipient.
//!
//! Postfix counterpart: `pipe/pipe.c` (`parse_callback`, `morph_recipient`,
//! `expand_argv`, and the `dict_update()` calls of `deliver_message`).

use crate::attr::Flags;
use std::collections::HashMap;

/// The names that take their value from each recipient.
const PER_RECIPIENT: [&str; 6] = [
    "recipient",
    "original_recipient",
    "user",
    "extension",
    "mailbox",
    "domain",
];

/// The names that take their value from the request.
const PER_MESSAGE: [&str; 13] = [
    "nexthop",
    "sender",
    "size",
    "client_address",
    "client_hostname",
    "client_port",
    "client_protocol",
    "client_helo",
    "sasl_method",
    "sasl_username",
    "sasl_sender",
    "queue_id",
    "envid",
];

/// One recipient's addresses.
pub struct Rcpt<'a> {
    /// The recipient.
    pub address: &'a str,
    /// The original recipient.
    pub orig_addr: &'a str,
}

/// Splits a local part at recipient_delimiter: (user, extension) when it may be split.
pub type SplitLocal<'a> = &'a dyn Fn(&str) -> Option<(String, String)>;

/// The expanded argument vector; Err when an argument names an unknown macro (Postfix's
/// warning text, logged by the caller, which defers the mail).
pub fn expand(
    service: &str,
    config_dir: &str,
    command: &[String],
    message: &HashMap<&'static str, String>,
    rcpts: &[Rcpt<'_>],
    flags: Flags,
    split: SplitLocal<'_>,
) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for arg in command {
        // What mac_parse hands pipe's callback: the whole inside of `${...}`, so that
        // `${name?text}` is an unknown name here, as in Postfix.
        let (pieces, error) = util::mac_expand::pieces(arg);
        if let Some(error) = error {
            return Err(error);
        }
        let mut per_rcpt = false;
        for piece in &pieces {
            let util::mac_expand::Piece::Name(name) = piece else {
                continue;
            };
            if PER_RECIPIENT.contains(&name.as_str()) {
                per_rcpt = true;
            } else if !PER_MESSAGE.contains(&name.as_str()) {
                return Err(format!(
                    "file {config_dir}/master.cf: service {service}: unknown macro name: \"{name}\""
                ));
            }
        }
        if !per_rcpt {
            out.push(eval(arg, |name| message.get(name).cloned()));
            continue;
        }
        for rcpt in rcpts {
            let value = |name: &str| -> Option<String> {
                let folded = morph(rcpt.address, flags, false);
                let (local, domain) = split_at_right(&folded);
                Some(match name {
                    "recipient" => morph(rcpt.address, flags, flags.quote_local),
                    "original_recipient" => morph(rcpt.orig_addr, flags, flags.quote_local),
                    "user" => split(local).map_or(local.to_string(), |(user, _)| user),
                    "extension" => split(local).map(|(_, ext)| ext).unwrap_or_default(),
                    "mailbox" => local.to_string(),
                    "domain" => domain.to_string(),
                    other => return message.get(other).cloned(),
                })
            };
            out.push(eval(arg, value));
        }
    }
    Ok(out)
}

/// Expands one argument, without recursion (`dict_eval(..., NO)`); unknown values are
/// empty.
fn eval(arg: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    util::mac_expand::expand(arg, util::mac_expand::Flags::default(), |name, _| {
        Some(lookup(name).unwrap_or_default())
    })
    .map(|e| e.text)
    .unwrap_or_else(|_| arg.to_string())
}

/// The address as the flags want it: the local part quoted (`q`, only where Postfix
/// quotes), then the local part (`u`) and the domain (`h`) folded to lower case.
fn morph(address: &str, flags: Flags, quote: bool) -> String {
    let address = if quote {
        rfc822::quote::quote_822_local(address, rfc822::quote::QuoteFlags::DEFAULT)
    } else {
        address.to_string()
    };
    fold_addr(&address, flags.fold_user, flags.fold_host)
}

/// Postfix's `fold_addr()`: lower-cases the local part, the domain, or both.
pub fn fold_addr(address: &str, user: bool, host: bool) -> String {
    match (user, host, address.rfind('@')) {
        (true, true, _) => dict::casefold(address),
        (false, true, Some(at)) => {
            format!("{}{}", &address[..at], dict::casefold(&address[at..]))
        }
        (true, false, Some(at)) => {
            format!("{}{}", dict::casefold(&address[..at]), &address[at..])
        }
        (true, false, None) => dict::casefold(address),
        _ => address.to_string(),
    }
}

/// (local part, domain) split at the last `@`; the domain is empty without one.
fn split_at_right(address: &str) -> (&str, &str) {
    match address.rfind('@') {
        Some(at) => (&address[..at], &address[at + 1..]),
        None => {
            log::msg_warn!("no @ in recipient address: {address}");
            (address, "")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(local: &str) -> Option<(String, String)> {
        let (user, ext) = local.split_once('+')?;
        (!user.is_empty() && !ext.is_empty()).then(|| (user.to_string(), ext.to_string()))
    }

    fn run(command: &[&str], flags: Flags) -> Result<Vec<String>, String> {
        let message: HashMap<&'static str, String> = [
            ("sender", "s@example.org".to_string()),
            ("nexthop", "Example.COM".to_string()),
            ("size", "123".to_string()),
            ("queue_id", "4ABC".to_string()),
        ]
        .into_iter()
        .collect();
        let rcpts = [
            Rcpt {
                address: "Joe+Ext@Example.COM",
                orig_addr: "joe+ext@example.com",
            },
            Rcpt {
                address: "ann smith@example.com",
                orig_addr: "alias@example.com",
            },
        ];
        let command: Vec<String> = command.iter().map(|s| s.to_string()).collect();
        expand(
            "filter",
            "/etc/postfix",
            &command,
            &message,
            &rcpts,
            flags,
            &split,
        )
    }

    #[test]
    fn per_recipient_arguments_repeat() {
        let argv = run(
            &[
                "/bin/f",
                "-f",
                "${sender}",
                "-s",
                "$size",
                "--",
                "${recipient}",
            ],
            Flags::default(),
        )
        .unwrap();
        assert_eq!(
            argv,
            vec![
                "/bin/f",
                "-f",
                "s@example.org",
                "-s",
                "123",
                "--",
                "Joe+Ext@Example.COM",
                "ann smith@example.com"
            ]
        );
    }

    #[test]
    fn user_extension_mailbox_domain() {
        let flags = Flags {
            fold_user: true,
            fold_host: true,
            ..Flags::default()
        };
        let argv = run(
            &["${user}/${extension}/${mailbox}/${domain}/$queue_id"],
            flags,
        )
        .unwrap();
        assert_eq!(
            argv,
            vec![
                "joe/ext/joe+ext/example.com/4ABC",
                "ann smith//ann smith/example.com/4ABC"
            ]
        );
    }

    #[test]
    fn quoting_and_folding() {
        let flags = Flags {
            quote_local: true,
            fold_host: true,
            ..Flags::default()
        };
        let argv = run(&["${recipient}", "${original_recipient}"], flags).unwrap();
        assert_eq!(
            argv,
            vec![
                "Joe+Ext@example.com",
                "\"ann smith\"@example.com",
                "joe+ext@example.com",
                "alias@example.com"
            ]
        );
    }

    #[test]
    fn unknown_macros_are_configuration_errors() {
        assert_eq!(
            run(&["x", "${bogus}"], Flags::default()).unwrap_err(),
            "file /etc/postfix/master.cf: service filter: unknown macro name: \"bogus\""
        );
        // pipe knows names, not the conditional forms.
        assert_eq!(
            run(&["${extension?+x}"], Flags::default()).unwrap_err(),
            "file /etc/postfix/master.cf: service filter: unknown macro name: \"extension?+x\""
        );
        assert_eq!(
            run(&["${sender"], Flags::default()).unwrap_err(),
            "truncated macro reference: \"${sender\""
        );
        assert_eq!(
            run(&["$$sender"], Flags::default()).unwrap(),
            vec!["$sender"]
        );
    }
}
