//! The datagram server: datagrams from a unix-dgram socket, one at a time.
//!
//! Postfix counterpart: `master/dgram_server.c` (postlogd). The listen descriptor is the
//! bound datagram socket itself; the datagrams are handed to the service with the busy/free
//! status around them, and `max_use`, `max_idle` and the master's departure end the process
//! as in the other skeletons. Unlike Postfix's, one wakeup serves every datagram already
//! queued (up to [`BATCH`]): postlogd gets several log records per message, and a poll and
//! two status records (two reads for the master) per record were most of its cost and a
//! large share of the master's.

use crate::Daemon;
use crate::event_loop::{self, Wake};
use crate::master_proto::{self, AVAIL, TAKEN};
use sys::nix::sys::socket::{MsgFlags, recv};

/// The most datagrams served in one wakeup, so that a flood cannot hold off the checks
/// of the event loop (master gone, max_idle) for long.
const BATCH: usize = 64;

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
                let mut flags = MsgFlags::empty();
                for _ in 0..BATCH {
                    let Ok(n) = recv(fd, &mut buf, flags) else {
                        break;
                    };
                    service(&mut daemon, &buf[..n]);
                    use_count += 1;
                    if daemon.max_use != 0 && use_count >= daemon.max_use {
                        break;
                    }
                    // The next one only if it is there already: poll waits for the rest.
                    flags = MsgFlags::MSG_DONTWAIT;
                }
                if !master_proto::notify(daemon.generation, AVAIL) {
                    crate::single::exit();
                }
            }
        }
    }
    crate::single::exit()
}
