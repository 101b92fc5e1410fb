//! The values of the DSN parameters RET= (MAIL) and NOTIFY= (RCPT), RFC 3461.
//!
//! Postfix counterparts: `global/dsn_mask.c` and `dsn_mask.h`. The numbers are Postfix's,
//! because they go into queue file records as they are (`notify_flags=N`, `ret_flags=N`).

/// RET=FULL: return the whole message.
pub const RET_FULL: u32 = 1 << 0;
/// RET=HDRS: return the headers only.
pub const RET_HDRS: u32 = 1 << 1;

/// NOTIFY=NEVER.
pub const NOTIFY_NEVER: u32 = 1 << 0;
/// NOTIFY=SUCCESS.
pub const NOTIFY_SUCCESS: u32 = 1 << 1;
/// NOTIFY=FAILURE.
pub const NOTIFY_FAILURE: u32 = 1 << 2;
/// NOTIFY=DELAY.
pub const NOTIFY_DELAY: u32 = 1 << 3;

const NOTIFY_ANY: u32 = NOTIFY_SUCCESS | NOTIFY_FAILURE | NOTIFY_DELAY;

/// The RET= value `FULL` or `HDRS` (any case), `None` for anything else (`dsn_ret_code()`).
pub fn ret_code(value: &[u8]) -> Option<u32> {
    if value.eq_ignore_ascii_case(b"FULL") {
        Some(RET_FULL)
    } else if value.eq_ignore_ascii_case(b"HDRS") {
        Some(RET_HDRS)
    } else {
        None
    }
}

/// Why a NOTIFY= value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyError {
    /// A word that is not NEVER, SUCCESS, FAILURE or DELAY; Postfix warns `unknown DSN
    /// NOTIFY command value "WORD" in "VALUE"`.
    Unknown {
        /// The word.
        word: Vec<u8>,
    },
    /// No word, or NEVER together with another word.
    Invalid,
}

/// The NOTIFY= value as a mask (`dsn_notify_mask()`): words separated by commas or white
/// space, any case; NEVER alone or any of SUCCESS, FAILURE, DELAY.
pub fn notify_mask(value: &[u8]) -> Result<u32, NotifyError> {
    const NAMES: [(&str, u32); 4] = [
        ("NEVER", NOTIFY_NEVER),
        ("SUCCESS", NOTIFY_SUCCESS),
        ("FAILURE", NOTIFY_FAILURE),
        ("DELAY", NOTIFY_DELAY),
    ];
    let mut mask = 0;
    for word in value
        .split(|b| matches!(b, b',' | b' ' | b'\t' | b'\r' | b'\n'))
        .filter(|w| !w.is_empty())
    {
        match NAMES
            .iter()
            .find(|(name, _)| word.eq_ignore_ascii_case(name.as_bytes()))
        {
            Some(&(_, bit)) => mask |= bit,
            None => {
                return Err(NotifyError::Unknown {
                    word: word.to_vec(),
                });
            }
        }
    }
    let valid = mask == NOTIFY_NEVER || (mask != 0 && mask & !NOTIFY_ANY == 0);
    if valid {
        Ok(mask)
    } else {
        Err(NotifyError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify() {
        assert_eq!(
            notify_mask(b"success,Delay"),
            Ok(NOTIFY_SUCCESS | NOTIFY_DELAY)
        );
        assert_eq!(notify_mask(b"NEVER"), Ok(NOTIFY_NEVER));
        assert_eq!(notify_mask(b",FAILURE,"), Ok(NOTIFY_FAILURE));
        assert_eq!(notify_mask(b"NEVER,SUCCESS"), Err(NotifyError::Invalid));
        assert_eq!(notify_mask(b""), Err(NotifyError::Invalid));
        assert_eq!(
            notify_mask(b"x,bogus"),
            Err(NotifyError::Unknown {
                word: b"x".to_vec()
            })
        );
    }

    #[test]
    fn ret() {
        assert_eq!(ret_code(b"hdrs"), Some(RET_HDRS));
        assert_eq!(ret_code(b"FULLX"), None);
    }
}
