//! What t-27 (local) and t-28 (pipe) share: an instance whose one delivery agent is
//! ironpost's or Postfix's, everything else ironpost's, and an output directory that
//! the commands (running as nobody) may write.

use e2e::{IRONPOST_DAEMONS, Instance};

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
    let mut daemons: Vec<&str> = IRONPOST_DAEMONS.to_vec();
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
