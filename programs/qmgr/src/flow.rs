//! Global flow control: the tokens the queue manager puts in the master's pipe, which
//! cleanup takes one per message.
//!
//! Postfix counterpart: the end of `qmgr_loop()` in `qmgr/qmgr.c`. With
//! `in_flow_delay` on, the queue manager keeps about `default_process_limit` tokens
//! available: one more for each message it took from incoming/, and a refill to the
//! limit when the incoming queue scan is idle; surplus tokens are taken back. Tokens are
//! counted in place (FIONREAD), never by taking them and putting them back: a cleanup
//! that found the pipe empty in between would pause a whole `in_flow_delay`.

/// Adjusts the tokens after one pass of the scheduler: `fed_incoming` messages were
/// taken from incoming/ in it, `incoming_idle` says its scan is done.
///
/// Postfix's qmgr_loop takes one message per pass and puts one token back for it;
/// this scheduler takes up to a batch per pass, so it puts back one per message taken.
/// One token for a whole batch starved cleanup: every cleanup that then found the pipe
/// empty paused `in_flow_delay` (a second) before reading its message.
pub fn adjust(proc_limit: usize, fed_incoming: usize, incoming_idle: bool) {
    let count = server::mail_flow::count();
    if count < proc_limit {
        if fed_incoming > 0 {
            server::mail_flow::put(fed_incoming);
        } else if incoming_idle {
            server::mail_flow::put(proc_limit - count);
        }
    } else if count > proc_limit {
        server::mail_flow::get(count - proc_limit);
    }
}
