//! More verbose logging for chosen next hops and servers: `debug_peer_list` and
//! `debug_peer_level`.
//!
//! Postfix counterpart: `global/debug_peer.c` as the SMTP client uses it since Postfix
//! 3.6: the next hop is checked once per request (`debug_peer_check(nexthop,
//! "noaddr")`), then each server by name and address. The level is raised once: a
//! server of a next hop that already matched adds nothing. Dropping the guard restores
//! the level.

use crate::settings::Settings;
use global::match_list::MatchList;
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
        match &settings.debug_peer {
            Some((list, level)) => DebugPeer::check_list(list, *level, name, addr),
            None => DebugPeer { saved: None },
        }
    }

    /// [`DebugPeer::check`] against `list`, raising by `level`.
    fn check_list(list: &MatchList, level: i32, name: &str, addr: &str) -> DebugPeer {
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

#[cfg(test)]
mod tests {
    use super::*;
    use global::match_list::{ListFlags, Matcher};
    use std::sync::Mutex;

    /// The level and the guard's flag are process-wide: one test at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    /// `debug_peer_list` as the client parses it (debug_peer_list is in Postfix's
    /// default parent_domain_matches_subdomains).
    fn list(text: &str) -> MatchList {
        let flags = ListFlags {
            parent: true,
            utf8: false,
        };
        MatchList::new(
            "debug_peer_list",
            flags,
            text,
            &[Matcher::Hostname, Matcher::Hostaddr],
        )
    }

    /// Runs `f` from verbosity 0 and checks that it left the level at 0.
    fn serially(f: impl FnOnce()) {
        let _lock = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        log::set_verbose(0);
        f();
        assert_eq!(log::verbose(), 0);
        assert!(!RAISED.load(Ordering::Relaxed));
    }

    /// The level during a session with `name`/`addr` (raised by 2 when listed), and
    /// the level once it has ended.
    fn session(list: &MatchList, name: &str, addr: &str) -> (i32, i32) {
        let guard = DebugPeer::check_list(list, 2, name, addr);
        let during = log::verbose();
        drop(guard);
        (during, log::verbose())
    }

    #[test]
    fn next_hop_matches_by_name_and_servers_add_nothing() {
        serially(|| {
            let list = list("pref.e2e.test");
            let nexthop = DebugPeer::check_list(&list, 2, "pref.e2e.test", "noaddr");
            // A server of the same next hop that matches too (a subdomain, by the
            // parent style) raises nothing more, and its end restores nothing.
            assert_eq!(session(&list, "mx-b.pref.e2e.test", "127.0.0.31"), (2, 2));
            drop(nexthop);
        });
    }

    #[test]
    fn one_server_by_name_raised_for_its_session_only() {
        serially(|| {
            let list = list("mx-b.pref.e2e.test");
            let nexthop = DebugPeer::check_list(&list, 2, "pref.e2e.test", "noaddr");
            assert_eq!(log::verbose(), 0);
            assert_eq!(session(&list, "mx-a.pref.e2e.test", "127.0.0.36"), (0, 0));
            assert_eq!(session(&list, "mx-b.pref.e2e.test", "127.0.0.31"), (2, 0));
            // The same server again (a cached session) is raised again.
            assert_eq!(session(&list, "mx-b.pref.e2e.test", "127.0.0.31"), (2, 0));
            drop(nexthop);
        });
    }

    #[test]
    fn server_by_address_and_level_added_to_the_current_one() {
        serially(|| {
            let list = list("127.0.0.0/8");
            log::set_verbose(1);
            let nexthop = DebugPeer::check_list(&list, 3, "pref.e2e.test", "noaddr");
            assert_eq!(log::verbose(), 1);
            let server = DebugPeer::check_list(&list, 3, "mx-b.pref.e2e.test", "127.0.0.31");
            assert_eq!(log::verbose(), 4);
            drop(server);
            assert_eq!(log::verbose(), 1);
            drop(nexthop);
            log::set_verbose(0);
        });
    }

    #[test]
    fn bracketed_next_hop_with_port_matches_as_written() {
        serially(|| {
            // Not a table (it starts with "["): the next hop as the transport names it,
            // not the server's address.
            let list = list("[127.0.0.1]:2525");
            assert_eq!(session(&list, "[127.0.0.1]:25", "noaddr"), (0, 0));
            assert_eq!(session(&list, "[127.0.0.1]:2525", "noaddr"), (2, 0));
            assert_eq!(session(&list, "127.0.0.1", "127.0.0.1"), (0, 0));
        });
    }

    #[test]
    fn excluded_name_stops_the_match() {
        serially(|| {
            let list = list("!mx-a.pref.e2e.test, pref.e2e.test");
            assert_eq!(session(&list, "mx-a.pref.e2e.test", "127.0.0.36"), (0, 0));
            assert_eq!(session(&list, "mx-b.pref.e2e.test", "127.0.0.31"), (2, 0));
        });
    }
}
