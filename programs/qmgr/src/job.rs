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
//! The jobs also share out the in-memory recipient slots (Postfix's `rcpt_limit`
//! accounting). A message is read from its queue file a slice at a time; each transport
//! has `transport_recipient_limit` slots, which the oldest job that still has recipients
//! in its file (the transport's "next unread" job) receives, and which go back to the
//! transport, and on to the next unread job, as soon as a job no longer needs them (its
//! message fully read, its job retired or freed). A job that preempts another gets part of
//! `transport_extra_recipient_limit` as well, so that a small message can be read while a
//! big one holds the transport's slots. The job scheduler asks for more of a message's
//! recipients (a refill, done by the caller) when enough slots are free
//! (`transport_recipient_refill_limit`) or some are free and
//! `transport_recipient_refill_delay` has passed since the last read, and again when the
//! job has no entry left to deliver.

use crate::entry::Entry;
use crate::queue::Queue;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// A message's share of the in-memory recipient slots: the parts of Postfix's
/// `QMGR_MESSAGE` that the jobs of every transport read and move.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Budget {
    /// Recipients of the message in memory (in entries not yet done).
    pub count: i64,
    /// Recipients it may hold in memory.
    pub limit: i64,
    /// Its queue file has recipients not read yet (`rcpt_offset != 0`).
    pub unread: bool,
    /// Recipients left in the file, as the size record counts them (an estimate after a
    /// deferral: it counts recipients done since).
    pub rcpt_unread: i64,
    /// When recipients were last read (seconds).
    pub refill_time: i64,
}

/// The budgets of the messages in the active queue, by queue ID.
pub type Budgets = HashMap<String, Budget>;

/// The budget of message `id`, which must have one while it has jobs.
pub fn budget<'a>(budgets: &'a mut Budgets, id: &str) -> &'a mut Budget {
    budgets
        .get_mut(id)
        .unwrap_or_else(|| log::msg_panic!("qmgr_job: no message {id}"))
}

/// A transport's in-memory recipient settings (`transport_recipient_limit` and friends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RcptLimits {
    /// Recipient slots of the transport.
    pub limit: i64,
    /// Extra slots for jobs on a preemption stack.
    pub per_stack: i64,
    /// Free slots that make a refill worth it.
    pub refill_limit: i64,
    /// Seconds after which fewer free slots do.
    pub refill_delay: i64,
}

/// What the job scheduler wants next.
#[derive(Debug)]
pub enum Pick {
    /// Deliver this entry to this destination.
    Entry(String, Entry),
    /// Read more recipients of this message, then call [`Jobs::select`] again with the
    /// [`Resume`] given.
    Refill(String, Resume),
    /// Nothing to deliver now.
    Nothing,
}

/// Where a selection interrupted by a refill goes on: at the job that asked for it, after
/// the refill that comes before its peer selection, or after the one that comes when it
/// had nothing to select (`qmgr_job_peer_select`'s two reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// The job's queue ID.
    pub id: String,
    /// The refill was the last chance one.
    pub last_chance: bool,
}

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
    /// Its recipients in memory.
    rcpt_count: i64,
    /// The recipient slots it holds.
    rcpt_limit: i64,
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
    /// The jobs in the order their messages entered the active queue (Postfix's
    /// `job_bytime`), which preemption does not change.
    bytime: Vec<String>,
    /// The oldest job whose message has unread recipients: it gets the free slots.
    next_unread: Option<String>,
    /// Recipient slots no job holds; negative while preempting jobs use extra ones.
    rcpt_unused: i64,
    /// The recipient settings.
    rcpt: RcptLimits,
}

impl Jobs {
    /// No jobs yet.
    pub fn new(slots: Slots, rcpt: RcptLimits) -> Jobs {
        Jobs {
            jobs: HashMap::new(),
            list: Vec::new(),
            current: None,
            candidate_cache: None,
            blocker_tag: 1,
            slots,
            bytime: Vec::new(),
            next_unread: None,
            rcpt_unused: rcpt.limit,
            rcpt,
        }
    }

    /// Whether message `id` has a job here.
    pub fn has(&self, id: &str) -> bool {
        self.jobs.contains_key(id)
    }

    /// The recipients in memory and the slots held by job `id`, if it exists.
    pub fn rcpt_slots(&self, id: &str) -> Option<(i64, i64, bool)> {
        self.jobs
            .get(id)
            .map(|j| (j.rcpt_count, j.rcpt_limit, j.stack_level >= 0))
    }

