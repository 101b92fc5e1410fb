//! Reading main.cf: logical lines, `name = value` pairs, and the line numbers to blame.
//!
//! Postfix counterparts: `util/split_nameval.c` and `util/dict.c` (`dict_load_fp`), on top
//! of the logical lines of `util::readlline`.

use std::path::{Path, PathBuf};
use util::name_value;
pub use util::readlline::{LogicalLine, logical_lines};

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
            .map_err(|e| format!("open {}: {}", path.display(), sys::os_error(&e)))?;
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
