//! Every parameter name ironpost knows, for `postconf` and the unused-parameter check.
//!
//! Postfix counterpart: `postconf/postconf_builtin.c`. Two sources: the typed declarations in
//! [`crate::decl`] (what ironpost reads), and `postfix-3.7.params`, the rest of Postfix 3.7's
//! namespace with the defaults Postfix prints for them. A name is in exactly one of the two
//! (a unit test checks this); implementing a parameter means moving it from the file into a
//! declaration.

use crate::def::Param;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// What is known about a parameter name.
#[derive(Debug, Clone, Copy)]
pub enum Known {
    /// Declared and read by ironpost.
    Declared(&'static Param),
    /// A Postfix 3.7 parameter ironpost accepts but does not read yet; its default text.
    PostfixOnly(&'static str),
}

const POSTFIX_ONLY: &str = include_str!("postfix-3.7.params");

/// Postfix parameters whose values are never `$name`-expanded (Postfix's
/// `CONFIG_RAW_TABLE`), beyond the declared ones of kind [`crate::Kind::Raw`].
const POSTFIX_ONLY_RAW: &[&str] = &[
    "command_execution_directory",
    "default_rbl_reply",
    "forward_path",
    "luser_relay",
    "postscreen_expansion_filter",
    "postscreen_reject_footer",
    "smtpd_expansion_filter",
    "smtpd_reject_footer",
];

/// Old names Postfix still accepts as the default of their successors (e.g.
/// `${smtpd_client_connection_limit_exceptions:$mynetworks}`); they have no default of their
/// own and are shown only when set.
pub const LEGACY: &[&str] = &[
    "virtual_maps",
    "fallback_relay",
    "authorized_verp_clients",
    "smtpd_client_connection_limit_exceptions",
    "postscreen_dnsbl_ttl",
    "postscreen_blacklist_action",
    "postscreen_dnsbl_whitelist_threshold",
    "postscreen_whitelist_interfaces",
    "lmtp_per_record_deadline",
    "smtp_per_record_deadline",
    "smtpd_per_record_deadline",
    "tlsproxy_client_level",
    "tlsproxy_client_policy",
];

/// Parameters a program sets for itself; main.cf cannot change them.
pub const READ_ONLY: &[&str] = &["process_id", "process_name", "service_name"];

/// Whether `name` is used without `$name` expansion.
pub fn is_raw(name: &str) -> bool {
    match find(name) {
        Some(Known::Declared(param)) => param.kind == crate::Kind::Raw,
        _ => POSTFIX_ONLY_RAW.contains(&name),
    }
}

/// Every known name, sorted as Postfix sorts them (byte order).
pub fn all() -> &'static BTreeMap<&'static str, Known> {
    static TABLE: OnceLock<BTreeMap<&'static str, Known>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = BTreeMap::new();
        for line in POSTFIX_ONLY.lines() {
            if let Some((name, default)) = split_line(line) {
                table.insert(name, Known::PostfixOnly(default));
            }
        }
        for param in crate::decl::all() {
            table.insert(param.name, Known::Declared(param));
        }
        table
    })
}

/// Looks up one name.
pub fn find(name: &str) -> Option<Known> {
    all().get(name).copied()
}

/// Splits a `name = value` line of the data file (`name =` for an empty default).
fn split_line(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(" =")?;
    Some((name, value.strip_prefix(' ').unwrap_or(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn declared_and_postfix_only_are_disjoint() {
        let declared: HashSet<&str> = crate::decl::all().map(|p| p.name).collect();
        let mut seen = HashSet::new();
        for line in POSTFIX_ONLY.lines() {
            let (name, _) = split_line(line).expect("name = value");
            assert!(
                !declared.contains(name),
                "{name} is declared and also listed"
            );
            assert!(seen.insert(name), "{name} is listed twice");
        }
        assert_eq!(
            declared.len(),
            crate::decl::all().count(),
            "a name is declared twice"
        );
    }

    #[test]
    fn every_declaration_is_sound() {
        let cf = crate::Config::new(std::path::Path::new("/x"), Default::default());
        for param in crate::decl::all() {
            assert!(!param.doc.trim().is_empty(), "{} has no doc", param.name);
            assert!(
                param
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_'),
                "{}",
                param.name
            );
            let checked = match param.kind {
                crate::Kind::Bool => cf.bool(param).map(|_| ()),
                crate::Kind::Int | crate::Kind::Long => cf.int(param).map(|_| ()),
                crate::Kind::Time(_) => cf.time(param).map(|_| ()),
                crate::Kind::Str | crate::Kind::Raw => cf.str(param).map(|_| ()),
            };
            assert!(
                checked.is_ok(),
                "{}: default does not parse: {checked:?}",
                param.name
            );
        }
    }
}
