//! The event-driven server: one process juggles many clients, each waiting on its own
//! descriptors and timers.
//!
//! Postfix counterpart: `master/event_server.c` with the parts of `util/events.c` it
//! offers its daemons (postscreen, tlsproxy). The skeleton accepts a client (from an inet,
//! unix or `pass` endpoint), tells the master it is busy while the service takes it on,
//! and from then on the service drives the client through [`Events`]: it asks to hear when
//! a descriptor is readable or writable, or when a timer runs out, and says
//! [`Events::disconnect`] when it is done with a client. The process exits after
//! `max_use` clients have come and gone, after `max_idle` seconds without clients, or when
//! the master goes away; a service may instead drain (stop accepting, finish its
//! clients), as postscreen does after `postfix reload`.

use crate::Daemon;
use crate::master_proto::{self, AVAIL, LISTEN_FD, STATUS_FD, TAKEN};
use crate::single::{Stream, accept};
use std::collections::BTreeMap;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};
use sys::nix::poll::{PollFd, PollFlags, poll};

/// What a service calls its clients' descriptors and timers by.
pub type Token = u64;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    /// The descriptor is readable (or at end of file, or in error).
    Read,
    /// The descriptor is writable.
    Write,
    /// The timer ran out.
    Timer,
}

/// The descriptors and timers a service is waiting on, and its client count.
#[derive(Default)]
pub struct Events {
    /// Watched descriptors: what for, and the token to report.
    watched: BTreeMap<RawFd, (Ready, Token)>,
    /// Timers by token.
    timers: BTreeMap<Token, Instant>,
    /// Clients accepted and not yet disconnected.
    clients: usize,
    /// Clients that have come and gone.
    used: u64,
}

impl Events {
    /// Reports `token` when `fd` becomes readable; replaces an earlier request for `fd`.
    pub fn enable_read(&mut self, fd: RawFd, token: Token) {
        self.watched.insert(fd, (Ready::Read, token));
    }

    /// Reports `token` when `fd` becomes writable; replaces an earlier request for `fd`.
    pub fn enable_write(&mut self, fd: RawFd, token: Token) {
        self.watched.insert(fd, (Ready::Write, token));
    }

    /// Stops watching `fd`.
    pub fn disable(&mut self, fd: RawFd) {
        self.watched.remove(&fd);
    }

    /// Reports `token` after `delay`; replaces an earlier timer with the same token.
    pub fn request_timer(&mut self, token: Token, delay: Duration) {
        self.timers.insert(token, Instant::now() + delay);
    }

    /// Cancels the timer for `token`, if any.
    pub fn cancel_timer(&mut self, token: Token) {
        self.timers.remove(&token);
    }

    /// The service is done with a client (Postfix's `event_server_disconnect`): it has
    /// closed the client's descriptors and forgotten its watches and timers.
    pub fn disconnect(&mut self) {
        self.clients = self.clients.saturating_sub(1);
        self.used += 1;
    }

    /// Clients accepted and not yet disconnected.
    pub fn clients(&self) -> usize {
        self.clients
    }

    fn next_timer(&self) -> Option<(Token, Instant)> {
        self.timers
            .iter()
            .min_by_key(|(_, at)| **at)
            .map(|(token, at)| (*token, *at))
    }
}

/// What an event-driven daemon does.
pub trait Service {
    /// A new client. `stream` is its connection (for `pass` services, the handed-over
    /// one with its attributes); the service keeps it and watches it through `events`.
    fn connected(&mut self, daemon: &mut Daemon, events: &mut Events, stream: Stream);

    /// Something the service asked for happened.
    fn ready(&mut self, daemon: &mut Daemon, events: &mut Events, token: Token, what: Ready);

    /// The master went away. Return true to drain (stop accepting, finish the current
    /// clients, then exit); the default exits at once.
    fn drain(&mut self, _daemon: &mut Daemon) -> bool {
        false
    }
}

/// What woke the loop.
enum Wake {
    MasterGone,
    Accept(RawFd),
    Client(RawFd, Token, Ready),
    Timer(Token),
    Idle,
}

