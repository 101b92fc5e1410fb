//! The EHLO reply, and the keyword mask of `smtpd_discard_ehlo_keywords`.
//!
//! Postfix counterparts: `global/ehlo_mask.c` and the reply-building half of `ehlo_cmd()`
//! in `smtpd/smtpd.c`. The keywords come in Postfix's order: host name, PIPELINING, SIZE,
//! VRFY, ETRN, STARTTLS, AUTH, XVERP, XCLIENT, XFORWARD, ENHANCEDSTATUSCODES, 8BITMIME,
//! DSN, SMTPUTF8, CHUNKING. Each can be discarded by name, either for everyone
//! (`smtpd_discard_ehlo_keywords`) or per client address
//! (`smtpd_discard_ehlo_keyword_address_maps`, whose lookup is the session's: it yields
//! the same kind of list). A discarded keyword is also refused where it matters:
//! SMTPUTF8 and DSN parameters, BDAT, STARTTLS, AUTH (see the command modules).

use crate::notice::Notice;
use crate::reply::Reply;

/// A set of EHLO keywords (Postfix's `EHLO_MASK_*` bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EhloMask(u32);

impl EhloMask {
    /// 8BITMIME.
    pub const EIGHTBITMIME: EhloMask = EhloMask(1 << 0);
    /// PIPELINING.
    pub const PIPELINING: EhloMask = EhloMask(1 << 1);
    /// SIZE.
    pub const SIZE: EhloMask = EhloMask(1 << 2);
    /// VRFY.
    pub const VRFY: EhloMask = EhloMask(1 << 3);
    /// ETRN.
    pub const ETRN: EhloMask = EhloMask(1 << 4);
    /// AUTH.
    pub const AUTH: EhloMask = EhloMask(1 << 5);
    /// XVERP (named VERP in the parameter).
    pub const VERP: EhloMask = EhloMask(1 << 6);
    /// STARTTLS.
    pub const STARTTLS: EhloMask = EhloMask(1 << 7);
    /// XCLIENT.
    pub const XCLIENT: EhloMask = EhloMask(1 << 8);
    /// XFORWARD.
    pub const XFORWARD: EhloMask = EhloMask(1 << 9);
    /// ENHANCEDSTATUSCODES.
    pub const ENHANCEDSTATUSCODES: EhloMask = EhloMask(1 << 10);
    /// DSN.
    pub const DSN: EhloMask = EhloMask(1 << 11);
    /// SMTPUTF8.
    pub const SMTPUTF8: EhloMask = EhloMask(1 << 12);
    /// CHUNKING.
    pub const CHUNKING: EhloMask = EhloMask(1 << 13);
    /// `silent-discard`: do not log that keywords are discarded.
    pub const SILENT: EhloMask = EhloMask(1 << 15);

    /// The names the parameter accepts, in Postfix's table order (which is also the order
    /// of [`EhloMask::names`]).
    const NAMES: [(&'static str, EhloMask); 16] = [
        ("8BITMIME", EhloMask::EIGHTBITMIME),
        ("AUTH", EhloMask::AUTH),
        ("ETRN", EhloMask::ETRN),
        ("PIPELINING", EhloMask::PIPELINING),
        ("SIZE", EhloMask::SIZE),
        ("VERP", EhloMask::VERP),
        ("VRFY", EhloMask::VRFY),
        ("XCLIENT", EhloMask::XCLIENT),
        ("XFORWARD", EhloMask::XFORWARD),
        ("STARTTLS", EhloMask::STARTTLS),
        ("ENHANCEDSTATUSCODES", EhloMask::ENHANCEDSTATUSCODES),
        ("DSN", EhloMask::DSN),
        ("EHLO_MASK_SMTPUTF8", EhloMask::SMTPUTF8),
        ("SMTPUTF8", EhloMask::SMTPUTF8),
        ("CHUNKING", EhloMask::CHUNKING),
        ("SILENT-DISCARD", EhloMask::SILENT),
    ];

    /// The empty set.
    pub const NONE: EhloMask = EhloMask(0);

    /// The set named by a `smtpd_discard_ehlo_keywords` value (`ehlo_mask()`): names
    /// separated by commas or white space, any case; unknown names are ignored so that a
    /// main.cf works across Postfix versions.
    pub fn parse(list: &str) -> EhloMask {
        list.split([',', ' ', '\t', '\r', '\n'])
            .filter_map(|word| {
                EhloMask::NAMES
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(word))
            })
            .fold(EhloMask::NONE, |mask, &(_, bit)| mask | bit)
    }

    /// Whether every keyword of `other` is in this set.
    pub fn contains(self, other: EhloMask) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set's names as Postfix's `str_ehlo_mask()` writes them: in table order,
    /// separated by a space (a bit with two names shows its first name).
    pub fn names(self) -> String {
        let mut seen = EhloMask::NONE;
        let mut out = Vec::new();
        for &(name, bit) in &EhloMask::NAMES {
            if self.contains(bit) && !seen.contains(bit) {
                seen = seen | bit;
                out.push(name);
            }
        }
        out.join(" ")
    }
}

impl std::ops::BitOr for EhloMask {
    type Output = EhloMask;
    fn bitor(self, other: EhloMask) -> EhloMask {
        EhloMask(self.0 | other.0)
    }
}

