//! What postmap and postalias share: options, queries, dumps, deletes, and reading a
//! source file into an indexed table.
//!
//! Postfix counterparts: the common halves of `postmap/postmap.c` and
//! `postalias/postalias.c` (which Postfix keeps as two copies), and `global/mkmap_open.c`.
//! The programs differ in their option letters, how a source line becomes a key and a
//! value, and how `-s` prints an entry; everything else is here once.

use dict::build::{Builder, Mode};
use dict::source::SourceLine;
use dict::{Dict, Duplicates, Flags, Nul};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use util::readlline::LogicalLine;

/// A parsed command line and the configuration it named.
pub struct Command {
    /// `postmap` or `postalias`, for messages.
    pub program: String,
    /// The configuration (`-c` or MAIL_CONFIG).
    pub config: params::Config,
    /// Table flags from -f, -r, -w, -u and smtputf8_enable.
    pub flags: Flags,
    /// `-q key`.
    pub query: Option<String>,
    /// `-s`.
    pub sequence: bool,
    /// `-d key`.
    pub delete: Option<String>,
    /// `-i`.
    pub incremental: bool,
    /// Not `-o`: when root builds a table from a file that another user owns, the table is
    /// written as that user, so it gets the right owner and a bug cannot escalate.
    pub as_owner: bool,
    /// Not `-p`: the table is no more readable than its source.
    pub source_permissions: bool,
    /// `-h`: look up message headers (postmap only).
    pub headers: bool,
    /// `-b`: look up message body lines (postmap only).
    pub bodies: bool,
    /// `-m`: with -h or -b, parse MIME structure (postmap only).
    pub mime: bool,
    /// The table arguments.
    pub tables: Vec<String>,
    default_type: String,
}

/// Parses the command line with the program's option letters (`options`, getopt style)
/// and usage text; reads main.cf. Dies with Postfix's messages on bad usage.
pub fn parse_command(default_program: &str, options: &str, usage: &str) -> Command {
    let args: Vec<String> = std::env::args().collect();
    let program = args
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
        .unwrap_or_else(|| default_program.into());
    log::init(Box::new(log::Stderr::new(&program)));
    let usage = || -> ! { log::msg_fatal!("usage: {program} {usage}") };
    let (opts, tables) = util::getopt::parse(&program, options, &args[1..]).unwrap_or_else(|e| {
        eprintln!("{e}");
        usage()
    });
    let mut flags = Flags::default();
    let mut query = None;
    let mut sequence = false;
    let mut delete = None;
    let mut incremental = false;
    let (mut headers, mut bodies, mut mime, mut force_utf8) = (false, false, false, false);
    let (mut as_owner, mut source_permissions) = (true, true);
    let mut no_utf8 = false;
    let mut config_dir: Option<PathBuf> = None;
    for opt in opts {
        match opt.letter {
            'c' => config_dir = opt.value.map(PathBuf::from),
            'd' | 'q' => {
                if sequence || query.is_some() || delete.is_some() {
                    log::msg_fatal!("specify only one of -s -q or -d");
                }
                if opt.letter == 'd' {
                    delete = opt.value;
                } else {
                    query = opt.value;
                }
            }
            's' => {
                if query.is_some() || delete.is_some() {
                    log::msg_fatal!("specify only one of -s or -q or -d");
                }
                sequence = true;
            }
            'f' => flags.fold_fix = false,
            'r' => flags.duplicates = Duplicates::Replace,
            'w' => flags.duplicates = Duplicates::Ignore,
            'v' => log::raise_verbose(1),
            'i' => incremental = true,
            'u' => no_utf8 = true,
            'b' => bodies = true,
            'h' => headers = true,
            'm' => mime = true,
            'U' => force_utf8 = true,
            'N' => flags.nul = Nul::Always,
            'n' => flags.nul = Nul::Never,
            'o' => as_owner = false,
            'p' => source_permissions = false,
            // Accepted as Postfix does without effect: base64 file values are not
            // implemented.
            'F' => {}
            _ => usage(),
        }
    }
    let dir = params::config::config_directory(config_dir.as_deref());
    let config = params::Config::load(&dir).unwrap_or_else(|e| crate::fatal_config(e));
    crate::mail_dict::init(&config).unwrap_or_else(|e| crate::fatal_config(e));
    // UTF-8 mode follows smtputf8_enable, as Postfix's dictionaries do; -u turns it off,
    // and message text (-b, -h) is not UTF-8 checked unless -U asks for it.
    flags.utf8 = !no_utf8
        && (force_utf8 || !(headers || bodies))
        && config
            .bool(&params::decl::identity::SMTPUTF8_ENABLE)
            .unwrap_or_else(|e| crate::fatal_config(e));
    let default_type = config
        .raw("default_database_type")
        .map(|v| v.into_owned())
        .unwrap_or_else(|| "hash".into());
    if tables.is_empty() {
        usage();
    }
    Command {
        program,
        config,
        flags,
        query,
        sequence,
        delete,
        incremental,
        as_owner,
        source_permissions,
        headers,
        bodies,
        mime,
        tables,
        default_type,
    }
}

