//! Restriction lists as data: the text of `smtpd_*_restrictions` (or of a restriction
//! class, or of an access table's answer) parsed into [`Restriction`]s.
//!
//! Postfix counterpart: the name dispatch of `generic_checks()` in `smtpd/smtpd_check.c`
//! and `smtpd_check_parse()`. A name Postfix knows but ironpost does not implement yet,
//! or a table argument that is missing, is kept as [`Restriction::Unknown`]: evaluating it
//! answers `451 4.3.5 Server configuration error`, as Postfix does for a name it does
//! not know.

use super::login::LoginCheck;

/// Which client fact an access table is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKind {
    /// `check_client_access`: the client name and address.
    Client,
    /// `check_reverse_client_hostname_access`: the unverified reverse name and the
    /// address; it may not permit.
    ReverseClient,
    /// `check_helo_access`: the HELO name.
    Helo,
    /// `check_sender_access`: MAIL FROM.
    Sender,
    /// `check_recipient_access`: RCPT TO.
    Recipient,
    /// `check_ccert_access`: the client certificate's fingerprint, then its public
    /// key's.
    Ccert,
    /// `check_sasl_access`: the SASL login name, after AUTH.
    Sasl,
    /// `check_etrn_access`: the ETRN domain.
    Etrn,
}

impl AccessKind {
    /// The restriction's name.
    pub fn name(self) -> &'static str {
        match self {
            AccessKind::Client => "check_client_access",
            AccessKind::ReverseClient => "check_reverse_client_hostname_access",
            AccessKind::Helo => "check_helo_access",
            AccessKind::Sender => "check_sender_access",
            AccessKind::Recipient => "check_recipient_access",
            AccessKind::Ccert => "check_ccert_access",
            AccessKind::Sasl => "check_sasl_access",
            AccessKind::Etrn => "check_etrn_access",
        }
    }
}

/// One restriction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restriction {
    /// `permit`.
    Permit,
    /// `reject`.
    Reject,
    /// `defer`.
    Defer,
    /// `warn_if_reject`: the next restriction only logs what it would reject.
    WarnIfReject,
    /// `defer_if_permit`: defer unless a later restriction rejects.
    DeferIfPermit,
    /// `defer_if_reject`: a later 5xx rejection becomes a deferral.
    DeferIfReject,
    /// `permit_mynetworks`.
    PermitMynetworks,
    /// `permit_auth_destination`.
    PermitAuthDestination,
    /// `permit_mx_backup`: this host is a backup MX of the recipient's domain.
    PermitMxBackup,
    /// `permit_sasl_authenticated`.
    PermitSaslAuthenticated,
    /// `permit_tls_clientcerts`: a client certificate listed in `relay_clientcerts`.
    PermitTlsClientcerts,
    /// `permit_tls_all_clientcerts`: any trusted client certificate.
    PermitTlsAllClientcerts,
    /// `reject_plaintext_session`: a session without TLS.
    RejectPlaintextSession,
    /// `reject_sender_login_mismatch` and its variants.
    SenderLogin(LoginCheck),
    /// `reject_unauth_destination`.
    RejectUnauthDestination,
    /// `defer_unauth_destination`.
    DeferUnauthDestination,
    /// `reject_unlisted_recipient` (also `check_recipient_maps`).
    RejectUnlistedRecipient,
    /// `reject_unlisted_sender`.
    RejectUnlistedSender,
    /// `reject_non_fqdn_helo_hostname` (also `reject_non_fqdn_hostname`).
    RejectNonFqdnHelo,
    /// `reject_non_fqdn_sender`.
    RejectNonFqdnSender,
    /// `reject_non_fqdn_recipient`.
    RejectNonFqdnRecipient,
    /// `reject_unverified_sender`: the verify service must know the sender deliverable.
    RejectUnverifiedSender,
    /// `reject_unverified_recipient`.
    RejectUnverifiedRecipient,
    /// `reject_invalid_helo_hostname` (also `reject_invalid_hostname`).
    RejectInvalidHelo,
    /// `reject_unauth_pipelining`: the client sent commands before it was allowed to.
    RejectUnauthPipelining,
    /// `reject_multi_recipient_bounce`: a null sender with more than one recipient.
    RejectMultiRecipientBounce,
    /// `reject_unknown_client_hostname` (also `reject_unknown_client`).
    RejectUnknownClient,
    /// `reject_unknown_reverse_client_hostname`.
    RejectUnknownReverseClient,
    /// `reject_unknown_helo_hostname` (also `reject_unknown_hostname`).
    RejectUnknownHelo,
    /// `reject_unknown_sender_domain` (also `reject_unknown_address`, which Postfix
    /// applies to the sender only).
    RejectUnknownSenderDomain,
    /// `reject_unknown_recipient_domain`.
    RejectUnknownRecipientDomain,
    /// `permit_inet_interfaces`: the client connects from one of our inet_interfaces
    /// addresses.
    PermitInetInterfaces,
    /// `permit_naked_ip_address` (deprecated): a HELO name that is a bare address.
    PermitNakedIpAddress,
    /// `check_relay_domains` (deprecated): a client whose name matches relay_domains, or
    /// an authorized destination, permits; anything else is refused.
    CheckRelayDomains,
    /// `reject_maps_rbl` (deprecated): the client address on a list of
    /// `maps_rbl_domains`.
    RejectMapsRbl,
    /// `sleep N` with its argument as written (empty when missing).
    Sleep(String),
    /// `check_*_access type:table`.
    Access(AccessKind, String),
    /// `check_*_{mx,ns,a}_access type:table`: the record type asked for.
    ServerAccess(AccessKind, dns::RrType, String),
    /// A DNS block or allow list restriction with its list's domain (empty when the
    /// argument is missing).
    Dnsxl(super::rbl::DnsxlKind, String),
    /// `check_policy_service` with its argument as written (`inet:host:port`,
    /// `unix:private/policy`, `{ ..., name=value }`).
    Policy(String),
    /// A name from `smtpd_restriction_classes`.
    Class(String),
    /// A name that is not (yet) a restriction here, or one missing its argument.
    Unknown(String),
}

