//! Per-transport jobs and the preemptive scheduler: which message a transport delivers
//! next.
//!
//! Postfix counterparts: `qmgr/qmgr_job.c` and `qmgr/qmgr_peer.c`. Each message that has
//! recipients for a transport is a job of that transport; jobs are listed in the order
//! their messages entered the active queue, and the transport delivers the current job's
//! entries, round-robin over its destinations (peers), while their concurrency windows
//! allow. A job whose destinations are all busy is marked a blocker and skipped until one
//! of them finishes a delivery. Every entry delivered earns the job a fraction of a
//! delivery slot (1/`delivery_slot_cost`); a later, smaller job that fits in the slots the
//! current one can still earn, with the best ratio of waiting time to size, may take them
//! and go first (preemption, with `delivery_slot_loan` and `delivery_slot_discount`
//! deciding how early). Preempting jobs form a stack above the job they preempted.
//!
//! ironpost's queue manager reads every recipient of a message when it enters the
//! active queue, so a job's entries are all known at once (`rcpt_unread` is 0) and the
//! recipient slot accounting that Postfix does for messages read in parts is not needed.

use crate::entry::Entry;
use crate::queue::Queue;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// The slot settings of a transport (`transport_delivery_slot_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slots {
    /// Entries per earned slot; below 2 there is no preemption.
    pub cost: i64,
    /// Slots a job may borrow.
    pub loan: i64,
    /// 100 minus the discount: the percentage of the needed slots that must be there.
    pub loan_factor: i64,
    /// Slots a job must be able to earn to be preempted at all.
    pub min_slots: i64,
}

/// One message's part of a transport.
#[derive(Debug)]
struct Job {
    /// When the message entered the active queue.
    queued_time: i64,
    /// Entries made for it.
    read_entries: i64,
    /// Entries taken for delivery (or moved elsewhere).
    selected_entries: i64,
    /// Slots used, or (while it preempts) the difference to the expected use.
    slots_used: i64,
    /// Slots available to jobs that preempt it.
    slots_available: i64,
    /// The job it preempted.
    stack_parent: Option<String>,
    /// The jobs that preempted it.
    stack_children: Vec<String>,
    /// 0 on the plain list, higher on a preemption stack, -1 when not listed (retired).
    stack_level: i32,
    /// Equal to the transport's tag while the job is a blocker.
    blocker_tag: u64,
    /// Its destinations, in round-robin order.
    peers: VecDeque<String>,
}

impl Job {
    fn has_entries(&self) -> bool {
        self.selected_entries < self.read_entries
    }
}

/// The jobs of one transport.
#[derive(Debug)]
pub struct Jobs {
    /// Jobs by queue ID.
    jobs: HashMap<String, Job>,
    /// The scheduler's list: queue time order, preempting jobs before the job they
    /// preempted.
    list: Vec<String>,
    /// Where selection starts.
    current: Option<String>,
    /// The last candidate search: for which current job, at what time, and its answer.
    candidate_cache: Option<(String, i64, Option<String>)>,
    /// The blocker tag in force; odd, so that 0 never matches.
    blocker_tag: u64,
    /// The slot settings.
    slots: Slots,
}

impl Jobs {
    /// No jobs yet.
    pub fn new(slots: Slots) -> Jobs {
        Jobs {
            jobs: HashMap::new(),
            list: Vec::new(),
            current: None,
            candidate_cache: None,
            blocker_tag: 1,
            slots,
        }
    }

    fn job(&mut self, id: &str) -> &mut Job {
        self.jobs
            .get_mut(id)
            .unwrap_or_else(|| log::msg_panic!("qmgr_job: no job {id}"))
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.list.iter().position(|j| j == id)
    }

    fn reset_candidate_cache(&mut self) {
        self.candidate_cache = None;
    }

