//! Dot-locking: a `path.lock` file that says "someone is writing this mailbox".
//!
//! Postfix counterpart: `global/dot_lockfile.c`. The lock file is created with
//! O_CREAT|O_EXCL (which never follows a symbolic link), retried deliver_lock_attempts
//! times with a randomised deliver_lock_delay in between; a lock file older than
//! stale_lock_time is someone's leftover and is removed. Any error other than "file
//! exists" ends the attempts at once.

use crate::mbox_conf::LockConf;
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};

/// The lock file of `path`.
fn lock_file(path: &str) -> String {
    format!("{path}.lock")
}

/// Makes the lock (`dot_lockfile`); the error carries Postfix's text (`unable to
/// create lock file PATH.lock: REASON`) and the system's error, whose kind tells
/// "someone else holds it" (AlreadyExists) from the rest.
pub fn dot_lockfile(path: &str, conf: &LockConf) -> Result<(), (io::Error, String)> {
    let lock = lock_file(path);
    let mut count = 1;
    let error = loop {
        let created = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o000)
            .open(&lock);
        let e = match created {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if count >= conf.tries || e.kind() != io::ErrorKind::AlreadyExists {
            break e;
        }
        // A lock older than stale_lock_time is a leftover; give up when it cannot go.
        if let Ok(meta) = std::fs::metadata(&lock) {
            let now = crate::msg_stats::now().0;
            if now > meta.ctime() + conf.stale.as_secs() as i64
                && let Err(e) = std::fs::remove_file(&lock)
                && e.kind() != io::ErrorKind::NotFound
            {
                break e;
            }
        }
        conf.pause();
        count += 1;
    };
    let why = format!(
        "unable to create lock file {lock}: {}",
        sys::os_error(&error)
    );
    Err((error, why))
}

/// Removes the lock (`dot_unlockfile`); it may already be gone.
pub fn dot_unlockfile(path: &str) {
    let _ = std::fs::remove_file(lock_file(path));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn conf(tries: u32) -> LockConf {
        LockConf {
            tries,
            delay: Duration::from_millis(10),
            stale: Duration::from_secs(500),
        }
    }

    #[test]
    fn a_held_lock_is_refused_until_released() {
        let dir = crate::scratch_dir("dot-lockfile");
        let mbox = dir.join("user").to_str().unwrap().to_string();
        dot_lockfile(&mbox, &conf(3)).unwrap();
        assert!(dir.join("user.lock").exists());
        let (error, why) = dot_lockfile(&mbox, &conf(2)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            why,
            format!("unable to create lock file {mbox}.lock: File exists")
        );
        dot_unlockfile(&mbox);
        dot_lockfile(&mbox, &conf(1)).unwrap();
        dot_unlockfile(&mbox);
        let missing = format!("{}/none/user", dir.display());
        let (error, _) = dot_lockfile(&missing, &conf(5)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_stale_lock_is_broken() {
        let dir = crate::scratch_dir("dot-lockfile-stale");
        let mbox = dir.join("user").to_str().unwrap().to_string();
        std::fs::write(dir.join("user.lock"), "").unwrap();
        let stale = LockConf {
            stale: Duration::ZERO,
            ..conf(3)
        };
        // ctime has one-second granularity here: wait until the lock is older than 0s.
        std::thread::sleep(Duration::from_millis(1100));
        dot_lockfile(&mbox, &stale).unwrap();
    }
}
