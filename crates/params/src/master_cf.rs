//! Parsing master.cf into service entries.
//!
//! Postfix counterparts: `postconf/postconf_master.c` (the checks and the normalised form
//! that `postconf -M` prints) and `master/master_ent.c` (what the master makes of it).
//! An entry is a logical line (same continuation and comment rules as main.cf) holding seven
//! fields (service, type, private, unprivileged, chroot, wakeup, process_limit) and a command
//! with arguments. `{ ... }` groups words that contain whitespace (Postfix 3.0). Daemon
//! options are normalised as Postfix does: `-oname=value` becomes `-o name=value`, `-vo x`
//! becomes `-v -o x`, and `-o { name = value }` becomes `-o name=value`.

use crate::main_cf::{CfError, logical_lines};
use std::path::{Path, PathBuf};
use util::tokens;

/// Separators between master.cf fields.
const BLANKS: &str = " \t\r\n";

/// Daemon options that take a value.
const OPTIONS_WITH_VALUE: &[u8] = b"o";

fn takes_value(letter: u8) -> bool {
    OPTIONS_WITH_VALUE.contains(&letter)
}

/// The names of the fields, as `postconf -F` prints them.
pub const FIELD_NAMES: [&str; 8] = [
    "service",
    "type",
    "private",
    "unprivileged",
    "chroot",
    "wakeup",
    "process_limit",
    "command",
];

/// The service types master.cf accepts.
pub const SERVICE_TYPES: [&str; 5] = ["unix", "fifo", "inet", "pass", "unix-dgram"];

/// One master.cf service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The seven leading fields as written (`-` stays `-`).
    pub fields: [String; 7],
    /// The command and its normalised arguments.
    pub argv: Vec<String>,
    /// The first physical line of the entry.
    pub line: usize,
}

impl Entry {
    /// The service name (field 1).
    pub fn service(&self) -> &str {
        &self.fields[0]
    }

    /// The service type (field 2).
    pub fn kind(&self) -> &str {
        &self.fields[1]
    }

    /// `service/type`, the name `postconf -M`, `-F` and `-P` select entries by.
    pub fn name_space(&self) -> String {
        format!("{}/{}", self.fields[0], self.fields[1])
    }

    /// The program's name: the base name of the command.
    pub fn process_name(&self) -> &str {
        let command = self.argv.first().map_or("", String::as_str);
        command.rsplit('/').next().unwrap_or(command)
    }

    /// The `-o name=value` settings among the daemon options, in order; a setting without
    /// `=` is left out, as Postfix leaves it out.
    pub fn overrides(&self) -> Vec<(&str, &str)> {
        let mut out = Vec::new();
        let mut args = self.argv.iter().skip(1);
        while let Some(arg) = args.next() {
            if !arg.starts_with('-') || arg == "--" {
                break;
            }
            if arg == "-o"
                && let Some(Ok(pair)) = args.next().map(|s| util::name_value::split(s))
            {
                out.push(pair);
            }
        }
        out
    }
}

/// A parsed master.cf.
#[derive(Debug, Clone, Default)]
pub struct MasterCf {
    /// The file it was read from.
    pub path: PathBuf,
    /// The services in file order.
    pub entries: Vec<Entry>,
    /// Non-fatal problems, in Postfix's words.
    pub warnings: Vec<String>,
}

impl MasterCf {
    /// Reads and parses `path`; the error's text is the fatal text.
    pub fn read(path: &Path) -> Result<MasterCf, CfError> {
        MasterCf::parse(path, &CfError::read(path)?)
    }

    /// Parses master.cf text; `path` is only used in messages.
    pub fn parse(path: &Path, text: &str) -> Result<MasterCf, CfError> {
        let (lines, mut warnings) = logical_lines(path, text);
        let mut entries = Vec::with_capacity(lines.len());
        for line in lines {
            let entry = parse_entry(&line.text, line.first_line, &mut warnings).map_err(|why| {
                let message = match why {
                    EntryError::FieldCount => format!(
                        "file {}: line {}: bad field count",
                        path.display(),
                        line.first_line
                    ),
                    EntryError::Field(text) => text,
                };
                CfError::Syntax {
                    line: line.first_line,
                    message,
                }
            })?;
            entries.push(entry);
        }
        Ok(MasterCf {
            path: path.to_path_buf(),
            entries,
            warnings,
        })
    }
}

/// Why an entry was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryError {
    /// Fewer than eight fields.
    FieldCount,
    /// A field has a bad value; the text says which, in Postfix's words.
    Field(String),
}

