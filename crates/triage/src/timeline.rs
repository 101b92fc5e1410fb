//! The per-message timeline: every logged event of one message across processes, in
//! order, explained in words, following the message into the new queue ids of its
//! bounces, delay notices and forwarded copies.
//!
//! Postfix counterpart: none (people grep the queue id, then grep again for the queue ids
//! they spot). The lines read are Postfix 3.7's: smtpd's `client=`, cleanup's
//! `message-id=`, qmgr's `from=... (queue active)` and `removed`, the delivery agents'
//! `to=..., delays=a/b/c/d, dsn=..., status=...`, bounce's `sender non-delivery
//! notification: QUEUEID`, local's `forwarded as QUEUEID` and a relay's `queued as
//! QUEUEID`; they are the same in ironpost's log. A copy that nothing names (a message
//! piped to a command that re-submits it with sendmail) is found by its Message-ID, and a
//! query that lands on a later copy (the final recipient's address) starts from the first
//! one. With debug_peer_list, smtpd's `< client: COMMAND` and `> client: reply` lines
//! show the session's dialogue.

use crate::engine;
use crate::json::Value;
use crate::logline::{Line, format_time};
use crate::pattern;
use std::collections::HashMap;

/// What to trace.
#[derive(Debug, Clone)]
pub enum Query {
    /// A queue id.
    QueueId(String),
    /// A Message-ID, with or without its angle brackets.
    MessageId(String),
    /// A sender or recipient address (from=, to= or orig_to=), in a time range.
    Address {
        /// The address.
        address: String,
        /// From this time (seconds of the year) on.
        since: Option<u64>,
        /// Up to this time.
        until: Option<u64>,
    },
}

/// One event.
#[derive(Debug, Clone)]
pub struct Event {
    /// The log line.
    pub line: Line,
    /// What it means, when there is more to say than the line.
    pub explanation: Vec<String>,
}

/// The events of one queue id.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The queue id.
    pub queue_id: String,
    /// Why it is here: "asked for", or the queue id and event it comes from.
    pub origin: String,
    /// The events in log order.
    pub events: Vec<Event>,
    /// Where the message is now.
    pub state: String,
}

/// The queue ids a query starts from, in log order.
pub fn start_ids(lines: &[Line], query: &Query) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |id: &str| {
        if !out.iter().any(|o| o == id) {
            out.push(id.to_string());
        }
    };
    for line in lines {
        let Some(id) = &line.queue_id else {
            continue;
        };
        let msg = line.message();
        let hit = match query {
            Query::QueueId(q) => id == q,
            Query::MessageId(m) => {
                let bare = m.trim_start_matches('<').trim_end_matches('>');
                msg.starts_with("message-id=")
                    && msg["message-id=".len()..]
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        == bare
            }
            Query::Address {
                address,
                since,
                until,
            } => {
                let in_range = line
                    .time
                    .is_none_or(|t| since.is_none_or(|s| t >= s) && until.is_none_or(|u| t <= u));
                let lower = msg.to_ascii_lowercase();
                let a = address.to_ascii_lowercase();
                in_range
                    && ["from=<", "to=<", "orig_to=<"]
                        .iter()
                        .any(|k| lower.contains(&format!("{k}{a}>")))
            }
        };
        if hit {
            add(id);
        }
    }
    out
}

/// The queue ids a line hands the message on to, with what happened.
fn successors(line: &Line) -> Vec<(String, String)> {
    let msg = line.message();
    let mut out = Vec::new();
    for (p, what) in [
        (
            "sender non-delivery notification: {id}",
            "non-delivery notice to the sender",
        ),
        (
            "sender delivery status notification: {id}",
            "delivery status notice to the sender",
        ),
        (
            "sender delay notification: {id}",
            "delay notice to the sender",
        ),
        (
            "postmaster non-delivery notification: {id}",
            "non-delivery notice to the postmaster",
        ),
        ("forwarded as {id})", "forwarded copy"),
        ("queued as {id})", "copy queued by the next hop"),
    ] {
        if let Some(c) = pattern::matches(p, msg) {
            let id = c[0].1.trim().to_string();
            if crate::logline::is_queue_id(&id) {
                out.push((id, what.to_string()));
            }
        }
    }
    out
}

