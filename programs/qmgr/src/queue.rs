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
//! or `postqueue -f` flushes it.

use crate::entry::Entry;
use std::collections::VecDeque;

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
    pub todo: VecDeque<Entry>,
    /// Dead until (seconds), with the reason (`4.4.1 delivery temporarily suspended: ...`).
    pub dead: Option<(i64, String)>,
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
            todo: VecDeque::new(),
            dead: None,
        }
    }

    /// Whether a delivery may start now.
    pub fn ready(&self) -> bool {
        !self.todo.is_empty() && self.dead.is_none() && self.busy < self.window
    }

    /// A delivery ended without a site problem (`qmgr_queue_unthrottle`); `busy` still
    /// counts it. `limit` is the destination concurrency limit (0: none).
    pub fn success(&mut self, limit: usize, init: usize) {
        if log::verbose() > 0 {
            log::msg_info!("qmgr_queue_unthrottle: queue {}", self.name);
        }
        self.fail_cohorts = 0.0;
        if self.dead.is_some() {
            self.revive(init);
            return;
        }
        if (limit == 0 || limit > self.window) && self.window < self.busy + init {
            self.success += 1.0;
            while self.success + 0.5 >= 1.0 {
                self.window += 1;
                self.success -= 1.0;
                self.failure = 0.0;
            }
            if limit > 0 {
                self.window = self.window.min(limit);
            }
        }
        self.log_window();
    }

    /// A delivery reported a site problem `why` (`qmgr_queue_throttle`); true when the
    /// destination just died, for `backoff` seconds.
    pub fn failure(&mut self, now: i64, backoff: i64, why: &str) -> bool {
        if self.dead.is_some() {
            return false;
        }
        if log::verbose() > 0 {
            log::msg_info!("qmgr_queue_throttle: queue {}: {why}", self.name);
        }
        self.fail_cohorts += 1.0 / self.window.max(1) as f64;
        if self.fail_cohorts >= 1.0 {
            self.window = 0;
            self.dead = Some((now + backoff, why.to_string()));
            self.log_window();
            return true;
        }
        self.failure -= 1.0;
        while self.failure - 0.5 < 0.0 {
            self.window = self.window.saturating_sub(1);
            self.success = 0.0;
            self.failure += 1.0;
        }
        self.window = self.window.max(1);
        self.log_window();
        false
    }

    /// Whether the destination is dead now; revives it when its time has come.
    pub fn is_dead(&mut self, now: i64, init: usize) -> Option<String> {
        match &self.dead {
            Some((until, _)) if *until <= now => {
                self.revive(init);
                None
            }
            Some((_, why)) => Some(why.clone()),
            None => None,
        }
    }

    /// Brings a dead destination back: as many deliveries as are under way, else `init`.
    pub fn revive(&mut self, init: usize) {
        if self.dead.take().is_none() {
            return;
        }
        self.window = if self.busy > 0 { self.busy } else { init };
        self.success = 0.0;
        self.failure = 0.0;
        self.fail_cohorts = 0.0;
        self.log_window();
    }

    fn log_window(&self) {
        if log::verbose() > 0 {
            log::msg_info!(
                "{}: window {} success {} failure {} fail_cohorts {}",
                self.name,
                self.window,
                self.success,
                self.failure,
                self.fail_cohorts
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_as_postfix_defaults() {
        // Growth stops at the deliveries under way plus the initial concurrency.
        let mut q = Queue::new("example.com", "example.com", 2);
        q.busy = 1;
        q.success(20, 2);
        assert_eq!(q.window, 3);
        q.success(20, 2);
        assert_eq!(q.window, 3);
        // Postfix's arithmetic: the first failure costs two (the negative feedback
        // starts from zero), later ones one; cohorts of 1/5 + 1/3 + 1/2 kill it.
        let mut q = Queue::new("d", "d", 5);
        assert!(!q.failure(100, 300, "4.4.1 refused"));
        assert_eq!(q.window, 3);
        assert!(!q.failure(100, 300, "4.4.1 refused"));
        assert_eq!(q.window, 2);
        assert!(q.failure(100, 300, "4.4.1 refused"));
        assert_eq!(q.is_dead(200, 5).as_deref(), Some("4.4.1 refused"));
        assert_eq!(q.is_dead(400, 5), None);
        assert_eq!(q.window, 5);
    }
}
