//! Tables made of tables: `unionmap:{ t1, t2, ... }` and `pipemap:{ t1, t2, ... }`.
//!
//! Postfix counterparts: `util/dict_union.c` and `dict_pipe.c`. unionmap asks every table
//! and joins what they found with commas; pipemap feeds each table's result to the next.
//! An error in any table is the composite's error.

use crate::{Dict, DictError, Flags};
use util::tokens;

/// A union or a pipeline.
pub struct Composite {
    spec: String,
    pipe: bool,
    tables: Vec<Box<dyn Dict>>,
}

impl Composite {
    /// Opens the member tables.
    pub fn open(kind: &str, name: &str, flags: Flags) -> Result<Composite, DictError> {
        let need = |detail: &str| {
            DictError::Config(format!(
                "bad syntax: \"{kind}:{name}\"; need \"{kind}:{{type:name...}}\"{detail}"
            ))
        };
        let inner = name
            .strip_prefix('{')
            .and_then(|n| n.strip_suffix('}'))
            .ok_or_else(|| need(""))?;
        let members = tokens::split_braced(inner, tokens::COMMA_SPACE).map_err(|_| need(""))?;
        let pipe = kind == "pipemap";
        if members.is_empty() || (pipe && members.len() < 2) {
            return Err(need(""));
        }
        let tables = members
            .into_iter()
            .map(|m| crate::open(m, flags))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Composite {
            spec: format!("{kind}:{name}"),
            pipe,
            tables,
        })
    }
}

impl Dict for Composite {
    fn impl_flags(&self) -> u32 {
        let kinds = crate::dict_flags::FIXED | crate::dict_flags::PATTERN;
        self.tables
            .iter()
            .fold(0, |bits, t| bits | (t.impl_flags() & kinds))
    }

    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, DictError> {
        if self.pipe {
            let mut query = key.to_string();
            for table in &self.tables {
                match table.lookup(&query)? {
                    Some(result) => query = result,
                    None => return Ok(None),
                }
            }
            return Ok(Some(query));
        }
        let mut found = Vec::new();
        for table in &self.tables {
            if let Some(result) = table.lookup(key)? {
                found.push(result);
            }
        }
        Ok((!found.is_empty()).then(|| found.join(",")))
    }
}
