//! Waking up a service: a short request through its FIFO, UNIX socket, TCP port or
//! `pass` socket.
//!
//! Postfix counterparts: `global/mail_trigger.c`, `util/fifo_trigger.c`,
//! `util/unix_trigger.c`, `util/inet_trigger.c` and `util/pass_trigger.c`. postdrop
//! wakes pickup this way, and the master sends its periodic wakeups the same way. A FIFO
//! is opened without blocking (an open FIFO nobody reads is an error, not a wait) and
//! without following symbolic links; a stream gets the request followed by a null byte;
//! a `pass` service gets the read end of a pipe holding that. An error means the request
//! could not be delivered (no such endpoint, nobody listening); a write that fails after
//! that is only reported with -v, as in Postfix: the service also runs on its own timer,
//! so a lost wakeup only delays the mail.

use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// Sends `request` to `class/service` through whatever that endpoint is (a FIFO or a
/// UNIX socket); false if it could not be delivered. Failures are logged as Postfix's
/// mail_trigger() logs them.
pub fn mail_trigger(class: &str, service: &str, request: &[u8], timeout: Duration) -> bool {
    let path = format!("{class}/{service}");
    let meta = match std::fs::metadata(&path) {
        Ok(meta) => meta,
        Err(e) => {
            log::msg_warn!("unable to look up {path}: {}", sys::os_error(&e));
            return false;
        }
    };
    let kind = meta.file_type();
    let (name, sent) = if kind.is_fifo() {
        (
            "fifo_trigger",
            fifo_trigger(Path::new(&path), request, timeout),
        )
    } else if kind.is_socket() {
        (
            "unix_trigger",
            unix_trigger(Path::new(&path), request, timeout),
        )
    } else {
        log::msg_warn!("{path} is not a socket or a fifo");
        return false;
    };
    if let Err(e) = &sent
        && log::verbose() > 0
    {
        let why = sys::os_error(e);
        if name == "fifo_trigger" {
            log::msg_info!("{name}: open {path}: {why}");
        } else {
            log::msg_warn!("{name}: connect to {path}: {why}");
        }
    }
    sent.is_ok()
}

/// Writes the request into a FIFO, opened as Postfix's fifo_trigger opens it: through
/// safe_open, so a FIFO with a second name or swapped for a link (anybody's) is refused.
pub fn fifo_trigger(path: &Path, request: &[u8], timeout: Duration) -> io::Result<()> {
    let mut file = crate::safe_open::open_existing(path, crate::safe_open::Access::Write)?;
    if let Err(e) = write_with_timeout(&mut file, request, timeout) {
        write_failed("fifo_trigger", path, &e);
    }
    Ok(())
}

/// Connects to a UNIX-domain socket and writes the request and a null byte.
pub fn unix_trigger(path: &Path, request: &[u8], timeout: Duration) -> io::Result<()> {
    if log::verbose() > 1 {
        log::msg_info!("unix_trigger: service {}", path.display());
    }
    let stream = UnixStream::connect(path)?;
    if let Err(e) = write_request(&stream, request, timeout) {
        write_failed("unix_trigger", path, &e);
    }
    // Closing now is fine: the server reads what was sent before it sees the end.
    Ok(())
}

/// Connects to a TCP service and writes the request and a null byte.
pub fn inet_trigger(
    addr: &std::net::SocketAddr,
    request: &[u8],
    timeout: Duration,
) -> io::Result<()> {
    let stream = std::net::TcpStream::connect_timeout(addr, timeout)?;
    stream.set_write_timeout(Some(timeout))?;
    let mut writer = &stream;
    if let Err(e) = writer
        .write_all(request)
        .and_then(|()| writer.write_all(b"\0"))
    {
        write_failed("inet_trigger", Path::new(&addr.to_string()), &e);
    }
    Ok(())
}

/// Connects to a `pass` service and hands it the read end of a pipe holding the request
/// and a null byte; the daemon reads the request from the pipe.
pub fn pass_trigger(path: &Path, request: &[u8], timeout: Duration) -> io::Result<()> {
    let socket = UnixStream::connect(path)?;
    socket.set_write_timeout(Some(timeout))?;
    let (read, write) = sys::nix::unistd::pipe()?;
    sys::fdpass::send_fd(&socket, read.as_raw_fd())?;
    let mut write = std::fs::File::from(write);
    if let Err(e) = write
        .write_all(request)
        .and_then(|()| write.write_all(b"\0"))
    {
        write_failed("pass_trigger", path, &e);
    }
    Ok(())
}

fn write_request(stream: &UnixStream, request: &[u8], timeout: Duration) -> io::Result<()> {
    stream.set_write_timeout(Some(timeout))?;
    let mut writer = stream;
    // One write, so that the server wakes once for the whole request.
    writer.write_all(&[request, b"\0"].concat())
}

fn write_failed(name: &str, path: &Path, error: &io::Error) {
    if log::verbose() > 0 {
        log::msg_warn!(
            "{name}: write to {}: {}",
            path.display(),
            sys::os_error(error)
        );
    }
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
                let wait = sys::nix::poll::PollTimeout::try_from(left)
                    .unwrap_or(sys::nix::poll::PollTimeout::MAX);
                let mut fds = [sys::nix::poll::PollFd::new(
                    file.as_fd(),
                    sys::nix::poll::PollFlags::POLLOUT,
                )];
                match sys::nix::poll::poll(&mut fds, wait) {
                    Ok(0) => return Err(io::ErrorKind::TimedOut.into()),
                    Ok(_) | Err(sys::nix::errno::Errno::EINTR) => {}
                    Err(errno) => return Err(io::Error::from_raw_os_error(errno as i32)),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::net::UnixListener;

    fn scratch(name: &str) -> std::path::PathBuf {
        crate::scratch_dir(&format!("mail-trigger-{name}"))
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
        sys::nix::unistd::mkfifo(&path, sys::nix::sys::stat::Mode::from_bits_truncate(0o622))
            .unwrap();
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
            .custom_flags(sys::libc::O_NONBLOCK)
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

    #[test]
    fn pass_service_gets_a_pipe_with_the_request() {
        let dir = scratch("pass");
        let path = dir.join("pickup");
        let listener = UnixListener::bind(&path).unwrap();
        pass_trigger(&path, b"W", Duration::from_secs(1)).unwrap();
        let (conn, _) = listener.accept().unwrap();
        let mut pipe = std::fs::File::from(sys::fdpass::recv_fd(&conn).unwrap());
        let mut got = Vec::new();
        pipe.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"W\0");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
