//! The MIME processing errors, and their texts and DSN codes.
//!
//! Postfix counterpart: the `MIME_ERR_*` bits of `global/mime_state.h` and
//! `mime_state_error()` / `mime_state_detail()` in `global/mime_state.c`. None of these errors
//! stops processing; the caller decides what they mean (Postfix's cleanup turns on the
//! reports according to its `strict_*` settings and rejects the message for them).

use std::ops::{BitOr, BitOrAssign};

/// A set of MIME errors (Postfix's `MIME_ERR_*` bits), combined with `|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MimeErrors(u32);

impl MimeErrors {
    /// No error.
    pub const NONE: MimeErrors = MimeErrors(0);
    /// Multipart nesting beyond `mime_nesting_limit` (`MIME_ERR_NESTING`).
    pub const NESTING: MimeErrors = MimeErrors(1 << 0);
    /// A header longer than `header_size_limit` (`MIME_ERR_TRUNC_HEADER`).
    pub const TRUNC_HEADER: MimeErrors = MimeErrors(1 << 1);
    /// 8-bit data in a header (`MIME_ERR_8BIT_IN_HEADER`).
    pub const EIGHT_BIT_IN_HEADER: MimeErrors = MimeErrors(1 << 2);
    /// 8-bit data in a body that is, or defaults to, 7bit (`MIME_ERR_8BIT_IN_7BIT_BODY`).
    pub const EIGHT_BIT_IN_7BIT_BODY: MimeErrors = MimeErrors(1 << 3);
    /// A message/* or multipart/* entity with a non-identity encoding
    /// (`MIME_ERR_ENCODING_DOMAIN`).
    pub const ENCODING_DOMAIN: MimeErrors = MimeErrors(1 << 4);

    /// The errors as Postfix's bit mask.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Errors from Postfix's bit mask; unknown bits are dropped.
    pub const fn from_bits(bits: u32) -> MimeErrors {
        MimeErrors(bits & 0x1f)
    }

    /// Whether there is no error.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every error in `other` is in `self`.
    pub const fn contains(self, other: MimeErrors) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any error in `other` is in `self`.
    pub const fn intersects(self, other: MimeErrors) -> bool {
        self.0 & other.0 != 0
    }

    /// The table entry of the most serious error in the set (`mime_state_detail()`), or
    /// `None` for an empty set.
    pub fn detail(self) -> Option<&'static MimeErrorDetail> {
        DETAILS.iter().find(|d| self.intersects(d.code))
    }

    /// The text of the most serious error in the set (`mime_state_error()`), or `None` for
    /// an empty set.
    pub fn text(self) -> Option<&'static str> {
        self.detail().map(|d| d.text)
    }
}

impl BitOr for MimeErrors {
    type Output = MimeErrors;

    fn bitor(self, rhs: MimeErrors) -> MimeErrors {
        MimeErrors(self.0 | rhs.0)
    }
}

impl BitOrAssign for MimeErrors {
    fn bitor_assign(&mut self, rhs: MimeErrors) {
        self.0 |= rhs.0;
    }
}

/// What Postfix says about an error (`MIME_STATE_DETAIL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MimeErrorDetail {
    /// The error.
    pub code: MimeErrors,
    /// Its RFC 3463 enhanced status code.
    pub dsn: &'static str,
    /// Its text, as in Postfix's logging and bounces.
    pub text: &'static str,
}

/// Most serious first: a set of errors is described by the first entry it contains.
pub const DETAILS: [MimeErrorDetail; 5] = [
    MimeErrorDetail {
        code: MimeErrors::NESTING,
        dsn: "5.6.0",
        text: "MIME nesting exceeds safety limit",
    },
    MimeErrorDetail {
        code: MimeErrors::TRUNC_HEADER,
        dsn: "5.6.0",
        text: "message header length exceeds safety limit",
    },
    MimeErrorDetail {
        code: MimeErrors::EIGHT_BIT_IN_HEADER,
        dsn: "5.6.0",
        text: "improper use of 8-bit data in message header",
    },
    MimeErrorDetail {
        code: MimeErrors::EIGHT_BIT_IN_7BIT_BODY,
        dsn: "5.6.0",
        text: "improper use of 8-bit data in message body",
    },
    MimeErrorDetail {
        code: MimeErrors::ENCODING_DOMAIN,
        dsn: "5.6.0",
        text: "invalid message/* or multipart/* encoding domain",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_serious_error_wins() {
        let both = MimeErrors::ENCODING_DOMAIN | MimeErrors::TRUNC_HEADER;
        assert_eq!(
            both.text(),
            Some("message header length exceeds safety limit")
        );
        assert_eq!(MimeErrors::NONE.detail(), None);
        assert_eq!(
            MimeErrors::EIGHT_BIT_IN_7BIT_BODY.detail().map(|d| d.dsn),
            Some("5.6.0")
        );
    }
}
