//! A stand-in for a table that could not be opened, so that a daemon keeps running.
//!
//! Postfix counterpart: `util/dict_surrogate.c`. When a table cannot be opened, a daemon
//! (whose skeleton called [`allow_surrogate`]) logs the reason once as an `error:` and
//! gets this table instead: every access logs `warning: type:name is unavailable.
//! <reason>` and fails as a lookup error, so the caller defers the mail as it does for any
//! failed lookup, and the mail that never needs the table still flows. Commands (postmap,
//! postalias, postconf) never allow it: for them the failure stays fatal at open time,
//! because nobody would read a warning from a command that then goes on.
//!
//! The open failure is logged when it happens, not at the first lookup, so that a
//! configuration mistake is noticed even if the table is rarely used.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::{Dict, DictError, dict_flags};

/// Whether a failed open gives a surrogate (Postfix's `dict_allow_surrogate`).
static ALLOW: AtomicBool = AtomicBool::new(false);

/// Lets failed opens give a surrogate table instead of ending the process; the daemon
/// skeletons call it at start-up.
pub fn allow_surrogate(allow: bool) {
    ALLOW.store(allow, Ordering::Relaxed);
}

/// Whether [`allow_surrogate`] was called with `true`.
pub fn surrogate_allowed() -> bool {
    ALLOW.load(Ordering::Relaxed)
}

/// A table that answers every access with its open failure.
pub struct Surrogate {
    spec: String,
    reason: String,
}

impl Surrogate {
    /// Logs the open failure as an `error:` (it counts toward the process's error limit)
    /// and returns the stand-in for `spec`.
    pub fn new(spec: &str, reason: &DictError) -> Surrogate {
        log::msg_error!("{reason}");
        Surrogate {
            spec: spec.to_string(),
            reason: reason.text().to_string(),
        }
    }

    fn unavailable(&self) -> DictError {
        log::msg_warn!("{} is unavailable. {}", self.spec, self.reason);
        DictError::Retry(self.reason.clone())
    }
}

impl Dict for Surrogate {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, _key: &str) -> Result<Option<String>, DictError> {
        Err(self.unavailable())
    }

    fn entries(&self) -> Result<Option<Vec<(String, String)>>, DictError> {
        Err(self.unavailable())
    }

    /// A pattern table, as Postfix marks it: a partial search (`@domain`, `user@`) skips
    /// it, and only the whole-address lookup reports the failure.
    fn impl_flags(&self) -> u32 {
        dict_flags::PATTERN
    }
}
