//! postmap - query and dump lookup tables.
//!
//! Postfix counterpart: `postmap/postmap.c`. `postmap -q key table...` prints the value
//! of `key` in the first table that has it (exit 0) or nothing (exit 1); `postmap -q -
//! table...` reads keys from standard input and prints `key<TAB>value` for each found;
//! `postmap -s table` lists a table. `-f` turns off case folding of fixed-string tables,
//! `-r` and `-w` choose what duplicate keys do. A table without a `type:` uses
//! `default_database_type`. Lookups are literal: `postmap -q` does not try the
//! `user@domain`, `user`, `@domain` search order that access(5) tables get in smtpd.
//!
//! `postmap type:file` builds the indexed table (`hash`, `lmdb`, `cdb`) from its source;
//! `-i` adds `key value` lines from standard input to it; `-d key` (or `-d -`, keys from
//! standard input) deletes. `postmap -h -q - regexp:header_checks < message` (and `-b` for
//! body lines, `-m` to see MIME part headers) tests header and body checks the way
//! cleanup will apply them.

use dict::Flags;
use dict::build::Builder;
use rfc822::mime::{
    HeaderClass, HeaderInfo, MimeErrors, MimeLimits, MimeOptions, MimeSink, MimeState, RecType,
};
use std::io::Write;
use util::readlline::LogicalLine;

/// Adds one `key whitespace value` line, or warns as Postfix's postmap does.
fn parse_line(label: &str, line: &LogicalLine, builder: &mut Builder, flags: Flags) {
    let (key, value) = match dict::fixed::split_entry(&line.text) {
        Ok(entry) => entry,
        Err("unbalanced") => {
            log::msg_warn!(
                "{label}, line {}: unbalanced '\"' in '{}' -- ignoring this line",
                line.first_line,
                line.text
            );
            return;
        }
        Err(_) => {
            log::msg_warn!(
                "{label}, line {}: expected format: key whitespace value",
                line.first_line
            );
            return;
        }
    };
    if key.ends_with(':') {
        log::msg_warn!(
            "{label}, line {}: record is in \"key: value\" format; is this an alias file?",
            line.first_line
        );
    }
    builder.add(&flags.fold(&key), &value);
}

fn main() {
    let command = global::mkmap::parse_command(
        "postmap",
        "bc:d:fFhimnNopq:rsuUvw",
        "[-bfFhimnNoprsuUvw] [-c config_dir] [-d key] [-q key] [map_type:]file...",
    );
    if command.message_mode() {
        if command.query.as_deref() != Some("-") {
            log::msg_fatal!("specify -b -h or -m only with \"-q -\"");
        }
        if command.headers || command.bodies {
            std::process::exit(if query_message(&command) { 0 } else { 1 });
        }
        log::msg_warn!("ignoring -m option without -b or -h");
    }
    command.run("\t", &mut parse_line, &mut |_| {})
}

/// `-q -` with `-h`, `-b` or `-m`: the message on standard input goes through the MIME state
/// machine, and each header (`-h`, MIME headers too with `-m`) or body line (`-b`) is
/// looked up, as header_checks and body_checks would see it. Prints `key<TAB>value` for
/// each found; true when something was found.
fn query_message(command: &global::mkmap::Command) -> bool {
    let mut options = MimeOptions::NONE;
    if !command.mime {
        options |= MimeOptions::DISABLE_MIME;
    }
    let mut keys = MessageKeys {
        command,
        dicts: Vec::new(),
        headers: command.headers,
        bodies: command.bodies,
        only_primary_headers: !command.bodies && !command.mime,
        headers_done: false,
        found: false,
        out: std::io::stdout().lock(),
    };
    let mut state = MimeState::new(options, MimeLimits::default(), &mut keys);
    let mut errors = MimeErrors::NONE;
    let mut input = std::io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        match std::io::BufRead::read_until(&mut input, b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        errors = state.update(RecType::Norm, &line);
        if state.sink().headers_done || !errors.is_empty() {
            break;
        }
    }
    if errors.is_empty() {
        errors = state.update(RecType::NonText, b"");
    }
    if let Some(detail) = errors.detail() {
        log::msg_fatal!("message format error: {}", detail.text);
    }
    drop(state);
    let _ = keys.out.flush();
    keys.found
}

/// The MIME state machine's user for `postmap -h/-b/-m`: looks each piece up.
struct MessageKeys<'a> {
    command: &'a global::mkmap::Command,
    dicts: Vec<Box<dyn dict::Dict>>,
    headers: bool,
    bodies: bool,
    only_primary_headers: bool,
    headers_done: bool,
    found: bool,
    out: std::io::StdoutLock<'static>,
}

impl MessageKeys<'_> {
    fn query(&mut self, text: &[u8]) {
        let key = String::from_utf8_lossy(text);
        if self.dicts.is_empty() {
            self.dicts = self
                .command
                .tables
                .iter()
                .map(|t| self.command.open(t))
                .collect();
        }
        self.found |= global::mkmap::print_first(&self.dicts, &key, "\t", &mut self.out);
    }
}

impl MimeSink for &mut MessageKeys<'_> {
    fn header(
        &mut self,
        _class: HeaderClass,
        _info: Option<&'static HeaderInfo>,
        text: &mut Vec<u8>,
        _offset: u64,
    ) {
        if self.headers {
            self.query(text);
        }
    }

    fn header_end(&mut self) {
        // With only -h, the body is not examined.
        if self.only_primary_headers {
            self.headers_done = true;
        }
    }

    fn body(&mut self, _rec: RecType, text: &[u8], _offset: u64) {
        if self.bodies {
            self.query(text);
        }
    }
}
