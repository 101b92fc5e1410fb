//! The cleanup service's client interface: request flags and completion status.
//!
//! Postfix counterparts: `global/cleanup_user.h`, `cleanup_strerror.c`,
//! `cleanup_strflags.c`. A client (pickup, smtpd...) connects to the cleanup service,
//! reads the `queue_id` it allocated, sends `flags`, streams the message as records, ends
//! with an `E` record, and reads back `status` and `reason`.

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

/// The most severe problem in `status`, as Postfix words it; most severe first because
/// only one is reported.
pub fn cleanup_strerror(status: u32) -> &'static str {
    const MAP: &[(u32, &str)] = &[
        (STAT_DEFER, "service unavailable"),
        (STAT_PROXY, "queue file write error"),
        (STAT_BAD, "internal protocol error"),
        (STAT_RCPT, "no recipients specified"),
        (STAT_HOPS, "too many hops"),
        (STAT_SIZE, "message file too big"),
        (STAT_CONT, "message content rejected"),
        (STAT_WRITE, "queue file write error"),
        (STAT_NOPERM, "service denied"),
        (STAT_BARE_LF, "bare <LF> received"),
    ];
    if status == STAT_OK {
        return "Success";
    }
    MAP.iter()
        .find(|(bit, _)| status & bit != 0)
        .map_or("unknown cleanup status", |(_, text)| text)
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