    /// The job of message `id`, made or brought back onto the list, ready for entries
    /// (`qmgr_job_obtain`).
    pub fn obtain(&mut self, id: &str, queued_time: i64) {
        if !self.jobs.contains_key(id) {
            self.jobs.insert(
                id.to_string(),
                Job {
                    queued_time,
                    read_entries: 0,
                    selected_entries: 0,
                    slots_used: 0,
                    slots_available: 0,
                    stack_parent: None,
                    stack_children: Vec::new(),
                    stack_level: -1,
                    blocker_tag: 0,
                    peers: VecDeque::new(),
                },
            );
        }
        if self.job(id).stack_level < 0 {
            self.link(id);
        }
        self.reset_candidate_cache();
        let tag = self.blocker_tag;
        let job = self.job(id);
        if job.blocker_tag == tag {
            job.blocker_tag = 0;
            self.current = self.list.first().cloned();
        }
    }

    /// Puts a job on the list after the last older job that preempts nobody, making it
    /// current when it lands before the current one (`qmgr_job_link`).
    fn link(&mut self, id: &str) {
        let queued_time = self.jobs[id].queued_time;
        let mut current = self.current.clone();
        let mut at = 0;
        for (index, other) in self.list.iter().enumerate().rev() {
            let prev = &self.jobs[other];
            if prev.stack_parent.is_none() && queued_time - prev.queued_time >= 0 {
                at = index + 1;
                break;
            }
            if current.as_deref() == Some(other.as_str()) {
                current = None;
            }
        }
        self.list.insert(at, id.to_string());
        self.job(id).stack_level = 0;
        if current.is_none() {
            self.current = Some(id.to_string());
        }
    }

    /// A new entry of job `id` for destination `queue`.
    pub fn add_entry(&mut self, id: &str, queue: &str) {
        let job = self.job(id);
        job.read_entries += 1;
        if !job.peers.iter().any(|p| p == queue) {
            job.peers.push_back(queue.to_string());
        }
    }

    /// An entry of job `id` left its destination without a delivery (moved to the retry
    /// transport): it counts as selected (`qmgr_entry_done` of a todo entry).
    pub fn entry_gone(&mut self, id: &str) {
        if let Some(job) = self.jobs.get_mut(id) {
            job.selected_entries += 1;
        }
    }

    /// The message is done: its job goes (`qmgr_job_free`).
    pub fn free(&mut self, id: &str, transport: &str) {
        let Some(level) = self.jobs.get(id).map(|j| j.stack_level) else {
            return;
        };
        if log::verbose() > 0 {
            log::msg_info!("qmgr_job_free: {id} {transport}");
        }
        if level > 0 {
            self.pop(id);
        }
        if self.jobs[id].stack_level >= 0 {
            self.unlink(id);
        }
        self.jobs.remove(id);
    }

    /// Hands the children of `id` to `parent`, or leaves them without one
    /// (`qmgr_job_parent_gone`).
    fn parent_gone(&mut self, id: &str, parent: Option<&str>) {
        let children = std::mem::take(&mut self.job(id).stack_children);
        for child in &children {
            self.job(child).stack_parent = parent.map(str::to_string);
        }
        if let Some(parent) = parent {
            self.job(parent).stack_children.extend(children);
        }
    }

    /// Takes a job off the list (`qmgr_job_unlink`).
    fn unlink(&mut self, id: &str) {
        self.parent_gone(id, None);
        let Some(at) = self.position(id) else {
            log::msg_panic!("qmgr_job_unlink: {id} not listed");
        };
        if self.current.as_deref() == Some(id) {
            self.current = self.list.get(at + 1).cloned();
        }
        if self
            .candidate_cache
            .as_ref()
            .is_some_and(|(cur, _, cand)| cur == id || cand.as_deref() == Some(id))
        {
            self.reset_candidate_cache();
        }
        self.list.remove(at);
        self.job(id).stack_level = -1;
    }

