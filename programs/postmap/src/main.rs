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
//! standard input) deletes. The `-b -h -m` message modes come with the MIME parser.

use dict::Flags;
use dict::build::Builder;
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
    if command.message_mode {
        if command.query.as_deref() != Some("-") {
            log::msg_fatal!("specify -b -h or -m only with \"-q -\"");
        }
        log::msg_fatal!("-b, -h and -m need the MIME parser, which ironpost does not have yet");
    }
    command.run("\t", &mut parse_line, &mut |_| {})
}
