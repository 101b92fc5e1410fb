//! The mass operations: one walk over each queue directory.
//!
//! Postfix counterpart: `super()` and `fix_queue_id()` in `postsuper/postsuper.c`. The
//! repair pass removes what does not belong (directories that are not hash levels,
//! non-files, temporary files older than a week with `-p`), moves files to the hash
//! level `hash_queue_names`/`hash_queue_depth` want and removes levels no longer wanted
//! (`-s`), and renames message files whose short queue ID does not match their inode
//! number (`-s`; long IDs too with `-S`) to `NEWID#FIX`, with their log files, for a
//! second pass to finish. The other passes delete, requeue, expire, hold or release every
//! message of the queues given.

use crate::ops::{self, Counts, LOG_QUEUES, QueueInfo, find_queue_info, postremove, postrename};
use global::mail_queue::{self, DEFERRED, HOLD, Layout, MAILDROP};
use std::os::unix::fs::MetadataExt;

pub const STRUCT: u32 = 1 << 0;
pub const PURGE: u32 = 1 << 1;
pub const DELETE_ONE: u32 = 1 << 2;
pub const DELETE_ALL: u32 = 1 << 3;
pub const REQUEUE_ONE: u32 = 1 << 4;
pub const REQUEUE_ALL: u32 = 1 << 5;
pub const HOLD_ONE: u32 = 1 << 6;
pub const HOLD_ALL: u32 = 1 << 7;
pub const RELEASE_ONE: u32 = 1 << 8;
pub const RELEASE_ALL: u32 = 1 << 9;
pub const STRUCT_RED: u32 = 1 << 10;
pub const EXPIRE_ONE: u32 = 1 << 11;
pub const EXPIRE_ALL: u32 = 1 << 12;
pub const EXP_REL_ONE: u32 = 1 << 13;
pub const EXP_REL_ALL: u32 = 1 << 14;

/// Operations on named files: never after names changed to match inodes.
pub const BY_QUEUE_ID: u32 =
    DELETE_ONE | REQUEUE_ONE | HOLD_ONE | RELEASE_ONE | EXPIRE_ONE | EXP_REL_ONE;
/// Operations on every file.
pub const BY_WILDCARD: u32 =
    DELETE_ALL | REQUEUE_ALL | HOLD_ALL | RELEASE_ALL | EXPIRE_ALL | EXP_REL_ALL;
/// The repairs, done together before anything else.
pub const FOR_REPAIR: u32 = PURGE | STRUCT | STRUCT_RED;

/// How old a temporary file must be before `-p` removes it.
const MAX_TEMP_AGE: i64 = 7 * 60 * 60 * 24;
/// What a renamed file carries until the second pass: not a valid queue ID, so that a
/// running queue manager leaves it alone.
const SUFFIX: &str = "#FIX";
/// Digits of the microseconds in a short queue ID.
const SH_USEC_PAD: usize = 5;
/// Digits of the time part of a long queue ID, before its `z`.
const LG_TIME_PAD: usize = 10;
const LG_USEC_PAD: usize = 4;

/// The inode number a queue ID carries, and whether the ID is long; None if malformed.
fn id_inum(id: &str) -> Option<(u64, bool)> {
    if let Some(at) = id.rfind('z').filter(|&at| at >= LG_TIME_PAD) {
        return mail_queue::safe_strtoul(&id[at + 1..], 51).map(|n| (n, true));
    }
    if id.len() <= SH_USEC_PAD {
        return None;
    }
    u64::from_str_radix(&id[SH_USEC_PAD..], 16)
        .ok()
        .map(|n| (n, false))
}

/// One walk over `queues` for `action`.
pub struct Mass<'a> {
    pub layout: &'a Layout,
    pub counts: &'a mut Counts,
}