/// Words for `delays=a/b/c/d`.
pub fn explain_delays(delays: &str) -> Option<String> {
    let parts: Vec<&str> = delays.split('/').collect();
    if parts.len() != 4 {
        return None;
    }
    Some(format!(
        "delays: {}s before the queue manager (receiving the message, cleanup), {}s in the \
         queue manager (waiting in the queue and for a delivery agent), {}s setting up the \
         delivery (connection, DNS, HELO, TLS), {}s transmitting the message",
        parts[0], parts[1], parts[2], parts[3]
    ))
}

/// A field `name=value` of a delivery line (value up to the next `, `).
fn field<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=");
    let at = msg
        .match_indices(&key)
        .find(|(i, _)| *i == 0 || msg[..*i].ends_with(' '))?
        .0;
    let rest = &msg[at + key.len()..];
    Some(rest.split(", ").next().unwrap_or(rest))
}

/// What a line of the message means.
/// `logged` tells whether a queue id has lines in the log (a next hop's copy is in the
/// next hop's log only).
fn explain(
    line: &Line,
    next_retry: Option<u64>,
    retried: Option<&Line>,
    logged: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let msg = line.message();
    let mut out = Vec::new();
    if let Some(client) = msg.strip_prefix("client=") {
        out.push(format!(
            "{} accepted the message from {}",
            line.process,
            client.split(", ").next().unwrap_or(client)
        ));
    } else if let Some(mid) = msg.strip_prefix("message-id=") {
        out.push(format!("cleanup queued the message, Message-ID {mid}"));
    } else if msg.starts_with("uid=") {
        out.push("submitted locally (sendmail/postdrop), picked up by pickup".into());
    } else if msg.ends_with("(queue active)") {
        out.push(format!(
            "the queue manager moved it to the active queue: sender <{}>, {} bytes, {} recipient(s)",
            field(msg, "from").unwrap_or("").trim_matches(['<', '>']),
            field(msg, "size").unwrap_or("?"),
            field(msg, "nrcpt")
                .and_then(|n| n.split(' ').next())
                .unwrap_or("?")
        ));
    } else if let Some(path) = msg.strip_prefix("transcript=") {
        // ironpost's saved session transcripts (smtpd_/smtp_transcript_peer_list).
        out.push(format!(
            "{} saved the SMTP session's transcript in {path} (posttrace -t shows it)",
            line.process
        ));
    } else if msg == "removed" {
        out.push("the queue file is removed: the queue is done with the message".into());
    } else if msg.starts_with("from=<") && msg.contains("status=expired") {
        out.push(
            "the message stayed longer than maximal_queue_lifetime (bounce_queue_lifetime for bounces): it is returned to the sender"
                .into(),
        );
    } else if let Some(status) = field(msg, "status") {
        let to = field(msg, "to").unwrap_or("?");
        let relay = field(msg, "relay").unwrap_or("?");
        let dsn = field(msg, "dsn").unwrap_or("?");
        let (word, reason) = status.split_once(' ').unwrap_or((status, ""));
        let reason = reason.trim_start_matches('(').trim_end_matches(')');
        let what = match word {
            "sent" => "delivered",
            "deferred" => "deferred (will be tried again)",
            "bounced" => "bounced (a non-delivery notice goes to the sender)",
            "undeliverable" => "would bounce (address verification)",
            "deliverable" => "deliverable (address verification)",
            other => other,
        };
        out.push(format!(
            "{} to {to} via {relay}: {what}, status {dsn}: {reason}",
            line.process
        ));
        if let Some(orig) = field(msg, "orig_to") {
            out.push(format!("originally addressed to {orig}"));
        }
        if let Some(d) = field(msg, "delays").and_then(explain_delays) {
            out.push(d);
        }
        if word == "deferred" {
            match (retried, next_retry) {
                (Some(r), _) => out.push(format!("tried again at {}", r.stamp)),
                (None, Some(t)) => out.push(format!(
                    "still queued: next retry at {} (the deferred queue file's time)",
                    format_time(t)
                )),
                (None, None) => out.push("no later attempt in the log".into()),
            }
        }
    } else if let Some((from_client, words)) = dialogue(line) {
        out.push(if from_client {
            format!("the client sent: {words}")
        } else {
            format!("{} replied: {words}", line.process)
        });
    } else if msg.starts_with("reject: ") || msg.contains(": reject: ") {
        out.push(format!("{} refused it: {msg}", line.process));
    } else if let Some(action) = [
        "hold:",
        "discard:",
        "redirect:",
        "filter:",
        "warning:",
        "replace:",
        "prepend:",
    ]
    .iter()
    .find(|a| msg.starts_with(**a))
    {
        out.push(format!(
            "cleanup's header/body checks: {} action",
            action.trim_end_matches(':')
        ));
    }
    for (id, what) in successors(line) {
        out.push(if logged(&id) {
            format!("{what}: new queue id {id} (traced below)")
        } else {
            format!("{what}: new queue id {id} (not in this log; posttrace takes more than one -l)")
        });
    }
    if (msg.contains("warning:") || msg.contains("fatal:") || msg.contains("error:"))
        && let Some(f) = engine::diagnose(std::slice::from_ref(line)).first()
    {
        out.push(format!("problem: {} -- remedy: {}", f.cause, f.remedy));
    }
    out
}

