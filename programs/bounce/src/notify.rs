//! The notices: non-delivery (flush), delay warnings, delivery reports (trace), VERP
//! style non-delivery, and the one-recipient non-delivery notice.
//!
//! Postfix counterparts: `bounce/bounce_notify_service.c`, `bounce_warn_service.c`,
//! `bounce_trace_service.c`, `bounce_notify_verp.c` and `bounce_one_service.c`. Who gets
//! a notice follows the sender of the original: a normal sender gets a single bounce
//! (null sender) and, per notify_classes, the postmaster a copy with the headers only; a
//! bounce that bounced (null sender) becomes a double bounce to 2bounce_notice_recipient
//! (or delay_notice_recipient), sent from the double-bounce address; a double bounce is
//! never returned. The log is removed only after its notice was posted; a delay warning
//! keeps it.

use crate::compose::{self, Copy, Info, RET_FULL, RET_HDRS};
use crate::log_file::{Dsn, LogReader, Recipient, notify};
use crate::post::{Notice as _, Post};
use crate::settings::{Settings, error_class};
use crate::template::{Class, Templates};
use global::bounce::BOUNCE_FLAG_DELRCPT;

/// Trace flags that ask for a delivery report rather than a DSN SUCCESS notice
/// (`DEL_REQ_FLAG_USR_VRFY | DEL_REQ_FLAG_RECORD`).
const REPORT_FLAGS: i32 = (1 << 9) | (1 << 10);

/// What a flush, warn or trace request says about the message.
pub struct Request<'a> {
    /// main.cf with the -o overrides, for template `$name` expansion.
    pub config: &'a params::Config,
    /// Request flags (BOUNCE_FLAG_* or, for trace, the trace flags).
    pub flags: i32,
    /// The service (and log directory) the request came to: bounce, defer, trace.
    pub service: String,
    /// The queue the original is in.
    pub queue_name: String,
    /// The original's queue ID.
    pub queue_id: String,
    /// The original's encoding (8bit, 7bit or empty).
    pub encoding: String,
    /// The original's SMTPUTF8 flags.
    pub smtputf8: i32,
    /// The original's sender: who the notice goes to.
    pub sender: String,
    /// DSN ENVID.
    pub dsn_envid: String,
    /// DSN RET.
    pub dsn_ret: i32,
}

/// The service's state across requests.
pub struct Service {
    /// main.cf.
    pub settings: Settings,
    /// The templates.
    pub templates: Templates,
}

/// One notice to send.
struct Spec<'a> {
    class: Class,
    /// Envelope sender: empty or the double-bounce address.
    from: &'a str,
    /// Envelope recipient and To:.
    to: &'a str,
    copy: Copy,
    /// Whether the template's text goes in (not in postmaster copies).
    boilerplate: bool,
    /// Which recipients: NOTIFY filter, or `notify::OVERRIDE` for all.
    filter: i32,
    /// What of the original to return.
    ret: i32,
    /// The log line's words: `QUEUEID: <what>: NEWID`.
    what: &'a str,
}

impl Service {
    /// The log's entries; None when there is none, fatal when it cannot be read.
    fn entries(&self, service: &str, queue_id: &str) -> Option<Vec<(Recipient, Dsn)>> {
        let settings = &self.settings;
        match LogReader::open(
            &settings.layout,
            service,
            queue_id,
            settings.smtputf8_enable,
        ) {
            Ok(Some(mut log)) => {
                let mut entries = Vec::new();
                while let Some(entry) = log.read() {
                    entries.push(entry);
                }
                Some(entries)
            }
            Ok(None) => None,
            Err(e) => log::msg_fatal!("open {service} {queue_id}: {}", sys::os_error(&e)),
        }
    }

    fn info(&self, req: &Request, entries: Option<Vec<(Recipient, Dsn)>>) -> Info {
        Info::new(
            &self.settings,
            &req.queue_name,
            &req.queue_id,
            &req.encoding,
            req.smtputf8,
            &req.dsn_envid,
            entries,
        )
    }

