//! The watchdog: ends a daemon that stays stuck in one request for too long.
//!
//! Postfix counterpart: `util/watchdog.c`. The time limit is split into three alarm
//! intervals; each SIGALRM counts one trip and re-arms the alarm, and the third trip in a
//! row calls the timeout action (the skeletons log `fatal: watchdog timeout`). Restarting
//! the watchdog (once per event loop iteration) costs one alarm(2); patting it (while a
//! long job makes progress) only resets the trip count, without a system call.
//!
//! The timeout action runs inside the signal handler. Like Postfix, which made its msg(3)
//! routines usable from a handler that terminates the process, we accept that risk, and
//! arm a last-resort alarm with the default action first (Postfix's `killme_after`), so a
//! logger that cannot finish still ends the process within five seconds.

use std::io;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// The time limit is split into this many alarm intervals.
const STEPS: u32 = 3;
/// Seconds the timeout action gets before the default SIGALRM action ends the process.
const LAST_RESORT: u32 = 5;

/// Seconds per alarm interval; 0 until `create`.
static INTERVAL: AtomicU32 = AtomicU32::new(0);
/// Successive alarms without a restart or pat.
static TRIPS: AtomicU32 = AtomicU32::new(0);
/// The timeout action, a `fn() -> !` stored as an address (0 = none).
static ACTION: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_alarm(_signal: libc::c_int) {
    let trips = TRIPS.fetch_add(1, Ordering::Relaxed) + 1;
    if trips < STEPS {
        // SAFETY: alarm(2) is async-signal-safe and has no memory arguments.
        unsafe {
            libc::alarm(INTERVAL.load(Ordering::Relaxed));
        }
        return;
    }
    // SAFETY: signal(2) with SIG_DFL and alarm(2) are async-signal-safe.
    unsafe {
        libc::signal(libc::SIGALRM, libc::SIG_DFL);
        libc::alarm(LAST_RESORT);
    }
    let action = ACTION.load(Ordering::Relaxed);
    if action != 0 {
        // SAFETY: ACTION only ever holds the address of a `fn() -> !` stored by `create`.
        let action: fn() -> ! = unsafe { std::mem::transmute::<usize, fn() -> !>(action) };
        action();
    }
    // SAFETY: _exit(2) is async-signal-safe.
    unsafe { libc::_exit(1) }
}

/// Installs the watchdog with a time limit of `timeout` seconds and the action for when
/// it runs out. Postfix refuses limits below three seconds; so do we.
pub fn create(timeout: u64, action: fn() -> !) -> io::Result<()> {
    let interval = (timeout / u64::from(STEPS)).min(u64::from(u32::MAX)) as u32;
    if interval == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("timeout {timeout} is too small"),
        ));
    }
    INTERVAL.store(interval, Ordering::Relaxed);
    ACTION.store(action as usize, Ordering::Relaxed);
    // SAFETY: sigaction with a handler that only touches atomics, calls async-signal-safe
    // functions, and then the action (see the module comment); the struct is plain data.
    unsafe {
        let mut sigaction: libc::sigaction = std::mem::zeroed();
        sigaction.sa_sigaction = on_alarm as *const () as usize;
        sigaction.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sigaction.sa_mask);
        if libc::sigaction(libc::SIGALRM, &sigaction, std::ptr::null_mut()) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Starts (or restarts) the full time limit: one alarm(2).
pub fn start() {
    TRIPS.store(0, Ordering::Relaxed);
    // SAFETY: alarm(2) has no memory arguments.
    unsafe {
        libc::alarm(INTERVAL.load(Ordering::Relaxed));
    }
}

/// Stops the watchdog.
pub fn stop() {
    // SAFETY: alarm(2) has no memory arguments.
    unsafe {
        libc::alarm(0);
    }
}

/// Tells the watchdog that a long job is making progress: the time limit starts over at
/// the next alarm, without a system call.
pub fn pat() {
    TRIPS.store(0, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_limit_below_three_seconds() {
        fn never() -> ! {
            unreachable!()
        }
        assert!(create(2, never).is_err());
    }

    /// Runs `name` (a test in this file) in a child process with WATCHDOG_CHILD set.
    fn run_child(name: &str) -> std::process::Output {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--nocapture", "--test-threads=1"])
            .env("WATCHDOG_CHILD", "1")
            .output()
            .unwrap()
    }

    fn timed_out() -> ! {
        eprintln!("watchdog timeout");
        // SAFETY: _exit(2) ends the process without running Rust destructors.
        unsafe { libc::_exit(7) }
    }

    #[test]
    fn a_stuck_process_ends_after_the_limit() {
        if std::env::var_os("WATCHDOG_CHILD").is_some() {
            create(3, timed_out).unwrap();
            start();
            std::thread::sleep(std::time::Duration::from_secs(30));
            return;
        }
        let started = std::time::Instant::now();
        let out = run_child("watchdog::tests::a_stuck_process_ends_after_the_limit");
        let took = started.elapsed().as_secs_f64();
        assert_eq!(out.status.code(), Some(7), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("watchdog timeout"));
        assert!((2.5..10.0).contains(&took), "took {took}s");
    }

    #[test]
    fn patting_keeps_a_busy_process_alive() {
        if std::env::var_os("WATCHDOG_CHILD").is_some() {
            create(3, timed_out).unwrap();
            start();
            for _ in 0..10 {
                std::thread::sleep(std::time::Duration::from_millis(500));
                pat();
            }
            stop();
            return;
        }
        let out = run_child("watchdog::tests::patting_keeps_a_busy_process_alive");
        assert!(out.status.success(), "{out:?}");
    }
}
