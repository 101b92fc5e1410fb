//! Editing main.cf and master.cf in place: `-e`, `-X`, `-#` and their master.cf forms
//! `-Me`, `-MX`, `-M#`, `-Fe`, `-Pe`, `-PX`.
//!
//! Postfix counterpart: `postconf_edit.c`. The file is copied line by line to `FILE.tmp`,
//! changing only what was asked, and the copy is renamed over the original, so comments,
//! blank lines and order survive and a crash never leaves a half-written file. A changed
//! main.cf setting is written back as one line `name = value` where the first setting was;
//! a new one is appended at the end, in name order.

use crate::master::{Pattern, field_index};
use crate::mode::{self, Mode};
use crate::names::Env;
use params::master_cf::{self, Entry};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file being rewritten through `FILE.tmp`.
struct EditFile {
    path: PathBuf,
    tmp_path: PathBuf,
    tmp: File,
    out: Vec<u8>,
}

impl EditFile {
    /// Opens and locks `FILE.tmp`; the original must exist.
    fn open(path: &Path) -> (EditFile, String) {
        let tmp_path = PathBuf::from(format!("{}.tmp", path.display()));
        let tmp = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&tmp_path)
            .unwrap_or_else(|e| {
                log::msg_fatal!("open {}: {}", tmp_path.display(), sys::os_error(&e))
            });
        // Another postconf editing the same file waits here, as with Postfix's edit_file.
        if let Err(e) = tmp.lock() {
            log::msg_fatal!("lock {}: {e}", tmp_path.display());
        }
        let original = match std::fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp_path);
                log::msg_fatal!("open {} for reading: {}", path.display(), sys::os_error(&e));
            }
        };
        let edit = EditFile {
            path: path.to_path_buf(),
            tmp_path,
            tmp,
            out: Vec::new(),
        };
        (edit, original)
    }

    fn write(&mut self, text: &str) {
        self.out.extend_from_slice(text.as_bytes());
    }

    /// Writes the copy, syncs it, and renames it over the original.
    fn commit(mut self) {
        let failed = |e: std::io::Error| -> ! {
            log::msg_fatal!("close {}: {}", self.tmp_path.display(), sys::os_error(&e))
        };
        let out = std::mem::take(&mut self.out);
        if let Err(e) = self.tmp.set_len(0) {
            failed(e);
        }
        if let Err(e) = self.tmp.write_all(&out).and_then(|()| self.tmp.sync_all()) {
            failed(e);
        }
        if let Err(e) = std::fs::rename(&self.tmp_path, &self.path) {
            failed(e);
        }
    }
}

/// Physical lines, each ending in a newline (one is added to a last line without).
fn physical_lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n')
        .map(|l| {
            if l.ends_with('\n') {
                l.to_string()
            } else {
                format!("{l}\n")
            }
        })
        .collect()
}

/// Where the text of a line starts, or None for a comment, blank or empty line.
fn content_start(line: &str) -> Option<usize> {
    let start = line.len() - line.trim_start_matches(util::name_value::is_space).len();
    match line[start..].chars().next() {
        None | Some('#') => None,
        Some(_) => Some(start),
    }
}

/// Common checks on an edit operand; returns the text after leading whitespace.
fn check_operand<'a>(operand: &'a str, multi_line: &str, comment: &str) -> &'a str {
    if operand.contains('\n') {
        log::msg_fatal!("{multi_line}");
    }
    let text = operand.trim_start_matches(util::name_value::is_space);
    if text.starts_with('#') {
        log::msg_fatal!("{comment}");
    }
    text
}