    /// Composes and posts one notice: 0 when it was posted or had no recipient to
    /// report, else the failure. A notice with nothing to report is not posted.
    fn send(&mut self, info: &mut Info, req: &Request, notice: &Spec) -> u32 {
        let settings = &self.settings;
        let Some((mut post, new_id)) = Post::open(settings, notice.from, notice.to, req.smtputf8)
        else {
            return 1;
        };
        let template = match notice.class {
            Class::Failure => &mut self.templates.failure,
            Class::Delay => &mut self.templates.delay,
            Class::Success => &mut self.templates.success,
            Class::Verify => &mut self.templates.verify,
        };
        compose::header(&mut post, settings, info, template, notice.to, notice.copy);
        if notice.boilerplate {
            compose::boilerplate(&mut post, settings, req.config, template);
        }
        let count = compose::diagnostic_log(&mut post, info, notice.class, notice.filter);
        if count > 0 && !post.failed() {
            if notice.copy == Copy::Postmaster {
                compose::transcripts(
                    &mut post,
                    &global::transcript::saved(req.config, &req.queue_id),
                );
            }
            compose::header_dsn(&mut post, settings, info);
            if compose::diagnostic_dsn(&mut post, settings, info, notice.class, notice.filter) > 0 {
                compose::original(&mut post, settings, info, notice.class, notice.ret);
                let status = post.close();
                if status == 0 {
                    log::msg_info!("{}: {}: {new_id}", req.queue_id, notice.what);
                }
                return status;
            }
        }
        // Given up before the end records: cleanup discards what it got.
        drop(post);
        u32::from(count != 0)
    }

