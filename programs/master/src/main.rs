//! master - the resident process that runs the mail system.
//!
//! Postfix counterpart: `master/master.c`. `master [-Ddistvw] [-c config_dir] [-e exit_time]`.
//! The master reads main.cf and master.cf, opens every service's listen endpoints, and starts
//! daemons on demand (up to each service's process limit), passing them the endpoints on
//! fixed descriptors. It restarts daemons that exit, throttles services whose daemons die at
//! start-up, sends wakeup triggers, re-reads the configuration on SIGHUP (`postfix reload`)
//! and stops the whole system on SIGTERM.
//!
//! Options: `-c dir` configuration directory; `-d` stay in the foreground; `-D` run
//! debugger_command; `-e secs` exit after that time; `-i` init mode (PID 1); `-s` keep
//! standard output (maillog_file = /dev/stdout); `-t` test whether a master runs (exit 0 if
//! not); `-v` verbose, passed to every daemon; `-w` wait until the master is up, then exit.

mod listen;
mod lock;
mod runtime;
mod spawn;
mod wakeup;

use std::time::Duration;

fn usage(program: &str) -> ! {
    log::msg_fatal!("usage: {program} [-Ddistvw] [-c config_dir] [-e exit_time]")
}

/// What the command line asked for.
pub struct Flags {
    /// Detach from the terminal and session (not `-d`).
    pub detach: bool,
    /// `-D`.
    pub debug: bool,
    /// `-s` or `-i`: keep standard output.
    pub keep_stdout: bool,
    /// `-e`: exit after this long.
    pub exit_after: Option<Duration>,
    /// `-i`: running as PID 1.
    pub init_mode: bool,
}

fn main() {
    sys::umask(0o077);
    let program = "master";
    log::init(Box::new(log::Syslog::new(
        "postfix/master",
        log::Facility::MAIL,
    )));
    if std::env::var_os(params::env::CONF_ENV_VERB).is_some() {
        log::raise_verbose(1);
    }
    let mut flags = Flags {
        detach: true,
        debug: std::env::var_os(params::env::CONF_ENV_DEBUG).is_some(),
        keep_stdout: false,
        exit_after: None,
        init_mode: false,
    };
    sys::signals::ignore(sys::signals::SIGPIPE);
    if sys::getuid() != 0 {
        log::msg_fatal!("the master command is reserved for the superuser");
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (opts, rest) = util::getopt::parse(program, "c:Dde:istvw", &args).unwrap_or_else(|e| {
        eprintln!("{e}");
        usage(program)
    });
    let (mut test_lock, mut wait) = (false, false);
    let mut config_dir = None;
    for opt in opts {
        match opt.letter {
            'c' => config_dir = opt.value.map(std::path::PathBuf::from),
            'd' => flags.detach = false,
            'D' => flags.debug = true,
            'e' => {
                let secs = opt
                    .value
                    .as_deref()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                flags.exit_after = Some(Duration::from_secs(secs));
            }
            'i' => {
                if std::process::id() != 1 {
                    log::msg_fatal!("-i is allowed only for PID 1 process");
                }
                flags.init_mode = true;
                flags.keep_stdout = true;
            }
            's' => flags.keep_stdout = true,
            't' => test_lock = true,
            'v' => log::raise_verbose(1),
            'w' => wait = true,
            _ => usage(program),
        }
    }
    if !rest.is_empty() {
        usage(program);
    }
    if test_lock && wait {
        log::msg_fatal!("the -t and -w options cannot be used together");
    }
    if flags.init_mode && (flags.debug || !flags.detach || wait) {
        log::msg_fatal!("the -i option cannot be used with -D, -d, or -w");
    }
    if let Some(dir) = &config_dir {
        sys::setenv(params::env::CONF_ENV, dir.as_os_str());
    }
    let config_dir = params::config::config_directory(None);
    if test_lock {
        std::process::exit(lock::test(&config_dir));
    }
    runtime::run(config_dir, flags, wait)
}
