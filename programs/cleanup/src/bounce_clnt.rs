//! Clients of the bounce, trace and verify services.
//!
//! Postfix counterparts: `global/bounce.c` (`bounce_append`, `bounce_flush`,
//! `bounce_flush_verp`), `global/trace.c` (`trace_append`), `global/verify.c` and
//! `verify_clnt.c` (`verify_append`, `verify_clnt_update`), with the wire helpers
//! `mail_command_client.c`, `rcpt_print.c` and `dsn_print.c`. The bounce and trace
//! services speak `delivery_status_protocol`: the server announces it, the client sends
//! one request (`nrequest` and its attributes), the server answers `status`. One
//! connection per request, as in Postfix: a failure is logged with the stage that failed
//! and reported to the caller, which decides what it means for the message. Success of a
//! bounce or an address probe is logged with the delivery status line (status_log.rs).
//! These live in cleanup until another ironpost program needs them.

use crate::init::Settings;
use crate::status_log::{Dsn, Recipient, log_adhoc};
use ipc::{Attrs, Flavor};
use std::io::{BufReader, Write};

/// Append a recipient's status to a per-message log (`BOUNCE_CMD_APPEND`).
const CMD_APPEND: i32 = 0;
/// Send the log to the sender and remove it (`BOUNCE_CMD_FLUSH`).
const CMD_FLUSH: i32 = 1;
/// The same, VERP style (`BOUNCE_CMD_VERP`).
const CMD_VERP: i32 = 3;

/// Remove the log when the request fails (`BOUNCE_FLAG_CLEAN`).
pub const BOUNCE_FLAG_CLEAN: i32 = 1;

/// The protocol the bounce, defer and trace services announce.
const PROTO_BOUNCE: &str = "delivery_status_protocol";
/// The protocol the verify service announces (Postfix's spelling).
const PROTO_VERIFY: &str = "address_verification_prrotocol";

/// The relay of a status cleanup gives itself (`NO_RELAY_AGENT`).
pub const NO_RELAY: &str = "none";

/// What a bounce or trace request is about.
pub struct Message<'a> {
    /// The queue ID.
    pub id: &'a str,
    /// When it arrived (seconds, microseconds).
    pub arrival: (i64, i64),
}

/// What a flush request needs to know about the message.
pub struct Flush<'a> {
    /// The queue the file is in.
    pub queue: &'a str,
    /// `encoding` attribute (`8bit`, `7bit` or empty).
    pub encoding: &'a str,
    /// The SMTPUTF8 flags.
    pub smtputf8: u32,
    /// The envelope sender, who gets the notice.
    pub sender: &'a str,
    /// DSN ENVID.
    pub dsn_envid: &'a str,
    /// DSN RET.
    pub dsn_ret: u32,
    /// VERP delimiters, if the notice is to be VERP-style.
    pub verp_delims: Option<&'a str>,
}

/// A recipient's attributes on the wire, in Postfix's order (`rcpt_print`).
fn rcpt_attrs(attrs: Attrs, rcpt: &Recipient) -> Attrs {
    attrs
        .str("original_recipient", &rcpt.orig_addr)
        .str("recipient", &rcpt.address)
        .str("offset", &rcpt.offset.to_string())
        .str("dsn_orig_rcpt", &rcpt.dsn_orcpt)
        .int("notify_flags", rcpt.dsn_notify as i32)
}

/// A status on the wire, in Postfix's order (`dsn_print`).
fn dsn_attrs(attrs: Attrs, dsn: &Dsn) -> Attrs {
    attrs
        .str("status", &dsn.status)
        .str("diag_type", "")
        .str("diag_text", "")
        .str("mta_type", "")
        .str("mta_mname", "")
        .str("action", &dsn.action)
        .str("reason", &dsn.reason)
}

/// One request to `private/name` (`mail_command_client`): the server's status, or
/// Err after a logged failure.
fn command(settings: &Settings, name: &str, request: &Attrs) -> Result<i32, ()> {
    let path = format!("private/{name}");
    let stream = match global::mail_connect::connect("private", name, settings.ipc_timeout) {
        Ok(stream) => stream,
        Err(e) => {
            log::msg_warn!("connect to {path}: {}", sys::os_error(&e));
            return Err(());
        }
    };
    let mut reader = BufReader::new(&stream);
    let announced = ipc::attr::read(&mut reader, Flavor::Null);
    let proto_ok =
        matches!(&announced, Ok(Some(a)) if a.get_str(ipc::mail_attr::PROTO) == Ok(PROTO_BOUNCE));
    if !proto_ok {
        log::msg_warn!("read {path}: {}", why(announced.err()));
        return Err(());
    }
    let mut writer = &stream;
    if let Err(e) =
        ipc::attr::write(&mut writer, Flavor::Null, request).and_then(|()| writer.flush())
    {
        log::msg_warn!("write {path}: {}", sys::os_error(&e));
        return Err(());
    }
    match ipc::attr::read(&mut reader, Flavor::Null) {
        Ok(Some(reply)) if reply.get_int(ipc::mail_attr::STATUS).is_some() => {
            Ok(reply.get_int(ipc::mail_attr::STATUS).unwrap_or(-1))
        }
        other => {
            log::msg_warn!("write/read {path}: {}", why(other.err()));
            Err(())
        }
    }
}

/// The error text of a failed read (Postfix's `%m`, "Success" when the peer only said
/// something unexpected).
fn why(error: Option<std::io::Error>) -> String {
    error.map_or_else(|| "Success".to_string(), |e| sys::os_error(&e))
}

