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

use dict::{Dict, Duplicates, Flags};
use std::io::{BufRead, Write};
use std::path::PathBuf;

const OPTIONS: &str = "bc:d:fFhimnNopq:rsuUvw";

fn usage(program: &str) -> ! {
    log::msg_fatal!(
        "usage: {program} [-bfFhimnNoprsuUvw] [-c config_dir] [-d key] [-q key] [map_type:]file..."
    )
}

/// Opens a table, or dies with the reason, as postmap does.
fn open(spec: &str, default_type: &str, flags: Flags) -> Box<dyn Dict> {
    let full = if spec.contains(':') {
        spec.to_string()
    } else {
        format!("{default_type}:{spec}")
    };
    dict::open(&full, flags).unwrap_or_else(|e| log::msg_fatal!("{e}"))
}

fn lookup(dict: &dyn Dict, key: &str) -> Option<String> {
    match dict.lookup(key) {
        Ok(Some(value)) => {
            if value.is_empty() {
                log::msg_warn!(
                    "table {}: key {key}: empty string result is not allowed",
                    dict.spec()
                );
                log::msg_warn!(
                    "table {} should return NO RESULT in case of NOT FOUND",
                    dict.spec()
                );
            }
            Some(value)
        }
        Ok(None) => None,
        Err(e) => log::msg_fatal!("table {}: query error: {e}", dict.spec()),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let program = args
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
        .unwrap_or_else(|| "postmap".into());
    log::init(Box::new(log::Stderr::new(&program)));
    let (opts, tables) = util::getopt::parse(&program, OPTIONS, &args[1..]).unwrap_or_else(|e| {
        eprintln!("{e}");
        usage(&program)
    });
    let mut flags = Flags::default();
    let mut query: Option<String> = None;
    let mut sequence = false;
    let mut message_mode = false;
    let mut no_utf8 = false;
    let mut incremental = false;
    let mut delete: Option<String> = None;
    let mut config_dir: Option<PathBuf> = None;
    for opt in opts {
        match opt.letter {
            'c' => config_dir = opt.value.map(PathBuf::from),
            'd' => {
                if sequence || query.is_some() || delete.is_some() {
                    log::msg_fatal!("specify only one of -s -q or -d");
                }
                delete = opt.value;
            }
            'f' => flags.fold_fix = false,
            'q' => {
                if sequence || query.is_some() || delete.is_some() {
                    log::msg_fatal!("specify only one of -s -q or -d");
                }
                query = opt.value;
            }
            'r' => flags.duplicates = Duplicates::Replace,
            's' => {
                if query.is_some() || delete.is_some() {
                    log::msg_fatal!("specify only one of -s or -q or -d");
                }
                sequence = true;
            }
            'w' => flags.duplicates = Duplicates::Ignore,
            'v' => log::raise_verbose(1),
            'b' | 'h' | 'm' => message_mode = true,
            'u' => no_utf8 = true,
            'i' => incremental = true,
            'F' | 'n' | 'N' | 'o' | 'p' | 'U' => {}
            _ => usage(&program),
        }
    }
    let dir = params::config::config_directory(config_dir.as_deref());
    let config = params::Config::load(&dir).unwrap_or_else(|e| global::fatal_config(e));
    global::mail_dict::init(&config).unwrap_or_else(|e| global::fatal_config(e));
    // UTF-8 mode follows smtputf8_enable, as Postfix's dictionaries do; -u turns it off.
    flags.utf8 = !no_utf8
        && config
            .bool(&params::decl::identity::SMTPUTF8_ENABLE)
            .unwrap_or_else(|e| global::fatal_config(e));
    let default_type = config
        .raw("default_database_type")
        .map(|v| v.into_owned())
        .unwrap_or_else(|| "hash".into());
    if message_mode {
        if query.as_deref() != Some("-") {
            log::msg_fatal!("specify -b -h or -m only with \"-q -\"");
        }
        log::msg_fatal!("-b, -h and -m need the MIME parser, which ironpost does not have yet");
    }
    if tables.is_empty() {
        usage(&program);
    }
    if let Some(key) = delete {
        let keys: Vec<String> = if key == "-" {
            std::io::stdin()
                .lock()
                .split(b'\n')
                .map_while(Result::ok)
                .map(|line| flags.fold(String::from_utf8_lossy(&line).trim()))
                .collect()
        } else {
            vec![flags.fold(&key)]
        };
        let mut any = false;
        for table in &tables {
            let (kind, name) = split_spec(table, &default_type);
            any |=
                dict::build::delete(kind, name, &keys).unwrap_or_else(|e| log::msg_fatal!("{e}"));
        }
        std::process::exit(if any { 0 } else { 1 });
    }
    let mut out = std::io::stdout().lock();
    if let Some(key) = query {
        if key == "-" {
            let dicts: Vec<Box<dyn Dict>> = tables
                .iter()
                .map(|t| open(t, &default_type, flags))
                .collect();
            let mut found = false;
            for line in std::io::stdin().lock().split(b'\n') {
                let Ok(line) = line else { break };
                let key = String::from_utf8_lossy(&line).into_owned();
                if let Some(value) = dicts.iter().find_map(|d| lookup(d.as_ref(), &key)) {
                    let _ = writeln!(out, "{key}\t{value}");
                    found = true;
                }
            }
            let _ = out.flush();
            std::process::exit(if found { 0 } else { 1 });
        }
        for table in &tables {
            let dict = open(table, &default_type, flags);
            if let Some(value) = lookup(dict.as_ref(), &key) {
                let _ = writeln!(out, "{value}");
                let _ = out.flush();
                std::process::exit(0);
            }
        }
        std::process::exit(1);
    }
    if sequence {
        let dict = open(&tables[0], &default_type, flags);
        let Some(entries) = dict.entries() else {
            log::msg_fatal!("table {}: sequence operation is not supported", dict.spec());
        };
        for (key, value) in entries {
            let _ = writeln!(out, "{key}\t{value}");
        }
        let _ = out.flush();
        std::process::exit(0);
    }
    for table in &tables {
        let (kind, name) = split_spec(table, &default_type);
        update(kind, name, flags, incremental);
    }
}

/// A table argument as (type, name), with `default_database_type` when no type is given.
fn split_spec<'a>(spec: &'a str, default_type: &'a str) -> (&'a str, &'a str) {
    spec.split_once(':').unwrap_or((default_type, spec))
}

