//! Waking up a service: one request byte through its FIFO or UNIX socket.
//!
//! Postfix counterparts: `global/mail_trigger.c`, `util/fifo_trigger.c` and
//! `util/unix_trigger.c`. The endpoint is `$queue_directory/class/service` (relative: the
//! caller runs in the queue directory). A FIFO is opened without blocking (an open FIFO
//! nobody reads is an error, not a wait) and without following symbolic links; a socket
//! gets the request followed by a null byte. Failures are quiet except with -v: the
//! service also runs on its own timer, so a lost wakeup only delays the mail.

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Sends `request` to `class/service`; false if it could not be delivered.
pub fn mail_trigger(class: &str, service: &str, request: &[u8], timeout: Duration) -> bool {
    let path = format!("{class}/{service}");
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) => {
            log::msg_warn!("unable to look up {path}: {}", params::config::os_error(&e));
            return false;
        }
    };
    let kind = meta.file_type();
    if kind.is_fifo() {
        fifo_trigger(&path, request, timeout)
    } else if kind.is_socket() {
        unix_trigger(&path, request, timeout)
    } else {
        log::msg_warn!("{path} is not a socket or a fifo");
        false
    }
}

/// Writes the request into a FIFO.
fn fifo_trigger(path: &str, request: &[u8], timeout: Duration) -> bool {
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| params::config::os_error(&e))
        .and_then(|file| {
            // A FIFO with a second name could be anybody's: refuse it, as safe_open does.
            match file.metadata() {
                Ok(meta) if meta.nlink() != 1 => {
                    Err(format!("file has {} hard links", meta.nlink()))
                }
                Ok(_) => Ok(file),
                Err(e) => Err(params::config::os_error(&e)),
            }
        });
    let mut file = match opened {
        Ok(file) => file,
        Err(why) => {
            if log::verbose() > 0 {
                log::msg_info!("fifo_trigger: open {path}: {why}");
            }
            return false;
        }
    };
    if let Err(e) = write_with_timeout(&mut file, request, timeout)
        && log::verbose() > 0
    {
        log::msg_warn!(
            "fifo_trigger: write {path}: {}",
            params::config::os_error(&e)
        );
    }
    true
}

/// Writes all of `data` to a non-blocking descriptor, waiting at most `timeout` for room.
fn write_with_timeout(
    file: &mut std::fs::File,
    mut data: &[u8],
    timeout: Duration,
) -> io::Result<()> {
    let deadline = Instant::now() + timeout;
    while !data.is_empty() {
        match file.write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let left = deadline.saturating_duration_since(Instant::now());
                let wait =
                    nix::poll::PollTimeout::try_from(left).unwrap_or(nix::poll::PollTimeout::MAX);
                let mut fds = [nix::poll::PollFd::new(
                    file.as_fd(),
                    nix::poll::PollFlags::POLLOUT,
                )];
                match nix::poll::poll(&mut fds, wait) {
                    Ok(0) => return Err(io::ErrorKind::TimedOut.into()),
                    Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                    Err(errno) => return Err(io::Error::from_raw_os_error(errno as i32)),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Connects to a UNIX-domain socket and writes the request and a null byte.
fn unix_trigger(path: &str, request: &[u8], timeout: Duration) -> bool {
    if log::verbose() > 1 {
        log::msg_info!("unix_trigger: service {path}");
    }
    let mut stream = match UnixStream::connect(path) {
        Ok(stream) => stream,
        Err(e) => {
            if log::verbose() > 0 {
                log::msg_warn!(
                    "unix_trigger: connect to {path}: {}",
                    params::config::os_error(&e)
                );
            }
            return false;
        }
    };
    let written = stream
        .set_write_timeout(Some(timeout))
        .and_then(|()| stream.write_all(request))
        .and_then(|()| stream.write_all(b"\0"));
    if let Err(e) = written
        && log::verbose() > 0
    {
        log::msg_warn!(
            "unix_trigger: write to {path}: {}",
            params::config::os_error(&e)
        );
    }
    // Closing now is fine: the server reads what was sent before it sees the end.
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixListener;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "ironpost-postdrop-trigger-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn socket_gets_request_and_null() {
        let dir = scratch("unix");
        let path = dir.join("pickup");
        let listener = UnixListener::bind(&path).unwrap();
        let class = dir.display().to_string();
        assert!(mail_trigger(&class, "pickup", b"W", Duration::from_secs(1)));
        let (mut conn, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        conn.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"W\0");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fifo_gets_request_and_a_fifo_nobody_reads_is_no_wait() {
        let dir = scratch("fifo");
        let path = dir.join("pickup");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o622)).unwrap();
        let class = dir.display().to_string();
        // No reader: the open fails at once.
        assert!(!mail_trigger(
            &class,
            "pickup",
            b"W",
            Duration::from_secs(1)
        ));
        let mut reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(&path)
            .unwrap();
        assert!(mail_trigger(&class, "pickup", b"W", Duration::from_secs(1)));
        let mut got = [0u8; 4];
        assert_eq!(reader.read(&mut got).unwrap(), 1);
        assert_eq!(got[0], b'W');
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn other_files_and_missing_ones_are_warnings() {
        let dir = scratch("other");
        std::fs::write(dir.join("pickup"), "").unwrap();
        let class = dir.display().to_string();
        assert!(!mail_trigger(
            &class,
            "pickup",
            b"W",
            Duration::from_secs(1)
        ));
        assert!(!mail_trigger(
            &class,
            "absent",
            b"W",
            Duration::from_secs(1)
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
