//! Queue scans: the queue IDs in a queue directory, its hashed subdirectories included,
//! and the requests that start them.
//!
//! Postfix counterparts: `qmgr/qmgr_scan.c` and `global/mail_scan_dir.c`. A scan takes a
//! snapshot of the names when it starts; a request during a scan asks for another pass
//! when this one ends (`QMGR_SCAN_START`), so mail that arrived meanwhile is not missed.
//! `QMGR_SCAN_ALL` ignores the files' time stamps (their next retry time), as
//! `postqueue -f` wants.

use std::collections::VecDeque;

/// Start a scan (or another pass after this one).
pub const START: u32 = 1 << 0;
/// Ignore the time stamps.
pub const ALL: u32 = 1 << 1;
/// Unthrottle dead destinations before the scan.
pub const FLUSH_ONCE: u32 = 1 << 2;
/// Ignore defer_transports.
pub const FLUSH_DFXP: u32 = 1 << 3;

/// One queue's scan state.
pub struct Scan {
    /// The queue directory.
    pub queue: &'static str,
    /// Flags of the pass under way.
    pub flags: u32,
    /// Flags asked for while a pass is under way.
    pub nflags: u32,
    /// The IDs still to look at; None when no pass is under way.
    pending: Option<VecDeque<String>>,
}

impl Scan {
    /// A scan of `queue`, idle.
    pub fn new(queue: &'static str) -> Scan {
        Scan {
            queue,
            flags: 0,
            nflags: 0,
            pending: None,
        }
    }

    /// Asks for a scan with `flags` (`qmgr_scan_request`): starts one now when none is
    /// under way, else remembers the flags for the next pass. FLUSH_ONCE is returned for
    /// the caller to act on at once.
    pub fn request(&mut self, flags: u32) -> u32 {
        if self.pending.is_some() {
            self.nflags |= flags;
            return flags & FLUSH_ONCE;
        }
        self.start(flags);
        flags & FLUSH_ONCE
    }

    fn start(&mut self, flags: u32) {
        if log::verbose() > 0 {
            log::msg_info!(
                "qmgr_scan_start: {}scan queue {}",
                if flags & ALL != 0 { "flush " } else { "" },
                self.queue
            );
        }
        self.flags = flags;
        self.nflags = 0;
        let mut ids = VecDeque::new();
        list_ids(self.queue, &mut ids, 0);
        self.pending = Some(ids);
    }

    /// Whether a pass is under way.
    pub fn busy(&self) -> bool {
        self.pending.is_some()
    }

    /// The next queue ID, starting another pass when one was asked for; None when done.
    pub fn next(&mut self) -> Option<String> {
        loop {
            let ids = self.pending.as_mut()?;
            if let Some(id) = ids.pop_front() {
                return Some(id);
            }
            self.pending = None;
            if log::verbose() > 0 {
                log::msg_info!("qmgr_scan_next: done {} queue scan", self.queue);
            }
            if self.nflags & START == 0 {
                return None;
            }
            self.start(self.nflags);
        }
    }
}

/// Adds the queue file names under `dir` to `ids`; subdirectories are the hash levels
/// (one hexadecimal character each).
fn list_ids(dir: &str, ids: &mut VecDeque<String>, depth: usize) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                log::msg_warn!("open directory {dir}: {}", sys::os_error(&e));
            }
            return;
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir && name.len() == 1 && depth < 16 {
            list_ids(&format!("{dir}/{name}"), ids, depth + 1);
        } else if global::mail_queue::id_ok(&name) {
            ids.push_back(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_directories_are_walked() {
        let dir = std::env::temp_dir().join(format!("ironpost-qmgr-scan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("A")).unwrap();
        std::fs::write(dir.join("A/ABC123"), b"").unwrap();
        std::fs::write(dir.join("DEF456"), b"").unwrap();
        let mut ids = VecDeque::new();
        list_ids(&dir.display().to_string(), &mut ids, 0);
        let mut ids: Vec<String> = ids.into();
        ids.sort();
        assert_eq!(ids, ["ABC123", "DEF456"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
