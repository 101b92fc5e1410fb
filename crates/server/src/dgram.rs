//! The datagram server: datagrams from a unix-dgram socket, one at a time.
//!
//! Postfix counterpart: `master/dgram_server.c` (postlogd). The listen descriptor is the
//! bound datagram socket itself; the datagrams are handed to the service with the busy/free
//! status around them, and `max_use`, `max_idle` and the master's departure end the process
//! as in the other skeletons. Unlike Postfix's, one wakeup serves every datagram already
//! queued (up to [`BATCH`], with one recvmmsg): postlogd gets several log records per
//! message, and a poll and two status records (two reads for the master) per record were
//! most of its cost and a large share of the master's.

use crate::Daemon;
use crate::event_loop::{self, Wake};
use crate::master_proto::{self, AVAIL, TAKEN};
use std::io::IoSliceMut;
use sys::nix::sys::socket::{MsgFlags, MultiHeaders, recvmmsg};

/// The most datagrams served in one wakeup, so that a flood cannot hold off the checks
/// of the event loop (master gone, max_idle) for long.
const BATCH: usize = 16;

/// The largest datagram read at once.
const BUFFER_SIZE: usize = 4096;

/// Serves datagrams until max_use, max_idle or the master's departure, then exits.
pub fn serve(mut daemon: Daemon, mut service: impl FnMut(&mut Daemon, &[u8])) -> ! {
    let mut bufs = vec![[0u8; BUFFER_SIZE]; BATCH];
    let mut headers = MultiHeaders::<()>::preallocate(BATCH, None);
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
                let limit = match daemon.max_use {
                    0 => BATCH,
                    max => BATCH.min(usize::try_from(max - use_count).unwrap_or(BATCH)),
                };
                // One call: it waits for the first datagram and takes the others that are
                // queued already (MSG_WAITFORONE), so an empty queue costs no failed read.
                let lengths: Vec<usize> = {
                    let mut slices: Vec<[IoSliceMut<'_>; 1]> = bufs
                        .iter_mut()
                        .take(limit)
                        .map(|b| [IoSliceMut::new(&mut b[..])])
                        .collect();
                    match recvmmsg(
                        fd,
                        &mut headers,
                        slices.iter_mut(),
                        MsgFlags::MSG_WAITFORONE,
                        None,
                    ) {
                        Ok(received) => received.map(|r| r.bytes).collect(),
                        Err(_) => Vec::new(),
                    }
                };
                for (buf, &n) in bufs.iter().zip(&lengths) {
                    service(&mut daemon, &buf[..n]);
                    use_count += 1;
                }
                if !master_proto::notify(daemon.generation, AVAIL) {
                    crate::single::exit();
                }
            }
        }
    }
    crate::single::exit()
}
