//! Fixed-string tables read from a text source: `texthash:`.
//!
//! Postfix counterpart: `util/dict_thash.c`. Each logical line is a key, whitespace and a
//! value; the key may be quoted and may contain backslash escapes. Keys are folded to
//! lower case (unless the table is opened without folding); a duplicate key keeps the first
//! value and is warned about.

use crate::{Dict, DictError, Duplicates, Flags, source};
use std::collections::HashMap;

/// A texthash table.
pub struct TextHash {
    spec: String,
    flags: Flags,
    entries: HashMap<String, String>,
    order: Vec<String>,
}

/// Splits a source line into key and value, as dict_thash does; None with the reason.
pub fn split_entry(line: &str) -> Result<(String, String), &'static str> {
    let bytes = line.as_bytes();
    let mut in_quotes = false;
    let mut end = bytes.len();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                i += 1;
                if i >= bytes.len() {
                    break;
                }
            }
            b'"' => in_quotes = !in_quotes,
            c if c.is_ascii_whitespace() && !in_quotes => {
                end = i;
                break;
            }
            _ => {}
        }
        i += 1;
    }
    if in_quotes {
        return Err("unbalanced");
    }
    let key = &line[..end];
    let value = line[end..].trim_matches(|c: char| c.is_ascii_whitespace());
    if key.is_empty() || value.is_empty() {
        return Err("format");
    }
    Ok((key.to_string(), value.to_string()))
}

impl TextHash {
    /// Reads the source file.
    pub fn open(path: &str, flags: Flags) -> Result<TextHash, DictError> {
        let lines = source::read(path, |e| {
            format!("open database {path}: {}", sys::os_error(e))
        })?;
        let mut table = TextHash {
            spec: format!("texthash:{path}"),
            flags,
            entries: HashMap::new(),
            order: Vec::new(),
        };
        for source::SourceLine { line, not_utf8 } in lines {
            if not_utf8 && flags.utf8 {
                log::msg_warn!(
                    "{path}, line {}: non-UTF-8 input \"{}\" -- ignoring this line",
                    line.first_line,
                    line.text
                );
                continue;
            }
            let (key, value) = match split_entry(&line.text) {
                Ok(kv) => kv,
                Err("unbalanced") => {
                    log::msg_warn!(
                        "{path}, line {}: unbalanced '\"' in '{}' -- ignoring this line",
                        line.first_line,
                        line.text
                    );
                    continue;
                }
                Err(_) => {
                    log::msg_warn!(
                        "{path}, line {}: expected format: key whitespace value -- ignoring this line",
                        line.first_line
                    );
                    continue;
                }
            };
            if key.ends_with(':') {
                log::msg_warn!(
                    "{path}, line {}: record is in \"key: value\" format; is this an alias file?",
                    line.first_line
                );
            }
            let key = table.flags.fold(&key);
            match table.entries.entry(key) {
                std::collections::hash_map::Entry::Occupied(mut existing) => match flags.duplicates
                {
                    Duplicates::Ignore => {}
                    Duplicates::Replace => {
                        existing.insert(value);
                    }
                    Duplicates::Warn => log::msg_warn!(
                        "{path}, line {}: duplicate entry: \"{}\"",
                        line.first_line,
                        existing.key()
                    ),
                },
                std::collections::hash_map::Entry::Vacant(slot) => {
                    table.order.push(slot.key().clone());
                    slot.insert(value);
                }
            }
        }
        Ok(table)
    }
}

impl Dict for TextHash {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, DictError> {
        let key = self.flags.fold(key);
        Ok(self.entries.get(&key).cloned())
    }

    fn entries(&self) -> Result<Option<Vec<(String, String)>>, DictError> {
        Ok(Some(
            self.order
                .iter()
                .map(|k| (k.clone(), self.entries[k].clone()))
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        assert_eq!(
            split_entry("key  value with  spaces "),
            Ok(("key".into(), "value with  spaces".into()))
        );
        assert_eq!(split_entry("\"a b\" c"), Ok(("\"a b\"".into(), "c".into())));
        assert_eq!(split_entry("a\\ b c"), Ok(("a\\ b".into(), "c".into())));
        assert_eq!(split_entry("lonely"), Err("format"));
        assert_eq!(split_entry("\"open x"), Err("unbalanced"));
    }
}
