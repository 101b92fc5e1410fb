//! Output formatting: whitespace-normalised lines, folding, and master.cf entries.
//!
//! Postfix counterparts: `postconf_print.c` (`pcf_print_line`) and the printers in
//! `postconf_master.c`. Output is byte-identical to Postfix 3.7's: runs of whitespace become
//! one space, and with `-f` lines are folded before column 80 with a four-space indent.

use crate::mode::{self, Mode};
use params::master_cf::Entry;
use std::fmt::Write as _;

/// Expands `-o` values for `-x`, or leaves them alone.
pub type Expander<'a> = Option<&'a dyn Fn(&str) -> String>;

/// Lines are folded to stay below this width.
const LINE_LIMIT: usize = 80;
/// Continuation lines start with this.
const INDENT: &str = "    ";
/// Whitespace between words.
const BLANKS: &[char] = &[' ', '\t', '\r', '\n'];

/// Formats text with normalised whitespace, folding when asked.
pub fn line(mode: &Mode, text: &str) -> String {
    let mut out = String::new();
    let mut line_len = 0;
    for word in text.split(BLANKS).filter(|w| !w.is_empty()) {
        if line_len > 0 {
            if !mode.has(mode::FOLD) || line_len + word.len() < LINE_LIMIT {
                out.push(' ');
                line_len += 1;
            } else {
                out.push('\n');
                out.push_str(INDENT);
                line_len = INDENT.len();
            }
        }
        out.push_str(word);
        line_len += word.len();
    }
    out.push('\n');
    out
}

/// Whether a word must be shown inside `{ }`.
fn needs_braces(text: &str) -> bool {
    text.contains(BLANKS)
}

/// The daemon arguments after the command, as `-M` and `-F` print them.
struct ArgPrinter<'a> {
    out: &'a mut String,
    line_len: usize,
    fold: bool,
}

impl ArgPrinter<'_> {
    fn add(&mut self, text: &str) {
        self.out.push_str(text);
        self.line_len += text.len();
    }

    /// Prints `args` (the words after the command); `value_extra` is what an option's
    /// value adds to its width besides the value (3 for `-M`, 1 for `-F`).
    fn arguments(&mut self, args: &[String], value_extra: usize, expand: Expander<'_>) {
        let mut in_options = true;
        let mut index = 0;
        while index < args.len() {
            let arg = &args[index];
            let mut arg_len = arg.len();
            let mut value: Option<String> = None;
            let mut braces = false;
            if in_options {
                if !arg.starts_with('-') || arg == "--" {
                    in_options = false;
                } else if arg.len() > 1 && &arg[1..2] == "o" && index + 1 < args.len() {
                    self.line_len = LINE_LIMIT;
                    let mut v = args[index + 1].clone();
                    if let (true, Some(expand)) = (arg == "-o", expand) {
                        v = expand(&v);
                    }
                    arg_len += v.len() + value_extra;
                    braces = needs_braces(&v);
                    if braces {
                        arg_len += 2;
                    }
                    value = Some(v);
                }
            }
            if !in_options {
                braces = needs_braces(arg);
            }
            if self.line_len > INDENT.len() {
                if !self.fold || self.line_len + 1 + arg_len < LINE_LIMIT {
                    self.add(" ");
                } else {
                    self.out.push('\n');
                    self.out.push_str(INDENT);
                    self.line_len = INDENT.len();
                }
            }
            let brace_arg = !in_options && braces;
            if brace_arg {
                self.add("{");
            }
            self.add(arg);
            if brace_arg {
                self.add("}");
            }
            if let Some(v) = value {
                self.add(" ");
                if braces {
                    self.add("{");
                }
                self.add(&v);
                if braces {
                    self.add("}");
                }
                index += 1;
                self.line_len = LINE_LIMIT;
            }
            index += 1;
        }
    }
}

/// One master.cf entry in `postconf -M` form.
pub fn master_entry(entry: &Entry, fold: bool, expand: Expander<'_>) -> String {
    const COLUMNS: [usize; 8] = [0, 11, 17, 25, 33, 41, 49, 57];
    let mut out = String::new();
    let mut printer = ArgPrinter {
        out: &mut out,
        line_len: 0,
        fold,
    };
    let fields = entry.fields.iter().chain(entry.argv.first());
    for (column, field) in fields.enumerate() {
        if printer.line_len > 0 {
            loop {
                printer.add(" ");
                if printer.line_len >= COLUMNS[column] {
                    break;
                }
            }
        }
        printer.add(field);
    }
    printer.arguments(entry.argv.get(1..).unwrap_or(&[]), 3, expand);
    out.push('\n');
    out
}

/// One field of a master.cf entry in `postconf -F` form.
pub fn master_field(mode: &Mode, entry: &Entry, field: usize, expand: Expander<'_>) -> String {
    let mut out = String::new();
    let mut printer = ArgPrinter {
        out: &mut out,
        line_len: 0,
        fold: mode.has(mode::FOLD),
    };
    if !mode.has(mode::HIDE_NAME) {
        let name = format!(
            "{}/{}/{}",
            entry.service(),
            entry.kind(),
            params::master_cf::FIELD_NAMES[field]
        );
        printer.add(&name);
    }
    if !mode.has(mode::HIDE_NAME) && !mode.has(mode::HIDE_VALUE) {
        printer.add(" = ");
    }
    if !mode.has(mode::HIDE_VALUE) {
        let value = if field < 7 {
            &entry.fields[field]
        } else {
            entry.argv.first().map_or("", String::as_str)
        };
        if printer.line_len > 0 && printer.line_len + value.len() > LINE_LIMIT {
            printer.out.push('\n');
            printer.out.push_str(INDENT);
            printer.line_len = INDENT.len();
        }
        printer.add(value);
        if field == 7 {
            printer.arguments(entry.argv.get(1..).unwrap_or(&[]), 1, expand);
        }
    }
    out.push('\n');
    out
}

/// `name = value`, `name` or `value` as `-h`/`-H` ask, normalised and folded.
pub fn name_value(mode: &Mode, name: &str, value: &str) -> String {
    let mut text = String::new();
    if mode.has(mode::HIDE_VALUE) {
        text.push_str(name);
    } else if mode.has(mode::HIDE_NAME) {
        text.push_str(value);
    } else {
        let _ = write!(text, "{name} = {value}");
    }
    line(mode, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_folds() {
        let mut mode = Mode::default();
        assert_eq!(line(&mode, "a  =\t b   c "), "a = b c\n");
        assert_eq!(line(&mode, "a = "), "a =\n");
        mode.set(mode::FOLD);
        let long = format!("name = {}", "word ".repeat(20));
        let folded = line(&mode, &long);
        assert!(folded.lines().all(|l| l.len() < 80), "{folded}");
        assert!(folded.lines().nth(1).unwrap().starts_with("    word"));
    }
}
