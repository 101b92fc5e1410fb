//! The operations on named queue files, and the file primitives they share with the mass
//! operations.
//!
//! Postfix counterpart: `delete_one()`, `requeue_one()`, `hold_one()`, `release_one()`,
//! `expire_one()`, `postremove()`, `postrename()`, `postexpire()` in
//! `postsuper/postsuper.c`. A named message is looked for in the queues given (twice over,
//! as it may move between queues while we look); only complete files count. Each
//! operation logs `QUEUEID: removed`, `requeued`, `placed on hold`, `released from hold`
//! or `expired` and counts what it did for the summary lines.

use global::mail_queue::{self, BOUNCE, DEFER, DEFERRED, HOLD, Layout, MAILDROP, TRACE};
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

/// The group execute bit: the queue manager bounces such a file at its next delivery
/// attempt (`MAIL_QUEUE_STAT_EXPIRE`).
pub const STAT_EXPIRE: u32 = 0o010;

/// Directories with per-message log files.
pub const LOG_QUEUES: [&str; 3] = [BOUNCE, DEFER, TRACE];

/// Counts for the summary lines.
#[derive(Debug, Default)]
pub struct Counts {
    pub requeued: u32,
    pub held: u32,
    pub released: u32,
    pub deleted: u32,
    pub expired: u32,
    pub inode_fixed: u32,
    pub inode_mismatch: u32,
    pub position_mismatch: u32,
}

/// A queue directory and what is expected in it.
#[derive(Debug, Clone, Copy)]
pub struct QueueInfo {
    pub name: &'static str,
    /// Holds message files (complete ones are mode 0700), not log files (0600).
    pub message_queue: bool,
    /// May have hash subdirectories.
    pub recurse: bool,
}

const QUEUE_INFO: [QueueInfo; 9] = [
    QueueInfo {
        name: MAILDROP,
        message_queue: true,
        recurse: false,
    },
    QueueInfo {
        name: mail_queue::INCOMING,
        message_queue: true,
        recurse: true,
    },
    QueueInfo {
        name: mail_queue::ACTIVE,
        message_queue: true,
        recurse: true,
    },
    QueueInfo {
        name: DEFERRED,
        message_queue: true,
        recurse: true,
    },
    QueueInfo {
        name: HOLD,
        message_queue: true,
        recurse: true,
    },
    QueueInfo {
        name: TRACE,
        message_queue: false,
        recurse: true,
    },
    QueueInfo {
        name: DEFER,
        message_queue: false,
        recurse: true,
    },
    QueueInfo {
        name: BOUNCE,
        message_queue: false,
        recurse: true,
    },
    QueueInfo {
        name: mail_queue::FLUSH,
        message_queue: false,
        recurse: true,
    },
];

/// What is known about queue `name`; an unknown name is fatal.
pub fn find_queue_info(name: &str) -> QueueInfo {
    match QUEUE_INFO.iter().find(|q| q.name == name) {
        Some(info) => *info,
        None => log::msg_fatal!("invalid directory name: {name}"),
    }
}

/// Whether the owner bits say "complete message".
pub fn ready(meta: &std::fs::Metadata) -> bool {
    meta.mode() & 0o700 == mail_queue::STAT_READY
}

/// Removes `path`; a missing file is an error for the caller only, anything else is
/// fatal.
pub fn postremove(path: &str) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            if log::verbose() > 0 {
                log::msg_info!("removed file {path}");
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(e),
        Err(e) => log::msg_fatal!("remove file {path}: {}", sys::os_error(&e)),
    }
}

