//! The single-threaded server: one client at a time per process.
//!
//! Postfix counterpart: `master/single_server.c` (smtpd, cleanup, local, smtp...). The
//! process accepts a connection, tells the master it is busy, serves it, tells the master
//! it is free again, and after `max_use` clients or `max_idle` seconds without one it exits
//! so that the master starts a fresh one. With `-S` it serves the one client on standard
//! input and output.

use crate::Daemon;
use crate::event_loop::{self, Wake};
use crate::master_proto::{self, AVAIL, TAKEN};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

/// A client connection.
pub enum Stream {
    /// An inet service client.
    Tcp(TcpStream),
    /// A unix or pass service client.
    Unix(UnixStream),
    /// `-S`: standard input and output.
    Stdio(std::io::Stdin, std::io::Stdout),
    /// A `pass` service client: the connection another process (postscreen) accepted and
    /// handed over, with the attributes it sent along (client address and port...).
    Passed {
        /// The handed-over connection.
        socket: TcpStream,
        /// The attributes sent with it.
        attrs: ipc::Attrs,
    },
}

impl Stream {
    /// Bounds each read (`ipc_timeout` for a service's request); standard input has no
    /// bound.
    pub fn set_read_timeout(&self, timeout: Option<std::time::Duration>) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(timeout),
            Stream::Unix(s) => s.set_read_timeout(timeout),
            Stream::Stdio(..) => Ok(()),
            Stream::Passed { socket, .. } => socket.set_read_timeout(timeout),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            // Waiting in poll(), not in the read: see read_polled.
            Stream::Unix(s) => sys::process::read_polled(s, buf),
            Stream::Stdio(i, _) => i.read(buf),
            Stream::Passed { socket, .. } => socket.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
            Stream::Stdio(_, o) => o.write(buf),
            Stream::Passed { socket, .. } => socket.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
            Stream::Stdio(_, o) => o.flush(),
            Stream::Passed { socket, .. } => socket.flush(),
        }
    }
}

/// Accepts one connection from a listen descriptor; None if another process got it.
/// The multi-client skeleton accepts the same way.
pub(crate) fn accept(daemon: &Daemon, listen: RawFd) -> Option<Stream> {
    let pass = daemon.transport.as_deref() == Some("pass");
    // Blocking and close-on-exec from the start, as Postfix's skeleton makes a client
    // connection (non_blocking, close_on_exec): Linux's accept4 gives a new socket only
    // the flags it is asked for, never the listen socket's O_NONBLOCK, so no fcntl calls
    // are needed after it.
    let accepted =
        sys::nix::sys::socket::accept4(listen, sys::nix::sys::socket::SockFlag::SOCK_CLOEXEC);
    // A pass client hands its descriptor over before we let the next process accept.
    let stream = match accepted {
        Ok(fd) => {
            // accept returned a new descriptor that nothing else owns.
            let owned = sys::process::own(fd);
            match daemon.transport.as_deref() {
                Some("inet") => Some(Stream::Tcp(TcpStream::from(owned))),
                _ if pass => pass_accept_attr(UnixStream::from(owned)),
                _ => Some(Stream::Unix(UnixStream::from(owned))),
            }
        }
        Err(sys::nix::errno::Errno::EAGAIN) => None,
        Err(e) => {
            if pass {
                log::msg_warn!("pass_accept_attr: cannot accept connection: {}", e.desc());
            }
            log::msg_error!("accept connection: {}", e.desc());
            None
        }
    };
    daemon.unlock_accept();
    stream
}

/// Receives the connection a `pass` client hands over and the attributes that follow it
/// (Postfix's `pass_accept_attr`); the client's own connection then closes.
fn pass_accept_attr(client: UnixStream) -> Option<Stream> {
    let socket = TcpStream::from(receive_passed(&client, "pass_accept_attr")?);
    let wait = std::time::Duration::from_secs(PASS_ACCEPT_TMOUT);
    let _ = client.set_read_timeout(Some(wait));
    match ipc::attr::read(&mut std::io::BufReader::new(&client), ipc::Flavor::Null) {
        Ok(Some(attrs)) => Some(Stream::Passed { socket, attrs }),
        Ok(None) | Err(_) => {
            log::msg_warn!("pass_accept_attr: cannot receive connection attributes");
            None
        }
    }
}

/// Waits for the descriptor a `pass` client hands over and receives it (Postfix's
/// `pass_accept`); `caller` names the routine in the warnings, as Postfix's do.
pub(crate) fn receive_passed(client: &UnixStream, caller: &str) -> Option<OwnedFd> {
    let wait = std::time::Duration::from_secs(PASS_ACCEPT_TMOUT);
    if let Err(e) = sys::fdpass::read_wait(client.as_raw_fd(), wait) {
        log::msg_warn!(
            "{caller}: timeout receiving file descriptor: {}",
            sys::os_error(&e)
        );
        return None;
    }
    match sys::fdpass::recv_fd(client) {
        Ok(fd) => Some(fd),
        Err(e) => {
            log::msg_warn!(
                "{caller}: cannot receive file descriptor: {}",
                sys::os_error(&e)
            );
            None
        }
    }
}

