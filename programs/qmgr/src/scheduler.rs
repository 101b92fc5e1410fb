//! The scheduler: one thread that owns the active queue and every destination, takes
//! triggers and delivery outcomes as events, feeds messages in, and starts deliveries.
//!
//! Postfix counterpart: `qmgr/qmgr.c` (`qmgr_loop`, `qmgr_trigger_event`, the deferred
//! queue timer) with the selection of `qmgr_transport.c` and the status handling of
//! `qmgr_deliver_update()`. As Postfix's, it is one event loop in the process's only
//! thread, with non-blocking agent connections (deliver.rs): it polls the agents'
//! sockets, the trigger socket and the master's status channel (server::trigger's
//! Triggers), so a new message costs one wake-up of one thread.
//! A message lives in memory from feed to done; its file stays in active/ meanwhile, so
//! after a crash the start-up move brings it back. Its recipients are read a slice at a
//! time (job.rs says how many); when a slice's deliveries have all ended and the file
//! has more, the bounce log so far is sent and the next slice read (`qmgr_active_done`
//! and `qmgr_message_realloc`).

use crate::active;
use crate::deliver::{self, Outcome, Status};
use crate::entry::{Entry, Todo};
use crate::job::{Budget, Budgets, Pick};
use crate::message::Message;
use crate::resolve::Routing;
use crate::scan::{self, Scan};
use crate::settings::Settings;
use crate::transport::{Limits, Transport};
use global::deliver_request::DEL_REQ_FLAG_MTA_VRFY;
use global::mail_queue::{ACTIVE, DEFERRED, INCOMING};
use global::rewrite_clnt::RewriteClient;
use params::Config;
use server::Daemon;
use server::trigger::Triggers;
use std::collections::{BTreeMap, HashMap};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use sys::nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// Trigger requests (Postfix's `QMGR_REQ_*` and `TRIGGER_REQ_WAKEUP`).
const REQ_WAKEUP: u8 = b'W';
const REQ_SCAN_INCOMING: u8 = b'I';
const REQ_SCAN_DEFERRED: u8 = b'D';
const REQ_FLUSH_DEAD: u8 = b'F';
const REQ_SCAN_ALL: u8 = b'A';

/// The longest the scheduler waits for an event.
const MAX_WAIT: Duration = Duration::from_secs(60);
/// Messages taken in per pass: one, as Postfix's qmgr_loop takes one per event, so
/// that deliveries that ended are seen, and new ones started, between any two messages.
/// A batch of 100 held every delivery back while it was read: under a steady stream of
/// new mail the local benchmark delivered 20 messages a second until the stream ended.
const FEED_BATCH: usize = 1;

/// A delivery under way: the entry, where it goes, and the conversation with the agent.
struct InFlight {
    transport: String,
    queue: String,
    entry: Entry,
    delivery: deliver::Delivery,
    /// Its socket was ready at the last poll.
    ready: bool,
    /// It ended as it started (the agent could not be reached): the outcome waits for
    /// the next turn of the loop, which then dispatches again.
    ended: Option<Outcome>,
}

/// A message in the active queue.
struct Active {
    message: Message,
    /// Entries not yet ended.
    refcount: usize,
    /// Some recipient was deferred.
    deferred: bool,
    /// When it entered the active queue (its jobs' place on the job lists).
    queued: i64,
    /// It is an address verification probe, counted in `vrfy_pending`.
    probe: bool,
}

/// The scheduler's state.
pub struct Scheduler {
    settings: Settings,
    config: Config,
    rewrite: RewriteClient,
    transports: BTreeMap<String, Transport>,
    messages: HashMap<String, Active>,
    incoming: Scan,
    deferred: Scan,
    next_deferred_scan: Instant,
    /// Flush flags that apply to the messages fed by the current scans.
    flush_dfxp: bool,
    /// The deliveries under way.
    deliveries: Vec<InFlight>,
    /// The in-memory recipient budgets of the messages.
    budgets: Budgets,
    /// Recipients in memory, all messages together (`qmgr_recipient_count`).
    in_memory: i64,
    /// Address verification probes in the active queue (`qmgr_vrfy_pend_count`).
    vrfy_pending: i64,
}

