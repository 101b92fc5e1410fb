//! What t-27 (local) and t-28 (pipe) share: an instance whose one delivery agent is
//! ironpost's or Postfix's, everything else ironpost's, and an output directory that
//! the commands (running as nobody) may write.

use crate::harness::{queue_files, queue_ids, wait_count};
use e2e::{IRONPOST_DAEMONS, Instance, wait_until};

/// Whose delivery agent an instance runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agent {
    /// ironpost's.
    Ours,
    /// Debian's Postfix 3.7.
    Postfix,
    /// ironpost's, driven by Postfix's queue manager (the component swap).
    OursUnderPostfixQmgr,
}

/// An instance `<name>-ours` with ironpost's `program`, `<name>-postfix` with
/// Postfix's, or `<name>-swap` with ironpost's under Postfix's queue manager, with
/// `out/` (mode 1777) made; None when the test is skipped.
pub fn instance(name: &str, agent: Agent, program: &'static str) -> Option<Instance> {
    // Postfix's agent on the Postfix side, whatever the suite's daemon list holds.
    let mut daemons: Vec<&str> = IRONPOST_DAEMONS
        .iter()
        .copied()
        .filter(|d| *d != program)
        .collect();
    let suffix = match agent {
        Agent::Ours => {
            daemons.push(program);
            "ours"
        }
        Agent::Postfix => "postfix",
        Agent::OursUnderPostfixQmgr => {
            daemons.retain(|d| *d != "qmgr");
            daemons.push(program);
            "swap"
        }
    };
    let mx = Instance::with_daemons(&format!("{name}-{suffix}"), &daemons)?;
    std::fs::create_dir_all(mx.dir.join("out")).unwrap();
    set_mode(&mx.dir.join("out"), 0o1777);
    Some(mx)
}

/// chmod.
pub fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Waits until at least `removed` messages were removed and the queue has then been
/// empty for two seconds.
pub fn settle(mx: &Instance, removed: usize) {
    wait_count(mx, ": removed", removed, 90);
    let idle = || {
        ["active", "incoming", "deferred", "maildrop"]
            .iter()
            .all(|q| queue_files(mx, q).is_empty())
    };
    let mut quiet = 0;
    let settled = wait_until(60, || {
        quiet = if idle() { quiet + 1 } else { 0 };
        quiet >= 20
    });
    if !settled {
        mx.keep_for_inspection();
        panic!("the queue does not settle:\n{}", mx.log());
    }
}

/// The DSN fields of a notice (and its Subject: and To:), one per line, in order.
pub fn notice_fields(message: &str) -> String {
    message
        .lines()
        .filter(|l| {
            [
                "Subject:",
                "To:",
                "Final-Recipient:",
                "Action:",
                "Status:",
                "Diagnostic-Code:",
            ]
            .iter()
            .any(|f| l.starts_with(f))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `scenario` with ironpost's agent, then with Postfix's; None when the mixed
/// system cannot run here (the test is skipped).
pub fn both<T>(scenario: impl Fn(Agent) -> Option<T>) -> Option<(T, T)> {
    Some((scenario(Agent::Ours)?, scenario(Agent::Postfix)?))
}

/// A delivered text (a message, a mailbox, what a command received) with what differs
/// between runs replaced (`e2e::delivered::normalise`, with the instance's queue IDs).
pub fn normalise(mx: &Instance, text: &str) -> String {
    e2e::delivered::normalise(mx, &queue_ids(&mx.log()), text)
}
