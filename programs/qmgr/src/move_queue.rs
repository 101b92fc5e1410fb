//! Moving a whole queue: at start-up every file left in active/ goes back to incoming/.
//!
//! Postfix counterpart: `qmgr/qmgr_move.c`. A queue manager that dies while messages
//! are in active/ leaves them there; the next one moves them back and feeds them again,
//! so a crash never strands a message (one may be delivered twice, as with Postfix).

use global::mail_queue::Layout;

/// Moves every file in `from` to `to` with time stamp `when` (`qmgr_move`): at start-up
/// the active queue goes back to incoming, so a crash never strands a message.
pub fn move_all(layout: &Layout, from: &'static str, to: &str, now: i64) {
    if log::verbose() > 0 {
        log::msg_info!("start move queue {from} -> {to}");
    }
    let mut scan = crate::scan::Scan::new(from);
    scan.request(crate::scan::START);
    while let Some(id) = scan.next() {
        // Incoming mail is fed at once (time stamp now).
        crate::active::defer(layout, &id, from, to, 0, now);
        if log::verbose() > 0 {
            log::msg_info!("qmgr_move: moved {id} from {from} to {to}");
        }
    }
    if log::verbose() > 0 {
        log::msg_info!("end move queue {from} -> {to}");
    }
}
