//! Pattern lists: mydestination, relay_domains, mynetworks, debug_peer_list and their kin.
//!
//! Postfix counterparts: `util/match_list.c`, `util/match_ops.c`, and the list flavours in
//! `global/domain_list.c`, `namadr_list.c`, `addr_match_list.c` and `string_list.c`. A
//! list is patterns separated by commas or white space; the first pattern that matches
//! decides, and `!pattern` makes a match mean "no". A pattern is literal text, a
//! `type:table` (looked up), or a `/file/name` whose lines are more patterns. Host names
//! also match `.parent` patterns, and plain parent domains when the list's parameter is in
//! `parent_domain_matches_subdomains`; addresses match `net/mask` and `[addr]`. A table
//! that fails makes the whole match fail with an error (with the list's name, and the
//! table's kind of failure), so callers can defer instead of guessing.

use dict::{Dict, DictError, Flags, dict_flags};
use std::net::IpAddr;

/// What one argument of a match is compared as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matcher {
    /// Exact (case-insensitive) text or a table key (`match_string`).
    String,
    /// A host or domain name (`match_hostname`).
    Hostname,
    /// A numeric IP address (`match_hostaddr`).
    Hostaddr,
}

/// How the list treats names and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListFlags {
    /// `domain` also matches its subdomains (MATCH_FLAG_PARENT), as for the parameters
    /// listed in parent_domain_matches_subdomains.
    pub parent: bool,
    /// UTF-8 case folding (smtputf8_enable).
    pub utf8: bool,
}

enum Pattern {
    Text(String),
    Table(Box<dyn Dict>),
    /// A `/file/name` or table that could not be opened: every match through it fails
    /// (Postfix's surrogate table). `label` is `non-existent:/file/name` or `type:name`.
    Unreadable {
        label: String,
        why: DictError,
    },
}

/// A parsed list.
pub struct MatchList {
    pname: String,
    flags: ListFlags,
    matchers: Vec<Matcher>,
    patterns: Vec<(bool, Pattern)>,
}

/// Whether a pattern names a table (`type:name`, not an `[ipv6]` literal).
fn is_table(pattern: &str) -> bool {
    !pattern.starts_with('[') && pattern.contains(':')
}

impl MatchList {
    /// Parses `text` for the list called `pname` (a parameter name, or e.g. "command
    /// line"), matching its arguments with `matchers` in order. A `!` without a pattern is
    /// fatal, as in Postfix.
    pub fn new(pname: &str, flags: ListFlags, text: &str, matchers: &[Matcher]) -> MatchList {
        let mut list = MatchList {
            pname: pname.to_string(),
            flags,
            matchers: matchers.to_vec(),
            patterns: Vec::new(),
        };
        list.parse(text, true);
        list
    }

    fn fold(&self, text: &str) -> String {
        if self.flags.utf8 {
            dict::casefold(text)
        } else {
            text.to_ascii_lowercase()
        }
    }

