//! Reading main.cf: logical lines, `name = value` pairs, and the line numbers to blame.
//!
//! Postfix counterparts: `util/split_nameval.c` and `util/dict.c` (`dict_load_fp`), on top
//! of the logical lines of `util::readlline`.

use std::path::{Path, PathBuf};
use util::name_value;
pub use util::readlline::{LogicalLine, logical_lines};

/// Why main.cf or master.cf could not be loaded. Either is fatal to the program that
/// needs the file, but a caller that only checks (postfix reload, postfix check) can tell
/// a missing file from a broken one. The text is Postfix's.
#[derive(Debug)]
pub enum CfError {
    /// The file could not be read.
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// An entry is malformed.
    Syntax {
        /// The first physical line of the entry.
        line: usize,
        /// Postfix's message, which names the file, the line or the entry as Postfix does.
        message: String,
    },
}

impl CfError {
    /// Reads `path` as text (invalid UTF-8 becomes U+FFFD, as the parsers expect).
    pub(crate) fn read(path: &Path) -> Result<String, CfError> {
        let bytes = std::fs::read(path).map_err(|error| CfError::Open {
            path: path.to_path_buf(),
            error,
        })?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

impl std::fmt::Display for CfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CfError::Open { path, error } => {
                write!(f, "open {}: {}", path.display(), sys::os_error(error))
            }
            CfError::Syntax { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for CfError {}

/// For callers that pass the fatal text along as a String.
impl From<CfError> for String {
    fn from(error: CfError) -> String {
        error.to_string()
    }
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
    /// Reads and parses `path`. The error's text is what Postfix reports as fatal.
    pub fn read(path: &Path) -> Result<MainCf, CfError> {
        MainCf::parse(path, &CfError::read(path)?)
    }

    /// Parses main.cf text; `path` is only used in messages.
    pub fn parse(path: &Path, text: &str) -> Result<MainCf, CfError> {
        let (lines, warnings) = logical_lines(path, text);
        let mut entries = Vec::with_capacity(lines.len());
        for line in lines {
            let (name, value) = name_value::split(&line.text).map_err(|why| CfError::Syntax {
                line: line.first_line,
                message: format!(
                    "{}, line {}: {why}: \"{}\"",
                    path.display(),
                    line.first_line,
                    line.text
                ),
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
        MainCf::parse(Path::new("/etc/x/main.cf"), text).map_err(String::from)
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
    fn a_missing_file_is_an_open_error() {
        let error = MainCf::read(Path::new("/nonexistent/main.cf")).unwrap_err();
        assert!(matches!(error, CfError::Open { .. }));
        assert_eq!(
            error.to_string(),
            "open /nonexistent/main.cf: No such file or directory"
        );
        let syntax = MainCf::parse(Path::new("m"), "\n\nbogus\n").unwrap_err();
        assert!(matches!(syntax, CfError::Syntax { line: 3, .. }));
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
