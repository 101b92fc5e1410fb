//! Thin safe wrappers over the C library calls ironpost needs and `std` lacks.
//!
//! This is the only crate in the workspace that may use `unsafe` (every other crate forbids
//! it). Each wrapper is small, documents why its call is sound, and returns `io::Result`
//! where the call can fail. Postfix counterpart: the system-call users scattered across
//! `src/util` (`get_hostname.c`, `chroot_uid.c`, `set_ugid.c`, `timecmp.c`...).

pub mod crash;
#[cfg(feature = "berkeley-db")]
pub mod db185;
pub mod fdpass;
#[cfg(feature = "lmdb")]
pub mod lmdb;
#[cfg(feature = "pcre")]
pub mod pcre;
pub mod process;
pub mod regex;
pub mod signals;
pub mod user;
pub mod watchdog;

/// The C library's constants (open flags, errno values, signal numbers), for code that
/// passes them to `std` (`OpenOptionsExt::custom_flags`) or compares error numbers. Other
/// crates reach the C library only through this crate, so that one place pins it.
pub use libc;
/// The `nix` crate, whose safe system calls and types (`poll`, sockets, `Errno`) the
/// daemons use directly where a wrapper would add nothing. No other crate depends on
/// `nix` itself: its version and features are chosen here, and every system call goes
/// through this crate.
pub use nix;

use std::ffi::CStr;
use std::io;

/// Byte ranges of a regular-expression match: the whole match, then each group (None for
/// a group that took no part).
pub type Groups = Vec<Option<(usize, usize)>>;

/// Broken-down local time, the fields Postfix's log formats use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// Month, 0 = January.
    pub month: u32,
    /// Day of the month, 1..31.
    pub day: u32,
    /// Hours, 0..23.
    pub hour: u32,
    /// Minutes.
    pub minute: u32,
    /// Seconds.
    pub second: u32,
    /// The year, e.g. 2026.
    pub year: i32,
    /// Day of the week, 0 = Sunday.
    pub weekday: u32,
    /// Seconds east of UTC, daylight saving time included.
    pub utc_offset: i64,
}

/// Converts seconds since the epoch to local time with the C library's time zone rules.
pub fn localtime(epoch_seconds: i64) -> LocalTime {
    let t = epoch_seconds as libc::time_t;
    // SAFETY: `tm` is plain data, so all-zero is a valid value; localtime_r writes into it
    // and reads only `t`, both of which live for the whole call.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&t, &mut tm);
        tm
    };
    LocalTime {
        month: tm.tm_mon as u32,
        day: tm.tm_mday as u32,
        hour: tm.tm_hour as u32,
        minute: tm.tm_min as u32,
        second: tm.tm_sec as u32,
        year: tm.tm_year + 1900,
        weekday: tm.tm_wday as u32,
        utc_offset: tm.tm_gmtoff,
    }
}

/// The abbreviated name of the local time zone in effect at `epoch_seconds` (`%Z`).
pub fn time_zone_name(epoch_seconds: i64) -> String {
    let t = epoch_seconds as libc::time_t;
    // SAFETY: as in `localtime`; tm_zone then points at a C string owned by the C library
    // that stays valid until the next time zone change, and is copied out at once.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&t, &mut tm);
        if tm.tm_zone.is_null() {
            return String::new();
        }
        CStr::from_ptr(tm.tm_zone).to_string_lossy().into_owned()
    }
}

/// The system's host name, as `gethostname(2)` gives it.
pub fn hostname() -> io::Result<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the pointer and length describe `buf`, which outlives the call.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let name = CStr::from_bytes_until_nul(&buf)
        .map_err(|_| io::Error::other("host name is not terminated"))?;
    Ok(name.to_string_lossy().into_owned())
}