impl Restriction {
    /// The restriction as main.cf writes it, for the decision trace.
    pub fn name(&self) -> String {
        match self {
            Restriction::Access(kind, table) => format!("{} {table}", kind.name()),
            Restriction::ServerAccess(kind, rtype, table) => {
                format!("{} {table}", server_access_name(*kind, *rtype))
            }
            Restriction::Policy(server) => format!("{POLICY} {server}"),
            Restriction::Sleep(seconds) => format!("{SLEEP} {seconds}"),
            Restriction::Dnsxl(kind, domain) => format!("{} {domain}", kind.name()),
            Restriction::Class(name) | Restriction::Unknown(name) => name.clone(),
            other => SIMPLE
                .iter()
                .find(|(_, r)| r == other)
                .map_or_else(String::new, |(n, _)| (*n).to_string()),
        }
    }
}

/// The restrictions without an argument, by name (aliases after the main name).
const SIMPLE: &[(&str, Restriction)] = &[
    ("permit", Restriction::Permit),
    ("reject", Restriction::Reject),
    ("defer", Restriction::Defer),
    ("warn_if_reject", Restriction::WarnIfReject),
    ("defer_if_permit", Restriction::DeferIfPermit),
    ("defer_if_reject", Restriction::DeferIfReject),
    ("permit_mynetworks", Restriction::PermitMynetworks),
    (
        "permit_auth_destination",
        Restriction::PermitAuthDestination,
    ),
    (
        "permit_sasl_authenticated",
        Restriction::PermitSaslAuthenticated,
    ),
    ("permit_mx_backup", Restriction::PermitMxBackup),
    ("permit_tls_clientcerts", Restriction::PermitTlsClientcerts),
    (
        "permit_tls_all_clientcerts",
        Restriction::PermitTlsAllClientcerts,
    ),
    (
        "reject_plaintext_session",
        Restriction::RejectPlaintextSession,
    ),
    (
        "reject_unauth_destination",
        Restriction::RejectUnauthDestination,
    ),
    (
        "defer_unauth_destination",
        Restriction::DeferUnauthDestination,
    ),
    (
        "reject_unlisted_recipient",
        Restriction::RejectUnlistedRecipient,
    ),
    ("check_recipient_maps", Restriction::RejectUnlistedRecipient),
    ("reject_unlisted_sender", Restriction::RejectUnlistedSender),
    (
        "reject_unverified_sender",
        Restriction::RejectUnverifiedSender,
    ),
    (
        "reject_unverified_recipient",
        Restriction::RejectUnverifiedRecipient,
    ),
    (
        "reject_non_fqdn_helo_hostname",
        Restriction::RejectNonFqdnHelo,
    ),
    ("reject_non_fqdn_hostname", Restriction::RejectNonFqdnHelo),
    ("reject_non_fqdn_sender", Restriction::RejectNonFqdnSender),
    (
        "reject_non_fqdn_recipient",
        Restriction::RejectNonFqdnRecipient,
    ),
    (
        "reject_invalid_helo_hostname",
        Restriction::RejectInvalidHelo,
    ),
    ("reject_invalid_hostname", Restriction::RejectInvalidHelo),
    (
        "reject_unknown_client_hostname",
        Restriction::RejectUnknownClient,
    ),
    ("reject_unknown_client", Restriction::RejectUnknownClient),
    (
        "reject_unauth_pipelining",
        Restriction::RejectUnauthPipelining,
    ),
    (
        "reject_multi_recipient_bounce",
        Restriction::RejectMultiRecipientBounce,
    ),
    (
        "reject_unknown_reverse_client_hostname",
        Restriction::RejectUnknownReverseClient,
    ),
    (
        "reject_unknown_helo_hostname",
        Restriction::RejectUnknownHelo,
    ),
    ("reject_unknown_hostname", Restriction::RejectUnknownHelo),
    (
        "reject_unknown_sender_domain",
        Restriction::RejectUnknownSenderDomain,
    ),
    (
        "reject_unknown_address",
        Restriction::RejectUnknownSenderDomain,
    ),
    ("permit_inet_interfaces", Restriction::PermitInetInterfaces),
    ("permit_naked_ip_address", Restriction::PermitNakedIpAddress),
    ("check_relay_domains", Restriction::CheckRelayDomains),
    ("reject_maps_rbl", Restriction::RejectMapsRbl),
    (
        "reject_unknown_recipient_domain",
        Restriction::RejectUnknownRecipientDomain,
    ),
    (
        "reject_sender_login_mismatch",
        Restriction::SenderLogin(LoginCheck::Both),
    ),
    (
        "reject_authenticated_sender_login_mismatch",
        Restriction::SenderLogin(LoginCheck::Authenticated),
    ),
    (
        "reject_known_sender_login_mismatch",
        Restriction::SenderLogin(LoginCheck::Known),
    ),
    (
        "reject_unauthenticated_sender_login_mismatch",
        Restriction::SenderLogin(LoginCheck::Unauthenticated),
    ),
];

