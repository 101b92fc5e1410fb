//! Which local users may use a command: authorized_submit_users, authorized_mailq_users...
//!
//! Postfix counterpart: `global/user_acl.c` (`check_user_acl_byuid`). The user is the
//! login name of the real uid, or `unknown` when it has no password file entry; the list
//! holds names, /file/name and type:table patterns, with !pattern to exclude.

use crate::match_list::{ListFlags, MatchList, Matcher};

/// The user name that the list `acl` (the value of parameter `pname`) does not allow, or
/// None when `uid` may go ahead. A table that fails counts as "not allowed".
pub fn check_user_acl_byuid(pname: &str, acl: &str, uid: u32) -> Option<String> {
    // The common case, and robust when the password service is down: a static: table
    // answers yes to everyone.
    if acl.starts_with("static:") {
        return None;
    }
    let name = sys::user::by_uid(uid).map_or_else(|| "unknown".to_string(), |a| a.name);
    let list = MatchList::new(pname, ListFlags::default(), acl, &[Matcher::String]);
    match list.matches(&[&name]) {
        Ok(true) => None,
        _ => Some(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_allow_and_refuse() {
        let pname = "authorized_submit_users";
        assert_eq!(check_user_acl_byuid(pname, "static:anyone", 0), None);
        let root = sys::user::by_uid(0).map_or_else(|| "unknown".into(), |a| a.name);
        assert_eq!(check_user_acl_byuid(pname, &root, 0), None);
        assert_eq!(
            check_user_acl_byuid(pname, &format!("!{root}, static:anyone"), 0),
            Some(root.clone())
        );
        assert_eq!(check_user_acl_byuid(pname, "", 0), Some(root));
        // A uid without an account is "unknown".
        assert_eq!(
            check_user_acl_byuid(pname, "!unknown, static:anyone", 4_000_000_000),
            Some("unknown".into())
        );
    }
}
