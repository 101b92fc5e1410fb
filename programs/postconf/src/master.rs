//! Showing master.cf: `postconf -M`, `-F` and `-P`, with `service/type[/field]` filters.
//!
//! Postfix counterpart: `postconf_master.c` (`pcf_show_master_entries`,
//! `pcf_show_master_fields`, `pcf_show_master_params`) and `postconf_match.c`.

use crate::mode::{self, Mode};
use crate::names::{Run, Scope};
use params::master_cf::FIELD_NAMES;
use std::io::Write;

/// A `service/type[/more]` filter; `*` or a missing part matches anything.
pub struct Pattern {
    raw: String,
    parts: Vec<String>,
    matches: usize,
}

impl Pattern {
    /// Parses a filter with between `min` and `max` parts; None if it is malformed.
    pub fn parse(raw: &str, min: usize, max: usize) -> Option<Pattern> {
        if raw.starts_with('/') {
            return None;
        }
        let mut parts: Vec<String> = raw
            .split('/')
            .filter(|p| !p.is_empty())
            .map(String::from)
            .collect();
        if parts.len() < min || parts.len() > max {
            return None;
        }
        if parts.iter().any(|p| p != "*" && p.contains('*')) {
            return None;
        }
        parts.resize(max, "*".to_string());
        Some(Pattern {
            raw: raw.to_string(),
            parts,
            matches: 0,
        })
    }

    /// Part `i` of the pattern.
    pub fn part(&self, i: usize) -> &str {
        &self.parts[i]
    }

    /// Whether it selects the service `name` of type `kind`.
    pub fn selects(&self, name: &str, kind: &str) -> bool {
        matches_part(&self.parts[0], name) && matches_part(&self.parts[1], kind)
    }
}

/// Whether a pattern part matches a string.
pub fn matches_part(pattern: &str, text: &str) -> bool {
    pattern == "*" || pattern == text
}

/// Warns about filters that selected nothing.
fn report_unmatched(patterns: &[Pattern]) {
    for p in patterns.iter().filter(|p| p.matches == 0) {
        log::msg_warn!("unmatched request: \"{}\"", p.raw);
    }
}

fn parse_all(operands: &[String], min: usize, max: usize, usage: &str) -> Vec<Pattern> {
    operands
        .iter()
        .map(|o| Pattern::parse(o, min, max).unwrap_or_else(|| log::msg_fatal!("{usage}")))
        .collect()
}

/// The field index a `-F` pattern names, or None for `*`.
pub fn field_index(name: &str) -> Option<usize> {
    if name == "*" {
        return None;
    }
    match FIELD_NAMES.iter().position(|f| *f == name) {
        Some(i) => Some(i),
        None => log::msg_fatal!("invalid service attribute name: \"{name}\""),
    }
}

/// `postconf -M [service[/type]...]`.
pub fn show_entries(mode: &Mode, run: &Run, operands: &[String]) {
    let mut patterns = parse_all(operands, 1, 2, "-M option requires service_name[/type]");
    let mut out = std::io::stdout().lock();
    let fold = mode.has(mode::FOLD);
    for scope in &run.services {
        if patterns.is_empty() {
            let _ = out.write_all(entry_text(mode, run, scope, fold).as_bytes());
        }
        for p in &mut patterns {
            if p.selects(scope.entry.service(), scope.entry.kind()) {
                p.matches += 1;
                let _ = out.write_all(entry_text(mode, run, scope, fold).as_bytes());
            }
        }
    }
    let _ = out.flush();
    report_unmatched(&patterns);
}

fn entry_text(mode: &Mode, run: &Run, scope: &Scope, fold: bool) -> String {
    let expand = |v: &str| run.expand(mode, v, Some(scope));
    let expander: crate::print::Expander<'_> = mode.has(mode::EVAL).then_some(&expand);
    crate::print::master_entry(&scope.entry, fold, expander)
}

/// `postconf -F [service[/type[/field]]...]`.
pub fn show_fields(mode: &Mode, run: &Run, operands: &[String]) {
    let mut patterns = parse_all(
        operands,
        1,
        3,
        "-F option requires service_name[/type[/field]]",
    );
    let fields: Vec<Option<usize>> = patterns.iter().map(|p| field_index(p.part(2))).collect();
    let mut out = std::io::stdout().lock();
    let print = |out: &mut std::io::StdoutLock, scope: &Scope, field: Option<usize>| {
        let range = match field {
            Some(f) => f..f + 1,
            None => 0..FIELD_NAMES.len(),
        };
        let expand = |v: &str| run.expand(mode, v, Some(scope));
        let expander: crate::print::Expander<'_> = mode.has(mode::EVAL).then_some(&expand);
        for f in range {
            let text = crate::print::master_field(mode, &scope.entry, f, expander);
            let _ = out.write_all(text.as_bytes());
        }
    };
    for scope in &run.services {
        if patterns.is_empty() {
            print(&mut out, scope, None);
        }
        for (p, field) in patterns.iter_mut().zip(&fields) {
            if p.selects(scope.entry.service(), scope.entry.kind()) {
                p.matches += 1;
                print(&mut out, scope, *field);
            }
        }
    }
    let _ = out.flush();
    report_unmatched(&patterns);
}

/// `postconf -P [service[/type[/parameter]]...]`: the `-o` settings of services.
pub fn show_params(mode: &Mode, run: &Run, operands: &[String]) {
    let mut patterns = parse_all(
        operands,
        1,
        3,
        "-P option requires service_name[/type[/parameter]]",
    );
    let mut out = std::io::stdout().lock();
    for scope in &run.services {
        let Some(settings) = &scope.params else {
            continue;
        };
        if patterns.is_empty() {
            for (name, value) in settings {
                print_param(&mut out, mode, run, scope, name, value);
            }
        }
        for p in &mut patterns {
            if !p.selects(scope.entry.service(), scope.entry.kind()) {
                continue;
            }
            if p.part(2) == "*" {
                p.matches += 1;
                for (name, value) in settings {
                    print_param(&mut out, mode, run, scope, name, value);
                }
            } else if let Some(value) = settings.get(p.part(2)) {
                p.matches += 1;
                print_param(&mut out, mode, run, scope, p.part(2), value);
            }
        }
    }
    let _ = out.flush();
    report_unmatched(&patterns);
}

fn print_param(
    out: &mut impl Write,
    mode: &Mode,
    run: &Run,
    scope: &Scope,
    name: &str,
    value: &str,
) {
    let full = format!("{}/{}", scope.entry.name_space(), name);
    let value = if mode.has(mode::EVAL) && !mode.has(mode::HIDE_VALUE) {
        run.expand(mode, value, Some(scope))
    } else {
        value.to_string()
    };
    let _ = out.write_all(crate::print::name_value(mode, &full, &value).as_bytes());
}