/// Builds an indexed table from its source file (`postmap type:file`), or adds the lines
/// of standard input to it (`postmap -i`).
fn update(kind: &str, path: &str, flags: Flags, incremental: bool) {
    let (label, mode) = if incremental {
        ("stdin", dict::build::Mode::Insert)
    } else {
        (path, dict::build::Mode::Rebuild)
    };
    let mut writer = dict::build::Builder::new(kind, path, mode, flags.duplicates)
        .unwrap_or_else(|e| log::msg_fatal!("{e}"));
    let read = if incremental {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    let bytes =
        read.unwrap_or_else(|e| log::msg_fatal!("open {label}: {}", params::config::os_error(&e)));
    // A table is no more readable than its source (think sasl_passwd): group and other
    // lose what the source file denies them.
    let source = if incremental { "/dev/stdin" } else { path };
    if let Ok(meta) = std::fs::metadata(source) {
        sys::umask(0o022 | (!std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o077));
    }
    let lines = dict::source::parse(label, &bytes);
    for dict::source::SourceLine { line, not_utf8 } in lines {
        if not_utf8 && flags.utf8 {
            log::msg_warn!(
                "{label}, line {}: non-UTF-8 input \"{}\" -- ignoring this line",
                line.first_line,
                line.text
            );
            continue;
        }
        let (key, value) = match dict::fixed::split_entry(&line.text) {
            Ok(entry) => entry,
            Err("unbalanced") => {
                log::msg_warn!(
                    "{label}, line {}: unbalanced '\"' in '{}' -- ignoring this line",
                    line.first_line,
                    line.text
                );
                continue;
            }
            Err(_) => {
                log::msg_warn!(
                    "{label}, line {}: expected format: key whitespace value",
                    line.first_line
                );
                continue;
            }
        };
        if key.ends_with(':') {
            log::msg_warn!(
                "{label}, line {}: record is in \"key: value\" format; is this an alias file?",
                line.first_line
            );
        }
        writer.add(&flags.fold(&key), &value);
    }
    writer.finish().unwrap_or_else(|e| log::msg_fatal!("{e}"));
}
