//! Destinations: the per-destination queue of delivery requests, its concurrency window
//! and its feedback.
//!
//! Postfix counterparts: `qmgr/qmgr_queue.c` and `qmgr/qmgr_feedback.c`. A destination
//! (`transport:nexthop`, or one recipient for transports with a recipient limit of 1)
//! starts at `initial_destination_concurrency` parallel deliveries. With Postfix's
//! default feedback (1, no hysteresis beyond 1), a delivery that ends without a site
//! problem raises the window by one while it is below the deliveries under way plus the
//! initial concurrency, up to the destination concurrency limit; one that reports a
//! site problem lowers it by one (not below 1) and adds 1/window to the failed cohorts.
//! A full cohort of failures (one per the window, as
//! `default_destination_concurrency_failed_cohort_limit` is one) makes the destination dead: its waiting requests go to the `retry` transport
//! with the reason, until `minimal_backoff_time` has passed, a delivery to it succeeds,
//! or `postqueue -f` flushes it. The feedback amounts and the cohort limit are the
//! transport's settings (feedback.rs). A destination with a rate delay takes one delivery
//! at a time and is suspended for the delay after each (`qmgr_queue_suspend`).

use crate::entry::Todo;
use crate::feedback::g;
use crate::transport::Limits;
use global::deliver_request::{DEL_REQ_FLAG_CONN_LOAD, DEL_REQ_FLAG_CONN_STORE};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One destination.
pub struct Queue {
    /// The queue name (lowercase nexthop, or `user@nexthop`).
    pub name: String,
    /// The next hop the delivery requests carry.
    pub nexthop: String,
    /// The concurrency window; 0 while the destination is dead.
    pub window: usize,
    /// Positive feedback not yet applied.
    success: f64,
    /// Negative feedback not yet applied.
    failure: f64,
    /// Failed cohorts since the last success.
    fail_cohorts: f64,
    /// Deliveries under way.
    pub busy: usize,
    /// Requests waiting.
    pub todo: Todo,
    /// Dead until (seconds), with the reason (`4.4.1 delivery temporarily suspended: ...`).
    pub dead: Option<(i64, String)>,
    /// Suspended by a rate delay until then.
    pub suspended: Option<Instant>,
    /// Equal to its transport's tag while it holds a blocked job back (job.rs).
    pub blocker_tag: u64,
    /// Entries waiting or under way, by message (Postfix's peers of the queue).
    peers: BTreeMap<String, usize>,
    /// When the next warning that it clogs the active queue may come (seconds).
    clog_time_to_warn: i64,
    /// Delivery request flags of this destination: the on-demand connection cache
    /// (`DEL_REQ_FLAG_CONN_LOAD`, `_STORE`), turned on by [`Queue::conn_cache_select`].
    pub dflags: i32,
    /// When a delivery to it last ended (seconds), to recognise back-to-back deliveries.
    pub last_done: i64,
}

/// What the clogging warning needs to know besides the destination.
#[derive(Debug, Clone, Copy)]
pub struct Clog {
    /// Seconds between warnings; 0 when they are off (`qmgr_clog_warn_time`,
    /// `helpful_warnings`).
    pub warn_time: i64,
    /// `qmgr_message_active_limit`.
    pub active_limit: usize,
}

impl Queue {
    /// A destination that starts with `init` parallel deliveries.
    pub fn new(name: &str, nexthop: &str, init: usize) -> Queue {
        if log::verbose() > 0 {
            log::msg_info!("qmgr_queue_create: {name} nexthop {nexthop}");
        }
        Queue {
            name: name.to_string(),
            nexthop: nexthop.to_string(),
            window: init,
            success: 0.0,
            failure: 0.0,
            fail_cohorts: 0.0,
            busy: 0,
            todo: Todo::default(),
            dead: None,
            suspended: None,
            blocker_tag: 0,
            peers: BTreeMap::new(),
            clog_time_to_warn: 0,
            dflags: 0,
            last_done: 0,
        }
    }

    /// Opportunistic connection caching, decided as an entry is selected (`busy` already
    /// counts it; `qmgr_entry_select`). Caching is turned on only once deliveries come back
    /// to back, so a burst within the initial concurrency makes no cached sessions; once
    /// on it stays on while deliveries are concurrent or back to back, so that no new
    /// connection is made while cached ones exist. When it goes off the agent still
    /// takes sessions from the cache (LOAD) but stores none.
    pub fn conn_cache_select(&mut self, now: i64) {
        let back_to_back = self.last_done + 1 >= now;
        if self.dflags & DEL_REQ_FLAG_CONN_STORE == 0 {
            if back_to_back {
                if log::verbose() > 0 {
                    log::msg_info!(
                        "qmgr_entry_select: allowing on-demand session caching for {}",
                        self.name
                    );
                }
                self.dflags |= DEL_REQ_FLAG_CONN_LOAD | DEL_REQ_FLAG_CONN_STORE;
            }
        } else if !(self.busy > 1 || back_to_back) {
            if log::verbose() > 0 {
                log::msg_info!(
                    "qmgr_entry_select: disallowing on-demand session caching for {}",
                    self.name
                );
            }
            self.dflags &= !DEL_REQ_FLAG_CONN_STORE;
        }
    }