/// Seconds a pass client may take to send its descriptor and attributes.
const PASS_ACCEPT_TMOUT: u64 = 100;

/// Serves clients until max_use, max_idle or the master's departure, then exits.
pub fn serve(mut daemon: Daemon, mut service: impl FnMut(&mut Daemon, Stream)) -> ! {
    if daemon.stdin_stream {
        service(
            &mut daemon,
            Stream::Stdio(std::io::stdin(), std::io::stdout()),
        );
        exit();
    }
    daemon.create_watchdog(daemon.daemon_timeout);
    let mut use_count = 0u64;
    while daemon.max_use == 0 || use_count < daemon.max_use {
        daemon.lock_accept();
        match event_loop::wait(daemon.socket_count, daemon.max_idle) {
            Wake::MasterGone => {
                if log::verbose() > 0 {
                    log::msg_info!("master disconnect -- exiting");
                }
                exit();
            }
            Wake::Idle => {
                if log::verbose() > 0 {
                    log::msg_info!("idle timeout -- exiting");
                }
                exit();
            }
            Wake::Ready(fd) => {
                let Some(stream) = accept(&daemon, fd) else {
                    continue;
                };
                if log::verbose() > 0 {
                    log::msg_info!("connection established");
                }
                master_proto::notify(daemon.generation, TAKEN);
                if let Some(delay) = daemon.in_flow_delay
                    && !delay.is_zero()
                    && crate::mail_flow::get(1).is_none()
                {
                    std::thread::sleep(delay);
                }
                service(&mut daemon, stream);
                log::work::clear();
                if !master_proto::notify(daemon.generation, AVAIL) {
                    exit();
                }
                if log::verbose() > 0 {
                    log::msg_info!("connection closed");
                }
                use_count += 1;
            }
        }
    }
    exit()
}

/// Ends the process normally.
pub fn exit() -> ! {
    std::process::exit(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;
    use std::path::Path;

    fn daemon(transport: &str) -> Daemon {
        let main = params::main_cf::MainCf::parse(Path::new("main.cf"), "").unwrap();
        Daemon {
            config: params::Config::new(Path::new("/nonexistent"), main),
            process_name: "test".into(),
            service_name: "test".into(),
            transport: Some(transport.into()),
            args: Vec::new(),
            generation: 0,
            socket_count: 1,
            stdin_stream: false,
            max_idle: 0,
            max_use: 0,
            daemon_timeout: 10,
            in_flow_delay: None,
            watchdog_timeout: None,
            root_dir: None,
            user: None,
            lock: None,
        }
    }

    /// The calling thread's voluntary context switches so far.
    fn waits() -> u64 {
        let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    #[test]
    fn a_unix_client_read_waits_once_and_keeps_its_timeout() {
        let (mut ours, mut theirs) = UnixStream::pair().unwrap();
        // What has arrived is read at once.
        theirs.write_all(b"abc").unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(sys::process::read_polled(&ours, &mut buf).unwrap(), 3);
        // The client takes in our reply only after we wait for its next words, then
        // answers: one wait, not a second for the kernel's note that our reply was read.
        ours.write_all(b"reply").unwrap();
        let client = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let mut reply = [0u8; 5];
            theirs.read_exact(&mut reply).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(100));
            theirs.write_all(b"next").unwrap();
            theirs
        });
        let before = waits();
        assert_eq!(sys::process::read_polled(&ours, &mut buf).unwrap(), 4);
        assert_eq!(waits() - before, 1);
        let theirs = client.join().unwrap();
        // The read timeout still bounds a wait, and ends it as before (EAGAIN).
        ours.set_read_timeout(Some(std::time::Duration::from_millis(50)))
            .unwrap();
        let error = sys::process::read_polled(&ours, &mut buf).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(sys::libc::EAGAIN));
        // End of input is 0.
        drop(theirs);
        assert_eq!(sys::process::read_polled(&ours, &mut buf).unwrap(), 0);
    }

    #[test]
    fn a_connection_from_a_non_blocking_listener_is_blocking_and_close_on_exec() {
        let dir = std::env::temp_dir().join(format!("server-single-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("socket");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        // The master hands its children non-blocking listen sockets.
        listener.set_nonblocking(true).unwrap();
        let daemon = daemon("unix");
        assert!(
            accept(&daemon, listener.as_raw_fd()).is_none(),
            "nobody yet"
        );
        let _client = UnixStream::connect(&path).unwrap();
        let Some(Stream::Unix(stream)) = accept(&daemon, listener.as_raw_fd()) else {
            panic!("no connection");
        };
        use sys::nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
        let status = OFlag::from_bits_truncate(fcntl(&stream, FcntlArg::F_GETFL).unwrap());
        assert!(!status.contains(OFlag::O_NONBLOCK));
        let descriptor = FdFlag::from_bits_truncate(fcntl(&stream, FcntlArg::F_GETFD).unwrap());
        assert!(descriptor.contains(FdFlag::FD_CLOEXEC));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
