//! Why a table could not answer.
//!
//! Postfix counterparts: `DICT_ERR_RETRY` / `DICT_ERR_CONFIG` in `util/dict.h` and
//! `dict_surrogate.c`. Every error is temporary for mail: the message is deferred, not
//! bounced, because the table may be fixed.

/// A table failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DictError {
    /// The table could not be opened or its source is broken; the text says why.
    Open(String),
    /// A lookup failed (temporary).
    Retry(String),
}

impl std::fmt::Display for DictError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DictError::Open(text) | DictError::Retry(text) => f.write_str(text),
        }
    }
}

impl std::error::Error for DictError {}
