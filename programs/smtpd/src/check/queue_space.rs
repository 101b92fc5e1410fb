//! Free space in the queue file system before a mail transaction starts: queue_minfree
//! and room for one and a half messages of message_size_limit.
//!
//! Postfix counterparts: `smtpd_check_queue()` in `smtpd/smtpd_check.c`, `fsspace()` in
//! `util/fsspace.c`, and the start-up sanity check in `smtpd/smtpd.c`. The queue
//! directory is the working directory; Postfix measures it with statfs(2) on Linux (the
//! block size and the blocks available to unprivileged users) and compares in whole
//! blocks. A MAIL FROM's SIZE= plays no part here (smtpd_check_size() only holds it
//! against message_size_limit), so a client sees the refusal whatever it announces.

use super::reply::Refusal;
use smtp_proto::ErrorClass;

/// How many message_size_limit the queue must hold (`smtpd_space_multf`).
const SPACE_MULTIPLIER: f64 = 1.5;

/// The free space settings.
#[derive(Debug, Clone, Copy)]
pub struct QueueSpace {
    /// queue_minfree in bytes; 0 imposes none.
    pub minfree: u64,
    /// message_size_limit in bytes; 0 imposes none.
    pub message_limit: u64,
}

/// A file system's free space as Postfix's `fsspace()` sees it.
#[derive(Debug, Clone, Copy)]
pub struct FsSpace {
    /// The block size.
    pub block_size: u64,
    /// The blocks available to unprivileged users.
    pub block_free: u64,
}

impl FsSpace {
    /// The space of the file system that holds `path`; failure is fatal, as in Postfix.
    pub fn of(path: &str) -> FsSpace {
        match sys::nix::sys::statfs::statfs(path) {
            Ok(fs) => {
                let space = FsSpace {
                    block_size: fs.block_size() as u64,
                    block_free: fs.blocks_available(),
                };
                if log::verbose() > 0 {
                    log::msg_info!(
                        "fsspace: {path}: block size {}, blocks free {}",
                        space.block_size,
                        space.block_free
                    );
                }
                space
            }
            Err(e) => log::msg_fatal!("statfs {path}: {}", sys::os_error(&std::io::Error::from(e))),
        }
    }
}

impl QueueSpace {
    /// The settings main.cf gives, with Postfix's start-up warning when queue_minfree
    /// leaves less than one and a half messages of room.
    pub fn from_config(config: &params::Config) -> QueueSpace {
        let bytes = |p: &'static params::Param| {
            let n = config.int(p).unwrap_or_else(|e| crate::settings::fatal(e));
            u64::try_from(n).unwrap_or(0)
        };
        let space = QueueSpace {
            minfree: bytes(&params::decl::queue::QUEUE_MINFREE),
            message_limit: bytes(&params::decl::smtpd::MESSAGE_SIZE_LIMIT),
        };
        if space.minfree != 0
            && space.message_limit != 0
            && (space.minfree as f64) / SPACE_MULTIPLIER < space.message_limit as f64
        {
            log::msg_warn!(
                "queue_minfree({}) should be at least 1.5*message_size_limit({})",
                space.minfree,
                space.message_limit
            );
        }
        space
    }

    /// `452 4.3.1 Insufficient system storage` when `fs` has too little room; `logged`
    /// logs the refusal before Postfix's warning follows it.
    pub fn check(&self, fs: FsSpace, logged: impl FnOnce(&Refusal)) -> Option<Refusal> {
        let block_size = fs.block_size.max(1);
        if log::verbose() > 0 {
            log::msg_info!(
                "smtpd_check_queue: blocks {} avail {} min_free {} msg_size_limit {}",
                fs.block_size,
                fs.block_free,
                self.minfree,
                self.message_limit
            );
        }
        let short = self.minfree / block_size >= fs.block_free
            || (self.message_limit / block_size) as f64 >= fs.block_free as f64 / SPACE_MULTIPLIER;
        if !short {
            return None;
        }
        let refusal = Refusal::new(
            452,
            "4.3.1",
            "Insufficient system storage",
            ErrorClass::Resource,
            false,
        );
        logged(&refusal);
        log::msg_warn!(
            "not enough free space in mail queue: {} bytes < 1.5*message size limit",
            fs.block_free * fs.block_size
        );
        Some(refusal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(minfree: u64, message_limit: u64) -> QueueSpace {
        QueueSpace {
            minfree,
            message_limit,
        }
    }

    #[test]
    fn room_is_counted_in_whole_blocks() {
        let fs = FsSpace {
            block_size: 4096,
            block_free: 100,
        };
        assert!(space(0, 0).check(fs, |_| {}).is_none());
        // 99 blocks of minimum leave one to spare; 100 do not.
        assert!(space(99 * 4096 + 4095, 0).check(fs, |_| {}).is_none());
        let refusal = space(100 * 4096, 0).check(fs, |_| {}).unwrap();
        assert_eq!(refusal.reply, "452 4.3.1 Insufficient system storage");
        // 1.5 messages: 66 blocks fit in 100 / 1.5, 67 do not.
        assert!(space(0, 66 * 4096).check(fs, |_| {}).is_none());
        assert!(space(0, 67 * 4096).check(fs, |_| {}).is_some());
        let full = FsSpace {
            block_size: 4096,
            block_free: 0,
        };
        assert!(space(0, 0).check(full, |_| {}).is_some());
    }
}
