//! Turning signals into bytes on a pipe, so that a poll loop can handle them.
//!
//! Postfix counterpart: `master/master_sig.c` (the self-pipe trick). The handler only
//! writes the signal number to a non-blocking pipe; the main loop reads it and acts.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};

static WRITE_END: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(signal: libc::c_int) {
    let fd = WRITE_END.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = signal as u8;
        // SAFETY: write(2) is async-signal-safe; `byte` lives for the call. A full pipe
        // drops the byte, which only merges two notifications of the same kind.
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
    }
}

/// The read end of the signal pipe; readable when a watched signal arrived.
pub struct SignalPipe {
    read: RawFd,
}

impl SignalPipe {
    /// Installs handlers for `signals` that report through the pipe.
    pub fn install(signals: &[i32]) -> io::Result<SignalPipe> {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: pipe2 writes two descriptors into `fds`.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) } < 0 {
            return Err(io::Error::last_os_error());
        }
        WRITE_END.store(fds[1], Ordering::Relaxed);
        for &signal in signals {
            // SAFETY: sigaction with a handler that only calls write(2); the struct is
            // zero-initialised plain data.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                if libc::sigaction(signal, &action, std::ptr::null_mut()) < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
        }
        Ok(SignalPipe { read: fds[0] })
    }

    /// The descriptor to poll.
    pub fn fd(&self) -> RawFd {
        self.read
    }

    /// The signals that arrived since the last call.
    pub fn take(&self) -> Vec<i32> {
        let mut buf = [0u8; 64];
        let mut out = Vec::new();
        while let Ok(n) = crate::process::read_fd(self.read, &mut buf) {
            if n == 0 {
                break;
            }
            out.extend(buf[..n].iter().map(|&b| i32::from(b)));
        }
        out
    }
}

/// Restores the default action for `signal`.
pub fn default_action(signal: i32) {
    // SAFETY: signal(2) with SIG_DFL touches no memory of ours.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
    }
}

/// Ignores `signal`.
pub fn ignore(signal: i32) {
    // SAFETY: signal(2) with SIG_IGN touches no memory of ours.
    unsafe {
        libc::signal(signal, libc::SIG_IGN);
    }
}

/// The signals whose disposition is "ignore", from the kernel's view of this process.
fn ignored_signals() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("SigIgn:"))
                .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        })
        .unwrap_or(0)
}

/// On SIGINT and SIGQUIT, and on SIGTERM and SIGHUP unless the parent made us ignore
/// them: runs `cleanup` and exits with the signal number, as a command's signal handler
/// does in Postfix (postdrop's, postsuper's). The signals are blocked and a thread waits
/// for them, so `cleanup` runs as ordinary code, not in a handler. Call it before any
/// other thread starts, so that they inherit the blocked mask.
pub fn on_termination(cleanup: fn()) -> io::Result<()> {
    use nix::sys::signal::{SigSet, Signal};
    let ignored = ignored_signals();
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGQUIT);
    for signal in [Signal::SIGTERM, Signal::SIGHUP] {
        if ignored & (1u64 << (signal as i32 - 1)) == 0 {
            set.add(signal);
        }
    }
    set.thread_block().map_err(io::Error::from)?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            loop {
                if let Ok(signal) = set.wait() {
                    cleanup();
                    crate::exit_now(signal as i32);
                }
            }
        })
        .map(|_| ())
}

pub use libc::{
    SIGABRT, SIGALRM, SIGCHLD, SIGHUP, SIGINT, SIGKILL, SIGPIPE, SIGQUIT, SIGSEGV, SIGTERM, SIGXFSZ,
};

#[cfg(test)]
mod tests {
    #[test]
    fn ignored_signals_are_read() {
        // SIGXFSZ ignored here must show in the kernel's mask.
        super::ignore(super::SIGXFSZ);
        assert_ne!(super::ignored_signals() & (1u64 << (super::SIGXFSZ - 1)), 0);
    }
}
