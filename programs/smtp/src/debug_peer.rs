//! More verbose logging for chosen next hops and servers: `debug_peer_list` and
//! `debug_peer_level`.
//!
//! Postfix counterpart: `global/debug_peer.c` as the SMTP client uses it since Postfix
//! 3.6: the next hop is checked once per request (`debug_peer_check(nexthop,
//! "noaddr")`), then each server by name and address. The level is raised once: a
//! server of a next hop that already matched adds nothing. Dropping the guard restores
//! the level.

use crate::settings::Settings;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a guard has raised the level now (Postfix's `saved_level`).
static RAISED: AtomicBool = AtomicBool::new(false);

/// The raised verbosity of a request or session; dropping it restores the level.
pub struct DebugPeer {
    saved: Option<i32>,
}

impl DebugPeer {
    /// Raises the verbosity when `debug_peer_list` matches `name` or `addr`
    /// (`debug_peer_check()`); a table that fails counts as no match, with a warning.
    pub fn check(settings: &Settings, name: &str, addr: &str) -> DebugPeer {
        let Some((list, level)) = &settings.debug_peer else {
            return DebugPeer { saved: None };
        };
        if RAISED.load(Ordering::Relaxed) {
            return DebugPeer { saved: None };
        }
        match list.matches(&[name, addr]) {
            Ok(true) => {
                let saved = log::verbose();
                log::set_verbose(saved + level);
                RAISED.store(true, Ordering::Relaxed);
                DebugPeer { saved: Some(saved) }
            }
            Ok(false) => DebugPeer { saved: None },
            Err(e) => {
                log::msg_warn!("{e}");
                DebugPeer { saved: None }
            }
        }
    }
}

impl Drop for DebugPeer {
    /// `debug_peer_restore()`.
    fn drop(&mut self) {
        if let Some(saved) = self.saved.take() {
            log::set_verbose(saved);
            RAISED.store(false, Ordering::Relaxed);
        }
    }
}
