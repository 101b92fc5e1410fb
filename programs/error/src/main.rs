//! error - the delivery agent that fails every recipient: as the `error` service it
//! bounces them, as the `retry` service (the same program in master.cf) it defers them,
//! with the reason the next hop gives (`error:5.1.1 no such user` in a transport table,
//! or what the queue manager puts there for an address it cannot deliver), `relay=none`.
//!
//! Postfix counterpart: `error/error.c`, on the single-client skeleton. The next hop may
//! start with a status code (5.0.0 for error, 4.0.0 for retry by default); address
//! probes get the answer "undeliverable" and sendmail -v its record, as the status
//! clients do for every agent (global::nexthop_status).

use global::nexthop_status::{ERROR, RETRY};

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements::default());
    let status = global::bounce::StatusConf::from_config(&daemon.config)
        .unwrap_or_else(|e| global::fatal_config(e));
    let layout = global::mail_queue::Layout::from_config(&daemon.config)
        .unwrap_or_else(|e| global::fatal_config(e));
    // The service name chooses, as in Postfix.
    let agent = match daemon.service_name.as_str() {
        "error" => ERROR,
        "retry" => RETRY,
        other => log::msg_fatal!("bad error service name: {other}"),
    };
    daemon.enter_jail();
    server::single::serve(daemon, move |_, stream| {
        global::deliver_request::deliver_request_serve(stream, &layout, |request| {
            global::nexthop_status::deliver_message(&status, request, &agent)
        });
    })
}
