//! Logical lines: the continuation and comment rules of every Postfix configuration file.
//!
//! Postfix counterpart: `util/readlline.c` (`readllines`). A logical line is a line that
//! does not start with whitespace, plus every following line that does; lines that are
//! empty, all whitespace, or whose first non-blank character is `#` are dropped anywhere,
//! even inside a continued value. Continuation lines are joined as they are, with their
//! leading whitespace and without the newline, exactly as Postfix joins them.

use crate::name_value;
use std::path::Path;

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
