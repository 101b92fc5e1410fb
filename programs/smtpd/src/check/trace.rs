//! What decided: for each restriction that had something to say, the list it was in,
//! the restriction, the table and key it looked up, and the result.
//!
//! Postfix has no counterpart beyond its verbose `generic_checks: name=... status=...`
//! lines. Here each decision is logged at `-v` (so a client in `debug_peer_list` gets the
//! explanation in the log) and kept for the session, bounded, for the "why was this
//! rejected?" answers ironpost will give.

/// The most decisions one session keeps: a client controls how many commands it sends.
const LIMIT: usize = 1000;

/// One decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The restriction list (a parameter or class name).
    pub list: String,
    /// The restriction as main.cf writes it.
    pub restriction: String,
    /// The lookup key, when a table was asked.
    pub key: Option<String>,
    /// What came of it: `permit`, `reject: 554 5.7.1 ...`, `DUNNO`, a table's value.
    pub result: String,
}

/// The decisions of a session, oldest first.
#[derive(Debug, Default)]
pub struct Trace {
    decisions: Vec<Decision>,
}

impl Trace {
    /// Records (and at `-v` logs) a decision.
    pub fn note(&mut self, decision: Decision) {
        if log::verbose() > 0 {
            match &decision.key {
                Some(key) => log::msg_info!(
                    "{}: {} key {key}: {}",
                    decision.list,
                    decision.restriction,
                    decision.result
                ),
                None => log::msg_info!(
                    "{}: {}: {}",
                    decision.list,
                    decision.restriction,
                    decision.result
                ),
            }
        }
        if self.decisions.len() < LIMIT {
            self.decisions.push(decision);
        }
    }

    /// The decisions so far (read by tests today, by the "why" command later).
    #[allow(dead_code)]
    pub fn decisions(&self) -> &[Decision] {
        &self.decisions
    }
}
