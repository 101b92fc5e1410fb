//! The active queue: taking a file in from incoming/ or deferred/, and deciding what
//! becomes of it when every delivery request for it has ended.
//!
//! Postfix counterpart: `qmgr/qmgr_active.c`. Feeding renames the file into active/
//! (a file whose time stamp is in the future is a deferred message not yet due, unless
//! the scan asked for everything). At the end: a non-empty bounce log is sent to the
//! sender through the bounce service; a message with deferred recipients that has
//! outlived `maximal_queue_lifetime` (`bounce_queue_lifetime` for a null sender) is
//! logged as expired and its defer log returned to the sender; otherwise a message with
//! deferred recipients goes to deferred/ with its time stamp set to the next retry time
//! (the time it has spent in the queue, within minimal_backoff_time and
//! maximal_backoff_time), and a message with none left is removed and logged
//! `QUEUEID: removed`. Damaged or vanished files go to corrupt/ (a file qmgr may not
//! open stops qmgr instead, see message.rs).

use crate::bounce;
use crate::message::Message;
use crate::settings::Settings;
use global::mail_queue::{ACTIVE, BOUNCE, CORRUPT, DEFER, DEFERRED, Layout, rename};
use std::fs::{File, FileTimes};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::{Duration, SystemTime};

/// Trace flags that ask for a delivery report: USR_VRFY, RECORD, REC_DLY_SENT.
const TRACE_REPORT: i32 = 1 << 9 | 1 << 10 | 1 << 13;

/// The mode bits of a complete queue file.
const STAT_READY: u32 = 0o700;

/// What the administrator asked for a message through its mode bits (`postqueue -i`,
/// `-s` set g+r; `postsuper -e`, `-f` set g+x).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    /// Revive its dead destinations and ignore defer_transports (g+r, cleared once
    /// the file has been read).
    pub unthrottle: bool,
    /// Return it to the sender now (g+x).
    pub expire: bool,
    /// The file's permission bits.
    pub mode: u32,
}

/// The mode bit that asks for an unthrottled attempt (`MAIL_QUEUE_STAT_UNTHROTTLE`).
const STAT_UNTHROTTLE: u32 = 0o040;
/// The mode bit that asks for expiry (`MAIL_QUEUE_STAT_EXPIRE`).
const STAT_EXPIRE: u32 = 0o010;

impl Marks {
    fn from_mode(mode: u32) -> Marks {
        Marks {
            unthrottle: mode & STAT_UNTHROTTLE != 0,
            expire: mode & STAT_EXPIRE != 0,
            mode: mode & 0o7777,
        }
    }

    /// Clears the unthrottle request of a file that has been read (only then: a file
    /// that turns out corrupt keeps its mode).
    pub fn clear_unthrottle(&self, path: &str) {
        if !self.unthrottle {
            return;
        }
        let mode = std::fs::Permissions::from_mode(self.mode & !STAT_UNTHROTTLE);
        if let Err(e) = std::fs::set_permissions(path, mode) {
            log::msg_fatal!("fchmod {path}: {}", sys::os_error(&e));
        }
    }
}

/// Moves `id` from `queue` into the active queue when it is complete and due; its path
/// in active/ and the administrator's marks when it was moved.
pub fn feed(
    layout: &Layout,
    queue: &str,
    id: &str,
    all: bool,
    now: i64,
) -> Option<(String, Marks)> {
    if log::verbose() > 0 {
        log::msg_info!("qmgr_active_feed: queue {queue}");
    }
    let path = layout.path(queue, id);
    let meta = std::fs::symlink_metadata(&path).ok()?;
    if !meta.file_type().is_file() {
        log::msg_warn!("{path}: uid {}: not a regular file", meta.uid());
        return None;
    }
    // Still being written.
    if meta.mode() & 0o700 != STAT_READY {
        return None;
    }
    if log::verbose() > 0 {
        log::msg_info!("qmgr_active_feed: {path}");
    }
    if !all && meta.mtime() > now + 1 {
        if log::verbose() > 0 {
            log::msg_info!(
                "qmgr_active_feed: skip {id} ({} seconds)",
                meta.mtime() - now
            );
        }
        return None;
    }
    match rename(layout, id, queue, ACTIVE) {
        Ok(()) => Some((layout.path(ACTIVE, id), Marks::from_mode(meta.mode()))),
        Err(e) => {
            gone_or_fatal(
                &e,
                &format!("qmgr_active_feed: {id}: rename from {queue} to {ACTIVE}"),
            );
            None
        }
    }
}

