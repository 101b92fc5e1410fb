//! The delivery of the agents whose next hop is the status: discard (sent), error
//! (bounced) and retry (deferred).
//!
//! Postfix counterparts: `deliver_message()` of `discard/discard.c` and of
//! `error/error.c`, which are the same but for the status client and the default status
//! code. The next hop is the reason, optionally starting with a status code
//! (`error:5.1.1 no such user` in a transport table); each recipient goes to the status
//! client with `relay=none` and is marked done in the queue file when the client took
//! it (for discard, only when the queue manager asked for that).

use crate::bounce::{NO_RELAY_AGENT, StatusConf};
use crate::deliver_completed::deliver_completed;
use crate::deliver_request::{DEL_REQ_FLAG_SUCCESS, DeliverRequest, trace_flags};
use crate::dsn_print::Dsn;
use crate::dsn_util::dsn_split;
use crate::msg_stats::MsgStats;
use crate::rcpt_print::Recipient;

/// A status client (`sent`, `bounce_append`, `defer_append`).
pub type Append = fn(&StatusConf, i32, &str, &MsgStats, &Recipient, &str, &Dsn) -> i32;

/// Which agent.
#[derive(Debug, Clone, Copy)]
pub struct Agent {
    /// The status code when the next hop has none.
    pub def_dsn: &'static str,
    /// The status client.
    pub append: Append,
    /// Mark a recipient done only with `DEL_REQ_FLAG_SUCCESS` (discard), rather than
    /// whenever the status was recorded (error, retry).
    pub success_flag_only: bool,
}

/// discard: every recipient "delivered".
pub const DISCARD: Agent = Agent {
    def_dsn: "2.0.0",
    append: crate::sent::sent,
    success_flag_only: true,
};
/// error: every recipient bounced.
pub const ERROR: Agent = Agent {
    def_dsn: "5.0.0",
    append: crate::bounce::bounce_append,
    success_flag_only: false,
};
/// retry: every recipient deferred.
pub const RETRY: Agent = Agent {
    def_dsn: "4.0.0",
    append: crate::defer::defer_append,
    success_flag_only: false,
};

/// Gives every recipient of `request` the next hop's status (`deliver_message`): 0
/// when each one was recorded.
pub fn deliver_message(conf: &StatusConf, request: &DeliverRequest, agent: &Agent) -> i32 {
    if log::verbose() > 0 {
        log::msg_info!("deliver_message: from {}", request.sender);
    }
    if request.nexthop.is_empty() {
        log::msg_fatal!("empty nexthop hostname");
    }
    let (status, text) = dsn_split(agent.def_dsn, &request.nexthop);
    let dsn = Dsn::simple(status, text);
    let flags = trace_flags(request.flags);
    let (id, stats) = (&request.queue_id, &request.msg_stats);
    let mut result = 0;
    for rcpt in &request.rcpt_list {
        let status = (agent.append)(conf, flags, id, stats, rcpt, NO_RELAY_AGENT, &dsn);
        let mark = !agent.success_flag_only || request.flags & DEL_REQ_FLAG_SUCCESS != 0;
        if status == 0 && mark {
            deliver_completed(request.file(), &request.path, rcpt.offset);
        }
        result |= status;
    }
    result
}
