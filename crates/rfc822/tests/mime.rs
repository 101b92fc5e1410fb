//! Golden tests for the MIME processor: each `tests/golden/mime/<case>.in` goes through the
//! same loop as the test driver in Postfix 3.7's `global/mime_state.c` that recorded
//! `<case>.ref` (see `tests/golden/mime/record.sh`), written with `rfc822::mime`, and the
//! output must be the same bytes.
//!
//! The driver's settings come from the case name's prefix, as in record.sh. This file holds
//! one test only: it turns on verbose logging, which is process-wide, and reads the log.

use std::fs;
use std::path::{Path, PathBuf};

use rfc822::mime::{
    HeaderClass, HeaderInfo, MimeErrors, MimeLimits, MimeOptions, MimeSink, MimeState, RecType,
};

/// The name the driver logs under.
const PROGRAM: &str = "mime_state";

/// The stock driver's options (its `MIME_OPTIONS`).
fn stock_options() -> MimeOptions {
    MimeOptions::REPORT_8BIT_IN_7BIT_BODY
        | MimeOptions::REPORT_8BIT_IN_HEADER
        | MimeOptions::REPORT_ENCODING_DOMAIN
        | MimeOptions::REPORT_TRUNC_HEADER
        | MimeOptions::REPORT_NESTING
        | MimeOptions::DOWNGRADE
}

/// A driver's settings: options, limits and the longest record it reads.
struct Settings {
    options: MimeOptions,
    limits: MimeLimits,
    rec_len: usize,
}

fn settings(case: &str) -> Settings {
    let stock_limits = MimeLimits {
        header_size_limit: 2000,
        nesting_limit: 20,
        boundary_length_limit: 2000,
    };
    let small_limits = MimeLimits {
        header_size_limit: 300,
        nesting_limit: 3,
        boundary_length_limit: 12,
    };
    let (options, limits, rec_len) = match case.split('-').next().unwrap_or("") {
        "stock" => (stock_options(), stock_limits, 1024),
        "nocvt" => (
            MimeOptions::from_bits(stock_options().bits() & !MimeOptions::DOWNGRADE.bits()),
            stock_limits,
            1024,
        ),
        "nomime" => (
            stock_options() | MimeOptions::DISABLE_MIME,
            stock_limits,
            1024,
        ),
        "small" => (stock_options(), small_limits, 1024),
        "quiet" => (MimeOptions::NONE, small_limits, 1024),
        "rec40" => (stock_options(), stock_limits, 40),
        other => panic!("no driver for prefix {other:?} of {case}"),
    };
    Settings {
        options,
        limits,
        rec_len,
    }
}

/// Postfix's `printable()` as its logging applies it: bytes other than printable ASCII
/// become `?`.
fn printable(text: &[u8]) -> Vec<u8> {
    text.iter()
        .map(|&b| if (b' '..=b'~').contains(&b) { b } else { b'?' })
        .collect()
}

/// What the driver's call-backs print, with the log records in between.
struct Driver {
    out: Vec<u8>,
    capture: log::Capture,
    logged: usize,
}

impl Driver {
    /// Copies the log records written since the last call, as `msg_vstream` prints them.
    fn drain_log(&mut self) {
        let lines = self.capture.lines();
        for line in lines.iter().skip(self.logged) {
            self.out.extend_from_slice(PROGRAM.as_bytes());
            self.out.extend_from_slice(b": ");
            self.out.extend_from_slice(&printable(line.as_bytes()));
            self.out.push(b'\n');
        }
        self.logged = lines.len();
    }

    /// A `msg_warn()` of the driver itself.
    fn warn(&mut self, text: &[u8]) {
        self.drain_log();
        self.out.extend_from_slice(PROGRAM.as_bytes());
        self.out.extend_from_slice(b": warning: ");
        self.out.extend_from_slice(&printable(text));
        self.out.push(b'\n');
    }
}

impl MimeSink for Driver {
    fn header(
        &mut self,
        class: HeaderClass,
        _info: Option<&'static HeaderInfo>,
        text: &mut Vec<u8>,
        offset: u64,
    ) {
        self.drain_log();
        let label = match class {
            HeaderClass::Primary => "MAIN",
            HeaderClass::Multipart => "MULT",
            HeaderClass::Nested => "NEST",
        };
        self.out
            .extend_from_slice(format!("{label} {offset}\t|").as_bytes());
        self.out.extend_from_slice(text);
        self.out.push(b'\n');
    }

    fn header_end(&mut self) {
        self.drain_log();
        self.out.extend_from_slice(b"HEADER END\n");
    }

