//! The daemon skeletons: the one place where an ironpost daemon starts.
//!
//! Postfix counterparts: `master/single_server.c`, `dgram_server.c`, `trigger_server.c`,
//! `multi_server.c`, `event_server.c`, `mail_server.h`, `master_proto.c`, `util/chroot_uid.c`
//! (`-D` runs `global::debug_process`).
//!
//! A daemon's `main` is a few lines:
//!
//! ```text
//! let mut daemon = server::Daemon::start(server::Requirements::default());
//! let state = pre_init(&daemon);          // open files, tables: before the jail
//! daemon.enter_jail();                    // chroot and privilege drop, as master.cf says
//! server::single::serve(daemon, |d, conn| service(&state, d, conn))
//! ```
//!
//! `start` does what every Postfix daemon does, in Postfix's order: honour MAIL_VERBOSE and
//! MAIL_DEBUG, read main.cf, apply the daemon options the master passes (`-c -d -D -i -l -m
//! -n -o -s -S -t -u -v -V -z`), set up logging under `$syslog_name/<program>`, run
//! `debugger_command` for `-D`, take the service lock and change to the queue directory.
//! `enter_jail` chroots to the queue directory (`-c`) and becomes `mail_owner` (`-u`). The
//! serve loops report to the master through the status descriptor, honour `max_use` and
//! `max_idle`, and exit when the master goes away.

pub mod dgram;
pub mod event;
mod event_loop;
pub mod fingerprint;
pub mod mail_flow;
pub mod master_ent;
pub mod master_proto;
pub mod multi;
pub mod options;
pub mod single;
pub mod trigger;

pub use event_loop::{Interest, Poller};

use options::Options;
use params::Config;
use params::decl::install::{DATA_DIRECTORY, MAIL_OWNER, QUEUE_DIRECTORY};
use params::decl::process::{DAEMON_TIMEOUT, MAX_IDLE, MAX_USE};
use params::decl::queue::IN_FLOW_DELAY;
use std::fs::File;
use std::path::PathBuf;

/// What a daemon requires of its master.cf entry (Postfix's `MAIL_SERVER_SOLITARY`,
/// `MAIL_SERVER_UNLIMITED`, `MAIL_SERVER_PRIVILEGED`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Requirements {
    /// The process limit must be 1 (qmgr, postlogd...).
    pub solitary: bool,
    /// The process limit must be 0 (cleanup, bounce...).
    pub unlimited: bool,
    /// The service must not run unprivileged (local, pipe, virtual).
    pub privileged: bool,
    /// This is the log writer (postlogd): its own records go to maillog_file directly,
    /// never through the postlog socket, which nobody drains until it serves.
    pub logwriter: bool,
    /// The time parameter that sets the watchdog limit instead of the skeleton's default
    /// (Postfix's `MAIL_SERVER_WATCHDOG`: pickup, qmgr, postlogd, postscreen).
    pub watchdog: Option<&'static params::def::Param>,
    /// Take a mail flow token per connection and, when there is none, pause
    /// `in_flow_delay` first (Postfix's `MAIL_SERVER_IN_FLOW_DELAY`: cleanup).
    pub in_flow_delay: bool,
    /// The daemon takes arguments after its options (pipe's `argv=...`); any other
    /// refuses them with Postfix's "unexpected command-line argument" fatal error.
    pub arguments: bool,
}

/// A started daemon: its configuration and what the master told it.
pub struct Daemon {
    /// main.cf with the `-o` overrides.
    pub config: Config,
    /// The program name, `process_name` (basename of argv[0]).
    pub process_name: String,
    /// The master.cf service name (`-n`), else the program name.
    pub service_name: String,
    /// The service type (`-t`): inet, unix, unix-dgram, fifo, pass.
    pub transport: Option<String>,
    /// Arguments after the options.
    pub args: Vec<String>,
    /// The master's generation number for this process.
    pub generation: u32,
    /// How many listen sockets, from descriptor 6 on.
    pub socket_count: usize,
    /// `-S`: serve one client on standard input and output, then exit.
    pub stdin_stream: bool,
    /// Seconds without a client before exiting (`max_idle`); 0 = forever.
    pub max_idle: u64,
    /// Clients served before exiting (`max_use`); 0 = no limit.
    pub max_use: u64,
    /// Seconds one request may take before the watchdog ends the process.
    pub daemon_timeout: u64,
    /// The pause when a connection finds no mail flow token; None when the daemon does
    /// not take tokens.
    pub in_flow_delay: Option<std::time::Duration>,
    /// The watchdog limit the daemon asked for, else the skeleton's default applies.
    watchdog_timeout: Option<u64>,
    root_dir: Option<PathBuf>,
    user: Option<String>,
    lock: Option<File>,
}

