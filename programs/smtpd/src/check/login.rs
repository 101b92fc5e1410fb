//! Who may use which sender address: `reject_sender_login_mismatch` and its variants
//! over `smtpd_sender_login_maps`.
//!
//! Postfix counterpart: `reject_auth_sender_login_mismatch()` and
//! `reject_unauth_sender_login_mismatch()` in `smtpd/smtpd_check.c`. The table maps a
//! sender address (looked up as recipient tables are: full address, without
//! extension, `user@`, `@domain`) to the login names that own it, separated by commas
//! or spaces; names compare as Postfix's `strcasecmp_utf8()` compares them: folded as
//! table keys are (all of Unicode with `smtputf8_enable = yes`, ASCII only without).

use super::reply::Verdict;
use super::{Checker, Facts};
use global::resolve_clnt::FLAG_FAIL;
use smtp_proto::ErrorClass;

/// Which of the four restrictions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginCheck {
    /// `reject_sender_login_mismatch`: both checks below.
    Both,
    /// `reject_authenticated_sender_login_mismatch`: an authenticated client must own
    /// the sender address.
    Authenticated,
    /// `reject_known_sender_login_mismatch`: the same, for addresses the table lists.
    Known,
    /// `reject_unauthenticated_sender_login_mismatch`: an address the table lists needs
    /// a login.
    Unauthenticated,
}

impl Checker {
    /// Evaluates `check` for the transaction's sender (nothing for the null sender).
    pub(super) fn sender_login(&mut self, check: LoginCheck, facts: &Facts) -> Verdict {
        let Some(sender) = facts.sender.filter(|s| !s.is_empty()) else {
            return Verdict::Dunno;
        };
        let auth = match check {
            LoginCheck::Unauthenticated => Verdict::Dunno,
            LoginCheck::Known => self.owned(sender, facts, true),
            LoginCheck::Both | LoginCheck::Authenticated => self.owned(sender, facts, false),
        };
        match (auth, check) {
            (Verdict::Dunno, LoginCheck::Both | LoginCheck::Unauthenticated) => {
                self.logged_in(sender, facts)
            }
            (verdict, _) => verdict,
        }
    }

    /// The owners `smtpd_sender_login_maps` lists for `sender`, or the verdict when
    /// there is nothing to compare (no table, a failed lookup).
    fn owners(&mut self, sender: &str, facts: &Facts) -> Result<Option<String>, Verdict> {
        if self.tables.sender_login.is_none() {
            return Err(Verdict::Dunno);
        }
        let reply = self.resolve(facts.recipient.unwrap_or(""), sender);
        if reply.flags & FLAG_FAIL != 0 {
            return Err(self.lookup_failure(sender));
        }
        let maps = self.tables.sender_login.as_ref().ok_or(Verdict::Dunno)?;
        self.find_addr(maps, &reply.recipient)
            .map_err(|()| self.lookup_failure(sender))
    }

    /// An authenticated client must be among the sender's owners; `allow_unknown`
    /// lets addresses the table does not list pass.
    fn owned(&mut self, sender: &str, facts: &Facts, allow_unknown: bool) -> Verdict {
        let Some(user) = facts.sasl_username else {
            return Verdict::Dunno;
        };
        let owners = match self.owners(sender, facts) {
            Ok(Some(owners)) => owners,
            Ok(None) if allow_unknown => return Verdict::Dunno,
            Ok(None) => String::new(),
            Err(verdict) => return verdict,
        };
        let utf8 = self.policy.smtputf8;
        let found = owners
            .split([',', ' ', '\t', '\r', '\n'])
            .any(|name| same_login(name, user, utf8));
        if found {
            return Verdict::Dunno;
        }
        let text = format!("<{sender}>: Sender address rejected: not owned by user {user}");
        self.refusal(553, "5.7.1", &text, ErrorClass::Policy)
    }

    /// A client that has not authenticated may not use an address the table lists.
    fn logged_in(&mut self, sender: &str, facts: &Facts) -> Verdict {
        if facts.sasl_username.is_some() {
            return Verdict::Dunno;
        }
        match self.owners(sender, facts) {
            Ok(Some(_)) => {
                let text = format!("<{sender}>: Sender address rejected: not logged in");
                self.refusal(553, "5.7.1", &text, ErrorClass::Policy)
            }
            Ok(None) => Verdict::Dunno,
            Err(verdict) => verdict,
        }
    }
}

/// Whether two login names are the same one, as Postfix's `strcasecmp_utf8()` decides:
/// with `utf8` (smtputf8_enable) both are case-folded fully, so that `STRASSE` owns
/// `straße`; without it only ASCII letters fold and other bytes must be equal.
fn same_login(a: &str, b: &str, utf8: bool) -> bool {
    if utf8 {
        dict::casefold(a) == dict::casefold(b)
    } else {
        a.eq_ignore_ascii_case(b)
    }
}

#[cfg(test)]
mod tests {
    use super::same_login;

    #[test]
    fn logins_fold_as_postfix_table_keys() {
        assert!(same_login("Alice", "aLICE", false));
        assert!(same_login("STRASSE", "straße", true));
        assert!(same_login("ΣΟΦΟΣ", "σοφος", true));
        assert!(same_login("Jürgen", "JÜRGEN", true));
        // Without SMTPUTF8 only ASCII letters fold, as in Postfix's casefold().
        assert!(!same_login("Jürgen", "JÜRGEN", false));
        assert!(same_login("Jürgen", "JüRGEN", false));
        assert!(!same_login("STRASSE", "straße", false));
    }
}
