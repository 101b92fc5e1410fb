//! Warnings about parameters nothing uses, which is how typos in main.cf and master.cf are
//! caught.
//!
//! Postfix counterpart: `postconf_unused.c`. A main.cf name is unused when it is neither
//! built in, service-dependent, nor a user-defined name that some `$name` refers to. A
//! master.cf `-o` name is unused when it is not known globally nor made valid in its own
//! service. Warnings come after the regular output, sorted by name.

use crate::names::Run;
use std::collections::BTreeMap;
use std::io::Write;

fn warn_sorted(flagged: BTreeMap<&str, String>) {
    if flagged.is_empty() {
        return;
    }
    let _ = std::io::stdout().flush();
    for text in flagged.values() {
        log::msg_warn!("{text}");
    }
}

/// Flags unused main.cf settings.
pub fn flag_main(run: &Run) {
    let dir = run.env.config_dir.display();
    let flagged = run
        .dict
        .iter()
        .filter(|(name, _)| !run.table.contains_key(*name))
        .map(|(name, value)| {
            (
                name.as_str(),
                format!("{dir}/main.cf: unused parameter: {name}={value}"),
            )
        })
        .collect();
    warn_sorted(flagged);
}

/// Flags unused master.cf `-o` settings, service by service.
pub fn flag_master(run: &Run) {
    let dir = run.env.config_dir.display();
    for scope in &run.services {
        let Some(settings) = &scope.params else {
            continue;
        };
        let flagged = settings
            .iter()
            .filter(|(name, _)| !run.table.contains_key(*name) && !scope.valid.contains(*name))
            .map(|(name, value)| {
                (
                    name.as_str(),
                    format!("{dir}/master.cf: unused parameter: {name}={value}"),
                )
            })
            .collect();
        warn_sorted(flagged);
    }
}
