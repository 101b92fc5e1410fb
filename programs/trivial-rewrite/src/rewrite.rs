//! Rewriting an address to canonical form: `user@domain.tld`.
//!
//! Postfix counterpart: `trivial-rewrite/rewrite.c`. On the token list of an address: a
//! source route (`@a,@b:user@d`) is dropped; without an `@`, `site!user` becomes
//! `user@site` (swap_bangpath), else `user%domain` becomes `user@domain`
//! (allow_percent_hack), else `@$myorigin` is appended (append_at_myorigin); a domain
//! without a dot gets `.$mydomain` (append_dot_mydomain); one trailing dot is removed. The
//! `local` context uses myorigin and mydomain, the `remote` context (headers of mail
//! from remote clients) uses remote_header_rewrite_domain for both.

use rfc822::quote::{QuoteFlags, quote_822_local};
use rfc822::tok822::{StrFlags, Token, internalize, scan};

/// The settings one rewriting context uses.
pub struct Rules {
    /// Appended as `@origin` to an address without a domain; empty: nothing.
    pub origin: String,
    /// Appended as `.domain` to a domain without a dot; empty: nothing.
    pub domain: String,
    /// swap_bangpath.
    pub swap_bangpath: bool,
    /// allow_percent_hack.
    pub percent_hack: bool,
    /// append_at_myorigin.
    pub append_at_origin: bool,
    /// append_dot_mydomain.
    pub append_dot_domain: bool,
}

/// The position of the last operator `op`.
pub fn rfind_op(tokens: &[Token], op: char) -> Option<usize> {
    tokens.iter().rposition(|t| *t == Token::Op(op))
}

/// The position of the first operator `op` at or after `from`.
pub fn find_op(tokens: &[Token], from: usize, op: char) -> Option<usize> {
    tokens
        .iter()
        .skip(from)
        .position(|t| *t == Token::Op(op))
        .map(|i| i + from)
}

/// An address's tokens written out as Postfix writes an address node: the internal form,
/// with the local part quoted where it needs it.
pub fn externalize_address(tree: &[Token]) -> String {
    quote_822_local(
        &internalize(tree, StrFlags::NONE),
        QuoteFlags::EIGHT_BIT_CLEAN,
    )
}

/// Rewrites `tree` (the tokens of one address) in place.
pub fn rewrite_tree(rules: &Rules, tree: &mut Vec<Token>) {
    if tree.is_empty() {
        return;
    }
    // The null address stays null; a lone @ is the null address.
    if tree.len() == 1 {
        match &tree[0] {
            Token::QuotedString(s) if s.is_empty() => return,
            Token::Op('@') => {
                tree[0] = Token::QuotedString(String::new());
                return;
            }
            _ => {}
        }
    }
    if tree[0] == Token::Op('@')
        && let Some(colon) = find_op(tree, 0, ':')
        && colon != tree.len() - 1
    {
        tree.drain(..=colon);
    }
    if rfind_op(tree, '@').is_none() {
        if rules.swap_bangpath
            && let Some(bang) = find_op(tree, 0, '!')
        {
            let local = tree.split_off(bang + 1);
            tree.pop();
            let site = std::mem::take(tree);
            tree.extend(local);
            tree.push(Token::Op('@'));
            tree.extend(site);
        } else if rules.percent_hack
            && let Some(percent) = rfind_op(tree, '%')
        {
            tree[percent] = Token::Op('@');
        } else if rules.append_at_origin && !rules.origin.is_empty() {
            tree.push(Token::Op('@'));
            tree.extend(scan(&rules.origin));
        }
    }
    if rules.append_dot_domain
        && !rules.domain.is_empty()
        && let Some(at) = rfind_op(tree, '@')
        && at != tree.len() - 1
        && !tree[at..]
            .iter()
            .any(|t| matches!(t, Token::DomainLiteral(_)) || *t == Token::Op('.'))
    {
        tree.push(Token::Op('.'));
        tree.extend(scan(&rules.domain));
    }
    let n = tree.len();
    if n >= 2 && tree[n - 1] == Token::Op('.') && !matches!(tree[n - 2], Token::Op('.' | '@')) {
        tree.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rfc822::tok822::scan_addr;

    fn rewrite(address: &str) -> String {
        let rules = Rules {
            origin: "example.com".into(),
            domain: "example.com".into(),
            swap_bangpath: true,
            percent_hack: true,
            append_at_origin: true,
            append_dot_domain: true,
        };
        let mut tree = scan_addr(address).tokens;
        rewrite_tree(&rules, &mut tree);
        externalize_address(&tree)
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(rewrite("user"), "user@example.com");
        assert_eq!(rewrite("user@host"), "user@host.example.com");
        assert_eq!(rewrite("user@host.org."), "user@host.org");
        assert_eq!(rewrite("site!user"), "user@site.example.com");
        assert_eq!(rewrite("user%dom.org"), "user@dom.org");
        assert_eq!(rewrite("@a,@b:user@c.org"), "user@c.org");
        assert_eq!(rewrite("user@[1.2.3.4]"), "user@[1.2.3.4]");
        assert_eq!(rewrite("\"\""), "\"\"");
        assert_eq!(rewrite("@"), "\"\"");
    }
}
