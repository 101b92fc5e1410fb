//! Address probes: their trip into the queue (their sender is global's
//! verify_sender_addr).
//!
//! Postfix counterpart: the asynchronous `post_mail_fopen_async` of `global/post_mail.c`
//! that `verify/verify.c` uses. A probe is a message with headers
//! only, for one recipient, whose envelope carries `trace_flags` with
//! DEL_REQ_FLAG_MTA_VRFY: qmgr hands it to the delivery agent the address resolves to,
//! which delivers nothing and reports the result to this service (global's
//! verify_append). It is posted from a thread of its own, so that a busy cleanup
//! service never holds up the answers to other clients.

use global::record::{rec_put, rec_type};
use ipc::{Attrs, Flavor, mail_attr};
use std::io::{BufReader, BufWriter, Write};
use std::time::Duration;

/// What a probe needs from main.cf.
#[derive(Clone)]
pub struct PostSettings {
    /// cleanup_service_name.
    pub cleanup_service: String,
    /// The cleanup flags (`CLEANUP_FLAG_MASK_INTERNAL` and SMTPUTF8 autodetection).
    pub cleanup_flags: u32,
    /// myhostname, for the Received: header.
    pub myhostname: String,
    /// mail_name, for the Received: header.
    pub mail_name: String,
    /// ipc_timeout.
    pub ipc_timeout: Duration,
}

/// The records of a probe from `sender` to `recipient`, after cleanup's queue ID.
fn records(settings: &PostSettings, id: &str, sender: &str, recipient: &str) -> Vec<(u8, Vec<u8>)> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let date = global::mail_date::mail_date(now.as_secs() as i64);
    let flags = global::deliver_request::DEL_REQ_FLAG_MTA_VRFY;
    let text = |s: String| s.into_bytes();
    vec![
        (
            rec_type::TIME,
            text(format!("{} {}", now.as_secs(), now.subsec_micros())),
        ),
        (rec_type::ATTR, text("log_message_origin=local".into())),
        (
            rec_type::ATTR,
            text(format!("{}={flags}", mail_attr::TRACE_FLAGS)),
        ),
        (rec_type::FROM, text(sender.into())),
        (rec_type::RCPT, text(recipient.into())),
        (rec_type::MESG, Vec::new()),
        (
            rec_type::NORM,
            text(format!(
                "Received: by {} ({})",
                settings.myhostname, settings.mail_name
            )),
        ),
        (rec_type::NORM, text(format!("\tid {id}; {date}"))),
        (rec_type::NORM, text(format!("Date: {date}"))),
        // A probe has no body: it is never delivered.
        (rec_type::XTRA, Vec::new()),
        (rec_type::END, Vec::new()),
    ]
}

/// Posts one probe through cleanup; cleanup's status, or the error that stopped it.
/// Failures are fatal in Postfix's post_mail too, but only for the probe's own thread
/// here: the service goes on and the address is probed again at a later query.
pub fn post(settings: &PostSettings, sender: &str, recipient: &str) -> Result<u32, String> {
    let service = &settings.cleanup_service;
    let unable = || format!("unable to contact the {service} service");
    let stream = global::mail_connect::connect("public", service, settings.ipc_timeout)
        .map_err(|e| format!("connect to public/{service}: {}", sys::os_error(&e)))?;
    let mut input = BufReader::new(stream.try_clone().map_err(|_| unable())?);
    let id = match ipc::attr::read(&mut input, Flavor::Null) {
        Ok(Some(hello)) if hello.get_str(mail_attr::PROTO) == Ok(mail_attr::PROTO_CLEANUP) => hello
            .get_str(mail_attr::QUEUEID)
            .map_err(|_| unable())?
            .to_string(),
        _ => return Err(unable()),
    };
    let mut out = BufWriter::new(stream);
    let flags = Attrs::new().int(mail_attr::FLAGS, settings.cleanup_flags as i32);
    ipc::attr::write(&mut out, Flavor::Null, &flags).map_err(|_| unable())?;
    let write_error = |e: std::io::Error| format!("{service}: {}", sys::os_error(&e));
    for (kind, data) in records(settings, &id, sender, recipient) {
        rec_put(&mut out, kind, &data).map_err(write_error)?;
    }
    out.flush().map_err(write_error)?;
    match ipc::attr::read(&mut input, Flavor::Null) {
        Ok(Some(reply)) => Ok(reply
            .get_int(mail_attr::STATUS)
            .map_or(global::cleanup_user::STAT_WRITE, |s| s as u32)),
        _ => Ok(global::cleanup_user::STAT_WRITE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_is_headers_only_with_the_verify_flag() {
        let settings = PostSettings {
            cleanup_service: "cleanup".into(),
            cleanup_flags: 0,
            myhostname: "mail.example".into(),
            mail_name: "Postfix".into(),
            ipc_timeout: Duration::from_secs(1),
        };
        let recs = records(&settings, "4AbCd", "double-bounce@mail.example", "u@x");
        let kinds: Vec<u8> = recs.iter().map(|r| r.0).collect();
        assert_eq!(
            kinds,
            [
                rec_type::TIME,
                rec_type::ATTR,
                rec_type::ATTR,
                rec_type::FROM,
                rec_type::RCPT,
                rec_type::MESG,
                rec_type::NORM,
                rec_type::NORM,
                rec_type::NORM,
                rec_type::XTRA,
                rec_type::END
            ]
        );
        assert_eq!(recs[2].1, b"trace_flags=256");
        assert_eq!(recs[6].1, b"Received: by mail.example (Postfix)");
        assert!(recs[7].1.starts_with(b"\tid 4AbCd; "));
    }
}