    /// Takes a job whose entries are all selected off the list (`qmgr_job_retire`).
    fn retire(&mut self, id: &str) {
        if log::verbose() > 0 {
            log::msg_info!("qmgr_job_retire: {id}");
        }
        if self.jobs[id].stack_level > 0 {
            self.pop(id);
        }
        self.unlink(id);
    }

    /// Takes a job off its preemption stack, giving its parent back the slots it did not
    /// use (`qmgr_job_pop`).
    fn pop(&mut self, id: &str) {
        if log::verbose() > 0 {
            log::msg_info!("qmgr_job_pop: {id}");
        }
        let (parent, level, used) = {
            let job = &self.jobs[id];
            (job.stack_parent.clone(), job.stack_level, job.slots_used)
        };
        if level <= 0 {
            log::msg_panic!("qmgr_job_pop: not on the job stack ({level})");
        }
        let cost = self.slots.cost;
        if let Some(parent) = &parent {
            let p = self.job(parent);
            if level == p.stack_level + 1 {
                p.slots_available -= used * cost;
            }
            p.stack_children.retain(|c| c != id);
            self.job(id).stack_parent = None;
        }
        self.parent_gone(id, parent.as_deref());
        self.job(id).stack_level = 0;
        self.reset_candidate_cache();
    }

    /// The best job to preempt `current`: among the later jobs that preempt nobody and
    /// are not blockers, the one whose remaining entries fit in the slots `current` can
    /// still earn, with the highest waiting time per entry (`qmgr_job_candidate`).
    fn candidate(&mut self, current: &str, now: i64) -> Option<String> {
        if let Some((cached_for, time, answer)) = &self.candidate_cache
            && cached_for == current
            && (*time == now || answer.is_none())
        {
            return answer.clone();
        }
        let cur = &self.jobs[current];
        let max_slots =
            (cur.read_entries - cur.selected_entries + cur.slots_available) / self.slots.cost;
        let mut best: Option<String> = None;
        let mut best_score = 0.0;
        if max_slots > 0 {
            let start = self.position(current).map_or(self.list.len(), |p| p + 1);
            for other in &self.list[start..] {
                let job = &self.jobs[other];
                if !job.stack_children.is_empty() || job.blocker_tag == self.blocker_tag {
                    continue;
                }
                let max_total = job.read_entries;
                let max_needed = max_total - job.selected_entries;
                let delay = now - job.queued_time + 1;
                if max_needed > 0 && max_needed <= max_slots {
                    let score = delay as f64 / max_total as f64;
                    if score > best_score {
                        best_score = score;
                        best = Some(other.clone());
                    }
                }
                // No later job can score higher than its waiting time.
                if (delay as f64) <= best_score && job.stack_level == 0 {
                    break;
                }
            }
        }
        self.candidate_cache = Some((current.to_string(), now, best.clone()));
        best
    }

    /// The job to serve instead of `current`, if one may preempt it now
    /// (`qmgr_job_preempt`).
    fn preempt(&mut self, current: &str, now: i64) -> String {
        let slots = self.slots;
        let cur = &self.jobs[current];
        if cur.slots_available <= 0 || cur.read_entries < slots.min_slots * slots.cost {
            return current.to_string();
        }
        let Some(id) = self.candidate(current, now) else {
            return current.to_string();
        };
        let expected = {
            let job = &self.jobs[&id];
            job.read_entries - job.selected_entries
        };
        let available = self.jobs[current].slots_available;
        if ((available / slots.cost + slots.loan) as f64)
            < (expected * slots.loan_factor) as f64 / 100.0
        {
            return current.to_string();
        }
        if self.jobs[&id].stack_level > 0 {
            self.pop(&id);
        }
        let from = self.position(&id).expect("candidate on the list");
        self.list.remove(from);
        let before = self.position(current).expect("current on the list");
        self.list.insert(before, id.clone());
        let level = self.jobs[current].stack_level + 1;
        {
            let job = self.job(&id);
            job.stack_parent = Some(current.to_string());
            job.stack_level = level;
            job.slots_used = -expected;
        }
        let cur = self.job(current);
        cur.stack_children.push(id.clone());
        cur.slots_available -= expected * slots.cost;
        self.current = Some(id.clone());
        self.reset_candidate_cache();
        if log::verbose() > 0 {
            log::msg_info!("qmgr_job_preempt: {current} by {id}, level {level}");
        }
        id
    }

