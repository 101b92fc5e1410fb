//! Opening a UNIX-style mailbox (or any file that mail is appended to) for delivery:
//! created when missing, never through a link, and locked.
//!
//! Postfix counterparts: `global/mbox_open.c` and the open-or-create half of
//! `util/safe_open.c`. A regular file is dot-locked before it is opened (so a dot-lock
//! is never made for /dev/null), then opened or created (mode `mode`, owner
//! `chown` when it is created), then locked with flock or fcntl as the lock mask
//! says. A mailbox that has more than one link afterwards was replaced under us (some
//! POP servers write a new mailbox and remove the old). Every failure is deferred or
//! bounced with the status mbox_dsn gives for the system error, `def_dsn` otherwise.

use crate::deliver_flock::{LockStyle, deliver_flock};
use crate::dot_lockfile::{dot_lockfile, dot_unlockfile};
use crate::mail_copy::mbox_dsn;
use crate::mbox_conf::{
    LockConf, MBOX_DOT_LOCK, MBOX_DOT_LOCK_MAY_FAIL, MBOX_FCNTL_LOCK, MBOX_FLOCK_LOCK,
};
use crate::pipe_command::Why;
use crate::safe_open::{Access, open_existing};
use std::fs::File;
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// An open, locked mailbox (Postfix's `MBOX`).
#[derive(Debug)]
pub struct Mbox {
    /// The mailbox's path.
    pub path: String,
    /// The open file: mail_copy takes it, and closes it.
    pub fp: Option<File>,
    /// The locks taken (`MBOX_*_LOCK`).
    pub locked: u32,
    /// The file's status when it was opened (`mbox_open`'s `st`): the callers decide
    /// from it whether it is a regular file, whose it is and whether it is executable.
    pub st: std::fs::Metadata,
}

impl Mbox {
    /// Takes the file, for mail_copy.
    pub fn take_file(&mut self) -> File {
        match self.fp.take() {
            Some(fp) => fp,
            None => log::msg_panic!("mbox {}: file already taken", self.path),
        }
    }
}

impl Drop for Mbox {
    /// Releases the dot-lock (`mbox_release`); the kernel locks go with the file.
    fn drop(&mut self) {
        if self.locked & MBOX_DOT_LOCK != 0 {
            dot_unlockfile(&self.path);
        }
    }
}

/// A failure with the status that goes with `error` (or `def_dsn`) and `reason`.
fn failed(error: &io::Error, def_dsn: &str, reason: String) -> Why {
    Why::new(
        mbox_dsn(error.raw_os_error().unwrap_or(0), def_dsn),
        "",
        reason,
    )
}

/// Opens or creates `path` for appending, and locks it (`mbox_open`). `chown` is the
/// owner a new file gets (None: whoever creates it); `lock_style` is a mask of
/// `MBOX_*_LOCK`.
pub fn mbox_open(
    path: &str,
    mode: u32,
    chown: Option<(u32, u32)>,
    lock_style: u32,
    lock_conf: &LockConf,
    def_dsn: &str,
) -> Result<Mbox, Why> {
    let mut locked = 0;
    // stat(), not lstat(): safe_open accepts nothing but the file itself, and /dev/null
    // behind a symbolic link must not get a dot-lock.
    let regular = std::fs::metadata(path).map_or(true, |m| m.file_type().is_file());
    if lock_style & MBOX_DOT_LOCK != 0 && regular {
        match dot_lockfile(path, lock_conf) {
            Ok(()) => locked |= MBOX_DOT_LOCK,
            Err((e, why)) if e.kind() == io::ErrorKind::AlreadyExists => {
                let again = io::Error::from_raw_os_error(sys::libc::EAGAIN);
                return Err(failed(&again, def_dsn, why));
            }
            Err((_, why)) if lock_style & MBOX_DOT_LOCK_MAY_FAIL != 0 => {
                log::msg_warn!("{why}");
            }
            Err((e, why)) => return Err(failed(&e, def_dsn, why)),
        }
    }
    let unlock = |locked: u32| {
        if locked & MBOX_DOT_LOCK != 0 {
            dot_unlockfile(path);
        }
    };
    let fp = match safe_open_append(path, mode, chown) {
        Ok(fp) => fp,
        Err((e, why)) => {
            unlock(locked);
            return Err(failed(&e, def_dsn, why));
        }
    };
    let meta = match fp.metadata() {
        Ok(meta) => meta,
        Err(e) => log::msg_fatal!("{path}: bad open file status: {}", sys::os_error(&e)),
    };
    if meta.file_type().is_file() {
        for (bit, style) in [
            (MBOX_FLOCK_LOCK, LockStyle::Flock),
            (MBOX_FCNTL_LOCK, LockStyle::Fcntl),
        ] {
            if lock_style & bit != 0
                && let Err((e, why)) = deliver_flock(&fp, style, lock_conf)
            {
                unlock(locked);
                return Err(failed(&e, def_dsn, why));
            }
        }
        locked |= lock_style & (MBOX_FLOCK_LOCK | MBOX_FCNTL_LOCK);
        // safe_open saw one link: any other count now means the file was replaced.
        if fp.metadata().map_or(true, |m| m.nlink() != 1) {
            log::msg_warn!("{path}: file status changed unexpectedly");
            unlock(locked);
            let again = io::Error::from_raw_os_error(sys::libc::EAGAIN);
            let why = "target file status changed unexpectedly".to_string();
            return Err(failed(&again, def_dsn, why));
        }
    }
    Ok(Mbox {
        path: path.to_string(),
        fp: Some(fp),
        locked,
        st: meta,
    })
}

