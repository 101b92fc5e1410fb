//! Mail flow control tokens: the pipe the master shares with every daemon (descriptors 3
//! and 4), through which the queue manager paces the daemons that bring mail in.
//!
//! Postfix counterpart: `master/mail_flow.c`. The queue manager puts tokens in as it
//! takes mail from the incoming queue; cleanup takes one per connection and, finding none,
//! pauses `in_flow_delay` before it serves anyway (the skeleton does that, see
//! `Requirements::in_flow_delay`); mail that bypasses the incoming queue (hold) gives its
//! token back. So a flood of new mail slows to the rate at which it is being delivered
//! instead of filling the disk. The pipe is non-blocking (the master made it so).

use crate::master_proto::{FLOW_READ, FLOW_WRITE};

/// Takes up to `count` tokens; the number taken, or None when the pipe had none.
pub fn get(count: usize) -> Option<usize> {
    let mut buf = [0u8; 1024];
    let mut taken = 0;
    while taken < count {
        let want = (count - taken).min(buf.len());
        match sys::process::read_fd(FLOW_READ, &mut buf[..want]) {
            Ok(n) if n > 0 => taken += n,
            _ => break,
        }
    }
    if log::verbose() > 0 {
        log::msg_info!("mail_flow_get: {count} {taken}");
    }
    (taken > 0).then_some(taken)
}

/// How many tokens are in the pipe, counted without taking them (Postfix's
/// `mail_flow_count`): a cleanup that reads meanwhile still finds them.
pub fn count() -> usize {
    let n = sys::process::bytes_waiting(FLOW_READ).unwrap_or(0);
    if log::verbose() > 0 {
        log::msg_info!("mail_flow_count: {n}");
    }
    n
}

/// Puts `count` tokens in; the number written (fewer when the pipe is full).
pub fn put(count: usize) -> usize {
    let buf = [0u8; 1024];
    let mut written = 0;
    while written < count {
        let want = (count - written).min(buf.len());
        match sys::process::write_fd(FLOW_WRITE, &buf[..want]) {
            Ok(n) if n > 0 => written += n,
            _ => break,
        }
    }
    if log::verbose() > 0 {
        log::msg_info!("mail_flow_put: {count} {written}");
    }
    written
}
