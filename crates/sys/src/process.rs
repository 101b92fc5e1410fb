//! Starting child processes with descriptors at fixed numbers, and reaping them.
//!
//! Postfix counterpart: `master/master_spawn.c` (the fork/exec part). The master hands
//! each daemon its descriptors at the numbers the skeletons expect (flow pipe 3 and 4,
//! status 5, listen sockets from 6).

use std::ffi::OsString;
use std::io;
use std::os::fd::RawFd;
use std::path::Path;
use std::process::Command;

/// What to start.
pub struct Spawn<'a> {
    /// The program file.
    pub program: &'a Path,
    /// argv, including argv[0].
    pub argv: &'a [String],
    /// The whole environment of the child.
    pub env: &'a [(OsString, OsString)],
    /// Descriptors to hand over: (descriptor in this process, number in the child).
    pub fds: &'a [(RawFd, RawFd)],
}

/// Forks and executes a child with descriptors at fixed numbers, the way Postfix's master
/// does, and returns its pid. When the exec fails, `on_exec_error` runs in the child (to
/// log why) and the child exits with status 1, so the parent learns of the failure by
/// reaping it like any other child. Only for single-threaded callers.
pub fn spawn(what: &Spawn<'_>, on_exec_error: impl FnOnce(&io::Error)) -> io::Result<u32> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let cstring =
        |bytes: &[u8]| CString::new(bytes).map_err(|_| io::Error::other("NUL in argument"));
    let program = cstring(what.program.as_os_str().as_bytes())?;
    let argv = what
        .argv
        .iter()
        .map(|a| cstring(a.as_bytes()))
        .collect::<io::Result<Vec<_>>>()?;
    let env = what
        .env
        .iter()
        .map(|(k, v)| {
            let mut pair = k.as_bytes().to_vec();
            pair.push(b'=');
            pair.extend_from_slice(v.as_bytes());
            cstring(&pair)
        })
        .collect::<io::Result<Vec<_>>>()?;
    // SAFETY: the caller is single-threaded, so the child may allocate and log before it
    // execs or exits.
    match unsafe { nix::unistd::fork() }.map_err(io::Error::from)? {
        nix::unistd::ForkResult::Parent { child } => Ok(child.as_raw() as u32),
        nix::unistd::ForkResult::Child => {
            let error = match move_fds(what.fds) {
                Ok(()) => match nix::unistd::execve(&program, &argv, &env) {
                    Err(e) => io::Error::from(e),
                    Ok(never) => match never {},
                },
                Err(e) => e,
            };
            on_exec_error(&error);
            crate::exit_now(1)
        }
    }
}

/// Puts each source descriptor at its target number (without close-on-exec). Sources are
/// first moved above every target, so that one never overwrites another.
fn move_fds(fds: &[(RawFd, RawFd)]) -> io::Result<()> {
    let high = fds.iter().map(|&(_, dst)| dst).max().unwrap_or(0) + 1;
    let mut moved = Vec::with_capacity(fds.len());
    for &(src, _) in fds {
        // SAFETY: fcntl(F_DUPFD) on integer descriptors touches no memory.
        let fd = unsafe { libc::fcntl(src, libc::F_DUPFD, high) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        moved.push(fd);
    }
    for (&fd, &(_, dst)) in moved.iter().zip(fds) {
        // SAFETY: dup2 and close on integer descriptors touch no memory.
        unsafe {
            if libc::dup2(fd, dst) < 0 {
                return Err(io::Error::last_os_error());
            }
            libc::close(fd);
        }
    }
    Ok(())
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// exit(status).
    Status(i32),
    /// Killed by a signal.
    Signal(i32),
}

/// Collects one child that has ended, without waiting; None when there is none.
pub fn reap() -> Option<(u32, Exit)> {
    let mut status = 0;
    // SAFETY: waitpid writes only into `status`.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    if pid <= 0 {
        return None;
    }
    let exit = if libc::WIFSIGNALED(status) {
        Exit::Signal(libc::WTERMSIG(status))
    } else {
        Exit::Status(libc::WEXITSTATUS(status))
    };
    Some((pid as u32, exit))
}

