//! Recognizing header lines, and what Postfix knows about a header by its name.
//!
//! Postfix counterparts: `global/is_header.c` ([`is_header`]) and `global/header_opts.c`
//! ([`header_info`]). Postfix's table also gets a "drop" flag for the headers in
//! `message_drop_headers`; that is configuration, so it is left to the caller (cleanup).

use std::ops::BitOr;

/// The headers Postfix knows by name (`HDR_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // Each variant is the header of the same name.
pub enum HeaderType {
    ApparentlyTo,
    Bcc,
    Cc,
    ContentDescription,
    ContentDisposition,
    ContentId,
    ContentLength,
    ContentTransferEncoding,
    ContentType,
    DeliveredTo,
    DispositionNotificationTo,
    Date,
    ErrorsTo,
    From,
    MailFollowupTo,
    MessageId,
    MimeVersion,
    Received,
    ReplyTo,
    ResentBcc,
    ResentCc,
    ResentDate,
    ResentFrom,
    ResentMessageId,
    ResentReplyTo,
    ResentSender,
    ResentTo,
    ReturnPath,
    ReturnReceiptTo,
    Sender,
    To,
}

/// What a header holds (Postfix's `HDR_OPT_*`), combined with `|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct HeaderFlags(u8);

impl HeaderFlags {
    /// Nothing special.
    pub const NONE: HeaderFlags = HeaderFlags(0);
    /// Holds sender addresses (`HDR_OPT_SENDER`).
    pub const SENDER: HeaderFlags = HeaderFlags(1 << 1);
    /// Holds recipient addresses (`HDR_OPT_RECIP`).
    pub const RECIP: HeaderFlags = HeaderFlags(1 << 2);
    /// A `Resent-` header (`HDR_OPT_RR`).
    pub const RR: HeaderFlags = HeaderFlags(1 << 3);
    /// Recipients can be extracted from it, as `sendmail -t` does (`HDR_OPT_EXTRACT`).
    pub const EXTRACT: HeaderFlags = HeaderFlags(1 << 4);
    /// A MIME header (`HDR_OPT_MIME`).
    pub const MIME: HeaderFlags = HeaderFlags(1 << 5);
    /// Recipients that can be extracted (`HDR_OPT_XRECIP`).
    pub const XRECIP: HeaderFlags = HeaderFlags(Self::RECIP.0 | Self::EXTRACT.0);

