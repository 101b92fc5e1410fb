//! What the queue manager reads from main.cf, once, before it enters the jail.
//!
//! Postfix counterpart: the parameter tables in `qmgr/qmgr.c`'s `main()`. The
//! per-transport limits are read when a transport is first used (transport.rs).

use global::mail_queue::Layout;
use params::Config;
use params::decl::address::RECIPIENT_DELIMITER;
use params::decl::cleanup::{BOUNCE_SERVICE_NAME, TRACE_SERVICE_NAME};
use params::decl::debug::HELPFUL_WARNINGS;
use params::decl::identity::MYHOSTNAME;
use params::decl::process::DEFAULT_PROCESS_LIMIT;
use params::decl::qmgr::{
    ADDRESS_VERIFY_PENDING_REQUEST_LIMIT, DEFAULT_FILTER_NEXTHOP, DEFER_SERVICE_NAME,
    DEFER_TRANSPORTS, QMGR_DAEMON_TIMEOUT, QMGR_IPC_TIMEOUT, TRANSPORT_RETRY_TIME,
};
use params::decl::queue::{
    BOUNCE_QUEUE_LIFETIME, DOUBLE_BOUNCE_SENDER, IN_FLOW_DELAY, MAXIMAL_BACKOFF_TIME,
    MAXIMAL_QUEUE_LIFETIME, MINIMAL_BACKOFF_TIME, QMGR_CLOG_WARN_TIME, QMGR_MESSAGE_ACTIVE_LIMIT,
    QMGR_MESSAGE_RECIPIENT_LIMIT, QMGR_MESSAGE_RECIPIENT_MINIMUM, QUEUE_RUN_DELAY,
};
use std::collections::HashMap;
use std::time::Duration;

/// The queue manager's configuration.
pub struct Settings {
    /// Queue directory layout (hashed queues).
    pub layout: Layout,
    /// Seconds between deferred queue scans.
    pub queue_run_delay: i64,
    /// Shortest retry interval.
    pub min_backoff: i64,
    /// Longest retry interval.
    pub max_backoff: i64,
    /// Lifetime of mail with deferred recipients.
    pub max_queue_lifetime: i64,
    /// The same for mail with a null sender.
    pub bounce_queue_lifetime: i64,
    /// Messages in the active queue at most.
    pub active_limit: usize,
    /// Recipients in memory that a message's first read may fill the active queue to
    /// (`qmgr_message_recipient_limit`, at least the active limit).
    pub rcpt_limit: i64,
    /// Recipients any message may have in memory (`qmgr_message_recipient_minimum`).
    pub rcpt_minimum: i64,
    /// The active-queue clogging warnings (`qmgr_clog_warn_time`, 0 without
    /// `helpful_warnings`).
    pub clog: crate::queue::Clog,
    /// How long to wait for a delivery agent's greeting.
    pub ipc_timeout: Duration,
    /// How long to wait for a delivery agent's status.
    pub daemon_timeout: Duration,
    /// How long a failed transport is left alone.
    pub transport_retry: i64,
    /// Transports whose mail stays queued.
    pub defer_transports: Vec<String>,
    /// Address verification probes in the active queue beyond which more are deferred
    /// at once (address_verify_pending_request_limit).
    pub vrfy_pend_limit: i64,
    /// The bounce service.
    pub bounce_service: String,
    /// The defer service.
    pub defer_service: String,
    /// The trace service.
    pub trace_service: String,
    /// Whether flow control tokens are handed out.
    pub in_flow_delay: bool,
    /// The token level to keep (`default_process_limit`).
    pub proc_limit: usize,
    /// The process limit of each private master.cf service: the parallel deliveries a
    /// transport can take (Postfix's qmgr learns it by waiting for each agent to accept;
    /// here it is read from master.cf at start-up).
    pub process_limits: HashMap<String, usize>,
    /// Recipient extension delimiters.
    pub rcpt_delim: String,
    /// Next hop for a content filter without one.
    pub default_filter_nexthop: String,
    /// $myhostname.
    pub myhostname: String,
    /// The local part of the double-bounce sender.
    pub double_bounce_sender: String,
}

