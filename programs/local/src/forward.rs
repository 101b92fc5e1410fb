//! Forwarding: addresses that are not delivered here (another domain, another local
//! user reached through an owner- alias, an :include: file's recipients) are collected
//! and the message is resubmitted to cleanup as a new message, one per Delivered-To:
//! address and envelope sender, with a Received: header and a Delivered-To: header.
//!
//! Postfix counterparts: `local/indirect.c` (`deliver_indirect`) and `local/forward.c`
//! (`forward_init`, `forward_append`, `forward_send`, `forward_finish`). The original
//! recipient is logged `status=sent (forwarded as QUEUEID)` when every new message was
//! accepted; nothing is sent when any delivery of this recipient failed, so that the
//! retry does not duplicate the forwarded copies.

use crate::Local;
use crate::settings::deliver_hdr;
use crate::state::State;
use global::cleanup_clnt::{CleanupStream, Connect, OpenError};
use global::cleanup_user::{FLAG_BOUNCE, FLAG_MAP_OK, FLAG_SMTPUTF8};
use global::dsn_mask::{NOTIFY_NEVER, NOTIFY_SUCCESS};
use global::dsn_print::Dsn;
use global::record::{rec_get, rec_put, rec_type};
use ipc::mail_attr;
use std::io::{BufReader, Seek, SeekFrom, Write};

/// SMTPUTF8 was requested (`SMTPUTF8_FLAG_REQUESTED`).
const SMTPUTF8_REQUESTED: i32 = 1 << 0;

/// One new message being written to cleanup.
struct Info {
    delivered: String,
    sender: String,
    stream: CleanupStream,
    queue_id: String,
    posting_time: (i64, u32),
    failed: bool,
}

/// The new messages of one recipient, in the order they were started.
#[derive(Default)]
pub struct Forward {
    messages: Vec<Info>,
}

/// Forwards the current address (`deliver_indirect`).
pub fn deliver_indirect(local: &mut Local, mut state: State) -> i32 {
    if log::verbose() > 0 {
        log::msg_info!("deliver_indirect: {}", state.msg_attr.rcpt.address);
    }
    if local
        .dup_filter
        .been_here(&format!("indirect {}", state.msg_attr.rcpt.address))
    {
        return 0;
    }
    if global::deliver_request::trace_only(local.request.flags) {
        let reason = format!("forwards to {}", state.msg_attr.rcpt.address);
        state.simple("2.0.0", reason);
        return local.sent(&state);
    }
    if append(local, &state).is_err() {
        state.simple("4.3.0", "unable to forward message".into());
        return local.defer_append(&state);
    }
    0
}

/// Adds the recipient to the new message for its Delivered-To: address and sender,
/// starting that message if need be (`forward_append`).
fn append(local: &mut Local, state: &State) -> Result<(), ()> {
    let a = &state.msg_attr;
    let delivered = a.delivered.clone().unwrap_or_default();
    if log::verbose() > 0 {
        log::msg_info!(
            "forward delivered={delivered} sender={} recip={}",
            a.sender,
            a.rcpt.address
        );
    }
    let index = match local
        .forward
        .messages
        .iter()
        .position(|m| m.delivered == delivered && m.sender == a.sender)
    {
        Some(index) => index,
        None => {
            let info = open(local, &delivered, &a.sender).ok_or(())?;
            local.forward.messages.push(info);
            local.forward.messages.len() - 1
        }
    };
    let info = &mut local.forward.messages[index];
    let rcpt = &a.rcpt;
    let mut write = || -> std::io::Result<()> {
        let out = &mut info.stream;
        if !rcpt.dsn_orcpt.is_empty() {
            let text = format!("{}={}", mail_attr::DSN_ORCPT, rcpt.dsn_orcpt);
            rec_put(out, rec_type::ATTR, text.as_bytes())?;
        }
        if rcpt.dsn_notify != 0 {
            let text = format!("{}={}", mail_attr::DSN_NOTIFY, rcpt.dsn_notify);
            rec_put(out, rec_type::ATTR, text.as_bytes())?;
        }
        if !rcpt.orig_addr.is_empty() {
            rec_put(out, rec_type::ORCP, rcpt.orig_addr.as_bytes())?;
        }
        rec_put(out, rec_type::RCPT, rcpt.address.as_bytes())
    };
    if write().is_err() {
        info.failed = true;
        return Err(());
    }
    Ok(())
}