/// `postconf -e name=value...`, `-X name...`, `-# name...` on main.cf.
pub fn main(mode: &Mode, env: &Env, operands: &[String]) {
    struct Request {
        value: Option<String>,
        found: usize,
    }
    let mut requests: BTreeMap<String, Request> = BTreeMap::new();
    for operand in operands {
        let text = check_operand(
            operand,
            "-e, -X, or -# accepts no multi-line input",
            "-e, -X, or -# accepts no comment input",
        );
        let (name, value) = if mode.has(mode::EDIT) {
            match util::name_value::split(text) {
                Ok((n, v)) => (n.to_string(), Some(v.to_string())),
                Err(why) => log::msg_fatal!("{why}: \"{text}\""),
            }
        } else {
            if text.is_empty() {
                log::msg_fatal!("-X or -# requires non-blank parameter names");
            }
            if text.contains('=') {
                log::msg_fatal!("-X or -# requires parameter names without value");
            }
            (
                text.trim_end_matches(util::name_value::is_space)
                    .to_string(),
                None,
            )
        };
        if let Some(earlier) = requests.get(&name)
            && let (Some(new), Some(old)) = (&value, &earlier.value)
            && new != old
        {
            log::msg_warn!("ignoring earlier request: '{name} = {old}'");
        }
        requests.insert(name, Request { value, found: 0 });
    }

    let path = env.main_path();
    let (mut edit, original) = EditFile::open(&path);
    let mut interesting = false;
    for line in physical_lines(&original) {
        let Some(start) = content_start(&line) else {
            edit.write(&line);
            continue;
        };
        if start > 0 {
            if !interesting {
                edit.write(&line);
            } else if mode.has(mode::COMMENT_OUT) {
                edit.write(&format!("#{line}"));
            }
            continue;
        }
        let key_len = line
            .find(|c: char| util::name_value::is_space(c) || c == '=')
            .unwrap_or(line.len());
        let key = &line[..key_len];
        match requests.get_mut(key) {
            Some(request) => {
                interesting = true;
                request.found += 1;
                if request.found == 2 {
                    log::msg_warn!("{}: multiple entries for \"{key}\"", path.display());
                }
                if let Some(value) = &request.value {
                    edit.write(&format!("{key} = {value}\n"));
                } else if mode.has(mode::COMMENT_OUT) {
                    edit.write(&format!("#{line}"));
                }
            }
            None => {
                interesting = false;
                edit.write(&line);
            }
        }
    }
    if mode.has(mode::EDIT) {
        for (name, request) in &requests {
            if let (0, Some(value)) = (request.found, &request.value) {
                edit.write(&format!("{name} = {value}\n"));
            }
        }
    }
    edit.commit();
}

/// What one master.cf edit operand asks for.
struct MasterRequest {
    raw: String,
    pattern: Pattern,
    value: Option<String>,
    field: Option<usize>,
    matches: usize,
}