    fn parse(&mut self, text: &str, init_match: bool) {
        let mut rest = text;
        while let Some((item, after)) = next_token(rest) {
            rest = after;
            if item.starts_with('#') {
                log::msg_warn!(
                    "{}: comment at end of line is not supported: {item} {}",
                    self.pname,
                    after.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace())
                );
                break;
            }
            let mut wanted = init_match;
            let mut pattern = item;
            while let Some(p) = pattern.strip_prefix('!') {
                wanted = !wanted;
                pattern = p;
            }
            if pattern.is_empty() {
                log::msg_fatal!("{}: no pattern after '!'", self.pname);
            }
            if pattern.starts_with('/') {
                match std::fs::read(pattern) {
                    Ok(bytes) => {
                        let content = String::from_utf8_lossy(&bytes).into_owned();
                        for line in content.lines().filter(|l| !l.starts_with('#')) {
                            self.parse(line, wanted);
                        }
                    }
                    Err(e) => {
                        let why =
                            DictError::Open(format!("open file {pattern}: {}", sys::os_error(&e)));
                        log::msg_error!("{why}");
                        self.patterns.push((
                            wanted,
                            Pattern::Unreadable {
                                label: format!("non-existent:{pattern}"),
                                why,
                            },
                        ));
                    }
                }
            } else if is_table(pattern) {
                // Keys are folded here, as Postfix does, not by the table.
                let flags = Flags {
                    fold_fix: false,
                    utf8: self.flags.utf8,
                    ..Flags::default()
                };
                match dict::open(pattern, flags) {
                    Ok(table) => self.patterns.push((wanted, Pattern::Table(table))),
                    Err(e) => {
                        log::msg_error!("{e}");
                        self.patterns.push((
                            wanted,
                            Pattern::Unreadable {
                                label: pattern.to_string(),
                                why: e,
                            },
                        ));
                    }
                }
            } else {
                let folded = self.fold(pattern);
                self.patterns.push((wanted, Pattern::Text(folded)));
            }
        }
    }

    /// Matches the arguments (one per matcher): Ok(true) when a pattern matched and was
    /// not negated, Err when a table failed: the table's kind of failure, with the warning
    /// text already logged.
    pub fn matches(&self, args: &[&str]) -> Result<bool, DictError> {
        let folded: Vec<String> = args.iter().map(|a| self.fold(a)).collect();
        for (wanted, pattern) in &self.patterns {
            for (matcher, arg) in self.matchers.iter().zip(&folded) {
                let hit = match matcher {
                    Matcher::String => self.match_string(arg, pattern),
                    Matcher::Hostname => self.match_hostname(arg, pattern),
                    Matcher::Hostaddr => self.match_hostaddr(arg, pattern),
                }?;
                if hit {
                    return Ok(*wanted);
                }
            }
        }
        if log::verbose() > 0 {
            for arg in args {
                log::msg_info!("match_list_match: {arg}: no match");
            }
        }
        Ok(false)
    }

    /// Logs a failed match in Postfix's words (with the list's name) and returns them.
    fn error(&self, text: String) -> String {
        let text = format!("{}: {text}", self.pname);
        log::msg_warn!("{text}");
        text
    }

    fn trace(&self, function: &str, arg: &str, pattern: &Pattern) {
        if log::verbose() > 0 {
            let shown = match pattern {
                Pattern::Text(t) => t.as_str(),
                Pattern::Table(t) => t.spec(),
                Pattern::Unreadable { label, .. } => label.as_str(),
            };
            log::msg_info!("{function}: {}: {arg} ~? {shown}", self.pname);
        }
    }

    /// Looks `key` up in a table pattern; an unreadable pattern or failing table is an error.
    fn table_lookup(&self, pattern: &Pattern, key: &str) -> Result<bool, DictError> {
        match pattern {
            Pattern::Table(table) => match table.lookup(key) {
                Ok(found) => Ok(found.is_some()),
                Err(e) => {
                    Err(e.reworded(self.error(format!("{}: table lookup problem", table.spec()))))
                }
            },
            Pattern::Unreadable { label, why } => {
                log::msg_warn!("{label} is unavailable. {why}");
                Err(why.reworded(self.error(format!("{label}: table lookup problem"))))
            }
            Pattern::Text(_) => Ok(false),
        }
    }

    fn match_string(&self, string: &str, pattern: &Pattern) -> Result<bool, DictError> {
        self.trace("match_string", string, pattern);
        match pattern {
            Pattern::Text(text) => Ok(string == text),
            _ => self.table_lookup(pattern, string),
        }
    }

    fn match_hostname(&self, name: &str, pattern: &Pattern) -> Result<bool, DictError> {
        self.trace("match_hostname", name, pattern);
        let text = match pattern {
            Pattern::Text(text) => text,
            Pattern::Table(table) => {
                // The name itself, then (fixed-string tables only) each parent domain:
                // `example.com` with the parent flag, `.example.com` without.
                let fixed = table.impl_flags() & dict_flags::FIXED != 0;
                let mut entry = name;
                loop {
                    if (std::ptr::eq(entry, name) || fixed) && self.table_lookup(pattern, entry)? {
                        return Ok(true);
                    }
                    let Some(dot) = entry.get(1..).and_then(|e| e.find('.')) else {
                        return Ok(false);
                    };
                    let at = dot + 1 + usize::from(self.flags.parent);
                    entry = &entry[at..];
                    if entry.is_empty() {
                        return Ok(false);
                    }
                }
            }
            Pattern::Unreadable { .. } => return self.table_lookup(pattern, name),
        };
        if name == text {
            return Ok(true);
        }
        let suffix = name.len() >= text.len() && name.ends_with(text.as_str());
        let before = name.len().wrapping_sub(text.len());
        Ok(if self.flags.parent {
            suffix && before > 0 && name.as_bytes()[before - 1] == b'.'
        } else {
            text.starts_with('.') && suffix && before > 0
        })
    }

    fn match_hostaddr(&self, addr: &str, pattern: &Pattern) -> Result<bool, DictError> {
        self.trace("match_hostaddr", addr, pattern);
        const V4: &str = "01234567890.";
        const V6: &str = "01234567890.abcdefABCDEF:";
        if !addr.chars().all(|c| V6.contains(c)) {
            return Ok(false);
        }
        let text = match pattern {
            Pattern::Text(text) => text,
            _ => return self.table_lookup(pattern, addr),
        };
        if !text.starts_with('[') {
            if addr == text {
                return Ok(true);
            }
        } else if text
            .strip_prefix('[')
            .and_then(|t| t.strip_prefix(addr))
            .is_some_and(|rest| rest == "]")
        {
            return Ok(true);
        }
        // Only something that looks like net/mask (or a bracketed address) goes on.
        if addr.contains(':') != text.contains(':')
            || !text.contains([':', '/'])
            || text.chars().all(|c| V4.contains(c))
            || !text.chars().all(|c| V6.contains(c) || "[]/".contains(c))
        {
            return Ok(false);
        }
        match dict::cidr::parse_net(text, true) {
            Ok(net) => Ok(addr.parse::<IpAddr>().is_ok_and(|a| net.contains(&a))),
            // A malformed net/mask in the list itself.
            Err(why) => Err(DictError::Config(self.error(why))),
        }
    }
}

