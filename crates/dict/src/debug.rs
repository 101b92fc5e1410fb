//! `debug:type:name`: any table, with each access logged.
//!
//! Postfix counterpart: `util/dict_debug.c` (the `debug:` type of Postfix 3.11). Every
//! lookup is logged as `type:name lookup: "key" = "value"`, with `not_found` or `error` in
//! place of the value, so an administrator sees what a daemon asked and what it got
//! without raising the verbosity of the whole daemon.

use crate::{Dict, DictError, Flags};

/// A logging wrapper around another table.
pub struct Debug {
    spec: String,
    name: String,
    inner: Box<dyn Dict>,
}

impl Debug {
    /// Opens `name` (itself `type:name`) and wraps it.
    pub fn open(name: &str, flags: Flags) -> Result<Debug, DictError> {
        if log::verbose() > 0 {
            log::msg_info!("dict_debug_open: {name}");
        }
        Ok(Debug {
            spec: format!("debug:{name}"),
            name: name.to_string(),
            inner: crate::open(name, flags)?,
        })
    }
}

impl Dict for Debug {
    fn impl_flags(&self) -> u32 {
        self.inner.impl_flags()
    }

    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, DictError> {
        let result = self.inner.lookup(key);
        let shown = match &result {
            Ok(Some(value)) => value.as_str(),
            Ok(None) => "not_found",
            Err(_) => "error",
        };
        log::msg_info!("{} lookup: \"{key}\" = \"{shown}\"", self.name);
        result
    }

    fn entries(&self) -> Result<Option<Vec<(String, String)>>, DictError> {
        let Some(entries) = self.inner.entries()? else {
            return Ok(None);
        };
        for (key, value) in &entries {
            log::msg_info!("{} sequence: \"{key}\" = \"{value}\"", self.name);
        }
        log::msg_info!("{} sequence: found EOF", self.name);
        Ok(Some(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_each_lookup_with_its_outcome() {
        let capture = log::Capture::default();
        log::add_sink(Box::new(capture.clone()));
        let table = crate::open("debug:inline:{ alice=a@example.com }", Flags::default()).unwrap();
        assert_eq!(table.spec(), "debug:inline:{ alice=a@example.com }");
        assert_eq!(
            table.lookup("alice").unwrap().as_deref(),
            Some("a@example.com")
        );
        assert_eq!(table.lookup("bob").unwrap(), None);
        let failing = crate::open("debug:fail:broken", Flags::default()).unwrap();
        assert!(failing.lookup("x").is_err());
        let lines = capture.lines();
        assert!(lines.iter().any(|l| {
            l.ends_with("inline:{ alice=a@example.com } lookup: \"alice\" = \"a@example.com\"")
        }));
        assert!(lines.iter().any(|l| {
            l.ends_with("inline:{ alice=a@example.com } lookup: \"bob\" = \"not_found\"")
        }));
        assert!(
            lines
                .iter()
                .any(|l| l.ends_with("fail:broken lookup: \"x\" = \"error\""))
        );
    }
}
