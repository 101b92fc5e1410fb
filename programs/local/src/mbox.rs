//! Opening a UNIX mailbox (or a /file/name) for appending, locked against other writers
//! and readers: a `.lock` file, then fcntl() and/or flock() on the file, as
//! mailbox_delivery_lock says.
//!
//! Postfix counterparts: `global/mbox_open.c`, `global/dot_lockfile.c`,
//! `global/deliver_flock.c` and the create/open half of `util/safe_open.c`. A lock held
//! by someone else is retried deliver_lock_attempts times, deliver_lock_delay apart; a
//! `.lock` file older than stale_lock_time is removed. An existing file must be a
//! single-link regular file that is not a symbolic link; a new one is created with
//! O_EXCL and given to the recipient.
//!
//! (The shared agent library has no mbox_open yet; this lives here until it does.)

use crate::settings::LockMask;
use global::dsn_print::Dsn;
use global::mail_copy::mbox_dsn;
use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// An open, locked mailbox.
pub struct Mbox {
    /// The file, positioned anywhere (mail_copy appends).
    pub file: File,
    /// Its status when opened.
    pub meta: std::fs::Metadata,
    /// The `.lock` file to remove on release.
    dot_lock: Option<PathBuf>,
    /// The flock() holder, released on drop.
    _flock: Option<sys::nix::fcntl::Flock<File>>,
}

impl Drop for Mbox {
    fn drop(&mut self) {
        if let Some(lock) = &self.dot_lock {
            let _ = std::fs::remove_file(lock);
        }
    }
}

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct Locking {
    /// The methods.
    pub mask: LockMask,
    /// A dot-lock that cannot be made is only a warning (/file/name deliveries in
    /// directories the user may not write).
    pub dot_lock_may_fail: bool,
    /// deliver_lock_attempts.
    pub attempts: u32,
    /// deliver_lock_delay, seconds.
    pub delay: u64,
    /// stale_lock_time, seconds.
    pub stale: u64,
}

/// Opens `path` for appending (`mbox_open`); the failure's status code is `def_dsn` or
/// what the error says (a lock that is busy: 4.2.0; a full disk: 4.3.0).
#[allow(clippy::result_large_err)] // the DSN is the answer; it is not passed further up
pub fn mbox_open(
    path: &str,
    chown: Option<(u32, u32)>,
    locking: Locking,
    def_dsn: &str,
) -> Result<Mbox, Dsn> {
    let fail = |errno: i32, reason: String| Dsn::simple(mbox_dsn(errno, def_dsn), &reason);
    let mut dot_lock = None;
    let exists = std::fs::metadata(path);
    if locking.mask.dotlock && exists.as_ref().map_or(true, |m| m.is_file()) {
        let lock = PathBuf::from(format!("{path}.lock"));
        match dot_lockfile(&lock, locking) {
            Ok(()) => dot_lock = Some(lock),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let reason = format!(
                    "unable to create lock file {}: {}",
                    lock.display(),
                    sys::os_error(&e)
                );
                return Err(fail(sys::libc::EAGAIN, reason));
            }
            Err(e) if locking.dot_lock_may_fail => {
                log::msg_warn!(
                    "unable to create lock file {}: {}",
                    lock.display(),
                    sys::os_error(&e)
                );
            }
            Err(e) => {
                let reason = format!(
                    "unable to create lock file {}: {}",
                    lock.display(),
                    sys::os_error(&e)
                );
                return Err(fail(e.raw_os_error().unwrap_or(0), reason));
            }
        }
    }
    let unlock = |lock: &Option<PathBuf>| {
        if let Some(lock) = lock {
            let _ = std::fs::remove_file(lock);
        }
    };
    let (file, meta) = match safe_open(Path::new(path), chown) {
        Ok(opened) => opened,
        Err((errno, reason)) => {
            unlock(&dot_lock);
            return Err(fail(errno, reason));
        }
    };
    let mut flock = None;
    if meta.is_file() {
        let locked = (|| -> io::Result<()> {
            if locking.mask.flock {
                flock = Some(retry(locking, || {
                    sys::nix::fcntl::Flock::lock(
                        file.try_clone()?,
                        sys::nix::fcntl::FlockArg::LockExclusiveNonblock,
                    )
                    .map_err(|(_, e)| io::Error::from(e))
                })?);
            }
            if locking.mask.fcntl {
                retry(locking, || fcntl_try_lock(&file))?;
            }
            Ok(())
        })();
        if let Err(e) = locked {
            unlock(&dot_lock);
            let reason = format!("unable to lock for exclusive access: {}", sys::os_error(&e));
            return Err(fail(e.raw_os_error().unwrap_or(0), reason));
        }
        match file.metadata() {
            Ok(now) if now.nlink() == 1 => {}
            _ => {
                unlock(&dot_lock);
                log::msg_warn!("{path}: file status changed unexpectedly");
                return Err(fail(
                    sys::libc::EAGAIN,
                    "target file status changed unexpectedly".into(),
                ));
            }
        }
    }
    Ok(Mbox {
        file,
        meta,
        dot_lock,
        _flock: flock,
    })
}

