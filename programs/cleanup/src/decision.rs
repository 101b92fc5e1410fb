//! What changed an address or the message, and why.
//!
//! Postfix has no counterpart: it logs such things only in its verbose table lookups. Each
//! time a table or rule changes something (a canonical mapping, a masquerade, a virtual
//! alias expansion, a header or body check action, an automatic BCC), cleanup notes which
//! parameter's table or rule it was, what it saw and what came of it. The note is logged
//! at `-v` as it is made, and kept with the message for the explanations ironpost will
//! give later ("why was this address rewritten?").

/// The most decisions kept for one message: a message may have thousands of recipients,
/// and memory per message must stay bounded.
const LIMIT: usize = 1000;

/// One decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The parameter whose table or rule decided (`canonical_maps`, `header_checks`...).
    pub rule: String,
    /// What it was applied to: an address, a header, a body line.
    pub subject: String,
    /// What came of it: the new address(es), or the action.
    pub result: String,
}

/// The decisions made for one message, in order.
#[derive(Debug, Default)]
pub struct Decisions {
    list: Vec<Decision>,
}

impl Decisions {
    /// Notes a decision (logged at `-v`).
    pub fn note(&mut self, queue_id: &str, rule: &str, subject: &str, result: &str) {
        if log::verbose() > 0 {
            log::msg_info!("{queue_id}: {rule}: {subject} -> {result}");
        }
        if self.list.len() < LIMIT {
            self.list.push(Decision {
                rule: rule.to_string(),
                subject: subject.to_string(),
                result: result.to_string(),
            });
        }
    }

    /// The decisions so far (for the golden tests now, for the explanations later).
    #[cfg(test)]
    pub fn list(&self) -> &[Decision] {
        &self.list
    }
}