/// Logs a configuration error (its warnings, then fatal) and exits.
fn config_fatal(error: params::ConfigError) -> ! {
    global::fatal_config(error)
}

impl Daemon {
    /// Starts a daemon: everything Postfix's skeletons do before `pre_init`.
    pub fn start(requirements: Requirements) -> Daemon {
        // A SIGSEGV must end a daemon as it ends Postfix's (the master logs "killed by
        // signal 11" and throttles or restarts): Rust's stack-overflow handler would
        // otherwise swallow one sent with kill(1).
        sys::signals::default_action(sys::signals::SIGSEGV);
        let argv: Vec<String> = std::env::args().collect();
        let process_name = argv
            .first()
            .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
            .unwrap_or_else(|| "unknown".to_string());
        let mut debug_me = std::env::var_os(params::env::CONF_ENV_DEBUG).is_some();
        if std::env::var_os(params::env::CONF_ENV_VERB).is_some() {
            log::set_verbose(1);
        }
        sys::signals::ignore(sys::signals::SIGPIPE);
        sys::signals::ignore(sys::signals::SIGXFSZ);
        // A table that cannot be opened must not stop a daemon: it logs an error and the
        // mail that needs the table is deferred (Postfix's dict_allow_surrogate).
        dict::allow_surrogate(true);

        // Log before anything else can fail, with what the environment says (the master
        // passes POSTLOG_SERVICE when maillog_file is in use).
        let early_tag = format!("postfix/{process_name}");
        log::init(early_sink(&early_tag));
        if log::verbose() > 0 {
            log::msg_info!("daemon started");
        }

        let config_dir = params::config::config_directory(None);
        let mut config = Config::load(&config_dir).unwrap_or_else(|e| config_fatal(e));
        config.process_name = process_name.clone();
        // daemon_table_open_error_is_fatal = yes takes the surrogates back (mail_params.c).
        if config
            .bool(&params::decl::debug::DAEMON_TABLE_OPEN_ERROR_IS_FATAL)
            .unwrap_or_else(|e| config_fatal(e))
        {
            dict::allow_surrogate(false);
        }

        let opts = Options::parse(&argv[1..]).unwrap_or_else(|e| log::msg_fatal!("{e}"));
        for _ in 0..opts.verbose {
            log::raise_verbose(1);
        }
        debug_me |= opts.debug;
        for (name, value) in &opts.overrides {
            config.set_override(name, value);
        }
        let service_name = opts
            .service_name
            .clone()
            .unwrap_or_else(|| process_name.clone());
        config.set_override("service_name", &service_name);

        let tag = global::mail_task::mail_task(&config, &process_name);
        if let Err(e) = global::maillog_client::init(
            &config,
            &tag,
            if requirements.logwriter {
                global::maillog_client::Fallback::Direct
            } else {
                global::maillog_client::Fallback::Drop
            },
        ) {
            config_fatal(e);
        }
        if opts.stderr {
            log::add_sink(Box::new(log::Stderr::new(&tag)));
        }

        if opts.daemon_mode && !opts.stdin_stream && sys::isatty(0) {
            log::add_sink(Box::new(log::Stderr::new(&process_name)));
            log::msg_fatal!("do not run this command by hand");
        }
        if requirements.solitary && !opts.stdin_stream && !opts.alone {
            log::msg_fatal!("service {service_name} requires a process limit of 1");
        }
        if requirements.unlimited && !opts.stdin_stream && !opts.zero_limit {
            log::msg_fatal!("service {service_name} requires a process limit of 0");
        }
        if requirements.privileged && opts.unprivileged {
            log::msg_fatal!("service {service_name} requires privileged operation");
        }
        if !opts.stdin_stream && opts.transport.is_none() {
            log::msg_fatal!("no transport type specified");
        }

        let generation = match std::env::var(master_proto::GENERATION_ENV) {
            Ok(text) => {
                let value = u32::from_str_radix(&text, 8)
                    .unwrap_or_else(|_| log::msg_fatal!("bad generation: {text}"));
                if log::verbose() > 0 {
                    log::msg_info!("process generation: {text} ({value:o})");
                }
                value
            }
            Err(_) => 0,
        };

        let max_idle = match &opts.max_idle {
            Some(v) => util::conv::time(v, b's').map_or(0, |t| t as u64),
            None => config.time(&MAX_IDLE).unwrap_or_else(|e| config_fatal(e)) as u64,
        };
        let max_use = match &opts.max_use {
            Some(v) => util::conv::int(v).unwrap_or(0).max(0) as u64,
            None => config
                .int(&MAX_USE)
                .unwrap_or_else(|e| config_fatal(e))
                .max(0) as u64,
        };
        let daemon_timeout = config
            .time(&DAEMON_TIMEOUT)
            .unwrap_or_else(|e| config_fatal(e));
        let in_flow_delay = requirements.in_flow_delay.then(|| {
            let seconds = config
                .time(&IN_FLOW_DELAY)
                .unwrap_or_else(|e| config_fatal(e));
            std::time::Duration::from_secs(seconds as u64)
        });
        let watchdog_timeout = requirements
            .watchdog
            .map(|param| config.time(param).unwrap_or_else(|e| config_fatal(e)) as u64);

        enable_crash_reports(&config, &argv, &service_name, opts.transport.as_deref());

        if debug_me {
            global::debug_process::run(&config);
        }

        let queue_directory = config
            .str(&QUEUE_DIRECTORY)
            .unwrap_or_else(|e| config_fatal(e));
        global::mail_dict::init(&config).unwrap_or_else(|e| config_fatal(e));
        let mut daemon = Daemon {
            root_dir: opts.chroot.then(|| PathBuf::from(&queue_directory)),
            user: if opts.unprivileged {
                Some(config.str(&MAIL_OWNER).unwrap_or_else(|e| config_fatal(e)))
            } else {
                None
            },
            config,
            process_name,
            service_name,
            transport: opts.transport.clone(),
            args: opts.args.clone(),
            generation,
            socket_count: opts.socket_count,
            stdin_stream: opts.stdin_stream,
            max_idle,
            max_use,
            daemon_timeout: daemon_timeout as u64,
            in_flow_delay,
            watchdog_timeout,
            lock: None,
        };
        if let Err(e) = std::env::set_current_dir(&queue_directory) {
            log::msg_fatal!("chdir(\"{queue_directory}\"): {}", sys::os_error(&e));
        }
        if !requirements.arguments
            && let Some(arg) = daemon.args.first()
        {
            log::msg_fatal!("unexpected command-line argument: {arg}");
        }
        if !opts.stdin_stream && !opts.alone {
            daemon.lock = Some(daemon.open_service_lock());
        }
        daemon
    }

