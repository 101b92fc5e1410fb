//! Delivery transports: the per-transport limits and the destinations (queues) that use
//! a transport.
//!
//! Postfix counterpart: `qmgr/qmgr_transport.c` (`qmgr_transport_create`,
//! `qmgr_transport_select`, throttling). Each master.cf transport that mail resolves to
//! gets its limits from main.cf, `transport_destination_concurrency_limit` and friends
//! falling back to the `default_` ones, as Postfix's `get_mail_conf_int2` does. A
//! transport whose agent cannot be reached is throttled for `transport_retry_time`;
//! the recipients it would get go to the `retry` transport meanwhile.

use crate::feedback::Feedback;
use crate::job::{Jobs, RcptLimits, Slots};
use crate::queue::Queue;
use params::Config;
use params::decl::queue::{
    DEFAULT_DELIVERY_SLOT_COST, DEFAULT_DELIVERY_SLOT_DISCOUNT, DEFAULT_DELIVERY_SLOT_LOAN,
    DEFAULT_DESTINATION_CONCURRENCY_FAILED_COHORT_LIMIT, DEFAULT_DESTINATION_CONCURRENCY_LIMIT,
    DEFAULT_DESTINATION_CONCURRENCY_NEGATIVE_FEEDBACK,
    DEFAULT_DESTINATION_CONCURRENCY_POSITIVE_FEEDBACK, DEFAULT_DESTINATION_RATE_DELAY,
    DEFAULT_DESTINATION_RECIPIENT_LIMIT, DEFAULT_EXTRA_RECIPIENT_LIMIT,
    DEFAULT_MINIMUM_DELIVERY_SLOTS, DEFAULT_RECIPIENT_LIMIT, DEFAULT_RECIPIENT_REFILL_DELAY,
    DEFAULT_RECIPIENT_REFILL_LIMIT, DEFAULT_TRANSPORT_RATE_DELAY,
    DESTINATION_CONCURRENCY_FEEDBACK_DEBUG, INITIAL_DESTINATION_CONCURRENCY,
};
use params::def::Param;
use std::collections::BTreeMap;

/// The limits of one transport.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Parallel deliveries per destination (0: no limit).
    pub dest_concurrency: usize,
    /// Recipients per delivery request (0: no limit).
    pub rcpt_limit: usize,
    /// The concurrency a destination starts with.
    pub init_concurrency: usize,
    /// Parallel deliveries through the transport as a whole.
    pub process_limit: usize,
    /// Window growth after a delivery without a site problem.
    pub pos_feedback: Feedback,
    /// Window shrinkage after a site problem.
    pub neg_feedback: Feedback,
    /// Failed pseudo-cohorts that make a destination dead (0: never).
    pub fail_cohort_limit: f64,
    /// Seconds between deliveries to one destination (0: none).
    pub rate_delay: u64,
    /// Seconds between deliveries through the transport (0: none).
    pub xport_rate_delay: u64,
    /// `destination_concurrency_feedback_debug`, never for the error and retry
    /// transports.
    pub feedback_debug: bool,
    /// The preemptive scheduler's settings.
    pub slots: Slots,
    /// The in-memory recipient settings.
    pub rcpt: RcptLimits,
}

/// A per-transport setting: `transport_suffix` from main.cf, expanded, or the value of
/// the `default_` parameter, as Postfix's `get_mail_conf_*2` look them up.
fn per_transport(
    config: &Config,
    transport: &str,
    suffix: &str,
    default: &'static Param,
) -> (String, String) {
    let name = format!("{transport}_{suffix}");
    let value = match config.raw(&name) {
        Some(text) => config
            .expand(&text)
            .unwrap_or_else(|e| global::fatal_config(e)),
        None => config
            .str(default)
            .unwrap_or_else(|e| global::fatal_config(e)),
    };
    (name, value)
}

