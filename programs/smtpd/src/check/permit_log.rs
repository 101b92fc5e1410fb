//! `smtpd_log_access_permit_actions`: a `permit` line for the permit actions it lists
//! (`static:all` lists them all), as only refusals are logged otherwise.
//!
//! Postfix counterpart: `smtpd_acl_permit()` in `smtpd/smtpd_check.c`. The action is a
//! permit restriction's name (`permit_mynetworks`, `permit`...) or the first word of an
//! access table's or policy server's answer (`OK`, `RELAY`, `DISCARD`, a number), matched
//! without regard to case. The line says what permitted what, and from which table:
//! `NOQUEUE: permit: RCPT from name[addr]: action=OK for Client host=name[addr] from
//! hash:/etc/postfix/access; from=<...> ...` (a restriction's line has a space
//! before the `;`, where a table's has its name). Nothing is
//! logged while a DEFER_IF_PERMIT waits, since that overrules the permit.

use super::list::Restriction;
use super::rbl::DnsxlKind;
use super::{Checker, Facts, Subject};
use global::match_list::{ListFlags, MatchList, Matcher};

/// The parameter, also the list's name in its warnings.
const PARAM: &str = "smtpd_log_access_permit_actions";

/// The list of actions to log.
pub fn from_config(config: &params::Config, utf8: bool) -> MatchList {
    let text = config
        .str(&params::decl::smtpd::SMTPD_LOG_ACCESS_PERMIT_ACTIONS)
        .unwrap_or_else(|e| crate::settings::fatal(e));
    let flags = ListFlags {
        parent: false,
        utf8,
    };
    MatchList::new(PARAM, flags, &text, &[Matcher::String])
}

impl Checker {
    /// Logs the permit of `action` about `class`=`name`, with the table it came from.
    pub(super) fn acl_permit(
        &self,
        action: &str,
        subject: (&str, &str),
        table: Option<&str>,
        facts: &Facts,
    ) {
        if self.defer_if_permit.is_some() {
            return;
        }
        // A failed table is warned about by the list and logs nothing, as in Postfix
        // (MATCH_FLAG_RETURN).
        if !matches!(self.tables.permit_log.matches(&[action]), Ok(true)) {
            return;
        }
        let (class, name) = subject;
        // Postfix appends a space and its arguments: for a restriction an empty
        // string, which leaves the space before the ';'.
        let mut text = format!("action={action} for {class}={name} ");
        if let Some(table) = table {
            text.push_str("from ");
            text.push_str(table);
        }
        facts.whatsup("permit", &text);
    }

    /// A restriction that permitted: its permit logged with the fact it permitted,
    /// which for the plain `permit` is the list's own subject.
    pub(super) fn restriction_permit(
        &self,
        restriction: &Restriction,
        subject: &Subject,
        facts: &Facts,
    ) {
        let client = ("Client host", facts.peer.namaddr.as_str());
        let recipient = facts.recipient.map(|r| (super::RECIPIENT, r));
        let about = match restriction {
            Restriction::Permit => Some((subject.class, subject.name.as_str())),
            Restriction::PermitMynetworks
            | Restriction::PermitInetInterfaces
            | Restriction::PermitSaslAuthenticated
            | Restriction::PermitTlsClientcerts
            | Restriction::PermitTlsAllClientcerts
            | Restriction::Dnsxl(DnsxlKind::DnswlClient | DnsxlKind::RhswlClient, _) => {
                Some(client)
            }
            Restriction::PermitNakedIpAddress => facts.helo.map(|h| ("Helo command", h)),
            Restriction::PermitMxBackup
            | Restriction::PermitAuthDestination
            | Restriction::CheckRelayDomains => recipient,
            _ => None,
        };
        if let Some(about) = about {
            let name = restriction.name();
            let action = name.split(' ').next().unwrap_or_default();
            self.acl_permit(action, about, None, facts);
        }
    }
}