/// Renames `old` to `new`, making `new`'s missing directories; a file that went away is
/// an error for the caller only, anything else is fatal.
pub fn postrename(old: &str, new: &str) -> io::Result<()> {
    let mut result = sane_rename(old, new);
    if let Err(e) = &result
        && e.kind() == io::ErrorKind::NotFound
        && mail_queue::mkdirs(new).is_ok()
    {
        result = sane_rename(old, new);
    }
    match result {
        Ok(()) => {
            if log::verbose() > 0 {
                log::msg_info!("renamed file {old} as {new}");
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(e),
        Err(e) => log::msg_fatal!("rename file {old} as {new}: {}", sys::os_error(&e)),
    }
}

/// A rename that an NFS retry already did counts as done.
fn sane_rename(old: &str, new: &str) -> io::Result<()> {
    match std::fs::rename(old, new) {
        Ok(()) => Ok(()),
        Err(e) => {
            if std::fs::symlink_metadata(old).is_err() && std::fs::symlink_metadata(new).is_ok() {
                log::msg_info!("sane_rename({old},{new}): worked around spurious NFS error");
                return Ok(());
            }
            Err(e)
        }
    }
}

/// Marks a complete queue file for expiry; false when it is not complete, is marked
/// already, or cannot be. The file is opened safely: the mark must not land on a file
/// outside the queue through a link.
pub fn postexpire(path: &str) -> bool {
    let file = match global::safe_open::open_existing(
        std::path::Path::new(path),
        global::safe_open::Access::Read,
    ) {
        Ok(file) => file,
        Err(refused) => {
            if refused.error.kind() != io::ErrorKind::NotFound {
                log::msg_warn!("expire file {path}: {}", refused.why);
            }
            return false;
        }
    };
    let Ok(meta) = file.metadata() else {
        return false;
    };
    if !ready(&meta) || meta.mode() & STAT_EXPIRE != 0 {
        return false;
    }
    let mode = (meta.mode() | STAT_EXPIRE) & 0o7777;
    if let Err(e) = file.set_permissions(std::fs::Permissions::from_mode(mode)) {
        log::msg_warn!(
            "expire file {path}: cannot set permission: {}",
            sys::os_error(&e)
        );
        return false;
    }
    true
}

/// The operations by queue ID.
pub struct One<'a> {
    pub layout: &'a Layout,
    pub queues: &'a [String],
    pub counts: &'a mut Counts,
}

impl One<'_> {
    /// Looks for complete message `id` in the queues `eligible` accepts, twice over;
    /// `act` does the work and says whether it did.
    fn find_and(
        &mut self,
        id: &str,
        tries: u32,
        eligible: impl Fn(&str) -> bool,
        mut act: impl FnMut(&mut Self, &str, &str) -> bool,
    ) -> bool {
        if !mail_queue::id_ok(id) {
            log::msg_warn!("invalid mail queue id: {id}");
            return false;
        }
        for _ in 0..tries {
            let queues = self.queues;
            for queue in queues {
                if !eligible(queue) {
                    continue;
                }
                let path = self.layout.path(queue, id);
                if global::queue_read::open_ok(&path).is_none() {
                    continue;
                }
                if act(self, queue, &path) {
                    return true;
                }
                // Else maybe lost a race: look again.
            }
        }
        false
    }

    /// Moves message `id` at `path` to `queue` and logs `what` was done.
    fn move_logged(&self, path: &str, queue: &str, id: &str, what: &str) -> bool {
        let moved = postrename(path, &self.layout.path(queue, id)).is_ok();
        if moved {
            log::msg_info!("{id}: {what}");
        }
        moved
    }

    /// `-d id`: the log files, then the message.
    pub fn delete(&mut self, id: &str) {
        let found = self.find_and(
            id,
            2,
            |q| find_queue_info(q).message_queue,
            |this, _queue, path| {
                for log_queue in LOG_QUEUES {
                    let _ = postremove(&this.layout.path(log_queue, id));
                }
                if postremove(path).is_ok() {
                    log::msg_info!("{id}: removed");
                    true
                } else {
                    false
                }
            },
        );
        self.counts.deleted += u32::from(found);
    }

    /// `-r id`: back to the maildrop queue, for pickup and cleanup to process afresh.
    pub fn requeue(&mut self, id: &str) {
        let found = self.find_and(
            id,
            2,
            |q| q != MAILDROP && find_queue_info(q).message_queue,
            |this, _queue, path| {
                let new_path = this.layout.path(MAILDROP, id);
                if postrename(path, &new_path).is_err() {
                    return false;
                }
                // pickup takes old files first: a requeued message is new.
                let now = std::fs::FileTimes::new()
                    .set_accessed(std::time::SystemTime::now())
                    .set_modified(std::time::SystemTime::now());
                if let Err(e) = std::fs::File::options()
                    .write(true)
                    .open(&new_path)
                    .and_then(|f| f.set_times(now))
                {
                    log::msg_warn!("{new_path}: reset time stamps: {}", sys::os_error(&e));
                }
                log::msg_info!("{id}: requeued");
                true
            },
        );
        self.counts.requeued += u32::from(found);
    }

    /// `-h id`: to the hold queue. Maildrop mail is not yet sanitized and stays put.
    pub fn hold(&mut self, id: &str) {
        let found = self.find_and(
            id,
            2,
            |q| q != MAILDROP && q != HOLD && find_queue_info(q).message_queue,
            |this, _queue, path| this.move_logged(path, HOLD, id, "placed on hold"),
        );
        self.counts.held += u32::from(found);
    }

    /// `-H id`: from the hold queue to the deferred queue (one look: only one queue
    /// applies).
    pub fn release(&mut self, id: &str) {
        let found = self.find_and(
            id,
            1,
            |q| q == HOLD,
            |this, _queue, path| this.move_logged(path, DEFERRED, id, "released from hold"),
        );
        self.counts.released += u32::from(found);
    }

    /// `-e id`: mark for expiry.
    pub fn expire(&mut self, id: &str) {
        let found = self.find_and(
            id,
            2,
            |q| find_queue_info(q).message_queue && q != MAILDROP,
            |_this, _queue, path| {
                if postexpire(path) {
                    log::msg_info!("{id}: expired");
                    true
                } else {
                    false
                }
            },
        );
        self.counts.expired += u32::from(found);
    }

    /// `-f id`: expire, and release when held.
    pub fn expire_release(&mut self, id: &str) {
        self.expire(id);
        self.release(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn named_operations_move_and_count() {
        let dir = std::env::temp_dir().join(format!("ironpost-postsuper-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for q in [DEFERRED, HOLD, DEFER, MAILDROP] {
            std::fs::create_dir_all(dir.join(q)).unwrap();
        }
        let layout = Layout {
            base: dir.clone(),
            hash_queue_names: vec![],
            hash_queue_depth: 1,
            long_queue_ids: false,
        };
        let put = |queue: &str, id: &str, mode: u32| {
            let path = layout.path(queue, id);
            std::fs::write(&path, "x").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        put(DEFERRED, "AAAAA1", 0o700);
        put(DEFER, "AAAAA1", 0o600);
        put(DEFERRED, "BBBBB2", 0o600);
        let queues: Vec<String> = [MAILDROP, DEFERRED, HOLD].map(String::from).to_vec();
        let mut counts = Counts::default();
        let mut one = One {
            layout: &layout,
            queues: &queues,
            counts: &mut counts,
        };
        one.hold("AAAAA1");
        one.hold("BBBBB2"); // not complete: left alone
        one.expire("AAAAA1");
        one.expire("AAAAA1"); // already marked
        one.release("AAAAA1");
        one.delete("AAAAA1");
        one.delete("bad.id");
        assert_eq!(counts.held, 1);
        assert_eq!(counts.expired, 1);
        assert_eq!(counts.released, 1);
        assert_eq!(counts.deleted, 1);
        assert!(!dir.join("defer/AAAAA1").exists());
        assert!(dir.join("deferred/BBBBB2").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
