//! Which tables proxymap may open: the `proxy:type:name` entries of proxy_read_maps (or
//! proxy_write_maps).
//!
//! Postfix counterpart: `authorize_proxied_maps()` in `proxymap/proxymap.c`. The parameter
//! value (already `$name`-expanded) is split at commas and white space, outside braces;
//! `{ type:name attr=value }` groups count by their first word, and the members of
//! `unionmap:{ ... }` and `pipemap:{ ... }` are searched too. Only entries that start with
//! `proxy:` approve something, so listing a table without `proxy:` keeps it local.

use std::collections::HashSet;
use util::tokens;

/// The approved `type:name` tables.
pub struct Approved(HashSet<String>);

impl Approved {
    /// Collects the approved tables from the value of `parameter`.
    pub fn from_parameter(parameter: &str, value: &str) -> Approved {
        let mut set = HashSet::new();
        collect(parameter, value, &mut set);
        Approved(set)
    }

    /// Whether `type:name` may be opened.
    pub fn contains(&self, table: &str) -> bool {
        self.0.contains(table)
    }
}

fn collect(parameter: &str, value: &str, set: &mut HashSet<String>) {
    let Ok(words) = tokens::split_braced(value, tokens::COMMA_SPACE) else {
        log::msg_warn!("bad {parameter} parameter value: unbalanced braces in \"{value}\"");
        return;
    };
    for word in words {
        let word = match word.strip_prefix('{') {
            Some(_) => match tokens::strip_braces(word) {
                Ok(inner) => match tokens::split(inner, tokens::COMMA_SPACE).next() {
                    Some(first) => first,
                    None => continue,
                },
                Err(e) => {
                    log::msg_warn!("bad {parameter} parameter value: {e}");
                    continue;
                }
            },
            None => word,
        };
        let nested = ["unionmap:", "pipemap:"]
            .iter()
            .find_map(|prefix| word.strip_prefix(prefix));
        if let Some(members) = nested {
            if members.starts_with('{') {
                match tokens::strip_braces(members) {
                    Ok(inner) => collect(parameter, inner, set),
                    Err(e) => log::msg_warn!("bad {parameter} parameter value: {e}"),
                }
            }
            continue;
        }
        let Some(mut table) = word.strip_prefix("proxy:") else {
            continue;
        };
        while let Some(inner) = table.strip_prefix("proxy:") {
            table = inner;
        }
        if table.contains(':') && set.insert(table.to_string()) && log::verbose() > 0 {
            log::msg_info!("allowlisting {table} from {parameter}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_proxy_entries_and_nested_members_count() {
        let approved = Approved::from_parameter(
            "proxy_read_maps",
            "proxy:unix:passwd.byname, hash:/etc/aliases proxy:proxy:texthash:/etc/v \
             unionmap:{ proxy:cdb:/a, inline:{x=y} } { proxy:regexp:/r attr=v } proxy:bogus",
        );
        for table in [
            "unix:passwd.byname",
            "texthash:/etc/v",
            "cdb:/a",
            "regexp:/r",
        ] {
            assert!(approved.contains(table), "{table}");
        }
        assert!(!approved.contains("hash:/etc/aliases"));
        assert!(!approved.contains("bogus"));
    }
}
