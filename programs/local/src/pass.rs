//! Handing a recipient to another delivery agent (mailbox_transport,
//! mailbox_transport_maps, fallback_transport, fallback_transport_maps): the request is
//! passed on as the queue manager would send it, for this one recipient, and that
//! agent's status becomes ours.
//!
//! Postfix counterpart: `global/deliver_pass.c` (`deliver_pass`). The transport may be
//! `name:nexthop`; without a next hop the request's is kept. The other agent logs the
//! delivery and updates the queue file; the recipient's offset is -1, so it marks
//! nothing, and this agent marks the recipient done when the other one succeeded.

use crate::Local;
use crate::state::State;
use global::deliver_request::{PROTO_DELIVER, RequestHead, deliver_reply_scan};
use global::dsn_print::Dsn;
use global::rcpt_print::rcpt_print;
use ipc::{Attrs, Flavor, mail_attr};
use std::io::{BufReader, Write};

/// Passes the recipient of `state` to `service` (`deliver_pass`).
pub fn deliver_pass_all(local: &mut Local, service: &str, state: &State) -> i32 {
    let request = local.request;
    let (transport, nexthop) = match service.split_once(':') {
        Some((transport, nexthop)) if !nexthop.is_empty() => (transport, nexthop),
        Some((transport, _)) => (transport, request.nexthop.as_str()),
        None => (service, request.nexthop.as_str()),
    };
    if transport.is_empty() {
        log::msg_fatal!("missing transport name in \"{service}\"");
    }
    let rcpt = &state.msg_attr.rcpt;
    log::msg_info!(
        "{}: passing <{}> to transport={transport}",
        request.queue_id,
        local.settings.status.log.addr_form.format(&rcpt.address)
    );
    let stream =
        global::mail_connect::connect_wait("private", transport, local.settings.ipc_timeout);
    let path = format!("private/{transport}");
    let mut reader = BufReader::new(&stream);
    let greeted = matches!(
        ipc::attr::read(&mut reader, Flavor::Null),
        Ok(Some(a)) if a.get_str(mail_attr::PROTO) == Ok(PROTO_DELIVER)
    );
    if !greeted {
        log::msg_warn!("{path}: malformed response");
    }
    let head = RequestHead {
        nexthop,
        rcpt_count: 1,
        ..request.head()
    };
    let sent = greeted
        && (|| -> std::io::Result<()> {
            let mut writer = &stream;
            ipc::attr::write(&mut writer, Flavor::Null, &head.attrs())?;
            ipc::attr::write(&mut writer, Flavor::Null, &rcpt_print(Attrs::new(), rcpt))?;
            writer.flush()
        })()
        .map_err(|e| log::msg_warn!("{path}: bad write: {}", sys::os_error(&e)))
        .is_ok();
    let defer = |text: &str| {
        global::defer::defer_append(
            &local.settings.status,
            local.bounce_flags(),
            &request.queue_id,
            &request.msg_stats,
            rcpt,
            "none",
            &Dsn::simple("4.3.0", text),
        )
    };
    if !sent {
        return defer("mail transport unavailable");
    }
    // The final reply: the site's status, then the numeric status. The other agent
    // reported the recipient; only whether it was dealt with matters here.
    let reply = ipc::attr::read(&mut reader, Flavor::Null).ok().flatten();
    match reply.as_ref().and_then(deliver_reply_scan) {
        Some((_, 0)) => 0,
        Some(_) => -1,
        None => {
            log::msg_warn!("{path}: malformed response");
            defer("unknown mail transport error")
        }
    }
}
