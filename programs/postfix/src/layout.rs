//! The directories the mail system needs, with their owners and modes.
//!
//! Postfix counterpart: the queue and data directory entries of `conf/postfix-files`, applied
//! by `post-install create-missing` and `set-permissions`. Daemons of Postfix and of ironpost
//! find the same layout, so either can run on it.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Who owns a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// root.
    Root,
    /// `$mail_owner`.
    MailOwner,
}

/// One directory of the layout.
pub struct Dir {
    /// The path relative to its base (empty for the base itself).
    pub path: &'static str,
    /// Its owner.
    pub owner: Owner,
    /// Whether its group is `$setgid_group`.
    pub setgid_group: bool,
    /// Its mode.
    pub mode: u32,
}

const fn dir(path: &'static str, owner: Owner, setgid_group: bool, mode: u32) -> Dir {
    Dir {
        path,
        owner,
        setgid_group,
        mode,
    }
}

/// The queue directory and its subdirectories.
pub const QUEUE: [Dir; 15] = [
    dir("", Owner::Root, false, 0o755),
    dir("active", Owner::MailOwner, false, 0o700),
    dir("bounce", Owner::MailOwner, false, 0o700),
    dir("corrupt", Owner::MailOwner, false, 0o700),
    dir("defer", Owner::MailOwner, false, 0o700),
    dir("deferred", Owner::MailOwner, false, 0o700),
    dir("flush", Owner::MailOwner, false, 0o700),
    dir("hold", Owner::MailOwner, false, 0o700),
    dir("incoming", Owner::MailOwner, false, 0o700),
    dir("private", Owner::MailOwner, false, 0o700),
    dir("maildrop", Owner::MailOwner, true, 0o730),
    dir("public", Owner::MailOwner, true, 0o710),
    dir("pid", Owner::Root, false, 0o755),
    dir("saved", Owner::MailOwner, false, 0o700),
    dir("trace", Owner::MailOwner, false, 0o700),
];

/// The data directory.
pub const DATA: Dir = dir("", Owner::MailOwner, false, 0o700);

/// The ids the layout needs.
pub struct Ids {
    /// mail_owner's uid and gid.
    pub owner: (u32, u32),
    /// setgid_group's gid.
    pub setgid_gid: u32,
}

fn apply(path: &Path, d: &Dir, ids: &Ids) -> std::io::Result<()> {
    let (uid, gid) = match d.owner {
        Owner::Root => (0, 0),
        Owner::MailOwner => ids.owner,
    };
    let gid = if d.setgid_group { ids.setgid_gid } else { gid };
    if sys::geteuid() == 0 {
        std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(d.mode))
}

/// Creates what is missing (`post-install create-missing`); with `fix_existing`, also
/// resets owners and modes of what exists (`set-permissions`).
pub fn create(queue: &Path, data: &Path, ids: &Ids, fix_existing: bool) -> Result<(), String> {
    let mut entries: Vec<(PathBuf, &Dir)> = QUEUE.iter().map(|d| (queue.join(d.path), d)).collect();
    entries.push((data.to_path_buf(), &DATA));
    for (path, d) in entries {
        let exists = path.is_dir();
        if !exists {
            std::fs::create_dir_all(&path)
                .map_err(|e| format!("mkdir {}: {}", path.display(), sys::os_error(&e)))?;
        }
        if !exists || fix_existing {
            apply(&path, d, ids).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// The uid that owns `path`, if it exists.
pub fn owner_of(path: &Path) -> Option<u32> {
    std::fs::symlink_metadata(path).ok().map(|m| m.uid())
}
