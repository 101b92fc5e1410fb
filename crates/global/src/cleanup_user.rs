//! The cleanup service's client interface: request flags and completion status.
//!
//! Postfix counterparts: `global/cleanup_user.h`, `cleanup_strerror.c`,
//! `cleanup_strflags.c`. A client (pickup, smtpd...) connects to the cleanup service,
//! reads the `queue_id` it allocated, sends `flags`, streams the message as records, ends
//! with an `E` record, and reads back `status` and `reason`. [`cleanup_stat_detail`]
//! turns a status into what a client answers its own client: the SMTP code (4xx: try
//! again, 5xx: give up), the enhanced status code and the text.

/// Bounce bad messages.
pub const FLAG_BOUNCE: u32 = 1 << 0;
/// Enable header/body checks.
pub const FLAG_FILTER: u32 = 1 << 1;
/// Place the message on hold.
pub const FLAG_HOLD: u32 = 1 << 2;
/// Discard the message silently.
pub const FLAG_DISCARD: u32 = 1 << 3;
/// Automatic BCC addresses may be added.
pub const FLAG_BCC_OK: u32 = 1 << 4;
/// Addresses may be mapped (canonical, virtual...).
pub const FLAG_MAP_OK: u32 = 1 << 5;
/// Enable Milter applications.
pub const FLAG_MILTER: u32 = 1 << 6;
/// Enable the SMTP reply.
pub const FLAG_SMTP_REPLY: u32 = 1 << 7;
/// SMTPUTF8 was requested.
pub const FLAG_SMTPUTF8: u32 = 1 << 8;
/// Detect whether the message needs SMTPUTF8.
pub const FLAG_AUTOUTF8: u32 = 1 << 9;
/// What is normally set for mail from outside the system.
pub const FLAG_MASK_EXTERNAL: u32 = FLAG_FILTER | FLAG_MILTER | FLAG_BCC_OK | FLAG_MAP_OK;

/// Success.
pub const STAT_OK: u32 = 0;
/// Internal protocol error.
pub const STAT_BAD: u32 = 1 << 0;
/// Error writing the queue file.
pub const STAT_WRITE: u32 = 1 << 1;
/// The message file grew too big.
pub const STAT_SIZE: u32 = 1 << 2;
/// Message content rejected.
pub const STAT_CONT: u32 = 1 << 3;
/// Too many hops.
pub const STAT_HOPS: u32 = 1 << 4;
/// No recipients found.
pub const STAT_RCPT: u32 = 1 << 6;
/// Rejected by a before-queue proxy.
pub const STAT_PROXY: u32 = 1 << 7;
/// Temporary reject.
pub const STAT_DEFER: u32 = 1 << 8;
/// Denied by a non-content policy.
pub const STAT_NOPERM: u32 = 1 << 9;
/// Bare <LF> received.
pub const STAT_BARE_LF: u32 = 1 << 16;

/// What a cleanup status means to the client's own client (Postfix's
/// `CLEANUP_STAT_DETAIL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatDetail {
    /// The status bit this describes (0 for success, and for an unknown status).
    pub status: u32,
    /// The SMTP reply code: 2xx done, 4xx try again later, 5xx do not.
    pub smtp: u16,
    /// The enhanced status code (RFC 3463).
    pub dsn: &'static str,
    /// The text, as Postfix words it.
    pub text: &'static str,
}

impl StatDetail {
    /// Whether the client should try again later (a 4xx reply).
    pub fn is_temporary(&self) -> bool {
        self.smtp / 100 == 4
    }
}

