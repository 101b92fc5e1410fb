//! `$name` expansion for forward_path, luser_relay, mailbox_command and
//! command_execution_directory: $user, $home, $shell, $domain, $local, $mailbox,
//! $recipient, $extension and $recipient_delimiter of the recipient being delivered.
//!
//! Postfix counterpart: `local/local_expand.c`. A name without a value (no extension,
//! no domain) makes the expansion "undefined", which forward_path uses to skip a file
//! name; values are passed through a character filter (characters not in it become
//! underscores) so that an address cannot inject shell syntax or path elements.

use crate::state::{State, UserAttr};
use util::mac_expand::{self, Flags, Mode};

/// An expansion.
#[derive(Debug, Clone, Default)]
pub struct Expanded {
    /// The text.
    pub text: String,
    /// Some name had no value (`MAC_PARSE_UNDEF`).
    pub undefined: bool,
    /// `$extension` was used for its value (`LOCAL_EXP_EXTENSION_MATCHED`).
    pub extension_matched: bool,
}

/// Expands `pattern` for the recipient of `state` (`local_expand`); Err on a syntax error
/// (`MAC_PARSE_ERROR`).
pub fn local_expand(
    pattern: &str,
    state: &State,
    usr_attr: &UserAttr,
    filter: Option<&str>,
    rcpt_delim: &str,
) -> Result<Expanded, mac_expand::Error> {
    let a = &state.msg_attr;
    let mut extension_matched = false;
    let result = mac_expand::expand(pattern, Flags::default(), |name, mode| {
        let value = match name {
            "user" => Some(a.user.clone()),
            "home" => usr_attr.home.clone(),
            "shell" => usr_attr.shell.clone(),
            "domain" => a.domain.clone(),
            "local" | "mailbox" => Some(a.local.clone()),
            "recipient" => Some(a.rcpt.address.clone()),
            "extension" => {
                if mode == Mode::Use {
                    extension_matched = true;
                }
                a.extension.clone()
            }
            "recipient_delimiter" => {
                // The delimiter the address used, else the first one configured.
                let used = a.local[a.user.len().min(a.local.len())..].chars().next();
                used.or_else(|| rcpt_delim.chars().next()).map(String::from)
            }
            _ => None,
        }?;
        Some(match (filter, mode) {
            (Some(filter), Mode::Use) => value
                .chars()
                .map(|c| if filter.contains(c) { c } else { '_' })
                .collect(),
            _ => value,
        })
    })?;
    Ok(Expanded {
        text: result.text,
        undefined: result.undefined,
        extension_matched,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MsgAttr;

    fn state(local: &str, user: &str, extension: Option<&str>) -> State {
        State {
            level: 0,
            msg_attr: MsgAttr {
                local: local.into(),
                user: user.into(),
                extension: extension.map(String::from),
                domain: Some("example.com".into()),
                ..MsgAttr::default()
            },
        }
    }

    fn user() -> UserAttr {
        UserAttr {
            home: Some("/home/joe".into()),
            shell: Some("/bin/sh".into()),
            ..UserAttr::default()
        }
    }

    const FORWARD_PATH: &str = "$home/.forward${recipient_delimiter}${extension}";

    #[test]
    fn forward_path_with_an_extension() {
        let e = local_expand(
            FORWARD_PATH,
            &state("joe-list", "joe", Some("list")),
            &user(),
            None,
            "+-",
        )
        .unwrap();
        assert_eq!(e.text, "/home/joe/.forward-list");
        assert!(!e.undefined && e.extension_matched);
    }

    #[test]
    fn forward_path_without_an_extension_is_undefined() {
        let e = local_expand(FORWARD_PATH, &state("joe", "joe", None), &user(), None, "+").unwrap();
        assert!(e.undefined);
        let plain = local_expand(
            "$home/.forward",
            &state("joe", "joe", None),
            &user(),
            None,
            "+",
        )
        .unwrap();
        assert_eq!(
            (plain.text.as_str(), plain.undefined),
            ("/home/joe/.forward", false)
        );
    }

    #[test]
    fn the_filter_replaces_what_it_does_not_allow() {
        let e = local_expand(
            "/dir/$local/$domain",
            &state("a;b|c", "a;b|c", None),
            &user(),
            Some("abcdefghijklmnopqrstuvwxyz."),
            "+",
        )
        .unwrap();
        assert_eq!(e.text, "/dir/a_b_c/example.com");
    }

    #[test]
    fn a_test_of_the_extension_is_not_a_use() {
        let e = local_expand(
            "${extension?+x}",
            &state("joe+y", "joe", Some("y")),
            &user(),
            None,
            "+",
        )
        .unwrap();
        assert_eq!(e.text, "+x");
        assert!(!e.extension_matched);
    }
}