/// The smtpd session lines around a message: its `connect from` and `disconnect from`,
/// and the lines of that process in between that name no queue id.
fn session(lines: &[Line], first: &Line) -> Vec<Line> {
    if first.process != "smtpd" {
        return Vec::new();
    }
    let same = |l: &Line| l.program == first.program && l.pid == first.pid;
    let at = lines
        .iter()
        .position(|l| l.number == first.number)
        .unwrap_or(0);
    let start = lines[..at]
        .iter()
        .rposition(|l| same(l) && l.text.starts_with("connect from "));
    let end = lines[at..]
        .iter()
        .position(|l| same(l) && l.text.starts_with("disconnect from "))
        .map(|e| at + e);
    let (Some(start), Some(end)) = (start, end) else {
        return Vec::new();
    };
    let own: Vec<&Line> = lines[start..=end]
        .iter()
        .filter(|l| same(l) && l.queue_id.is_none())
        .collect();
    // A session in debug_peer_list is logged verbosely: of its many lines, the dialogue
    // and those a plain session has too.
    let verbose = own.iter().any(|l| dialogue(l).is_some());
    own.into_iter()
        .filter(|l| {
            !verbose
                || dialogue(l).is_some()
                || l.text.starts_with("connect from ")
                || l.text.starts_with("disconnect from ")
                || l.text.starts_with("lost connection ")
                || l.text.starts_with("timeout ")
                || l.text.starts_with("too many errors ")
                || l.text.starts_with("NOQUEUE: ")
                || ["warning: ", "error: ", "fatal: ", "panic: "]
                    .iter()
                    .any(|p| l.text.starts_with(p))
        })
        .cloned()
        .collect()
}

/// smtpd's dialogue line with a client in debug_peer_list: whether the client spoke
/// (`< client: COMMAND`) or smtpd replied (`> client: reply`), and the words.
fn dialogue(line: &Line) -> Option<(bool, &str)> {
    if line.process != "smtpd" || line.queue_id.is_some() {
        return None;
    }
    let (from_client, rest) = match line.text.split_at_checked(2)? {
        ("< ", rest) => (true, rest),
        ("> ", rest) => (false, rest),
        _ => return None,
    };
    let (peer, words) = rest.split_once(": ")?;
    // The peer is `name[address]` (or `unknown[address]`).
    (peer.ends_with(']') && peer.contains('[')).then_some((from_client, words))
}

/// What the links between queue ids need from the whole log, gathered in one pass: a
/// query on a large log looks up many ids.
struct Index {
    /// The queue ids that name an id as their successor, in log order.
    predecessors: HashMap<String, Vec<String>>,
    /// Each queue id's Message-ID, without its angle brackets.
    message_id: HashMap<String, String>,
    /// The queue ids of each Message-ID, in log order.
    by_message_id: HashMap<String, Vec<String>>,
    /// The number of each queue id's first line.
    first_line: HashMap<String, usize>,
}

impl Index {
    fn new(lines: &[Line]) -> Index {
        let mut index = Index {
            predecessors: HashMap::new(),
            message_id: HashMap::new(),
            by_message_id: HashMap::new(),
            first_line: HashMap::new(),
        };
        for line in lines {
            let Some(id) = &line.queue_id else {
                continue;
            };
            index.first_line.entry(id.clone()).or_insert(line.number);
            for (next, _) in successors(line) {
                let from = index.predecessors.entry(next.clone()).or_default();
                if next != *id && !from.contains(id) {
                    from.push(id.clone());
                }
            }
            if let Some(mid) = line
                .message()
                .strip_prefix("message-id=")
                .map(|m| m.trim_start_matches('<').trim_end_matches('>'))
                .filter(|m| !m.is_empty())
                && !index.message_id.contains_key(id)
            {
                index.message_id.insert(id.clone(), mid.to_string());
                index
                    .by_message_id
                    .entry(mid.to_string())
                    .or_default()
                    .push(id.clone());
            }
        }
        index
    }

