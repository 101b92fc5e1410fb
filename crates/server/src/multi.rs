//! The multi-client server: one process serves many client connections at once.
//!
//! Postfix counterpart: `master/multi_server.c` (anvil, trivial-rewrite, proxymap,
//! verify, scache). Clients keep their connection open and send request after request; the
//! process tells the master it is busy for the length of each request. It exits after
//! `max_idle` seconds without any client, after `max_use` clients have come and gone, or
//! when the master goes away.

use crate::Daemon;
use crate::master_proto::{self, AVAIL, LISTEN_FD, STATUS_FD, TAKEN};
use crate::single::{Stream, accept};
use std::io::BufReader;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::{Duration, Instant};
use sys::nix::poll::{PollFd, PollFlags, poll};

/// One client connection.
pub struct Client {
    /// A number that identifies the connection for as long as the process lives.
    pub id: u64,
    /// The connection, buffered for reading; write replies through `get_mut()`.
    pub io: BufReader<Stream>,
}

impl Client {
    /// Sends one attribute list (a reply, or the protocol announcement Postfix's services
    /// send to each new client); false when the client is gone.
    pub fn send(&mut self, flavor: ipc::Flavor, attrs: &ipc::Attrs) -> bool {
        ipc::attr::write(self.io.get_mut(), flavor, attrs).is_ok()
    }

    /// Reads one request; None at end of input or on a protocol error.
    pub fn receive(&mut self, flavor: ipc::Flavor) -> Option<ipc::Attrs> {
        ipc::attr::read(&mut self.io, flavor).ok().flatten()
    }
}

/// What a multi-client daemon does.
pub trait Service {
    /// A client connected (e.g. announce the protocol).
    fn connected(&mut self, _daemon: &mut Daemon, _client: &mut Client) {}

    /// Handles one request; returns false to drop the client (end of input or error).
    fn request(&mut self, daemon: &mut Daemon, client: &mut Client) -> bool;

    /// A client went away.
    fn disconnected(&mut self, _daemon: &mut Daemon, _client: &Client) {}

    /// Periodic work; returns how long until it wants to run again.
    fn tick(&mut self, _daemon: &mut Daemon) -> Option<Duration> {
        None
    }

    /// The process is about to exit.
    fn exiting(&mut self, _daemon: &mut Daemon) {}
}

fn stream_fd(stream: &Stream) -> RawFd {
    match stream {
        Stream::Tcp(s) => s.as_raw_fd(),
        Stream::Unix(s) => s.as_raw_fd(),
        Stream::Stdio(i, _) => i.as_fd().as_raw_fd(),
        Stream::Passed { socket, .. } => socket.as_raw_fd(),
    }
}

/// What happened while waiting.
enum Event {
    MasterGone,
    Accept(RawFd),
    Client(usize),
    Timeout,
}

/// Serves clients until the process has done its share, then exits.
pub fn serve(mut daemon: Daemon, mut service: impl Service) -> ! {
    let mut clients: Vec<Client> = Vec::new();
    let mut next_id = 0u64;
    let mut use_count = 0u64;
    let mut idle_since = Instant::now();
    let mut next_tick = service.tick(&mut daemon).map(|d| Instant::now() + d);
    daemon.create_watchdog(daemon.daemon_timeout);
    loop {
        sys::watchdog::start();
        let accepting = daemon.max_use == 0 || use_count < daemon.max_use;
        if !accepting && clients.is_empty() {
            break;
        }
        let now = Instant::now();
        if clients.is_empty()
            && daemon.max_idle > 0
            && now.duration_since(idle_since) >= Duration::from_secs(daemon.max_idle)
        {
            if log::verbose() > 0 {
                log::msg_info!("idle timeout -- exiting");
            }
            break;
        }
        if next_tick.is_some_and(|t| t <= now) {
            next_tick = service.tick(&mut daemon).map(|d| now + d);
        }
        let mut deadline: Option<Instant> = next_tick;
        if clients.is_empty() && daemon.max_idle > 0 {
            let idle_end = idle_since + Duration::from_secs(daemon.max_idle);
            deadline = Some(deadline.map_or(idle_end, |d| d.min(idle_end)));
        }
        // A request may already sit in a client's buffer: serve it without waiting.
        let buffered = clients.iter().position(|c| !c.io.buffer().is_empty());
        let event = match buffered {
            Some(i) => Event::Client(i),
            None => wait(&daemon, &clients, accepting, deadline),
        };
        match event {
            Event::MasterGone => {
                if log::verbose() > 0 {
                    log::msg_info!("master disconnect -- exiting");
                }
                break;
            }
            Event::Timeout => {}
            Event::Accept(fd) => {
                let Some(stream) = accept(&daemon, fd) else {
                    continue;
                };
                next_id += 1;
                if log::verbose() > 0 {
                    log::msg_info!("connection established fd {}", stream_fd(&stream));
                }
                let mut client = Client {
                    id: next_id,
                    io: BufReader::new(stream),
                };
                service.connected(&mut daemon, &mut client);
                clients.push(client);
            }
            Event::Client(i) => {
                master_proto::notify(daemon.generation, TAKEN);
                let keep = service.request(&mut daemon, &mut clients[i]);
                if !master_proto::notify(daemon.generation, AVAIL) {
                    break;
                }
                if !keep {
                    let client = clients.swap_remove(i);
                    if log::verbose() > 0 {
                        log::msg_info!("connection closed fd {}", stream_fd(client.io.get_ref()));
                    }
                    service.disconnected(&mut daemon, &client);
                    use_count += 1;
                    if clients.is_empty() {
                        idle_since = Instant::now();
                    }
                }
            }
        }
    }
    service.exiting(&mut daemon);
    crate::single::exit()
}

fn wait(daemon: &Daemon, clients: &[Client], accepting: bool, deadline: Option<Instant>) -> Event {
    let status = sys::process::inherited(STATUS_FD);
    let mut fds = vec![PollFd::new(status, PollFlags::POLLIN)];
    let listen_count = if accepting { daemon.socket_count } else { 0 };
    for n in 0..listen_count {
        fds.push(PollFd::new(
            sys::process::inherited(LISTEN_FD + n as RawFd),
            PollFlags::POLLIN,
        ));
    }
    for client in clients {
        fds.push(PollFd::new(
            sys::process::inherited(stream_fd(client.io.get_ref())),
            PollFlags::POLLIN,
        ));
    }
    let timeout = crate::event_loop::poll_timeout(deadline);
    match poll(&mut fds, timeout) {
        Ok(0) => return Event::Timeout,
        Ok(_) => {}
        Err(sys::nix::errno::Errno::EINTR) => return Event::Timeout,
        Err(e) => log::msg_fatal!("poll: {e}"),
    }
    let ready = |f: &PollFd<'_>| f.revents().is_some_and(|r| !r.is_empty());
    if ready(&fds[0]) {
        return Event::MasterGone;
    }
    if let Some(n) = fds[1..1 + listen_count].iter().position(ready) {
        return Event::Accept(LISTEN_FD + n as RawFd);
    }
    match fds[1 + listen_count..].iter().position(ready) {
        Some(i) => Event::Client(i),
        None => Event::Timeout,
    }
}
