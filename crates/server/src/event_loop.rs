//! The waits shared by the serve loops: for a listen descriptor to become ready, for the
//! master to go away, or for `max_idle` to pass; and the epoll(7) set the multi-client and
//! event servers keep their clients' descriptors in.
//!
//! Postfix counterpart: the parts of `util/events.c` the skeletons use.

use crate::master_proto::{LISTEN_FD, STATUS_FD};
use std::os::fd::RawFd;
use std::time::{Duration, Instant};
use sys::nix::errno::Errno;
use sys::nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use sys::nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};

/// What woke the daemon up.
pub enum Wake {
    /// This listen descriptor is ready.
    Ready(RawFd),
    /// The master closed its end of the status channel.
    MasterGone,
    /// Nobody came for max_idle seconds.
    Idle,
}

/// Waits for the first of: a ready listen socket, the master's departure, the idle limit
/// (0 = none).
pub fn wait(socket_count: usize, max_idle: u64) -> Wake {
    let deadline = (max_idle > 0).then(|| Instant::now() + Duration::from_secs(max_idle));
    loop {
        if deadline.is_some_and(|d| d <= Instant::now()) {
            return Wake::Idle;
        }
        let timeout = poll_timeout(deadline);
        // The descriptors were inherited from the master and stay open for the life of
        // the process.
        let status = sys::process::inherited(STATUS_FD);
        let mut fds = vec![PollFd::new(status, PollFlags::POLLIN)];
        for i in 0..socket_count {
            fds.push(PollFd::new(
                sys::process::inherited(LISTEN_FD + i as RawFd),
                PollFlags::POLLIN,
            ));
        }
        match poll(&mut fds, timeout) {
            Ok(0) => continue,
            Ok(_) => {}
            // The watchdog's alarm: waiting is not being stuck, so the limit starts over
            // (Postfix's event loop returns on the alarm and restarts it the same way).
            Err(Errno::EINTR) => {
                sys::watchdog::start();
                continue;
            }
            Err(e) => log::msg_fatal!("poll: {e}"),
        }
        let ready = |f: &PollFd<'_>| f.revents().is_some_and(|r| !r.is_empty());
        if ready(&fds[0]) {
            return Wake::MasterGone;
        }
        if let Some(i) = fds[1..].iter().position(ready) {
            return Wake::Ready(LISTEN_FD + i as RawFd);
        }
    }
}

/// The poll(2) timeout that ends at `deadline` (None: wait indefinitely).
pub(crate) fn poll_timeout(deadline: Option<Instant>) -> PollTimeout {
    match deadline {
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)
        }
        None => PollTimeout::NONE,
    }
}

/// What a registered descriptor is watched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Readable, at end of file, or in error.
    Read,
    /// Writable (or in error).
    Write,
}

/// How many ready descriptors one wait reports at most; the rest wait for the next call
/// (epoll hands them out in turn, so none starves).
const BATCH: usize = 64;

/// An epoll(7) set: each descriptor is registered once, with a number to report when it is
/// ready, so that a wait costs the same however many clients are connected (poll(2)
/// looks at every descriptor on every call). Postfix's `events.c` uses epoll on Linux the
/// same way: level-triggered, one registration per descriptor.
pub struct Poller {
    epoll: Epoll,
    ready: Vec<EpollEvent>,
}

impl Default for Poller {
    fn default() -> Poller {
        Poller::new()
    }
}

