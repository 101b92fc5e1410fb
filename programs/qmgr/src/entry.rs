//! Delivery requests waiting for, or being handled by, a delivery agent: one message's
//! recipients for one destination.
//!
//! Postfix counterpart: `qmgr/qmgr_entry.c`. A message's recipients for a destination
//! are cut into entries of at most the transport's recipient limit; each entry becomes
//! one delivery request. The message keeps a count of its entries, and when the last
//! one is done the message is done (see active.rs).

use crate::message::Recipient;
use std::collections::{HashMap, VecDeque};

/// One delivery request to be.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The message's queue ID.
    pub id: String,
    /// The recipients.
    pub rcpts: Vec<Recipient>,
}

/// A destination's waiting entries in arrival order, with a count per message, so that
/// whether a message has an entry here is one lookup. The scheduler asks that of every
/// job it passes over (job.rs), and a scan of the list for each made a pass over a full
/// active queue quadratic: most of the queue manager's time went to comparing queue IDs
/// once a few thousand messages waited for one destination. Postfix keeps the entries
/// per job and destination (its peer structure) for the same reason.
#[derive(Debug, Default)]
pub struct Todo {
    entries: VecDeque<Entry>,
    per_message: HashMap<String, usize>,
}

impl Todo {
    /// Adds `rcpt` of message `id`: to the message's last entry while it has room for
    /// `limit` recipients (0: no limit), else to a new one. True when a new entry was
    /// made.
    pub fn add(&mut self, id: &str, rcpt: Recipient, limit: usize) -> bool {
        if let Some(last) = self.entries.back_mut()
            && last.id == id
            && (limit == 0 || last.rcpts.len() < limit)
        {
            last.rcpts.push(rcpt);
            return false;
        }
        self.push_back(Entry {
            id: id.to_string(),
            rcpts: vec![rcpt],
        });
        true
    }

    /// Adds a whole entry at the end.
    pub fn push_back(&mut self, entry: Entry) {
        *self.per_message.entry(entry.id.clone()).or_default() += 1;
        self.entries.push_back(entry);
    }

    /// Whether message `id` has an entry waiting here.
    pub fn has(&self, id: &str) -> bool {
        self.per_message.contains_key(id)
    }

    /// Takes the first waiting entry of message `id`.
    pub fn take(&mut self, id: &str) -> Option<Entry> {
        let count = self.per_message.get_mut(id)?;
        *count -= 1;
        if *count == 0 {
            self.per_message.remove(id);
        }
        let at = self.entries.iter().position(|e| e.id == id)?;
        self.entries.remove(at)
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many entries wait.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entries in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }
}

impl IntoIterator for Todo {
    type Item = Entry;
    type IntoIter = std::collections::vec_deque::IntoIter<Entry>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl FromIterator<Entry> for Todo {
    fn from_iter<I: IntoIterator<Item = Entry>>(entries: I) -> Todo {
        let mut todo = Todo::default();
        for entry in entries {
            todo.push_back(entry);
        }
        todo
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_respect_the_recipient_limit() {
        let mut todo = Todo::default();
        let rcpt = |a: &str| Recipient {
            address: a.to_string(),
            ..Recipient::default()
        };
        assert!(todo.add("A", rcpt("a"), 2));
        assert!(!todo.add("A", rcpt("b"), 2));
        assert!(todo.add("A", rcpt("c"), 2));
        assert!(todo.add("B", rcpt("d"), 2));
        assert_eq!(todo.len(), 3);
    }

    #[test]
    fn entries_are_counted_per_message() {
        let mut todo = Todo::default();
        let rcpt = |a: &str| Recipient {
            address: a.to_string(),
            ..Recipient::default()
        };
        todo.add("A", rcpt("a"), 1);
        todo.add("B", rcpt("b"), 1);
        todo.add("A", rcpt("c"), 1);
        assert!(todo.has("A") && todo.has("B") && !todo.has("C"));
        assert_eq!(todo.take("A").unwrap().rcpts[0].address, "a");
        assert!(todo.has("A"));
        assert_eq!(todo.take("A").unwrap().rcpts[0].address, "c");
        assert!(!todo.has("A"));
        assert!(todo.take("A").is_none());
        let rest: Vec<String> = todo.into_iter().map(|e| e.id).collect();
        assert_eq!(rest, ["B"]);
    }
}
