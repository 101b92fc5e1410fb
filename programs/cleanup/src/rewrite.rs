//! Addresses to canonical form through the rewriting service, in either address form.
//!
//! Postfix counterpart: `cleanup/cleanup_rewrite.c`. Envelope addresses are in internal
//! form (quoted for the service, unquoted after); header addresses are token trees whose
//! external form goes to the service and whose tokens are replaced by the answer. Each
//! function says whether the address changed, which decides whether a header is written
//! back as parsed or as it came.

pub use global::mail_addr_map::Rewrite;
use global::mail_addr_map::rewrite_text;
use rfc822::quote::{QuoteFlags, quote_822_local, unquote_822_local};
use rfc822::tok822::Addr;

/// `address` (external form) rewritten; whether it changed (`cleanup_rewrite_external`).
pub fn rewrite_external(rewriter: &mut dyn Rewrite, rule: &str, address: &str) -> (String, bool) {
    let result = rewrite_text(rewriter, rule, address);
    let changed = result != address;
    (result, changed)
}

/// `address` (internal form) rewritten, in internal form (`cleanup_rewrite_internal`).
pub fn rewrite_internal(rewriter: &mut dyn Rewrite, rule: &str, address: &str) -> String {
    let external = quote_822_local(address, QuoteFlags::DEFAULT);
    let (result, _) = rewrite_external(rewriter, rule, &external);
    unquote_822_local(&result)
}

/// The address in a header rewritten in place; whether it changed
/// (`cleanup_rewrite_tree`).
pub fn rewrite_tree(rewriter: &mut dyn Rewrite, rule: &str, addr: &mut Addr) -> bool {
    let (result, changed) = rewrite_external(rewriter, rule, &addr.externalize());
    addr.replace_external(&result);
    changed
}

#[cfg(test)]
pub mod fake {
    //! A rewriting service for tests: Postfix's local rules with myorigin and mydomain
    //! `example.com` (no domain: append `@example.com`; a domain without a dot gets
    //! `.example.com`), and the remote context with `remote_header_rewrite_domain` =
    //! `remote.example` (only a bare user gets a domain).
    use super::Rewrite;

    /// The stand-in service, with the requests it got.
    #[derive(Default)]
    pub struct Fake {
        /// (rule, address) of each request.
        pub asked: Vec<(String, String)>,
    }

    impl Rewrite for Fake {
        fn rewrite(&mut self, rule: &str, address: &[u8]) -> Vec<u8> {
            let address = String::from_utf8_lossy(address).into_owned();
            self.asked.push((rule.to_string(), address.clone()));
            let domain = if rule == "local" {
                "example.com"
            } else {
                "remote.example"
            };
            if address.is_empty() || address == "\"\"" {
                return address.into_bytes();
            }
            // Postfix's remote context appends the domain to a bare user, but leaves a
            // domain without a dot alone (checked against Postfix's cleanup by e2e t-20).
            let out = match address.rsplit_once('@') {
                Some((_, d)) if d.contains('.') || rule != "local" => address.clone(),
                Some((l, d)) => format!("{l}@{d}.{domain}"),
                None => format!("{address}@{domain}"),
            };
            out.into_bytes()
        }
    }
}
