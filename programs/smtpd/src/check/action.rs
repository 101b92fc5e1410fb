//! What an access table's answer, or a policy server's `action=`, means.
//!
//! Postfix counterparts: `check_table_result()`, `can_delegate_action()` and
//! `not_in_client_helo()` in `smtpd/smtpd_check.c`, and `smtpd/smtpd_dsn_fix.c`. The
//! answer is an action (OK, RELAY, DUNNO, REJECT, DEFER, DEFER_IF_PERMIT,
//! DEFER_IF_REJECT, `4xx`/`5xx` text, HOLD, DISCARD, FILTER, REDIRECT, BCC, PREPEND, WARN,
//! INFO, a number) or a restriction list. The actions that cleanup carries out (HOLD,
//! DISCARD, FILTER, REDIRECT, BCC) and PREPEND are collected in [`Effects`] for the
//! transaction; they need a transaction, so with `smtpd_delay_reject = no` the client and
//! HELO lists skip them with Postfix's warning.

use super::list;
use super::reply::{Refusal, Verdict};
use super::{Checker, Facts, Subject};
use global::dsn_util::dsn_split;
use smtp_proto::ErrorClass;

/// What table actions asked for, beyond the verdict, in the current transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// HOLD: the message goes to the hold queue.
    pub hold: bool,
    /// DISCARD: the message is accepted and thrown away; no more restrictions run.
    pub discard: bool,
    /// FILTER: the content filter `transport:destination` (the last one wins).
    pub filter: Option<String>,
    /// REDIRECT: every recipient is replaced by this one (the last one wins).
    pub redirect: Option<String>,
    /// BCC: recipients to add.
    pub bcc: Vec<String>,
    /// PREPEND: header lines to put above smtpd's Received: header.
    pub prepend: Vec<String>,
}

impl Effects {
    /// The cleanup flags (`CLEANUP_FLAG_HOLD`, `CLEANUP_FLAG_DISCARD`) for the `f` record.
    pub fn flags(&self) -> u32 {
        use global::cleanup_user::{FLAG_DISCARD, FLAG_HOLD};
        (if self.hold { FLAG_HOLD } else { 0 }) | (if self.discard { FLAG_DISCARD } else { 0 })
    }
}

/// Postfix's `DEFER_IF_PERMIT` and `DEFER_IF_REJECT` action names.
pub const DEFER_IF_PERMIT: &str = "DEFER_IF_PERMIT";
/// See [`DEFER_IF_PERMIT`].
pub const DEFER_IF_REJECT: &str = "DEFER_IF_REJECT";

/// `smtpd_dsn_fix()`: an address status (`X.1.Y`) made to fit what is refused — a
/// recipient's code for a recipient, a sender's for a sender, `4.0.0` for anything else.
pub fn dsn_fix(status: &str, class: &str) -> String {
    let Some(micro) = status.get(1..).and_then(|s| s.strip_prefix(".1.")) else {
        return status.to_string();
    };
    // micro code, sender status, recipient status.
    const MAP: [(&str, &str, &str); 8] = [
        ("1", "4.1.7", "4.1.1"),
        ("2", "4.1.8", "4.1.2"),
        ("3", "4.1.7", "4.1.3"),
        ("4", "4.1.7", "4.1.4"),
        ("5", "4.1.0", "4.1.5"),
        ("6", "4.1.7", "4.1.6"),
        ("7", "4.1.7", "4.1.3"),
        ("8", "4.1.8", "4.1.2"),
    ];
    let found = MAP.iter().find(|(m, _, _)| *m == micro);
    let result = match class {
        super::SENDER => found.map_or("4.1.0", |f| f.1),
        super::RECIPIENT => found.map_or("4.1.0", |f| f.2),
        _ => "4.0.0",
    };
    let first = &status[..1];
    if status[2..] != result[2..] {
        log::msg_info!(
            "mapping DSN status {status} into {class} status {first}{}",
            &result[1..]
        );
    }
    format!("{first}{}", &result[1..])
}

/// Whether `text` starts like a header (`name:`), as PREPEND needs.
fn is_header(text: &str) -> bool {
    rfc822::mime::header_opts::is_header(text.as_bytes()) > 0
}

