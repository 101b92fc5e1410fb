//! What address lookups need to know about the mail system, read from main.cf once: the
//! context [`crate::mail_addr_find`] takes for its `user` and `user+ext` forms.
//!
//! Postfix counterpart: the globals (`var_rcpt_delim`, `var_myorigin`,
//! `var_double_bounce_sender`, `var_ownreq_special`, `resolve_local()`) that Postfix's
//! `mail_addr_find()` reads; here they are one value that smtpd (and later the other
//! table users) builds before the jail.

use crate::mail_addr_find::Context;
use crate::maps::MapsError;
use crate::resolve_local::ResolveLocal;

/// The lookup context, owned.
pub struct AddrContext {
    delimiters: String,
    myorigin: String,
    double_bounce_sender: String,
    owner_request_special: bool,
    local: ResolveLocal,
}

impl AddrContext {
    /// The context main.cf gives.
    pub fn from_config(config: &params::Config) -> Result<AddrContext, params::ConfigError> {
        use params::decl::address::{OWNER_REQUEST_SPECIAL, RECIPIENT_DELIMITER};
        Ok(AddrContext {
            delimiters: config.str(&RECIPIENT_DELIMITER)?,
            myorigin: config.str(&params::decl::identity::MYORIGIN)?,
            double_bounce_sender: config.str(&params::decl::queue::DOUBLE_BOUNCE_SENDER)?,
            owner_request_special: config.bool(&OWNER_REQUEST_SPECIAL)?,
            local: ResolveLocal::new(config)?,
        })
    }

    /// `recipient_delimiter`.
    pub fn delimiters(&self) -> &str {
        &self.delimiters
    }

    /// `double_bounce_sender`.
    pub fn double_bounce_sender(&self) -> &str {
        &self.double_bounce_sender
    }

    /// Runs `f` with the lookup context.
    pub fn with<R>(&self, f: impl FnOnce(&Context) -> R) -> R {
        let is_local = |domain: &str| -> Result<bool, MapsError> { self.local.is_local(domain) };
        let context = Context {
            delimiters: &self.delimiters,
            myorigin: &self.myorigin,
            double_bounce_sender: &self.double_bounce_sender,
            owner_request_special: self.owner_request_special,
            is_local: &is_local,
        };
        f(&context)
    }
}
