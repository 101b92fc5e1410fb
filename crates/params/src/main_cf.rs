//! Reading main.cf: logical lines, `name = value` pairs, and the line numbers to blame.
//!
//! Postfix counterparts: `util/readlline.c` (`readllines`), `util/split_nameval.c` and
//! `util/dict.c` (`dict_load_fp`). A logical line is a line that does not start with
//! whitespace, plus every following line that does; lines that are empty, all whitespace,
//! or whose first non-blank character is `#` are dropped anywhere, even inside a continued
//! value. Continuation lines are joined as they are, with their leading whitespace and
//! without the newline, exactly as Postfix joins them.

use std::path::{Path, PathBuf};
use util::name_value;

/// One logical line and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalLine {
    /// The joined text.
    pub text: String,
    /// The number of its first physical line (1-based).
    pub first_line: usize,
    /// The number of its last physical line.
    pub last_line: usize,
}

/// Splits `text` into logical lines, with warnings in Postfix's words for what is skipped.
pub fn logical_lines(path: &Path, text: &str) -> (Vec<LogicalLine>, Vec<String>) {
    let mut lines = Vec::new();
    let mut warnings = Vec::new();
    let mut current: Option<LogicalLine> = None;
    for (index, physical) in text.split_inclusive('\n').enumerate() {
        let number = index + 1;
        let physical = physical.strip_suffix('\n').unwrap_or(physical);
        let content = physical.trim_start_matches(name_value::is_space);
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let continues = physical.starts_with(name_value::is_space);
        match current.as_mut() {
            Some(line) if continues => {
                line.text.push_str(physical);
                line.last_line = number;
            }
            _ => {
                if let Some(done) = current.take() {
                    lines.push(done);
                }
                current = Some(LogicalLine {
                    text: physical.to_string(),
                    first_line: number,
                    last_line: number,
                });
            }
        }
    }
    lines.extend(current);
    lines.retain(|line| {
        if line.text.contains('\0') {
            let range = if line.first_line == line.last_line {
                format!("line {}", line.first_line)
            } else {
                format!("line {}-{}", line.first_line, line.last_line)
            };
            warnings.push(format!(
                "{}, {range}: text after null byte may be ignored",
                path.display()
            ));
        }
        if line.text.starts_with(name_value::is_space) {
            let shown: String = line.text.chars().take(30).collect();
            let more = if line.text.len() > 30 { "..." } else { "" };
            warnings.push(format!(
                "{}: logical line must not start with whitespace: \"{shown}{more}\"",
                path.display()
            ));
            return false;
        }
        true
    });
    (lines, warnings)
}

/// One `name = value` setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The parameter name.
    pub name: String,
    /// The value, trimmed, `$name` references unexpanded.
    pub value: String,
    /// The first physical line of the setting.
    pub line: usize,
}

/// A parsed main.cf.
#[derive(Debug, Clone, Default)]
pub struct MainCf {
    /// The file it was read from.
    pub path: PathBuf,
    /// Every setting in file order; a later duplicate overrides an earlier one.
    pub entries: Vec<Entry>,
    /// Non-fatal problems found while reading, in Postfix's words.
    pub warnings: Vec<String>,
}

impl MainCf {
    /// Reads and parses `path`. The error text is what Postfix reports as fatal.
    pub fn read(path: &Path) -> Result<MainCf, String> {
        let text = std::fs::read(path)
            .map_err(|e| format!("open {}: {}", path.display(), crate::config::os_error(&e)))?;
        MainCf::parse(path, &String::from_utf8_lossy(&text))
    }

    /// Parses main.cf text; `path` is only used in messages.
    pub fn parse(path: &Path, text: &str) -> Result<MainCf, String> {
        let (lines, warnings) = logical_lines(path, text);
        let mut entries = Vec::with_capacity(lines.len());
        for line in lines {
            let (name, value) = name_value::split(&line.text).map_err(|why| {
                format!(
                    "{}, line {}: {why}: \"{}\"",
                    path.display(),
                    line.first_line,
                    line.text
                )
            })?;
            entries.push(Entry {
                name: name.to_string(),
                value: value.to_string(),
                line: line.first_line,
            });
        }
        Ok(MainCf {
            path: path.to_path_buf(),
            entries,
            warnings,
        })
    }

    /// The value in force for `name`: the last setting wins.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.name == name)
            .map(|e| e.value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<MainCf, String> {
        MainCf::parse(Path::new("/etc/x/main.cf"), text)
    }

    #[test]
    fn continuation_and_comments() {
        let cf = parse("# c\na = b\n  c\n# inside\n\td\n\nx=y # not a comment\n").unwrap();
        assert_eq!(cf.get("a"), Some("b  c\td"));
        assert_eq!(cf.get("x"), Some("y # not a comment"));
        assert_eq!(cf.entries[1].line, 7);
    }

    #[test]
    fn last_wins() {
        let cf = parse("a = 1\na = 2\n").unwrap();
        assert_eq!(cf.get("a"), Some("2"));
    }

    #[test]
    fn errors_name_file_and_line() {
        assert_eq!(
            parse("a = 1\n\nbogus\n").unwrap_err(),
            "/etc/x/main.cf, line 3: missing '=' after attribute name: \"bogus\""
        );
        assert_eq!(
            parse("= 1\n").unwrap_err(),
            "/etc/x/main.cf, line 1: missing attribute name: \"= 1\""
        );
    }

    #[test]
    fn leading_whitespace_is_skipped_with_a_warning() {
        let cf = parse("  a = 1\nb = 2\n").unwrap();
        assert_eq!(cf.get("a"), None);
        assert_eq!(
            cf.warnings,
            ["/etc/x/main.cf: logical line must not start with whitespace: \"  a = 1\""]
        );
    }
}
