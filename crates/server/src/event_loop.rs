//! The wait shared by the serve loops: for a listen descriptor to become ready, for the
//! master to go away, or for `max_idle` to pass.
//!
//! Postfix counterpart: the parts of `util/events.c` the skeletons use.

use crate::master_proto::{LISTEN_FD, STATUS_FD};
use std::os::fd::RawFd;
use std::time::{Duration, Instant};
use sys::nix::poll::{PollFd, PollFlags, PollTimeout, poll};

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
            Err(sys::nix::errno::Errno::EINTR) => {
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
