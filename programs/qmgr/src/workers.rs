//! The threads that talk to delivery agents: kept between deliveries, so that a
//! delivery does not pay for creating and destroying a thread.
//!
//! Postfix's queue manager is one event loop with non-blocking agent connections
//! (`qmgr/qmgr_deliver.c`); here each delivery is a blocking conversation in a thread of
//! its own, and the threads wait for the next one when they are done. A new thread is
//! made only when every existing one is busy, so there are never more than the most
//! deliveries that were under way at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

/// One piece of work.
type Job = Box<dyn FnOnce() + Send>;

/// The pool.
pub struct Workers {
    jobs: Sender<Job>,
    queue: Arc<Mutex<Receiver<Job>>>,
    /// Threads waiting for work.
    idle: Arc<AtomicUsize>,
    /// Threads made so far (for their names).
    made: usize,
}

impl Default for Workers {
    fn default() -> Workers {
        let (jobs, queue) = channel();
        Workers {
            jobs,
            queue: Arc::new(Mutex::new(queue)),
            idle: Arc::new(AtomicUsize::new(0)),
            made: 0,
        }
    }
}

impl Workers {
    /// Runs `job` in an idle thread, or in a new one when none is idle.
    pub fn run(&mut self, job: impl FnOnce() + Send + 'static) {
        // Claim an idle thread; if there is none, make one for this job.
        let claimed = self
            .idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
        if !claimed {
            self.spawn();
        }
        if self.jobs.send(Box::new(job)).is_err() {
            log::msg_panic!("delivery threads gone");
        }
    }

    fn spawn(&mut self) {
        self.made += 1;
        let (queue, idle) = (Arc::clone(&self.queue), Arc::clone(&self.idle));
        let spawned = std::thread::Builder::new()
            .name(format!("deliver-{}", self.made))
            .spawn(move || {
                loop {
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else {
                        return;
                    };
                    job();
                    idle.fetch_add(1, Ordering::AcqRel);
                }
            });
        if let Err(e) = spawned {
            log::msg_fatal!("cannot start a delivery thread: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;
    use std::time::Duration;

    #[test]
    fn threads_are_reused_and_made_only_when_all_are_busy() {
        let mut workers = Workers::default();
        let (done, finished) = channel();
        for n in 0..3 {
            let done = done.clone();
            workers.run(move || {
                std::thread::sleep(Duration::from_millis(50));
                done.send(n).unwrap();
            });
        }
        // Three at once: three threads.
        let mut got: Vec<i32> = (0..3).map(|_| finished.recv().unwrap()).collect();
        got.sort();
        assert_eq!(got, [0, 1, 2]);
        assert_eq!(workers.made, 3);
        // Wait until they all say they are idle, then run three more, one at a time.
        while workers.idle.load(Ordering::Acquire) < 3 {
            std::thread::sleep(Duration::from_millis(5));
        }
        for n in 3..6 {
            let done = done.clone();
            workers.run(move || done.send(n).unwrap());
            assert_eq!(finished.recv().unwrap(), n);
        }
        assert_eq!(workers.made, 3);
    }
}
