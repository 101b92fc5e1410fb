//! The trigger server: wakes up on a short request and does its job.
//!
//! Postfix counterpart: `master/trigger_server.c` (pickup, qmgr). A trigger is a few bytes
//! (`W` for "wake up", `A` for "scan everything"...) written into the service's FIFO, sent
//! over a short UNIX-socket connection, or, for a `pass` service, sent through a passed
//! descriptor. The daemon reads at most one buffer of it, tells the master it is busy,
//! runs the service, and tells the master it is free again. The master's wakeup column
//! sends these periodically. The watchdog defaults to 1000 seconds, or the daemon's own
//! limit.

use crate::Daemon;
use crate::event_loop::{self, Wake};
use crate::master_proto::{self, AVAIL, TAKEN};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

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
    let mut buf = [0u8; TRIGGER_BUF_SIZE];
    if daemon.stdin_stream {
        match sys::process::read_fd(0, &mut buf) {
            Ok(n) if n > 0 => service(&mut daemon, &buf[..n]),
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
    let mut use_count = 0u64;
    while daemon.max_use == 0 || use_count < daemon.max_use {
        daemon.lock_accept();
        let listen = match event_loop::wait(daemon.socket_count, daemon.max_idle) {
            Wake::MasterGone => {
                if log::verbose() > 0 {
                    log::msg_info!("master disconnect -- exiting");
                }
                crate::single::exit();
            }
            Wake::Idle => {
                if log::verbose() > 0 {
                    log::msg_info!("idle timeout -- exiting");
                }
                crate::single::exit();
            }
            Wake::Ready(fd) => fd,
        };
        let served = match endpoint {
            Endpoint::Fifo => {
                daemon.unlock_accept();
                if log::verbose() > 0 {
                    log::msg_info!("trigger_server_accept_fifo: trigger arrived");
                }
                // The FIFO's read end is non-blocking: a trigger another process already
                // read leaves nothing, and that is fine.
                wakeup(&mut daemon, listen, &mut buf, &mut service)
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
                match accept(&daemon, listen, endpoint) {
                    Some(fd)
                        if sys::fdpass::read_wait(fd.as_raw_fd(), TRIGGER_READ_WAIT).is_ok() =>
                    {
                        wakeup(&mut daemon, fd.as_raw_fd(), &mut buf, &mut service)
                    }
                    _ => false,
                }
            }
        };
        if served {
            use_count += 1;
        }
    }
    crate::single::exit()
}

/// Accepts one trigger client; for `pass`, receives the descriptor it hands over. None
/// when another process got the client first, or the client sent nothing usable.
fn accept(daemon: &Daemon, listen: RawFd, endpoint: Endpoint) -> Option<std::os::fd::OwnedFd> {
    let accepted = sys::nix::sys::socket::accept(listen);
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
    let _ = sys::process::close_on_exec(client.as_raw_fd(), true);
    if endpoint == Endpoint::Unix {
        return Some(client);
    }
    crate::single::receive_passed(&UnixStream::from(client), "pass_accept")
}

/// Reads one trigger from `fd` and runs the service with the master told we are busy;
/// false when the read failed (nothing was served).
fn wakeup(
    daemon: &mut Daemon,
    fd: RawFd,
    buf: &mut [u8],
    service: &mut impl FnMut(&mut Daemon, &[u8]),
) -> bool {
    // Serve a request that was already accepted even when the master left meanwhile
    // (after "postfix reload"); stop afterwards.
    master_proto::notify(daemon.generation, TAKEN);
    let served = match sys::process::read_fd(fd, buf) {
        Ok(n) => {
            service(daemon, &buf[..n]);
            log::work::clear();
            true
        }
        Err(_) => false,
    };
    if !master_proto::notify(daemon.generation, AVAIL) {
        if log::verbose() > 0 {
            log::msg_info!("master disconnect -- exiting");
        }
        crate::single::exit();
    }
    served
}