/// How a source line becomes an entry: the program's parser adds it to the builder, or
/// warns (with the source label and line number) and skips it.
pub type LineParser<'a> = dyn FnMut(&str, &LogicalLine, &mut Builder, Flags) + 'a;

/// What a program adds after the source's entries (postalias's signatures).
pub type Finisher<'a> = dyn FnMut(&mut Builder) + 'a;

impl Command {
    /// Whether -b, -h or -m was given.
    pub fn message_mode(&self) -> bool {
        self.headers || self.bodies || self.mime
    }

    /// A table argument as (type, name), with `default_database_type` when no type is given.
    pub fn split<'a>(&'a self, spec: &'a str) -> (&'a str, &'a str) {
        spec.split_once(':').unwrap_or((&self.default_type, spec))
    }

    /// Opens a table for lookups, or dies with the reason.
    pub fn open(&self, spec: &str) -> Box<dyn Dict> {
        let (kind, name) = self.split(spec);
        dict::open(&format!("{kind}:{name}"), self.flags).unwrap_or_else(|e| log::msg_fatal!("{e}"))
    }

    /// Does what the options asked: delete, query or list; else builds (or with -i adds
    /// to) each table from its source, parsing lines with `parse` and letting `finish` add
    /// last entries. `separator` goes between key and value in `-s` and `-q -` output.
    /// Exits with
    /// Postfix's status.
    pub fn run(&self, separator: &str, parse: &mut LineParser, finish: &mut Finisher) -> ! {
        if let Some(key) = &self.delete {
            self.delete(key);
        }
        if let Some(key) = &self.query {
            self.query(key, separator);
        }
        if self.sequence {
            let dict = self.open(&self.tables[0]);
            let entries = match dict.entries() {
                Ok(Some(entries)) => entries,
                Ok(None) => {
                    log::msg_fatal!("table {}: sequence operation is not supported", dict.spec())
                }
                Err(e) => log::msg_fatal!("{e}"),
            };
            let mut out = std::io::stdout().lock();
            for (key, value) in entries {
                let _ = writeln!(out, "{key}{separator}{value}");
            }
            let _ = out.flush();
            std::process::exit(0);
        }
        for table in &self.tables {
            let (kind, name) = self.split(table);
            self.update(kind, name, parse, finish);
        }
        std::process::exit(0)
    }

    /// `-d key` or `-d -`: exit 0 when something was deleted.
    fn delete(&self, key: &str) -> ! {
        let keys: Vec<String> = if key == "-" {
            std::io::stdin()
                .lock()
                .split(b'\n')
                .map_while(Result::ok)
                .map(|line| self.flags.fold(String::from_utf8_lossy(&line).trim()))
                .collect()
        } else {
            vec![self.flags.fold(key)]
        };
        let mut any = false;
        for table in &self.tables {
            let (kind, name) = self.split(table);
            any |=
                dict::build::delete(kind, name, &keys).unwrap_or_else(|e| log::msg_fatal!("{e}"));
        }
        std::process::exit(if any { 0 } else { 1 })
    }

    /// `-q key` (first table that has it) or `-q -` (keys from standard input, each found
    /// one printed as key, separator, value): exit 0 when something was found.
    fn query(&self, key: &str, separator: &str) -> ! {
        let mut out = std::io::stdout().lock();
        if key == "-" {
            let dicts: Vec<Box<dyn Dict>> = self.tables.iter().map(|t| self.open(t)).collect();
            let mut found = false;
            for line in std::io::stdin().lock().split(b'\n') {
                let Ok(line) = line else { break };
                let key = String::from_utf8_lossy(&line).into_owned();
                found |= print_first(&dicts, &key, separator, &mut out);
            }
            let _ = out.flush();
            std::process::exit(if found { 0 } else { 1 });
        }
        for table in &self.tables {
            let dict = self.open(table);
            if let Some(value) = lookup(dict.as_ref(), key) {
                let _ = writeln!(out, "{value}");
                let _ = out.flush();
                std::process::exit(0);
            }
        }
        std::process::exit(1)
    }

    /// Builds `kind:path` from its source file, or with -i adds standard input's lines.
    fn update(&self, kind: &str, path: &str, parse: &mut LineParser, finish: &mut Finisher) {
        let (label, mode) = if self.incremental {
            ("stdin", Mode::Insert)
        } else {
            (path, Mode::Rebuild)
        };
        let mut builder =
            Builder::new(kind, path, mode, self.flags).unwrap_or_else(|e| log::msg_fatal!("{e}"));
        let read = if self.incremental {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes).map(|_| bytes)
        } else {
            std::fs::read(path)
        };
        let bytes = read.unwrap_or_else(|e| log::msg_fatal!("open {label}: {}", sys::os_error(&e)));
        // A table is no more readable than its source (think sasl_passwd): group and other
        // lose what the source file denies them.
        let source = if self.incremental { "/dev/stdin" } else { path };
        let meta = std::fs::metadata(source).ok();
        if let Some(meta) = meta
            .as_ref()
            .filter(|m| self.source_permissions && m.is_file())
        {
            let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions());
            sys::umask(0o022 | (!mode & 0o077));
        }
        for SourceLine { line, not_utf8 } in dict::source::parse(label, &bytes) {
            if not_utf8 && self.flags.utf8 {
                log::msg_warn!(
                    "{label}, line {}: non-UTF-8 input \"{}\" -- ignoring this line",
                    line.first_line,
                    line.text
                );
                continue;
            }
            parse(label, &line, &mut builder, self.flags);
        }
        finish(&mut builder);
        let owner = meta.as_ref().map(|m| {
            use std::os::unix::fs::MetadataExt;
            (m.uid(), m.gid())
        });
        let write = || builder.finish().unwrap_or_else(|e| log::msg_fatal!("{e}"));
        match owner {
            // Root builds another user's table as that user (Postfix's set_eugid).
            Some((uid, gid)) if self.as_owner && sys::getuid() == 0 && (uid, gid) != (0, 0) => {
                sys::user::as_effective(uid, gid, write).unwrap_or_else(|e| log::msg_fatal!("{e}"))
            }
            _ => write(),
        }
    }
}

/// Looks `key` up in `dicts` in order and prints the first answer as key, separator,
/// value (the `-q -` output); true when found.
pub fn print_first(
    dicts: &[Box<dyn Dict>],
    key: &str,
    separator: &str,
    out: &mut impl Write,
) -> bool {
    match dicts.iter().find_map(|d| lookup(d.as_ref(), key)) {
        Some(value) => {
            let _ = writeln!(out, "{key}{separator}{value}");
            true
        }
        None => false,
    }
}

/// A lookup for `-q`, with Postfix's warnings for an empty result; a failing table is fatal.
pub fn lookup(dict: &dyn Dict, key: &str) -> Option<String> {
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