/// Serves until the process has done its share, then exits.
pub fn serve(mut daemon: Daemon, mut service: impl Service) -> ! {
    if daemon.stdin_stream {
        log::msg_fatal!("the event server cannot serve standard input");
    }
    let mut events = Events::default();
    let mut draining = false;
    // When the last client left (or the process started); None while clients remain.
    let mut idle_since = Some(Instant::now());
    daemon.create_watchdog(crate::WATCHDOG_DEFAULT);
    'serve: loop {
        let accepting = !draining && (daemon.max_use == 0 || events.used < daemon.max_use);
        if !accepting && events.clients == 0 {
            break;
        }
        if accepting {
            daemon.lock_accept();
        } else {
            sys::watchdog::start();
        }
        for wake in wait(&daemon, &events, accepting, !draining, idle_since) {
            match wake {
                Wake::MasterGone => {
                    draining = service.drain(&mut daemon);
                    if log::verbose() > 0 {
                        log::msg_info!(
                            "master disconnect -- {}",
                            if draining { "draining" } else { "exiting" }
                        );
                    }
                    if !draining {
                        break 'serve;
                    }
                }
                Wake::Idle => {
                    if log::verbose() > 0 {
                        log::msg_info!("idle timeout -- exiting");
                    }
                    break 'serve;
                }
                Wake::Accept(fd) if !draining => {
                    let Some(stream) = accept(&daemon, fd) else {
                        continue;
                    };
                    events.clients += 1;
                    if log::verbose() > 0 {
                        log::msg_info!("connection established");
                    }
                    master_proto::notify(daemon.generation, TAKEN);
                    service.connected(&mut daemon, &mut events, stream);
                    master_proto::notify(daemon.generation, AVAIL);
                }
                Wake::Accept(_) => daemon.unlock_accept(),
                // The service may have changed its mind since the poll.
                Wake::Client(fd, token, what) => {
                    if events.watched.get(&fd) == Some(&(what, token)) {
                        service.ready(&mut daemon, &mut events, token, what);
                    }
                }
                Wake::Timer(token) => {
                    events.timers.remove(&token);
                    service.ready(&mut daemon, &mut events, token, Ready::Timer);
                }
            }
        }
        if events.clients > 0 {
            idle_since = None;
        } else if idle_since.is_none() {
            idle_since = Some(Instant::now());
        }
    }
    crate::single::exit()
}

/// Waits for events: everything ready after one poll, or the first timer due.
fn wait(
    daemon: &Daemon,
    events: &Events,
    accepting: bool,
    watch_master: bool,
    idle_since: Option<Instant>,
) -> Vec<Wake> {
    let now = Instant::now();
    let timer = events.next_timer();
    if let Some((token, at)) = timer
        && at <= now
    {
        return vec![Wake::Timer(token)];
    }
    let idle_end = idle_since
        .filter(|_| daemon.max_idle > 0)
        .map(|since| since + Duration::from_secs(daemon.max_idle));
    if idle_end.is_some_and(|end| end <= now) {
        return vec![Wake::Idle];
    }
    let deadline = match (timer.map(|(_, at)| at), idle_end) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let mut fds = Vec::new();
    let mut what: Vec<Wake> = Vec::new();
    if watch_master {
        fds.push(PollFd::new(
            sys::process::inherited(STATUS_FD),
            PollFlags::POLLIN,
        ));
        what.push(Wake::MasterGone);
    }
    if accepting {
        for n in 0..daemon.socket_count {
            let fd = LISTEN_FD + n as RawFd;
            fds.push(PollFd::new(sys::process::inherited(fd), PollFlags::POLLIN));
            what.push(Wake::Accept(fd));
        }
    }
    for (&fd, &(ready, token)) in &events.watched {
        let flags = if ready == Ready::Write {
            PollFlags::POLLOUT
        } else {
            PollFlags::POLLIN
        };
        // The service keeps watched descriptors open until it disables them.
        fds.push(PollFd::new(sys::process::inherited(fd), flags));
        what.push(Wake::Client(fd, token, ready));
    }
    let timeout = crate::event_loop::poll_timeout(deadline);
    match poll(&mut fds, timeout) {
        Ok(0) | Err(sys::nix::errno::Errno::EINTR) => return Vec::new(),
        Ok(_) => {}
        Err(e) => log::msg_fatal!("poll: {e}"),
    }
    let ready: Vec<bool> = fds
        .iter()
        .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
        .collect();
    what.into_iter()
        .zip(ready)
        .filter_map(|(wake, ready)| ready.then_some(wake))
        .collect()
}
