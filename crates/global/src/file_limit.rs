//! The largest file a delivery agent may write: a runaway delivery must not fill the
//! disk.
//!
//! Postfix counterparts: `util/file_limit.c` (`set_file_limit`) and the checks in the
//! `pre_init` of `virtual/virtual.c` and `local/local.c`. The limit is the process's
//! RLIMIT_FSIZE, soft and hard; SIGXFSZ is ignored so that a write past it fails with
//! EFBIG, which mbox_dsn turns into "5.2.2 mailbox full". It must not be below
//! message_size_limit, or the agent could not even mark a recipient done in a large
//! queue file.

/// Checks `limit` (parameter `param`, 0: none) against `message_limit` and makes it
/// the process's file size limit; a contradiction is fatal, as in Postfix.
pub fn set_mailbox_limit(param: &str, limit: u64, message_limit: u64) {
    if limit == 0 {
        return;
    }
    if message_limit == 0 {
        log::msg_fatal!(
            "configuration error: {param} is limited but message_size_limit is unlimited"
        );
    }
    if limit < message_limit {
        log::msg_fatal!("configuration error: {param} is smaller than message_size_limit");
    }
    set_file_limit(limit);
}

/// Makes `limit` the file size limit (`set_file_limit`).
pub fn set_file_limit(limit: u64) {
    use sys::nix::sys::resource::{Resource, setrlimit};
    if let Err(errno) = setrlimit(Resource::RLIMIT_FSIZE, limit, limit) {
        let e = std::io::Error::from_raw_os_error(errno as i32);
        log::msg_fatal!("setrlimit: {}", sys::os_error(&e));
    }
    sys::signals::ignore(sys::libc::SIGXFSZ);
}