/// The record types of the `check_*_{mx,ns,a}_access` restrictions.
const SERVER_TYPES: [(&str, dns::RrType); 3] = [
    ("mx", dns::RrType::Mx),
    ("ns", dns::RrType::Ns),
    ("a", dns::RrType::A),
];

/// `check_client_mx_access` and the like.
pub fn server_access_name(kind: AccessKind, rtype: dns::RrType) -> String {
    // check_reverse_client_hostname_access gives check_reverse_client_hostname_mx_access.
    let base = kind.name().trim_end_matches("_access");
    let suffix = SERVER_TYPES
        .iter()
        .find(|(_, t)| *t == rtype)
        .map_or("a", |(n, _)| n);
    format!("{base}_{suffix}_access")
}

/// The name of the restriction that pauses.
pub const SLEEP: &str = "sleep";

/// The name of the policy delegation restriction.
pub const POLICY: &str = "check_policy_service";

/// The access restrictions, which take a table.
const ACCESS: &[AccessKind] = &[
    AccessKind::Client,
    AccessKind::ReverseClient,
    AccessKind::Helo,
    AccessKind::Sender,
    AccessKind::Recipient,
    AccessKind::Ccert,
    AccessKind::Sasl,
    AccessKind::Etrn,
];

/// Parses a restriction list; `classes` are the names in `smtpd_restriction_classes`.
pub fn parse(text: &str, classes: &[String]) -> Vec<Restriction> {
    // Braces keep `inline:{ {a=b}, {c=d} }` one word, as Postfix's list parser does.
    let words = match util::tokens::split_braced(text, util::tokens::COMMA_SPACE) {
        Ok(words) => words,
        Err(e) => {
            log::msg_warn!("restriction list \"{text}\": {e}");
            return vec![Restriction::Unknown(text.to_string())];
        }
    };
    let mut words = words.into_iter();
    let mut list = Vec::new();
    while let Some(word) = words.next() {
        let lower = word.to_ascii_lowercase();
        let restriction = if let Some((_, r)) = SIMPLE.iter().find(|(n, _)| *n == lower) {
            r.clone()
        } else if let Some(&kind) = ACCESS.iter().find(|k| k.name() == lower) {
            match words.next() {
                Some(table) if table.contains(':') => Restriction::Access(kind, table.to_string()),
                _ => Restriction::Unknown(word.to_string()),
            }
        } else if let Some((kind, rtype)) = ACCESS
            .iter()
            .filter(|k| !matches!(k, AccessKind::Ccert | AccessKind::Sasl | AccessKind::Etrn))
            .flat_map(|k| SERVER_TYPES.iter().map(move |(_, t)| (*k, *t)))
            .find(|(k, t)| server_access_name(*k, *t) == lower)
        {
            match words.next() {
                Some(table) if table.contains(':') => {
                    Restriction::ServerAccess(kind, rtype, table.to_string())
                }
                _ => Restriction::Unknown(word.to_string()),
            }
        } else if let Some((_, kind)) = super::rbl::NAMES.iter().find(|(n, _)| *n == lower) {
            Restriction::Dnsxl(*kind, words.next().unwrap_or_default().to_string())
        } else if lower == SLEEP {
            Restriction::Sleep(words.next().unwrap_or_default().to_string())
        } else if lower == POLICY {
            match words.next() {
                Some(server) if server.contains(':') => Restriction::Policy(server.to_string()),
                _ => Restriction::Unknown(word.to_string()),
            }
        } else if classes.iter().any(|c| c == word) {
            Restriction::Class(word.to_string())
        } else {
            Restriction::Unknown(word.to_string())
        };
        list.push(restriction);
    }
    list
}

