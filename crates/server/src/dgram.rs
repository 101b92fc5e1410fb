//! The datagram server: datagrams from a unix-dgram socket, in batches.
//!
//! Postfix counterpart: `master/dgram_server.c` (postlogd). The listen descriptor is the
//! bound datagram socket itself; `max_use`, `max_idle` and the master's departure end the
//! process as in the other skeletons. Unlike Postfix's, one wakeup serves every datagram
//! already queued (up to [`BATCH`], with one recvmmsg), and the service gets them together,
//! so that it can write them out with one system call: postlogd gets several log records
//! per message, and a poll and a write per record were most of its cost.
//!
//! The busy/free status goes around each batch, as Postfix's goes around each datagram,
//! except in a service's only process (process limit 1, postlogd's): there the master
//! starts no other process while this one lives, whatever it says, and learns from the
//! first batch's pair all it uses the status for (that the process served, so that its
//! death is not a failed start). The two status records per wakeup were most of the
//! records the master read under load, each a wakeup of the master.

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

/// Serves datagrams until max_use, max_idle or the master's departure, then exits; the
/// service gets each wakeup's datagrams at once, in the order they arrived.
pub fn serve(mut daemon: Daemon, mut service: impl FnMut(&mut Daemon, &[&[u8]])) -> ! {
    let mut bufs = vec![[0u8; BUFFER_SIZE]; BATCH];
    let mut headers = MultiHeaders::<()>::preallocate(BATCH, None);
    daemon.create_watchdog(crate::WATCHDOG_DEFAULT);
    let mut use_count = 0u64;
    let alone = daemon.lock.is_none();
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
                let tell = !alone || use_count == 0;
                if tell {
                    master_proto::notify(daemon.generation, TAKEN);
                }
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
                let batch: Vec<&[u8]> = bufs
                    .iter()
                    .zip(&lengths)
                    .map(|(buf, &n)| &buf[..n])
                    .collect();
                if !batch.is_empty() {
                    service(&mut daemon, &batch);
                }
                use_count += batch.len() as u64;
                if tell && !master_proto::notify(daemon.generation, AVAIL) {
                    crate::single::exit();
                }
            }
        }
    }
    crate::single::exit()
}
