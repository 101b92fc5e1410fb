//! An address through a one-to-one or one-to-many address table: the list of
//! canonical addresses it maps to.
//!
//! Postfix counterparts: `global/mail_addr_map.c` and `global/mail_addr_crunch.c`. cleanup
//! (canonical_maps, virtual_alias_maps) and the SMTP client (smtp_generic_maps) use it.
//! The address is looked up with Postfix's default strategy (`user+ext@domain`,
//! `user@domain`, `user+ext` and `user` for local domains, `@domain`; see
//! [`crate::mail_addr_find`]). A value of `@otherdomain` keeps the user part (without an
//! unmatched extension). The value is an address list: each address in it goes through
//! the rewriting service's `local` context (`canon_addr_external`), gets the unmatched
//! extension back when asked (`propagate_unmatched_extensions`), and comes out in the
//! requested form. A value with no address in it is a table error.

use crate::addr_context::AddrContext;
use crate::mail_addr_find::{Form, Strategy, mail_addr_find};
use crate::maps::{Maps, MapsError};
use crate::rewrite_clnt::{RULE_LOCAL, RewriteClient};
use rfc822::quote::{QuoteFlags, quote_822_local, unquote_822_local};
use rfc822::tok822;
use util::eight_bit;

/// The rewriting service, or a stand-in for tests.
pub trait Rewrite {
    /// `address` (external form) rewritten in context `rule`.
    fn rewrite(&mut self, rule: &str, address: &[u8]) -> Vec<u8>;
}

impl Rewrite for RewriteClient {
    fn rewrite(&mut self, rule: &str, address: &[u8]) -> Vec<u8> {
        RewriteClient::rewrite(self, rule, address)
    }
}

/// `address` (external form, as text) rewritten in context `rule`, as text.
pub fn rewrite_text(rewriter: &mut dyn Rewrite, rule: &str, address: &str) -> String {
    let result = rewriter.rewrite(rule, &eight_bit::to_bytes(address));
    eight_bit::to_text(&result).into_owned()
}

/// One lookup: the table, what it needs, and the rewriting service.
pub struct AddrMap<'a> {
    /// The tables.
    pub maps: &'a Maps,
    /// For the local-part forms.
    pub context: &'a AddrContext,
    /// For canonicalizing the results.
    pub rewriter: &'a mut dyn Rewrite,
}

impl AddrMap<'_> {
    /// The addresses `address` (in `in_form`) maps to, in `out_form`, None when the
    /// table has no entry for it (`mail_addr_map_opt` with external-form queries).
    pub fn map(
        &mut self,
        address: &str,
        propagate: bool,
        in_form: Form,
        out_form: Form,
    ) -> Result<Option<Vec<String>>, MapsError> {
        let internal = match in_form {
            Form::External => unquote_822_local(address),
            _ => address.to_string(),
        };
        let found = self.context.with(|context| {
            mail_addr_find(
                self.maps,
                &internal,
                Form::Internal,
                Form::External,
                Form::External,
                Strategy::DEFAULT,
                context,
            )
        });
        let found = match found {
            Ok(Some(found)) => found,
            Ok(None) => {
                verbose(address, "(not found)");
                return Ok(None);
            }
            Err(e) => {
                verbose(address, "(try again)");
                return Err(e);
            }
        };
        let mut value = found.value;
        if value.starts_with('@') {
            // user@otherdomain: the user part of the address, its unmatched extension off.
            let mut user = match internal.rfind('@') {
                Some(at) => internal[..at].to_string(),
                None => internal.clone(),
            };
            if let Some(ext) = &found.extension {
                user.truncate(user.len().saturating_sub(ext.len()));
            }
            value = quote_822_local(&format!("{user}{value}"), QuoteFlags::DEFAULT);
        }
        let extension = if propagate {
            found.extension.as_deref()
        } else {
            None
        };
        let list = crunch(self.rewriter, &value, extension, out_form);
        if log::verbose() > 0 {
            for (i, a) in list.iter().enumerate() {
                log::msg_info!("mail_addr_map: {address} -> {i}: {a}");
            }
        }
        if list.is_empty() {
            log::msg_warn!(
                "{} lookup of {address} returns non-address result \"{value}\"",
                self.maps.title()
            );
            return Err(MapsError::Retry(self.maps.title().to_string()));
        }
        Ok(Some(list))
    }
}

fn verbose(address: &str, what: &str) {
    if log::verbose() > 0 {
        log::msg_info!("mail_addr_map: {address} -> {what}");
    }
}

/// The addresses in `list` (external form), each in canonical form with `extension`
/// inserted before its domain, in `out_form` (`mail_addr_crunch_opt`).
pub fn crunch(
    rewriter: &mut dyn Rewrite,
    list: &str,
    extension: Option<&str>,
    out_form: Form,
) -> Vec<String> {
    // The null address stands for itself, also inside a list.
    let list = if list.is_empty() || list == "<>" {
        "\"\""
    } else {
        list
    };
    let tree = tok822::parse(list);
    let mut out = Vec::new();
    for addr in tok822::addresses(&tree) {
        let canonical = rewrite_text(rewriter, RULE_LOCAL, &addr.externalize());
        let mut internal = unquote_822_local(&canonical);
        if let Some(ext) = extension {
            let at = internal.rfind('@').unwrap_or(internal.len());
            internal.insert_str(at, ext);
        }
        out.push(match out_form {
            Form::External => quote_822_local(&internal, QuoteFlags::DEFAULT),
            _ => internal,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Postfix's local rule with myorigin and mydomain `example.com`: no domain gets
    /// `@example.com`, a domain without a dot gets `.example.com`.
    struct Local;

    impl Rewrite for Local {
        fn rewrite(&mut self, rule: &str, address: &[u8]) -> Vec<u8> {
            assert_eq!(rule, RULE_LOCAL);
            let address = String::from_utf8(address.to_vec()).unwrap();
            let out = match address.rsplit_once('@') {
                _ if address == "\"\"" => address.clone(),
                Some((_, d)) if d.contains('.') => address.clone(),
                Some((l, d)) => format!("{l}@{d}.example.com"),
                None => format!("{address}@example.com"),
            };
            out.into_bytes()
        }
    }

    #[test]
    fn crunch_canonicalizes_each_address_and_adds_the_extension() {
        let got = crunch(
            &mut Local,
            "a, \"b c\"@x.example, d@e",
            Some("+ext"),
            Form::External,
        );
        assert_eq!(
            got,
            [
                "a+ext@example.com",
                "\"b c+ext\"@x.example",
                "d+ext@e.example.com"
            ]
        );
        assert_eq!(crunch(&mut Local, "<>", None, Form::Internal), [""]);
        assert_eq!(
            crunch(&mut Local, "\"b c\"@x.example", None, Form::Internal),
            ["b c@x.example"]
        );
    }
}
