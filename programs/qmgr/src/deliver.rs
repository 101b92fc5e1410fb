//! Delivery requests: one entry sent to a delivery agent over `private/<transport>`,
//! and the agent's status.
//!
//! Postfix counterparts: `qmgr/qmgr_deliver.c` and the agent side in
//! `global/deliver_request.c`. The agent announces `delivery_request_protocol`; the
//! request is one attribute list (flags, queue, queue ID, content offset and size,
//! nexthop, encoding, SMTPUTF8, sender, DSN ENVID and RET, the time stamps, the client
//! and SASL attributes, the recipient count), then one list per recipient (original
//! recipient, recipient, offset, DSN ORCPT, DSN NOTIFY). The agent delivers, marks each
//! delivered or bounced recipient done in the queue file itself and writes the bounce
//! and defer logs itself; it answers with a status (the DSN of a site problem, if any)
//! and 0 when every recipient was dealt with, else non-zero.
//!
//! The lists are written by global's RequestHead and rcpt_print, which local's
//! deliver_pass uses too. Each request runs in a thread of its own, so the scheduler
//! never waits for an agent; the thread reports the outcome to the scheduler.

use crate::message::{Message, Recipient};
use global::deliver_request::RequestHead;
use global::rcpt_print::rcpt_print;
use ipc::{Attrs, Flavor, mail_attr};
use std::io::BufReader;
use std::time::Duration;

/// Delete successful recipients and bounce the others (`DEL_REQ_FLAG_DEFLT`).
const FLAG_DEFLT: i32 = 1 << 0 | 1 << 1;
/// Bounce only (`DEL_REQ_FLAG_BOUNCE`): for mail with an inspection transport.
const FLAG_BOUNCE: i32 = 1 << 1;

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every recipient was dealt with (delivered or bounced).
    Ok,
    /// Some recipients were deferred.
    Defer,
    /// The agent failed or could not be reached.
    Crash,
}

/// The agent's answer: its status and the site problem it reported (`status reason`,
/// empty when none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// The DSN status of a site problem (`4.4.1`), empty when there was none.
    pub dsn_status: String,
    /// Its text.
    pub reason: String,
}