    /// Whether a queue id has lines in the log (a next hop's copy is in the next hop's
    /// log only).
    fn logged(&self, id: &str) -> bool {
        self.first_line.contains_key(id)
    }

    /// The queue ids with the Message-ID of `id` (itself included), in log order.
    fn same_message_id(&self, id: &str) -> &[String] {
        self.message_id
            .get(id)
            .and_then(|mid| self.by_message_id.get(mid))
            .map_or(&[], |ids| ids.as_slice())
    }

    /// The first ancestor of `id`, through the lines that name it as a successor.
    fn ancestor(&self, id: &str) -> String {
        let mut top = id.to_string();
        let mut seen = vec![top.clone()];
        while let Some(up) = self.predecessors.get(&top).and_then(|p| p.first()) {
            if seen.contains(up) {
                break;
            }
            seen.push(up.clone());
            top = up.clone();
        }
        top
    }

    /// Where the traces start for the queue ids a query found: each id's first
    /// ancestor, and of the ancestors that share a Message-ID only the first (the others
    /// are reached as its re-submitted copies).
    fn roots(&self, found: Vec<String>) -> Vec<String> {
        let mut tops: Vec<String> = Vec::new();
        for id in found {
            let mut top = self.ancestor(&id);
            // A copy nothing names (re-submitted by a command) comes from the first
            // message with its Message-ID.
            if let Some(first) = self.same_message_id(&top).first()
                && *first != top
            {
                top = self.ancestor(first);
            }
            if !tops.contains(&top) {
                tops.push(top);
            }
        }
        // In log order, so that of copies sharing a Message-ID the first is kept
        // whichever copy the query found first.
        tops.sort_by_key(|id| self.first_line.get(id).copied().unwrap_or(usize::MAX));
        let mut out: Vec<String> = Vec::new();
        for top in tops {
            let earlier = self
                .same_message_id(&top)
                .iter()
                .take_while(|other| **other != top)
                .any(|other| out.contains(other));
            if !earlier {
                out.push(top);
            }
        }
        out
    }
}

/// The traces for a query: the messages found and every queue id they led to.
/// `next_retry` gives a still-queued message's next attempt (the deferred file's time).
pub fn trace(
    lines: &[Line],
    query: &Query,
    next_retry: &dyn Fn(&str) -> Option<u64>,
) -> Vec<Trace> {
    let index = Index::new(lines);
    let logged = |id: &str| index.logged(id);
    let mut todo: Vec<(String, String)> = index
        .roots(start_ids(lines, query))
        .into_iter()
        .map(|id| (id, "asked for".to_string()))
        .collect();
    let mut out: Vec<Trace> = Vec::new();
    loop {
        if todo.is_empty() {
            // The links the log names are all followed: now the copies that share a
            // traced message's Message-ID (re-submitted by a command, or the next hop's
            // copy when its log is read too but the relay's reply was not logged).
            for t in &out {
                let Some(mid) = index.message_id.get(&t.queue_id) else {
                    continue;
                };
                for other in index.same_message_id(&t.queue_id).iter().cloned() {
                    if !out.iter().any(|o| o.queue_id == other)
                        && !todo.iter().any(|(o, _)| *o == other)
                    {
                        todo.push((
                            other,
                            format!("copy with the same Message-ID <{mid}> as {}", t.queue_id),
                        ));
                    }
                }
            }
            if todo.is_empty() {
                break;
            }
        }
        let (id, origin) = todo.remove(0);
        if out.iter().any(|t| t.queue_id == id) {
            continue;
        }
        let own: Vec<&Line> = lines
            .iter()
            .filter(|l| l.queue_id.as_deref() == Some(id.as_str()))
            .collect();
        let mut all: Vec<Line> = own.iter().map(|l| (*l).clone()).collect();
        if let Some(first) = own.first() {
            all.extend(session(lines, first));
        }
        all.sort_by_key(|l| l.number);
        let retry_at = next_retry(&id);
        let mut events = Vec::new();
        for (i, line) in all.iter().enumerate() {
            let retried =
                if field(line.message(), "status").is_some_and(|s| s.starts_with("deferred")) {
                    let to = field(line.message(), "to");
                    all[i + 1..].iter().find(|l| {
                        field(l.message(), "to") == to && field(l.message(), "status").is_some()
                    })
                } else {
                    None
                };
            for (next, what) in successors(line) {
                if logged(&next) {
                    todo.push((next, format!("{what} of {id}")));
                }
            }
            events.push(Event {
                explanation: explain(line, retry_at, retried, &logged),
                line: line.clone(),
            });
        }
        let state = if own.iter().any(|l| l.message() == "removed") {
            "removed from the queue".to_string()
        } else if let Some(t) = retry_at {
            format!("still queued, next retry at {}", format_time(t))
        } else {
            "not removed in this log (still queued, or the log ends first)".to_string()
        };
        out.push(Trace {
            queue_id: id,
            origin,
            events,
            state,
        });
    }
    out
}