    /// Whether the destination has nothing to do and nothing to remember: no waiting or
    /// busy entries, not dead, not suspended. Such a destination is forgotten
    /// (`qmgr_queue_done`); the next mail for it starts afresh at the initial concurrency.
    pub fn is_idle(&self) -> bool {
        self.todo.is_empty() && self.busy == 0 && self.dead.is_none() && self.suspended.is_none()
    }

    /// A new entry of message `id` is waiting here (`qmgr_entry_create`); warns when the
    /// destination takes up much of the active queue (`messages` messages in all).
    pub fn entry_added(
        &mut self,
        id: &str,
        transport: &str,
        limits: &Limits,
        clog: Clog,
        messages: usize,
        now: i64,
    ) {
        *self.peers.entry(id.to_string()).or_insert(0) += 1;
        if clog.warn_time > 0 {
            self.clog_warning(transport, limits, clog, messages, now);
        }
    }

    /// An entry of message `id` left (delivered, or moved to another transport).
    pub fn entry_gone(&mut self, id: &str) {
        if let Some(count) = self.peers.get_mut(id) {
            *count -= 1;
            if *count == 0 {
                self.peers.remove(id);
            }
        }
    }

    /// Postfix's warning that mail for one destination is falling behind and using up
    /// the active queue, with the likeliest remedy, at most once per `warn_time`.
    fn clog_warning(
        &mut self,
        transport: &str,
        limits: &Limits,
        clog: Clog,
        messages: usize,
        now: i64,
    ) {
        let length = self.todo.len() + self.busy;
        if length <= clog.active_limit / 5 || now < self.clog_time_to_warn {
            return;
        }
        let share = length as f64 / messages.max(1) as f64;
        let nexthop = &self.nexthop;
        log::msg_warn!(
            "mail for {nexthop} is using up {length} of {messages} active queue entries"
        );
        if share < 0.9 {
            log::msg_warn!("this may slow down other mail deliveries");
        }
        let limit = limits.dest_concurrency;
        if limit > 0 && limit <= self.busy + 1 {
            log::msg_warn!(
                "you may need to increase the main.cf {transport}_destination_concurrency_limit from {limit}"
            );
        } else if self.window as f64 > clog.active_limit as f64 * share {
            log::msg_warn!(
                "you may need to increase the main.cf qmgr_message_active_limit from {}",
                clog.active_limit
            );
        } else if self.peers.len() > 1 {
            log::msg_warn!("you may need a separate master.cf transport for {nexthop}");
        } else {
            log::msg_warn!("you may need to reduce {transport} connect and helo timeouts");
            log::msg_warn!("so that Postfix quickly skips unavailable hosts");
            log::msg_warn!(
                "you may need to increase the main.cf minimal_backoff_time and maximal_backoff_time"
            );
            log::msg_warn!("so that Postfix wastes less time on undeliverable mail");
            log::msg_warn!("you may need to increase the master.cf {transport} process limit");
        }
        log::msg_warn!("please avoid flushing the whole queue when you have");
        log::msg_warn!("lots of deferred mail, that is bad for performance");
        log::msg_warn!("to turn off these warnings specify: qmgr_clog_warn_time = 0");
        self.clog_time_to_warn = now + clog.warn_time;
    }

    /// Whether the window has room for another delivery (a dead or suspended
    /// destination has none).
    pub fn may_take(&self) -> bool {
        self.dead.is_none() && self.suspended.is_none() && self.busy < self.window
    }

    /// A delivery ended without a site problem (`qmgr_queue_unthrottle`); `busy` still
    /// counts it.
    pub fn success(&mut self, limits: &Limits) {
        if log::verbose() > 0 {
            log::msg_info!("qmgr_queue_unthrottle: queue {}", self.name);
        }
        self.fail_cohorts = 0.0;
        if self.dead.is_some() {
            self.revive(limits);
            return;
        }
        let limit = limits.dest_concurrency;
        if (limit == 0 || limit > self.window) && self.window < self.busy + limits.init_concurrency
        {
            let feedback = limits.pos_feedback.value(self.window);
            self.log_feedback("qmgr_queue_unthrottle", feedback, limits);
            self.success += feedback;
            while self.success + feedback / 2.0 >= 1.0 {
                self.window += 1;
                self.success -= 1.0;
                self.failure = 0.0;
            }
            if limit > 0 {
                self.window = self.window.min(limit);
            }
        }
        self.log_window("qmgr_queue_unthrottle", limits);
    }

