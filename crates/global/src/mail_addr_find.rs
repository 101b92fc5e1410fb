//! Finding an address in tables the way Postfix does: `user+ext@domain`, `user@domain`,
//! `user+ext`, `user` (only for local domains), `@domain`, and for some callers the domain
//! and its parents.
//!
//! Postfix counterparts: `global/mail_addr_find.c`, `split_addr.c`, `strip_addr.c`. Which
//! forms are tried is the caller's strategy (virtual(5), canonical(5), access(5) and
//! transport(5) each use their own). Pattern tables are asked only for the whole address.
//! A key may be queried in internal (unquoted) or external (quoted) form, or one and then
//! the other, as tables written for either form expect. The address extension that was
//! stripped to find an entry is returned, so aliases can propagate it.

use crate::maps::{Maps, MapsError};
use rfc822::quote::{QuoteFlags, quote_822_local, unquote_822_local};

/// Which key forms are tried (MA_FIND_* in Postfix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strategy(pub u32);

impl Strategy {
    /// `user+ext@domain`.
    pub const FULL: Strategy = Strategy(1 << 0);
    /// `user@domain` (extension stripped).
    pub const NOEXT: Strategy = Strategy(1 << 1);
    /// `user+ext`, `user` when the domain is local.
    pub const LOCALPART_IF_LOCAL: Strategy = Strategy(1 << 2);
    /// `user+ext@`, `user@` when the domain is local.
    pub const LOCALPART_AT_IF_LOCAL: Strategy = Strategy(1 << 3);
    /// `@domain`.
    pub const AT_DOMAIN: Strategy = Strategy(1 << 4);
    /// `domain`.
    pub const DOMAIN: Strategy = Strategy(1 << 5);
    /// Then parent domains: `example.com` for `a.example.com`.
    pub const PDMS: Strategy = Strategy(1 << 6);
    /// Then dot-parent domains: `.example.com` for `a.example.com`.
    pub const PDDMDS: Strategy = Strategy(1 << 7);
    /// `user+ext@`, `user@` for any domain.
    pub const LOCALPART_AT: Strategy = Strategy(1 << 8);
    /// What virtual(5), canonical(5) and aliases use.
    pub const DEFAULT: Strategy = Strategy(1 | 2 | 4 | 16);

    fn has(self, other: Strategy) -> bool {
        self.0 & other.0 != 0
    }
}

impl std::ops::BitOr for Strategy {
    type Output = Strategy;
    fn bitor(self, other: Strategy) -> Strategy {
        Strategy(self.0 | other.0)
    }
}

/// Address forms (MA_FORM_* in Postfix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Unquoted: `foo bar@example.com`.
    Internal,
    /// Quoted: `"foo bar"@example.com`.
    External,
    /// Quoted, then unquoted if different.
    ExternalFirst,
    /// Unquoted, then quoted if different.
    InternalFirst,
}

impl Form {
    /// Postfix's names: internal, external, external-first, internal-first.
    pub fn from_name(name: &str) -> Option<Form> {
        Some(match name {
            "internal" => Form::Internal,
            "external" => Form::External,
            "external-first" => Form::ExternalFirst,
            "internal-first" => Form::InternalFirst,
            _ => return None,
        })
    }
}

/// What the lookup needs to know about the mail system.
pub struct Context<'a> {
    /// recipient_delimiter.
    pub delimiters: &'a str,
    /// myorigin: always counts as local for the local-part forms.
    pub myorigin: &'a str,
    /// double_bounce_sender: never split.
    pub double_bounce_sender: &'a str,
    /// owner_request_special: keep `owner-x` and `x-request` whole with a `-` delimiter.
    pub owner_request_special: bool,
    /// Whether a domain is local (resolve_local): Ok(true/false) or a lookup error.
    pub is_local: &'a dyn Fn(&str) -> Result<bool, MapsError>,
}

/// A found value and the extension stripped to find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The table's value (in the requested output form).
    pub value: String,
    /// `+ext` (with its delimiter) when `user+ext@domain` matched as `user@domain` or `user`.
    pub extension: Option<String>,
}

/// Splits `localpart` at the first delimiter: (base, extension), or None when it must
/// not be split (postmaster, MAILER-DAEMON, the double-bounce sender, owner-x and
/// x-request with a `-` delimiter, or an empty base or extension).
pub fn split_localpart<'a>(localpart: &'a str, context: &Context) -> Option<(&'a str, &'a str)> {
    let never = ["postmaster", "mailer-daemon", context.double_bounce_sender];
    if never.iter().any(|n| localpart.eq_ignore_ascii_case(n)) {
        return None;
    }
    if context.delimiters.contains('-') && context.owner_request_special {
        let lower = localpart.to_ascii_lowercase();
        if lower.starts_with("owner-") || (lower.len() > 8 && lower.ends_with("-request")) {
            return None;
        }
    }
    let at = localpart.find(|c| context.delimiters.contains(c))?;
    if at == 0 {
        return None;
    }
    Some((&localpart[..at], &localpart[at + 1..]))
}

/// The address without its extension, and the extension with its delimiter
/// (strip_addr_internal): None when nothing was stripped.
fn strip_extension(full: &str, context: &Context) -> Option<(String, String)> {
    if context.delimiters.is_empty() || !full.contains(|c| context.delimiters.contains(c)) {
        return None;
    }
    let (local, domain) = match full.rfind('@') {
        Some(at) => (&full[..at], Some(&full[at..])),
        None => (full, None),
    };
    let (base, _) = split_localpart(local, context)?;
    let extension = local[base.len()..].to_string();
    Some((format!("{base}{}", domain.unwrap_or("")), extension))
}

