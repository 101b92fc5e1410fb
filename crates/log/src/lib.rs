//! Logging with Postfix's vocabulary and semantics.
//!
//! Postfix counterparts: `util/msg.c` (severities, the error bound, fatal and panic),
//! `util/msg_vstream.c` (stderr), `util/msg_syslog.c` (syslog), `util/msg_logger.c` and
//! `global/maillog_client.c` (maillog_file through postlogd).
//!
//! Call sites use [`msg_info!`], [`msg_warn!`], [`msg_error!`], [`msg_fatal!`] and
//! [`msg_panic!`]. A record goes to every sink that [`init`] and the `add_*` functions set up.
//! The rules administrators rely on (DEBUG_README "Look for obvious signs of trouble"):
//!
//! - info records have no prefix; the others start with `warning: `, `error: `, `fatal: `,
//!   `panic: `;
//! - the 13th error in a process's life becomes `fatal: too many errors - program terminated`;
//! - fatal logs, sleeps one second (to slow down respawn loops) and exits with status 1;
//! - panic logs, sleeps one second and aborts, leaving a core dump where the system allows.
//!
//! Verbosity is a process-wide counter: each `-v` raises it, `debug_peer_list` raises it for
//! one session. Code logs verbose detail with `if log::verbose() > 0 { msg_info!(...) }`.

pub mod crash;
pub mod decimal;
mod sinks;

pub use crash::work;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

pub use sinks::{Capture, Facility, MaillogFile, Sink, Stderr, Syslog};

/// How serious a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Normal operation; no prefix.
    Info,
    /// A non-fatal problem: broken remote DNS, a latent local misconfiguration.
    Warning,
    /// An error condition; a process gives up after [`ERROR_BOUND`] of them.
    Error,
    /// A problem the administrator can fix (missing file, bad setting); the process stops.
    Fatal,
    /// A software bug only a programmer can fix; the process aborts.
    Panic,
}

impl Severity {
    /// The text that starts a record of this severity.
    pub fn prefix(self) -> &'static str {
        match self {
            Severity::Info => "",
            Severity::Warning => "warning: ",
            Severity::Error => "error: ",
            Severity::Fatal => "fatal: ",
            Severity::Panic => "panic: ",
        }
    }

    /// The severity named as `postlog -p` takes it: info, warn, error, fatal, panic.
    pub fn from_name(name: &str) -> Option<Severity> {
        Some(match name {
            "info" => Severity::Info,
            "warn" | "warning" => Severity::Warning,
            "error" => Severity::Error,
            "fatal" => Severity::Fatal,
            "panic" => Severity::Panic,
            _ => return None,
        })
    }
}

/// The number of errors after which a process gives up (Postfix's `msg_error_bound`).
pub const ERROR_BOUND: u32 = 13;

static VERBOSE: AtomicI32 = AtomicI32::new(0);
static ERRORS: AtomicU32 = AtomicU32::new(0);
static SINKS: Mutex<Vec<Box<dyn Sink>>> = Mutex::new(Vec::new());
static UTF8: AtomicBool = AtomicBool::new(true);

/// Whether UTF-8 characters are printable in records (Postfix's `util_utf8_enable`, set
/// from smtputf8_enable); otherwise every byte outside printable ASCII shows as '?'.
pub fn set_utf8(enable: bool) {
    UTF8.store(enable, Ordering::Relaxed);
}

/// The current verbosity: 0 normally, one more for each `-v`.
pub fn verbose() -> i32 {
    VERBOSE.load(Ordering::Relaxed)
}

/// Sets the verbosity, e.g. back to a saved level at the end of a debug_peer_list session.
pub fn set_verbose(level: i32) {
    VERBOSE.store(level, Ordering::Relaxed);
}

/// Raises the verbosity by `by` (once per `-v`, or by `debug_peer_level`).
pub fn raise_verbose(by: i32) {
    VERBOSE.fetch_add(by, Ordering::Relaxed);
}

fn sinks() -> MutexGuard<'static, Vec<Box<dyn Sink>>> {
    // A panic while logging must not silence every later record, so a poisoned lock is fine.
    SINKS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Replaces all sinks with `sink` alone and installs the panic hook. Programs call this
/// first thing, with a stderr sink, so that even start-up errors are seen.
pub fn init(sink: Box<dyn Sink>) {
    *sinks() = vec![sink];
    install_panic_hook();
}