/// Sends `signal` to process `pid`; an error means it no longer exists.
pub fn kill(pid: u32, signal: i32) -> io::Result<()> {
    // SAFETY: kill has no memory arguments.
    if unsafe { libc::kill(pid as libc::pid_t, signal) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Runs `command` with `/bin/sh -c` and waits for it, like system(3); returns its status.
pub fn system(command: &str) -> io::Result<std::process::ExitStatus> {
    Command::new("/bin/sh").arg("-c").arg(command).status()
}

/// Becomes a session leader, detached from the controlling terminal.
pub fn setsid() -> io::Result<()> {
    nix::unistd::setsid().map(|_| ()).map_err(io::Error::from)
}

/// The parent process id.
pub fn getppid() -> u32 {
    nix::unistd::getppid().as_raw() as u32
}

/// Sets or clears one bit of a descriptor's flags (F_GETFD/F_SETFD or F_GETFL/F_SETFL).
fn update_flag(fd: RawFd, get: i32, set: i32, bit: i32, on: bool) -> io::Result<()> {
    // SAFETY: fcntl on an integer descriptor touches no memory.
    unsafe {
        let flags = libc::fcntl(fd, get);
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        let flags = if on { flags | bit } else { flags & !bit };
        if libc::fcntl(fd, set, flags) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Clears or sets close-on-exec on a descriptor.
pub fn close_on_exec(fd: RawFd, on: bool) -> io::Result<()> {
    update_flag(fd, libc::F_GETFD, libc::F_SETFD, libc::FD_CLOEXEC, on)
}

/// Sets or clears O_NONBLOCK.
pub fn non_blocking(fd: RawFd, on: bool) -> io::Result<()> {
    update_flag(fd, libc::F_GETFL, libc::F_SETFL, libc::O_NONBLOCK, on)
}

/// Reads from a UNIX-domain stream socket, waiting in poll() when nothing has arrived. A
/// read blocked on a UNIX socket also wakes each time the peer takes in what this side
/// sent (the kernel's write-space wakeup does not say what it is for), finds nothing and
/// sleeps again: a wasted switch whenever the peer reads our words while we already wait
/// for its answer (qmgr reading discard's status, cleanup reading smtpd's message).
/// poll() wakes only for input, as Postfix's timed reads (poll, then read) do. The wait
/// is bounded by the socket's read timeout, and ends as that timeout did (EAGAIN).
pub fn read_polled(socket: &std::os::unix::net::UnixStream, buf: &mut [u8]) -> io::Result<usize> {
    use io::Read;
    use nix::errno::Errno;
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use nix::sys::socket::{MsgFlags, recv};
    use std::os::fd::{AsFd, AsRawFd};
    match recv(socket.as_raw_fd(), buf, MsgFlags::MSG_DONTWAIT) {
        Err(Errno::EAGAIN) => {}
        done => return done.map_err(io::Error::from),
    }
    let wait = match socket.read_timeout()? {
        Some(limit) => PollTimeout::try_from(limit).unwrap_or(PollTimeout::MAX),
        None => PollTimeout::NONE,
    };
    let mut fds = [PollFd::new(socket.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, wait) {
        Ok(0) => Err(io::Error::from(Errno::EAGAIN)),
        Ok(_) => (&*socket).read(buf),
        Err(errno) => Err(io::Error::from(errno)),
    }
}

/// Whether descriptor `fd` is open.
pub fn is_open(fd: RawFd) -> bool {
    // SAFETY: fcntl(F_GETFD) only inspects the descriptor table.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// Writes all of `bytes` to a raw descriptor (used for the status pipe and tests).
pub fn write_fd(fd: RawFd, bytes: &[u8]) -> io::Result<usize> {
    // SAFETY: the pointer and length describe `bytes`.
    let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// Reads from a raw descriptor into `buf`.
pub fn read_fd(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: the pointer and length describe `buf`, which is writable.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

/// How many bytes are waiting to be read on a pipe or socket (FIONREAD).
pub fn bytes_waiting(fd: RawFd) -> io::Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the pointer, which points at `n`.
    if unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n.max(0) as usize)
}

/// Closes a raw descriptor that no Rust object owns.
pub fn close_fd(fd: RawFd) {
    // SAFETY: closing an integer descriptor; the caller owns it.
    unsafe {
        libc::close(fd);
    }
}

/// Borrows a descriptor inherited from the parent that stays open for the life of the
/// process (the master's status and listen descriptors).
pub fn inherited(fd: RawFd) -> std::os::fd::BorrowedFd<'static> {
    // SAFETY: callers only pass descriptors that the process never closes.
    unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) }
}

/// Takes ownership of a descriptor a system call just returned.
pub fn own(fd: RawFd) -> std::os::fd::OwnedFd {
    // SAFETY: callers pass a fresh descriptor that no other object owns.
    unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) }
}

/// Forks; the parent waits (up to `timeout`) for the child to report that it finished
/// starting, then exits 0, or 1 when the child failed first. The child gets the descriptor
/// to report on. This is Postfix's `master -w`.
pub fn fork_and_wait_for_child(timeout: std::time::Duration) -> io::Result<std::os::fd::OwnedFd> {
    let (read, write) = nix::unistd::pipe().map_err(io::Error::from)?;
    // SAFETY: the caller is single-threaded (the master at start-up), so the child may run
    // arbitrary code after fork.
    match unsafe { nix::unistd::fork() }.map_err(io::Error::from)? {
        nix::unistd::ForkResult::Child => {
            drop(read);
            Ok(write)
        }
        nix::unistd::ForkResult::Parent { .. } => {
            drop(write);
            let mut fds = [nix::poll::PollFd::new(
                std::os::fd::AsFd::as_fd(&read),
                nix::poll::PollFlags::POLLIN,
            )];
            let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
            let ready = nix::poll::poll(
                &mut fds,
                nix::poll::PollTimeout::try_from(millis).unwrap_or(nix::poll::PollTimeout::MAX),
            );
            let mut byte = [0u8; 1];
            let got = matches!(ready, Ok(n) if n > 0)
                && matches!(nix::unistd::read(&read, &mut byte), Ok(1));
            std::process::exit(if got { 0 } else { 1 });
        }
    }
}

/// Makes descriptors 0, 1 and 2 (except 1 when `keep_stdout`) point to /dev/null.
pub fn null_stdio(keep_stdout: bool) -> io::Result<()> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    let raw = std::os::fd::AsRawFd::as_raw_fd(&null);
    for fd in 0..3 {
        if fd == 1 && keep_stdout {
            continue;
        }
        // SAFETY: dup2 onto the standard descriptors; `null` stays open during the call.
        if unsafe { libc::dup2(raw, fd) } < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Sends `signal` to this process's group.
pub fn kill_group(signal: i32) -> io::Result<()> {
    // SAFETY: kill has no memory arguments; 0 means our own process group.
    if unsafe { libc::kill(0, signal) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether this process leads its process group.
pub fn is_group_leader() -> bool {
    nix::unistd::getpgrp() == nix::unistd::getpid()
}

/// Ends the process by `signal` with its default action (after cleanup, as Postfix's
/// master does on SIGTERM).
pub fn die_by(signal: i32) -> ! {
    crate::signals::default_action(signal);
    let _ = kill(std::process::id(), signal);
    std::thread::sleep(std::time::Duration::from_secs(1));
    std::process::exit(1)
}
