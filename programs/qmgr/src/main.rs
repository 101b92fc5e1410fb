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
//! It is a trigger server that never exits on its own (no max_idle or max_use), in one
//! thread: the scheduler's event loop polls the trigger socket and the master's status
//! channel with the delivery agents' sockets, and takes each trigger (`W`, `I`, `D`,
//! `F`, `A`) where it arrives. At start-up every file left in active/ by an earlier qmgr
//! goes back to incoming/, so a crash never loses a message (it may deliver one twice,
//! as Postfix's does).
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

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements {
        solitary: true,
        watchdog: Some(&QMGR_DAEMON_TIMEOUT),
        ..Default::default()
    });
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
    // The scheduler owns the configuration from here on; the trigger endpoint needs none.
    let empty = params::Config::new(&daemon.config.config_directory, Default::default());
    let config = std::mem::replace(&mut daemon.config, empty);
    let mut scheduler = scheduler::Scheduler::new(settings, config, rewrite);
    // Triggers are served from the scheduler's own event loop, as Postfix's qmgr has
    // its trigger server call qmgr_loop: no second thread to wake per message.
    let triggers =
        server::trigger::Triggers::new(&mut daemon, &mut |_, trigger| scheduler.trigger(trigger));
    scheduler.run(daemon, triggers)
}