/// Connects to cleanup and writes the envelope head (`forward_open`).
fn open(local: &Local, delivered: &str, sender: &str) -> Option<Info> {
    let settings = local.settings;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let posting_time = (now.as_secs() as i64, now.subsec_micros());
    let r = local.request;
    let mut flags = FLAG_BOUNCE | FLAG_MAP_OK;
    if r.smtputf8 & SMTPUTF8_REQUESTED != 0 {
        flags |= FLAG_SMTPUTF8;
    }
    let mut out = match CleanupStream::open(
        &settings.cleanup_service,
        settings.ipc_timeout,
        flags,
        Connect::Once,
    ) {
        Ok(stream) => stream,
        Err(OpenError::Connect(why)) => {
            log::msg_warn!("{why}");
            return None;
        }
        Err(OpenError::Protocol(_)) => return None,
    };
    let queue_id = out.queue_id.clone();
    let mut head = || -> std::io::Result<()> {
        let time = format!("{} {}", posting_time.0, posting_time.1);
        rec_put(&mut out, rec_type::TIME, time.as_bytes())?;
        rec_put(&mut out, rec_type::FROM, sender.as_bytes())?;
        if r.dsn_ret != 0 {
            let text = format!("{}={}", mail_attr::DSN_RET, r.dsn_ret);
            rec_put(&mut out, rec_type::ATTR, text.as_bytes())?;
        }
        let pass = [
            (mail_attr::DSN_ENVID, &r.dsn_envid),
            ("log_client_name", &r.client_name),
            ("log_client_address", &r.client_addr),
            ("log_protocol_name", &r.client_proto),
            ("log_helo_name", &r.client_helo),
            ("sasl_method", &r.sasl_method),
            ("sasl_username", &r.sasl_username),
            ("sasl_sender", &r.sasl_sender),
            ("log_ident", &r.log_ident),
            (mail_attr::RWR_CONTEXT, &r.rewrite_context),
        ];
        for (name, value) in pass {
            if !value.is_empty() {
                rec_put(
                    &mut out,
                    rec_type::ATTR,
                    format!("{name}={value}").as_bytes(),
                )?;
            }
        }
        Ok(())
    };
    head().ok()?;
    Some(Info {
        delivered: delivered.to_string(),
        sender: sender.to_string(),
        stream: out,
        queue_id,
        posting_time,
        failed: false,
    })
}

/// Sends each new message unless a delivery of this recipient failed (`cancel`), and
/// reports the recipient forwarded (`forward_finish`).
pub fn finish(local: &mut Local, state: &State, cancel: i32) -> i32 {
    let mut status = cancel;
    let messages = std::mem::take(&mut local.forward.messages);
    for mut info in messages {
        if status == 0 {
            status |= send(local, state, &mut info);
        }
        if log::verbose() > 0 {
            log::msg_info!(
                "forward_finish: delivered {} sender {} status {status}",
                info.delivered,
                info.sender
            );
        }
    }
    status
}

/// Writes the message content and reads cleanup's verdict (`forward_send`).
fn send(local: &mut Local, state: &State, info: &mut Info) -> i32 {
    let settings = local.settings;
    let request = local.request;
    let mut failed = info.failed;
    let mut corrupt = false;
    let mut write = || -> std::io::Result<()> {
        let out = &mut info.stream;
        rec_put(out, rec_type::MESG, b"")?;
        let received = format!(
            "Received: by {} ({})",
            settings.myhostname, settings.mail_name
        );
        rec_put(out, rec_type::NORM, received.as_bytes())?;
        let id_line = format!(
            "\tid {}; {}",
            info.queue_id,
            global::mail_date::mail_date(info.posting_time.0)
        );
        rec_put(out, rec_type::NORM, id_line.as_bytes())?;
        if settings.deliver_hdr_mask & deliver_hdr::FWD != 0 {
            let header = format!("Delivered-To: {}", dict::casefold(&info.delivered));
            rec_put(out, rec_type::NORM, header.as_bytes())?;
        }
        let mut file = request.file();
        if let Err(e) = file.seek(SeekFrom::Start(request.data_offset as u64)) {
            log::msg_fatal!(
                "forward_send: seek queue file {}: {}:",
                request.path,
                sys::os_error(&e)
            );
        }
        let mut input = BufReader::new(file);
        let mut buf = Vec::new();
        let last = loop {
            match rec_get(&mut input, &mut buf, 0) {
                Ok(kind @ (rec_type::NORM | rec_type::CONT)) => rec_put(out, kind, &buf)?,
                Ok(kind) => break Some(kind),
                Err(_) => break None,
            }
        };
        if last != Some(rec_type::XTRA) {
            log::msg_warn!(
                "{}: bad record type: {} in message content",
                info.queue_id,
                last.map_or(-1, i32::from)
            );
            corrupt = true;
            let _ = global::mail_copy::mark_corrupt(request.file(), &request.path, settings.owner);
            return Err(std::io::Error::other("corrupt"));
        }
        rec_put(out, rec_type::XTRA, b"")?;
        rec_put(out, rec_type::END, b"")?;
        Write::flush(out)
    };
    if !failed && write().is_err() {
        failed = true;
    }
    let mut status = i32::from(failed || corrupt);
    if status == 0 {
        status = i32::from(info.stream.status().0 != 0);
    }
    if status != 0 {
        return status;
    }
    let mut state = state.clone();
    let notify = state.msg_attr.rcpt.dsn_notify;
    state.msg_attr.rcpt.dsn_notify = if notify == NOTIFY_SUCCESS {
        NOTIFY_NEVER
    } else {
        notify & !NOTIFY_SUCCESS
    };
    state.msg_attr.why = Dsn {
        action: "relayed".to_string(),
        ..Dsn::simple("2.0.0", &format!("forwarded as {}", info.queue_id))
    };
    local.sent(&state)
}