impl std::fmt::Display for EntryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EntryError::FieldCount => f.write_str("bad field count"),
            EntryError::Field(text) => f.write_str(text),
        }
    }
}

/// Parses one entry's text (as `postconf -Me` takes it); warnings are appended to `warnings`.
pub fn parse_entry_text(text: &str, warnings: &mut Vec<String>) -> Result<Entry, EntryError> {
    parse_entry(text, 0, warnings)
}

impl Entry {
    /// Replaces one field (0-6) or the command with arguments (7), checking the result the
    /// way `postconf -Fe` does; errors name `raw`, the text the user gave.
    pub fn set_field(
        &mut self,
        field: usize,
        value: &str,
        warnings: &mut Vec<String>,
    ) -> Result<(), String> {
        let mut words: Vec<String> = self.fields.to_vec();
        if field == 7 {
            words.extend(split_quoted(value));
            normalize_arguments(&mut words, warnings);
        } else {
            words.extend(self.argv.iter().cloned());
            words[field] = value.to_string();
        }
        if words.len() < FIELD_NAMES.len() {
            return Err(EntryError::FieldCount.to_string());
        }
        check_fields(&words, value)?;
        self.argv = words.split_off(7);
        self.fields = words
            .try_into()
            .map_err(|_| EntryError::FieldCount.to_string())?;
        Ok(())
    }

    /// Sets (`Some`) or removes (`None`) a `-o name=value` daemon option, as `postconf -Pe`
    /// and `-PX` do: an existing setting is changed in place, a new one goes after the
    /// last option.
    pub fn set_option(&mut self, name: &str, value: Option<&str>) {
        let mut field = 1;
        let mut found = false;
        while field < self.argv.len() {
            let arg = &self.argv[field];
            if !arg.starts_with('-') || arg == "--" {
                break;
            }
            if arg.as_bytes().get(1).is_some_and(|b| takes_value(*b)) && field + 1 < self.argv.len()
            {
                let is_match = arg == "-o"
                    && self.argv[field + 1]
                        .strip_prefix(name)
                        .is_some_and(|rest| rest.starts_with('='));
                if is_match {
                    found = true;
                    match value {
                        Some(v) => self.argv[field + 1] = format!("{name}={v}"),
                        None => {
                            self.argv.drain(field..field + 2);
                            continue;
                        }
                    }
                }
                field += 1;
            }
            field += 1;
        }
        if let (Some(v), false) = (value, found) {
            let at = field.min(self.argv.len());
            self.argv.insert(at, "-o".to_string());
            self.argv.insert(at + 1, format!("{name}={v}"));
        }
    }
}

/// Splits at blanks, keeping `{ }` groups; an unbalanced group runs to the end.
fn split_quoted(text: &str) -> Vec<String> {
    match tokens::split_braced(text, BLANKS) {
        Ok(words) => words.into_iter().map(str::to_string).collect(),
        Err(_) => {
            // Take the balanced words, then everything from the open brace on.
            let mut words = Vec::new();
            let mut rest = text;
            loop {
                rest = rest.trim_start_matches(|c| BLANKS.contains(c));
                if rest.is_empty() {
                    break;
                }
                if rest.starts_with('{') {
                    words.push(rest.to_string());
                    break;
                }
                let end = rest.find(|c| BLANKS.contains(c)).unwrap_or(rest.len());
                words.push(rest[..end].to_string());
                rest = &rest[end..];
            }
            words
        }
    }
}

fn parse_entry(text: &str, line: usize, warnings: &mut Vec<String>) -> Result<Entry, EntryError> {
    let mut words = split_quoted(text);
    if words.len() < FIELD_NAMES.len() {
        return Err(EntryError::FieldCount);
    }
    check_fields(&words, text).map_err(EntryError::Field)?;
    normalize_arguments(&mut words, warnings);
    let argv = words.split_off(7);
    let fields: [String; 7] = words.try_into().map_err(|_| EntryError::FieldCount)?;
    Ok(Entry { fields, argv, line })
}

fn check_fields(words: &[String], raw: &str) -> Result<(), String> {
    let invalid = |field: usize| {
        format!(
            "invalid {} field \"{}\" in \"{}\"",
            FIELD_NAMES[field],
            words[field],
            raw.replace('\n', " ")
        )
    };
    if !SERVICE_TYPES.contains(&words[1].as_str()) {
        return Err(invalid(1));
    }
    if let Some(field) = (2..=4).find(|&f| !matches!(words[f].as_str(), "y" | "n" | "-")) {
        return Err(invalid(field));
    }
    let wakeup = words[5].strip_suffix('?').unwrap_or(&words[5]);
    if wakeup != "-" && !wakeup.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(5));
    }
    if words[6] != "-" && !words[6].bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(6));
    }
    Ok(())
}

