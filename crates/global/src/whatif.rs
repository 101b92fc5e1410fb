//! The daemons' what-if mode: `DAEMON -W [-o name=value]... ARG...` answers one question
//! with the daemon's own code and exits, without serving anybody.
//!
//! Postfix counterpart: none. Postfix's nearest tools (`sendmail -bv`, `postmap -q`) either
//! send a probe through the whole system or look at one table alone. ironpost's `postwhatif`
//! command starts the daemon that makes a decision (trivial-rewrite, cleanup, smtpd) in this
//! mode: the daemon reads main.cf as it would at start-up, with the `-o` overrides that
//! `postwhatif` passes (master.cf's own for the service, and each table wrapped in `debug:` so
//! that every lookup is logged with its key and value), builds the same state its `main`
//! builds, and runs the same functions on the question.
//!
//! Every log record the daemon makes is written to standard output as an attribute list
//! (`ipc` plain flavour: `name=value` lines, an empty line after each list) with
//! `kind=log`, and never to the mail log: a what-if must not look like mail in the log.
//! The daemon's answers are lists of other kinds, written with [`emit`].

use ipc::{Attrs, Flavor};
use params::Config;
use std::io::Write;

/// The option that selects the mode; it must come first.
pub const OPTION: &str = "-W";

/// A daemon started in what-if mode: its configuration and the question's arguments.
pub struct WhatIf {
    /// main.cf with the overrides.
    pub config: Config,
    /// The arguments after the options, `name=value` each.
    pub args: Vec<(String, String)>,
}

impl WhatIf {
    /// The argument `name`, if given.
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every argument `name`, in order (a list such as several recipients).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.args
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Writes one answer to standard output; a write error ends the process (nobody reads).
pub fn emit(attrs: &Attrs) {
    // The attribute writer logs each attribute at -v; from inside the log sink that
    // would log again (and wait for the log lock this record holds).
    let verbose = log::verbose();
    log::set_verbose(0);
    let mut out = std::io::stdout().lock();
    let written = ipc::attr::write(&mut out, Flavor::Plain, attrs).and_then(|()| out.flush());
    log::set_verbose(verbose);
    if written.is_err() {
        sys::exit_now(2);
    }
}

/// The log sink of the mode: each record becomes a `kind=log` answer.
struct Emit;

impl log::Sink for Emit {
    fn write(&mut self, severity: log::Severity, text: &str) {
        emit(
            &Attrs::new()
                .str("kind", "log")
                .str("text", &format!("{}{text}", severity.prefix())),
        );
    }
}

/// Enters the mode when the program was started with `-W` first; None otherwise (the
/// daemon then starts as usual). A broken main.cf or argument is fatal, as at start-up.
pub fn enter() -> Option<WhatIf> {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) != Some(OPTION) {
        return None;
    }
    let process_name = argv[0].rsplit('/').next().unwrap_or(&argv[0]).to_string();
    log::init(Box::new(Emit));
    let config_dir = params::config::config_directory(None);
    let mut config = Config::load(&config_dir).unwrap_or_else(|e| crate::fatal_config(e));
    config.process_name = process_name.clone();
    let mut args = Vec::new();
    let mut rest = argv[2..].iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "-o" => {
                let Some(value) = rest.next() else {
                    log::msg_fatal!("option -o requires a value");
                };
                let (name, value) = util::name_value::split(value)
                    .unwrap_or_else(|why| log::msg_fatal!("invalid \"-o {value}\": {why}"));
                config.set_override(name, value);
            }
            "-v" => log::raise_verbose(1),
            other => match other.split_once('=') {
                Some((name, value)) => args.push((name.to_string(), value.to_string())),
                None => log::msg_fatal!("bad what-if argument: {other}"),
            },
        }
    }
    config.set_override("service_name", &process_name);
    crate::mail_dict::init(&config).unwrap_or_else(|e| crate::fatal_config(e));
    let queue_directory = config
        .str(&params::decl::install::QUEUE_DIRECTORY)
        .unwrap_or_else(|e| crate::fatal_config(e));
    // Service sockets (private/rewrite...) are named relative to the queue directory.
    if let Err(e) = std::env::set_current_dir(&queue_directory) {
        log::msg_fatal!("chdir(\"{queue_directory}\"): {}", sys::os_error(&e));
    }
    Some(WhatIf { config, args })
}

/// Ends the mode: `status` 0 accept, 1 reject, 2 defer or error (postwhatif's own).
pub fn finish(status: i32) -> ! {
    let _ = std::io::stdout().flush();
    sys::exit_now(status)
}
