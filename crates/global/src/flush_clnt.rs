//! The client of the fast flush service: "deliver what is queued for this site" (SMTP
//! ETRN, `sendmail -qR`), "deliver this message" (`postqueue -i`), and "this message is
//! deferred for this site" (the defer path of the delivery agents).
//!
//! Postfix counterpart: `global/flush_clnt.c` (`flush_send_site()`, `flush_send_file()`,
//! `flush_add()`). Only a site in `fast_flush_domains` is asked about (else
//! [`FlushStatus::Deny`] without a connection); the service (`public/$flush_service_name`)
//! announces `protocol=queue_flush_protocol`, takes one `request` with its attributes, and
//! answers `status`.

use ipc::{Attrs, Flavor, mail_attr};
use std::io::{BufReader, Write};
use std::time::Duration;

/// The service's answer (`FLUSH_STAT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushStatus {
    /// Delivery was requested.
    Ok,
    /// The service could not be reached or failed.
    Fail,
    /// The request was malformed.
    Bad,
    /// The site is not eligible.
    Deny,
}

/// `FLUSH_STAT_OK`: done.
pub const STAT_OK: i32 = 0;
/// `FLUSH_STAT_FAIL`: the service failed.
pub const STAT_FAIL: i32 = -1;
/// `FLUSH_STAT_BAD`: a malformed request.
pub const STAT_BAD: i32 = 3;
/// `FLUSH_STAT_DENY`: the site is not eligible.
pub const STAT_DENY: i32 = 4;

/// Asks the service to deliver mail queued for `site`; `eligible` says whether the site
/// is in `fast_flush_domains` (a list error is a failure).
pub fn send_site(
    service: &str,
    ipc_timeout: Duration,
    site: &str,
    eligible: Result<bool, String>,
) -> FlushStatus {
    match eligible {
        Ok(true) => {}
        Ok(false) => return FlushStatus::Deny,
        Err(e) => {
            log::msg_warn!("{e}");
            return FlushStatus::Fail;
        }
    }
    let request = Attrs::new()
        .str(mail_attr::REQ, "send_site")
        .str("site", site);
    match ask(service, ipc_timeout, &request) {
        Ok(0) => FlushStatus::Ok,
        Ok(STAT_BAD) => FlushStatus::Bad,
        Ok(STAT_DENY) => FlushStatus::Deny,
        Ok(_) => FlushStatus::Fail,
        Err(e) => {
            if log::verbose() > 0 {
                log::msg_info!("flush_send_site: {site}: {}", sys::os_error(&e));
            }
            FlushStatus::Fail
        }
    }
}

/// One request: the status the service answers.
fn ask(service: &str, ipc_timeout: Duration, request: &Attrs) -> std::io::Result<i32> {
    let stream = crate::mail_connect::connect("public", service, ipc_timeout)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "bad reply");
    let hello = ipc::attr::read(&mut reader, Flavor::Null)?.ok_or_else(bad)?;
    if hello.get_str(mail_attr::PROTO) != Ok("queue_flush_protocol") {
        return Err(bad());
    }
    ipc::attr::write(&mut writer, Flavor::Null, request)?;
    writer.flush()?;
    let reply = ipc::attr::read(&mut reader, Flavor::Null)?.ok_or_else(bad)?;
    reply.get_int(mail_attr::STATUS).ok_or_else(bad)
}
