//! How addresses appear in informational log records (`from=<...>`, `to=<...>`).
//!
//! Postfix counterpart: `global/info_log_addr_form.c`. With `info_log_address_format =
//! external` (the default) an address is quoted as in message headers (`"a b"@example`);
//! with `internal` it is logged as stored. The null address stays empty either way.

use params::Config;
use params::decl::logging::INFO_LOG_ADDRESS_FORMAT;
use rfc822::quote::{QuoteFlags, quote_822_local};
use std::borrow::Cow;

/// The configured form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrForm {
    /// As stored in the queue file.
    Internal,
    /// Quoted as in message headers.
    External,
}

impl AddrForm {
    /// The form info_log_address_format names; another value is a configuration error
    /// with Postfix's text.
    pub fn from_config(config: &Config) -> Result<AddrForm, String> {
        let value = config
            .str(&INFO_LOG_ADDRESS_FORMAT)
            .map_err(|e| e.to_string())?;
        match value.as_str() {
            "external" => Ok(AddrForm::External),
            "internal" => Ok(AddrForm::Internal),
            _ => Err(format!(
                "invalid parameter setting \"{} = {value}\"",
                INFO_LOG_ADDRESS_FORMAT.name
            )),
        }
    }

    /// `addr` (internal form) as it should appear in the log.
    pub fn format<'a>(&self, addr: &'a str) -> Cow<'a, str> {
        if addr.is_empty() || *self == AddrForm::Internal {
            Cow::Borrowed(addr)
        } else {
            Cow::Owned(quote_822_local(addr, QuoteFlags::EIGHT_BIT_CLEAN))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_quotes_internal_does_not() {
        assert_eq!(AddrForm::External.format("a b@example"), "\"a b\"@example");
        assert_eq!(AddrForm::Internal.format("a b@example"), "a b@example");
        assert_eq!(AddrForm::External.format(""), "");
        assert_eq!(AddrForm::External.format("root"), "root");
    }
}