impl Poller {
    /// A new, empty set; closed on exec, so that no program a daemon runs inherits it.
    pub fn new() -> Poller {
        match Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC) {
            Ok(epoll) => Poller {
                epoll,
                ready: vec![EpollEvent::empty(); BATCH],
            },
            Err(e) => log::msg_fatal!("epoll_create: {}", e.desc()),
        }
    }

    fn event(interest: Interest, data: u64) -> EpollEvent {
        let flags = match interest {
            Interest::Read => EpollFlags::EPOLLIN,
            Interest::Write => EpollFlags::EPOLLOUT,
        };
        EpollEvent::new(flags, data)
    }

    /// Reports `data` whenever `fd` is ready for `interest`, until [`Poller::delete`]. The
    /// caller keeps `fd` open while it is registered.
    pub fn add(&self, fd: RawFd, interest: Interest, data: u64) {
        let event = Self::event(interest, data);
        if let Err(e) = self.epoll.add(sys::process::inherited(fd), event) {
            log::msg_fatal!("epoll_ctl EPOLL_CTL_ADD fd {fd}: {}", e.desc());
        }
    }

    /// Changes what `fd` is watched for; registers it when it is not (closing a
    /// descriptor takes it out of the set).
    pub fn modify(&self, fd: RawFd, interest: Interest, data: u64) {
        let mut event = Self::event(interest, data);
        match self.epoll.modify(sys::process::inherited(fd), &mut event) {
            Ok(()) => {}
            Err(Errno::ENOENT) => self.add(fd, interest, data),
            Err(e) => log::msg_fatal!("epoll_ctl EPOLL_CTL_MOD fd {fd}: {}", e.desc()),
        }
    }

    /// Stops watching `fd`. A descriptor that was already closed has left the set by
    /// itself, so that is not an error.
    pub fn delete(&self, fd: RawFd) {
        match self.epoll.delete(sys::process::inherited(fd)) {
            Ok(()) | Err(Errno::ENOENT | Errno::EBADF) => {}
            Err(e) => log::msg_fatal!("epoll_ctl EPOLL_CTL_DEL fd {fd}: {}", e.desc()),
        }
    }

    /// Waits until a registered descriptor is ready or `deadline` (None: indefinitely)
    /// passes; returns the numbers of the ready ones, none after a timeout or a signal
    /// (the watchdog's alarm).
    pub fn wait(&mut self, deadline: Option<Instant>) -> impl Iterator<Item = u64> + '_ {
        let count = match self.epoll.wait(&mut self.ready, poll_timeout(deadline)) {
            Ok(n) => n,
            Err(Errno::EINTR) => 0,
            Err(e) => log::msg_fatal!("epoll_wait: {}", e.desc()),
        };
        self.ready[..count].iter().map(EpollEvent::data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    fn soon() -> Option<Instant> {
        Some(Instant::now() + Duration::from_millis(50))
    }

    #[test]
    fn reports_registered_descriptors_until_deleted() {
        let mut poller = Poller::new();
        let (mut a, b) = UnixStream::pair().unwrap();
        let (_c, d) = UnixStream::pair().unwrap();
        poller.add(b.as_raw_fd(), Interest::Read, 7);
        poller.add(d.as_raw_fd(), Interest::Read, 9);
        assert_eq!(poller.wait(soon()).count(), 0, "nothing to read yet");
        a.write_all(b"x").unwrap();
        // Level-triggered: unread input is reported again by the next wait.
        assert_eq!(poller.wait(soon()).collect::<Vec<_>>(), [7]);
        assert_eq!(poller.wait(soon()).collect::<Vec<_>>(), [7]);
        poller.delete(b.as_raw_fd());
        assert_eq!(poller.wait(soon()).count(), 0);
    }

    #[test]
    fn modify_switches_direction_and_registers_closed_descriptors_anew() {
        let mut poller = Poller::new();
        let (_a, b) = UnixStream::pair().unwrap();
        poller.add(b.as_raw_fd(), Interest::Read, 1);
        assert_eq!(poller.wait(soon()).count(), 0);
        poller.modify(b.as_raw_fd(), Interest::Write, 2);
        assert_eq!(poller.wait(soon()).collect::<Vec<_>>(), [2]);
        // Closing takes a descriptor out of the set; the next one with its number is
        // not in it, and modify adds it.
        let fd = b.as_raw_fd();
        drop(b);
        poller.delete(fd);
        let (_e, f) = UnixStream::pair().unwrap();
        poller.modify(f.as_raw_fd(), Interest::Write, 3);
        assert_eq!(poller.wait(soon()).collect::<Vec<_>>(), [3]);
    }
}