impl Outcome {
    fn crash(reason: &str) -> Outcome {
        Outcome {
            status: Status::Crash,
            dsn_status: "4.3.0".to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Everything a delivery needs, owned, to be sent to another thread.
pub struct Request {
    /// The transport (master.cf service).
    pub transport: String,
    /// The request list.
    pub attrs: Attrs,
    /// One list per recipient.
    pub rcpts: Vec<Attrs>,
    /// How long to wait for the agent's greeting.
    pub ipc_timeout: Duration,
    /// How long to wait for the status.
    pub daemon_timeout: Duration,
}

/// The request for `rcpts` of `message` to `nexthop` through `transport`.
pub fn request(
    message: &Message,
    transport: &str,
    nexthop: &str,
    rcpts: &[Recipient],
    timeouts: (Duration, Duration),
) -> Request {
    let flags = message.tflags
        | if message.inspect_xport.is_some() {
            FLAG_BOUNCE
        } else {
            FLAG_DEFLT
        };
    let stats = global::msg_stats::MsgStats {
        incoming_arrival: message.arrival,
        active_arrival: message.active,
        ..Default::default()
    };
    let c = &message.client;
    let attrs = RequestHead {
        flags,
        queue_name: global::mail_queue::ACTIVE,
        queue_id: &message.id,
        data_offset: message.data_offset,
        data_size: message.cont_length,
        nexthop,
        encoding: &message.encoding,
        smtputf8: message.smtputf8,
        sender: &message.sender,
        dsn_envid: &message.dsn_envid,
        dsn_ret: message.dsn_ret,
        msg_stats: &stats,
        client_name: &c.name,
        client_addr: &c.addr,
        client_port: &c.port,
        client_proto: &c.proto,
        client_helo: &c.helo,
        sasl_method: &c.sasl_method,
        sasl_username: &c.sasl_username,
        sasl_sender: &c.sasl_sender,
        log_ident: &c.log_ident,
        rewrite_context: &c.rewrite_context,
        rcpt_count: rcpts.len() as i32,
    }
    .attrs();
    let rcpts = rcpts
        .iter()
        .map(|r| {
            let rcpt = global::rcpt_print::Recipient {
                offset: r.offset,
                dsn_orcpt: r.dsn_orcpt.clone(),
                dsn_notify: r.dsn_notify as u32,
                orig_addr: r.orig_addr.clone(),
                address: r.address.clone(),
            };
            rcpt_print(Attrs::new(), &rcpt)
        })
        .collect();
    Request {
        transport: transport.to_string(),
        attrs,
        rcpts,
        ipc_timeout: timeouts.0,
        daemon_timeout: timeouts.1,
    }
}

/// Sends the request and waits for the status (run in a delivery thread).
pub fn deliver(request: &Request) -> Outcome {
    let path = format!("private/{}", request.transport);
    let stream =
        match global::mail_connect::connect("private", &request.transport, request.ipc_timeout) {
            Ok(stream) => stream,
            Err(e) => {
                log::msg_warn!("connect to transport {path}: {}", sys::os_error(&e));
                return Outcome::crash("mail transport unavailable");
            }
        };
    let mut reader = BufReader::new(&stream);
    match ipc::attr::read(&mut reader, Flavor::Null) {
        Ok(Some(a)) if a.get_str(mail_attr::PROTO) == Ok("delivery_request_protocol") => {}
        Ok(None) | Err(_) => {
            log::msg_warn!("{path}: premature disconnect");
            return Outcome::crash("mail transport unavailable");
        }
        Ok(Some(_)) => {
            log::msg_warn!("{path}: malformed response");
            return Outcome::crash("mail transport unavailable");
        }
    }
    let mut writer = &stream;
    let sent = std::iter::once(&request.attrs)
        .chain(&request.rcpts)
        .try_for_each(|list| ipc::attr::write(&mut writer, Flavor::Null, list));
    if let Err(e) = sent {
        log::msg_warn!(
            "write to process ({}): {}",
            request.transport,
            sys::os_error(&e)
        );
        return Outcome::crash("unknown mail transport error");
    }
    if log::verbose() > 0 {
        log::msg_info!(
            "qmgr_deliver: site `{}'",
            request.attrs.get_str(mail_attr::NEXTHOP).unwrap_or("")
        );
    }
    let _ = stream.set_read_timeout(Some(request.daemon_timeout));
    match ipc::attr::read(&mut reader, Flavor::Null) {
        Ok(Some(reply)) => final_reply(&path, &reply),
        Ok(None) => {
            log::msg_warn!("{path}: premature disconnect");
            Outcome::crash("unknown mail transport error")
        }
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            log::msg_warn!(
                "{}: timeout receiving delivery status from transport: {}",
                request.attrs.get_str(mail_attr::QUEUEID).unwrap_or(""),
                request.transport
            );
            Outcome::crash("unknown mail transport error")
        }
        Err(_) => {
            log::msg_warn!("{path}: malformed response");
            Outcome::crash("unknown mail transport error")
        }
    }
}

/// The status list: the DSN (status, diag_type, diag_text, mta_type, mta_mname, action,
/// reason), then the numeric status under the same name as the DSN status.
fn final_reply(path: &str, reply: &Attrs) -> Outcome {
    let values: Vec<(&[u8], &[u8])> = reply
        .0
        .iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect();
    let names: Vec<&[u8]> = values.iter().map(|(n, _)| *n).collect();
    let expected: [&[u8]; 8] = [
        b"status",
        b"diag_type",
        b"diag_text",
        b"mta_type",
        b"mta_mname",
        b"action",
        b"reason",
        b"status",
    ];
    let numeric = values
        .get(7)
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
        .and_then(|v| v.parse::<u32>().ok());
    let (true, Some(numeric)) = (names == expected, numeric) else {
        log::msg_warn!("{path}: malformed response");
        return Outcome::crash("unknown mail transport error");
    };
    let text = |i: usize| util::eight_bit::to_text(values[i].1).into_owned();
    let (mut dsn_status, mut reason) = (text(0), text(6));
    // Sanitise what the agent says about a site problem.
    if !dsn_status.is_empty() {
        if global::dsn_util::dsn_valid(&dsn_status) == 0 {
            dsn_status = "4.0.0".to_string();
        }
        if reason.is_empty() {
            reason = "unknown error".to_string();
        }
    }
    Outcome {
        status: if numeric != 0 {
            Status::Defer
        } else {
            Status::Ok
        },
        dsn_status,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: &str, reason: &str, numeric: i32) -> Attrs {
        Attrs::new()
            .str("status", status)
            .str("diag_type", "")
            .str("diag_text", "")
            .str("mta_type", "")
            .str("mta_mname", "")
            .str("action", "")
            .str("reason", reason)
            .int("status", numeric)
    }

    #[test]
    fn final_replies() {
        let ok = final_reply("private/x", &reply("", "", 0));
        assert_eq!(ok.status, Status::Ok);
        let site = final_reply("private/x", &reply("4.4.1", "connect to x: refused", 1));
        assert_eq!(site.status, Status::Defer);
        assert_eq!(site.reason, "connect to x: refused");
        let short = final_reply("private/x", &Attrs::new().int("status", 0));
        assert_eq!(short.status, Status::Crash);
        let weird = final_reply("private/x", &reply("9.9", "", 1));
        assert_eq!(
            (weird.dsn_status.as_str(), weird.reason.as_str()),
            ("4.0.0", "unknown error")
        );
    }
}