/// An OS error as Postfix's `%m` prints it: the system's message (`strerror`) without
/// Rust's "(os error N)" tail. Every program's log line that ends in `%m` goes through
/// here, so that ironpost's texts stay Postfix's.
pub fn os_error(error: &io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// Closes a descriptor and reports what close(2) says. After fsync a local file system
/// has nothing left to report, but a network file system may copy the file out only now
/// (Postfix's `mail_stream_finish_file` checks `vstream_fclose()` for this reason), and
/// dropping a `File` discards that error.
pub fn close(fd: std::os::fd::OwnedFd) -> io::Result<()> {
    use std::os::fd::IntoRawFd;
    let raw = fd.into_raw_fd();
    // SAFETY: `raw` came from an OwnedFd given up just above, so nothing else closes it.
    if unsafe { libc::close(raw) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// The real user id of this process.
pub fn getuid() -> u32 {
    // SAFETY: getuid has no arguments and cannot fail.
    unsafe { libc::getuid() }
}

/// The effective user id of this process.
pub fn geteuid() -> u32 {
    // SAFETY: geteuid has no arguments and cannot fail.
    unsafe { libc::geteuid() }
}

/// The real group id of this process.
pub fn getgid() -> u32 {
    // SAFETY: getgid has no arguments and cannot fail.
    unsafe { libc::getgid() }
}

/// The effective group id of this process.
pub fn getegid() -> u32 {
    // SAFETY: getegid has no arguments and cannot fail.
    unsafe { libc::getegid() }
}

/// Whether file descriptor `fd` is a terminal.
pub fn isatty(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor number; an invalid one gives 0.
    unsafe { libc::isatty(fd) == 1 }
}

/// Sets the process file-creation mask and returns the old one.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: umask cannot fail and touches no memory.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

/// Ends the process now with `status`, without running destructors or flushing stdio
/// (`_exit(2)`), as Postfix's fatal path does after its log record is written.
pub fn exit_now(status: i32) -> ! {
    // SAFETY: _exit never returns and has no memory-safety preconditions.
    unsafe { libc::_exit(status) }
}

/// Each address configured on a network interface, with its netmask, in the order
/// `getifaddrs(3)` lists them.
pub fn interface_addresses() -> io::Result<Vec<(std::net::IpAddr, std::net::IpAddr)>> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    /// Reads an IPv4 or IPv6 socket address; other families give None.
    ///
    /// SAFETY (for callers): `sa` must be null or point to a valid sockaddr whose family
    /// field tells its real size.
    unsafe fn read_addr(sa: *const libc::sockaddr) -> Option<IpAddr> {
        if sa.is_null() {
            return None;
        }
        // SAFETY: the caller promises `sa` points to a sockaddr; the family decides the cast.
        unsafe {
            match i32::from((*sa).sa_family) {
                libc::AF_INET => {
                    let sin = &*(sa.cast::<libc::sockaddr_in>());
                    Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                        sin.sin_addr.s_addr,
                    ))))
                }
                libc::AF_INET6 => {
                    let sin6 = &*(sa.cast::<libc::sockaddr_in6>());
                    Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
                }
                _ => None,
            }
        }
    }

    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list that we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut cursor = head;
    while !cursor.is_null() {
        // SAFETY: `cursor` is a node of the list getifaddrs returned, not yet freed; its
        // address fields are null or valid sockaddrs.
        unsafe {
            let entry = &*cursor;
            if let (Some(addr), Some(mask)) =
                (read_addr(entry.ifa_addr), read_addr(entry.ifa_netmask))
            {
                out.push((addr, mask));
            }
            cursor = entry.ifa_next;
        }
    }
    // SAFETY: `head` came from getifaddrs and is freed exactly once.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

/// Sets an environment variable. Call only while the process has a single thread, as
/// ironpost's programs do at start-up.
pub fn setenv(name: &str, value: &std::ffi::OsStr) {
    // SAFETY: ironpost programs are single-threaded when they change their environment.
    unsafe { std::env::set_var(name, value) }
}

/// Removes an environment variable (same rule as [`setenv`]).
pub fn unsetenv(name: &str) {
    // SAFETY: as for setenv.
    unsafe { std::env::remove_var(name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_is_1970() {
        // SAFETY-free check: only the year is time-zone independent enough to assert.
        let t = localtime(86400 * 200);
        assert_eq!(t.year, 1970);
    }

    #[test]
    fn has_loopback() {
        let all = interface_addresses().unwrap();
        assert!(all.iter().any(|(a, _)| a.is_loopback()));
    }

    #[test]
    fn os_errors_read_as_strerror() {
        let e = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(os_error(&e), "No such file or directory");
        assert_eq!(
            os_error(&io::Error::other("file has 2 hard links")),
            "file has 2 hard links"
        );
    }

    #[test]
    fn close_reports_errors() {
        let file = std::fs::File::open("/dev/null").unwrap();
        assert!(close(file.into()).is_ok());
        // A descriptor number nobody has open: close(2) says EBADF.
        let stale = process::own(1_000_000);
        assert_eq!(close(stale).unwrap_err().raw_os_error(), Some(libc::EBADF));
    }

    #[test]
    fn has_a_hostname() {
        assert!(!hostname().unwrap().is_empty());
    }
}

/// A POSIX record lock operation, as Postfix's `myflock(..., MYFLOCK_STYLE_FCNTL, ...)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordLock {
    /// Shared (read) lock.
    Shared,
    /// Exclusive (write) lock.
    Exclusive,
    /// Release.
    Unlock,
}

/// Takes or releases a whole-file fcntl lock on `fd`, waiting for it.
pub fn fcntl_lock(fd: std::os::fd::BorrowedFd<'_>, op: RecordLock) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let kind = match op {
        RecordLock::Shared => libc::F_RDLCK,
        RecordLock::Exclusive => libc::F_WRLCK,
        RecordLock::Unlock => libc::F_UNLCK,
    };
    // SAFETY: an all-zero flock is a valid value (whole file from offset 0).
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = kind as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    loop {
        // SAFETY: fd is a live descriptor for the borrow; lock is a valid flock.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETLKW, &lock) } == 0 {
            return Ok(());
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}