/// Adds a sink; records go to every sink in the order they were added.
pub fn add_sink(sink: Box<dyn Sink>) {
    sinks().push(sink);
}

/// Removes every sink that `keep` rejects (e.g. stderr once a daemon has detached).
pub fn retain_sinks(keep: impl Fn(&dyn Sink) -> bool) {
    sinks().retain(|s| keep(s.as_ref()));
}

/// Connects every sink to its socket now and keeps the connections: called before a
/// chroot, after which `/dev/log` and the postlog socket may not exist (Postfix's
/// `msg_logger_control(CA_MSG_LOGGER_CTL_CONNECT_NOW)` in the skeletons).
pub fn connect_now() {
    for sink in sinks().iter_mut() {
        sink.connect_now();
    }
}

/// Writes one record to every sink. Fatal and panic records do not end the process here:
/// use [`fatal`] and [`panic`] (or the macros) for that.
pub fn write(severity: Severity, text: &str) {
    // As Postfix's msg_output: a newline, tab or stray byte in a record (from a client's
    // command, a header, a table) shows as '?', so one record stays one line.
    let text = util::printable::printable(text, UTF8.load(Ordering::Relaxed));
    let mut sinks = sinks();
    crash::remember(severity, &text);
    for sink in sinks.iter_mut() {
        sink.write(severity, &text);
    }
}

/// Logs a record; an error also counts towards [`ERROR_BOUND`].
pub fn log(severity: Severity, args: fmt::Arguments<'_>) {
    write(severity, &args.to_string());
    if severity == Severity::Error && ERRORS.fetch_add(1, Ordering::Relaxed) + 1 >= ERROR_BOUND {
        fatal(format_args!("too many errors - program terminated"));
    }
}

/// Logs a fatal record, pauses one second, and exits with status 1.
pub fn fatal(args: fmt::Arguments<'_>) -> ! {
    fatal_status(1, args)
}

/// Logs a fatal record, runs the cleanup action if the program set one, pauses one
/// second, and exits with `status`.
pub fn fatal_status(status: i32, args: fmt::Arguments<'_>) -> ! {
    write(Severity::Fatal, &args.to_string());
    if let Some(cleanup) = FATAL_CLEANUP.get() {
        cleanup();
    }
    std::thread::sleep(Duration::from_secs(1));
    sys::exit_now(status)
}

/// What runs after a fatal record is logged (Postfix's `msg_cleanup()`): sendmail uses
/// it to exit with EX_TEMPFAIL whatever went wrong. Set once; later calls are ignored.
pub fn set_fatal_cleanup(cleanup: fn()) {
    let _ = FATAL_CLEANUP.set(cleanup);
}

static FATAL_CLEANUP: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Logs a panic record, writes a crash report when the daemon has them on (see
/// [`crash`]), pauses one second, and aborts (core dump).
pub fn panic(args: fmt::Arguments<'_>) -> ! {
    let text = args.to_string();
    write(Severity::Panic, &text);
    crash::report(format!("panic: {text}").as_bytes());
    std::thread::sleep(Duration::from_secs(1));
    std::process::abort()
}

/// Routes Rust panics through the same sinks as a `panic:` record, then aborts.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        match info.location() {
            Some(at) => panic(format_args!("{what} (at {}:{})", at.file(), at.line())),
            None => panic(format_args!("{what}")),
        }
    }));
}

/// An informational record: `msg_info!("{queue_id}: removed")`.
#[macro_export]
macro_rules! msg_info {
    ($($arg:tt)*) => { $crate::log($crate::Severity::Info, format_args!($($arg)*)) };
}

/// A `warning:` record.
#[macro_export]
macro_rules! msg_warn {
    ($($arg:tt)*) => { $crate::log($crate::Severity::Warning, format_args!($($arg)*)) };
}

/// An `error:` record; the 13th one in a process ends it.
#[macro_export]
macro_rules! msg_error {
    ($($arg:tt)*) => { $crate::log($crate::Severity::Error, format_args!($($arg)*)) };
}

/// A `fatal:` record, then exit status 1 after one second.
#[macro_export]
macro_rules! msg_fatal {
    ($($arg:tt)*) => { $crate::fatal(format_args!($($arg)*)) };
}

/// A `panic:` record, then abort after one second.
#[macro_export]
macro_rules! msg_panic {
    ($($arg:tt)*) => { $crate::panic(format_args!($($arg)*)) };
}
