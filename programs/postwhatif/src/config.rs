//! Where each setting comes from, and the overrides that make a daemon show its lookups.
//!
//! Postfix counterpart: none. main.cf keeps the first physical line of every setting
//! (params::main_cf); master.cf keeps each service's line and `-o` settings
//! (params::master_cf). A daemon started for a what-if gets its service's `-o` settings, as
//! the master would give them, and each table of the parameters that decide a question
//! wrapped in `debug:`, so that every lookup it makes is logged with its key and value.

use params::Config;
use params::master_cf::{Entry, MasterCf};
use std::collections::BTreeMap;

/// The configuration a question is asked of.
pub struct Setup {
    /// main.cf.
    pub config: Config,
    /// master.cf (empty when it cannot be read: defaults still answer).
    pub master: MasterCf,
    /// The daemon directory.
    pub daemon_directory: String,
}

impl Setup {
    /// The master.cf service of program `process` named `service`, else its first one.
    pub fn service(&self, process: &str, service: Option<&str>) -> Option<&Entry> {
        let of_process = |e: &&Entry| e.process_name() == process;
        let named = service.and_then(|name| {
            self.master
                .entries
                .iter()
                .filter(of_process)
                .find(|e| e.service() == name || e.service().rsplit(':').next() == Some(name))
        });
        named.or_else(|| self.master.entries.iter().find(of_process))
    }

    /// Where `name`'s value comes from: the master.cf `-o` of `entry`, a main.cf line, or
    /// the default; with the setting as written there.
    pub fn origin(&self, name: &str, entry: Option<&Entry>) -> String {
        if let Some(entry) = entry
            && let Some((_, value)) = entry
                .overrides()
                .into_iter()
                .rev()
                .find(|(n, _)| *n == name)
        {
            return format!(
                "{} line {}: -o {name}={value}",
                self.master.path.display(),
                entry.line
            );
        }
        if let Some(found) = self
            .config
            .main
            .entries
            .iter()
            .rev()
            .find(|e| e.name == name)
        {
            return format!(
                "{} line {}: {name} = {}",
                self.config.main.path.display(),
                found.line,
                found.value
            );
        }
        let value = self
            .config
            .raw(name)
            .map(|v| v.into_owned())
            .unwrap_or_default();
        format!("default: {name} = {value}")
    }

    /// The value of `name` in force for `entry`, `$name` expanded.
    pub fn value(&self, name: &str, entry: Option<&Entry>) -> String {
        let raw = entry
            .and_then(|e| {
                e.overrides()
                    .into_iter()
                    .rev()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            })
            .or_else(|| self.config.raw(name).map(|v| v.into_owned()))
            .unwrap_or_default();
        self.config.expand(&raw).unwrap_or(raw)
    }
}

/// The `-o` arguments for a daemon of `entry`: the service's own settings, then
/// `tables` with each table wrapped in `debug:`. Also returns which parameters each
/// table (as its lookups name it) belongs to.
pub fn overrides(
    setup: &Setup,
    entry: Option<&Entry>,
    tables: &[&str],
) -> (Vec<String>, BTreeMap<String, Vec<String>>) {
    let mut args = Vec::new();
    if let Some(entry) = entry {
        for (name, value) in entry.overrides() {
            args.push("-o".to_string());
            args.push(format!("{name}={value}"));
        }
    }
    let mut owners: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in tables {
        let value = setup.value(name, entry);
        let Ok(items) = util::tokens::split_braced(&value, util::tokens::COMMA_SPACE) else {
            continue;
        };
        if items.is_empty() {
            continue;
        }
        let wrapped: Vec<String> = items
            .iter()
            .map(|item| {
                let inner = item.strip_prefix("debug:").unwrap_or(item);
                if inner.contains(':') {
                    owners
                        .entry(inner.to_string())
                        .or_default()
                        .push(name.to_string());
                    format!("debug:{inner}")
                } else {
                    item.to_string()
                }
            })
            .collect();
        args.push("-o".to_string());
        args.push(format!("{name}={}", wrapped.join(" ")));
    }
    (args, owners)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn setup(main_cf: &str, master_cf: &str) -> Setup {
        let main = params::main_cf::MainCf::parse(Path::new("/etc/x/main.cf"), main_cf).unwrap();
        Setup {
            config: Config::new(Path::new("/etc/x"), main),
            master: MasterCf::parse(Path::new("/etc/x/master.cf"), master_cf).unwrap(),
            daemon_directory: "/usr/libexec/x".into(),
        }
    }

    #[test]
    fn settings_name_their_file_and_line() {
        let s = setup(
            "# comment\nvirtual_alias_maps = hash:/etc/x/virtual\n",
            "smtp inet n - n - - smtpd\nsubmission inet n - n - - smtpd\n  -o smtpd_recipient_restrictions=reject\n",
        );
        assert_eq!(
            s.origin("virtual_alias_maps", None),
            "/etc/x/main.cf line 2: virtual_alias_maps = hash:/etc/x/virtual"
        );
        let submission = s.service("smtpd", Some("submission"));
        assert_eq!(submission.map(|e| e.line), Some(2));
        assert_eq!(
            s.origin("smtpd_recipient_restrictions", submission),
            "/etc/x/master.cf line 2: -o smtpd_recipient_restrictions=reject"
        );
        assert!(
            s.origin("relayhost", submission)
                .starts_with("default: relayhost =")
        );
        // No such service: the program's first.
        assert_eq!(s.service("smtpd", Some("nope")).map(|e| e.line), Some(1));
    }

    #[test]
    fn tables_are_wrapped_in_debug_and_owned_by_their_parameter() {
        let s = setup(
            "transport_maps = hash:/t, inline:{ a=b, c=d } debug:texthash:/u\nrelocated_maps =\n",
            "",
        );
        let (args, owners) = overrides(&s, None, &["transport_maps", "relocated_maps"]);
        assert_eq!(
            args,
            [
                "-o",
                "transport_maps=debug:hash:/t debug:inline:{ a=b, c=d } debug:texthash:/u"
            ]
        );
        assert_eq!(owners["inline:{ a=b, c=d }"], ["transport_maps"]);
        assert_eq!(owners["texthash:/u"], ["transport_maps"]);
    }
}
