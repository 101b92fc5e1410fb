//! Destinations: the per-destination queue of delivery requests, its concurrency window
//! and its feedback.
//!
//! Postfix counterparts: `qmgr/qmgr_queue.c` and `qmgr/qmgr_feedback.c`. A destination
//! (`transport:nexthop`, or one recipient for transports with a recipient limit of 1)
//! starts at `initial_destination_concurrency` parallel deliveries. Each delivery that
//! ends without a site problem raises the window by 1/window (so a full window of
//! successes adds one), up to the destination concurrency limit; each delivery that
//! reports a site problem lowers it by 1/window. When the window falls below 1 the
//! destination is dead: its waiting requests go to the `retry` transport with the
//! reason, until `minimal_backoff_time` has passed or `postqueue -f` flushes it.

use crate::entry::Entry;
use std::collections::VecDeque;

/// One destination.
pub struct Queue {
    /// The queue name (lowercase nexthop, or `user@nexthop`).
    pub name: String,
    /// The next hop the delivery requests carry.
    pub nexthop: String,
    /// The concurrency window (fractional feedback accumulates here).
    pub window: f64,
    /// Deliveries under way.
    pub busy: usize,
    /// Requests waiting.
    pub todo: VecDeque<Entry>,
    /// Dead until (seconds), with the reason, once the window falls below 1.
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
            window: init as f64,
            busy: 0,
            todo: VecDeque::new(),
            dead: None,
        }
    }

    /// Whether a delivery may start now under `limit` (0: no limit).
    pub fn ready(&self, limit: usize) -> bool {
        let window = self.window.floor() as usize;
        let cap = if limit == 0 {
            window
        } else {
            window.min(limit)
        };
        !self.todo.is_empty() && self.dead.is_none() && self.busy < cap.max(1)
    }

    /// A delivery ended without a site problem (`qmgr_queue_unthrottle`).
    pub fn success(&mut self, limit: usize) {
        let max = if limit == 0 { f64::MAX } else { limit as f64 };
        if self.window < max {
            self.window = (self.window + 1.0 / self.window.max(1.0)).min(max);
            if log::verbose() > 0 {
                log::msg_info!(
                    "qmgr_queue_unthrottle: {} window {:.2}",
                    self.name,
                    self.window
                );
            }
        }
    }

    /// A delivery reported a site problem (`qmgr_queue_throttle`): lowers the window;
    /// the destination dies for `backoff` seconds when it falls below 1. True when it
    /// just died.
    pub fn failure(&mut self, now: i64, backoff: i64, why: &str) -> bool {
        self.window -= 1.0 / self.window.max(1.0);
        if log::verbose() > 0 {
            log::msg_info!(
                "qmgr_queue_throttle: {} window {:.2}: {why}",
                self.name,
                self.window
            );
        }
        if self.window < 1.0 && self.dead.is_none() {
            self.dead = Some((now + backoff, why.to_string()));
            return true;
        }
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

    /// Brings a dead destination back with a window of `init` (also on `postqueue -f`).
    pub fn revive(&mut self, init: usize) {
        if self.dead.take().is_some() && log::verbose() > 0 {
            log::msg_info!("qmgr_queue_unthrottle: {} revived", self.name);
        }
        if self.window < 1.0 {
            self.window = init as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_moves_the_window_one_per_window() {
        let mut q = Queue::new("example.com", "example.com", 2);
        for _ in 0..2 {
            q.success(20);
        }
        assert!((q.window - 2.9).abs() < 0.01);
        let mut q = Queue::new("d", "d", 1);
        assert!(q.failure(100, 300, "4.4.1 connection refused"));
        assert_eq!(
            q.is_dead(200, 5).as_deref(),
            Some("4.4.1 connection refused")
        );
        assert_eq!(q.is_dead(400, 5), None);
        assert_eq!(q.window, 5.0);
    }
}