/// The tables a list names, for opening them before the jail.
pub fn tables(list: &[Restriction]) -> impl Iterator<Item = &str> {
    list.iter().filter_map(|r| match r {
        Restriction::Access(_, table) | Restriction::ServerAccess(_, _, table) => {
            Some(table.as_str())
        }
        _ => None,
    })
}

/// The policy servers a list names, for registering their clients at start-up.
pub fn policy_services(list: &[Restriction]) -> impl Iterator<Item = &str> {
    list.iter().filter_map(|r| match r {
        Restriction::Policy(server) => Some(server.as_str()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_tables_and_classes() {
        let classes = vec!["strict".to_string()];
        let list = parse(
            "permit_mynetworks, check_sender_access hash:/etc/x\n strict,reject_bogus \
             check_client_access",
            &classes,
        );
        let inline = parse(
            "check_sender_access inline:{{a=b}, {c=d}}, reject",
            &classes,
        );
        assert_eq!(
            inline[0],
            Restriction::Access(AccessKind::Sender, "inline:{{a=b}, {c=d}}".into())
        );
        assert_eq!(inline[1], Restriction::Reject);
        let server = parse(
            "check_sender_mx_access hash:/x check_reverse_client_hostname_ns_access cidr:/y",
            &classes,
        );
        assert_eq!(
            server,
            vec![
                Restriction::ServerAccess(AccessKind::Sender, dns::RrType::Mx, "hash:/x".into()),
                Restriction::ServerAccess(
                    AccessKind::ReverseClient,
                    dns::RrType::Ns,
                    "cidr:/y".into()
                ),
            ]
        );
        let policy = parse(
            "check_policy_service { inet:127.0.0.1:9998, timeout=10s }, \
             check_policy_service unix:private/policy",
            &classes,
        );
        assert_eq!(
            policy_services(&policy).collect::<Vec<_>>(),
            [
                "{ inet:127.0.0.1:9998, timeout=10s }",
                "unix:private/policy"
            ]
        );
        assert_eq!(
            list,
            vec![
                Restriction::PermitMynetworks,
                Restriction::Access(AccessKind::Sender, "hash:/etc/x".into()),
                Restriction::Class("strict".into()),
                Restriction::Unknown("reject_bogus".into()),
                Restriction::Unknown("check_client_access".into()),
            ]
        );
        assert_eq!(
            parse(
                "reject_unknown_address permit_inet_interfaces, sleep 3 \
                 check_sasl_access inline:{{u=OK}} permit_naked_ip_address",
                &classes
            ),
            vec![
                Restriction::RejectUnknownSenderDomain,
                Restriction::PermitInetInterfaces,
                Restriction::Sleep("3".into()),
                Restriction::Access(AccessKind::Sasl, "inline:{{u=OK}}".into()),
                Restriction::PermitNakedIpAddress,
            ]
        );
        assert_eq!(
            parse("permit_mx_backup", &classes),
            [Restriction::PermitMxBackup]
        );
        assert_eq!(
            parse("Check_Relay_Domains reject_maps_rbl", &classes),
            [Restriction::CheckRelayDomains, Restriction::RejectMapsRbl]
        );
        assert_eq!(
            parse("check_etrn_access cidr:/e", &classes),
            [Restriction::Access(AccessKind::Etrn, "cidr:/e".into())]
        );
        assert_eq!(
            parse("check_sasl_mx_access hash:/x", &classes)[0],
            Restriction::Unknown("check_sasl_mx_access".into())
        );
        assert_eq!(list[1].name(), "check_sender_access hash:/etc/x");
        assert_eq!(list[0].name(), "permit_mynetworks");
        assert_eq!(tables(&list).collect::<Vec<_>>(), vec!["hash:/etc/x"]);
    }
}
