//! Delivery transports: the per-transport limits and the destinations (queues) that use
//! a transport.
//!
//! Postfix counterpart: `qmgr/qmgr_transport.c` (`qmgr_transport_create`,
//! `qmgr_transport_select`, throttling). Each master.cf transport that mail resolves to
//! gets its limits from main.cf, `transport_destination_concurrency_limit` and friends
//! falling back to the `default_` ones, as Postfix's `get_mail_conf_int2` does. A
//! transport whose agent cannot be reached is throttled for `transport_retry_time`;
//! the recipients it would get go to the `retry` transport meanwhile.

use crate::queue::Queue;
use params::Config;
use std::collections::BTreeMap;

/// The limits of one transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Parallel deliveries per destination (0: no limit).
    pub dest_concurrency: usize,
    /// Recipients per delivery request (0: no limit).
    pub rcpt_limit: usize,
    /// The concurrency a destination starts with.
    pub init_concurrency: usize,
    /// Parallel deliveries through the transport as a whole.
    pub process_limit: usize,
}

impl Limits {
    /// The limits for `transport` from main.cf, with its agents' `process_limit`.
    pub fn from_config(config: &Config, transport: &str, process_limit: usize) -> Limits {
        let int = |suffix: &str, default: &'static params::def::Param| -> i64 {
            let name = format!("{transport}_{suffix}");
            // A setting in main.cf, or a name Postfix knows with its own default
            // (local_destination_recipient_limit = 1); else the default_ parameter.
            let Some(text) = config.raw(&name) else {
                return config
                    .int(default)
                    .unwrap_or_else(|e| global::fatal_config(e));
            };
            let value = config
                .expand(&text)
                .unwrap_or_else(|e| global::fatal_config(e));
            match util::conv::int(&value) {
                Some(n) if n >= 0 => n,
                _ => log::msg_fatal!("bad numerical configuration: {name} = {value}"),
            }
        };
        use params::decl::queue::{
            DEFAULT_DESTINATION_CONCURRENCY_LIMIT, DEFAULT_DESTINATION_RECIPIENT_LIMIT,
            INITIAL_DESTINATION_CONCURRENCY,
        };
        let dest_concurrency = int(
            "destination_concurrency_limit",
            &DEFAULT_DESTINATION_CONCURRENCY_LIMIT,
        ) as usize;
        let init_concurrency = int(
            "initial_destination_concurrency",
            &INITIAL_DESTINATION_CONCURRENCY,
        )
        .max(1) as usize;
        Limits {
            dest_concurrency,
            rcpt_limit: int(
                "destination_recipient_limit",
                &DEFAULT_DESTINATION_RECIPIENT_LIMIT,
            ) as usize,
            // A destination never starts above its limit.
            init_concurrency: if dest_concurrency > 0 {
                init_concurrency.min(dest_concurrency)
            } else {
                init_concurrency
            },
            process_limit: process_limit.max(1),
        }
    }
}

/// One transport and its destinations.
pub struct Transport {
    /// The master.cf service name.
    pub name: String,
    /// Its limits.
    pub limits: Limits,
    /// Deliveries under way.
    pub busy: usize,
    /// Until when it is throttled (0: not), and why (`4.3.0 mail transport unavailable`).
    pub throttled: Option<(i64, String)>,
    /// Destinations by queue name.
    pub queues: BTreeMap<String, Queue>,
}

impl Transport {
    /// A transport with `limits`.
    pub fn new(name: &str, limits: Limits) -> Transport {
        if log::verbose() > 0 {
            log::msg_info!(
                "qmgr_transport_create: {name} concurrency {} recipients {}",
                limits.dest_concurrency,
                limits.rcpt_limit
            );
        }
        Transport {
            name: name.to_string(),
            limits,
            busy: 0,
            throttled: None,
            queues: BTreeMap::new(),
        }
    }

    /// Whether new recipients must avoid this transport now.
    pub fn is_throttled(&mut self, now: i64) -> Option<String> {
        match &self.throttled {
            Some((until, _)) if *until <= now => {
                self.throttled = None;
                None
            }
            Some((_, why)) => Some(why.clone()),
            None => None,
        }
    }

    /// Throttles the transport for `retry` seconds (`qmgr_transport_throttle`).
    pub fn throttle(&mut self, now: i64, retry: i64, why: &str) {
        if log::verbose() > 0 {
            log::msg_info!("qmgr_transport_throttle: transport {}: {why}", self.name);
        }
        self.throttled = Some((now + retry, why.to_string()));
    }

    /// The name of the queue `queue_name` for `nexthop`, created as needed.
    pub fn queue(&mut self, queue_name: &str, nexthop: &str) -> &mut Queue {
        let init = self.limits.init_concurrency;
        self.queues
            .entry(queue_name.to_string())
            .or_insert_with(|| Queue::new(queue_name, nexthop, init))
    }

    /// The destination with work that may start a delivery now, round-robin by name
    /// after `after` (`qmgr_transport_select`); None when the transport is at its
    /// process limit or no destination may start one.
    pub fn select(&self, after: Option<&str>) -> Option<String> {
        if self.busy >= self.limits.process_limit {
            return None;
        }
        let ready = |q: &&Queue| q.ready();
        let later = self
            .queues
            .values()
            .filter(|q| after.is_none_or(|a| q.name.as_str() > a))
            .find(ready);
        later
            .or_else(|| self.queues.values().find(ready))
            .map(|q| q.name.clone())
    }
}
