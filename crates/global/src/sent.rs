//! The status of a delivered recipient.
//!
//! Postfix counterpart: `global/sent.c`. A delivered recipient is logged
//! `status=sent`; the trace service gets a record when the sender asked for a report
//! (`DEL_REQ_FLAG_RECORD`, sendmail -v), when a delayed delivery is to be reported
//! (`DEL_REQ_FLAG_REC_DLY_SENT` and DSN NOTIFY allows it), and for DSN NOTIFY=SUCCESS.
//! If that record cannot be written the recipient is deferred, so that the report is
//! not lost. An address probe delivers nothing and answers `deliverable` to the verify
//! or trace service.

use crate::bounce::{StatusConf, checked_status, probe_answer};
use crate::deliver_request::{DEL_RCPT_STAT_OK, DEL_REQ_FLAG_REC_DLY_SENT, DEL_REQ_FLAG_RECORD};
use crate::dsn_mask::{NOTIFY_DELAY, NOTIFY_SUCCESS};
use crate::dsn_print::Dsn;
use crate::log_adhoc::log_adhoc;
use crate::msg_stats::MsgStats;
use crate::rcpt_print::Recipient;
use crate::trace::trace_append;

/// `rcpt` was delivered (`sent`): 0 when recorded, else what the deferral returned.
pub fn sent(
    conf: &StatusConf,
    flags: i32,
    id: &str,
    stats: &MsgStats,
    rcpt: &Recipient,
    relay: &str,
    dsn: &Dsn,
) -> i32 {
    let mut my_dsn = checked_status("sent", dsn, '2', "2.0.0");
    if let Some(res) = conf.filtered(&my_dsn) {
        my_dsn = res;
    }
    let stat = DEL_RCPT_STAT_OK;
    if let Some(status) = probe_answer(conf, flags, id, stats, rcpt, relay, &my_dsn, stat) {
        return status;
    }
    if my_dsn.action.is_empty() {
        my_dsn.action = "delivered".to_string();
    }
    let record_all = flags & DEL_REQ_FLAG_RECORD != 0;
    let record_delayed = flags & DEL_REQ_FLAG_REC_DLY_SENT != 0
        && (rcpt.dsn_notify == 0 || rcpt.dsn_notify & NOTIFY_DELAY != 0);
    let trace = || trace_append(conf, flags, id, stats, rcpt, relay, &my_dsn) == 0;
    if (!(record_all || record_delayed) || trace())
        && (rcpt.dsn_notify & NOTIFY_SUCCESS == 0 || trace())
    {
        log_adhoc(&conf.log, id, stats, rcpt, relay, &my_dsn, "sent");
        return 0;
    }
    let failure = Dsn {
        status: "4.3.0".to_string(),
        reason: format!("{id}: {} service failed", conf.trace_service),
        ..my_dsn.clone()
    };
    crate::defer::defer_append(conf, flags, id, stats, rcpt, relay, &failure)
}