impl Checker {
    /// What `value`, found in `table` under `datum` (the key, or `policy query`), means
    /// (`check_table_result()`).
    pub(super) fn table_result(
        &mut self,
        table: &str,
        value: &str,
        datum: &str,
        subject: &Subject,
        facts: &Facts,
        depth: usize,
    ) -> Verdict {
        let (word, text) = value
            .split_once([' ', '\t'])
            .map_or((value, ""), |(w, t)| (w, t.trim_start()));
        let is = |name: &str| word.eq_ignore_ascii_case(name);
        let about = |default: &str| {
            let text = if text.is_empty() { default } else { text };
            format!("<{}>: {} {text}", subject.name, subject.class)
        };
        let needs_target = |what: char, problem: &str| {
            if text.contains(what) {
                return true;
            }
            log::msg_warn!("access table {table} entry \"{datum}\" {problem}");
            false
        };
        if is("DUNNO") {
            return Verdict::Dunno;
        }
        if is("REJECT") {
            let code = self.codes.access_reject;
            return self.access_refusal(code, "5.7.1", text, "Access denied", subject);
        }
        if is("DEFER") {
            let code = self.codes.access_defer;
            return self.access_refusal(code, "4.7.1", text, "Access denied", subject);
        }
        if is("INFO") || is("WARN") {
            facts.whatsup(&word.to_ascii_lowercase(), text);
            return Verdict::Dunno;
        }
        if is("FILTER") && text.is_empty() {
            if self.can_delegate(table, "FILTER", facts) {
                log::msg_warn!(
                    "access table {table} entry \"{datum}\" has FILTER entry without value"
                );
            }
            return Verdict::Dunno;
        }
        if is("HOLD") {
            if !self.can_delegate(table, "HOLD", facts) || self.effects.hold {
                return Verdict::Dunno;
            }
            facts.whatsup("hold", &about("triggers HOLD action"));
            self.effects.hold = true;
            return Verdict::Dunno;
        }
        if is("DISCARD") {
            if !self.can_delegate(table, "DISCARD", facts) {
                return Verdict::Dunno;
            }
            facts.whatsup("discard", &about("triggers DISCARD action"));
            self.effects.discard = true;
            return self.table_permit(word, table, subject, facts);
        }
        let targets = [
            ("FILTER", ':', "requires transport:destination"),
            ("REDIRECT", '@', "requires user@domain target"),
            ("BCC", '@', "requires user@domain target"),
        ];
        for (action, what, problem) in targets {
            if !is(action) {
                continue;
            }
            if !self.can_delegate(table, action, facts) || !needs_target(what, problem) {
                return Verdict::Dunno;
            }
            let line = format!(
                "<{}>: {} triggers {action} {text}",
                subject.name, subject.class
            );
            facts.whatsup(&action.to_ascii_lowercase(), &line);
            let text = text.to_string();
            match action {
                "FILTER" => self.effects.filter = Some(text),
                "REDIRECT" => self.effects.redirect = Some(text),
                _ => self.effects.bcc.push(text),
            }
            return Verdict::Dunno;
        }
        if is(DEFER_IF_PERMIT) || is(DEFER_IF_REJECT) {
            let refusal = self.access_refusal(
                self.codes.access_defer,
                "4.7.1",
                text,
                "Service unavailable",
                subject,
            );
            let Verdict::Refuse(refusal) = refusal else {
                return Verdict::Dunno;
            };
            return if is(DEFER_IF_PERMIT) {
                self.defer_if_permit(refusal)
            } else {
                self.defer_if_reject(refusal)
            };
        }
        if is("PREPEND") {
            if !self.not_in_client_helo(table, "PREPEND", facts) {
                return Verdict::Dunno;
            }
            if facts.stage == crate::log_line::END_OF_MESSAGE {
                log::msg_warn!(
                    "access table {table}: action PREPEND must be used before \
                     smtpd_end_of_data_restrictions"
                );
            } else if text.is_empty() || !is_header(text) {
                log::msg_warn!("access table {table} entry \"{datum}\" requires header: text");
            } else {
                self.effects.prepend.push(text.to_string());
            }
            return Verdict::Dunno;
        }
        if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            // A number is OK, for tables written for Postfix's ancestors.
            return self.table_permit(word, table, subject, facts);
        }
        let b = word.as_bytes();
        if b.len() == 3
            && !text.is_empty()
            && matches!(b[0], b'4' | b'5')
            && b[1..].iter().all(u8::is_ascii_digit)
        {
            let code: u16 = word.parse().unwrap_or(554);
            let default_dsn = format!("{}.7.1", b[0] as char);
            return self.access_refusal(code, &default_dsn, text, "Access denied", subject);
        }
        if is("OK") || is("RELAY") {
            return self.table_permit(word, table, subject, facts);
        }
        if value.contains(':') {
            log::msg_warn!("access table {table} has entry with lookup table: {value}");
            log::msg_warn!("do not specify lookup tables inside SMTPD access maps");
            log::msg_warn!("define a restriction class and specify its name instead.");
            return self.server_error();
        }
        if depth > super::MAX_DEPTH {
            log::msg_warn!("access table {table} entry {value} causes unreasonable recursion");
            return self.server_error();
        }
        let classes: Vec<String> = self.lists.classes.keys().cloned().collect();
        let restrictions = list::parse(value, &classes);
        if restrictions.is_empty() {
            log::msg_warn!("access table {table} entry {value} has empty value");
            return Verdict::Permit;
        }
        self.evaluate(table, &restrictions, subject, facts, depth + 1)
    }

    /// A table's answer `word` permits, logged as smtpd_log_access_permit_actions asks.
    fn table_permit(&self, word: &str, table: &str, subject: &Subject, facts: &Facts) -> Verdict {
        self.acl_permit(
            word,
            (subject.class, subject.name.as_str()),
            Some(table),
            facts,
        );
        Verdict::Permit
    }

    /// REJECT, DEFER or `NNN text`: `NNN X.Y.Z <name>: Class rejected: text`, the status
    /// taken from the text when it starts with one.
    fn access_refusal(
        &self,
        code: u16,
        default_dsn: &str,
        text: &str,
        default_text: &str,
        subject: &Subject,
    ) -> Verdict {
        let (dsn, text) = dsn_split(default_dsn, text);
        let text = if text.is_empty() { default_text } else { text };
        self.refusal(
            code,
            &dsn_fix(dsn, subject.class),
            &format!("<{}>: {} rejected: {text}", subject.name, subject.class),
            ErrorClass::Policy,
        )
    }

    /// `can_delegate_action()`: cleanup must get the queue file records, so not in ETRN
    /// and not outside a transaction.
    fn can_delegate(&self, table: &str, action: &str, facts: &Facts) -> bool {
        if facts.stage == "ETRN" {
            log::msg_warn!(
                "access table {table}: action {action} is unavailable in smtpd_etrn_restrictions"
            );
            return false;
        }
        self.not_in_client_helo(table, action, facts)
    }

    /// `not_in_client_helo()`: the action belongs to a transaction, so the client and
    /// HELO checks of `smtpd_delay_reject = no` (before MAIL) skip it.
    fn not_in_client_helo(&self, table: &str, action: &str, facts: &Facts) -> bool {
        if facts.sender.is_some() {
            return true;
        }
        log::msg_warn!(
            "access table {table}: with smtpd_delay_reject=no, action {action} is always \
             skipped in client or helo restrictions"
        );
        false
    }

    /// DEFER_IF_PERMIT: remembered (the first reason) and sent only if the stage would
    /// otherwise accept; under `warn_if_reject` a plain refusal, which the caller turns into
    /// a warning.
    pub(super) fn defer_if_permit(&mut self, refusal: Refusal) -> Verdict {
        if self.warn_if_reject {
            return Verdict::Refuse(refusal);
        }
        if self.defer_if_permit.is_none() {
            self.defer_if_permit = Some(refusal);
        }
        Verdict::Dunno
    }

    /// DEFER_IF_REJECT: remembered (the first reason); a later 5xx refusal in the stage
    /// becomes this deferral.
    pub(super) fn defer_if_reject(&mut self, refusal: Refusal) -> Verdict {
        if self.defer_if_reject.is_none() {
            self.defer_if_reject = Some(refusal);
        }
        Verdict::Dunno
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_statuses_fit_the_class() {
        assert_eq!(dsn_fix("5.1.1", super::super::SENDER), "5.1.7");
        assert_eq!(dsn_fix("5.1.8", super::super::RECIPIENT), "5.1.2");
        assert_eq!(dsn_fix("5.1.1", "Client host"), "5.0.0");
        assert_eq!(dsn_fix("5.7.1", "Client host"), "5.7.1");
        assert_eq!(dsn_fix("4.1.9", super::super::RECIPIENT), "4.1.0");
    }
}
