//! Golden tests: each `tests/golden/<case>.in` goes through the same loop as the Postfix 3.7
//! test driver that recorded `<case>.ref` (see `tests/golden/record.sh`), written with this
//! crate, and the output must be the same bytes.
//!
//! Drivers by file name: `tok822_parse*` (global/tok822_parse.c, 20-token limit),
//! `tok822_nolimit*` (the same without the limit), `quote_822_local*`, `quote_821_local*`.

use std::fs;
use std::path::Path;

use rfc822::quote::{QuoteFlags, quote_822_local_bytes, unquote_822_local_bytes};
use rfc822::quote821::quote_821_local_bytes;
use rfc822::tok822::{self, StrFlags};

/// What Postfix's drivers put before a warning: they never set a program name.
const WARNING_PREFIX: &str = "unknown: ";

#[test]
fn golden_cases_match_postfix() {
    // The strip warnings of tok822_externalize() go to stderr, which record.sh keeps.
    let capture = log::Capture::default();
    log::add_sink(Box::new(capture.clone()));

    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut inputs: Vec<_> = fs::read_dir(&dir)
        .expect("tests/golden")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "in"))
        .collect();
    inputs.sort();
    assert!(
        inputs.len() >= 6,
        "golden inputs missing in {}",
        dir.display()
    );

    let mut failures = Vec::new();
    for input_path in &inputs {
        let name = input_path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("");
        let input = fs::read(input_path).expect("read .in");
        let expected = fs::read(input_path.with_extension("ref")).expect("read .ref");
        let actual = if name.starts_with("tok822_parse") {
            tok822_parse_driver(&input, 20, &capture)
        } else if name.starts_with("tok822_nolimit") {
            tok822_parse_driver(&input, 0, &capture)
        } else if name.starts_with("quote_822_local") {
            quote_822_local_driver(&input)
        } else if name.starts_with("quote_821_local") {
            quote_821_local_driver(&input)
        } else {
            panic!("no driver for {name}");
        };
        if actual != expected {
            failures.push(describe_difference(name, &expected, &actual));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The first line where the outputs differ, for a readable failure.
fn describe_difference(name: &str, expected: &[u8], actual: &[u8]) -> String {
    let expected = String::from_utf8_lossy(expected);
    let actual = String::from_utf8_lossy(actual);
    let mut want = expected.lines();
    let mut got = actual.lines();
    let mut line = 1;
    loop {
        match (want.next(), got.next()) {
            (Some(w), Some(g)) if w == g => line += 1,
            (w, g) => {
                return format!("{name}.ref line {line}:\n  want: {w:?}\n  got:  {g:?}");
            }
        }
    }
}

/// C `isspace()` in the C locale.
fn is_space(ch: char) -> bool {
    matches!(ch, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

/// Postfix's `readlline()`: blank lines and `#` comment lines are skipped, a line that
/// starts with white space continues the previous one (joined without the newline).
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for physical in text.split('\n') {
        let content = physical.trim_start_matches(is_space);
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if physical.starts_with(is_space) {
            assert!(
                !current.is_empty(),
                "continuation without a line: {physical:?}"
            );
            current.push_str(physical);
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        current.push_str(physical);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// The main() of Postfix's tok822_parse.c test driver, with stdout not a terminal.
fn tok822_parse_driver(input: &[u8], limit: usize, capture: &log::Capture) -> Vec<u8> {
    let text = std::str::from_utf8(input).expect("tok822 inputs are UTF-8");
    let mut out = String::new();
    for line in logical_lines(text) {
        out.push_str(&format!(">>>{line}<<<\n\n"));
        let tree = tok822::parse_limit(&line, limit);
        out.push_str("Parse tree:\n");
        out.push_str(&tok822::print_tree(&tree));
        out.push('\n');
        out.push_str(&format!(
            "Internalized:\n{}\n\n",
            tok822::internalize(&tree, StrFlags::DEFL)
        ));
        for (heading, flags) in [
            ("no newlines inserted", StrFlags::DEFL | StrFlags::TRNC),
            (
                "newlines inserted",
                StrFlags::DEFL | StrFlags::LINE | StrFlags::TRNC,
            ),
        ] {
            let logged = capture.lines().len();
            let external = tok822::externalize(&tree, flags);
            for warning in &capture.lines()[logged..] {
                out.push_str(&format!("{WARNING_PREFIX}{warning}\n"));
            }
            out.push_str(&format!("Externalized, {heading}:\n{external}\n\n"));
        }
    }
    out.into_bytes()
}

/// The lines that `vstring_fgets_nonl()` returns: split at newlines, a last line without
/// newline included.
fn physical_lines(input: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|last| last.is_empty()) {
        lines.pop();
    }
    lines
}

/// Postfix's `mystrtok(&bp, CHARS_SPACE)`: the next word and the text after the one
/// separator that ended it.
fn next_word(bp: &[u8]) -> Option<(&[u8], &[u8])> {
    let sep = |b: &u8| b" \t\r\n".contains(b);
    let start = bp.iter().position(|b| !sep(b))?;
    let rest = &bp[start..];
    match rest.iter().position(sep) {
        Some(end) => Some((&rest[..end], &rest[end + 1..])),
        None => Some((rest, &rest[rest.len()..])),
    }
}

fn skip_space(bp: &[u8]) -> &[u8] {
    let start = bp
        .iter()
        .position(|&b| !is_space(char::from(b)))
        .unwrap_or(bp.len());
    &bp[start..]
}

/// The main() of Postfix's quote_822_local.c test driver; like it, keeps one output buffer
/// for all commands, so that the `append` flag appends to the previous result.
fn quote_822_local_driver(input: &[u8]) -> Vec<u8> {
    let mut report = Vec::new();
    let mut out = Vec::new();
    for line in physical_lines(input) {
        let Some((cmd, rest)) = next_word(line) else {
            continue;
        };
        let mut bp = skip_space(rest);
        assert!(!bp.is_empty(), "missing argument: {line:?}");
        if bp == b"<>" {
            bp = b"";
        }
        match cmd {
            b"quote" => {
                quote_822_local_bytes(&mut out, bp, QuoteFlags::DEFAULT);
                report.extend_from_slice(&[b"'", bp, b"' quoted '", &out, b"'\n"].concat());
            }
            b"quote_with_flags" => {
                let (names, rest) = next_word(bp).expect("flags");
                let bp = skip_space(rest);
                let names = std::str::from_utf8(names).expect("flag names");
                let flags = QuoteFlags::from_names(names).expect("known flags");
                quote_822_local_bytes(&mut out, bp, flags);
                let shown = format!("' quoted flags={flags} '");
                report.extend_from_slice(&[b"'", bp, shown.as_bytes(), &out, b"'\n"].concat());
            }
            b"unquote" => {
                out = unquote_822_local_bytes(bp);
                report.extend_from_slice(&[b"'", bp, b"' unquoted '", &out, b"'\n"].concat());
            }
            other => panic!("unknown command {:?}", String::from_utf8_lossy(other)),
        }
    }
    report
}

/// The main() of Postfix's quote_821_local.c test driver: each line quoted with the
/// default flags.
fn quote_821_local_driver(input: &[u8]) -> Vec<u8> {
    let mut report = Vec::new();
    let mut out = Vec::new();
    for line in physical_lines(input) {
        quote_821_local_bytes(&mut out, line, QuoteFlags::EIGHT_BIT_CLEAN);
        report.extend_from_slice(&out);
        report.push(b'\n');
    }
    report
}

#[test]
fn str_api_agrees_with_bytes_api_on_golden_quote_inputs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let input = fs::read(dir.join("quote_822_local.in")).expect("quote_822_local.in");
    for line in physical_lines(&input) {
        let Ok(text) = std::str::from_utf8(line) else {
            continue;
        };
        let mut raw = Vec::new();
        quote_822_local_bytes(&mut raw, line, QuoteFlags::DEFAULT);
        assert_eq!(
            rfc822::quote::quote_822_local(text, QuoteFlags::DEFAULT).as_bytes(),
            &raw[..]
        );
        assert_eq!(
            rfc822::quote::unquote_822_local(text).as_bytes(),
            &unquote_822_local_bytes(line)[..]
        );
    }
}