    /// Whether every flag in `other` is set.
    pub const fn contains(self, other: HeaderFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for HeaderFlags {
    type Output = HeaderFlags;

    fn bitor(self, rhs: HeaderFlags) -> HeaderFlags {
        HeaderFlags(self.0 | rhs.0)
    }
}

/// One known header (`HEADER_OPTS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderInfo {
    /// The name in its preferred capitalization.
    pub name: &'static str,
    /// Which header it is.
    pub kind: HeaderType,
    /// What it holds.
    pub flags: HeaderFlags,
}

const fn info(name: &'static str, kind: HeaderType, flags: HeaderFlags) -> HeaderInfo {
    HeaderInfo { name, kind, flags }
}

const SENDER: HeaderFlags = HeaderFlags::SENDER;
const RR_SENDER: HeaderFlags = HeaderFlags(HeaderFlags::SENDER.0 | HeaderFlags::RR.0);
const XRECIP: HeaderFlags = HeaderFlags::XRECIP;
const RR_XRECIP: HeaderFlags = HeaderFlags(HeaderFlags::XRECIP.0 | HeaderFlags::RR.0);
const MIME: HeaderFlags = HeaderFlags::MIME;
const NONE: HeaderFlags = HeaderFlags::NONE;

/// Postfix 3.7's table, with its names and flags.
static HEADERS: [HeaderInfo; 31] = [
    info(
        "Apparently-To",
        HeaderType::ApparentlyTo,
        HeaderFlags::RECIP,
    ),
    info("Bcc", HeaderType::Bcc, XRECIP),
    info("Cc", HeaderType::Cc, XRECIP),
    info("Content-Description", HeaderType::ContentDescription, MIME),
    info("Content-Disposition", HeaderType::ContentDisposition, MIME),
    info("Content-ID", HeaderType::ContentId, MIME),
    info("Content-Length", HeaderType::ContentLength, NONE),
    info(
        "Content-Transfer-Encoding",
        HeaderType::ContentTransferEncoding,
        MIME,
    ),
    info("Content-Type", HeaderType::ContentType, MIME),
    info("Delivered-To", HeaderType::DeliveredTo, NONE),
    info(
        "Disposition-Notification-To",
        HeaderType::DispositionNotificationTo,
        SENDER,
    ),
    info("Date", HeaderType::Date, NONE),
    info("Errors-To", HeaderType::ErrorsTo, SENDER),
    info("From", HeaderType::From, SENDER),
    info("Mail-Followup-To", HeaderType::MailFollowupTo, SENDER),
    info("Message-Id", HeaderType::MessageId, NONE),
    info("MIME-Version", HeaderType::MimeVersion, MIME),
    info("Received", HeaderType::Received, NONE),
    info("Reply-To", HeaderType::ReplyTo, SENDER),
    info("Resent-Bcc", HeaderType::ResentBcc, RR_XRECIP),
    info("Resent-Cc", HeaderType::ResentCc, RR_XRECIP),
    info("Resent-Date", HeaderType::ResentDate, HeaderFlags::RR),
    info("Resent-From", HeaderType::ResentFrom, RR_SENDER),
    info(
        "Resent-Message-Id",
        HeaderType::ResentMessageId,
        HeaderFlags::RR,
    ),
    info(
        "Resent-Reply-To",
        HeaderType::ResentReplyTo,
        HeaderFlags(HeaderFlags::RECIP.0 | HeaderFlags::RR.0),
    ),
    info("Resent-Sender", HeaderType::ResentSender, RR_SENDER),
    info("Resent-To", HeaderType::ResentTo, RR_XRECIP),
    info("Return-Path", HeaderType::ReturnPath, SENDER),
    info("Return-Receipt-To", HeaderType::ReturnReceiptTo, SENDER),
    info("Sender", HeaderType::Sender, SENDER),
    info("To", HeaderType::To, XRECIP),
];

/// What Postfix knows about the header `text` (`header_opts_find()`): its name is the text
/// before the first colon (all of it without a colon), with trailing white space removed,
/// compared without regard to ASCII case. `None` for a header Postfix does not know.
pub fn header_info(text: &[u8]) -> Option<&'static HeaderInfo> {
    let name = match text.iter().position(|&b| b == b':') {
        Some(colon) => &text[..colon],
        None => text,
    };
    // C isspace(), which unlike Rust's ASCII white space includes the vertical tab.
    let end = name
        .iter()
        .rposition(|b| !b" \t\n\x0b\x0c\r".contains(b))
        .map_or(0, |last| last + 1);
    let name = &name[..end];
    HEADERS
        .iter()
        .find(|h| h.name.as_bytes().eq_ignore_ascii_case(name))
}

/// The length of the header name if `line` starts like a header, else 0 (`is_header_buf()`).
///
/// A header line is a name of printable ASCII characters, then optional spaces or tabs (the
/// obsolete `Name :` form), then a colon. The returned length excludes those spaces. A NUL,
/// a control character or a non-ASCII byte before the colon means "not a header".
pub fn is_header(line: &[u8]) -> usize {
    let mut len = 0;
    let mut after_space = false;
    for &c in line {
        match c {
            b':' => return len,
            b' ' | b'\t' => {
                if len == 0 {
                    return 0;
                }
                after_space = true;
            }
            _ if !c.is_ascii() || c.is_ascii_control() || after_space => return 0,
            _ => len += 1,
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_header_lines() {
        assert_eq!(is_header(b"Subject: x"), 7);
        assert_eq!(is_header(b"Subject :x"), 7);
        assert_eq!(is_header(b"Subject"), 0);
        assert_eq!(is_header(b" Subject: x"), 0);
        assert_eq!(is_header(b"Sub ject: x"), 0);
        assert_eq!(is_header(b":x"), 0);
        assert_eq!(is_header(b"Sub\x80: x"), 0);
        assert_eq!(is_header(b"Sub\0: x"), 0);
    }

    #[test]
    fn finds_known_headers() {
        let ct = header_info(b"content-TYPE: text/plain").map(|h| h.kind);
        assert_eq!(ct, Some(HeaderType::ContentType));
        assert_eq!(
            header_info(b"To \t: x").map(|h| h.flags),
            Some(HeaderFlags::XRECIP)
        );
        assert_eq!(header_info(b"X-Mailer: y"), None);
        assert_eq!(
            header_info(b"MIME-Version").map(|h| h.name),
            Some("MIME-Version")
        );
    }
}
