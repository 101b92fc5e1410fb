//! Address probes: their trip into the queue (their sender is global's
//! verify_sender_addr, their envelope global's cleanup_clnt::Post).
//!
//! Postfix counterpart: the asynchronous `post_mail_fopen_async` of `global/post_mail.c`
//! that `verify/verify.c` uses. A probe is a message with headers only, for one
//! recipient, whose envelope carries `trace_flags` with DEL_REQ_FLAG_MTA_VRFY: qmgr hands
//! it to the delivery agent the address resolves to, which delivers nothing and reports
//! the result to this service (global's verify_append). It is posted from a thread of
//! its own, so that a busy cleanup service never holds up the answers to other clients.

use global::cleanup_clnt::Post;
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

impl PostSettings {
    /// The message a probe from `sender` to `recipient` is.
    fn probe<'a>(&'a self, sender: &'a str, recipient: &'a str) -> Post<'a> {
        Post {
            service: &self.cleanup_service,
            ipc_timeout: self.ipc_timeout,
            flags: self.cleanup_flags,
            sender,
            recipient,
            trace_flags: global::deliver_request::DEL_REQ_FLAG_MTA_VRFY,
            myhostname: &self.myhostname,
            mail_name: &self.mail_name,
        }
    }
}

/// Posts one probe through cleanup: cleanup's status, or why it could not be sent.
/// Postfix gives up on a probe that cleanup does not take, as here: the address is
/// probed again at a later query.
pub fn post(settings: &PostSettings, sender: &str, recipient: &str) -> Result<u32, String> {
    let stream = settings
        .probe(sender, recipient)
        .open()
        .map_err(|e| e.to_string())?;
    // A probe has no body: it is never delivered.
    Ok(stream.finish(&[]).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_carries_the_verify_flag() {
        let settings = PostSettings {
            cleanup_service: "cleanup".into(),
            cleanup_flags: 0,
            myhostname: "mail.example".into(),
            mail_name: "Postfix".into(),
            ipc_timeout: Duration::from_secs(1),
        };
        let post = settings.probe("double-bounce@mail.example", "u@x");
        let recs = post.envelope("4AbCd", std::time::SystemTime::now());
        assert!(recs.iter().any(|(_, data)| data == b"trace_flags=256"));
        assert!(recs.iter().any(|(_, data)| data == b"u@x"));
    }
}
