//! Reading table source files: logical lines with Postfix's rules, and open errors in
//! Postfix's words.
//!
//! Postfix counterparts: `util/readlline.c` and the `open database` errors of the
//! file-based `dict_*.c` backends.

use crate::DictError;
use std::path::Path;
use util::readlline::{LogicalLine, logical_lines};

/// Reads a table source; warnings about its lines are logged.
pub fn read(
    path: &str,
    what: impl Fn(&std::io::Error) -> String,
) -> Result<Vec<LogicalLine>, DictError> {
    let bytes = std::fs::read(path).map_err(|e| DictError::Open(what(&e)))?;
    let text = String::from_utf8_lossy(&bytes);
    let (lines, warnings) = logical_lines(Path::new(path), &text);
    for warning in warnings {
        log::msg_warn!("{warning}");
    }
    Ok(lines)
}

/// An OS error as `%m` prints it.
pub fn os_error(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}