/// Whether parameter `name` is in parent_domain_matches_subdomains: its `example.com`
/// then matches subdomains too, else only `.example.com` does.
pub fn parent_style(config: &params::Config, name: &str) -> Result<bool, params::ConfigError> {
    Ok(config
        .list(&params::decl::identity::PARENT_DOMAIN_MATCHES_SUBDOMAINS)?
        .iter()
        .any(|p| p == name))
}

/// The list in parameter `param` of `config`, matched with `matchers`: domains match
/// subdomains when `param` is in parent_domain_matches_subdomains; case folding is
/// UTF-8 aware with smtputf8_enable. For domain lists use [`Matcher::Hostname`];
/// for host lists (debug_peer_list, smtpd_client_restrictions) Hostname then Hostaddr; for
/// address lists (mynetworks) Hostaddr.
pub fn from_parameter(
    config: &params::Config,
    param: &'static params::Param,
    matchers: &[Matcher],
) -> Result<MatchList, params::ConfigError> {
    let flags = ListFlags {
        parent: parent_style(config, param.name)?,
        utf8: config.bool(&params::decl::identity::SMTPUTF8_ENABLE)?,
    };
    Ok(MatchList::new(
        param.name,
        flags,
        &config.str(param)?,
        matchers,
    ))
}

/// The next list item (outside braces), split at commas and white space.
fn next_token(text: &str) -> Option<(&str, &str)> {
    let start = text.find(|c: char| c != ',' && !c.is_ascii_whitespace())?;
    let text = &text[start..];
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            c if depth == 0 && (c == ',' || c.is_ascii_whitespace()) => {
                return Some((&text[..i], &text[i..]));
            }
            _ => {}
        }
    }
    Some((text, ""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use params::decl::debug::DEBUG_PEER_LIST;
    use std::path::Path;

    fn config(main_cf: &str) -> params::Config {
        let main = params::main_cf::MainCf::parse(Path::new("main.cf"), main_cf).unwrap();
        params::Config::new(Path::new("/nonexistent"), main)
    }

    fn peer_matches(main_cf: &str, host: &str, addr: &str) -> bool {
        let matchers = [Matcher::Hostname, Matcher::Hostaddr];
        let list = from_parameter(&config(main_cf), &DEBUG_PEER_LIST, &matchers).unwrap();
        list.matches(&[host, addr]).unwrap()
    }

    #[test]
    fn failures_keep_the_kind_of_the_table_failure() {
        let list = |text: &str, matcher: Matcher| {
            MatchList::new("test_list", ListFlags::default(), text, &[matcher])
        };
        let failed = list("fail:down", Matcher::String).matches(&["x"]);
        assert_eq!(
            failed,
            Err(DictError::Retry(
                "test_list: fail:down: table lookup problem".into()
            ))
        );
        let missing = list("/nonexistent/list", Matcher::String).matches(&["x"]);
        assert!(matches!(missing, Err(DictError::Open(_))), "{missing:?}");
        let bad_net = list("192.0.2.0/99", Matcher::Hostaddr).matches(&["192.0.2.1"]);
        assert!(matches!(bad_net, Err(DictError::Config(_))), "{bad_net:?}");
    }

    #[test]
    fn parent_domain_matching_follows_the_parameter() {
        // debug_peer_list is in the default parent_domain_matches_subdomains.
        assert!(peer_matches(
            "debug_peer_list = example.com\n",
            "mx.example.com",
            "192.0.2.1"
        ));
        let strict = "debug_peer_list = example.com\nparent_domain_matches_subdomains =\n";
        assert!(!peer_matches(strict, "mx.example.com", "192.0.2.1"));
        let dotted = "debug_peer_list = .example.com\nparent_domain_matches_subdomains =\n";
        assert!(peer_matches(dotted, "mx.example.com", "192.0.2.1"));
        assert!(peer_matches(
            "debug_peer_list = 192.0.2.0/24\n",
            "unknown",
            "192.0.2.1"
        ));
        assert!(!peer_matches(
            "debug_peer_list =\n",
            "mx.example.com",
            "192.0.2.1"
        ));
    }
}
