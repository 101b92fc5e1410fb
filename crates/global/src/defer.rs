//! The client of the defer service: a recipient whose delivery must be tried again
//! later.
//!
//! Postfix counterparts: `global/defer.c` (`defer_append`, `defer_flush`, `defer_warn`)
//! and `flush_add` of `global/flush_clnt.c`. A deferred recipient goes to the message's
//! defer log with action `delayed` and is logged `status=deferred`; with
//! `DEL_REQ_FLAG_RECORD` (sendmail -v) it also goes to the trace log, and a recipient
//! domain in fast_flush_domains is added to the fast flush service's list for that
//! domain. An address probe's recipient goes to the verify or trace service as
//! `undeliverable` instead. The return value is always -1 for a deferral (the recipient
//! stays in the queue), or what the verify or trace service said for a probe.

use crate::bounce::{BOUNCE_CMD_FLUSH, BOUNCE_CMD_WARN, BOUNCE_FLAG_DELRCPT};
use crate::bounce::{Envelope, StatusConf, append_request, checked_status, probe_answer};
use crate::deliver_request::{DEL_RCPT_STAT_DEFER, DEL_REQ_FLAG_RECORD};
use crate::dsn_print::Dsn;
use crate::flush_clnt;
use crate::log_adhoc::log_adhoc;
use crate::mail_command_client::mail_command_client;
use crate::msg_stats::MsgStats;
use crate::rcpt_print::Recipient;
use ipc::{Attrs, mail_attr};

/// The fast flush service's protocol.
const PROTO_FLUSH: &str = "queue_flush_protocol";

/// A recipient whose delivery failed for now goes to the defer log (`defer_append`).
pub fn defer_append(
    conf: &StatusConf,
    flags: i32,
    id: &str,
    stats: &MsgStats,
    rcpt: &Recipient,
    relay: &str,
    dsn: &Dsn,
) -> i32 {
    let dsn = checked_status("defer_append", dsn, '4', "4.0.0");
    match conf.filtered_failure(dsn, '5') {
        (dsn, false) => defer_append_intern(conf, flags, id, stats, rcpt, relay, &dsn),
        (res, true) => {
            crate::bounce::bounce_append_intern(conf, flags, id, stats, rcpt, relay, &res)
        }
    }
}

/// `defer_append` after the status check.
pub(crate) fn defer_append_intern(
    conf: &StatusConf,
    flags: i32,
    id: &str,
    stats: &MsgStats,
    rcpt: &Recipient,
    relay: &str,
    dsn: &Dsn,
) -> i32 {
    let stat = DEL_RCPT_STAT_DEFER;
    if let Some(status) = probe_answer(conf, flags, id, stats, rcpt, relay, dsn, stat) {
        return status;
    }
    // Every deferred recipient is logged whatever its DSN NOTIFY says: mailq and the
    // postmaster's notices show them all.
    let my_dsn = Dsn {
        action: "delayed".to_string(),
        ..dsn.clone()
    };
    let request = append_request(flags, id, rcpt, &my_dsn);
    if conf.command(&conf.defer_service, &request) != 0 {
        log::msg_warn!("{id}: {} service failure", conf.defer_service);
    }
    log_adhoc(&conf.log, id, stats, rcpt, relay, &my_dsn, "deferred");
    if flags & DEL_REQ_FLAG_RECORD != 0
        && crate::trace::trace_append(conf, flags, id, stats, rcpt, relay, &my_dsn) != 0
    {
        log::msg_warn!("{id}: {} service failure", conf.trace_service);
    }
    // Telling the flush service here rather than in the defer service is more robust.
    if let Some((_, domain)) = rcpt.address.rsplit_once('@')
        && !domain.is_empty()
        && !matches!(
            flush_add(conf, domain, id),
            flush_clnt::STAT_OK | flush_clnt::STAT_DENY
        )
    {
        log::msg_warn!("{id}: {} service failure", conf.flush_service);
    }
    -1
}

/// Tells the fast flush service that message `id` has mail for `site`, if the site is
/// in fast_flush_domains (`flush_add`): its `FLUSH_STAT_*` answer.
fn flush_add(conf: &StatusConf, site: &str, id: &str) -> i32 {
    let status = match conf.flush_domains.matches(&[site]) {
        Ok(true) => {
            let request = Attrs::new()
                .str(mail_attr::REQ, "add")
                .str("site", site)
                .str(mail_attr::QUEUEID, id);
            let (class, service) = (&conf.public_dir, &conf.flush_service);
            mail_command_client(class, service, PROTO_FLUSH, &request, conf.ipc_timeout)
        }
        Ok(false) => flush_clnt::STAT_DENY,
        Err(e) => {
            log::msg_warn!("{e}");
            flush_clnt::STAT_FAIL
        }
    };
    if log::verbose() > 0 {
        log::msg_info!("flush_add: site {site} id {id} status {status}");
    }
    status
}

/// Has the defer service send the sender a notice about the deferred recipients and
/// mark them done (`defer_flush`, at the end of the queue lifetime): 0 when sent.
pub fn defer_flush(conf: &StatusConf, flags: i32, msg: &Envelope) -> i32 {
    defer_request(conf, BOUNCE_CMD_FLUSH, flags | BOUNCE_FLAG_DELRCPT, msg)
}

/// Has the defer service send the sender a delay warning, keeping the log
/// (`defer_warn`): 0 when sent.
pub fn defer_warn(conf: &StatusConf, flags: i32, msg: &Envelope) -> i32 {
    defer_request(conf, BOUNCE_CMD_WARN, flags, msg)
}

fn defer_request(conf: &StatusConf, command: i32, flags: i32, msg: &Envelope) -> i32 {
    let request = msg.print(crate::bounce::request(command, flags));
    if conf.command(&conf.defer_service, &request) == 0 {
        0
    } else {
        -1
    }
}
