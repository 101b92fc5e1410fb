//! The event-driven server: one process juggles many clients, each waiting on its own
//! descriptors and timers.
//!
//! Postfix counterpart: `master/event_server.c` with the parts of `util/events.c` it
//! offers its daemons (postscreen, tlsproxy). The skeleton accepts a client (from an inet,
//! unix or `pass` endpoint), tells the master it is busy while the service takes it on,
//! and from then on the service drives the client through [`Events`]: it asks to hear when
//! a descriptor is readable or writable, or when a timer runs out, and says
//! [`Events::disconnect`] when it is done with a client. The process exits once
//! `max_use` clients have come and gone and none is left, after `max_idle` seconds without clients, or when
//! the master goes away; a service may instead drain (stop accepting, finish its
//! clients), as postscreen does after `postfix reload`.

use crate::Daemon;
use crate::event_loop::{Interest, Poller};
use crate::master_proto::{self, AVAIL, LISTEN_FD, STATUS_FD, TAKEN};
use crate::single::{Stream, accept};
use std::collections::BTreeMap;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

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
pub struct Events {
    /// Watched descriptors: what for, and the token to report.
    watched: BTreeMap<RawFd, (Ready, Token)>,
    /// The same descriptors, registered with epoll (each reported by its number), and
    /// the master's status and listen descriptors while the loop waits for them.
    poller: Poller,
    /// Timers by token.
    timers: BTreeMap<Token, Instant>,
    /// Clients accepted and not yet disconnected.
    clients: usize,
    /// Clients that have come and gone.
    used: u64,
}

impl Events {
    fn new() -> Events {
        Events {
            watched: BTreeMap::new(),
            poller: Poller::new(),
            timers: BTreeMap::new(),
            clients: 0,
            used: 0,
        }
    }

    /// Reports `token` when `fd` becomes readable; replaces an earlier request for `fd`.
    pub fn enable_read(&mut self, fd: RawFd, token: Token) {
        self.enable(fd, Ready::Read, token);
    }

    /// Reports `token` when `fd` becomes writable; replaces an earlier request for `fd`.
    pub fn enable_write(&mut self, fd: RawFd, token: Token) {
        self.enable(fd, Ready::Write, token);
    }

    /// Watches `fd`; a system call only when it was not watched or watched for the
    /// other direction (as Postfix's `event_enable_read`/`_write`), so the service must
    /// [`Events::disable`] a descriptor before it closes it.
    fn enable(&mut self, fd: RawFd, what: Ready, token: Token) {
        let interest = if what == Ready::Write {
            Interest::Write
        } else {
            Interest::Read
        };
        match self.watched.insert(fd, (what, token)) {
            None => self.poller.add(fd, interest, fd as u64),
            Some((was, _)) if was != what => self.poller.modify(fd, interest, fd as u64),
            Some(_) => {}
        }
    }

    /// Stops watching `fd`.
    pub fn disable(&mut self, fd: RawFd) {
        if self.watched.remove(&fd).is_some() {
            self.poller.delete(fd);
        }
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
    let mut events = Events::new();
    let mut draining = false;
    // Whether the status and listen descriptors are in the epoll set: taken out when
    // the loop stops waiting for them (draining, max_use), as they would stay ready.
    let mut master_watched = false;
    let mut listening = false;
    let listen: Vec<RawFd> = (0..daemon.socket_count)
        .map(|n| LISTEN_FD + n as RawFd)
        .collect();
    // When the last client left (or the process started); None while clients remain.
    let mut idle_since = Some(Instant::now());
    daemon.create_watchdog(crate::WATCHDOG_DEFAULT);
    'serve: loop {
        // Past max_use the process still accepts until its last client leaves, as
        // Postfix's does: the master counts it as available and starts no other.
        let used_up = daemon.max_use > 0 && events.used >= daemon.max_use;
        if (draining || used_up) && events.clients == 0 {
            break;
        }
        let accepting = !draining;
        if accepting {
            daemon.lock_accept();
        } else {
            sys::watchdog::start();
        }
        watch(&events.poller, &[STATUS_FD], &mut master_watched, !draining);
        watch(&events.poller, &listen, &mut listening, accepting);
        for wake in wait(&daemon, &mut events, idle_since) {
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
                // The service may have changed its mind since the wait.
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

/// Adds `fds` to the epoll set or takes them out, when `want` differs from `watched`.
fn watch(poller: &Poller, fds: &[RawFd], watched: &mut bool, want: bool) {
    if *watched == want {
        return;
    }
    for &fd in fds {
        if want {
            poller.add(fd, Interest::Read, fd as u64);
        } else {
            poller.delete(fd);
        }
    }
    *watched = want;
}

/// Waits for events: everything ready after one wait, or the first timer due.
fn wait(daemon: &Daemon, events: &mut Events, idle_since: Option<Instant>) -> Vec<Wake> {
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
    let listen = LISTEN_FD..LISTEN_FD + daemon.socket_count as RawFd;
    let watched = &events.watched;
    // Only what is in the set is reported: the status descriptor while the master is
    // watched, the listen descriptors while accepting.
    let mut wakes: Vec<Wake> = events
        .poller
        .wait(deadline)
        .filter_map(|data| {
            let fd = data as RawFd;
            if fd == STATUS_FD {
                Some(Wake::MasterGone)
            } else if listen.contains(&fd) {
                Some(Wake::Accept(fd))
            } else {
                let &(ready, token) = watched.get(&fd)?;
                Some(Wake::Client(fd, token, ready))
            }
        })
        .collect();
    // The master's departure first, then new clients, then the others: the order the
    // skeleton has always handled them in.
    wakes.sort_by_key(|w| match w {
        Wake::MasterGone => 0,
        Wake::Accept(_) => 1,
        _ => 2,
    });
    wakes
}
