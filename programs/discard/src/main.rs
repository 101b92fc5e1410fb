//! discard - the delivery agent that delivers nothing: every recipient is logged
//! `status=sent` with the reason the next hop gives (`discard:reason` in a transport
//! table), `relay=none`, and marked done in the queue file.
//!
//! Postfix counterpart: `discard/discard.c`, on the single-client skeleton. The next hop
//! may start with a status code (2.0.0 by default); address probes are answered
//! "deliverable" (MTA_VRFY, USR_VRFY) and sendmail -v gets its record (RECORD), as the
//! status client does for every agent (global::nexthop_status).

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements::default());
    let status = global::bounce::StatusConf::from_config(&daemon.config)
        .unwrap_or_else(|e| global::fatal_config(e));
    let layout = global::mail_queue::Layout::from_config(&daemon.config)
        .unwrap_or_else(|e| global::fatal_config(e));
    daemon.enter_jail();
    server::single::serve(daemon, move |_, stream| {
        global::deliver_request::deliver_request_serve(stream, &layout, |request| {
            global::nexthop_status::deliver_message(
                &status,
                request,
                &global::nexthop_status::DISCARD,
            )
        });
    })
}
