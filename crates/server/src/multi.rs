//! The multi-client server: one process serves many client connections at once.
//!
//! Postfix counterpart: `master/multi_server.c` (anvil, trivial-rewrite, proxymap,
//! verify, scache). Clients keep their connection open and send request after request; the
//! process tells the master it is busy for the length of each request. It exits after
//! `max_idle` seconds without any client, once `max_use` clients have come and gone and
//! none is left, or when the master goes away. Until it exits it keeps accepting, as
//! Postfix's does: the master counts it as available, so a process that stopped listening
//! while long-lived clients (smtpd's, cleanup's) stay would leave new clients queued,
//! unanswered, until the last of those leaves.

use crate::Daemon;
use crate::event_loop::{Interest, Poller};
use crate::master_proto::{self, AVAIL, LISTEN_FD, STATUS_FD, TAKEN};
use crate::single::{Stream, accept};
use std::collections::{HashMap, VecDeque};
use std::io::BufReader;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::{Duration, Instant};

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

    /// Announces the service's protocol (the `protocol` attribute), as Postfix's
    /// services greet each new client; false when the client is gone.
    pub fn announce(&mut self, flavor: ipc::Flavor, protocol: &str) -> bool {
        self.send(
            flavor,
            &ipc::Attrs::new().str(ipc::mail_attr::PROTO, protocol),
        )
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

/// The epoll number of the master's status descriptor; listen descriptors count down from
/// below it, clients are numbered up from 1.
const STATUS_DATA: u64 = u64::MAX;

fn listen_data(n: usize) -> u64 {
    STATUS_DATA - 1 - n as u64
}

/// Which listen descriptor `data` stands for, if it stands for one.
fn listen_index(data: u64, socket_count: usize) -> Option<usize> {
    let n = usize::try_from((STATUS_DATA - 1).checked_sub(data)?).ok()?;
    (n < socket_count).then_some(n)
}

/// Serves clients until the process has done its share, then exits.
pub fn serve(mut daemon: Daemon, mut service: impl Service) -> ! {
    let mut clients: HashMap<u64, Client> = HashMap::new();
    // Each descriptor is registered once: the status and listen descriptors for the life
    // of the process, a client while it is connected.
    let mut poller = Poller::new();
    poller.add(STATUS_FD, Interest::Read, STATUS_DATA);
    for n in 0..daemon.socket_count {
        poller.add(LISTEN_FD + n as RawFd, Interest::Read, listen_data(n));
    }
    // What the last wait found ready and is not handled yet.
    let mut ready: VecDeque<u64> = VecDeque::new();
    // Clients whose buffer already holds (the start of) another request: they are served
    // before the next wait, since their descriptor may have nothing more to read.
    let mut buffered: VecDeque<u64> = VecDeque::new();
    let mut next_id = 0u64;
    let mut use_count = 0u64;
    let mut idle_since = Instant::now();
    let mut next_tick = service.tick(&mut daemon).map(|d| Instant::now() + d);
    daemon.create_watchdog(daemon.daemon_timeout);
    loop {
        if daemon.max_use > 0 && use_count >= daemon.max_use && clients.is_empty() {
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
        if buffered.is_empty() && ready.is_empty() {
            // Once per wait, as Postfix's loop before each turn of its event loop: the
            // limit covers the wait and the requests it finds ready (an alarm during the
            // wait ends it, and the next turn starts the limit over).
            sys::watchdog::start();
            let mut deadline: Option<Instant> = next_tick;
            if clients.is_empty() && daemon.max_idle > 0 {
                let idle_end = idle_since + Duration::from_secs(daemon.max_idle);
                deadline = Some(deadline.map_or(idle_end, |d| d.min(idle_end)));
            }
            for data in poller.wait(deadline) {
                // The master's departure goes first, as it ends the process.
                if data == STATUS_DATA {
                    ready.push_front(data);
                } else {
                    ready.push_back(data);
                }
            }
        }
        let data = if let Some(data) = buffered.pop_front() {
            // Served without a wait: a client could keep this up for ever.
            sys::watchdog::start();
            data
        } else if let Some(data) = ready.pop_front() {
            data
        } else {
            continue;
        };
        if data == STATUS_DATA {
            if log::verbose() > 0 {
                log::msg_info!("master disconnect -- exiting");
            }
            break;
        }
        if let Some(n) = listen_index(data, daemon.socket_count) {
            let Some(stream) = accept(&daemon, LISTEN_FD + n as RawFd) else {
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
            poller.add(stream_fd(client.io.get_ref()), Interest::Read, next_id);
            if !client.io.buffer().is_empty() {
                buffered.push_back(next_id);
            }
            clients.insert(next_id, client);
            continue;
        }
        let Some(client) = clients.get_mut(&data) else {
            continue;
        };
        master_proto::notify(daemon.generation, TAKEN);
        let keep = service.request(&mut daemon, client);
        if !master_proto::notify(daemon.generation, AVAIL) {
            break;
        }
        if keep {
            if !client.io.buffer().is_empty() {
                buffered.push_back(data);
            }
            continue;
        }
        if let Some(client) = clients.remove(&data) {
            let fd = stream_fd(client.io.get_ref());
            // Out of the set before the descriptor closes with the client.
            poller.delete(fd);
            if log::verbose() > 0 {
                log::msg_info!("connection closed fd {fd}");
            }
            service.disconnected(&mut daemon, &client);
            use_count += 1;
            if clients.is_empty() {
                idle_since = Instant::now();
            }
        }
    }
    service.exiting(&mut daemon);
    crate::single::exit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoll_numbers_of_status_listen_and_clients_do_not_overlap() {
        assert_eq!(listen_index(STATUS_DATA, 3), None);
        assert_eq!(listen_index(listen_data(0), 3), Some(0));
        assert_eq!(listen_index(listen_data(2), 3), Some(2));
        assert_eq!(listen_index(listen_data(3), 3), None);
        assert_eq!(listen_index(1, 3), None);
    }
}