    /// The next entry to deliver, taken from its destination's waiting entries, and that
    /// destination's name (`qmgr_job_entry_select`). Jobs whose destinations are all at
    /// their concurrency window become blockers; jobs without entries are retired.
    pub fn select(
        &mut self,
        queues: &mut BTreeMap<String, Queue>,
        now: i64,
        transport: &str,
    ) -> Option<(String, Entry)> {
        // Postfix starts from no job when the last search found nothing; starting from
        // the head instead costs a walk over the blockers and never strands an entry.
        let mut job = self
            .current
            .clone()
            .or_else(|| self.list.first().cloned())?;
        if self.slots.cost >= 2 {
            job = self.preempt(&job, now);
        }
        let mut at = self.position(&job)?;
        while at < self.list.len() {
            let id = self.list[at].clone();
            if self.jobs[&id].blocker_tag == self.blocker_tag {
                at += 1;
                continue;
            }
            if let Some((queue, entry)) = self.peer_select(&id, queues, transport) {
                let job = self.job(&id);
                job.selected_entries += 1;
                job.slots_available += 1;
                job.slots_used += 1;
                if self
                    .candidate_cache
                    .as_ref()
                    .is_some_and(|(cur, _, _)| *cur != id)
                {
                    self.reset_candidate_cache();
                }
                self.current = Some(id.clone());
                if !self.jobs[&id].has_entries() {
                    self.retire(&id);
                }
                return Some((queue, entry));
            }
            if self.jobs[&id].has_entries() {
                let tag = self.blocker_tag;
                self.job(&id).blocker_tag = tag;
                for peer in self.jobs[&id].peers.iter() {
                    if let Some(queue) = queues.get_mut(peer)
                        && queue.todo.iter().any(|e| e.id == id)
                    {
                        queue.blocker_tag = tag;
                    }
                }
                at += 1;
            } else {
                // Retiring takes it off the list: the next job is now at `at`.
                self.retire(&id);
            }
        }
        self.current = None;
        None
    }

    /// A destination of job `id` that may take a delivery and has an entry of it, made
    /// the last in the job's round-robin order, with that entry taken from it
    /// (`qmgr_peer_select`, `qmgr_entry_select`).
    fn peer_select(
        &mut self,
        id: &str,
        queues: &mut BTreeMap<String, Queue>,
        transport: &str,
    ) -> Option<(String, Entry)> {
        let job = self.job(id);
        job.peers.retain(|peer| {
            queues
                .get(peer)
                .is_some_and(|q| q.todo.iter().any(|e| e.id == id))
        });
        let at = job.peers.iter().position(|peer| queues[peer].may_take())?;
        job.peers.rotate_left(at + 1);
        let name = job.peers.back().cloned().expect("the peer just chosen");
        let queue = queues.get_mut(&name).expect("a listed peer");
        let index = queue.todo.iter().position(|e| e.id == id)?;
        let entry = queue.todo.remove(index)?;
        if log::verbose() > 0 {
            log::msg_info!(
                "qmgr_peer_select: {id} {transport} {name} ({} of {})",
                queue.busy + 1,
                queue.window
            );
        }
        Some((name, entry))
    }