    /// The log is done with: removed, as the notice was posted.
    fn remove_log(&self, service: &str, queue_id: &str) {
        let path = crate::log_file::path(&self.settings.layout, service, queue_id);
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            log::msg_fatal!("remove {service} {queue_id}: {}", sys::os_error(&e));
        }
    }

    fn is_double_bounce(&self, address: &str) -> bool {
        address.to_lowercase() == self.settings.double_bounce.to_lowercase()
    }

    /// A non-delivery notice from the bounce log, or an expiry notice from the defer
    /// log (`bounce_notify_service`).
    pub fn notify(&mut self, req: &Request) -> i32 {
        let entries = self.entries(&req.service, &req.queue_id);
        let mut info = self.info(req, entries);
        let status = self.failure_notices(&mut info, req, notify::FAILURE, false);
        if status == 0 && req.flags & BOUNCE_FLAG_DELRCPT != 0 {
            compose::delrcpt(&mut info);
        }
        if status == 0 {
            self.remove_log(&req.service, &req.queue_id);
        }
        status as i32
    }

    /// The non-delivery notices about `info`'s recipients, shared by the log and the
    /// one-recipient requests: to the sender (those recipients whose NOTIFY is in
    /// `filter`; none with `no_sender_notice`) with a headers-only copy to the postmaster
    /// per notify_classes, a double bounce for a bounce, nothing for a double bounce.
    fn failure_notices(
        &mut self,
        info: &mut Info,
        req: &Request,
        filter: i32,
        no_sender_notice: bool,
    ) -> u32 {
        let mask = self.settings.notify_mask;
        if self.is_double_bounce(&req.sender) {
            log::msg_warn!(
                "{}: undeliverable postmaster notification discarded",
                req.queue_id
            );
            return 0;
        }
        if req.sender.is_empty() {
            if mask & (error_class::TWO_BOUNCE | error_class::BOUNCE) == 0 {
                return 0;
            }
            let to = self.settings.two_bounce_rcpt.clone();
            let what = "postmaster non-delivery notification";
            return self.postmaster_notice(info, req, Class::Failure, &to, RET_FULL, what);
        }
        let status = if no_sender_notice {
            0
        } else {
            let ret = if req.dsn_ret != 0 {
                req.dsn_ret
            } else {
                RET_FULL
            };
            self.send(
                info,
                req,
                &Spec {
                    class: Class::Failure,
                    from: "",
                    to: &req.sender,
                    copy: Copy::Sender,
                    boilerplate: true,
                    filter,
                    ret,
                    what: "sender non-delivery notification",
                },
            )
        };
        if status == 0 && mask & error_class::BOUNCE != 0 {
            self.postmaster_copy(info, req);
        }
        status
    }

    /// A notice to a postmaster address `to`, from the double-bounce address, without
    /// the template's text, about every recipient.
    fn postmaster_notice(
        &mut self,
        info: &mut Info,
        req: &Request,
        class: Class,
        to: &str,
        ret: i32,
        what: &str,
    ) -> u32 {
        let double_bounce = self.settings.double_bounce.clone();
        let spec = Spec {
            class,
            from: &double_bounce,
            to,
            copy: Copy::Postmaster,
            boilerplate: false,
            filter: notify::OVERRIDE,
            ret,
            what,
        };
        self.send(info, req, &spec)
    }

    /// The postmaster's copy of a non-delivery notice (bounce_notice_recipient, headers
    /// only); a failure is only logged, the sender's notice went out.
    fn postmaster_copy(&mut self, info: &mut Info, req: &Request) {
        let to = self.settings.bounce_rcpt.clone();
        let what = "postmaster non-delivery notification";
        let status = self.postmaster_notice(info, req, Class::Failure, &to, RET_HDRS, what);
        if status != 0 {
            log::msg_warn!(
                "{}: postmaster notice failed while bouncing to {}",
                req.queue_id,
                req.sender
            );
        }
    }

    /// A delay warning from the defer log, which stays (`bounce_warn_service`).
    pub fn warn(&mut self, req: &Request) -> i32 {
        let entries = self.entries(&req.service, &req.queue_id);
        let mut info = self.info(req, entries);
        let send_postmaster = self.settings.notify_mask & error_class::DELAY != 0;
        let postmaster = self.settings.delay_rcpt.clone();
        let what = "postmaster delay notification";
        let status = if self.is_double_bounce(&req.sender) {
            log::msg_warn!(
                "{}: undeliverable postmaster notification discarded",
                req.queue_id
            );
            0
        } else if req.sender.is_empty() {
            if send_postmaster {
                self.postmaster_notice(&mut info, req, Class::Delay, &postmaster, RET_FULL, what)
            } else {
                0
            }
        } else {
            let status = self.send(
                &mut info,
                req,
                &Spec {
                    class: Class::Delay,
                    from: "",
                    to: &req.sender,
                    copy: Copy::Sender,
                    boilerplate: true,
                    filter: notify::DELAY,
                    ret: RET_HDRS,
                    what: "sender delay notification",
                },
            );
            if status == 0
                && send_postmaster
                && self.postmaster_notice(&mut info, req, Class::Delay, &postmaster, RET_HDRS, what)
                    != 0
            {
                log::msg_warn!(
                    "{}: postmaster notice failed while warning {}",
                    req.queue_id,
                    req.sender
                );
            }
            status
        };
        status as i32
    }

    /// A delivery report (`sendmail -bv`, `sendmail -v`) or DSN SUCCESS notice from the
    /// trace log (`bounce_trace_service`).
    pub fn trace(&mut self, req: &Request) -> i32 {
        let (from, to) = if self.is_double_bounce(&req.sender) {
            log::msg_info!(
                "{}: not sending trace/success notification for double-bounce message",
                req.queue_id
            );
            return 0;
        } else if req.sender.is_empty() {
            if self.settings.notify_mask & error_class::TWO_BOUNCE != 0 {
                (
                    self.settings.double_bounce.clone(),
                    self.settings.two_bounce_rcpt.clone(),
                )
            } else {
                log::msg_info!(
                    "{}: not sending trace/success notification for single-bounce message",
                    req.queue_id
                );
                self.remove_log(&req.service, &req.queue_id);
                return 0;
            }
        } else {
            (String::new(), req.sender.clone())
        };
        let class = if req.flags & REPORT_FLAGS != 0 {
            Class::Verify
        } else {
            Class::Success
        };
        // Not every delivery of a message with NOTIFY=SUCCESS recipients leaves a log.
        let Some(entries) = self.entries(&req.service, &req.queue_id) else {
            if log::verbose() > 0 {
                log::msg_info!(
                    "{}: no trace file -- not sending a notification",
                    req.queue_id
                );
            }
            return 0;
        };
        let mut info = self.info(req, Some(entries));
        let status = self.send(
            &mut info,
            req,
            &Spec {
                class,
                from: &from,
                to: &to,
                copy: Copy::Sender,
                boilerplate: true,
                filter: notify::OVERRIDE,
                ret: RET_HDRS,
                what: "sender delivery status notification",
            },
        );
        if status == 0 {
            self.remove_log(&req.service, &req.queue_id);
        }
        status as i32
    }

    /// One non-delivery notice per recipient, each to a VERP address made from the
    /// sender and that recipient (`bounce_notify_verp`).
    pub fn verp(&mut self, req: &Request, delims: &str) -> i32 {
        if req.sender.is_empty() || self.is_double_bounce(&req.sender) {
            log::msg_warn!("request to send VERP-style notification of bounced mail");
            return self.notify(req);
        }
        let Some(entries) = self.entries(&req.service, &req.queue_id) else {
            let rcpt = Recipient {
                address: "(recipient address unavailable)".into(),
                ..Default::default()
            };
            let dsn = Dsn {
                status: "5.0.0".into(),
                reason: "(error report unavailable)".into(),
                ..Default::default()
            };
            return self.one(req, rcpt, dsn);
        };
        let mut info = self.info(req, None);
        let mut status = 0;
        for (rcpt, dsn) in entries {
            info.entries = Some(vec![(rcpt.clone(), dsn)]);
            if rcpt.dsn_notify != 0 && rcpt.dsn_notify & notify::FAILURE == 0 {
                status = 0;
            } else {
                let to = verp_sender(delims, &req.sender, &rcpt);
                let ret = if req.dsn_ret != 0 {
                    req.dsn_ret
                } else {
                    RET_FULL
                };
                status = self.send(
                    &mut info,
                    req,
                    &Spec {
                        class: Class::Failure,
                        from: "",
                        to: &to,
                        copy: Copy::Sender,
                        boilerplate: true,
                        filter: notify::OVERRIDE,
                        ret,
                        what: "sender non-delivery notification",
                    },
                );
                if status != 0 {
                    break;
                }
                if req.flags & BOUNCE_FLAG_DELRCPT != 0 {
                    compose::delrcpt(&mut info);
                }
            }
            if self.settings.notify_mask & error_class::BOUNCE != 0 {
                self.postmaster_copy(&mut info, req);
            }
        }
        if status == 0 {
            self.remove_log(&req.service, &req.queue_id);
        }
        status as i32
    }

    /// A non-delivery notice for one recipient, with no log (`bounce_one_service`).
    pub fn one(&mut self, req: &Request, rcpt: Recipient, dsn: Dsn) -> i32 {
        let unwanted = rcpt.dsn_notify != 0 && rcpt.dsn_notify & notify::FAILURE == 0;
        let mut info = self.info(req, Some(vec![(rcpt, dsn)]));
        let status = self.failure_notices(&mut info, req, notify::OVERRIDE, unwanted);
        if status == 0 && req.flags & BOUNCE_FLAG_DELRCPT != 0 {
            compose::delrcpt(&mut info);
        }
        status as i32
    }
}

