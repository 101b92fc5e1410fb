//! The per-destination fast flush logs: queue IDs of deferred mail, one file per
//! destination in the `flush` queue directory.
//!
//! Postfix counterpart: `flush/flush.c` (`flush_site_to_path`, `flush_add_path`,
//! `flush_send_path`, `flush_one_file`, `flush_send_file_service`,
//! `flush_refresh_service`). A log is appended to under an exclusive lock; a send reads
//! it under the lock, gives each listed deferred message a fresh time stamp and moves it
//! to `incoming/` (so the queue manager takes it at once), truncates the log, and wakes
//! the queue manager. The lock is Postfix's internal lock on Linux (flock), so
//! Postfix's flush and this one can share the directory.

use global::flush_clnt::{STAT_BAD, STAT_OK};
use global::mail_queue::{self, DEFERRED, FLUSH, INCOMING, Layout, STAT_READY};
use std::collections::HashSet;
use std::fs::{File, FileTimes, OpenOptions};
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::time::{Duration, SystemTime};

/// Queue IDs remembered while a log is sent, to skip duplicates
/// (`FLUSH_DUP_FILTER_SIZE`); past it, duplicates are simply sent again.
const DUP_FILTER_SIZE: usize = 10000;

/// The group read bit a queue manager reads as "unthrottle this message's
/// destinations" (`MAIL_QUEUE_STAT_UNTHROTTLE`).
const STAT_UNTHROTTLE: u32 = 0o040;

/// qmgr triggers: forget dead destinations, scan incoming/.
const QMGR_REQ_FLUSH_DEAD: u8 = b'F';
const QMGR_REQ_SCAN_INCOMING: u8 = b'I';

/// How a send treats dead destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// A refresh: only move the mail (`REFRESH_ONLY`).
    RefreshOnly,
    /// ETRN: have the queue manager forget dead destinations first.
    UnthrottleBefore,
    /// One message: mark it for unthrottling as the queue manager reads it.
    UnthrottleAfter,
}

/// The queue the logs live in and what sending needs.
pub struct Logs {
    /// The queue layout.
    pub layout: Layout,
    /// `fast_flush_purge_time` in seconds.
    pub purge: i64,
    /// `queue_service_name`.
    pub queue_service: String,
}

