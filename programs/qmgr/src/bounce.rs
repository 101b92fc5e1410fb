//! Requests to the bounce, defer and trace services at the end of a message: send the
//! non-delivery notice, the expiry notice, or the delivery report.
//!
//! Postfix counterpart: `global/abounce.c` (`abounce_flush`, `adefer_flush`,
//! `adefer_warn`, `atrace_flush`, which qmgr uses; unlike the synchronous `trace_flush`,
//! `atrace_flush` sends the SMTPUTF8 flags like the others). The services announce `delivery_status_protocol`; the
//! client sends one request and reads the status; 0 means the notice was sent and the
//! log removed. The queue manager itself writes no per-recipient log: the delivery
//! agents append to the logs, and recipients the queue manager cannot route go to the
//! `error` or `retry` transport, which logs them.

use crate::message::Message;
use ipc::{Attrs, Flavor, mail_attr};
use std::io::BufReader;
use std::time::Duration;

/// Send the log and delete it (`BOUNCE_CMD_FLUSH`).
pub const CMD_FLUSH: i32 = 1;
/// Send a delay warning, keep the log (`BOUNCE_CMD_WARN`).
pub const CMD_WARN: i32 = 2;
/// Send the delivery report (`BOUNCE_CMD_TRACE`).
pub const CMD_TRACE: i32 = 5;
/// Mark the recipients done in the queue file (`BOUNCE_FLAG_DELRCPT`).
pub const FLAG_DELRCPT: i32 = 1 << 1;

/// A flush-style request about `message` to `private/service` with `flags` (0 is
/// Postfix's `BOUNCE_FLAG_KEEP`; the trace service gets the message's trace flags): 0
/// when the service
/// succeeded, -1 after a logged failure (as Postfix's `mail_command_client`).
pub fn flush(service: &str, command: i32, flags: i32, message: &Message, timeout: Duration) -> i32 {
    let request = Attrs::new()
        .int("nrequest", command)
        .int(mail_attr::FLAGS, flags)
        .str("queue_name", global::mail_queue::ACTIVE)
        .str(mail_attr::QUEUEID, &message.id)
        .str(mail_attr::ENCODING, &message.encoding)
        .int("smtputf8", message.smtputf8)
        .str("sender", &message.sender)
        .str(mail_attr::DSN_ENVID, &message.dsn_envid)
        .int(mail_attr::DSN_RET, message.dsn_ret);
    match command_client(service, &request, timeout) {
        Ok(0) => 0,
        _ => -1,
    }
}

/// One request and its status.
fn command_client(service: &str, request: &Attrs, timeout: Duration) -> Result<i32, ()> {
    let path = format!("private/{service}");
    let stream = match global::mail_connect::connect("private", service, timeout) {
        Ok(stream) => stream,
        Err(e) => {
            log::msg_warn!("connect to {path}: {}", sys::os_error(&e));
            return Err(());
        }
    };
    let mut reader = BufReader::new(&stream);
    match ipc::attr::read(&mut reader, Flavor::Null) {
        Ok(Some(a)) if a.get_str(mail_attr::PROTO) == Ok("delivery_status_protocol") => {}
        _ => {
            log::msg_warn!("read {path}: protocol error");
            return Err(());
        }
    }
    let mut writer = &stream;
    if let Err(e) = ipc::attr::write(&mut writer, Flavor::Null, request) {
        log::msg_warn!("write {path}: {}", sys::os_error(&e));
        return Err(());
    }
    // The service composes and posts a notice before it answers.
    let _ = stream.set_read_timeout(Some(timeout.max(Duration::from_secs(100))));
    match ipc::attr::read(&mut reader, Flavor::Null) {
        Ok(Some(reply)) => reply.get_int(mail_attr::STATUS).ok_or(()),
        _ => {
            log::msg_warn!("read {path}: no status");
            Err(())
        }
    }
}