/// A file operation failed: a file someone else removed meanwhile (postsuper -d) is a
/// warning; anything else means the queue is not what it should be, and is fatal.
fn gone_or_fatal(e: &std::io::Error, what: &str) {
    if e.kind() != std::io::ErrorKind::NotFound {
        log::msg_fatal!("{what}: {}", sys::os_error(e));
    }
    log::msg_warn!("{what}: {}", sys::os_error(e));
}

/// Whether `id` has a defer log with something in it.
pub fn has_defer_log(layout: &Layout, id: &str) -> bool {
    std::fs::metadata(layout.path(DEFER, id)).is_ok_and(|m| m.len() > 0)
}

/// Removes the defer log of an earlier run of `id` before its recipients are routed
/// again: it only describes recipients that are still in the file, and this run's
/// deferrals write it anew (Postfix does this in `qmgr_message_alloc`).
pub fn reset_defer_log(layout: &Layout, id: &str) {
    if let Err(e) = std::fs::remove_file(layout.path(DEFER, id))
        && e.kind() != std::io::ErrorKind::NotFound
    {
        log::msg_fatal!(
            "qmgr_message_alloc: {id}: remove {DEFER} {id}: {}",
            sys::os_error(&e)
        );
    }
}

/// Moves a file that could not be read to corrupt/ (`qmgr_active_corrupt`).
pub fn corrupt(layout: &Layout, id: &str) {
    match rename(layout, id, ACTIVE, CORRUPT) {
        Ok(()) => log::msg_warn!(
            "saving corrupt file \"{id}\" from queue \"{ACTIVE}\" to queue \"{CORRUPT}\""
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => log::msg_fatal!(
            "qmgr_active_corrupt: save corrupt file queue {ACTIVE} id {id}: {}",
            sys::os_error(&e)
        ),
    }
}

/// Sets the time stamps of `id` in `queue` to `when` and moves it to `dest`
/// (`qmgr_active_defer`).
pub fn defer(layout: &Layout, id: &str, queue: &str, dest: &str, delay: i64, now: i64) {
    if log::verbose() > 0 {
        log::msg_info!("wakeup {id} after {delay} secs");
    }
    let path = layout.path(queue, id);
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs((now + delay).max(0) as u64);
    let stamped = File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_times(FileTimes::new().set_accessed(when).set_modified(when)));
    if let Err(e) = stamped
        && e.kind() != std::io::ErrorKind::NotFound
    {
        log::msg_fatal!(
            "qmgr_active_defer: update {path} time stamps: {}",
            sys::os_error(&e)
        );
    }
    match rename(layout, id, queue, dest) {
        Ok(()) => {
            if log::verbose() > 0 {
                log::msg_info!("qmgr_active_defer: defer {id}");
            }
        }
        Err(e) => gone_or_fatal(
            &e,
            &format!("qmgr_active_defer: rename {id} from {queue} to {dest}"),
        ),
    }
}

/// The first step at the end of a message's delivery requests, taken after each slice of
/// its recipients: a bounce log is sent to the sender as a non-delivery notice (and
/// removed), an empty one removed. True when that failed and the message must stay
/// (`qmgr_active_done`).
pub fn flush_bounces(settings: &Settings, message: &Message) -> bool {
    let id = &message.id;
    if log::verbose() > 0 {
        log::msg_info!("qmgr_active_done: {id}");
    }
    let layout = &settings.layout;
    let Ok(meta) = std::fs::metadata(layout.path(BOUNCE, id)) else {
        return false;
    };
    if meta.len() == 0 {
        if let Err(e) = std::fs::remove_file(layout.path(BOUNCE, id)) {
            log::msg_fatal!("remove {BOUNCE} {id}: {}", sys::os_error(&e));
        }
        return false;
    }
    if log::verbose() > 0 {
        log::msg_info!("qmgr_active_done: bounce {id}");
    }
    bounce::flush(
        &settings.bounce_service,
        bounce::CMD_FLUSH,
        0,
        message,
        settings.ipc_timeout,
    ) != 0
}