    /// The lock that keeps processes of one service from accepting at the same time:
    /// `pid/<transport>.<service>` in the queue directory, as in Postfix.
    fn open_service_lock(&self) -> File {
        let transport = self.transport.as_deref().unwrap_or("unix");
        let path = format!("pid/{transport}.{}", self.service_name);
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .unwrap_or_else(|e| log::msg_fatal!("open lock file {path}: {}", sys::os_error(&e)))
    }

    /// Enters the chroot jail and drops privileges as master.cf asked (`-c`, `-u`).
    pub fn enter_jail(&mut self) {
        if log::verbose() > 1 && (self.root_dir.is_some() || self.user.is_some()) {
            log::msg_info!(
                "chroot {} user {}",
                self.root_dir
                    .as_ref()
                    .map_or("(none)".to_string(), |p| p.display().to_string()),
                self.user.as_deref().unwrap_or("(none)")
            );
        }
        // A chrooted daemon logs as an unchrooted one does: through connections made now.
        log::connect_now();
        if let Err(e) = sys::user::chroot_uid(self.root_dir.as_deref(), self.user.as_deref()) {
            log::msg_fatal!("{e}");
        }
    }

    /// Installs the watchdog before the serve loop: the daemon's own limit, else the
    /// skeleton's default (`daemon_timeout` for single and multi servers, 1000 seconds for
    /// the others, as in Postfix). The loop restarts it before each wait.
    fn create_watchdog(&self, skeleton_default: u64) {
        let limit = self.watchdog_timeout.unwrap_or(skeleton_default);
        if let Err(e) = sys::watchdog::create(limit, watchdog_timeout) {
            log::msg_panic!("watchdog_create: {e}");
        }
    }

