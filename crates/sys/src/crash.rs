//! Async-signal-safe system calls for crash reports.
//!
//! Postfix has no counterpart: it leaves a dying daemon to the core dump and the master's
//! "killed by signal" line. `log::crash` writes a report from inside the handler of a
//! fatal signal (SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE) or the watchdog's SIGALRM,
//! where only async-signal-safe calls may be made: no allocation, no locks, no stdio.
//! Everything here is one such call (open, openat, write, close, time, alarm, the raw
//! fork system call, waitpid, _exit, raise) over plain bytes and integers.
//!
//! The handler runs on the stack of the thread that failed (no SA_ONSTACK): a stack
//! overflow therefore ends the process at once, without a report, as before; in exchange
//! the report writer and its backtrace child have a full stack to work with.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The signals that end a process with a crash report.
pub const FATAL_SIGNALS: [i32; 5] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGABRT,
    libc::SIGILL,
    libc::SIGFPE,
];

/// The report writer, a `fn(i32)` stored as an address (0 = none).
static HANDLER: AtomicUsize = AtomicUsize::new(0);

extern "C" fn on_fatal(signal: libc::c_int) {
    let handler = HANDLER.load(Ordering::Relaxed);
    if handler != 0 {
        // SAFETY: HANDLER only ever holds the address of a `fn(i32)` stored by `install`.
        let handler: fn(i32) = unsafe { std::mem::transmute::<usize, fn(i32)>(handler) };
        handler(signal);
    }
    // The process must still end by this signal, so that the master logs "killed by
    // signal N" as Postfix's does. The signal is blocked while its handler runs: the
    // re-raised one is delivered, with the default action, as the handler returns (a
    // fault would also recur when the faulting instruction runs again).
    // SAFETY: signal(2) with SIG_DFL and raise(3) are async-signal-safe.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}

/// Calls `handler` with the signal number when a fatal signal arrives, then lets the
/// signal end the process as it would have without the handler.
pub fn install(handler: fn(i32)) -> io::Result<()> {
    HANDLER.store(handler as usize, Ordering::Relaxed);
    for signal in FATAL_SIGNALS {
        // SAFETY: sigaction with a handler that calls the report writer (which makes
        // async-signal-safe calls only, see log::crash) and raise(3); the struct is plain
        // data.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fatal as *const () as usize;
            action.sa_flags = 0;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(signal, &action, std::ptr::null_mut()) < 0 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// The usual name of a fatal signal.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGBUS => "SIGBUS",
        libc::SIGABRT => "SIGABRT",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGALRM => "SIGALRM",
        _ => "signal",
    }
}

/// Creates `name` (at most 255 bytes, no NUL) in the directory `dir`, write-only, mode
/// 0600, failing if it exists. Returns the descriptor or -1.
pub fn create_at(dir: RawFd, name: &[u8]) -> RawFd {
    let mut path = [0u8; 256];
    if name.is_empty() || name.len() >= path.len() || name.contains(&0) {
        return -1;
    }
    path[..name.len()].copy_from_slice(name);
    // SAFETY: openat(2) is async-signal-safe; `path` is NUL-terminated and outlives the
    // call.
    unsafe {
        libc::openat(
            dir,
            path.as_ptr().cast(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC,
            0o600 as libc::c_uint,
        )
    }
}

/// Writes all of `bytes` to `fd`, retrying short writes; gives up on an error.
pub fn write_all(fd: RawFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: write(2) is async-signal-safe; `bytes` is valid for its length.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

/// Gives the file open on `fd` to `uid`:`gid` (fchown(2)); a process that may not do
/// that leaves the file its own.
pub fn give_to(fd: RawFd, uid: u32, gid: u32) {
    // SAFETY: fchown(2) is async-signal-safe and touches no memory of ours.
    unsafe {
        libc::fchown(fd, uid, gid);
    }
}

/// Closes a descriptor.
pub fn close_fd(fd: RawFd) {
    // SAFETY: close(2) is async-signal-safe; the caller owns `fd`.
    unsafe {
        libc::close(fd);
    }
}

/// Seconds since the epoch (`time(2)`).
pub fn epoch_seconds() -> i64 {
    // SAFETY: time(2) with a null pointer is async-signal-safe and writes nothing.
    unsafe { libc::time(std::ptr::null_mut()) as i64 }
}

/// A copy of this process made with the raw fork system call, which, unlike the C
/// library's fork(3), runs no fork handlers (they take locks a crashed thread may hold).
/// Returns 0 in the child, the child's pid in the parent, -1 on failure.
pub fn fork_raw() -> i32 {
    // SAFETY: clone(2) with only SIGCHLD and no new stack behaves as fork(2) and is a
    // plain system call; the child continues on a copy of this stack.
    unsafe {
        libc::syscall(
            libc::SYS_clone,
            libc::SIGCHLD as libc::c_long,
            0 as libc::c_long,
            0 as libc::c_long,
            0 as libc::c_long,
            0 as libc::c_long,
        ) as i32
    }
}

/// Waits for the child `pid` to end.
pub fn wait_child(pid: i32) {
    loop {
        let mut status = 0;
        // SAFETY: waitpid(2) is async-signal-safe; `status` lives for the call.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r >= 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return;
        }
    }
}

/// Ends the calling process in `seconds` with SIGALRM's default action, whatever it is
/// doing then: the limit a backtrace child works under.
pub fn die_after(seconds: u32) {
    // SAFETY: signal(2) with SIG_DFL and alarm(2) are async-signal-safe.
    unsafe {
        libc::signal(libc::SIGALRM, libc::SIG_DFL);
        libc::alarm(seconds);
    }
}

/// Ends the calling (child) process with status 0 without running anything else.
pub fn exit_child() -> ! {
    // SAFETY: _exit(2) is async-signal-safe and never returns.
    unsafe { libc::_exit(0) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn create_at_refuses_an_existing_name_and_writes() {
        let dir = std::env::temp_dir().join(format!("sys-crash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let handle = std::fs::File::open(&dir).unwrap();
        let fd = create_at(handle.as_raw_fd(), b"report");
        assert!(fd >= 0);
        write_all(fd, b"hello\n");
        close_fd(fd);
        assert_eq!(create_at(handle.as_raw_fd(), b"report"), -1);
        assert_eq!(create_at(handle.as_raw_fd(), b"a\0b"), -1);
        assert_eq!(std::fs::read(dir.join("report")).unwrap(), b"hello\n");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