/// The traces as text.
pub fn text(traces: &[Trace]) -> String {
    if traces.is_empty() {
        return "no message found\n".into();
    }
    let mut out = String::new();
    for t in traces {
        out.push_str(&format!("=== {} ({}) ===\n", t.queue_id, t.origin));
        for e in &t.events {
            let who = match e.line.pid {
                Some(pid) => format!("{}[{pid}]", e.line.program),
                None => e.line.program.clone(),
            };
            out.push_str(&format!("{} {who}: {}\n", e.line.stamp, e.line.text));
            for x in &e.explanation {
                out.push_str(&format!("    = {x}\n"));
            }
        }
        out.push_str(&format!("state: {}\n\n", t.state));
    }
    out
}

/// The traces as JSON.
pub fn json(traces: &[Trace]) -> String {
    Value::Arr(
        traces
            .iter()
            .map(|t| {
                Value::Obj(vec![
                    ("queue_id".into(), Value::s(&t.queue_id)),
                    ("origin".into(), Value::s(&t.origin)),
                    ("state".into(), Value::s(&t.state)),
                    (
                        "events".into(),
                        Value::Arr(
                            t.events
                                .iter()
                                .map(|e| {
                                    Value::Obj(vec![
                                        ("time".into(), Value::s(&e.line.stamp)),
                                        ("program".into(), Value::s(&e.line.program)),
                                        (
                                            "pid".into(),
                                            e.line
                                                .pid
                                                .map_or(Value::Null, |p| Value::Num(p as i64)),
                                        ),
                                        ("text".into(), Value::s(&e.line.text)),
                                        (
                                            "explanation".into(),
                                            Value::Arr(
                                                e.explanation.iter().map(Value::s).collect(),
                                            ),
                                        ),
                                    ])
                                })
                                .collect(),
                        ),
                    ),
                ])
            })
            .collect(),
    )
    .render()
        + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logline::parse_log;

    const LOG: &str = "\
Dec  6 10:00:00 mail postfix/smtpd[10]: connect from localhost[127.0.0.1]
Dec  6 10:00:00 mail postfix/smtpd[10]: 3F2A1C0: client=localhost[127.0.0.1]
Dec  6 10:00:00 mail postfix/cleanup[11]: 3F2A1C0: message-id=<m1@example.org>
Dec  6 10:00:00 mail postfix/qmgr[12]: 3F2A1C0: from=<a@example.org>, size=300, nrcpt=1 (queue active)
Dec  6 10:00:00 mail postfix/smtpd[10]: disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5
Dec  6 10:00:01 mail postfix/smtp[13]: 3F2A1C0: to=<u@relay.example>, relay=none, delay=1, delays=0.1/0/0.9/0, dsn=4.4.1, status=deferred (connect to x[127.0.0.1]:2525: Connection refused)
Dec  6 10:05:01 mail postfix/smtp[13]: 3F2A1C0: to=<u@relay.example>, relay=x[127.0.0.1]:2525, delay=301, delays=300/0/0/1, dsn=5.0.0, status=bounced (host x[127.0.0.1] said: 550 no (in reply to RCPT TO command))
Dec  6 10:05:01 mail postfix/cleanup[11]: 4B3C2D1: message-id=<b@mail>
Dec  6 10:05:01 mail postfix/bounce[14]: 3F2A1C0: sender non-delivery notification: 4B3C2D1
Dec  6 10:05:01 mail postfix/qmgr[12]: 3F2A1C0: removed
Dec  6 10:05:02 mail postfix/virtual[15]: 4B3C2D1: to=<a@example.org>, relay=virtual, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to maildir)
Dec  6 10:05:02 mail postfix/qmgr[12]: 4B3C2D1: removed
";

    #[test]
    fn follows_the_bounce_and_explains_delays() {
        let lines = parse_log(LOG);
        for q in [
            Query::QueueId("3F2A1C0".into()),
            Query::MessageId("m1@example.org".into()),
            Query::Address {
                address: "U@relay.example".into(),
                since: None,
                until: None,
            },
        ] {
            let traces = trace(&lines, &q, &|_| None);
            assert_eq!(traces.len(), 2, "{q:?}");
            assert_eq!(traces[1].queue_id, "4B3C2D1");
            assert_eq!(
                traces[1].origin,
                "non-delivery notice to the sender of 3F2A1C0"
            );
        }
        let traces = trace(&lines, &Query::QueueId("3F2A1C0".into()), &|_| None);
        let t = text(&traces);
        assert!(t.contains("connect from localhost"), "{t}");
        assert!(t.contains("tried again at Dec  6 10:05:01"), "{t}");
        assert!(t.contains("0.9s setting up the delivery"), "{t}");
        assert!(t.contains("state: removed from the queue"), "{t}");
        assert!(json(&traces).contains("\"queue_id\":\"4B3C2D1\""));
    }

    const FORWARDED: &str = "\
Dec  6 11:00:00 mail postfix/smtpd[20]: connect from localhost[127.0.0.1]
Dec  6 11:00:00 mail postfix/smtpd[20]: < localhost[127.0.0.1]: MAIL FROM:<a@example.org>
Dec  6 11:00:00 mail postfix/smtpd[20]: smtpd_check_addr: addr=a@example.org
Dec  6 11:00:00 mail postfix/smtpd[20]: A1A1A1A: client=localhost[127.0.0.1]
Dec  6 11:00:00 mail postfix/smtpd[20]: > localhost[127.0.0.1]: 250 2.1.0 Ok
Dec  6 11:00:00 mail postfix/cleanup[21]: A1A1A1A: message-id=<m2@example.org>
Dec  6 11:00:00 mail postfix/smtpd[20]: disconnect from localhost[127.0.0.1] mail=1 commands=1
Dec  6 11:00:01 mail postfix/cleanup[21]: B2B2B2B: message-id=<m2@example.org>
Dec  6 11:00:01 mail postfix/local[22]: A1A1A1A: to=<fwd@mail>, relay=local, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (forwarded as B2B2B2B)
Dec  6 11:00:01 mail postfix/local[22]: A1A1A1A: to=<cmd@mail>, relay=local, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to command: resubmit)
Dec  6 11:00:01 mail postfix/pickup[23]: D4D4D4D: uid=65534 from=<a@example.org>
Dec  6 11:00:01 mail postfix/cleanup[21]: D4D4D4D: message-id=<m2@example.org>
Dec  6 11:00:02 mail postfix/smtp[24]: B2B2B2B: to=<u@relay>, orig_to=<fwd@mail>, relay=next[127.0.0.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as C3C3C3C)
Dec  6 11:00:02 next postfix/cleanup[31]: C3C3C3C: message-id=<m2@example.org>
Dec  6 11:00:02 next postfix/virtual[32]: C3C3C3C: to=<u@relay>, relay=virtual, delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)
";

    #[test]
    fn follows_forwards_relays_and_resubmitted_copies() {
        let lines = parse_log(FORWARDED);
        for q in [
            Query::QueueId("A1A1A1A".into()),
            Query::QueueId("C3C3C3C".into()),
            Query::QueueId("D4D4D4D".into()),
            Query::MessageId("<m2@example.org>".into()),
            Query::Address {
                address: "u@relay".into(),
                since: None,
                until: None,
            },
        ] {
            let traces = trace(&lines, &q, &|_| None);
            let got: Vec<(&str, &str)> = traces
                .iter()
                .map(|t| (t.queue_id.as_str(), t.origin.as_str()))
                .collect();
            assert_eq!(
                got,
                [
                    ("A1A1A1A", "asked for"),
                    ("B2B2B2B", "forwarded copy of A1A1A1A"),
                    ("C3C3C3C", "copy queued by the next hop of B2B2B2B"),
                    (
                        "D4D4D4D",
                        "copy with the same Message-ID <m2@example.org> as A1A1A1A"
                    ),
                ],
                "{q:?}"
            );
        }
        let t = text(&trace(&lines, &Query::QueueId("A1A1A1A".into()), &|_| None));
        assert!(
            t.contains("= the client sent: MAIL FROM:<a@example.org>"),
            "{t}"
        );
        assert!(t.contains("= smtpd replied: 250 2.1.0 Ok"), "{t}");
        // The verbose lines of a debug_peer_list session are left out.
        assert!(!t.contains("smtpd_check_addr"), "{t}");
    }
}
