//! Who may submit mail, and with which sender address.
//!
//! Postfix counterparts: `global/login_sender_match.c` and `check_login_sender_acl()` in
//! `postdrop/postdrop.c` (local_login_sender_maps); authorized_submit_users is
//! `global::user_acl`. The user is the login name of the real uid, or `uid:N` when it has
//! no password file entry. The table answers with sender patterns separated by
//! commas or white space (double quotes protect them): `*` allows any sender, `<>` (the
//! empty_address_local_login_sender_maps_lookup_key) the null sender, `@domain` any
//! address in the domain, anything else one address, compared without its extension and
//! in external (quoted) form.

use global::cleanup_user::{STAT_BAD, STAT_NOPERM, STAT_OK, STAT_WRITE};
use global::mail_addr_find::{self, Context};
use global::maps::{Maps, MapsError};
use rfc822::quote::{QuoteFlags, quote_822_local};

/// What the sender check needs from main.cf.
pub struct SenderCheck {
    /// local_login_sender_maps.
    pub maps: String,
    /// recipient_delimiter.
    pub delimiters: String,
    /// empty_address_local_login_sender_maps_lookup_key.
    pub null_sender: String,
    /// double_bounce_sender: its address is never split at a delimiter.
    pub double_bounce_sender: String,
    /// owner_request_special.
    pub owner_request_special: bool,
    /// smtputf8_enable: compare with Unicode case folding.
    pub utf8: bool,
}

/// The wildcard sender pattern.
const WILDCARD: &str = "*";
/// The default of local_login_sender_maps, which allows everything.
const ALLOW_ALL: &str = "static:*";

/// Whether a table result means "found", "not found", or failed.
enum Match {
    Found,
    NotFound,
    Error,
}

impl SenderCheck {
    /// Checks that `uid` may use `sender` (an `S` record's data): a status, with the
    /// reason in `reason` when it is not OK.
    pub fn check(&self, uid: u32, sender: &[u8], reason: &mut String) -> u32 {
        if sender.contains(&0) {
            *reason = "NUL in FROM record".to_string();
            return STAT_BAD;
        }
        // Postfix's release builds skip the lookup for the default, which allows all.
        if self.maps == ALLOW_ALL {
            return STAT_OK;
        }
        let sender = String::from_utf8_lossy(sender);
        let user = sys::user::by_uid(uid).map_or_else(|| format!("uid:{uid}"), |a| a.name);
        match self.matches(&user, &sender) {
            Match::Found => STAT_OK,
            Match::NotFound => {
                *reason = format!("not authorized to use sender='{sender}'");
                STAT_NOPERM
            }
            Match::Error => {
                *reason = format!(
                    "{} table lookup error for '{}'",
                    params::decl::submission::LOCAL_LOGIN_SENDER_MAPS.name,
                    self.maps
                );
                STAT_WRITE
            }
        }
    }

    /// Looks the login name up and matches the sender against the patterns found.
    fn matches(&self, login: &str, sender: &str) -> Match {
        let flags = dict::Flags {
            fold_fix: true,
            utf8: self.utf8,
            ..dict::Flags::default()
        };
        let title = params::decl::submission::LOCAL_LOGIN_SENDER_MAPS.name;
        let maps = match Maps::new(title, &self.maps, flags) {
            Ok(maps) => maps,
            Err(e) => {
                log::msg_warn!("{e}");
                return Match::Error;
            }
        };
        let patterns = match maps.find(login, false) {
            Ok(Some(patterns)) => patterns,
            Ok(None) => return Match::NotFound,
            Err(MapsError::Retry(_) | MapsError::Config(_)) => return Match::Error,
        };
        let mut stripped: Option<String> = None;
        for pattern in tokens_dq(&patterns) {
            let hit = if pattern.starts_with('@') {
                sender
                    .rfind('@')
                    .is_some_and(|at| self.same(pattern, &sender[at..]))
            } else if pattern.eq_ignore_ascii_case(WILDCARD) {
                true
            } else if pattern.eq_ignore_ascii_case(&self.null_sender) {
                sender.is_empty()
            } else {
                let external = stripped.get_or_insert_with(|| {
                    let bare = self.strip_extension(sender);
                    quote_822_local(bare.as_deref().unwrap_or(sender), QuoteFlags::DEFAULT)
                });
                self.same(pattern, external)
            };
            if hit {
                return Match::Found;
            }
        }
        Match::NotFound
    }

