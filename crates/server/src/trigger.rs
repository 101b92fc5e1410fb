//! The trigger server: wakes up on a short request and does its job.
//!
//! Postfix counterpart: `master/trigger_server.c` (pickup, qmgr). A trigger is a few bytes
//! (`W` for "wake up", `A` for "scan everything"...) written into the service's FIFO, sent
//! over a short UNIX-socket connection, or, for a `pass` service, sent through a passed
//! descriptor. The daemon reads at most one buffer of it, tells the master it is busy,
//! runs the service, and tells the master it is free again. The master's wakeup column
//! sends these periodically. The watchdog defaults to 1000 seconds, or the daemon's own
//! limit.
//!
//! [`serve`] is the whole loop (pickup). [`Triggers`] is the endpoint for a daemon that
//! runs its own event loop (qmgr), as Postfix's trigger_server calls its `loop` callback
//! and then serves the trigger socket from the same event loop as the daemon's other
//! descriptors.

use crate::Daemon;
use crate::event_loop::{self, Wake};
use crate::master_proto::{self, AVAIL, LISTEN_FD, STATUS_FD, TAKEN};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// The most trigger bytes read at once (Postfix's `TRIGGER_BUF_SIZE`).
const TRIGGER_BUF_SIZE: usize = 1024;
/// How long a connected client may take to send its trigger.
const TRIGGER_READ_WAIT: Duration = Duration::from_secs(10);

/// How triggers arrive.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Fifo,
    Unix,
    Pass,
}

/// Serves triggers until max_use, max_idle or the master's departure, then exits.
pub fn serve(mut daemon: Daemon, mut service: impl FnMut(&mut Daemon, &[u8])) -> ! {
    let mut triggers = Triggers::new(&mut daemon, &mut service);
    while daemon.max_use == 0 || triggers.use_count < daemon.max_use {
        daemon.lock_accept();
        let listen = match event_loop::wait(daemon.socket_count, daemon.max_idle) {
            Wake::MasterGone => master_gone(),
            Wake::Idle => idle_timeout(),
            Wake::Ready(fd) => fd,
        };
        if arrived(
            &mut daemon,
            triggers.endpoint,
            listen,
            &mut triggers.buf,
            &mut service,
        ) {
            triggers.use_count += 1;
        }
    }
    crate::single::exit()
}

/// A trigger service whose daemon runs its own event loop, in which the trigger
/// endpoint is one more descriptor (Postfix's trigger_server with a `loop` callback, as
/// qmgr uses it): the daemon polls [`Triggers::fds`] with its other descriptors, calls
/// [`Triggers::before_wait`] before each wait and bounds the wait by
/// [`Triggers::deadline`], and hands every ready one to [`Triggers::ready`]. No thread
/// is woken per trigger, and the service runs where the daemon's state is.
pub struct Triggers {
    endpoint: Endpoint,
    buf: [u8; TRIGGER_BUF_SIZE],
    use_count: u64,
    /// When max_idle runs out without a trigger (None: no idle limit).
    idle_until: Option<Instant>,
}

impl Triggers {
    /// Sets up the trigger service of `daemon` and its watchdog. A daemon started with
    /// `-S` (a trigger on standard input) serves that one trigger and exits here.
    pub fn new(daemon: &mut Daemon, service: &mut impl FnMut(&mut Daemon, &[u8])) -> Triggers {
        let mut buf = [0u8; TRIGGER_BUF_SIZE];
        if daemon.stdin_stream {
            match sys::process::read_fd(0, &mut buf) {
                Ok(n) if n > 0 => service(daemon, &buf[..n]),
                Ok(_) => log::msg_fatal!("read: end of file"),
                Err(e) => log::msg_fatal!("read: {}", sys::os_error(&e)),
            }
            crate::single::exit();
        }
        let endpoint = match daemon.transport.as_deref().map(str::to_ascii_lowercase) {
            Some(t) if t == "fifo" => Endpoint::Fifo,
            Some(t) if t == "unix" => Endpoint::Unix,
            Some(t) if t == "pass" => Endpoint::Pass,
            _ => log::msg_fatal!(
                "unsupported transport type: {}",
                daemon.transport.as_deref().unwrap_or("")
            ),
        };
        daemon.create_watchdog(crate::WATCHDOG_DEFAULT);
        // Armed once; each turn of the loop then pats it (before_wait).
        sys::watchdog::start();
        Triggers {
            endpoint,
            buf,
            use_count: 0,
            idle_until: idle_deadline(daemon),
        }
    }

