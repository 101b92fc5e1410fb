//! Creating the endpoints services listen on.
//!
//! Postfix counterpart: `master/master_listen.c`, `util/inet_listen.c`, `unix_listen.c`,
//! `unix_dgram_listen.c`, `fifo_listen.c`. UNIX-domain endpoints live under the queue
//! directory (`private/` or `public/`) and are made as the mail owner; every descriptor is
//! non-blocking (several daemons may race for one connection) and close-on-exec (only the
//! master's children get them, at fixed numbers).

use server::master_ent::{Kind, Service};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use sys::nix::sys::socket::{
    AddressFamily, Backlog, SockFlag, SockType, SockaddrIn, SockaddrIn6, UnixAddr, bind, listen,
    setsockopt, socket, sockopt,
};
use sys::nix::sys::stat::Mode;

/// Opens every endpoint of a service. `owner` is the mail owner's (uid, gid).
pub fn open(service: &Service, owner: (u32, u32)) -> Result<Vec<OwnedFd>, String> {
    let backlog =
        Backlog::new(service.backlog.min(i32::MAX as u32) as i32).unwrap_or(Backlog::MAXCONN);
    match service.kind {
        Kind::Inet => service
            .addrs
            .iter()
            .map(|addr| inet(addr, backlog))
            .collect(),
        Kind::Unix | Kind::Pass => as_owner(owner, || {
            unix(&service.name, SockType::Stream, Some(backlog))
        })
        .map(|fd| vec![fd]),
        Kind::UnixDgram => {
            as_owner(owner, || unix(&service.name, SockType::Datagram, None)).map(|fd| vec![fd])
        }
        Kind::Fifo => as_owner(owner, || fifo(&service.name)).map(|fd| vec![fd]),
    }
}

/// Runs `f` with the mail owner's effective ids, so that what it creates is the owner's
/// (Postfix's `set_eugid`); failing to change ids is fatal, as there.
pub fn as_owner<T>(owner: (u32, u32), f: impl FnOnce() -> T) -> T {
    sys::user::as_effective(owner.0, owner.1, f).unwrap_or_else(|e| log::msg_fatal!("{e}"))
}

const FLAGS: SockFlag = SockFlag::SOCK_NONBLOCK.union(SockFlag::SOCK_CLOEXEC);

fn inet(addr: &SocketAddr, backlog: Backlog) -> Result<OwnedFd, String> {
    let what = |e: sys::nix::Error, call: &str| format!("{call}: {addr}: {}", e.desc());
    let family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let fd = socket(family, SockType::Stream, FLAGS, None).map_err(|e| what(e, "socket"))?;
    setsockopt(&fd, sockopt::ReuseAddr, &true).map_err(|e| what(e, "setsockopt"))?;
    match addr {
        SocketAddr::V4(a) => bind(fd.as_raw_fd(), &SockaddrIn::from(*a)),
        SocketAddr::V6(a) => {
            setsockopt(&fd, sockopt::Ipv6V6Only, &true).map_err(|e| what(e, "setsockopt"))?;
            bind(fd.as_raw_fd(), &SockaddrIn6::from(*a))
        }
    }
    // Postfix's inet_listen words it so ("bind ADDR port PORT").
    .map_err(|e| format!("bind {} port {}: {}", addr.ip(), addr.port(), e.desc()))?;
    listen(&fd, backlog).map_err(|e| what(e, "listen"))?;
    Ok(fd)
}

fn unix(path: &str, kind: SockType, backlog: Option<Backlog>) -> Result<OwnedFd, String> {
    let addr = UnixAddr::new(path).map_err(|e| format!("{path}: {}", e.desc()))?;
    let fd = socket(AddressFamily::Unix, kind, FLAGS, None)
        .map_err(|e| format!("socket: {}", e.desc()))?;
    let _ = std::fs::remove_file(path);
    bind(fd.as_raw_fd(), &addr).map_err(|e| format!("bind: {path}: {}", e.desc()))?;
    // Access is controlled by the directory: private/ is the mail owner's alone.
    std::fs::set_permissions(
        Path::new(path),
        std::os::unix::fs::PermissionsExt::from_mode(0o666),
    )
    .map_err(|e| format!("fchmod socket {path}: {e}"))?;
    if let Some(backlog) = backlog {
        listen(&fd, backlog).map_err(|e| format!("listen: {path}: {}", e.desc()))?;
    }
    Ok(fd)
}

fn fifo(path: &str) -> Result<OwnedFd, String> {
    let _ = std::fs::remove_file(path);
    sys::nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o622))
        .map_err(|e| format!("mkfifo: {path}: {}", e.desc()))?;
    let fd = sys::nix::fcntl::open(
        path,
        sys::nix::fcntl::OFlag::O_RDWR
            | sys::nix::fcntl::OFlag::O_NONBLOCK
            | sys::nix::fcntl::OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("open fifo {path}: {}", e.desc()))?;
    sys::nix::sys::stat::fchmod(&fd, Mode::from_bits_truncate(0o622))
        .map_err(|e| format!("fchmod fifo {path}: {}", e.desc()))?;
    Ok(fd)
}
