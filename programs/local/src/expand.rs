//! `$name` expansion for forward_path, luser_relay, mailbox_command and
//! command_execution_directory: $user, $home, $shell, $domain, $local, $mailbox,
//! $recipient, $extension and $recipient_delimiter of the recipient being delivered.
//!
//! Postfix counterpart: `local/local_expand.c`. A name without a value (no extension,
//! no domain) makes the expansion "undefined", which forward_path uses to skip a file
//! name; values are passed through a character filter (characters not in it become
//! underscores) so that an address cannot inject shell syntax or path elements.

use crate::settings::Settings;
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
    settings: &Settings,
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
                used.or_else(|| settings.rcpt_delim.chars().next())
                    .map(String::from)
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