/// Where a selected entry goes: its destination's next hop, and the request flags the
/// destination adds (`queue->dflags`: the on-demand connection cache).
pub struct Target {
    nexthop: String,
    dflags: i32,
}

/// Now as (seconds, microseconds).
pub fn now_tv() -> (i64, i64) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (now.as_secs() as i64, i64::from(now.subsec_micros()))
}

impl Scheduler {
    /// A scheduler with nothing in memory, about to scan both queues.
    pub fn new(settings: Settings, config: Config, rewrite: RewriteClient) -> Scheduler {
        let mut incoming = Scan::new(INCOMING);
        let mut deferred = Scan::new(DEFERRED);
        // Postfix's qmgr_post_init: look at both queues at once.
        incoming.request(scan::START);
        deferred.request(scan::START);
        let next_deferred_scan =
            Instant::now() + Duration::from_secs(settings.queue_run_delay as u64);
        Scheduler {
            settings,
            config,
            rewrite,
            transports: BTreeMap::new(),
            messages: HashMap::new(),
            incoming,
            deferred,
            next_deferred_scan,
            flush_dfxp: false,
            deliveries: Vec::new(),
            budgets: Budgets::new(),
            in_memory: 0,
            vrfy_pending: 0,
        }
    }

    /// Runs forever, serving `triggers` of `daemon` in the same loop (it exits when the
    /// master goes away).
    pub fn run(mut self, mut daemon: Daemon, mut triggers: Triggers) -> ! {
        loop {
            // Restarts the watchdog: the wait is never longer than a minute.
            triggers.before_wait(&daemon);
            let busy_scans = self.incoming.busy() || self.deferred.busy();
            let wait = if busy_scans && self.messages.len() < self.settings.active_limit {
                Duration::ZERO
            } else {
                let mut until = self
                    .next_resume()
                    .map_or(self.next_deferred_scan, |r| r.min(self.next_deferred_scan));
                for flight in &self.deliveries {
                    until = until.min(flight.delivery.deadline());
                    if flight.ended.is_some() {
                        until = Instant::now();
                    }
                }
                if let Some(idle) = triggers.deadline() {
                    until = until.min(idle);
                }
                until
                    .saturating_duration_since(Instant::now())
                    .min(MAX_WAIT)
            };
            let trigger_fds: Vec<BorrowedFd<'static>> = triggers.fds(&daemon).collect();
            for fd in self.wait_events(wait, &trigger_fds) {
                triggers.ready(&mut daemon, fd, |_, bytes| self.trigger(bytes));
            }
            self.advance_deliveries();
            if Instant::now() >= self.next_deferred_scan {
                self.deferred.request(scan::START);
                self.next_deferred_scan =
                    Instant::now() + Duration::from_secs(self.settings.queue_run_delay as u64);
            }
            let fed_incoming = self.feed();
            self.dispatch();
            if self.settings.in_flow_delay {
                crate::flow::adjust(
                    self.settings.proc_limit,
                    fed_incoming,
                    !self.incoming.busy(),
                );
            }
        }
    }

