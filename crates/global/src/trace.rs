//! The client of the trace service: a record of what happened to a recipient, for
//! `sendmail -v` and `-bv` reports and DSN SUCCESS notices.
//!
//! Postfix counterpart: `global/trace.c` (`trace_append`, `trace_flush`). The record's
//! text says which agent delivered (`delivery via local: delivered to mailbox`); for a
//! user's address probe (`DEL_REQ_FLAG_USR_VRFY`) the answer is also logged, with the
//! action as its status (`status=deliverable`).

use crate::bounce::{BOUNCE_CMD_TRACE, Envelope, NO_RELAY_AGENT, StatusConf};
use crate::deliver_request::DEL_REQ_FLAG_USR_VRFY;
use crate::dsn_print::Dsn;
use crate::log_adhoc::log_adhoc;
use crate::msg_stats::MsgStats;
use crate::rcpt_print::Recipient;
use ipc::mail_attr;
use util::eight_bit::to_bytes;

/// Appends a record for `rcpt` to the message's trace log (`trace_append`): 0 when
/// written, -1 after a logged failure.
pub fn trace_append(
    conf: &StatusConf,
    flags: i32,
    id: &str,
    stats: &MsgStats,
    rcpt: &Recipient,
    relay: &str,
    dsn: &Dsn,
) -> i32 {
    let mut my_dsn = dsn.clone();
    if relay != NO_RELAY_AGENT {
        my_dsn.reason = format!("delivery via {relay}: {}", dsn.reason);
    }
    let request = crate::bounce::append_request(flags, id, rcpt, &my_dsn);
    if conf.command(&conf.trace_service, &request) != 0 {
        log::msg_warn!("{id}: {} service failure", conf.trace_service);
        return -1;
    }
    if flags & DEL_REQ_FLAG_USR_VRFY != 0 {
        log_adhoc(&conf.log, id, stats, rcpt, relay, dsn, &my_dsn.action);
    }
    0
}

/// Has the trace service send the delivery report to the sender (`trace_flush`): 0
/// when sent. Unlike the other flush requests this one has no SMTPUTF8 flags, as in
/// Postfix.
pub fn trace_flush(conf: &StatusConf, flags: i32, msg: &Envelope) -> i32 {
    let request = crate::bounce::request(BOUNCE_CMD_TRACE, flags)
        .str("queue_name", msg.queue)
        .str(mail_attr::QUEUEID, msg.id)
        .str(mail_attr::ENCODING, msg.encoding)
        .bytes("sender", &to_bytes(msg.sender))
        .bytes(mail_attr::DSN_ENVID, &to_bytes(msg.dsn_envid))
        .int(mail_attr::DSN_RET, msg.dsn_ret);
    if conf.command(&conf.trace_service, &request) == 0 {
        0
    } else {
        -1
    }
}
