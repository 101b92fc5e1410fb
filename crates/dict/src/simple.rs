//! Tables that need no file: `inline:`, `static:`, `fail:`, `environ:`, `unix:`.
//!
//! Postfix counterparts: `util/dict_inline.c`, `dict_static.c`, `dict_fail.c`,
//! `dict_env.c`, `dict_unix.c`.

use crate::{Dict, DictError, Flags};
use std::collections::HashMap;
use util::tokens;

/// `inline:{ key=value, { key = value with spaces } }`.
pub struct Inline {
    spec: String,
    flags: Flags,
    entries: Vec<(String, String)>,
}

impl Inline {
    /// Parses the inline text.
    pub fn open(name: &str, flags: Flags) -> Result<Inline, DictError> {
        let bad = || {
            DictError::Config(format!(
                "bad syntax: \"inline:{name}\"; need \"inline:{{name=value...}}\""
            ))
        };
        let inner = name
            .strip_prefix('{')
            .and_then(|n| n.strip_suffix('}'))
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(bad)?;
        let mut entries = Vec::new();
        for item in tokens::split_braced(inner, tokens::COMMA_SPACE).map_err(|_| bad())? {
            let item = tokens::strip_braces(item).map_err(|_| bad())?;
            let (key, value) = util::name_value::split(item).map_err(|why| {
                DictError::Config(format!(
                    "{why}: \"inline:{name}\"; need \"inline:{{name=value...}}\""
                ))
            })?;
            let key = flags.fold(key);
            match entries
                .iter_mut()
                .find(|(k, _): &&mut (String, String)| *k == key)
            {
                Some(entry) => entry.1 = value.to_string(),
                None => entries.push((key, value.to_string())),
            }
        }
        Ok(Inline {
            spec: format!("inline:{name}"),
            flags,
            entries,
        })
    }
}

impl Dict for Inline {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, DictError> {
        let key = self.flags.fold(key);
        Ok(self
            .entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone()))
    }

    fn entries(&self) -> Result<Option<Vec<(String, String)>>, DictError> {
        Ok(Some(self.entries.clone()))
    }
}

/// `static:value` or `static:{ value with spaces }`: every key finds the value.
pub struct Static {
    spec: String,
    value: String,
}

impl Static {
    /// Takes the value.
    pub fn open(name: &str) -> Result<Static, DictError> {
        let value = if name.starts_with('{') {
            tokens::strip_braces(name)
                .map_err(|e| DictError::Config(format!("bad static:name syntax: {e}")))?
        } else {
            name
        };
        Ok(Static {
            spec: format!("static:{name}"),
            value: value.to_string(),
        })
    }
}

impl Dict for Static {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, _key: &str) -> Result<Option<String>, DictError> {
        Ok(Some(self.value.clone()))
    }
}

/// `fail:name`: every lookup fails, for testing error paths.
pub struct Fail {
    spec: String,
}

impl Fail {
    /// The table.
    pub fn new(name: &str) -> Fail {
        Fail {
            spec: format!("fail:{name}"),
        }
    }
}

impl Dict for Fail {
    fn impl_flags(&self) -> u32 {
        crate::dict_flags::PATTERN
    }

    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, _key: &str) -> Result<Option<String>, DictError> {
        // Postfix's fail table reports its errno as "Application error".
        Err(DictError::Retry("Application error".to_string()))
    }
}

/// `environ:name`: the process environment.
pub struct Environ {
    spec: String,
}

impl Environ {
    /// The table.
    pub fn new(name: &str) -> Environ {
        Environ {
            spec: format!("environ:{name}"),
        }
    }
}

impl Dict for Environ {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, DictError> {
        Ok(std::env::var(key).ok())
    }
}

/// `unix:passwd.byname` (and `unix:group.byname`): the system's account files.
pub struct Unix {
    spec: String,
    entries: HashMap<String, String>,
}

impl Unix {
    /// Opens one of the supported system maps.
    pub fn open(name: &str) -> Result<Unix, DictError> {
        let file = match name {
            "passwd.byname" => "/etc/passwd",
            "group.byname" => "/etc/group",
            _ => return Err(DictError::Config(format!("unknown table: unix:{name}"))),
        };
        let text = std::fs::read_to_string(file)
            .map_err(|e| DictError::Open(format!("open {file}: {e}")))?;
        let entries = text
            .lines()
            .filter_map(|l| {
                l.split_once(':')
                    .map(|(k, _)| (k.to_string(), l.to_string()))
            })
            .collect();
        Ok(Unix {
            spec: format!("unix:{name}"),
            entries,
        })
    }
}

impl Dict for Unix {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, DictError> {
        Ok(self.entries.get(key).cloned())
    }
}