/// Opens an existing file carefully, or creates a new one exclusively (Postfix's
/// `safe_open` with O_CREAT but not O_EXCL): a file that appears or disappears in
/// between is tried again, a few times.
pub fn safe_open_append(
    path: &str,
    mode: u32,
    chown: Option<(u32, u32)>,
) -> Result<File, (io::Error, String)> {
    let mut last = None;
    for _ in 0..3 {
        match open_existing(Path::new(path), Access::Write) {
            Ok(fp) => return Ok(fp),
            Err(refused) if refused.error.kind() == io::ErrorKind::NotFound => {}
            Err(refused) if refused.error.raw_os_error() == Some(sys::libc::ELOOP) => {
                return open_root_link(path);
            }
            Err(refused) => return Err((refused.error, refused.why)),
        }
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(sys::libc::O_NONBLOCK)
            .open(path);
        match created {
            Ok(fp) => {
                if let Some((uid, gid)) = chown
                    && let Err(e) = std::os::unix::fs::fchown(&fp, Some(uid), Some(gid))
                {
                    log::msg_warn!(
                        "{path}: cannot change file ownership: {}",
                        sys::os_error(&e)
                    );
                    let why = format!("cannot change file ownership: {}", sys::os_error(&e));
                    return Err((e, why));
                }
                return Ok(fp);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => {
                let why = format!("cannot create file exclusively: {}", sys::os_error(&e));
                return Err((e, why));
            }
        }
    }
    let e = last.unwrap_or_else(|| io::Error::from_raw_os_error(sys::libc::EEXIST));
    let why = format!("cannot create file exclusively: {}", sys::os_error(&e));
    Err((e, why))
}

/// A path that is a symbolic link: refused ("file is a symbolic link"), unless root
/// owns the link and its directory, which nobody else may write, as Postfix's safe_open
/// allows (an administrator's `mailbox -> /dev/null`). The target must then have one
/// link and not be a directory.
fn open_root_link(path: &str) -> Result<File, (io::Error, String)> {
    let refused =
        |errno: i32, why: &str| Err((io::Error::from_raw_os_error(errno), why.to_string()));
    let link = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => meta,
        Ok(_) => return refused(sys::libc::EPERM, "file status changed unexpectedly"),
        Err(e) => {
            let why = format!("file status changed unexpectedly: {}", sys::os_error(&e));
            return Err((e, why));
        }
    };
    let parent = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let parent_ok =
        std::fs::metadata(parent).is_ok_and(|meta| meta.uid() == 0 && meta.mode() & 0o022 == 0);
    if link.uid() != 0 || !parent_ok {
        return refused(sys::libc::EPERM, "file is a symbolic link");
    }
    let fp = match std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(sys::libc::O_NONBLOCK)
        .open(path)
    {
        Ok(fp) => fp,
        Err(e) => {
            let why = format!("cannot open file: {}", sys::os_error(&e));
            return Err((e, why));
        }
    };
    match fp.metadata() {
        Ok(meta) if meta.nlink() != 1 => refused(
            sys::libc::EPERM,
            &format!("file has {} hard links", meta.nlink()),
        ),
        Ok(meta) if meta.is_dir() => refused(sys::libc::EISDIR, "file is a directory"),
        Ok(_) => Ok(fp),
        Err(e) => log::msg_fatal!("{path}: bad open file status: {}", sys::os_error(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn conf() -> LockConf {
        LockConf {
            tries: 2,
            delay: Duration::from_millis(10),
            stale: Duration::from_secs(500),
        }
    }

    #[test]
    fn created_locked_and_released() {
        let dir = crate::scratch_dir("mbox-open");
        let path = dir.join("user").to_str().unwrap().to_string();
        let locks = MBOX_FCNTL_LOCK | MBOX_DOT_LOCK;
        let mut mbox = mbox_open(&path, 0o600, None, locks, &conf(), "5.2.0").unwrap();
        assert_eq!(mbox.locked, locks);
        assert!(Path::new(&format!("{path}.lock")).exists());
        let mode = std::fs::metadata(&path).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(mbox.st.is_file());
        assert_eq!(mbox.st.mode() & 0o777, 0o600);
        // A second delivery finds the dot-lock and is told to try again.
        let busy = mbox_open(&path, 0o600, None, locks, &conf(), "5.2.0").unwrap_err();
        assert_eq!(busy.status, "4.2.0");
        assert_eq!(
            busy.reason,
            format!("unable to create lock file {path}.lock: File exists")
        );
        drop(mbox.take_file());
        drop(mbox);
        assert!(!Path::new(&format!("{path}.lock")).exists());
        mbox_open(&path, 0o600, None, locks, &conf(), "5.2.0").unwrap();
    }

    #[test]
    fn links_are_refused_but_root_s_own() {
        use std::os::unix::fs::PermissionsExt;
        let dir = crate::scratch_dir("mbox-open-links");
        let target = dir.join("target");
        std::fs::write(&target, "").unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let path = link.to_str().unwrap();
        // A directory others may write: the link could be anyone's doing.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o775)).unwrap();
        let refused = mbox_open(path, 0o600, None, MBOX_FCNTL_LOCK, &conf(), "5.2.0").unwrap_err();
        assert_eq!(refused.status, "5.2.0");
        assert_eq!(refused.reason, "file is a symbolic link");
        // Root's link in root's directory is the administrator's.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let opened = mbox_open(path, 0o600, None, MBOX_FCNTL_LOCK, &conf(), "5.2.0");
        assert_eq!(opened.is_ok(), sys::geteuid() == 0, "{opened:?}");
        drop(opened);
        std::fs::hard_link(&target, dir.join("second")).unwrap();
        let path = target.to_str().unwrap();
        let linked = mbox_open(path, 0o600, None, MBOX_FCNTL_LOCK, &conf(), "5.2.0").unwrap_err();
        assert_eq!(linked.reason, "file has 2 hard links");
    }
}
