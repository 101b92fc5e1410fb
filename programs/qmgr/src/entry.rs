//! Delivery requests waiting for, or being handled by, a delivery agent: one message's
//! recipients for one destination.
//!
//! Postfix counterpart: `qmgr/qmgr_entry.c`. A message's recipients for a destination
//! are cut into entries of at most the transport's recipient limit; each entry becomes
//! one delivery request. The message keeps a count of its entries, and when the last
//! one is done the message is done (see active.rs).

use crate::message::Recipient;

/// One delivery request to be.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The message's queue ID.
    pub id: String,
    /// The recipients.
    pub rcpts: Vec<Recipient>,
}

/// Adds `rcpt` of message `id` to the destination's waiting entries: to the message's
/// last entry while it has room for `limit` recipients (0: no limit), else to a new one.
/// True when a new entry was made.
pub fn add(
    todo: &mut std::collections::VecDeque<Entry>,
    id: &str,
    rcpt: Recipient,
    limit: usize,
) -> bool {
    if let Some(last) = todo.back_mut()
        && last.id == id
        && (limit == 0 || last.rcpts.len() < limit)
    {
        last.rcpts.push(rcpt);
        return false;
    }
    todo.push_back(Entry {
        id: id.to_string(),
        rcpts: vec![rcpt],
    });
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    #[test]
    fn entries_respect_the_recipient_limit() {
        let mut todo = VecDeque::new();
        let rcpt = |a: &str| Recipient {
            address: a.to_string(),
            ..Recipient::default()
        };
        assert!(add(&mut todo, "A", rcpt("a"), 2));
        assert!(!add(&mut todo, "A", rcpt("b"), 2));
        assert!(add(&mut todo, "A", rcpt("c"), 2));
        assert!(add(&mut todo, "B", rcpt("d"), 2));
        assert_eq!(todo.len(), 3);
    }
}