/// The VERP address for a notice about `rcpt`: `prefix+user=domain@origin` from the
/// sender `prefix@origin` and the recipient's original address (`verp_sender`).
pub fn verp_sender(delims: &str, sender: &str, rcpt: &Recipient) -> String {
    let delims: Vec<char> = delims.chars().collect();
    let (send_local, send_domain) = match sender.rfind('@') {
        Some(at) => (&sender[..at], Some(&sender[at + 1..])),
        None => (sender, None),
    };
    let recipient = if rcpt.orig_addr.is_empty() {
        &rcpt.address
    } else {
        &rcpt.orig_addr
    };
    let (rcpt_local, rcpt_domain) = match recipient.rfind('@') {
        Some(at) => (&recipient[..at], Some(&recipient[at + 1..])),
        None => (recipient.as_str(), None),
    };
    let mut out = String::from(send_local);
    out.push(delims.first().copied().unwrap_or('+'));
    out.push_str(rcpt_local);
    if let Some(domain) = rcpt_domain.filter(|d| !d.is_empty()) {
        out.push(delims.get(1).copied().unwrap_or('='));
        out.push_str(domain);
    }
    if let Some(domain) = send_domain.filter(|d| !d.is_empty()) {
        out.push('@');
        out.push_str(domain);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verp_addresses() {
        let rcpt = Recipient {
            address: "final@example.net".into(),
            orig_addr: "user@example.com".into(),
            ..Default::default()
        };
        assert_eq!(
            verp_sender("+=", "list@lists.example", &rcpt),
            "list+user=example.com@lists.example"
        );
        let bare = Recipient {
            address: "user".into(),
            ..Default::default()
        };
        assert_eq!(verp_sender("+=", "list", &bare), "list+user");
    }
}
