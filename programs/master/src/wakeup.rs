//! Wakeup triggers: a periodic "W" to services that need a nudge (pickup, qmgr, flush).
//!
//! Postfix counterpart: `master/master_wakeup.c`; the triggers themselves are
//! `global::mail_trigger`'s, shared with postdrop. The trigger goes through the service's
//! own endpoint (for a `pass` service, in a pipe whose read end is passed over it), so the
//! master sees its endpoint become ready and starts a daemon when none runs. With a `?`
//! wakeup, triggers start only after the first daemon of the service was started.

use crate::spawn::Serv;
use global::mail_proto::TRIGGER_REQ_WAKEUP;
use global::mail_trigger::{fifo_trigger, inet_trigger, pass_trigger, unix_trigger};
use server::master_ent::Kind;
use std::path::Path;
use std::time::Duration;

/// The trigger request that means "wake up".
const WAKEUP: &[u8] = &[TRIGGER_REQ_WAKEUP];
/// How long a trigger may take: the master must not block.
const BRIEFLY: Duration = Duration::from_secs(1);

/// Sends one wakeup trigger to a service, as the mail owner for a FIFO.
pub fn trigger(serv: &Serv, owner: (u32, u32)) {
    let path = Path::new(&serv.spec.name);
    let result = match serv.spec.kind {
        Kind::Unix => unix_trigger(path, WAKEUP, BRIEFLY),
        Kind::Pass => pass_trigger(path, WAKEUP, BRIEFLY),
        Kind::Fifo => crate::listen::as_owner(owner, || fifo_trigger(path, WAKEUP, BRIEFLY)),
        Kind::Inet => match serv.spec.addrs.first() {
            Some(addr) => inet_trigger(addr, WAKEUP, BRIEFLY),
            None => Ok(()),
        },
        Kind::UnixDgram => Err(std::io::Error::from_raw_os_error(sys::libc::EOPNOTSUPP)),
    };
    if let Err(e) = result {
        log::msg_warn!(
            "master_wakeup_timer_event: service {}({}): {}",
            serv.spec.ext_name,
            serv.spec.name,
            sys::os_error(&e)
        );
    }
}