    /// Waits for our turn to accept, when other processes serve the same socket, then
    /// restarts the watchdog: waiting for the lock is not being stuck.
    fn lock_accept(&self) {
        if let Some(lock) = &self.lock {
            sys::watchdog::stop();
            if let Err(e) = lock.lock() {
                log::msg_fatal!("select lock: {e}");
            }
        }
        sys::watchdog::start();
    }

    /// Lets the next process accept.
    fn unlock_accept(&self) {
        if let Some(lock) = &self.lock
            && let Err(e) = lock.unlock()
        {
            log::msg_fatal!("select unlock: {e}");
        }
    }
}

/// The watchdog's action: a request took longer than the limit. The report comes first,
/// so that it shows where the process was stuck and the master finds it when it reaps us.
fn watchdog_timeout() -> ! {
    log::crash::report(b"watchdog timeout");
    log::msg_fatal!("watchdog timeout")
}

/// The directory under data_directory where daemons leave crash reports; the master
/// creates it, owned by mail_owner.
pub const CRASH_DIRECTORY: &str = "crash";

/// Turns on crash reports (log::crash) in `$data_directory/crash`, opened now, before a
/// chroot, with a header saying what ran under which configuration. A daemon started
/// where that directory does not exist (by Postfix's master) runs without them.
fn enable_crash_reports(config: &Config, argv: &[String], service: &str, transport: Option<&str>) {
    let Ok(data_directory) = config.str(&DATA_DIRECTORY) else {
        return;
    };
    let dir = PathBuf::from(data_directory).join(CRASH_DIRECTORY);
    let header = format!(
        "program: {}\nservice: {service}/{}\nversion: ironpost {}\n\
         config_directory: {}\nmain.cf: {}\nmaster.cf: {}\ncommand: {}\n",
        std::env::current_exe().map_or_else(
            |_| argv.first().cloned().unwrap_or_default(),
            |p| p.display().to_string()
        ),
        transport.unwrap_or("-"),
        params::install::MAIL_VERSION,
        config.config_directory.display(),
        fingerprint::of_file(&config.config_directory.join("main.cf")),
        fingerprint::of_file(&config.config_directory.join("master.cf")),
        argv.join(" "),
    );
    if let Err(e) = log::crash::enable(&dir, service, header) {
        if log::verbose() > 0 {
            log::msg_info!("no crash reports: {e}");
        }
        return;
    }
    test_panic_hook(config.process_name.as_str());
}

/// For the crash-report tests: `IRONPOST_TEST_PANIC=<process_name>:<seconds>` in a
/// daemon's environment makes that program panic that long after start-up, whatever it
/// is doing then. The master passes a daemon only the environment main.cf's
/// import_environment names, so only whoever may edit main.cf can set it; no client can.
fn test_panic_hook(process_name: &str) {
    let Some(seconds) = std::env::var("IRONPOST_TEST_PANIC").ok().and_then(|v| {
        let (program, seconds) = v.split_once(':')?;
        (program == process_name).then(|| seconds.parse::<u64>().ok())?
    }) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("test-panic".into())
        .spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(seconds));
            panic!("test panic requested by IRONPOST_TEST_PANIC after {seconds}s");
        });
}

/// The watchdog default of the trigger, event and datagram skeletons, in seconds.
const WATCHDOG_DEFAULT: u64 = 1000;

/// Where records go before main.cf is read: the postlog socket the master exported, else
/// syslog.
fn early_sink(tag: &str) -> Box<dyn log::Sink> {
    match std::env::var("POSTLOG_SERVICE") {
        Ok(path) if !path.is_empty() => {
            let host = std::env::var("POSTLOG_HOSTNAME").unwrap_or_else(|_| "amnesiac".into());
            Box::new(log::MaillogFile::new(tag, &host, None, Some(path.into())))
        }
        _ => Box::new(log::Syslog::new(tag, log::Facility::MAIL)),
    }
}
