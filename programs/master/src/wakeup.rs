//! Wakeup triggers: a periodic "W" to services that need a nudge (pickup, qmgr, flush).
//!
//! Postfix counterpart: `master/master_wakeup.c` and `global/*_trigger.c`. The trigger goes
//! through the service's own endpoint (for a `pass` service, in a pipe whose read end is
//! passed over it), so the master sees its endpoint become ready and
//! starts a daemon when none runs. With a `?` wakeup, triggers start only after the first
//! daemon of the service was started.

use crate::ent::Kind;
use crate::spawn::Serv;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// The trigger request that means "wake up"; stream triggers end it with a null byte.
const WAKEUP: &[u8] = b"W";
const WAKEUP_STREAM: &[u8] = b"W\0";
/// How long a trigger may take: the master must not block.
const BRIEFLY: Duration = Duration::from_secs(1);

/// Sends one wakeup trigger to a service, as the mail owner for a FIFO.
pub fn trigger(serv: &Serv, owner: (u32, u32)) {
    let result = match serv.spec.kind {
        Kind::Unix => UnixStream::connect(&serv.spec.name).and_then(|mut s| {
            s.set_write_timeout(Some(BRIEFLY))?;
            s.write_all(WAKEUP_STREAM)
        }),
        Kind::Pass => {
            sys::fdpass::pass_trigger(std::path::Path::new(&serv.spec.name), WAKEUP, BRIEFLY)
        }
        Kind::Fifo => sys::user::as_effective(owner.0, owner.1, || {
            std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(nix::libc::O_NONBLOCK)
                .open(&serv.spec.name)
                .and_then(|mut f| f.write_all(WAKEUP))
        }),
        Kind::Inet => match serv.spec.addrs.first() {
            Some(addr) => std::net::TcpStream::connect_timeout(addr, BRIEFLY)
                .and_then(|mut s| s.write_all(WAKEUP_STREAM)),
            None => Ok(()),
        },
        Kind::UnixDgram => Err(std::io::Error::from_raw_os_error(nix::libc::EOPNOTSUPP)),
    };
    if let Err(e) = result {
        log::msg_warn!(
            "master_wakeup_timer_event: service {}({}): {}",
            serv.spec.ext_name,
            serv.spec.name,
            params::config::os_error(&e)
        );
    }
}