    fn body(&mut self, rec: RecType, text: &[u8], offset: u64) {
        self.drain_log();
        self.out
            .extend_from_slice(format!("BODY {} {offset}\t|", rec.letter()).as_bytes());
        self.out.extend_from_slice(text);
        if rec == RecType::Norm {
            self.out.push(b'\n');
        }
    }

    fn body_end(&mut self) {
        self.drain_log();
        self.out.extend_from_slice(b"BODY END\n");
    }

    fn error(&mut self, error: MimeErrors, text: &[u8]) {
        // "%s: %.*s" with at most 100 bytes, and a C string ends at NUL.
        let text = &text[..text.len().min(100)];
        let text = &text[..text.iter().position(|&b| b == 0).unwrap_or(text.len())];
        let mut line = error.text().unwrap_or("?").as_bytes().to_vec();
        line.extend_from_slice(b": ");
        line.extend_from_slice(text);
        self.warn(&line);
    }
}

/// The next record as `rec_streamlf_get()` reads it: up to a newline (not included) or
/// `max` bytes; `None` at the end of input.
fn next_record<'a>(input: &'a [u8], pos: &mut usize, max: usize) -> Option<(RecType, &'a [u8])> {
    let start = *pos;
    let rest = &input[start..];
    if rest.is_empty() {
        return None;
    }
    let window = &rest[..rest.len().min(max)];
    match window.iter().position(|&b| b == b'\n') {
        Some(nl) => {
            *pos += nl + 1;
            Some((RecType::Norm, &window[..nl]))
        }
        None => {
            *pos += window.len();
            Some((RecType::Cont, window))
        }
    }
}

/// The driver's main loop, then its error summary, then `mime_state_free()`.
fn run_driver(case: &str, input: &[u8], capture: &log::Capture) -> Vec<u8> {
    let settings = settings(case);
    let driver = Driver {
        out: Vec::new(),
        capture: capture.clone(),
        logged: capture.lines().len(),
    };
    let mut state = MimeState::new(settings.options, settings.limits, driver);
    let mut pos = 0;
    let errors = loop {
        match next_record(input, &mut pos, settings.rec_len) {
            Some((rec, text)) => {
                state.update(rec, text);
            }
            None => break state.update(RecType::NonText, b""),
        }
    };
    let summary = [
        (
            MimeErrors::TRUNC_HEADER,
            "message header length exceeds safety limit",
        ),
        (MimeErrors::NESTING, "MIME nesting exceeds safety limit"),
        (
            MimeErrors::EIGHT_BIT_IN_HEADER,
            "improper use of 8-bit data in message header",
        ),
        (
            MimeErrors::EIGHT_BIT_IN_7BIT_BODY,
            "improper use of 8-bit data in message body",
        ),
        // The driver's own wording, which differs from the error table's.
        (
            MimeErrors::ENCODING_DOMAIN,
            "improper message/* or multipart/* encoding domain",
        ),
    ];
    for (error, text) in summary {
        if errors.contains(error) {
            state.sink_mut().warn(text.as_bytes());
        }
    }
    // Dropping the processor pops (and with -v logs) the boundaries still open.
    let mut driver = state.into_sink();
    driver.drain_log();
    driver.out
}

#[test]
fn golden_cases_match_postfix() {
    let capture = log::Capture::default();
    log::add_sink(Box::new(capture.clone()));
    log::set_verbose(1);

    // MIME_GOLDEN_DIR points the test at other cases recorded with record.sh's drivers.
    let default_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/mime");
    let dir = std::env::var_os("MIME_GOLDEN_DIR").map_or(default_dir, PathBuf::from);
    let mut inputs: Vec<_> = fs::read_dir(&dir)
        .expect("tests/golden/mime")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "in"))
        .collect();
    inputs.sort();
    assert!(
        inputs.len() >= 30 || std::env::var_os("MIME_GOLDEN_DIR").is_some(),
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
        let actual = run_driver(name, &input, &capture);
        if actual != expected {
            failures.push(describe_difference(name, &expected, &actual));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n\n")
    );
}

/// The first line where the outputs differ, for a readable failure.
fn describe_difference(name: &str, expected: &[u8], actual: &[u8]) -> String {
    let mut want = expected.split(|&b| b == b'\n');
    let mut got = actual.split(|&b| b == b'\n');
    let mut line = 1;
    loop {
        match (want.next(), got.next()) {
            (Some(w), Some(g)) if w == g => line += 1,
            (w, g) => {
                let show = |l: Option<&[u8]>| l.map(|l| String::from_utf8_lossy(l).into_owned());
                return format!(
                    "{name}.ref line {line}:\n  want: {:?}\n  got:  {:?}",
                    show(w),
                    show(g)
                );
            }
        }
    }
}