/// What the server offers, before discarding: the session fills this from main.cf and
/// the client's standing.
#[derive(Debug, Clone, Default)]
pub struct Features<'a> {
    /// `myhostname`, the first line of the reply.
    pub myhostname: &'a str,
    /// `message_size_limit`; 0 means no limit (`SIZE` without a number).
    pub message_size_limit: u64,
    /// VRFY is on (`disable_vrfy_command = no`).
    pub vrfy: bool,
    /// STARTTLS can be offered: TLS is configured and not yet active.
    pub starttls: bool,
    /// The SASL mechanism list, when AUTH is offered to this client.
    pub auth: Option<&'a str>,
    /// `broken_sasl_auth_clients`: repeat the mechanisms as `AUTH=...`.
    pub broken_auth_clients: bool,
    /// The client may use XVERP (`smtpd_authorized_verp_clients`).
    pub xverp: bool,
    /// The client may use XCLIENT (`smtpd_authorized_xclient_hosts`).
    pub xclient: bool,
    /// The client may use XFORWARD (`smtpd_authorized_xforward_hosts`).
    pub xforward: bool,
    /// `smtputf8_enable`.
    pub smtputf8: bool,
}

/// The XCLIENT keyword with the attributes smtpd accepts.
const XCLIENT: &str = "XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT";
/// The XFORWARD keyword with its attributes.
const XFORWARD: &str = "XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT";

/// The EHLO reply for `features` without the keywords in `discard`.
pub fn ehlo_reply(features: &Features<'_>, discard: EhloMask) -> Reply {
    let offer = |bit: EhloMask, on: bool| on && !discard.contains(bit);
    let mut lines: Vec<String> = vec![features.myhostname.to_string()];
    if offer(EhloMask::PIPELINING, true) {
        lines.push("PIPELINING".into());
    }
    if offer(EhloMask::SIZE, true) {
        lines.push(match features.message_size_limit {
            0 => "SIZE".into(),
            limit => format!("SIZE {limit}"),
        });
    }
    if offer(EhloMask::VRFY, features.vrfy) {
        lines.push("VRFY".into());
    }
    if offer(EhloMask::ETRN, true) {
        lines.push("ETRN".into());
    }
    if offer(EhloMask::STARTTLS, features.starttls) {
        lines.push("STARTTLS".into());
    }
    if let Some(mechanisms) = features.auth.filter(|_| !discard.contains(EhloMask::AUTH)) {
        lines.push(format!("AUTH {mechanisms}"));
        if features.broken_auth_clients {
            lines.push(format!("AUTH={mechanisms}"));
        }
    }
    if offer(EhloMask::VERP, features.xverp) {
        lines.push("XVERP".into());
    }
    if offer(EhloMask::XCLIENT, features.xclient) {
        lines.push(XCLIENT.into());
    }
    if offer(EhloMask::XFORWARD, features.xforward) {
        lines.push(XFORWARD.into());
    }
    if offer(EhloMask::ENHANCEDSTATUSCODES, true) {
        lines.push("ENHANCEDSTATUSCODES".into());
    }
    if offer(EhloMask::EIGHTBITMIME, true) {
        lines.push("8BITMIME".into());
    }
    if offer(EhloMask::DSN, true) {
        lines.push("DSN".into());
    }
    if offer(EhloMask::SMTPUTF8, features.smtputf8) {
        lines.push("SMTPUTF8".into());
    }
    if offer(EhloMask::CHUNKING, true) {
        lines.push("CHUNKING".into());
    }
    Reply::multiline(250, lines)
}

/// The info line smtpd logs when it discards keywords (`discarding EHLO keywords: ...`),
/// `None` when it does not: nothing discarded, `silent-discard`, or ENHANCEDSTATUSCODES
/// discarded (Postfix's test, which also keeps a milter's reject quiet).
pub fn discard_notice(discard: EhloMask) -> Option<Notice> {
    let quiet = discard.is_empty()
        || discard.contains(EhloMask::SILENT)
        || discard.contains(EhloMask::ENHANCEDSTATUSCODES);
    (!quiet).then_some(Notice::DiscardingEhlo { mask: discard })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_names() {
        let mask = EhloMask::parse("pipelining, Silent-Discard dsn bogus smtputf8");
        assert!(mask.contains(EhloMask::PIPELINING | EhloMask::DSN | EhloMask::SMTPUTF8));
        assert_eq!(
            mask.names(),
            "PIPELINING DSN EHLO_MASK_SMTPUTF8 SILENT-DISCARD"
        );
        assert_eq!(discard_notice(mask), None);
        let ctx = crate::LogContext {
            namaddr: "",
            queue_id: None,
            utf8: true,
        };
        let notice = discard_notice(EhloMask::parse("vrfy,etrn")).unwrap();
        assert_eq!(notice.text(&ctx), "discarding EHLO keywords: ETRN VRFY");
    }

    #[test]
    fn everything_offered() {
        let features = Features {
            myhostname: "mx.example",
            message_size_limit: 10240000,
            vrfy: true,
            starttls: true,
            auth: Some("PLAIN LOGIN"),
            broken_auth_clients: true,
            xverp: true,
            xclient: true,
            xforward: true,
            smtputf8: true,
        };
        let reply = ehlo_reply(&features, EhloMask::NONE);
        let text = String::from_utf8(reply.to_wire()).unwrap();
        assert_eq!(
            text,
            "250-mx.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n\
             250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=PLAIN LOGIN\r\n250-XVERP\r\n\
             250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT\r\n\
             250-XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT\r\n250-ENHANCEDSTATUSCODES\r\n\
             250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"
        );
    }
}