    /// `count` recipients of job `id` came into memory (positive) or left it (negative).
    pub fn count_rcpts(&mut self, id: &str, count: i64) {
        self.job(id).rcpt_count += count;
    }

    /// Gives the recipient slots that job `id` holds and does not use back to the
    /// transport, and from there to the next job with unread recipients
    /// (`qmgr_job_move_limits`).
    pub fn move_limits(&mut self, id: &str, budgets: &mut Budgets) {
        let mut next = self.next_unread.clone();
        if next.as_deref() == Some(id) {
            // The time list does not change order, so the search resumes where it is.
            next = self.bytime.iter().position(|j| j == id).and_then(|at| {
                self.bytime[at + 1..]
                    .iter()
                    .find(|j| budgets.get(*j).is_some_and(|b| b.unread))
                    .cloned()
            });
            self.next_unread = next.clone();
        }
        let job = &self.jobs[id];
        let message = &budgets[id];
        let unused = (job.rcpt_limit - job.rcpt_count).min(message.limit - message.count);
        if unused <= 0 {
            return;
        }
        self.job(id).rcpt_limit -= unused;
        budget(budgets, id).limit -= unused;
        self.rcpt_unused += unused;
        if let Some(next) = next
            && self.rcpt_unused > 0
        {
            let moved = std::mem::take(&mut self.rcpt_unused);
            self.job(&next).rcpt_limit += moved;
            budget(budgets, &next).limit += moved;
        }
    }

    /// Whether job `id` should have more of its message's recipients read now: some are
    /// left in the file and enough slots are free, or some are and the refill delay has
    /// passed (the first test of `qmgr_job_peer_select`).
    fn refill_due(&self, id: &str, budgets: &Budgets, now: i64) -> bool {
        let Some(message) = budgets.get(id) else {
            return false;
        };
        let free = message.limit - message.count;
        message.unread
            && (free >= self.rcpt.refill_limit
                || (free > 0 && now - message.refill_time >= self.rcpt.refill_delay))
    }

    /// Whether job `id` may have more recipients read as a last chance to find an entry
    /// (the second test of `qmgr_job_peer_select`).
    fn refill_possible(id: &str, budgets: &Budgets) -> bool {
        budgets
            .get(id)
            .is_some_and(|m| m.unread && m.limit > m.count)
    }

