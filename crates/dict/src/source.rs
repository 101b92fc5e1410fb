//! Reading table source files: logical lines with Postfix's rules, and open errors in
//! Postfix's words.
//!
//! Postfix counterparts: `util/readlline.c` and the `open database` errors of the
//! file-based `dict_*.c` backends. Bytes that are not UTF-8 read as `?`, as Postfix shows
//! them, and the lines holding them are marked, so that UTF-8 mode can skip them.

use crate::DictError;
use std::path::Path;
use util::readlline::{LogicalLine, logical_lines};

/// A logical line of a table source.
pub struct SourceLine {
    /// The line.
    pub line: LogicalLine,
    /// It held bytes that are not UTF-8.
    pub not_utf8: bool,
}

/// Text with every byte of an invalid UTF-8 sequence shown as `?`, and the numbers of the
/// physical lines that had such bytes.
pub fn decode(bytes: &[u8]) -> (String, Vec<usize>) {
    let mut text = String::with_capacity(bytes.len());
    let mut bad_lines = Vec::new();
    let mut line = 1;
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                text.push_str(valid);
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                let good = std::str::from_utf8(good).unwrap_or_default();
                line += good.matches('\n').count();
                text.push_str(good);
                let skip = e.error_len().unwrap_or(bad.len());
                text.extend(std::iter::repeat_n('?', skip));
                if bad_lines.last() != Some(&line) {
                    bad_lines.push(line);
                }
                rest = &bad[skip..];
            }
        }
    }
    (text, bad_lines)
}

/// Reads a table source; warnings about its lines are logged.
pub fn read(
    path: &str,
    what: impl Fn(&std::io::Error) -> String,
) -> Result<Vec<SourceLine>, DictError> {
    let bytes = std::fs::read(path).map_err(|e| DictError::Open(what(&e)))?;
    Ok(parse(path, &bytes))
}

/// Splits source bytes into logical lines; `label` names the source in warnings.
pub fn parse(label: &str, bytes: &[u8]) -> Vec<SourceLine> {
    let (text, bad_lines) = decode(bytes);
    let (lines, warnings) = logical_lines(Path::new(label), &text);
    for warning in warnings {
        log::msg_warn!("{warning}");
    }
    lines
        .into_iter()
        .map(|line| {
            let range = line.first_line..=line.last_line;
            let not_utf8 = bad_lines.iter().any(|n| range.contains(n));
            SourceLine { line, not_utf8 }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_bytes_become_question_marks() {
        let (text, bad) = decode(b"ok\n\xff\xfe bad\nfine\n");
        assert_eq!(text, "ok\n?? bad\nfine\n");
        assert_eq!(bad, [2]);
    }
}
