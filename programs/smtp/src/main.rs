//! smtp, lmtp - the SMTP and LMTP client: delivers mail to other hosts.
//!
//! Postfix counterpart: `smtp/smtp.c` (`deliver_message()`, `smtp_service()`). One
//! program serves both protocols, as in Postfix: run under the process name `lmtp`
//! (master.cf `lmtp unix - - n - - lmtp`) it speaks LMTP and reads the lmtp_* twins of
//! its parameters, under any other name SMTP. The queue manager sends a delivery
//! request; the client finds the next hop's servers (connect.rs), talks to them
//! (proto.rs, through the one I/O place chat.rs), and reports each recipient through
//! global's status clients (state.rs): `status=sent (250 2.0.0 Ok: queued as X)`,
//! `status=bounced (host h[a] said: 550 ... (in reply to RCPT TO command))`, deferrals
//! with the connection error, and the site's status that lets the queue manager treat
//! an unreachable destination as dead. Address probes (`sendmail -bv` and the verify
//! service) end the session after RCPT (or DATA with smtp_address_verify_target =
//! data) and report through the trace or verify service.

mod chat;
mod chat_notify;
mod connect;
mod content;
mod dane;
mod debug_peer;
mod generic;
mod proto;
mod reuse;
mod sasl;
mod settings;
mod state;
mod tls_policy;
mod tlsproxy_clnt;

use global::deliver_request::DeliverRequest;
use settings::Settings;

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements::default());
    let lmtp = daemon.process_name == "lmtp";
    let mut settings =
        Settings::from_config(&daemon.config, lmtp).unwrap_or_else(|e| global::fatal_config(e));
    // The connection cache's labels start with the master.cf service name.
    settings.cache.service = daemon.service_name.clone();
    // Saved transcripts (an ironpost extension): the directory is made before the jail.
    let (name, service) = (&daemon.process_name, &daemon.service_name);
    global::transcript::start(
        &daemon.config,
        global::transcript::Side::Client,
        name,
        service,
    );
    daemon.enter_jail();
    server::single::serve(daemon, move |_, stream| {
        global::deliver_request::deliver_request_serve(stream, &settings.layout, |request| {
            deliver_message(&settings, request)
        })
    })
}

/// One delivery request (`deliver_message()`): the status for the queue manager.
fn deliver_message(settings: &Settings, request: &mut DeliverRequest) -> i32 {
    if log::verbose() > 0 {
        log::msg_info!("deliver_message: from {}", request.sender);
    }
    if request.nexthop.is_empty() {
        log::msg_fatal!("empty nexthop hostname");
    }
    let nexthop = request.nexthop.clone();
    let _debug = debug_peer::DebugPeer::check(settings, &nexthop, "noaddr");
    let mut state = state::State::new(request, settings);
    connect::smtp_connect(&mut state)
}
