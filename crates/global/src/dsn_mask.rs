//! DSN request values: which delivery notifications a sender wants (NOTIFY) and how much
//! of the message comes back (RET), as names and as the bits queue files carry.
//!
//! Postfix counterpart: `global/dsn_mask.c` and `dsn_mask.h`. sendmail's `-N` and `-R`
//! options read them now; smtpd's `RCPT TO ... NOTIFY=` and `MAIL FROM ... RET=` will.
//! Names match in any case. NEVER cannot be combined with another NOTIFY value.

/// No notification at all.
pub const NOTIFY_NEVER: u32 = 1 << 0;
/// Notify on delivery.
pub const NOTIFY_SUCCESS: u32 = 1 << 1;
/// Notify on failure.
pub const NOTIFY_FAILURE: u32 = 1 << 2;
/// Notify on delay.
pub const NOTIFY_DELAY: u32 = 1 << 3;
/// Any notification but NEVER.
pub const NOTIFY_ANY: u32 = NOTIFY_SUCCESS | NOTIFY_FAILURE | NOTIFY_DELAY;

/// Return the full message.
pub const RET_FULL: u32 = 1;
/// Return the headers only.
pub const RET_HDRS: u32 = 2;

const NOTIFY_NAMES: &[(&str, u32)] = &[
    ("NEVER", NOTIFY_NEVER),
    ("SUCCESS", NOTIFY_SUCCESS),
    ("FAILURE", NOTIFY_FAILURE),
    ("DELAY", NOTIFY_DELAY),
];

/// Whether a NOTIFY mask is one a client may ask for: NEVER alone, or any others.
pub fn notify_ok(mask: u32) -> bool {
    mask == NOTIFY_NEVER || (mask != 0 && mask & NOTIFY_NEVER == 0)
}

/// Why a NOTIFY value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyError {
    /// A word that is no NOTIFY value; the text is Postfix's warning (`unknown DSN
    /// NOTIFY command value "x" in "x"`).
    Unknown(String),
    /// No value, or NEVER together with another value.
    Invalid,
}

impl std::fmt::Display for NotifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotifyError::Unknown(text) => f.write_str(text),
            NotifyError::Invalid => f.write_str("invalid DSN NOTIFY value"),
        }
    }
}

impl std::error::Error for NotifyError {}

/// The mask for a NOTIFY list (`success,delay`): Postfix's `dsn_notify_mask()`.
pub fn dsn_notify_mask(text: &str) -> Result<u32, NotifyError> {
    let mask = util::name_mask::name_mask_opt("DSN NOTIFY command", NOTIFY_NAMES, text, true)
        .map_err(NotifyError::Unknown)?;
    if notify_ok(mask) {
        Ok(mask)
    } else {
        Err(NotifyError::Invalid)
    }
}

/// The code for a RET value (`FULL` or `HDRS`, any case): Postfix's `dsn_ret_code()`;
/// None for anything else.
pub fn dsn_ret_code(text: &str) -> Option<u32> {
    if text.eq_ignore_ascii_case("FULL") {
        Some(RET_FULL)
    } else if text.eq_ignore_ascii_case("HDRS") {
        Some(RET_HDRS)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_masks() {
        assert_eq!(dsn_notify_mask("never"), Ok(NOTIFY_NEVER));
        assert_eq!(
            dsn_notify_mask("success,FAILURE"),
            Ok(NOTIFY_SUCCESS | NOTIFY_FAILURE)
        );
        assert_eq!(dsn_notify_mask("never,success"), Err(NotifyError::Invalid));
        assert_eq!(dsn_notify_mask(""), Err(NotifyError::Invalid));
        assert_eq!(
            dsn_notify_mask("sometimes").unwrap_err().to_string(),
            "unknown DSN NOTIFY command value \"sometimes\" in \"sometimes\""
        );
    }

    #[test]
    fn ret_codes() {
        assert_eq!(dsn_ret_code("full"), Some(RET_FULL));
        assert_eq!(dsn_ret_code("HDRS"), Some(RET_HDRS));
        assert_eq!(dsn_ret_code("headers"), None);
    }
}