    /// A destination that was holding jobs back may take more deliveries: every blocker
    /// gets another chance (`qmgr_job_blocker_update`).
    pub fn blocker_update(&mut self, queue: &mut Queue) {
        if queue.blocker_tag != self.blocker_tag {
            return;
        }
        if queue.may_take() && !queue.todo.is_empty() {
            self.blocker_tag += 2;
            self.current = self.list.first().cloned();
            self.reset_candidate_cache();
        }
        if queue.may_take() || queue.dead.is_some() {
            queue.blocker_tag = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Recipient;

    const SLOTS: Slots = Slots {
        cost: 5,
        loan: 3,
        loan_factor: 50,
        min_slots: 3,
    };

    /// `n` one-recipient entries of message `id` in queue `q`.
    fn add(
        jobs: &mut Jobs,
        queues: &mut BTreeMap<String, Queue>,
        id: &str,
        time: i64,
        q: &str,
        n: usize,
    ) {
        jobs.obtain(id, time);
        let queue = queues
            .entry(q.to_string())
            .or_insert_with(|| Queue::new(q, q, 1));
        for i in 0..n {
            let rcpt = Recipient {
                address: format!("{id}-{i}@{q}"),
                ..Recipient::default()
            };
            if crate::entry::add(&mut queue.todo, id, rcpt, 1) {
                jobs.add_entry(id, q);
            }
        }
    }

    /// Selects and completes deliveries one at a time; the message of each.
    fn run(
        jobs: &mut Jobs,
        queues: &mut BTreeMap<String, Queue>,
        now: i64,
        count: usize,
    ) -> Vec<String> {
        let mut order = Vec::new();
        for _ in 0..count {
            let Some((q, entry)) = jobs.select(queues, now, "t") else {
                break;
            };
            order.push(entry.id.clone());
            let queue = queues.get_mut(&q).unwrap();
            jobs.blocker_update(queue);
        }
        order
    }

    #[test]
    fn a_small_message_preempts_a_big_one() {
        let (mut jobs, mut queues) = (Jobs::new(SLOTS), BTreeMap::new());
        add(&mut jobs, &mut queues, "BIG", 100, "d", 20);
        // The big job earns its first slot with its first delivery.
        assert_eq!(run(&mut jobs, &mut queues, 100, 1), ["BIG"]);
        add(&mut jobs, &mut queues, "SMALL", 101, "d", 1);
        let order = run(&mut jobs, &mut queues, 101, 25);
        assert_eq!(order.len(), 20);
        assert_eq!(order[0], "SMALL", "{order:?}");
        assert!(order[1..].iter().all(|id| id == "BIG"));
    }

    #[test]
    fn without_slot_cost_jobs_go_in_queue_order() {
        let slots = Slots { cost: 1, ..SLOTS };
        let (mut jobs, mut queues) = (Jobs::new(slots), BTreeMap::new());
        add(&mut jobs, &mut queues, "BIG", 100, "d", 20);
        assert_eq!(run(&mut jobs, &mut queues, 100, 1), ["BIG"]);
        add(&mut jobs, &mut queues, "SMALL", 101, "d", 1);
        let order = run(&mut jobs, &mut queues, 101, 25);
        assert_eq!(order.last().map(String::as_str), Some("SMALL"));
    }

    #[test]
    fn a_blocked_job_lets_the_next_one_through() {
        let (mut jobs, mut queues) = (Jobs::new(SLOTS), BTreeMap::new());
        add(&mut jobs, &mut queues, "A", 100, "slow", 2);
        add(&mut jobs, &mut queues, "B", 101, "fast", 1);
        // Window 1 each: A's second entry waits for its first to finish, B goes.
        let first = jobs.select(&mut queues, 100, "t").unwrap();
        queues.get_mut(&first.0).unwrap().busy += 1;
        assert_eq!(first.1.id, "A");
        let second = jobs.select(&mut queues, 100, "t").unwrap();
        assert_eq!(second.1.id, "B");
        assert!(jobs.select(&mut queues, 100, "t").is_none());
        // A's destination finishes: A is no longer a blocker.
        let slow = queues.get_mut("slow").unwrap();
        slow.busy -= 1;
        jobs.blocker_update(slow);
        assert_eq!(jobs.select(&mut queues, 100, "t").unwrap().1.id, "A");
    }
}
