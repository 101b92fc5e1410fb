//! The datagram server: one datagram at a time from a unix-dgram socket.
//!
//! Postfix counterpart: `master/dgram_server.c` (postlogd). The listen descriptor is the
//! bound datagram socket itself; each datagram is handed to the service with the busy/free
//! status around it, and `max_use`, `max_idle` and the master's departure end the process as
//! in the other skeletons.

use crate::Daemon;
use crate::event_loop::{self, Wake};
use crate::master_proto::{self, AVAIL, TAKEN};

/// The largest datagram read at once.
const BUFFER_SIZE: usize = 4096;

/// Serves datagrams until max_use, max_idle or the master's departure, then exits.
pub fn serve(mut daemon: Daemon, mut service: impl FnMut(&mut Daemon, &[u8])) -> ! {
    let mut buf = vec![0u8; BUFFER_SIZE];
    daemon.create_watchdog(crate::WATCHDOG_DEFAULT);
    let mut use_count = 0u64;
    while daemon.max_use == 0 || use_count < daemon.max_use {
        daemon.lock_accept();
        let wake = event_loop::wait(daemon.socket_count, daemon.max_idle);
        daemon.unlock_accept();
        match wake {
            Wake::MasterGone | Wake::Idle => crate::single::exit(),
            Wake::Ready(fd) => {
                if log::verbose() > 0 {
                    log::msg_info!("dgram_server_accept: request arrived");
                }
                master_proto::notify(daemon.generation, TAKEN);
                if let Ok(n) = sys::nix::sys::socket::recv(
                    fd,
                    &mut buf,
                    sys::nix::sys::socket::MsgFlags::empty(),
                ) {
                    service(&mut daemon, &buf[..n]);
                }
                if !master_proto::notify(daemon.generation, AVAIL) {
                    crate::single::exit();
                }
                use_count += 1;
            }
        }
    }
    crate::single::exit()
}
