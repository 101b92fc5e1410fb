//! The files of the message being written, removed when the process must end first.
//!
//! Postfix counterparts: `cleanup_path`, `cleanup_trace_path`, `cleanup_all` and
//! `cleanup_sig` in `cleanup/cleanup_init.c`. While a message is being received its queue
//! file (and a trace log of DSN SUCCESS records) exist but are not yet the mail system's
//! responsibility; a fatal error, or the SIGTERM the master sends at `postfix stop`,
//! removes them, so that no half-written message stays behind. Once the message is
//! committed or removed they are forgotten: after that an error must not remove anything
//! (better to deliver twice than to lose mail).

use std::sync::Mutex;

/// The files to remove.
static INCOMPLETE: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Remembers a file to remove if the process must end before the message is done.
pub fn note(path: &str) {
    if let Ok(mut guard) = INCOMPLETE.lock() {
        guard.push(path.to_string());
    }
}

/// The message is done (committed or removed): nothing to clean up any more.
pub fn forget() {
    if let Ok(mut guard) = INCOMPLETE.lock() {
        guard.clear();
    }
}

/// Removes the incomplete files (`cleanup_all`), before a fatal error ends the process.
pub fn remove() {
    if let Ok(mut guard) = INCOMPLETE.lock() {
        for path in guard.drain(..) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// On SIGTERM: remove the incomplete files and end with the signal's number as the status
/// (`cleanup_sig`). The signal is blocked in the process and one thread waits for it, so
/// that the removal runs as ordinary code rather than in a signal handler. Call this
/// before any other thread exists, so that they all inherit the blocked signal.
pub fn remove_on_sigterm() {
    use sys::nix::sys::signal::{SigSet, Signal};
    let mut term = SigSet::empty();
    term.add(Signal::SIGTERM);
    if let Err(errno) = term.thread_block() {
        log::msg_fatal!("sigprocmask: {errno}");
    }
    let spawned = std::thread::Builder::new()
        .name("sigterm".into())
        .spawn(move || {
            // Every other signal (the watchdog's SIGALRM above all) stays with the main
            // thread.
            let _ = SigSet::all().thread_block();
            loop {
                if let Ok(signal) = term.wait() {
                    remove();
                    sys::exit_now(signal as i32);
                }
            }
        });
    if let Err(e) = spawned {
        log::msg_fatal!("thread: {e}");
    }
}
