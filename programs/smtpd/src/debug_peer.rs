//! More verbose logging for chosen clients: `debug_peer_list` and `debug_peer_level`.
//!
//! Postfix counterpart: `global/debug_peer.c`. When the client's name or address matches
//! the list, the verbosity is raised by `debug_peer_level` for the session and put back
//! when the session ends (the guard's drop), whatever way it ends.

use global::match_list::MatchList;

/// The raised verbosity of one session; dropping it restores the level.
pub struct DebugPeer {
    saved: Option<i32>,
}

impl DebugPeer {
    /// Raises the verbosity when `list` matches the client `name` or `addr`
    /// (`debug_peer_check()`). A table that fails counts as no match, with a warning.
    pub fn check(list: Option<&MatchList>, level: i32, name: &str, addr: &str) -> DebugPeer {
        let Some(list) = list else {
            return DebugPeer { saved: None };
        };
        let matched = match list.matches(&[name, addr]) {
            Ok(matched) => matched,
            Err(e) => {
                log::msg_warn!("{e}");
                false
            }
        };
        if !matched {
            return DebugPeer { saved: None };
        }
        let saved = log::verbose();
        log::set_verbose(saved + level);
        DebugPeer { saved: Some(saved) }
    }
}

impl Drop for DebugPeer {
    /// `debug_peer_restore()`.
    fn drop(&mut self) {
        if let Some(saved) = self.saved.take() {
            log::set_verbose(saved);
        }
    }
}