impl Settings {
    /// Reads the settings; a bad value is fatal, as in Postfix.
    pub fn from_config(config: &Config) -> Settings {
        let fatal = |e: params::ConfigError| -> ! { global::fatal_config(e) };
        let time = |p| config.time(p).unwrap_or_else(|e| fatal(e));
        let text = |p| config.str(p).unwrap_or_else(|e| fatal(e));
        let mut settings = Settings {
            layout: Layout::from_config(config).unwrap_or_else(|e| fatal(e)),
            queue_run_delay: time(&QUEUE_RUN_DELAY),
            min_backoff: time(&MINIMAL_BACKOFF_TIME),
            max_backoff: time(&MAXIMAL_BACKOFF_TIME),
            max_queue_lifetime: time(&MAXIMAL_QUEUE_LIFETIME),
            bounce_queue_lifetime: time(&BOUNCE_QUEUE_LIFETIME),
            active_limit: config
                .int(&QMGR_MESSAGE_ACTIVE_LIMIT)
                .unwrap_or_else(|e| fatal(e)) as usize,
            rcpt_limit: config
                .int(&QMGR_MESSAGE_RECIPIENT_LIMIT)
                .unwrap_or_else(|e| fatal(e)),
            rcpt_minimum: config
                .int(&QMGR_MESSAGE_RECIPIENT_MINIMUM)
                .unwrap_or_else(|e| fatal(e)),
            clog: crate::queue::Clog {
                warn_time: if config.bool(&HELPFUL_WARNINGS).unwrap_or_else(|e| fatal(e)) {
                    time(&QMGR_CLOG_WARN_TIME)
                } else {
                    0
                },
                active_limit: 0,
            },
            ipc_timeout: Duration::from_secs(time(&QMGR_IPC_TIMEOUT) as u64),
            daemon_timeout: Duration::from_secs(time(&QMGR_DAEMON_TIMEOUT) as u64),
            transport_retry: time(&TRANSPORT_RETRY_TIME),
            defer_transports: config.list(&DEFER_TRANSPORTS).unwrap_or_else(|e| fatal(e)),
            vrfy_pend_limit: config
                .int(&ADDRESS_VERIFY_PENDING_REQUEST_LIMIT)
                .unwrap_or_else(|e| fatal(e)),
            bounce_service: text(&BOUNCE_SERVICE_NAME),
            defer_service: text(&DEFER_SERVICE_NAME),
            trace_service: text(&TRACE_SERVICE_NAME),
            in_flow_delay: time(&IN_FLOW_DELAY) > 0,
            proc_limit: config
                .int(&DEFAULT_PROCESS_LIMIT)
                .unwrap_or_else(|e| fatal(e)) as usize,
            process_limits: HashMap::new(),
            rcpt_delim: text(&RECIPIENT_DELIMITER),
            default_filter_nexthop: text(&DEFAULT_FILTER_NEXTHOP),
            myhostname: text(&MYHOSTNAME),
            double_bounce_sender: text(&DOUBLE_BOUNCE_SENDER),
        };
        // Postfix's qmgr_post_init checks, with its warnings.
        if settings.rcpt_limit < settings.active_limit as i64 {
            let (r, a) = (
                QMGR_MESSAGE_RECIPIENT_LIMIT.name,
                QMGR_MESSAGE_ACTIVE_LIMIT.name,
            );
            log::msg_warn!("{r} is smaller than {a} - adjusting {r}");
            settings.rcpt_limit = settings.active_limit as i64;
        }
        if settings.bounce_queue_lifetime > settings.max_queue_lifetime {
            let (b, m) = (BOUNCE_QUEUE_LIFETIME.name, MAXIMAL_QUEUE_LIFETIME.name);
            log::msg_warn!("{b} is larger than {m} - adjusting {b}");
            settings.bounce_queue_lifetime = settings.max_queue_lifetime;
        }
        settings.clog.active_limit = settings.active_limit;
        settings.process_limits = process_limits(config, settings.proc_limit);
        settings
    }

    /// The parallel deliveries `transport` can take.
    pub fn process_limit(&self, transport: &str) -> usize {
        self.process_limits
            .get(transport)
            .copied()
            .unwrap_or(self.proc_limit)
    }
}

/// The maxproc column of master.cf's private (unix) services: `-` is `default_limit`,
/// 0 is no limit.
fn process_limits(config: &Config, default_limit: usize) -> HashMap<String, usize> {
    let path = config.config_directory.join("master.cf");
    let master = match params::master_cf::MasterCf::read(&path) {
        Ok(master) => master,
        Err(e) => {
            log::msg_warn!("{e}; process limits are default_process_limit");
            return HashMap::new();
        }
    };
    master
        .entries
        .iter()
        .filter(|e| e.kind() == "unix")
        .map(|e| {
            let limit = match e.fields[6].as_str() {
                "-" => default_limit,
                text => match text.parse::<usize>() {
                    Ok(0) => usize::MAX,
                    Ok(n) => n,
                    Err(_) => default_limit,
                },
            };
            (e.service().to_string(), limit)
        })
        .collect()
}