/// Brings daemon options into the canonical form `postconf -M` shows.
fn normalize_arguments(words: &mut Vec<String>, warnings: &mut Vec<String>) {
    let mut field = FIELD_NAMES.len();
    while field < words.len() {
        let arg = words[field].clone();
        if !arg.starts_with('-') || arg == "--" {
            break;
        }
        // "-vo x" becomes "-v" "-o x": an option with a value ends a cluster.
        let cluster = arg.as_bytes().get(2..).unwrap_or_default();
        if let Some(at) = cluster.iter().position(|b| takes_value(*b)) {
            // The option letter is ASCII, so `at` is a character boundary.
            let at = at + 2;
            words.insert(field + 1, format!("-{}", &arg[at..]));
            words[field].truncate(at);
        }
        let arg = words[field].clone();
        if arg.as_bytes().get(1).is_some_and(|b| takes_value(*b)) {
            if arg.len() > 2 {
                words.insert(field + 1, arg[2..].to_string());
                words[field].truncate(2);
            }
            if field + 1 < words.len() {
                field += 1;
                if words[field].starts_with('{') {
                    extract_braced(words, field, warnings);
                    if words[field - 1] == "-o" {
                        normalize_setting(words, field, warnings);
                    }
                }
            }
        }
        field += 1;
    }
    for word in words.iter_mut().skip(field) {
        if word.starts_with('{') {
            match tokens::strip_braces(word) {
                Ok(inner) => *word = inner.to_string(),
                Err(why) => warnings.push(format!("master.cf: {why}")),
            }
        }
    }
}

fn extract_braced(words: &mut [String], field: usize, warnings: &mut Vec<String>) {
    match tokens::strip_braces(&words[field]) {
        Ok(inner) => words[field] = inner.to_string(),
        Err(why) => warnings.push(format!("master.cf: {why}")),
    }
}

fn normalize_setting(words: &mut [String], field: usize, warnings: &mut Vec<String>) {
    match util::name_value::split(&words[field]) {
        Ok((name, value)) => words[field] = format!("{name}={value}"),
        Err(why) => warnings.push(format!("master.cf: {why}: \"{}\"", words[field])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<MasterCf, String> {
        MasterCf::parse(Path::new("/x/master.cf"), text).map_err(String::from)
    }

    #[test]
    fn entry_with_options() {
        let cf = parse(
            "submission inet n - y - - smtpd\n  -o syslog_name=postfix/submission\n  -o { smtpd_reject_footer = a b }\n  -vosmtpd_tls_security_level=encrypt {x y}\n",
        )
        .unwrap();
        let e = &cf.entries[0];
        assert_eq!(e.name_space(), "submission/inet");
        assert_eq!(e.process_name(), "smtpd");
        assert_eq!(
            e.argv,
            [
                "smtpd",
                "-o",
                "syslog_name=postfix/submission",
                "-o",
                "smtpd_reject_footer=a b",
                "-v",
                "-o",
                "smtpd_tls_security_level=encrypt",
                "x y"
            ]
        );
        assert_eq!(e.overrides()[1], ("smtpd_reject_footer", "a b"));
    }

    #[test]
    fn multibyte_options_do_not_panic() {
        // Found by the master_cf fuzz target: option clusters holding non-ASCII text.
        let text = "smtp inet n - y - - -\u{fffd}\u{fffd} s \u{649} c 1 pickup -\u{fffd}o x\n";
        let cf = parse(text).unwrap();
        assert_eq!(cf.entries[0].argv[0], "-\u{fffd}\u{fffd}");
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse("smtp inet n - y -\n").unwrap_err(),
            "file /x/master.cf: line 1: bad field count"
        );
        assert_eq!(
            parse("smtp tcp n - y - - smtpd\n").unwrap_err(),
            "invalid type field \"tcp\" in \"smtp tcp n - y - - smtpd\""
        );
        assert_eq!(
            parse("smtp inet x - y - - smtpd\n").unwrap_err(),
            "invalid private field \"x\" in \"smtp inet x - y - - smtpd\""
        );
        assert!(parse("pickup unix n - y 60? 1 pickup\n").is_ok());
        assert!(parse("pickup unix n - y 6x 1 pickup\n").is_err());
    }
}