    /// A delivery reported a site problem `why` (`qmgr_queue_throttle`); true when the
    /// destination just died, for `backoff` seconds.
    pub fn failure(&mut self, now: i64, backoff: i64, why: &str, limits: &Limits) -> bool {
        if self.dead.is_some() {
            return false;
        }
        if log::verbose() > 0 {
            log::msg_info!("qmgr_queue_throttle: queue {}: {why}", self.name);
        }
        self.fail_cohorts += 1.0 / self.window.max(1) as f64;
        if limits.fail_cohort_limit > 0.0 && self.fail_cohorts >= limits.fail_cohort_limit {
            self.window = 0;
            self.dflags = 0;
            self.dead = Some((now + backoff, why.to_string()));
            self.log_window("qmgr_queue_throttle", limits);
            return true;
        }
        let feedback = limits.neg_feedback.value(self.window);
        self.log_feedback("qmgr_queue_throttle", feedback, limits);
        self.failure -= feedback;
        while self.failure - feedback / 2.0 < 0.0 {
            self.window = self.window.saturating_sub(1);
            self.success = 0.0;
            self.failure += 1.0;
        }
        self.window = self.window.max(1);
        self.log_window("qmgr_queue_throttle", limits);
        false
    }

    /// After a delivery to a rate-limited destination: a dead one comes back, and the
    /// destination waits `delay` seconds before the next (`qmgr_entry_done`).
    pub fn rate_pause(&mut self, limits: &Limits) {
        self.revive(limits);
        self.suspended = Some(Instant::now() + Duration::from_secs(limits.rate_delay));
    }

    /// Ends a rate-delay suspension whose time has come, with a window of one
    /// (`qmgr_queue_resume`); true when it did.
    pub fn resume(&mut self, now: Instant) -> bool {
        if self.suspended.is_some_and(|until| until <= now) {
            self.suspended = None;
            self.window = 1;
            return true;
        }
        false
    }

    /// Whether the destination is dead now; revives it when its time has come.
    pub fn is_dead(&mut self, now: i64, limits: &Limits) -> Option<String> {
        match &self.dead {
            Some((until, _)) if *until <= now => {
                self.revive(limits);
                None
            }
            Some((_, why)) => Some(why.clone()),
            None => None,
        }
    }

    /// Brings a dead destination back: as many deliveries as are under way, else the
    /// initial concurrency.
    pub fn revive(&mut self, limits: &Limits) {
        if self.dead.take().is_none() {
            return;
        }
        self.window = if self.busy > 0 {
            self.busy
        } else {
            limits.init_concurrency
        };
        self.success = 0.0;
        self.failure = 0.0;
        self.fail_cohorts = 0.0;
        self.log_window("qmgr_queue_unthrottle", limits);
    }

    /// `destination_concurrency_feedback_debug`: each feedback amount.
    fn log_feedback(&self, caller: &str, feedback: f64, limits: &Limits) {
        if limits.feedback_debug {
            log::msg_info!("{caller}: feedback {}", g(feedback));
        }
    }