fn find_addr(
    maps: &Maps,
    address: &str,
    partial: bool,
    with_domain: bool,
    query: Form,
) -> Result<Option<String>, MapsError> {
    let quoted = || {
        let flags = if with_domain {
            QuoteFlags::DEFAULT
        } else {
            QuoteFlags::DEFAULT | QuoteFlags::BARE_LOCALPART
        };
        quote_822_local(address, flags)
    };
    match query {
        Form::External | Form::ExternalFirst => {
            let external = quoted();
            let found = maps.find(&external, partial)?;
            if found.is_some() || query == Form::External || external == address {
                return Ok(found);
            }
            maps.find(address, partial)
        }
        Form::Internal | Form::InternalFirst => {
            let found = maps.find(address, partial)?;
            if found.is_some() || query == Form::Internal {
                return Ok(found);
            }
            let external = quoted();
            if external == address {
                return Ok(None);
            }
            maps.find(&external, partial)
        }
    }
}

/// Looks `address` up with `strategy`: `input` is its form, `query` the form of the keys
/// tried, `output` the form of the value returned.
pub fn mail_addr_find(
    maps: &Maps,
    address: &str,
    input: Form,
    query: Form,
    output: Form,
    strategy: Strategy,
    context: &Context,
) -> Result<Option<Found>, MapsError> {
    let full = match input {
        Form::External => unquote_822_local(address),
        _ => address.to_string(),
    };
    let stripped = if strategy.has(Strategy::NOEXT) {
        strip_extension(&full, context)
    } else {
        None
    };
    let (bare, extension) = match &stripped {
        Some((bare, ext)) => (Some(bare.as_str()), Some(ext.clone())),
        None => (None, None),
    };
    let found = |value: String, ext: Option<String>| Found {
        value: if output == Form::Internal {
            unquote_822_local(&value)
        } else {
            value
        },
        extension: ext,
    };
    let result = (|| -> Result<Option<Found>, MapsError> {
        if strategy.has(Strategy::FULL)
            && let Some(v) = find_addr(maps, &full, false, true, query)?
        {
            return Ok(Some(found(v, None)));
        }
        if let Some(bare) = bare
            && let Some(v) = find_addr(maps, bare, true, true, query)?
        {
            return Ok(Some(found(v, extension.clone())));
        }
        let at = full.rfind('@');
        // The local part alone (`user`) or with the at-sign (`user@`), full then bare.
        let local_forms = |with_at: bool| -> Result<Option<Found>, MapsError> {
            let cut = |text: &str| -> String {
                let at = text.rfind('@').unwrap_or(text.len());
                let end = if with_at {
                    (at + 1).min(text.len())
                } else {
                    at
                };
                text[..end].to_string()
            };
            if let Some(v) = find_addr(maps, &cut(&full), true, with_at, query)? {
                return Ok(Some(found(v, None)));
            }
            if let Some(bare) = bare
                && let Some(v) = find_addr(maps, &cut(bare), true, with_at, query)?
            {
                return Ok(Some(found(v, extension.clone())));
            }
            Ok(None)
        };
        if let Some(at) = at
            && (strategy.has(Strategy::LOCALPART_IF_LOCAL)
                || strategy.has(Strategy::LOCALPART_AT_IF_LOCAL))
        {
            let domain = &full[at + 1..];
            if domain.eq_ignore_ascii_case(context.myorigin) || (context.is_local)(domain)? {
                if strategy.has(Strategy::LOCALPART_IF_LOCAL)
                    && let Some(f) = local_forms(false)?
                {
                    return Ok(Some(f));
                }
                if strategy.has(Strategy::LOCALPART_AT_IF_LOCAL)
                    && let Some(f) = local_forms(true)?
                {
                    return Ok(Some(f));
                }
            }
        }
        if let Some(at) = at
            && strategy.has(Strategy::AT_DOMAIN)
            && let Some(v) = maps.find(&full[at..], true)?
        {
            return Ok(Some(found(v, None)));
        }
        if let Some(at) = at
            && strategy.has(Strategy::DOMAIN)
        {
            if strategy.has(Strategy::PDMS) && strategy.has(Strategy::PDDMDS) {
                log::msg_warn!(
                    "mail_addr_find_opt: do not specify both MA_FIND_PDMS and MA_FIND_PDDMDS"
                );
            }
            let mut name = &full[at + 1..];
            while !name.is_empty() {
                if let Some(v) = maps.find(name, true)? {
                    return Ok(Some(found(v, None)));
                }
                if !strategy.has(Strategy::PDMS) && !strategy.has(Strategy::PDDMDS) {
                    break;
                }
                let Some(dot) = name.get(1..).and_then(|n| n.find('.')) else {
                    break;
                };
                let skip = if strategy.has(Strategy::PDDMDS) { 1 } else { 2 };
                name = &name[dot + skip..];
            }
        }
        if strategy.has(Strategy::LOCALPART_AT) && at.is_some() {
            return local_forms(true);
        }
        Ok(None)
    })();
    if log::verbose() > 0 {
        let shown = match &result {
            Ok(Some(f)) => f.value.clone(),
            Ok(None) => "(not found)".into(),
            Err(_) => "(try again)".into(),
        };
        log::msg_info!("mail_addr_find: {address} -> {shown}");
    }
    result
}