/// Appends a recipient's failure to the message's bounce log (`bounce_append` with
/// `BOUNCE_FLAG_CLEAN`, as cleanup calls it); logs the status line on success.
pub fn bounce_append(
    settings: &Settings,
    msg: &Message,
    rcpt: &Recipient,
    status: &str,
    reason: &str,
) -> Result<(), ()> {
    let status = if status.starts_with('5') && crate::dsn::dsn_valid(status) > 0 {
        status.to_string()
    } else {
        log::msg_warn!("bounce_append: ignoring dsn code \"{status}\"");
        "5.0.0".to_string()
    };
    // With soft_bounce, a clean request would only be thrown away.
    if settings.soft_bounce {
        return Err(());
    }
    let dsn = Dsn {
        status,
        action: "failed".to_string(),
        reason: reason.to_string(),
    };
    let request = Attrs::new()
        .int("nrequest", CMD_APPEND)
        .int(ipc::mail_attr::FLAGS, BOUNCE_FLAG_CLEAN)
        .str(ipc::mail_attr::QUEUEID, msg.id);
    let request = dsn_attrs(rcpt_attrs(request, rcpt), &dsn);
    if command(settings, &settings.bounce_service, &request) != Ok(0) {
        return Err(());
    }
    log_adhoc(
        msg.id,
        msg.arrival,
        rcpt,
        NO_RELAY,
        &dsn,
        "bounced",
        settings,
    );
    Ok(())
}

/// Has the bounce service send the bounce log to the sender (`bounce_flush`,
/// `bounce_flush_verp`).
pub fn bounce_flush(settings: &Settings, id: &str, flush: &Flush) -> Result<(), ()> {
    if settings.soft_bounce {
        return Err(());
    }
    let command_id = if flush.verp_delims.is_some() {
        CMD_VERP
    } else {
        CMD_FLUSH
    };
    let mut request = Attrs::new()
        .int("nrequest", command_id)
        .int(ipc::mail_attr::FLAGS, BOUNCE_FLAG_CLEAN)
        .str("queue_name", flush.queue)
        .str(ipc::mail_attr::QUEUEID, id)
        .str(ipc::mail_attr::ENCODING, flush.encoding)
        .int("smtputf8", flush.smtputf8 as i32)
        .str("sender", flush.sender)
        .str(ipc::mail_attr::DSN_ENVID, flush.dsn_envid)
        .int(ipc::mail_attr::DSN_RET, flush.dsn_ret as i32);
    if let Some(delims) = flush.verp_delims {
        request = request.str("verp_delimiters", delims);
    }
    match command(settings, &settings.bounce_service, &request) {
        Ok(0) => Ok(()),
        _ => Err(()),
    }
}

/// Appends a delivery record to the message's trace log (`trace_append`), for DSN
/// SUCCESS notices of expanded aliases.
pub fn trace_append(
    settings: &Settings,
    msg: &Message,
    flags: i32,
    rcpt: &Recipient,
    dsn: &Dsn,
) -> Result<(), ()> {
    let request = Attrs::new()
        .int("nrequest", CMD_APPEND)
        .int(ipc::mail_attr::FLAGS, flags)
        .str(ipc::mail_attr::QUEUEID, msg.id);
    let request = dsn_attrs(rcpt_attrs(request, rcpt), dsn);
    if command(settings, &settings.trace_service, &request) != Ok(0) {
        log::msg_warn!("{}: {} service failure", msg.id, settings.trace_service);
        return Err(());
    }
    Ok(())
}

/// Records in the verify service that a probed address is deliverable (`verify_append`
/// with `DEL_RCPT_STAT_OK`), for the original and the final address; logs the status.
pub fn verify_append(settings: &Settings, msg: &Message, rcpt: &Recipient, dsn: &Dsn) {
    if !rcpt.orig_addr.is_empty() {
        verify_update(settings, &rcpt.orig_addr, &dsn.reason);
    }
    if rcpt.address != rcpt.orig_addr {
        verify_update(settings, &rcpt.address, &dsn.reason);
    }
    log_adhoc(
        msg.id,
        msg.arrival,
        rcpt,
        NO_RELAY,
        dsn,
        &dsn.action,
        settings,
    );
}

/// One update of the verify service (`verify_clnt_update` with status OK): tried until
/// the service answers, as in Postfix (the watchdog ends a wait that takes too long).
fn verify_update(settings: &Settings, address: &str, why: &str) {
    let request = Attrs::new()
        .str(ipc::mail_attr::REQ, "update")
        .str(ipc::mail_attr::ADDR, address)
        .int("recipient_status", 0)
        .str(ipc::mail_attr::WHY, why);
    loop {
        if verify_exchange(settings, &request).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

/// One verify request and its answer.
fn verify_exchange(settings: &Settings, request: &Attrs) -> std::io::Result<()> {
    let name = &settings.verify_service;
    let failed = |e: std::io::Error| {
        log::msg_warn!("problem talking to service {name}: {}", sys::os_error(&e));
        e
    };
    let stream =
        global::mail_connect::connect("private", name, settings.ipc_timeout).map_err(failed)?;
    let mut reader = BufReader::new(&stream);
    let hello = ipc::attr::read(&mut reader, Flavor::Null).map_err(failed)?;
    if !matches!(&hello, Some(a) if a.get_str(ipc::mail_attr::PROTO) == Ok(PROTO_VERIFY)) {
        return Err(failed(std::io::Error::from_raw_os_error(sys::libc::EPROTO)));
    }
    let mut writer = &stream;
    ipc::attr::write(&mut writer, Flavor::Null, request)
        .and_then(|()| writer.flush())
        .map_err(failed)?;
    match ipc::attr::read(&mut reader, Flavor::Null).map_err(failed)? {
        Some(reply) if reply.get_int(ipc::mail_attr::STATUS).is_some() => Ok(()),
        _ => Err(failed(std::io::Error::from_raw_os_error(sys::libc::EPROTO))),
    }
}
