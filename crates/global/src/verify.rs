//! The client of the address verification service: the answer to an address probe.
//!
//! Postfix counterparts: `global/verify.c` (`verify_append`) and the update half of
//! `global/verify_clnt.c` (`verify_clnt_update`). A probe (`DEL_REQ_FLAG_MTA_VRFY`,
//! sent by the verify service itself) delivers nothing: the status of the recipient goes
//! to the verify service's cache, for the original address and, when it differs, for
//! the final one, and is logged with the action as its status (`status=deliverable`,
//! `status=undeliverable`). A failed probe is not cached when
//! address_verify_negative_cache is off (`undeliverable-but-not-cached`).

use crate::bounce::StatusConf;
use crate::deliver_request::DEL_RCPT_STAT_OK;
use crate::dsn_print::Dsn;
use crate::log_adhoc::log_adhoc;
use crate::msg_stats::MsgStats;
use crate::rcpt_print::Recipient;

/// The protocol the verify service announces (Postfix's spelling).
pub const PROTO_VERIFY: &str = "address_verification_prrotocol";
/// The verify service took the update (`VRFY_STAT_OK`).
const VRFY_STAT_OK: i32 = 0;

/// Records the answer to a probe of `rcpt` (`verify_append`; `vrfy_stat` is one of
/// `DEL_RCPT_STAT_*`): 0 when recorded and logged, -1 after a logged failure.
pub fn verify_append(
    conf: &StatusConf,
    id: &str,
    stats: &MsgStats,
    rcpt: &Recipient,
    relay: &str,
    dsn: &Dsn,
    vrfy_stat: i32,
) -> i32 {
    let mut action = dsn.action.clone();
    let mut req_stat = VRFY_STAT_OK;
    if conf.verify_neg_cache || vrfy_stat == DEL_RCPT_STAT_OK {
        if !rcpt.orig_addr.is_empty() {
            req_stat = verify_clnt_update(conf, &rcpt.orig_addr, vrfy_stat, &dsn.reason);
        }
        // Two updates for one probe: the address as given and as delivered.
        if req_stat == VRFY_STAT_OK && rcpt.address != rcpt.orig_addr {
            req_stat = verify_clnt_update(conf, &rcpt.address, vrfy_stat, &dsn.reason);
        }
    } else {
        action = "undeliverable-but-not-cached".to_string();
    }
    if req_stat != VRFY_STAT_OK {
        log::msg_warn!("{id}: {} service failure", conf.verify_service);
        return -1;
    }
    log_adhoc(&conf.log, id, stats, rcpt, relay, dsn, &action);
    0
}

/// Sends the status of `addr` to the verify service (`verify_clnt_update`), trying
/// every second until the service answers, as Postfix does (the watchdog ends a wait
/// that takes too long): the service's status. A delivery agent reports one probe and
/// goes on, so each try has a connection of its own (verify_clnt's `update_once`).
pub fn verify_clnt_update(conf: &StatusConf, addr: &str, addr_status: i32, why: &str) -> i32 {
    let (dir, name, timeout) = (&conf.private_dir, &conf.verify_service, conf.ipc_timeout);
    loop {
        match crate::verify_clnt::update_once(dir, name, timeout, addr, addr_status, why) {
            Ok(status) => return status,
            Err(e) => {
                let quiet = matches!(e.raw_os_error(), Some(sys::libc::EPIPE | sys::libc::ENOENT));
                if log::verbose() > 0 || !quiet {
                    log::msg_warn!("problem talking to service {name}: {}", sys::os_error(&e));
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