    /// The descriptors to poll for reading: the master's status channel (readable when
    /// the master went away) and the listen descriptors.
    pub fn fds(&self, daemon: &Daemon) -> impl Iterator<Item = BorrowedFd<'static>> {
        let listen = LISTEN_FD..LISTEN_FD + daemon.socket_count as RawFd;
        std::iter::once(STATUS_FD)
            .chain(listen)
            .map(sys::process::inherited)
    }

    /// Called once per turn of the daemon's loop, before it waits: takes the accept lock
    /// when other processes share the endpoint, and restarts the watchdog (waiting is not
    /// being stuck); exits when the idle limit has passed.
    pub fn before_wait(&self, daemon: &Daemon) {
        if self.idle_until.is_some_and(|t| t <= Instant::now()) {
            idle_timeout();
        }
        if daemon.lock.is_some() {
            daemon.lock_accept();
        } else {
            // No lock to wait for: the trip count starts over, without an alarm(2) per
            // turn of a loop that turns several times per message.
            sys::watchdog::pat();
        }
    }

    /// When the daemon must be back from its wait for the idle limit (None: none).
    pub fn deadline(&self) -> Option<Instant> {
        self.idle_until
    }

    /// One of [`Triggers::fds`] was ready: the master went away (exit), or a trigger
    /// arrived, which is read and served with the master told we are busy. Exits once
    /// max_use triggers were served.
    pub fn ready(
        &mut self,
        daemon: &mut Daemon,
        fd: BorrowedFd<'_>,
        mut service: impl FnMut(&mut Daemon, &[u8]),
    ) {
        let fd = fd.as_raw_fd();
        if fd == STATUS_FD {
            master_gone();
        }
        if arrived(daemon, self.endpoint, fd, &mut self.buf, &mut service) {
            self.use_count += 1;
            self.idle_until = idle_deadline(daemon);
            if daemon.max_use > 0 && self.use_count >= daemon.max_use {
                crate::single::exit();
            }
        }
    }
}

/// When max_idle seconds from now end (None: no idle limit).
fn idle_deadline(daemon: &Daemon) -> Option<Instant> {
    (daemon.max_idle > 0).then(|| Instant::now() + Duration::from_secs(daemon.max_idle))
}

fn master_gone() -> ! {
    if log::verbose() > 0 {
        log::msg_info!("master disconnect -- exiting");
    }
    crate::single::exit();
}

fn idle_timeout() -> ! {
    if log::verbose() > 0 {
        log::msg_info!("idle timeout -- exiting");
    }
    crate::single::exit();
}

/// Listen descriptor `listen` was ready: takes the trigger and serves it. False when
/// there was none to serve (another process got it, or the client sent nothing).
fn arrived(
    daemon: &mut Daemon,
    endpoint: Endpoint,
    listen: RawFd,
    buf: &mut [u8],
    service: &mut impl FnMut(&mut Daemon, &[u8]),
) -> bool {
    let read = match endpoint {
        Endpoint::Fifo => {
            daemon.unlock_accept();
            if log::verbose() > 0 {
                log::msg_info!("trigger_server_accept_fifo: trigger arrived");
            }
            // The FIFO's read end is non-blocking: a trigger another process already
            // read leaves nothing, and that is fine.
            sys::process::read_fd(listen, buf).ok()
        }
        Endpoint::Unix | Endpoint::Pass => {
            if log::verbose() > 0 {
                let name = if endpoint == Endpoint::Unix {
                    "trigger_server_accept_local"
                } else {
                    "trigger_server_accept_pass"
                };
                log::msg_info!("{name}: trigger arrived");
            }
            accept(daemon, listen, endpoint)
                .and_then(|client| read_client(client.as_raw_fd(), endpoint == Endpoint::Pass, buf))
        }
    };
    let Some(n) = read else {
        return false;
    };
    wakeup(daemon, &buf[..n], service);
    true
}

/// Reads a client's trigger, waiting at most TRIGGER_READ_WAIT for it; None when it
/// sent nothing in time or the read failed.
fn read_client(fd: RawFd, may_block: bool, buf: &mut [u8]) -> Option<usize> {
    // A local client is non-blocking (accept4): its trigger is usually there already,
    // and reading first saves a poll(2). A passed descriptor may block: wait first.
    if !may_block {
        match sys::process::read_fd(fd, buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Ok(n) => return Some(n),
            Err(_) => return None,
        }
    }
    sys::fdpass::read_wait(fd, TRIGGER_READ_WAIT).ok()?;
    sys::process::read_fd(fd, buf).ok()
}

/// Accepts one trigger client; for `pass`, receives the descriptor it hands over. None
/// when another process got the client first, or the client sent nothing usable.
fn accept(daemon: &Daemon, listen: RawFd, endpoint: Endpoint) -> Option<OwnedFd> {
    use sys::nix::sys::socket::{SockFlag, accept4};
    // Closed on exec as Postfix's close_on_exec() makes it, in the accept itself.
    let flags = if endpoint == Endpoint::Unix {
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK
    } else {
        SockFlag::SOCK_CLOEXEC
    };
    let accepted = accept4(listen, flags);
    daemon.unlock_accept();
    let client = match accepted {
        Ok(fd) => sys::process::own(fd),
        Err(sys::nix::errno::Errno::EAGAIN) => return None,
        Err(e) => {
            if endpoint == Endpoint::Pass {
                log::msg_warn!("pass_accept: cannot accept connection: {}", e.desc());
            } else {
                log::msg_error!("accept connection: {}", e.desc());
            }
            return None;
        }
    };
    if endpoint == Endpoint::Unix {
        return Some(client);
    }
    crate::single::receive_passed(&UnixStream::from(client), "pass_accept")
}

/// Runs the service on a trigger with the master told we are busy.
fn wakeup(daemon: &mut Daemon, trigger: &[u8], service: &mut impl FnMut(&mut Daemon, &[u8])) {
    // Serve a request that was already accepted even when the master left meanwhile
    // (after "postfix reload"); stop afterwards.
    master_proto::notify(daemon.generation, TAKEN);
    service(daemon, trigger);
    log::work::clear();
    if !master_proto::notify(daemon.generation, AVAIL) {
        master_gone();
    }
}