/// Tries `lock` up to the configured number of times, a randomised delay apart
/// (`deliver_flock`'s loop).
fn retry<T>(locking: Locking, mut lock: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    let mut i = 1;
    loop {
        match lock() {
            Ok(held) => return Ok(held),
            Err(e) if i >= locking.attempts => return Err(e),
            Err(_) => {}
        }
        i += 1;
        rand_sleep(locking.delay);
    }
}

/// Sleeps between half and one and a half times `seconds` (`rand_sleep`).
fn rand_sleep(seconds: u64) {
    let base = Duration::from_secs(seconds);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let jitter = base.mul_f64(f64::from(nanos % 1000) / 1000.0);
    std::thread::sleep(base / 2 + jitter);
}

/// An exclusive fcntl() lock without waiting (`myflock(..., MYFLOCK_OP_NOWAIT)`).
fn fcntl_try_lock(file: &File) -> io::Result<()> {
    use sys::libc;
    let lock = libc::flock {
        l_type: libc::F_WRLCK as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    sys::nix::fcntl::fcntl(file.as_fd(), sys::nix::fcntl::FcntlArg::F_SETLK(&lock))
        .map(|_| ())
        .map_err(io::Error::from)
}

/// Creates `<path>.lock` exclusively (`dot_lockfile`), removing a stale one.
fn dot_lockfile(lock: &Path, locking: Locking) -> io::Result<()> {
    let mut count = 1;
    loop {
        let made = File::options()
            .write(true)
            .create_new(true)
            .mode(0o000)
            .open(lock);
        let error = match made {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if count >= locking.attempts || error.kind() != io::ErrorKind::AlreadyExists {
            return Err(error);
        }
        if let Ok(meta) = std::fs::metadata(lock) {
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            if now > meta.ctime() + locking.stale as i64
                && let Err(e) = std::fs::remove_file(lock)
                && e.kind() != io::ErrorKind::NotFound
            {
                return Err(e);
            }
        }
        count += 1;
        rand_sleep(locking.delay);
    }
}

/// Opens an existing file for writing without following links, or creates a new one
/// given to `chown` (`safe_open` with O_CREAT); Err is (errno, Postfix's text).
fn safe_open(
    path: &Path,
    chown: Option<(u32, u32)>,
) -> Result<(File, std::fs::Metadata), (i32, String)> {
    match global::safe_open::open_existing(path, global::safe_open::Access::Write) {
        Ok(file) => {
            let meta = file
                .metadata()
                .map_err(|e| (e.raw_os_error().unwrap_or(0), e.to_string()))?;
            return Ok((file, meta));
        }
        Err(refused) if refused.error.kind() != io::ErrorKind::NotFound => {
            let errno = refused.error.raw_os_error().unwrap_or(sys::libc::EPERM);
            return Err((errno, refused.why));
        }
        Err(_) => {}
    }
    let file = File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(sys::libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            (
                e.raw_os_error().unwrap_or(0),
                format!("cannot create file exclusively: {}", sys::os_error(&e)),
            )
        })?;
    if let Some((uid, gid)) = chown
        && let Err(e) = std::os::unix::fs::fchown(&file, Some(uid), Some(gid))
    {
        return Err((
            e.raw_os_error().unwrap_or(0),
            format!("cannot change file ownership: {}", sys::os_error(&e)),
        ));
    }
    let meta = file
        .metadata()
        .map_err(|e| (e.raw_os_error().unwrap_or(0), e.to_string()))?;
    Ok((file, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locking() -> Locking {
        Locking {
            mask: LockMask {
                flock: true,
                fcntl: true,
                dotlock: true,
            },
            dot_lock_may_fail: false,
            attempts: 2,
            delay: 0,
            stale: 500,
        }
    }

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ironpost-local-mbox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn creates_locks_and_releases() {
        let dir = scratch();
        let path = dir.join("user").display().to_string();
        let mbox = mbox_open(&path, None, locking(), "5.2.0").unwrap();
        assert!(Path::new(&format!("{path}.lock")).exists());
        assert!(mbox.meta.is_file());
        // A second writer finds the dot-lock taken: try again later.
        let busy = mbox_open(&path, None, locking(), "5.2.0").err().unwrap();
        assert_eq!(busy.status, "4.2.0");
        assert!(
            busy.reason.starts_with("unable to create lock file"),
            "{}",
            busy.reason
        );
        drop(mbox);
        assert!(!Path::new(&format!("{path}.lock")).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn refuses_symbolic_links() {
        let dir = scratch().join("links");
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("target");
        std::fs::write(&target, "").unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let mut no_dot = locking();
        no_dot.mask.dotlock = false;
        let refused = mbox_open(&link.display().to_string(), None, no_dot, "5.2.0")
            .err()
            .unwrap();
        assert_eq!(refused.status, "5.2.0");
    }
}
