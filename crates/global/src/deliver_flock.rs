//! Kernel locks on a mailbox, tried a number of times.
//!
//! Postfix counterparts: `global/deliver_flock.c` and the non-blocking exclusive
//! operations of `util/myflock.c`. An flock() or fcntl() lock is tried without waiting,
//! deliver_lock_attempts times with a randomised deliver_lock_delay in between, so that
//! a mail reader that holds the mailbox for a long time defers the delivery instead of
//! blocking the agent.

use crate::mbox_conf::LockConf;
use std::io;
use std::os::fd::{AsFd, AsRawFd};

/// Which kind of kernel lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockStyle {
    /// flock() (`MYFLOCK_STYLE_FLOCK`).
    Flock,
    /// fcntl() record locks on the whole file (`MYFLOCK_STYLE_FCNTL`).
    Fcntl,
}

/// One non-blocking exclusive attempt (`myflock` with `MYFLOCK_OP_EXCLUSIVE |
/// MYFLOCK_OP_NOWAIT`).
fn try_lock(fd: impl AsFd, style: LockStyle) -> io::Result<()> {
    use sys::nix::fcntl::{FcntlArg, FlockArg, fcntl};
    let result = match style {
        // The lock belongs to the open file, which mail_copy closes itself (a failing
        // close is a delivery error), so nix's owning Flock wrapper does not fit.
        #[allow(deprecated)]
        LockStyle::Flock => {
            sys::nix::fcntl::flock(fd.as_fd().as_raw_fd(), FlockArg::LockExclusiveNonblock)
        }
        LockStyle::Fcntl => {
            let lock = sys::libc::flock {
                l_type: sys::libc::F_WRLCK as i16,
                l_whence: sys::libc::SEEK_SET as i16,
                l_start: 0,
                l_len: 0,
                l_pid: 0,
            };
            fcntl(fd.as_fd(), FcntlArg::F_SETLK(&lock)).map(|_| ())
        }
    };
    result.map_err(|errno| io::Error::from_raw_os_error(errno as i32))
}

/// Locks `fd` exclusively (`deliver_flock`); the error carries Postfix's text
/// (`unable to lock for exclusive access: REASON`).
pub fn deliver_flock(
    fd: impl AsFd,
    style: LockStyle,
    conf: &LockConf,
) -> Result<(), (io::Error, String)> {
    let mut count = 1;
    loop {
        let error = match try_lock(fd.as_fd(), style) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if count >= conf.tries {
            let why = format!(
                "unable to lock for exclusive access: {}",
                sys::os_error(&error)
            );
            return Err((error, why));
        }
        conf.pause();
        count += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_second_open_file_cannot_lock() {
        let dir = crate::scratch_dir("deliver-flock");
        let path = dir.join("mbox");
        std::fs::write(&path, "").unwrap();
        let conf = LockConf {
            tries: 2,
            delay: Duration::from_millis(10),
            stale: Duration::from_secs(500),
        };
        let first = std::fs::File::options().write(true).open(&path).unwrap();
        let second = std::fs::File::options().write(true).open(&path).unwrap();
        deliver_flock(&first, LockStyle::Flock, &conf).unwrap();
        let (_, why) = deliver_flock(&second, LockStyle::Flock, &conf).unwrap_err();
        assert_eq!(
            why,
            "unable to lock for exclusive access: Resource temporarily unavailable"
        );
        // fcntl locks belong to the process, so a second one can only be seen from
        // another process: the child's attempt must fail while ours is held.
        deliver_flock(&first, LockStyle::Fcntl, &conf).unwrap();
        // python3 runs the e2e tests' dialogue scripts too.
        let held = std::process::Command::new("python3")
            .args([
                "-c",
                "import fcntl,sys\nf=open(sys.argv[1],'a')\ntry:\n fcntl.lockf(f,fcntl.LOCK_EX|fcntl.LOCK_NB)\nexcept OSError:\n sys.exit(3)\n",
            ])
            .arg(&path)
            .status()
            .expect("python3 runs");
        assert_eq!(held.code(), Some(3));
        drop(first);
        let free = std::process::Command::new("python3")
            .args(["-c", "import fcntl,sys\nf=open(sys.argv[1],'a')\nfcntl.lockf(f,fcntl.LOCK_EX|fcntl.LOCK_NB)\n"])
            .arg(&path)
            .status()
            .expect("python3 runs");
        assert!(free.success());
    }
}