impl Mass<'_> {
    pub fn run(&mut self, queues: &[String], mut action: u32) {
        for queue in queues {
            if log::verbose() > 0 {
                log::msg_info!("queue: {queue}");
            }
            let qp = find_queue_info(queue);
            let wanted_depth = if self.layout.hash_queue_names.iter().any(|q| q == queue) {
                self.layout.hash_queue_depth
            } else {
                0
            };
            if wanted_depth > 0 && !qp.recurse {
                log::msg_fatal!("{queue} queue must not be hashed");
            }
            let base = self.base(queue);
            self.walk(queue, &qp, &base, 0, wanted_depth, &mut action);
        }
    }

    /// The queue directory as the layout sees it (relative unless a base is set).
    fn base(&self, queue: &str) -> String {
        if self.layout.base.as_os_str().is_empty() {
            queue.to_string()
        } else {
            format!("{}/{queue}", self.layout.base.display())
        }
    }

    fn walk(
        &mut self,
        queue: &str,
        qp: &QueueInfo,
        dir: &str,
        depth: usize,
        wanted_depth: usize,
        action: &mut u32,
    ) {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => log::msg_fatal!("open directory {dir}: {}", sys::os_error(&e)),
        };
        let names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect();
        for name in names {
            if name.len() == 1 && qp.recurse {
                let sub = format!("{dir}/{name}");
                self.walk(queue, qp, &sub, depth + 1, wanted_depth, action);
                if depth + 1 > wanted_depth {
                    postrmdir(&sub);
                }
                continue;
            }
            self.one_file(queue, qp, dir, name, action);
        }
    }

    fn one_file(
        &mut self,
        queue: &str,
        qp: &QueueInfo,
        dir: &str,
        mut name: String,
        action: &mut u32,
    ) {
        let mut actual_path = format!("{dir}/{name}");
        let Ok(meta) = std::fs::symlink_metadata(&actual_path) else {
            return;
        };
        // A directory that is no hash level: whoever made it, it goes (if it is empty).
        if meta.is_dir() {
            match std::fs::remove_dir(&actual_path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    log::msg_warn!("remove subdirectory {actual_path}: {}", sys::os_error(&e))
                }
                Ok(()) if log::verbose() > 0 => {
                    log::msg_info!("remove subdirectory {actual_path}")
                }
                _ => {}
            }
            return;
        }
        if *action & DELETE_ALL != 0 {
            if postremove(&actual_path).is_ok() && qp.message_queue && ops::ready(&meta) {
                self.counts.deleted += 1;
            }
            return;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        if !meta.is_file()
            || (*action & PURGE != 0
                && qp.message_queue
                && !ops::ready(&meta)
                && now > meta.mtime() + MAX_TEMP_AGE)
        {
            let _ = postremove(&actual_path);
            return;
        }
        // The second pass of an inode fix: strip the suffix, put the file in place.
        if *action & STRUCT != 0 && name.len() > SUFFIX.len() && name.ends_with(SUFFIX) {
            name.truncate(name.len() - SUFFIX.len());
            if !mail_queue::id_ok(&name) {
                log::msg_warn!("bogus file name: {actual_path}");
                return;
            }
            if qp.message_queue {
                match id_inum(&name) {
                    None => {
                        log::msg_warn!("bogus file name: {actual_path}");
                        return;
                    }
                    Some((inum, _)) if inum != meta.ino() => {
                        log::msg_warn!("name/inode mismatch: {actual_path}");
                        return;
                    }
                    Some(_) => {}
                }
            }
            let wanted = self.layout.path(queue, &name);
            if postrename(&actual_path, &wanted).is_err() {
                return;
            }
            if qp.message_queue {
                self.counts.inode_fixed += 1;
            }
            actual_path = wanted;
        }
        if !mail_queue::id_ok(&name) {
            log::msg_warn!("bogus file name: {actual_path}");
            return;
        }
        if *action & STRUCT != 0 && qp.message_queue {
            let Some((inum, long_name)) = id_inum(&name) else {
                log::msg_warn!("bogus file name: {actual_path}");
                return;
            };
            if (long_name && !self.layout.long_queue_ids)
                || (inum != meta.ino() && (!long_name || *action & STRUCT_RED != 0))
            {
                self.counts.inode_mismatch += 1;
                // Renamed files must not be acted on in this pass.
                *action &= !BY_WILDCARD;
                self.fix_queue_id(&actual_path, queue, &name, meta.ino());
                return;
            }
        }
        if *action & REQUEUE_ALL != 0 && qp.message_queue && queue != MAILDROP {
            if postrename(&actual_path, &self.layout.path(MAILDROP, &name)).is_ok() {
                self.counts.requeued += 1;
            }
            return;
        }
        if *action & (EXPIRE_ALL | EXP_REL_ALL) != 0
            && qp.message_queue
            && ops::ready(&meta)
            && queue != MAILDROP
            && ops::postexpire(&actual_path)
        {
            self.counts.expired += 1;
        }
        if *action & HOLD_ALL != 0 && qp.message_queue && queue != MAILDROP && queue != HOLD {
            if postrename(&actual_path, &self.layout.path(HOLD, &name)).is_ok() {
                self.counts.held += 1;
            }
            return;
        }
        if *action & (RELEASE_ALL | EXP_REL_ALL) != 0 && queue == HOLD {
            if postrename(&actual_path, &self.layout.path(DEFERRED, &name)).is_ok() {
                self.counts.released += 1;
            }
            return;
        }
        if *action & STRUCT != 0 {
            let wanted = self.layout.path(queue, &name);
            if actual_path != wanted {
                self.counts.position_mismatch += 1;
                let _ = postrename(&actual_path, &wanted);
            }
        }
    }

    /// Renames a message file and its log files to a queue ID made of the old time part
    /// and the file's inode number, with the suffix. The name is deterministic, so that
    /// an interrupted run can be finished by running again.
    fn fix_queue_id(&mut self, actual_path: &str, queue: &str, actual_id: &str, inode: u64) {
        let new_id = match actual_id.rfind('z').filter(|&at| at >= LG_TIME_PAD) {
            None => format!("{}{inode:X}", &actual_id[..SH_USEC_PAD]),
            Some(at) if self.layout.long_queue_ids => format!(
                "{}z{}",
                &actual_id[..at],
                mail_queue::safe_ultostr(inode, 51, 0)
            ),
            Some(at) => {
                let usec =
                    mail_queue::safe_strtoul(&actual_id[at - LG_USEC_PAD..at], 52).unwrap_or(0);
                format!("{usec:05X}{inode:X}")
            }
        };
        for log_queue in LOG_QUEUES {
            let old = self.layout.path(log_queue, actual_id);
            let new = format!("{}{SUFFIX}", self.layout.path(log_queue, &new_id));
            let _ = postrename(&old, &new);
        }
        let new = format!("{}{SUFFIX}", self.layout.path(queue, &new_id));
        let _ = postrename(actual_path, &new);
    }
}

/// Removes a hash level no longer wanted; anything but a level already gone is fatal, as
/// in Postfix.
fn postrmdir(path: &str) {
    match std::fs::remove_dir(path) {
        Ok(()) => {
            if log::verbose() > 0 {
                log::msg_info!("remove directory {path}");
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => log::msg_fatal!("remove directory {path}: {}", sys::os_error(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inode_numbers_of_queue_ids() {
        assert_eq!(id_inum("1A2B3BEEF"), Some((0xBEEF, false)));
        assert_eq!(id_inum("1A2B"), None);
        let long = mail_queue::queue_id(true, 1_700_000_000, 5, 123_456);
        assert_eq!(id_inum(&long), Some((123_456, true)));
    }
}
