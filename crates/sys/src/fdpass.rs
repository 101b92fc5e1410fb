//! Passing open descriptors over UNIX-domain sockets, and the `pass` service endpoints
//! built on it.
//!
//! Postfix counterparts: `util/unix_send_fd.c`, `util/unix_recv_fd.c` and the waiting
//! part of `util/pass_accept.c` (the trigger side is `global::mail_trigger`). A descriptor travels as SCM_RIGHTS
//! ancillary data with one dummy data byte, which Postfix needs so that the receiver can
//! wait for readability before it receives. A `pass` service's clients connect to its
//! UNIX socket and send the descriptor the daemon should serve (postscreen hands over an
//! SMTP client this way; the master sends a pipe with a wakeup request in it).

use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Sends `fd` over the connected UNIX socket `socket`.
pub fn send_fd(socket: &UnixStream, fd: RawFd) -> io::Result<()> {
    let fds = [fd];
    let data = [IoSlice::new(b"\0")];
    let control = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(socket.as_raw_fd(), &data, &control, MsgFlags::empty(), None)?;
    Ok(())
}

/// Receives one descriptor from the connected UNIX socket `socket`.
pub fn recv_fd(socket: &UnixStream) -> io::Result<OwnedFd> {
    let mut byte = [0u8; 1];
    let mut data = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!(RawFd);
    let msg = recvmsg::<()>(
        socket.as_raw_fd(),
        &mut data,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    let mut received: Option<OwnedFd> = None;
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            for fd in fds {
                // SAFETY: the kernel just installed `fd` in our table; nothing else owns
                // it. Extra descriptors are owned here too, and so closed.
                let owned = unsafe { OwnedFd::from_raw_fd(fd) };
                if received.is_none() {
                    received = Some(owned);
                }
            }
        }
    }
    received.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no file descriptor"))
}

/// Waits up to `timeout` for `fd` to become readable (Postfix's `read_wait`).
pub fn read_wait(fd: RawFd, timeout: Duration) -> io::Result<()> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    // SAFETY: the caller's descriptor stays open for the duration of the call.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let mut fds = [PollFd::new(borrowed, PollFlags::POLLIN)];
    let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
    loop {
        match poll(
            &mut fds,
            PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(0) => return Err(io::Error::from_raw_os_error(libc::ETIMEDOUT)),
            Ok(_) => return Ok(()),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn a_descriptor_crosses_a_socket() {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut keep, give) = UnixStream::pair().unwrap();
        send_fd(&a, give.as_raw_fd()).unwrap();
        drop(give);
        read_wait(b.as_raw_fd(), Duration::from_secs(5)).unwrap();
        let mut got = UnixStream::from(recv_fd(&b).unwrap());
        got.write_all(b"hello").unwrap();
        let mut buf = [0u8; 5];
        keep.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hello");
    }

    #[test]
    fn no_descriptor_is_an_error() {
        let (mut a, b) = UnixStream::pair().unwrap();
        a.write_all(b"W").unwrap();
        assert!(recv_fd(&b).is_err());
    }

    #[test]
    fn read_wait_times_out() {
        let (_a, b) = UnixStream::pair().unwrap();
        let err = read_wait(b.as_raw_fd(), Duration::from_millis(50)).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ETIMEDOUT));
    }
}