/// The log name of `site`: ASCII (IDNA), letters and digits lowercased, everything else
/// `_` (`flush_site_to_path`); None when a non-ASCII name cannot be converted.
pub fn site_to_path(site: &str) -> Option<String> {
    let ascii = dns::smtp_addr::to_ascii(site);
    if !ascii.is_ascii() {
        return None;
    }
    let path: String = ascii
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                b.to_ascii_lowercase() as char
            } else {
                '_'
            }
        })
        .collect();
    if log::verbose() > 0 {
        log::msg_info!("site {site} to path {path}");
    }
    Some(path)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Logs {
    fn path(&self, name: &str) -> String {
        self.layout.path(FLUSH, name)
    }

    /// Appends `id` to the log `name` (`flush_add_path`).
    pub fn add(&self, name: &str, id: &str) -> i32 {
        if !mail_queue::id_ok(name) {
            return STAT_BAD;
        }
        let path = self.path(name);
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&path)
            .or_else(|e| match e.kind() {
                ErrorKind::NotFound => {
                    mail_queue::mkdirs(&path)?;
                    OpenOptions::new()
                        .create(true)
                        .append(true)
                        .mode(0o600)
                        .open(&path)
                }
                _ => Err(e),
            })
            .unwrap_or_else(|e| {
                log::msg_fatal!(
                    "flush_add_path: open fast flush logfile {name}: {}",
                    sys::os_error(&e)
                )
            });
        lock(&log, name, "flush_add_path");
        if let Err(e) = log.write_all(format!("{id}\n").as_bytes()) {
            log::msg_warn!("write fast flush logfile {name}: {}", sys::os_error(&e));
        }
        STAT_OK
    }

    /// Sends the mail listed in log `name` (`flush_send_path`).
    pub fn send_path(&self, name: &str, how: How) -> i32 {
        if !mail_queue::id_ok(name) {
            return STAT_BAD;
        }
        let path = self.path(name);
        let log = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(log) => log,
            Err(e) if e.kind() == ErrorKind::NotFound => return STAT_OK,
            Err(e) => log::msg_fatal!(
                "flush_send_path: open fast flush logfile {name}: {}",
                sys::os_error(&e)
            ),
        };
        lock(&log, name, "flush_send_path");
        if how == How::UnthrottleBefore {
            self.trigger(QMGR_REQ_FLUSH_DEAD);
        }
        let stamp = SystemTime::now();
        let mut seen = HashSet::new();
        let mut count = 0;
        let mut reader = BufReader::new(&log);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    log::msg_warn!(
                        "flush_send_path: read fast flush logfile {name}: {}",
                        sys::os_error(&e)
                    );
                    break;
                }
            }
            count += 1;
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            let id = String::from_utf8_lossy(&line).into_owned();
            if !mail_queue::id_ok(&id) {
                let shown: String = id.chars().take(30).collect();
                log::msg_warn!("bad queue id \"{shown}...\" in fast flush logfile {name}");
                continue;
            }
            if seen.len() >= DUP_FILTER_SIZE || seen.insert(id.clone()) {
                if log::verbose() > 0 {
                    log::msg_info!(
                        "flush_send_path: logfile {name}: update queue file {id} time stamps"
                    );
                }
                count += self.one_file(&id, stamp, how);
            } else if log::verbose() > 0 {
                log::msg_info!(
                    "flush_send_path: logfile {name}: skip queue file {id} as duplicate"
                );
            }
        }
        if count > 0
            && let Err(e) = log.set_len(0)
        {
            log::msg_fatal!(
                "flush_send_path: truncate fast flush logfile {name}: {}",
                sys::os_error(&e)
            );
        }
        // The log's times say when it was last read (a refresh looks at them).
        let _ = log.set_times(FileTimes::new().set_accessed(stamp).set_modified(stamp));
        drop(log);
        if count > 0 {
            if log::verbose() > 0 {
                log::msg_info!("flush_send_path: requesting delivery for logfile {name}");
            }
            self.trigger(QMGR_REQ_SCAN_INCOMING);
        }
        STAT_OK
    }

    /// `send_file queue_id` (`flush_send_file_service`).
    pub fn send_file(&self, id: &str) -> i32 {
        if !mail_queue::id_ok(id) {
            return STAT_BAD;
        }
        if log::verbose() > 0 {
            log::msg_info!("flush_send_file_service: requesting delivery for queue_id {id}");
        }
        if self.one_file(id, SystemTime::now(), How::UnthrottleAfter) > 0 {
            self.trigger(QMGR_REQ_SCAN_INCOMING);
        }
        STAT_OK
    }

    /// Gives deferred (or already incoming) message `id` a fresh time stamp and moves it
    /// to incoming/; 1 when it was found (`flush_one_file`).
    fn one_file(&self, id: &str, stamp: SystemTime, how: How) -> usize {
        let times = FileTimes::new().set_accessed(stamp).set_modified(stamp);
        // Another flush may just have moved it to incoming/.
        let mut found = None;
        for queue in [DEFERRED, INCOMING] {
            let path = self.layout.path(queue, id);
            match File::open(&path).and_then(|f| f.set_times(times)) {
                Ok(()) => {
                    found = Some(queue);
                    break;
                }
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => log::msg_warn!(
                    "flush_one_file: update {path} time stamps: {}",
                    sys::os_error(&e)
                ),
            }
        }
        let Some(mut queue) = found else {
            return 0;
        };
        if how == How::UnthrottleAfter {
            match self.mark_unthrottle(id, queue) {
                Some(q) => queue = q,
                None => return 0,
            }
        }
        if queue != INCOMING
            && let Err(e) = mail_queue::rename(&self.layout, id, queue, INCOMING)
            && e.kind() != ErrorKind::NotFound
        {
            log::msg_warn!(
                "{}: rename from {queue} to {INCOMING}: {}",
                self.layout.path(queue, id),
                sys::os_error(&e)
            );
        }
        1
    }

    /// Sets the unthrottle bit of a complete queue file, found in `queue` or, if it
    /// moved meanwhile, incoming/; the queue it is in, None when it cannot be done.
    fn mark_unthrottle(&self, id: &str, queue: &'static str) -> Option<&'static str> {
        for queue in [queue, INCOMING] {
            let path = self.layout.path(queue, id);
            let file = match global::safe_open::open_existing(
                std::path::Path::new(&path),
                global::safe_open::Access::Write,
            ) {
                Ok(file) => file,
                Err(refused) => {
                    if refused.error.kind() != ErrorKind::NotFound {
                        log::msg_warn!("flush_one_file: open {path}: {}", refused.why);
                        return None;
                    }
                    if queue == INCOMING {
                        return None;
                    }
                    continue;
                }
            };
            let mode = file.metadata().ok()?.permissions().mode();
            if mode & STAT_READY != STAT_READY {
                return None;
            }
            let unthrottled = std::fs::Permissions::from_mode((mode | STAT_UNTHROTTLE) & 0o7777);
            if let Err(e) = file.set_permissions(unthrottled) {
                log::msg_warn!("flush_one_file: fchmod {path}: {}", sys::os_error(&e));
            }
            return Some(queue);
        }
        None
    }

    /// Sends logs unread for `max_age` seconds and removes empty ones unchanged for
    /// `fast_flush_purge_time` (`flush_refresh_service`); 0 refreshes every log.
    pub fn refresh(&self, max_age: i64) {
        let now = now();
        for name in global::queue_read::scan_queue(FLUSH) {
            if !mail_queue::id_ok(&name) {
                continue;
            }
            let path = self.path(&name);
            let st = match std::fs::metadata(&path) {
                Ok(st) => st,
                Err(e) => {
                    if e.kind() != ErrorKind::NotFound {
                        log::msg_warn!("flush_refresh_service: stat {path}: {}", sys::os_error(&e));
                    }
                    continue;
                }
            };
            let seconds = |t: std::io::Result<SystemTime>| {
                t.ok()
                    .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                    .unwrap_or(Duration::ZERO)
                    .as_secs() as i64
            };
            if st.len() == 0 {
                if seconds(st.modified()) + self.purge < now {
                    match std::fs::remove_file(&path) {
                        Err(e) => log::msg_warn!("remove logfile {path}: {}", sys::os_error(&e)),
                        Ok(()) if log::verbose() > 0 => log::msg_info!(
                            "flush_refresh_service: unlink {path}, empty and unchanged for {} days",
                            self.purge / 86400
                        ),
                        Ok(()) => {}
                    }
                } else if log::verbose() > 0 {
                    log::msg_info!("flush_refresh_service: skip logfile {name} - empty log");
                }
            } else if seconds(st.accessed()) + max_age < now || max_age == 0 {
                if log::verbose() > 0 {
                    log::msg_info!("flush_refresh_service: flush logfile {name}");
                }
                self.send_path(&name, How::RefreshOnly);
            } else if log::verbose() > 0 {
                log::msg_info!(
                    "flush_refresh_service: skip logfile {name}, unread for <{} hours(s) ",
                    max_age / 3600
                );
            }
        }
    }

    fn trigger(&self, request: u8) {
        // A queue manager that is down finds the mail at its next scan anyway.
        global::mail_trigger::mail_trigger(
            "public",
            &self.queue_service,
            &[request],
            Duration::from_secs(10),
        );
    }
}

/// Takes Postfix's internal lock (flock on Linux) on a log; failure is fatal, as in
/// Postfix. The lock goes with the descriptor.
fn lock(log: &File, name: &str, caller: &str) {
    if let Err(e) = log.lock() {
        log::msg_fatal!(
            "{caller}: lock fast flush logfile {name}: {}",
            sys::os_error(&e)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_names_become_safe_log_names() {
        assert_eq!(site_to_path("Example.COM").as_deref(), Some("example_com"));
        assert_eq!(site_to_path("[192.0.2.1]").as_deref(), Some("_192_0_2_1_"));
        assert_eq!(
            site_to_path("bücher.example").as_deref(),
            Some("xn__bcher_kva_example")
        );
    }
}