    /// `destination_concurrency_feedback_debug`: the window after a change.
    fn log_window(&self, caller: &str, limits: &Limits) {
        if limits.feedback_debug {
            log::msg_info!(
                "{caller}: queue {}: limit {} window {} success {} failure {} fail_cohorts {}",
                self.name,
                limits.dest_concurrency,
                self.window,
                g(self.success),
                g(self.failure),
                g(self.fail_cohorts)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Entry;
    use crate::feedback::Feedback;

    fn limits(dest_concurrency: usize, init_concurrency: usize) -> Limits {
        Limits {
            dest_concurrency,
            rcpt_limit: 50,
            init_concurrency,
            process_limit: 100,
            pos_feedback: Feedback::default(),
            neg_feedback: Feedback::default(),
            fail_cohort_limit: 1.0,
            rate_delay: 0,
            xport_rate_delay: 0,
            feedback_debug: false,
            slots: crate::job::Slots {
                cost: 5,
                loan: 3,
                loan_factor: 50,
                min_slots: 3,
            },
            rcpt: crate::job::RcptLimits {
                limit: 20000,
                per_stack: 1000,
                refill_limit: 100,
                refill_delay: 5,
            },
        }
    }

    #[test]
    fn clogging_warnings_come_past_a_fifth_of_the_active_queue_once_per_interval() {
        let l = limits(20, 5);
        let clog = Clog {
            warn_time: 300,
            active_limit: 10,
        };
        let mut q = Queue::new("d", "d", 5);
        let entry = |id: &str| Entry {
            id: id.into(),
            rcpts: Vec::new(),
        };
        for (n, id) in ["A", "A"].iter().enumerate() {
            q.todo.push_back(entry(id));
            q.entry_added(id, "t", &l, clog, 1, 1000 + n as i64);
        }
        // Two entries: not more than a fifth of 10.
        assert_eq!(q.clog_time_to_warn, 0);
        q.todo.push_back(entry("B"));
        q.entry_added("B", "t", &l, clog, 2, 1002);
        assert_eq!(q.clog_time_to_warn, 1302);
        assert_eq!(q.peers.len(), 2);
        // Not again within the interval.
        q.todo.push_back(entry("B"));
        q.entry_added("B", "t", &l, clog, 2, 1100);
        assert_eq!(q.clog_time_to_warn, 1302);
        for id in ["A", "A", "B"] {
            q.entry_gone(id);
        }
        assert_eq!(q.peers.keys().collect::<Vec<_>>(), ["B"]);
    }

    #[test]
    fn connection_caching_goes_on_back_to_back_and_off_when_deliveries_thin_out() {
        const BOTH: i32 = DEL_REQ_FLAG_CONN_LOAD | DEL_REQ_FLAG_CONN_STORE;
        let mut q = Queue::new("d", "d", 5);
        q.last_done = 0;
        // A first burst, concurrent but not back to back: no caching.
        q.busy = 3;
        q.conn_cache_select(1000);
        assert_eq!(q.dflags, 0);
        // A delivery ended a second ago: on, loading and storing.
        q.last_done = 999;
        q.busy = 1;
        q.conn_cache_select(1000);
        assert_eq!(q.dflags, BOTH);
        // Stays on while deliveries are concurrent, even if none just ended.
        q.busy = 2;
        q.conn_cache_select(1010);
        assert_eq!(q.dflags, BOTH);
        // A lone delivery long after the last: stop storing, keep loading.
        q.busy = 1;
        q.conn_cache_select(1020);
        assert_eq!(q.dflags, DEL_REQ_FLAG_CONN_LOAD);
        // A destination that dies forgets it.
        q.dflags = BOTH;
        let l = limits(20, 1);
        q.window = 1;
        assert!(q.failure(1030, 300, "4.4.1 refused", &l));
        assert_eq!(q.dflags, 0);
    }

    #[test]
    fn feedback_as_postfix_defaults() {
        // Growth stops at the deliveries under way plus the initial concurrency.
        let l = limits(20, 2);
        let mut q = Queue::new("example.com", "example.com", 2);
        q.busy = 1;
        q.success(&l);
        assert_eq!(q.window, 3);
        q.success(&l);
        assert_eq!(q.window, 3);
        // Postfix's arithmetic: the first failure costs two (the negative feedback
        // starts from zero), later ones one; cohorts of 1/5 + 1/3 + 1/2 kill it.
        let l = limits(20, 5);
        let mut q = Queue::new("d", "d", 5);
        assert!(!q.failure(100, 300, "4.4.1 refused", &l));
        assert_eq!(q.window, 3);
        assert!(!q.failure(100, 300, "4.4.1 refused", &l));
        assert_eq!(q.window, 2);
        assert!(q.failure(100, 300, "4.4.1 refused", &l));
        assert_eq!(q.is_dead(200, &l).as_deref(), Some("4.4.1 refused"));
        assert_eq!(q.is_dead(400, &l), None);
        assert_eq!(q.window, 5);
    }

    #[test]
    fn feedback_settings() {
        // 1/concurrency: a window of 4 needs four successes to grow.
        let mut l = limits(20, 5);
        l.pos_feedback = Feedback::parse("p", "1/concurrency", "p", "1");
        let mut q = Queue::new("d", "d", 4);
        q.busy = 4;
        for _ in 0..3 {
            q.success(&l);
        }
        assert_eq!(q.window, 4);
        q.success(&l);
        assert_eq!(q.window, 5);
        // A cohort limit of 0 never kills a destination.
        l.fail_cohort_limit = 0.0;
        for _ in 0..20 {
            assert!(!q.failure(100, 300, "4.4.1 refused", &l));
        }
        assert_eq!(q.window, 1);
        assert!(q.dead.is_none());
    }

    #[test]
    fn rate_delay_suspends_and_resumes_with_one() {
        let mut l = limits(1, 1);
        l.rate_delay = 1;
        let mut q = Queue::new("d", "d", 1);
        q.todo.push_back(Entry {
            id: "A".into(),
            rcpts: Vec::new(),
        });
        assert!(q.may_take());
        q.rate_pause(&l);
        assert!(!q.may_take());
        q.resume(Instant::now());
        assert!(!q.may_take());
        q.resume(Instant::now() + Duration::from_secs(2));
        assert!(q.may_take());
        assert_eq!(q.window, 1);
    }
}
