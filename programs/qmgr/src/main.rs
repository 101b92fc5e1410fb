//! qmgr - the queue manager: moves mail from incoming/ and deferred/ into active/, routes
//! each recipient through trivial-rewrite, and hands delivery requests to the delivery
//! agents, within per-transport and per-destination limits.
//!
//! Postfix counterpart: `qmgr/qmgr.c` (the scheduler of Postfix's `qmgr`, not `oqmgr`).
//! The modules follow Postfix's split: `active` (qmgr_active.c), `scan` (qmgr_scan.c),
//! `message`, `message_edit` and `resolve` (qmgr_message.c), `move_queue`
//! (qmgr_move.c), `entry` (qmgr_entry.c), `queue` (qmgr_queue.c, qmgr_feedback.c),
//! `transport` (qmgr_transport.c), `deliver` (qmgr_deliver.c), `bounce` (the bounce,
//! defer and trace flush requests), `flow` (the token feed), and `scheduler`
//! (qmgr_loop and the triggers).
//!
//! It is a trigger server that never exits on its own (no max_idle or max_use): the
//! main thread reads triggers (`W`, `I`, `D`, `F`, `A`) and passes them to the
//! scheduler thread, waking it through a socket pair that its event loop polls. At start-up every file left in active/ by an earlier qmgr goes back
//! to incoming/, so a crash never loses a message (it may deliver one twice, as
//! Postfix's does).
//!
//! master.cf: `qmgr unix n - n 300 1 qmgr` (a trigger service, process limit 1).

mod active;
mod bounce;
mod deliver;
mod entry;
mod feedback;
mod flow;
mod job;
mod message;
mod message_edit;
mod move_queue;
mod opened;
mod queue;
mod resolve;
mod scan;
mod scheduler;
mod settings;
mod transport;

use global::mail_queue::{ACTIVE, INCOMING};
use params::decl::qmgr::QMGR_DAEMON_TIMEOUT;
use std::sync::mpsc;

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements {
        solitary: true,
        watchdog: Some(&QMGR_DAEMON_TIMEOUT),
        ..Default::default()
    });
    if let Some(arg) = daemon.args.first() {
        log::msg_fatal!("unexpected command-line argument: {arg}");
    }
    let settings = settings::Settings::from_config(&daemon.config);
    let rewrite = global::rewrite_clnt::RewriteClient::new(
        global::rewrite_clnt::Settings::from_config(&daemon.config)
            .unwrap_or_else(|e| global::fatal_config(e)),
    );
    opened::init(
        global::info_log_addr_form::AddrForm::from_config(&daemon.config)
            .unwrap_or_else(|e| log::msg_fatal!("{e}")),
    );
    daemon.enter_jail();
    // Postfix's qmgr_post_init: no idle or use limit, and the active queue of an earlier
    // run goes back to incoming.
    daemon.max_idle = 0;
    daemon.max_use = 0;
    move_queue::move_all(&settings.layout, ACTIVE, INCOMING, scheduler::now_tv().0);
    // The scheduler owns the configuration from here on; the trigger loop needs none.
    let empty = params::Config::new(&daemon.config.config_directory, Default::default());
    let config = std::mem::replace(&mut daemon.config, empty);
    let (to_scheduler, events) = mpsc::channel();
    let (wake, woken) = std::os::unix::net::UnixStream::pair()
        .and_then(|(a, b)| {
            a.set_nonblocking(true)?;
            b.set_nonblocking(true)?;
            Ok((a, b))
        })
        .unwrap_or_else(|e| log::msg_fatal!("socketpair: {e}"));
    let spawned = std::thread::Builder::new()
        .name("scheduler".to_string())
        .spawn(move || scheduler::Scheduler::new(settings, config, rewrite, events, woken).run());
    if let Err(e) = spawned {
        log::msg_fatal!("cannot start the scheduler: {e}");
    }
    server::trigger::serve(daemon, move |_, trigger| {
        if to_scheduler
            .send(scheduler::Event::Trigger(trigger.to_vec()))
            .is_err()
        {
            log::msg_fatal!("the scheduler has stopped");
        }
        // A full socket already wakes the scheduler: a failed write changes nothing.
        let _ = std::io::Write::write(&mut &wake, &[0]);
    })
}
