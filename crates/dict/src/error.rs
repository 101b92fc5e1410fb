//! Why a table could not answer.
//!
//! Postfix counterparts: `DICT_ERR_RETRY` / `DICT_ERR_CONFIG` in `util/dict.h` and
//! `dict_surrogate.c`. "Not found" is no error (a lookup's `Ok(None)`). The variants let a
//! daemon decide without reading the text: every one is temporary for mail (the message is
//! deferred, not bounced, because the table may be fixed), but a configuration error
//! needs the administrator, so a daemon may log it louder or stop using the table, while a
//! failed lookup is worth retrying at once. The text is Postfix's message, which the
//! caller logs as it is.

/// A table failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DictError {
    /// The table's specification or configuration is wrong: an unsupported type, bad
    /// syntax in `type:name`, a table the proxymap service will not serve. Nothing
    /// changes until someone edits the configuration (`DICT_ERR_CONFIG`).
    Config(String),
    /// The table could not be opened or written, or its file is broken: missing,
    /// unreadable, truncated.
    Open(String),
    /// A lookup failed and may work later (`DICT_ERR_RETRY`).
    Retry(String),
}

impl DictError {
    /// The same kind of failure in other words (a caller that reports it its own way).
    pub fn reworded(&self, text: String) -> DictError {
        match self {
            DictError::Config(_) => DictError::Config(text),
            DictError::Open(_) => DictError::Open(text),
            DictError::Retry(_) => DictError::Retry(text),
        }
    }

    /// Postfix's message.
    pub fn text(&self) -> &str {
        match self {
            DictError::Config(text) | DictError::Open(text) | DictError::Retry(text) => text,
        }
    }
}

impl std::fmt::Display for DictError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())
    }
}

impl std::error::Error for DictError {}
