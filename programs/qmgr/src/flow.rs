//! Global flow control: the tokens the queue manager puts in the master's pipe, which
//! cleanup takes one per message.
//!
//! Postfix counterpart: the end of `qmgr_loop()` in `qmgr/qmgr.c`. With
//! `in_flow_delay` on, the queue manager keeps about `default_process_limit` tokens
//! available: one more for each message it took from incoming/, and a refill to the
//! limit when the incoming queue scan is idle; surplus tokens are taken back. The pipe
//! has no count, so the tokens are counted by taking them (up to twice the limit) and
//! putting back what should be there; a cleanup that reads meanwhile simply finds fewer.

/// Adjusts the tokens after one pass of the scheduler: `fed_incoming` says a message
/// was taken from incoming/, `incoming_idle` that its scan is done.
pub fn adjust(proc_limit: usize, fed_incoming: bool, incoming_idle: bool) {
    let count = server::mail_flow::get(proc_limit.saturating_mul(2).max(1)).unwrap_or(0);
    let wanted = if count < proc_limit {
        if fed_incoming {
            count + 1
        } else if incoming_idle {
            proc_limit
        } else {
            count
        }
    } else {
        proc_limit
    };
    if wanted > 0 {
        server::mail_flow::put(wanted);
    }
}