/// `-Me`, `-MX`, `-M#`, `-Fe`, `-Pe`, `-PX` on master.cf.
pub fn master(mode: &Mode, env: &Env, operands: &[String]) {
    let edit_options = "-Me, -Fe, -Pe, -X, or -#";
    let entry_mode = mode.has(mode::MASTER_ENTRIES);
    let field_mode = mode.has(mode::MASTER_FIELDS);
    let editing = mode.has(mode::EDIT);
    let mut requests = Vec::new();
    for operand in operands {
        let text = check_operand(
            operand,
            &format!("{edit_options} accept no multi-line input"),
            &format!("{edit_options} accept no comment input"),
        );
        let (pattern_text, value) = if editing {
            match util::name_value::split(text) {
                Ok((n, v)) => (n.to_string(), Some(v.to_string())),
                Err(why) => log::msg_fatal!("{why}: \"{operand}\""),
            }
        } else {
            if text.contains('=') {
                log::msg_fatal!("-X or -# requires names without value");
            }
            (
                text.trim_end_matches(util::name_value::is_space)
                    .to_string(),
                None,
            )
        };
        let has_blank = |v: &Option<String>| {
            v.as_deref()
                .is_some_and(|v| v.contains([' ', '\t', '\r', '\n']))
        };
        let (pattern, field) = if entry_mode {
            let p = Pattern::parse(&pattern_text, 2, 2)
                .unwrap_or_else(|| log::msg_fatal!("-Me, -MX or -M# requires service_name/type"));
            (p, None)
        } else if field_mode {
            let p = Pattern::parse(&pattern_text, 3, 3).unwrap_or_else(|| {
                log::msg_fatal!("-Fe or -FX requires service_name/type/field_name")
            });
            let Some(field) = field_index(p.part(2)) else {
                log::msg_fatal!("-Fe does not accept wild-card field name");
            };
            if editing && field < 7 && has_blank(&value) {
                log::msg_fatal!("-Fe does not accept whitespace in non-command field");
            }
            (p, Some(field))
        } else {
            let p = Pattern::parse(&pattern_text, 3, 3).unwrap_or_else(|| {
                log::msg_fatal!("-Pe or -PX requires service_name/type/parameter")
            });
            if p.part(2) == "*" {
                log::msg_fatal!("-Pe does not accept wild-card parameter name");
            }
            if editing && has_blank(&value) {
                log::msg_fatal!("-Pe does not accept whitespace in parameter value");
            }
            (p, None)
        };
        requests.push(MasterRequest {
            raw: operand.clone(),
            pattern,
            value,
            field,
            matches: 0,
        });
    }

    let path = env.master_path();
    let (mut edit, original) = EditFile::open(&path);
    let lines = physical_lines(&original);
    let mut warnings = Vec::new();
    let parse_new = |request: &MasterRequest, warnings: &mut Vec<String>| -> Entry {
        let text = request.value.as_deref().unwrap_or("");
        master_cf::parse_entry_text(text, warnings)
            .unwrap_or_else(|e| log::msg_fatal!("{e}: \"{}\"", request.raw))
    };
    let mut matched = false;
    let mut index = 0;
    let mut lineno = 0;
    while index < lines.len() {
        let line = &lines[index];
        index += 1;
        lineno += 1;
        let Some(start) = content_start(line) else {
            edit.write(line);
            continue;
        };
        if start > 0 {
            if !matched {
                edit.write(line);
            } else if mode.has(mode::COMMENT_OUT) {
                edit.write(&format!("#{line}"));
            }
            continue;
        }
        matched = false;
        let mut words = line
            .split([' ', '\t', '\r', '\n'])
            .filter(|w| !w.is_empty());
        let (Some(name), Some(kind)) = (words.next(), words.next()) else {
            log::msg_fatal!(
                "file {}: line {lineno}: specify service name and type on the same line",
                path.display()
            );
        };
        if name.contains('=') {
            log::msg_fatal!(
                "file {}: line {lineno}: service name syntax \"{name}\" is unsupported with {edit_options}",
                path.display()
            );
        }
        if kind.contains(['=', '/']) {
            log::msg_fatal!(
                "file {}: line {lineno}: service type syntax \"{kind}\" is unsupported with {edit_options}",
                path.display()
            );
        }
        let mut new_entry: Option<Entry> = None;
        for request in &mut requests {
            let tentative = (entry_mode && editing).then(|| parse_new(request, &mut warnings));
            let mut use_tentative = false;
            if request.pattern.selects(name, kind) {
                matched = true;
                request.matches += 1;
                let replaces =
                    editing || (mode.has(mode::MASTER_PARAMS) && mode.has(mode::EXCLUDE));
                if replaces && !entry_mode {
                    if new_entry.is_none() {
                        let mut full = line.clone();
                        while index < lines.len() {
                            let next = &lines[index];
                            if !next.starts_with(['#', ' ', '\t', '\r', '\n']) {
                                break;
                            }
                            index += 1;
                            match content_start(next) {
                                Some(_) => full.push_str(next),
                                None => edit.write(next),
                            }
                        }
                        new_entry = Some(
                            master_cf::parse_entry_text(&full, &mut warnings).unwrap_or_else(|e| {
                                log::msg_fatal!("file {}: line {lineno}: {e}", path.display())
                            }),
                        );
                    }
                    if let Some(entry) = new_entry.as_mut() {
                        if let Some(field) = request.field {
                            let value = request.value.as_deref().unwrap_or("");
                            if let Err(e) = entry.set_field(field, value, &mut warnings) {
                                log::msg_fatal!("{e}");
                            }
                        } else {
                            entry.set_option(request.pattern.part(2), request.value.as_deref());
                        }
                    }
                } else if replaces && request.matches == 1 {
                    use_tentative = true;
                }
            } else if let Some(t) = &tentative
                && t.service() == name
                && t.kind() == kind
            {
                matched = true;
                request.matches += 1;
                use_tentative = request.matches == 1;
            }
            if use_tentative {
                new_entry = tentative;
            }
        }
        if let Some(entry) = new_entry {
            edit.write(&crate::print::master_entry(&entry, true, None));
        } else if !matched {
            edit.write(line);
        } else if mode.has(mode::COMMENT_OUT) {
            edit.write(&format!("#{line}"));
        }
    }
    for request in &requests {
        if request.matches > 0 {
            continue;
        }
        if entry_mode && editing {
            let entry = parse_new(request, &mut warnings);
            edit.write(&crate::print::master_entry(&entry, true, None));
        } else if !entry_mode {
            log::msg_warn!("unmatched service_name/type: \"{}\"", request.raw);
        }
    }
    for warning in warnings {
        log::msg_warn!("{warning}");
    }
    edit.commit();
}