    /// The entries job `id` may yet have: those made plus the recipients still in the
    /// file (`MAX_ENTRIES`).
    fn max_entries(&self, id: &str, budgets: &Budgets) -> i64 {
        self.jobs[id].read_entries + budgets.get(id).map_or(0, |b| b.rcpt_unread)
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
    pub fn obtain(&mut self, id: &str, queued_time: i64, budgets: &mut Budgets) {
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
                    rcpt_count: 0,
                    rcpt_limit: 0,
                },
            );
        }
        if self.job(id).stack_level < 0 {
            self.link(id, budgets);
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
    /// current when it lands before the current one, and on the time list; an older job
    /// than the next unread one becomes the next unread one and takes the slots (`qmgr_job_link`).
    fn link(&mut self, id: &str, budgets: &mut Budgets) {
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
        let mut unread = self.next_unread.clone();
        let mut at_time = 0;
        for (index, other) in self.bytime.iter().enumerate().rev() {
            if queued_time - self.jobs[other].queued_time >= 0 {
                at_time = index + 1;
                break;
            }
            if unread.as_deref() == Some(other.as_str()) {
                unread = None;
            }
        }
        self.list.insert(at, id.to_string());
        self.bytime.insert(at_time, id.to_string());
        self.job(id).stack_level = 0;
        if current.is_none() {
            self.current = Some(id.to_string());
        }
        if unread.is_none()
            && let Some(old) = self.next_unread.replace(id.to_string())
        {
            self.move_limits(&old, budgets);
        }
        // As many slots as there are; the excess goes back once the message is read.
        if self.rcpt_unused > 0 {
            let granted = std::mem::take(&mut self.rcpt_unused);
            self.job(id).rcpt_limit += granted;
            budget(budgets, id).limit += granted;
        }
    }

    /// Message `id` got recipients: a job of it that may be chosen again makes the last
    /// candidate search stale (the end of `qmgr_message_assign`).
    pub fn sizes_changed(&mut self, id: &str) {
        if self
            .jobs
            .get(id)
            .is_some_and(|j| j.has_entries() && j.blocker_tag != self.blocker_tag)
        {
            self.reset_candidate_cache();
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

    /// The message is done: its job goes, its slots back to the transport
    /// (`qmgr_job_free`).
    pub fn free(&mut self, id: &str, transport: &str, budgets: &mut Budgets) {
        let Some(level) = self.jobs.get(id).map(|j| j.stack_level) else {
            return;
        };
        if log::verbose() > 0 {
            log::msg_info!("qmgr_job_free: {id} {transport}");
        }
        let count = self.jobs[id].rcpt_count;
        if count != 0 {
            log::msg_panic!("qmgr_job_free: non-zero recipient count ({count})");
        }
        if level > 0 {
            self.pop(id);
        }
        self.move_limits(id, budgets);
        let leak = self.jobs[id].rcpt_limit;
        if leak != 0 {
            log::msg_panic!("qmgr_job_free: recipient slots leak ({leak})");
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
        self.bytime.retain(|j| j != id);
        self.job(id).stack_level = -1;
    }

    /// Takes a job whose entries are all selected off the list, and its unused slots
    /// away (`qmgr_job_retire`).
    fn retire(&mut self, id: &str, budgets: &mut Budgets) {
        if log::verbose() > 0 {
            log::msg_info!("qmgr_job_retire: {id}");
        }
        if self.jobs[id].stack_level > 0 {
            self.pop(id);
        }
        self.move_limits(id, budgets);
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
    fn candidate(&mut self, current: &str, now: i64, budgets: &Budgets) -> Option<String> {
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
                let max_total = self.max_entries(other, budgets);
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
    fn preempt(&mut self, current: &str, now: i64, budgets: &mut Budgets) -> String {
        let slots = self.slots;
        let cur = &self.jobs[current];
        if cur.slots_available <= 0
            || self.max_entries(current, budgets) < slots.min_slots * slots.cost
        {
            return current.to_string();
        }
        let Some(id) = self.candidate(current, now, budgets) else {
            return current.to_string();
        };
        let expected = self.max_entries(&id, budgets) - self.jobs[&id].selected_entries;
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
        // Part of the extra slots, so that the preempting message can be read.
        if budgets.get(&id).is_some_and(|b| b.unread) {
            let extra = (self.rcpt.per_stack + self.rcpt_unused + 1) / 2;
            self.job(&id).rcpt_limit += extra;
            budget(budgets, &id).limit += extra;
            self.rcpt_unused -= extra;
        }
        if log::verbose() > 0 {
            log::msg_info!("qmgr_job_preempt: {current} by {id}, level {level}");
        }
        id
    }

    /// The next entry to deliver, taken from its destination's waiting entries, and that
    /// destination's name (`qmgr_job_entry_select`). Jobs whose destinations are all at
    /// their concurrency window become blockers; jobs without entries are retired. When a
    /// job wants more of its recipients read first, the answer says so; the caller reads
    /// them and calls again with the [`Resume`] it got.
    pub fn select(
        &mut self,
        queues: &mut BTreeMap<String, Queue>,
        now: i64,
        transport: &str,
        budgets: &mut Budgets,
        resume: Option<Resume>,
    ) -> Pick {
        let mut at = match &resume {
            // Back from a refill: on at the job that asked for it, without a new
            // preemption decision (Postfix reads in the middle of the selection).
            Some(r) => match self.position(&r.id) {
                Some(at) => at,
                None => return Pick::Nothing,
            },
            None => {
                // Postfix starts from no job when the last search found nothing;
                // starting from the head instead costs a walk over the blockers and
                // never strands an entry.
                let Some(mut job) = self.current.clone().or_else(|| self.list.first().cloned())
                else {
                    return Pick::Nothing;
                };
                if self.slots.cost >= 2 {
                    job = self.preempt(&job, now, budgets);
                }
                match self.position(&job) {
                    Some(at) => at,
                    None => return Pick::Nothing,
                }
            }
        };
        let mut resume = resume;
        while at < self.list.len() {
            let id = self.list[at].clone();
            if self.jobs[&id].blocker_tag == self.blocker_tag {
                at += 1;
                continue;
            }
            let resumed = resume.take_if(|r| r.id == id);
            // Read more recipients as soon as it is worth it, so that one slow
            // destination does not starve the others of this message.
            if resumed.is_none() && self.refill_due(&id, budgets, now) {
                return Pick::Refill(
                    id.clone(),
                    Resume {
                        id,
                        last_chance: false,
                    },
                );
            }
            let last_chance = resumed.is_some_and(|r| r.last_chance);
            let mut found = None;
            if self.jobs[&id].has_entries() {
                found = self.peer_select(&id, queues, transport);
            }
            if found.is_none() && !last_chance && Self::refill_possible(&id, budgets) {
                return Pick::Refill(
                    id.clone(),
                    Resume {
                        id,
                        last_chance: true,
                    },
                );
            }
            if let Some((queue, entry)) = found {
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
                // A job with nothing left in memory or in its file is done selecting.
                if !self.jobs[&id].has_entries() && !budgets.get(&id).is_some_and(|b| b.unread) {
                    self.retire(&id, budgets);
                }
                return Pick::Entry(queue, entry);
            }
            if self.jobs[&id].has_entries() {
                let tag = self.blocker_tag;
                self.job(&id).blocker_tag = tag;
                for peer in self.jobs[&id].peers.iter() {
                    if let Some(queue) = queues.get_mut(peer)
                        && queue.todo.has(&id)
                    {
                        queue.blocker_tag = tag;
                    }
                }
                at += 1;
            } else {
                // A stalled job: retiring takes it off the list, the next job is now at
                // `at`. It comes back when it gets entries.
                self.retire(&id, budgets);
            }
        }
        self.current = None;
        Pick::Nothing
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
        job.peers
            .retain(|peer| queues.get(peer).is_some_and(|q| q.todo.has(id)));
        let at = job.peers.iter().position(|peer| queues[peer].may_take())?;
        job.peers.rotate_left(at + 1);
        let name = job.peers.back().cloned().expect("the peer just chosen");
        let queue = queues.get_mut(&name).expect("a listed peer");
        let entry = queue.todo.take(id)?;
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

    const RCPT: RcptLimits = RcptLimits {
        limit: 20000,
        per_stack: 1000,
        refill_limit: 100,
        refill_delay: 5,
    };

    /// `n` one-recipient entries of message `id` in queue `q`, all read.
    fn add(
        jobs: &mut Jobs,
        queues: &mut BTreeMap<String, Queue>,
        budgets: &mut Budgets,
        id: &str,
        time: i64,
        q: &str,
        n: usize,
    ) {
        budgets.entry(id.to_string()).or_insert(Budget {
            limit: 10,
            ..Budget::default()
        });
        jobs.obtain(id, time, budgets);
        let queue = queues
            .entry(q.to_string())
            .or_insert_with(|| Queue::new(q, q, 1));
        for i in 0..n {
            let rcpt = Recipient {
                address: format!("{id}-{i}@{q}"),
                ..Recipient::default()
            };
            if queue.todo.add(id, rcpt, 1) {
                jobs.add_entry(id, q);
            }
            jobs.count_rcpts(id, 1);
            budgets.get_mut(id).unwrap().count += 1;
        }
    }

    /// One selection without refills.
    fn pick(
        jobs: &mut Jobs,
        queues: &mut BTreeMap<String, Queue>,
        budgets: &mut Budgets,
        now: i64,
    ) -> Option<(String, Entry)> {
        match jobs.select(queues, now, "t", budgets, None) {
            Pick::Entry(q, entry) => Some((q, entry)),
            Pick::Nothing => None,
            Pick::Refill(id, _) => panic!("refill of {id}"),
        }
    }

    /// Selects and completes deliveries one at a time; the message of each.
    fn run(
        jobs: &mut Jobs,
        queues: &mut BTreeMap<String, Queue>,
        budgets: &mut Budgets,
        now: i64,
        count: usize,
    ) -> Vec<String> {
        let mut order = Vec::new();
        for _ in 0..count {
            let Some((q, entry)) = pick(jobs, queues, budgets, now) else {
                break;
            };
            order.push(entry.id.clone());
            let queue = queues.get_mut(&q).unwrap();
            jobs.blocker_update(queue);
        }
        order
    }

    fn new() -> (Jobs, BTreeMap<String, Queue>, Budgets) {
        (Jobs::new(SLOTS, RCPT), BTreeMap::new(), Budgets::new())
    }

    #[test]
    fn a_small_message_preempts_a_big_one() {
        let (mut jobs, mut queues, mut budgets) = new();
        add(&mut jobs, &mut queues, &mut budgets, "BIG", 100, "d", 20);
        // The big job earns its first slot with its first delivery.
        assert_eq!(run(&mut jobs, &mut queues, &mut budgets, 100, 1), ["BIG"]);
        add(&mut jobs, &mut queues, &mut budgets, "SMALL", 101, "d", 1);
        let order = run(&mut jobs, &mut queues, &mut budgets, 101, 25);
        assert_eq!(order.len(), 20);
        assert_eq!(order[0], "SMALL", "{order:?}");
        assert!(order[1..].iter().all(|id| id == "BIG"));
    }

    #[test]
    fn without_slot_cost_jobs_go_in_queue_order() {
        let slots = Slots { cost: 1, ..SLOTS };
        let (mut jobs, mut queues, mut budgets) =
            (Jobs::new(slots, RCPT), BTreeMap::new(), Budgets::new());
        add(&mut jobs, &mut queues, &mut budgets, "BIG", 100, "d", 20);
        assert_eq!(run(&mut jobs, &mut queues, &mut budgets, 100, 1), ["BIG"]);
        add(&mut jobs, &mut queues, &mut budgets, "SMALL", 101, "d", 1);
        let order = run(&mut jobs, &mut queues, &mut budgets, 101, 25);
        assert_eq!(order.last().map(String::as_str), Some("SMALL"));
    }

    #[test]
    fn a_blocked_job_lets_the_next_one_through() {
        let (mut jobs, mut queues, mut budgets) = new();
        add(&mut jobs, &mut queues, &mut budgets, "A", 100, "slow", 2);
        add(&mut jobs, &mut queues, &mut budgets, "B", 101, "fast", 1);
        // Window 1 each: A's second entry waits for its first to finish, B goes.
        let first = pick(&mut jobs, &mut queues, &mut budgets, 100).unwrap();
        queues.get_mut(&first.0).unwrap().busy += 1;
        assert_eq!(first.1.id, "A");
        let second = pick(&mut jobs, &mut queues, &mut budgets, 100).unwrap();
        assert_eq!(second.1.id, "B");
        assert!(pick(&mut jobs, &mut queues, &mut budgets, 100).is_none());
        // A's destination finishes: A is no longer a blocker.
        let slow = queues.get_mut("slow").unwrap();
        slow.busy -= 1;
        jobs.blocker_update(slow);
        assert_eq!(
            pick(&mut jobs, &mut queues, &mut budgets, 100)
                .unwrap()
                .1
                .id,
            "A"
        );
    }

    /// A message with recipients left in its file, as the first read leaves it.
    fn unread(budgets: &mut Budgets, id: &str, left: i64, now: i64) {
        budgets.insert(
            id.to_string(),
            Budget {
                limit: 10,
                unread: true,
                rcpt_unread: left,
                refill_time: now,
                ..Budget::default()
            },
        );
    }

    #[test]
    fn the_transport_slots_go_to_the_oldest_unread_job_and_back() {
        let rcpt = RcptLimits { limit: 100, ..RCPT };
        let (mut jobs, mut queues, mut budgets) =
            (Jobs::new(SLOTS, rcpt), BTreeMap::new(), Budgets::new());
        unread(&mut budgets, "BIG", 1000, 100);
        add(&mut jobs, &mut queues, &mut budgets, "BIG", 100, "d", 10);
        // The first job takes every slot of the transport, on top of its minimum.
        assert_eq!(jobs.rcpt_slots("BIG"), Some((10, 100, true)));
        assert_eq!(budgets["BIG"].limit, 110);
        assert_eq!(jobs.rcpt_unused, 0);
        // A later message gets none: it lives on its own minimum.
        add(&mut jobs, &mut queues, &mut budgets, "SMALL", 101, "d", 1);
        assert_eq!(jobs.rcpt_slots("SMALL"), Some((1, 0, true)));
        assert_eq!(jobs.next_unread.as_deref(), Some("BIG"));
        // BIG read in full with 40 recipients in memory: its 60 unused slots go back,
        // and on to the next unread job, when there is one.
        unread(&mut budgets, "LATER", 500, 102);
        add(&mut jobs, &mut queues, &mut budgets, "LATER", 102, "e", 1);
        let big = budgets.get_mut("BIG").unwrap();
        big.unread = false;
        big.count = 40;
        jobs.count_rcpts("BIG", 30);
        jobs.move_limits("BIG", &mut budgets);
        assert_eq!(jobs.rcpt_slots("BIG"), Some((40, 40, true)));
        assert_eq!(budgets["BIG"].limit, 50);
        assert_eq!(jobs.next_unread.as_deref(), Some("LATER"));
        assert_eq!(jobs.rcpt_slots("LATER"), Some((1, 60, true)));
        assert_eq!(budgets["LATER"].limit, 70);
        assert_eq!(jobs.rcpt_unused, 0);
    }

    #[test]
    fn an_older_job_takes_over_as_next_unread() {
        let rcpt = RcptLimits { limit: 100, ..RCPT };
        let (mut jobs, mut queues, mut budgets) =
            (Jobs::new(SLOTS, rcpt), BTreeMap::new(), Budgets::new());
        unread(&mut budgets, "NEW", 1000, 200);
        add(&mut jobs, &mut queues, &mut budgets, "NEW", 200, "d", 10);
        assert_eq!(jobs.rcpt_slots("NEW"), Some((10, 100, true)));
        // A job of a message that entered the active queue earlier (a retry transport
        // job made late) becomes the next unread one; the newer one's unused slots move
        // to it.
        unread(&mut budgets, "OLD", 1000, 100);
        add(&mut jobs, &mut queues, &mut budgets, "OLD", 100, "d", 5);
        assert_eq!(jobs.next_unread.as_deref(), Some("OLD"));
        assert_eq!(jobs.rcpt_slots("NEW"), Some((10, 10, true)));
        assert_eq!(jobs.rcpt_slots("OLD"), Some((5, 90, true)));
        assert_eq!(budgets["OLD"].limit, 100);
    }

    #[test]
    fn refills_when_enough_slots_are_free_or_after_the_delay() {
        let rcpt = RcptLimits { limit: 300, ..RCPT };
        let (mut jobs, mut queues, mut budgets) =
            (Jobs::new(SLOTS, rcpt), BTreeMap::new(), Budgets::new());
        unread(&mut budgets, "BIG", 1000, 100);
        add(&mut jobs, &mut queues, &mut budgets, "BIG", 100, "d", 250);
        // 310 slots, 250 used: 60 free is below the refill limit of 100, and the last
        // read was just now: deliver what is in memory.
        assert!(pick(&mut jobs, &mut queues, &mut budgets, 100).is_some());
        // Five seconds later, any free slot is worth a read.
        let picked = jobs.select(&mut queues, 105, "t", &mut budgets, None);
        let Pick::Refill(id, resume) = picked else {
            panic!("{picked:?}");
        };
        assert_eq!((id.as_str(), resume.last_chance), ("BIG", false));
        // Back from the read (which the caller does), selection goes on at that job.
        budgets.get_mut("BIG").unwrap().refill_time = 105;
        let picked = jobs.select(&mut queues, 105, "t", &mut budgets, Some(resume));
        assert!(
            matches!(picked, Pick::Entry(_, ref e) if e.id == "BIG"),
            "{picked:?}"
        );
        // 100 free slots: at once.
        budgets.get_mut("BIG").unwrap().count = 210;
        assert!(matches!(
            jobs.select(&mut queues, 105, "t", &mut budgets, None),
            Pick::Refill(_, _)
        ));
    }

    #[test]
    fn a_job_without_entries_gets_a_last_chance_read_and_stays_listed() {
        let (mut jobs, mut queues, mut budgets) = new();
        unread(&mut budgets, "BIG", 1000, 100);
        add(&mut jobs, &mut queues, &mut budgets, "BIG", 100, "d", 1);
        let rcpts = budgets.get_mut("BIG").unwrap();
        rcpts.limit = 1;
        assert!(pick(&mut jobs, &mut queues, &mut budgets, 100).is_some());
        // Every entry selected, but the file has more: the job is not retired.
        assert_eq!(jobs.rcpt_slots("BIG").map(|s| s.2), Some(true));
        // The entry's delivery ended: a slot is free, the job has nothing in memory.
        budgets.get_mut("BIG").unwrap().count = 0;
        let picked = jobs.select(&mut queues, 100, "t", &mut budgets, None);
        let Pick::Refill(_, resume) = picked else {
            panic!("{picked:?}");
        };
        assert!(resume.last_chance);
        // The read found nothing after all: the stalled job is retired.
        let picked = jobs.select(&mut queues, 100, "t", &mut budgets, Some(resume));
        assert!(matches!(picked, Pick::Nothing), "{picked:?}");
        assert_eq!(jobs.rcpt_slots("BIG").map(|s| s.2), Some(false));
    }
}