/// The problems in the order Postfix reports them: most severe first, because only one is.
const STAT_DETAILS: &[StatDetail] = &[
    detail(STAT_DEFER, 451, "4.7.1", "service unavailable"),
    detail(STAT_PROXY, 451, "4.3.0", "queue file write error"),
    detail(STAT_BAD, 451, "4.3.0", "internal protocol error"),
    detail(STAT_RCPT, 550, "5.1.0", "no recipients specified"),
    detail(STAT_HOPS, 554, "5.4.0", "too many hops"),
    detail(STAT_SIZE, 552, "5.3.4", "message file too big"),
    detail(STAT_CONT, 550, "5.7.1", "message content rejected"),
    detail(STAT_WRITE, 451, "4.3.0", "queue file write error"),
    detail(STAT_NOPERM, 550, "5.7.1", "service denied"),
    detail(STAT_BARE_LF, 521, "5.5.2", "bare <LF> received"),
];

const fn detail(status: u32, smtp: u16, dsn: &'static str, text: &'static str) -> StatDetail {
    StatDetail {
        status,
        smtp,
        dsn,
        text,
    }
}

/// The most severe problem in `status` (Postfix's `cleanup_stat_detail()`); an unknown
/// status is a temporary failure.
pub fn cleanup_stat_detail(status: u32) -> StatDetail {
    if status == STAT_OK {
        return detail(STAT_OK, 250, "2.0.0", "Success");
    }
    STAT_DETAILS
        .iter()
        .find(|d| status & d.status != 0)
        .copied()
        .unwrap_or(detail(0, 451, "4.3.0", "unknown cleanup status"))
}

/// The most severe problem in `status`, as Postfix words it.
pub fn cleanup_strerror(status: u32) -> &'static str {
    cleanup_stat_detail(status).text
}

/// The flags by name, for verbose logging (`enable_bad_mail_bounce enable_milters`).
pub fn cleanup_strflags(flags: u32) -> String {
    const MAP: &[(u32, &str)] = &[
        (FLAG_BOUNCE, "enable_bad_mail_bounce"),
        (FLAG_FILTER, "enable_header_body_filter"),
        (FLAG_HOLD, "hold_message"),
        (FLAG_DISCARD, "discard_message"),
        (FLAG_BCC_OK, "enable_automatic_bcc"),
        (FLAG_MAP_OK, "enable_address_mapping"),
        (FLAG_MILTER, "enable_milters"),
        (FLAG_SMTP_REPLY, "enable_smtp_reply"),
        (FLAG_SMTPUTF8, "smtputf8_requested"),
        (FLAG_AUTOUTF8, "smtputf8_autodetect"),
    ];
    if flags == 0 {
        return "none".to_string();
    }
    let names: Vec<&str> = MAP
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    let rest = flags & !MAP.iter().fold(0, |all, (bit, _)| all | bit);
    let mut text = names.join(" ");
    if rest != 0 {
        text.push_str(&format!(" 0x{rest:x}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_severe_first() {
        assert_eq!(cleanup_strerror(0), "Success");
        assert_eq!(
            cleanup_strerror(STAT_WRITE | STAT_RCPT),
            "no recipients specified"
        );
        assert_eq!(cleanup_strerror(STAT_WRITE), "queue file write error");
        assert_eq!(cleanup_strerror(1 << 20), "unknown cleanup status");
    }

    #[test]
    fn details_tell_temporary_from_permanent() {
        let write = cleanup_stat_detail(STAT_WRITE);
        assert_eq!((write.smtp, write.dsn), (451, "4.3.0"));
        assert!(write.is_temporary());
        let size = cleanup_stat_detail(STAT_SIZE | STAT_WRITE);
        assert_eq!(
            (size.smtp, size.dsn, size.text),
            (552, "5.3.4", "message file too big")
        );
        assert!(!size.is_temporary());
        assert!(cleanup_stat_detail(1 << 20).is_temporary());
        assert_eq!(cleanup_stat_detail(STAT_OK).smtp, 250);
    }

    #[test]
    fn flags_by_name() {
        assert_eq!(cleanup_strflags(0), "none");
        assert_eq!(
            cleanup_strflags(FLAG_BOUNCE | FLAG_MASK_EXTERNAL),
            "enable_bad_mail_bounce enable_header_body_filter enable_automatic_bcc enable_address_mapping enable_milters"
        );
    }
}