impl Limits {
    /// The limits for `transport` from main.cf, with its agents' `process_limit`.
    pub fn from_config(config: &Config, transport: &str, process_limit: usize) -> Limits {
        let int = |suffix: &str, default: &'static Param| -> i64 {
            let (name, value) = per_transport(config, transport, suffix, default);
            match util::conv::int(&value) {
                Some(n) if n >= 0 => n,
                _ => log::msg_fatal!("bad numerical configuration: {name} = {value}"),
            }
        };
        let time = |suffix: &str, default: &'static Param| -> u64 {
            let (name, value) = per_transport(config, transport, suffix, default);
            match util::conv::time(&value, b's') {
                Some(n) if n >= 0 => n as u64,
                _ => log::msg_fatal!("invalid {name} parameter value {value}"),
            }
        };
        // The settings whose lower bound is 1, with Postfix's messages.
        let positive_int = |suffix: &str, default: &'static Param| -> i64 {
            let n = int(suffix, default);
            if n < 1 {
                log::msg_fatal!("invalid {transport}_{suffix} parameter value {n} < 1");
            }
            n
        };
        let positive_time = |suffix: &str, default: &'static Param| -> i64 {
            let n = time(suffix, default) as i64;
            if n < 1 {
                log::msg_fatal!("invalid {transport}_{suffix}: {n} (min 1)");
            }
            n
        };
        let debug = config
            .bool(&DESTINATION_CONCURRENCY_FEEDBACK_DEBUG)
            .unwrap_or_else(|e| global::fatal_config(e));
        let feedback = |suffix: &str, default: &'static Param| -> Feedback {
            let (name, value) = per_transport(config, transport, suffix, default);
            let default_value = config
                .str(default)
                .unwrap_or_else(|e| global::fatal_config(e));
            let feedback = Feedback::parse(&name, &value, default.name, &default_value);
            if debug {
                // Postfix shows the value at the global initial concurrency, and names
                // the parameter the administrator set.
                let shown = if value != default_value {
                    name.as_str()
                } else {
                    default.name
                };
                let init = config
                    .int(&INITIAL_DESTINATION_CONCURRENCY)
                    .unwrap_or_else(|e| global::fatal_config(e))
                    .max(1) as usize;
                log::msg_info!(
                    "{transport}: {shown} feedback type {} value at {init}: {}",
                    feedback.kind(),
                    crate::feedback::g(feedback.value(init))
                );
            }
            feedback
        };
        let rate_delay = time("destination_rate_delay", &DEFAULT_DESTINATION_RATE_DELAY);
        let mut dest_concurrency = int(
            "destination_concurrency_limit",
            &DEFAULT_DESTINATION_CONCURRENCY_LIMIT,
        ) as usize;
        // A rate-limited destination takes one delivery at a time.
        if rate_delay > 0 {
            dest_concurrency = 1;
        }
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
            pos_feedback: feedback(
                "destination_concurrency_positive_feedback",
                &DEFAULT_DESTINATION_CONCURRENCY_POSITIVE_FEEDBACK,
            ),
            neg_feedback: feedback(
                "destination_concurrency_negative_feedback",
                &DEFAULT_DESTINATION_CONCURRENCY_NEGATIVE_FEEDBACK,
            ),
            fail_cohort_limit: int(
                "destination_concurrency_failed_cohort_limit",
                &DEFAULT_DESTINATION_CONCURRENCY_FAILED_COHORT_LIMIT,
            ) as f64,
            rate_delay,
            xport_rate_delay: time("transport_rate_delay", &DEFAULT_TRANSPORT_RATE_DELAY),
            feedback_debug: debug && transport != "error" && transport != "retry",
            slots: Slots {
                cost: int("delivery_slot_cost", &DEFAULT_DELIVERY_SLOT_COST),
                loan: int("delivery_slot_loan", &DEFAULT_DELIVERY_SLOT_LOAN),
                loan_factor: 100
                    - int("delivery_slot_discount", &DEFAULT_DELIVERY_SLOT_DISCOUNT).min(100),
                min_slots: int("minimum_delivery_slots", &DEFAULT_MINIMUM_DELIVERY_SLOTS),
            },
            rcpt: RcptLimits {
                limit: int("recipient_limit", &DEFAULT_RECIPIENT_LIMIT),
                per_stack: int("extra_recipient_limit", &DEFAULT_EXTRA_RECIPIENT_LIMIT),
                refill_limit: positive_int(
                    "recipient_refill_limit",
                    &DEFAULT_RECIPIENT_REFILL_LIMIT,
                ),
                refill_delay: positive_time(
                    "recipient_refill_delay",
                    &DEFAULT_RECIPIENT_REFILL_DELAY,
                ),
            },
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
    /// A delivery under a transport rate delay is under way
    /// (`QMGR_TRANSPORT_STAT_RATE_LOCK`): no other starts until it ends.
    pub rate_locked: bool,
    /// Destinations by queue name.
    pub queues: BTreeMap<String, Queue>,
    /// The messages with entries for it, in scheduling order.
    pub jobs: Jobs,
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
            rate_locked: false,
            queues: BTreeMap::new(),
            jobs: Jobs::new(limits.slots, limits.rcpt),
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
}
