//! Mailbox locking settings: which locks (mailbox_delivery_lock, virtual_mailbox_lock)
//! and how hard to try (deliver_lock_attempts, deliver_lock_delay, stale_lock_time).
//!
//! Postfix counterparts: `global/mbox_conf.c` and the `var_flock_*` settings of
//! `global/mail_params.c`. Linux has flock and fcntl locks; dotlock is a
//! `mailbox.lock` file next to the mailbox.

use params::Config;
use std::time::Duration;

/// An flock() lock on the mailbox (`MBOX_FLOCK_LOCK`).
pub const MBOX_FLOCK_LOCK: u32 = 1 << 0;
/// An fcntl() lock on the mailbox (`MBOX_FCNTL_LOCK`).
pub const MBOX_FCNTL_LOCK: u32 = 1 << 1;
/// A `mailbox.lock` file (`MBOX_DOT_LOCK`).
pub const MBOX_DOT_LOCK: u32 = 1 << 2;
/// A dot-lock that cannot be made only draws a warning (`MBOX_DOT_LOCK_MAY_FAIL`): for
/// files in directories the recipient cannot write.
pub const MBOX_DOT_LOCK_MAY_FAIL: u32 = 1 << 3;

/// The lock names, in `postconf -l` order.
const MBOX_MASK: &[(&str, u32)] = &[
    ("flock", MBOX_FLOCK_LOCK),
    ("fcntl", MBOX_FCNTL_LOCK),
    ("dotlock", MBOX_DOT_LOCK),
];

/// The locks `text` names, for parameter `param` (`mbox_lock_mask`); an unknown name is
/// an error with Postfix's text.
pub fn mbox_lock_mask(param: &str, text: &str) -> Result<u32, String> {
    util::name_mask::name_mask(param, MBOX_MASK, text)
}

/// The names of the supported locks (`mbox_lock_names`, `postconf -l`).
pub fn mbox_lock_names() -> Vec<&'static str> {
    MBOX_MASK.iter().map(|(name, _)| *name).collect()
}

/// How hard a delivery agent tries to lock a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockConf {
    /// `deliver_lock_attempts`.
    pub tries: u32,
    /// `deliver_lock_delay`.
    pub delay: Duration,
    /// `stale_lock_time`: a dot-lock file older than this is removed.
    pub stale: Duration,
}

impl LockConf {
    /// The settings in main.cf.
    pub fn from_config(config: &Config) -> Result<LockConf, params::ConfigError> {
        use params::decl::delivery::{DELIVER_LOCK_ATTEMPTS, DELIVER_LOCK_DELAY, STALE_LOCK_TIME};
        let secs = |t: i64| Duration::from_secs(t.max(0) as u64);
        Ok(LockConf {
            tries: config.int(&DELIVER_LOCK_ATTEMPTS)?.max(1) as u32,
            delay: secs(config.time(&DELIVER_LOCK_DELAY)?),
            stale: secs(config.time(&STALE_LOCK_TIME)?),
        })
    }

    /// Sleeps about `delay` (up to a quarter more or less), so that competing
    /// deliveries do not retry in step (`rand_sleep(delay, delay / 2)`).
    pub fn pause(&self) {
        let delay = self.delay.as_micros() as u64;
        let spread = (delay / 2).max(1);
        let noise = u64::from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .subsec_nanos(),
        ) ^ u64::from(std::process::id()).wrapping_mul(2_654_435_761);
        let micros = delay - spread / 2 + noise % spread;
        std::thread::sleep(Duration::from_micros(micros));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_names() {
        let mask = mbox_lock_mask("mailbox_delivery_lock", "fcntl, dotlock").unwrap();
        assert_eq!(mask, MBOX_FCNTL_LOCK | MBOX_DOT_LOCK);
        assert!(mbox_lock_mask("mailbox_delivery_lock", "fcntl, lockf").is_err());
        assert_eq!(mbox_lock_names(), ["flock", "fcntl", "dotlock"]);
    }
}