/// The end of a message whose recipients have all been read and whose delivery requests
/// have all ended, after [`flush_bounces`]; `deferred` says that some recipient is still
/// to be delivered (the sequels of `qmgr_active_done`).
pub fn done(settings: &Settings, message: &Message, mut deferred: bool, now: i64) {
    let id = &message.id;
    let layout = &settings.layout;
    let timeout = settings.ipc_timeout;
    // A delivery report (sendmail -v, -bv) or DSN SUCCESS notices; the size record says
    // whether any recipient asked, as they are no longer all in memory.
    let notify_success = message.rflags & crate::message::READ_FLAG_NOTIFY_SUCCESS != 0;
    if message.tflags & TRACE_REPORT != 0 || notify_success {
        let status = bounce::flush(
            &settings.trace_service,
            bounce::CMD_TRACE,
            message.tflags,
            message,
            timeout,
        );
        if status == 0 && message.tflags_offset > 0 {
            crate::message_edit::kill_record(layout, id, message.tflags_offset);
        }
        deferred |= status != 0;
    }
    if deferred {
        let lifetime = if message.sender.is_empty() {
            settings.bounce_queue_lifetime
        } else {
            settings.max_queue_lifetime
        };
        let expired = if message.force_expire {
            Some("force-expired")
        } else {
            (now >= message.create_time + lifetime).then_some("expired")
        };
        if let Some(status) = expired {
            log::msg_info!(
                "{id}: from=<{}>, status={status}, returned to sender",
                crate::opened::log_address(&message.sender)
            );
            deferred = bounce::flush(
                &settings.defer_service,
                bounce::CMD_FLUSH,
                bounce::FLAG_DELRCPT,
                message,
                timeout,
            ) != 0;
        } else if message.warn_time > 0 && now >= message.warn_time - 1 {
            if log::verbose() > 0 {
                log::msg_info!("qmgr_active_done: sending defer warning for {id}");
            }
            let status = bounce::flush(
                &settings.defer_service,
                bounce::CMD_WARN,
                0,
                message,
                timeout,
            );
            if status == 0 {
                crate::message_edit::update_warn(layout, id, message.warn_offset);
            }
        }
    }
    if deferred {
        let delay = backoff(
            message.create_time,
            now,
            settings.min_backoff,
            settings.max_backoff,
        );
        defer(layout, id, ACTIVE, DEFERRED, delay, now);
        return;
    }
    match std::fs::remove_file(layout.path(ACTIVE, id)) {
        Ok(()) => log::msg_info!("{id}: removed"),
        Err(e) => gone_or_fatal(
            &e,
            &format!("qmgr_active_done_3_generic: remove {id} from {ACTIVE}"),
        ),
    }
}

/// How long a message with deferred recipients waits before its next try: the time it
/// has spent in the queue, at most maximal_backoff_time and then at least
/// minimal_backoff_time, in that order as in qmgr_active_done_3_generic(), so that a
/// maximal below the minimal gives the minimal (where `clamp` would panic).
fn backoff(create_time: i64, now: i64, min_backoff: i64, max_backoff: i64) -> i64 {
    if create_time > 0 {
        (now - create_time).min(max_backoff).max(min_backoff)
    } else {
        min_backoff
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_is_the_age_within_the_backoff_times() {
        let now = 1_800_000_000;
        assert_eq!(backoff(now - 10, now, 300, 4000), 300);
        assert_eq!(backoff(now - 3600, now, 300, 4000), 3600);
        assert_eq!(backoff(now - 5 * 86400, now, 300, 4000), 4000);
        // A create time in the future (a clock step back) waits the minimal time.
        assert_eq!(backoff(now + 60, now, 300, 4000), 300);
        // No create time at all.
        assert_eq!(backoff(0, now, 300, 4000), 300);
    }

    #[test]
    fn a_maximal_backoff_below_the_minimal_gives_the_minimal() {
        let now = 1_800_000_000;
        for age in [10, 200, 3600] {
            assert_eq!(backoff(now - age, now, 300, 100), 300, "age {age}");
        }
    }
}