    /// Waits up to `wait` for one of `trigger_fds` or an agent's socket, marking the
    /// deliveries whose socket is ready; returns the trigger descriptors that are.
    fn wait_events(
        &mut self,
        wait: Duration,
        trigger_fds: &[BorrowedFd<'static>],
    ) -> Vec<BorrowedFd<'static>> {
        let mut fds = Vec::with_capacity(self.deliveries.len() + trigger_fds.len());
        let mut owners = Vec::with_capacity(self.deliveries.len());
        for fd in trigger_fds {
            fds.push(PollFd::new(*fd, PollFlags::POLLIN));
        }
        for (at, flight) in self.deliveries.iter().enumerate() {
            if let Some((socket, write)) = flight.delivery.socket() {
                let events = if write {
                    PollFlags::POLLOUT
                } else {
                    PollFlags::POLLIN
                };
                fds.push(PollFd::new(socket.as_fd(), events));
                owners.push(at);
            }
        }
        let millis = wait.as_millis().min(i32::MAX as u128) as i32;
        let timeout = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
        match poll(&mut fds, timeout) {
            Ok(_) | Err(sys::nix::errno::Errno::EINTR) => {}
            Err(e) => log::msg_fatal!("poll: {e}"),
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        let first = trigger_fds.len();
        for (slot, at) in owners.into_iter().enumerate() {
            self.deliveries[at].ready = ready[first + slot];
        }
        trigger_fds
            .iter()
            .zip(&ready)
            .filter_map(|(fd, &ready)| ready.then_some(*fd))
            .collect()
    }

    /// Moves on every delivery whose socket is ready or whose time has come; the
    /// outcome of each that ended goes to [`Scheduler::delivered`].
    fn advance_deliveries(&mut self) {
        let now = Instant::now();
        let mut at = 0;
        while at < self.deliveries.len() {
            let flight = &mut self.deliveries[at];
            let due = std::mem::take(&mut flight.ready) || flight.delivery.deadline() <= now;
            let ended = match flight.ended.take() {
                Some(outcome) => Some(outcome),
                None if due => flight.delivery.advance(now),
                None => None,
            };
            if let Some(outcome) = ended {
                let done = self.deliveries.remove(at);
                self.delivered(&done.transport, &done.queue, done.entry, outcome);
                continue;
            }
            at += 1;
        }
    }

    /// A trigger (`qmgr_trigger_event`).
    pub fn trigger(&mut self, bytes: &[u8]) {
        let (mut incoming, mut deferred) = (0, 0);
        for &b in bytes {
            if log::verbose() > 0 {
                let shown = if b.is_ascii_alphanumeric() {
                    b as char
                } else {
                    '?'
                };
                log::msg_info!("request: {b} ({shown})");
            }
            match b {
                REQ_WAKEUP | REQ_SCAN_INCOMING => incoming |= scan::START,
                REQ_SCAN_DEFERRED => deferred |= scan::START,
                REQ_FLUSH_DEAD => {
                    incoming |= scan::FLUSH_ONCE | scan::FLUSH_DFXP;
                    deferred |= scan::FLUSH_ONCE | scan::FLUSH_DFXP;
                }
                REQ_SCAN_ALL => {
                    incoming |= scan::ALL;
                    deferred |= scan::ALL;
                }
                _ => {
                    if log::verbose() > 0 {
                        log::msg_info!("request ignored");
                    }
                }
            }
        }
        let mut flush = 0;
        if incoming != 0 {
            flush |= self.incoming.request(incoming);
        }
        if deferred != 0 {
            flush |= self.deferred.request(deferred);
        }
        if (incoming | deferred) & scan::FLUSH_DFXP != 0 {
            self.flush_dfxp = true;
        }
        if flush & scan::FLUSH_ONCE != 0 {
            self.unthrottle_all();
        }
    }

    /// Revives every dead destination and throttled transport (`postqueue -f`).
    fn unthrottle_all(&mut self) {
        for transport in self.transports.values_mut() {
            transport.throttled = None;
            let limits = transport.limits;
            for queue in transport.queues.values_mut() {
                queue.revive(&limits);
                transport.jobs.blocker_update(queue);
            }
        }
    }

    /// Takes messages from the scans into the active queue, incoming first, while there
    /// is room; how many came from incoming/.
    fn feed(&mut self) -> usize {
        let mut fed_incoming = 0;
        let mut fed = 0;
        while self.messages.len() < self.settings.active_limit && fed < FEED_BATCH {
            let (scan, from_incoming) = if self.incoming.busy() {
                (&mut self.incoming, true)
            } else if self.deferred.busy() {
                (&mut self.deferred, false)
            } else {
                break;
            };
            let queue = scan.queue;
            let all = scan.flags & scan::ALL != 0;
            let Some(id) = scan.next() else {
                if !self.incoming.busy() && !self.deferred.busy() {
                    self.flush_dfxp = false;
                }
                continue;
            };
            if self.messages.contains_key(&id) {
                continue;
            }
            sys::watchdog::pat();
            let now = now_tv();
            let Some((path, marks)) = active::feed(&self.settings.layout, queue, &id, all, now.0)
            else {
                continue;
            };
            fed_incoming += usize::from(from_incoming);
            fed += 1;
            self.admit(&path, &id, marks, now);
        }
        fed_incoming
    }

    /// Reads and routes a message now in active/ (its first slice of recipients).
    fn admit(&mut self, path: &str, id: &str, marks: active::Marks, now: (i64, i64)) {
        log::work::queue_id(id);
        let limit = Message::first_limit(
            self.settings.rcpt_limit,
            self.in_memory,
            self.settings.rcpt_minimum,
        );
        let Ok(mut message) = Message::read(path, id, now, limit) else {
            active::corrupt(&self.settings.layout, id);
            return;
        };
        marks.clear_unthrottle(path);
        message.force_expire = marks.expire;
        message.unthrottle = marks.unthrottle;
        self.budgets.insert(
            id.to_string(),
            Budget {
                limit: self.settings.rcpt_minimum,
                ..Budget::default()
            },
        );
        let probe = message.tflags & DEL_REQ_FLAG_MTA_VRFY != 0;
        self.vrfy_pending += i64::from(probe);
        self.messages.insert(
            id.to_string(),
            Active {
                message,
                refcount: 0,
                deferred: false,
                queued: now.0,
                probe,
            },
        );
        // Expiry with a defer log: that log says why, nothing is tried again.
        if marks.expire && active::has_defer_log(&self.settings.layout, id) {
            let active = self.messages.get_mut(id).expect("just inserted");
            active.message.rcpts.clear();
            active.deferred = true;
            self.sync_budget(id);
            self.finish(id, now.0);
            return;
        }
        active::reset_defer_log(&self.settings.layout, id);
        self.route(id, now.0);
        if self.messages[id].refcount == 0 {
            self.finish(id, now.0);
        }
    }

    /// Routes the recipients of message `id` read so far and takes back the slots it
    /// holds and no longer needs once it is read in full (`qmgr_message_resolve`,
    /// `qmgr_message_assign`, `qmgr_message_move_limits`).
    fn route(&mut self, id: &str, now: i64) {
        let messages = self.messages.len();
        let Some(active) = self.messages.get_mut(id) else {
            return;
        };
        let entries = Routing {
            config: &self.config,
            settings: &self.settings,
            rewrite: &mut self.rewrite,
            transports: &mut self.transports,
            now,
            flush_dfxp: self.flush_dfxp || active.message.unthrottle,
            budgets: &mut self.budgets,
            in_memory: &mut self.in_memory,
            messages,
            vrfy_pending: self.vrfy_pending,
        }
        .message(&mut active.message);
        active.refcount += entries;
        self.sync_budget(id);
        if !self.budgets[id].unread {
            for transport in self.transports.values_mut() {
                if transport.jobs.has(id) {
                    transport.jobs.move_limits(id, &mut self.budgets);
                }
            }
        }
    }

    /// Copies what the jobs need to know of the queue file's reading into the budget.
    fn sync_budget(&mut self, id: &str) {
        let message = &self.messages[id].message;
        let budget = crate::job::budget(&mut self.budgets, id);
        budget.unread = message.rcpt_offset != 0;
        budget.rcpt_unread = i64::from(message.rcpt_unread);
        budget.refill_time = message.refill_time;
    }

    /// Reads and routes the next slice of message `id`'s recipients, as many as its
    /// free slots (`qmgr_message_realloc`). Err (after a logged warning) when the file
    /// turned out damaged.
    fn refill(&mut self, id: &str, now: i64) -> Result<(), ()> {
        let budget = &self.budgets[id];
        let limit = Message::refill_limit(budget.limit - budget.count);
        let path = self.settings.layout.path(ACTIVE, id);
        let active = self.messages.get_mut(id).expect("a message with jobs");
        if log::verbose() > 0 {
            log::msg_info!(
                "qmgr_message_realloc: {ACTIVE} {id} offset {}",
                active.message.rcpt_offset
            );
        }
        active.message.read_more(&path, limit)?;
        self.route(id, now);
        Ok(())
    }

    /// Message `id` has no delivery request left: its bounces so far go out; then the next
    /// slice of recipients is read, or, when all were, the message is done
    /// (`qmgr_active_done`).
    fn finish(&mut self, id: &str, now: i64) {
        loop {
            let active = self.messages.get_mut(id).expect("a message being finished");
            active.deferred |= active::flush_bounces(&self.settings, &active.message);
            if active.message.rcpt_offset > 0 {
                if self.refill(id, now).is_err() {
                    active::corrupt(&self.settings.layout, id);
                    self.forget(id);
                    return;
                }
                if self.messages[id].refcount == 0 {
                    continue;
                }
                return;
            }
            let active = self.forget(id);
            active::done(&self.settings, &active.message, active.deferred, now);
            return;
        }
    }

    /// Takes message `id` out of the active queue: its jobs and budget go.
    fn forget(&mut self, id: &str) -> Active {
        for (name, transport) in self.transports.iter_mut() {
            transport.jobs.free(id, name, &mut self.budgets);
        }
        self.budgets.remove(id);
        let active = self.messages.remove(id).expect("a message to forget");
        self.vrfy_pending -= i64::from(active.probe);
        active
    }

    /// Forgets destination `queue_name` of `transport` when it has nothing left; a dead
    /// one comes back first when there are more destinations in memory than twice the
    /// in-memory recipient limit, so that dead ones cannot fill memory (the end of
    /// `qmgr_entry_done`).
    fn queue_done(&mut self, transport: &str, queue_name: &str) {
        let in_memory: usize = self.transports.values().map(|t| t.queues.len()).sum();
        let crowded = in_memory as i64 > 2 * self.settings.rcpt_limit;
        let Some(t) = self.transports.get_mut(transport) else {
            return;
        };
        let limits = t.limits;
        let Some(queue) = t.queues.get_mut(queue_name) else {
            return;
        };
        if !queue.todo.is_empty() || queue.busy > 0 {
            return;
        }
        if crowded {
            queue.revive(&limits);
        }
        if queue.is_idle() {
            t.queues.remove(queue_name);
        }
    }

    /// `count` recipients of message `id` left memory with an entry of `transport`:
    /// the job and message count them no more, and slots that other jobs of the message
    /// gave it (or that it holds and no longer needs) move on (`qmgr_entry_done`).
    fn entry_done(&mut self, transport: &str, id: &str, count: i64) {
        if let Some(t) = self.transports.get_mut(transport) {
            t.jobs.count_rcpts(id, -count);
        }
        crate::job::budget(&mut self.budgets, id).count -= count;
        self.in_memory -= count;
        let unread = self.budgets[id].unread;
        for (name, t) in self.transports.iter_mut() {
            let Some((rcpt_count, rcpt_limit, linked)) = t.jobs.rcpt_slots(id) else {
                continue;
            };
            if name == transport || rcpt_count >= rcpt_limit {
                continue;
            }
            if !linked || !unread {
                t.jobs.move_limits(id, &mut self.budgets);
            }
        }
        if !unread && let Some(t) = self.transports.get_mut(transport) {
            t.jobs.move_limits(id, &mut self.budgets);
        }
    }

    /// Starts every delivery the limits allow.
    fn dispatch(&mut self) {
        let now = now_tv().0;
        let names: Vec<String> = self.transports.keys().cloned().collect();
        let resume = Instant::now();
        for transport in self.transports.values_mut() {
            let limits = transport.limits;
            for queue in transport.queues.values_mut() {
                if queue.resume(resume) {
                    transport.jobs.blocker_update(queue);
                }
                // A dead destination with nothing waiting comes back when its time is up,
                // only to be forgotten (`qmgr_queue_unthrottle_wrapper`).
                if queue.todo.is_empty() && queue.busy == 0 {
                    let _ = queue.is_dead(now, &limits);
                }
            }
            // What a resumed or revived destination leaves behind (`qmgr_queue_done`).
            transport.queues.retain(|_, q| !q.is_idle());
        }
        for name in names {
            while let Some((queue, target, entry, delay)) = self.select(&name, now) {
                self.start(&name, &queue, &target, entry, delay);
            }
        }
    }

    /// When the first rate-delay suspension ends, if any.
    fn next_resume(&self) -> Option<Instant> {
        self.transports
            .values()
            .flat_map(|t| t.queues.values())
            .filter_map(|q| q.suspended)
            .min()
    }

    /// The next entry of transport `name` that may be delivered now, counted as busy:
    /// its destination, where and how to deliver it, the entry, and how long the delivery waits first (a
    /// transport rate delay, which also locks the transport until the delivery ends).
    fn select(&mut self, name: &str, now: i64) -> Option<(String, Target, Entry, Duration)> {
        let transport = self.transports.get_mut(name)?;
        if transport.is_throttled(now).is_some() {
            return None;
        }
        if transport.busy >= transport.limits.process_limit || transport.rate_locked {
            return None;
        }
        // As qmgr_transport_select: a transport is served only while one of its
        // destinations can take a delivery and has one waiting. Without this test every
        // delivery that ended sent the job walk over the whole active queue only to find
        // the one destination full again.
        if !transport
            .queues
            .values()
            .any(|q| q.may_take() && !q.todo.is_empty())
        {
            return None;
        }
        let mut resume = None;
        let (queue_name, entry) = loop {
            let transport = self.transports.get_mut(name)?;
            let picked = transport.jobs.select(
                &mut transport.queues,
                now,
                name,
                &mut self.budgets,
                resume.take(),
            );
            match picked {
                Pick::Entry(queue, entry) => break (queue, entry),
                Pick::Nothing => return None,
                // As in Postfix, a file that cannot be read now is read again later;
                // the end of the message's current slice sends it to corrupt/.
                Pick::Refill(id, at) => {
                    let _ = self.refill(&id, now);
                    resume = Some(at);
                }
            }
        };
        let transport = self.transports.get_mut(name)?;
        let queue = transport.queues.get_mut(&queue_name)?;
        queue.busy += 1;
        queue.conn_cache_select(now);
        let target = Target {
            nexthop: queue.nexthop.clone(),
            dflags: queue.dflags,
        };
        transport.busy += 1;
        let delay = Duration::from_secs(transport.limits.xport_rate_delay);
        transport.rate_locked = !delay.is_zero();
        Some((queue_name, target, entry, delay))
    }

    /// Starts one delivery (`qmgr_deliver`): it connects at once, or after a transport
    /// rate delay.
    fn start(
        &mut self,
        transport: &str,
        queue: &str,
        target: &Target,
        entry: Entry,
        delay: Duration,
    ) {
        let Some(active) = self.messages.get(&entry.id) else {
            log::msg_panic!("qmgr_deliver: no message {}", entry.id);
        };
        let request = deliver::request(
            &active.message,
            transport,
            &target.nexthop,
            target.dflags,
            &entry.rcpts,
            (self.settings.ipc_timeout, self.settings.daemon_timeout),
        );
        let mut delivery = deliver::Delivery::new(request, delay);
        // Connecting and sending cost nothing to wait for: start now.
        let ended = delivery.advance(Instant::now());
        self.deliveries.push(InFlight {
            transport: transport.to_string(),
            queue: queue.to_string(),
            entry,
            delivery,
            ready: false,
            ended,
        });
    }

    /// The waiting entries of a destination of `from` that just died go to the `retry`
    /// transport, which defers them with the reason (`qmgr_defer_todo`,
    /// `qmgr_entry_move_todo`); the caller has taken them off their jobs' selection.
    fn retry_later(&mut self, from: &str, why: &str, todo: Todo) {
        let (config, limit) = (&self.config, self.settings.process_limit("retry"));
        let (clog, messages, now) = (self.settings.clog, self.messages.len(), now_tv().0);
        self.transports
            .entry("retry".to_string())
            .or_insert_with(|| {
                Transport::new("retry", Limits::from_config(config, "retry", limit))
            });
        let name = why.to_lowercase();
        for entry in todo {
            let (id, count) = (entry.id.clone(), entry.rcpts.len() as i64);
            let queued = self.messages.get(&id).map_or(0, |a| a.queued);
            if let Some(source) = self.transports.get_mut(from) {
                source.jobs.count_rcpts(&id, -count);
            }
            let retry = self.transports.get_mut("retry").expect("made above");
            retry.jobs.obtain(&id, queued, &mut self.budgets);
            retry.jobs.add_entry(&id, &name);
            retry.jobs.count_rcpts(&id, count);
            let limits = retry.limits;
            let queue = retry.queue(&name, why);
            queue.todo.push_back(entry);
            queue.entry_added(&id, "retry", &limits, clog, messages, now);
            // The old entry is done, with no recipients left in it.
            self.entry_done(from, &id, 0);
        }
    }

    /// A delivery ended (`qmgr_deliver_update`).
    fn delivered(
        &mut self,
        transport_name: &str,
        queue_name: &str,
        entry: Entry,
        outcome: Outcome,
    ) {
        let now = now_tv().0;
        let backoff = self.settings.min_backoff;
        let retry = self.settings.transport_retry;
        let Some(transport) = self.transports.get_mut(transport_name) else {
            log::msg_panic!("qmgr_deliver_update: no transport {transport_name}");
        };
        transport.busy = transport.busy.saturating_sub(1);
        // The transport's rate lock ends with the delivery, whatever its outcome
        // (`qmgr_transport_unthrottle` and `qmgr_transport_throttle`).
        transport.rate_locked = false;
        if outcome.status == Status::Crash && outcome.reason == "mail transport unavailable" {
            // The agent could not be reached: nothing was delivered. Leave the
            // transport alone for a while, and have its waiting entries, this one
            // included, deferred with the reason (`qmgr_defer_transport`).
            let why = format!("4.3.0 {}", outcome.reason);
            transport.throttle(now, retry, &why);
            if let Some(queue) = transport.queues.get_mut(queue_name) {
                queue.busy = queue.busy.saturating_sub(1);
                queue.entry_gone(&entry.id);
            }
            let mut todo = Todo::from_iter([entry]);
            for queue in transport.queues.values_mut() {
                for waiting in std::mem::take(&mut queue.todo) {
                    transport.jobs.entry_gone(&waiting.id);
                    queue.entry_gone(&waiting.id);
                    todo.push_back(waiting);
                }
            }
            transport.queues.retain(|_, q| !q.is_idle());
            self.retry_later(transport_name, &why, todo);
            return;
        }
        let limits = transport.limits;
        let Some(queue) = transport.queues.get_mut(queue_name) else {
            log::msg_panic!("qmgr_deliver_update: no queue {queue_name}");
        };
        let transport_throttled = &mut transport.throttled;
        // An agent sends a DSN status only about a site problem: throttle the site.
        let mut died = None;
        if outcome.status != Status::Ok && !outcome.dsn_status.is_empty() {
            let why = format!(
                "{} delivery temporarily suspended: {}",
                outcome.dsn_status, outcome.reason
            );
            if queue.failure(now, backoff, &why, &limits) {
                let todo = std::mem::take(&mut queue.todo);
                for waiting in todo.iter() {
                    transport.jobs.entry_gone(&waiting.id);
                    queue.entry_gone(&waiting.id);
                }
                died = Some((why, todo));
            }
        }
        if outcome.status != Status::Crash {
            *transport_throttled = None;
            if outcome.reason.is_empty() {
                queue.success(&limits);
            }
        }
        queue.busy = queue.busy.saturating_sub(1);
        queue.last_done = now;
        queue.entry_gone(&entry.id);
        // A rate-limited destination waits before its next delivery; one that just died
        // has had its waiting entries deferred, and comes back suspended
        // (`qmgr_entry_done`).
        if limits.rate_delay > 0 {
            queue.rate_pause(&limits);
        }
        if queue.suspended.is_none() {
            transport.jobs.blocker_update(queue);
        }
        if let Some((why, todo)) = died {
            self.retry_later(transport_name, &why, todo);
        }
        self.queue_done(transport_name, queue_name);
        if !self.messages.contains_key(&entry.id) {
            log::msg_panic!("qmgr_deliver_update: no message {}", entry.id);
        }
        self.entry_done(transport_name, &entry.id, entry.rcpts.len() as i64);
        let active = self.messages.get_mut(&entry.id).expect("checked above");
        active.deferred |= outcome.status != Status::Ok;
        active.refcount -= 1;
        if active.refcount == 0 {
            self.finish(&entry.id, now);
        }
    }
}