    /// Case-insensitive comparison, with Unicode case folding in SMTPUTF8 mode.
    fn same(&self, a: &str, b: &str) -> bool {
        if self.utf8 {
            dict::casefold(a) == dict::casefold(b)
        } else {
            a.eq_ignore_ascii_case(b)
        }
    }

    /// The address without its extension (Postfix's `strip_addr_internal`), None when
    /// there is nothing to strip.
    fn strip_extension(&self, address: &str) -> Option<String> {
        if !address.contains(|c| self.delimiters.contains(c)) {
            return None;
        }
        let (local, domain) = match address.rfind('@') {
            Some(at) => address.split_at(at),
            None => (address, ""),
        };
        let context = Context {
            delimiters: &self.delimiters,
            myorigin: "",
            double_bounce_sender: &self.double_bounce_sender,
            owner_request_special: self.owner_request_special,
            is_local: &|_| Ok(false),
        };
        let (base, _) = mail_addr_find::split_localpart(local, &context)?;
        Some(format!("{base}{domain}"))
    }
}

/// Splits at commas and white space outside double quotes (Postfix's `mystrtokdq`); a
/// backslash protects the next character.
fn tokens_dq(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let separators = util::tokens::COMMA_SPACE.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        while at < bytes.len() && separators.contains(&bytes[at]) {
            at += 1;
        }
        if at == bytes.len() {
            break;
        }
        let start = at;
        let mut quoted = false;
        while at < bytes.len() {
            match bytes[at] {
                b'\\' => at += 1,
                b'"' => quoted = !quoted,
                b if !quoted && separators.contains(&b) => break,
                _ => {}
            }
            at += 1;
        }
        let end = at.min(bytes.len());
        // Separators are ASCII, so both ends are character boundaries.
        out.push(&text[start..end]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(maps: &str) -> SenderCheck {
        SenderCheck {
            maps: maps.to_string(),
            delimiters: "+".to_string(),
            null_sender: "<>".to_string(),
            double_bounce_sender: "double-bounce".to_string(),
            owner_request_special: true,
            utf8: true,
        }
    }

    fn verdict(maps: &str, uid: u32, sender: &str) -> (u32, String) {
        let mut reason = String::new();
        let status = check(maps).check(uid, sender.as_bytes(), &mut reason);
        (status, reason)
    }

    #[test]
    fn tokens_keep_quotes_together() {
        assert_eq!(
            tokens_dq(r#" a, "b c"@d,, e\ f  @g "#),
            ["a", r#""b c"@d"#, r"e\ f", "@g"]
        );
        assert!(tokens_dq(" ,, ").is_empty());
    }

    #[test]
    fn default_allows_all_but_nul() {
        assert_eq!(
            verdict(ALLOW_ALL, 0, "anyone@example.com"),
            (STAT_OK, String::new())
        );
        let mut reason = String::new();
        assert_eq!(check(ALLOW_ALL).check(0, b"a\0b", &mut reason), STAT_BAD);
        assert_eq!(reason, "NUL in FROM record");
    }

    #[test]
    fn patterns() {
        let root = sys::user::by_uid(0).map_or_else(|| "uid:0".into(), |a| a.name);
        let table = |value: &str| format!("inline:{{{{{root} = {value}}}}}");
        let allowed = |value: &str, sender: &str| verdict(&table(value), 0, sender).0 == STAT_OK;
        assert!(allowed("*", "x@y"));
        assert!(allowed("<>", ""));
        assert!(!allowed("<>", "x@y"));
        assert!(allowed("other, @Example.COM", "me@example.com"));
        assert!(!allowed("@example.com", "me@example.org"));
        // Extensions are ignored; the comparison is in external (quoted) form.
        assert!(allowed("me@example.com", "ME+list@example.com"));
        assert!(allowed(r#""a b"@example.com"#, "a b@example.com"));
        assert!(!allowed("a b@example.com", "a b@example.com"));
        // owner-x is never split.
        assert!(!allowed("owner@example.com", "owner-list@example.com"));
        assert_eq!(
            verdict(&table("you@example.com"), 0, "me@example.com"),
            (
                STAT_NOPERM,
                "not authorized to use sender='me@example.com'".to_string()
            )
        );
        // No entry for the user at all.
        assert_eq!(verdict("inline:{nobody-here=*}", 0, "x").0, STAT_NOPERM);
    }

    #[test]
    fn table_errors_are_temporary() {
        let maps = "fail:broken";
        assert_eq!(
            verdict(maps, 0, "x@y"),
            (
                STAT_WRITE,
                format!("local_login_sender_maps table lookup error for '{maps}'")
            )
        );
    }
}
