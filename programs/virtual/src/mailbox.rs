//! One recipient: its mailbox from the tables, then delivery to a maildir or a
//! UNIX-style mailbox, or a bounce for an unknown user.
//!
//! Postfix counterparts: `virtual/recipient.c`, `virtual/mailbox.c`,
//! `virtual/maildir.c` and `virtual/unknown.c`. The tables are searched with the
//! case-folded address as virtual(5) says (`user+ext@domain`, `user@domain`, `@domain`);
//! a table that fails defers the recipient. A uid below virtual_minimum_uid, a gid of 0
//! or a recipient the uid or gid tables do not know is a configuration error: the mail
//! waits (4.3.5) and a warning says why. The mailbox location is the administrator's,
//! so a failure to write it defers by default (4.2.0), unless the system error says
//! otherwise (a full mailbox bounces).

use crate::Settings;
use global::deliver_request::{DEL_STAT_DEFER, DeliverRequest, trace_flags, trace_only};
use global::dsn_print::Dsn;
use global::mail_addr_find::{Form, Strategy, mail_addr_find};
use global::mail_copy::MAIL_COPY_TOFILE;
use global::mail_copy::{CopyArgs, Dest, MAIL_COPY_MBOX, mail_copy};
use global::mail_copy::{MAIL_COPY_DELIVERED, MAIL_COPY_ORIG_RCPT, MAIL_COPY_RETURN_PATH};
use global::maps::Maps;
use global::pipe_command::{Copied, Why};
use global::rcpt_print::Recipient;
use std::os::unix::fs::MetadataExt;

/// One recipient's delivery: the request, the recipient, and its case-folded address
/// (`LOCAL_STATE`'s `msg_attr`).
struct Delivery<'a> {
    settings: &'a Settings,
    request: &'a DeliverRequest,
    rcpt: &'a Recipient,
    relay: &'a str,
    user: String,
}

impl Delivery<'_> {
    /// The status of the recipient through `client` (`sent`, `bounce_append`...).
    fn status(&self, client: global::nexthop_status::Append, dsn: &Dsn) -> i32 {
        let r = self.request;
        let flags = trace_flags(r.flags);
        let s = &self.settings.status;
        client(
            s,
            flags,
            &r.queue_id,
            &r.msg_stats,
            self.rcpt,
            self.relay,
            dsn,
        )
    }

    /// Delivered (or, for a probe, deliverable): `status` `2.0.0` and `text`.
    fn sent(&self, text: &str) -> i32 {
        self.status(global::sent::sent, &Dsn::simple("2.0.0", text))
    }

    /// Not delivered: deferred for a 4.x.x status, else bounced.
    fn failed(&self, why: &Why) -> i32 {
        let client = if why.status.starts_with('4') {
            global::defer::defer_append
        } else {
            global::bounce::bounce_append
        };
        self.status(client, &Dsn::from(why))
    }

    /// The message as mail_copy reads it and what it adds.
    fn copy_args(&self, flags: u32) -> CopyArgs<'_> {
        CopyArgs {
            sender: &self.request.sender,
            orig_rcpt: &self.rcpt.orig_addr,
            delivered: &self.rcpt.address,
            flags,
            eol: "\n",
            enable_orcpt: self.settings.enable_orcpt,
            owner: self.settings.owner,
        }
    }

    /// Looks the recipient up in `maps` (Postfix's `mail_addr_find`, legacy forms).
    fn find(&self, maps: &Maps) -> Result<Option<String>, String> {
        self.settings
            .addr
            .with(|context| {
                mail_addr_find(
                    maps,
                    &self.user,
                    Form::Internal,
                    Form::ExternalFirst,
                    Form::External,
                    Strategy::DEFAULT,
                    context,
                )
            })
            .map(|found| found.map(|f| f.value))
            .map_err(|e| format!("{e:?}"))
    }
}

/// Delivers to one recipient (`deliver_recipient`): its status.
pub fn deliver_recipient(
    settings: &Settings,
    request: &DeliverRequest,
    rcpt: &Recipient,
    relay: &str,
) -> i32 {
    let delivery = Delivery {
        settings,
        request,
        rcpt,
        relay,
        user: dict::casefold(&rcpt.address),
    };
    if log::verbose() > 0 {
        log::msg_info!(
            "deliver_recipient[1]: recip {} deliver {}",
            rcpt.address,
            rcpt.address
        );
    }
    match deliver_mailbox(&delivery) {
        Some(status) => status,
        None => deliver_unknown(&delivery),
    }
}

/// An address without a mailbox bounces (`deliver_unknown`).
fn deliver_unknown(delivery: &Delivery) -> i32 {
    let text = format!("unknown user: \"{}\"", delivery.user);
    delivery.status(global::bounce::bounce_append, &Dsn::simple("5.1.1", &text))
}

/// A configuration problem: the mail waits (`4.3.5`).
fn config_error(delivery: &Delivery) -> i32 {
    let why = Why::new("4.3.5", "", "mail system configuration error".to_string());
    delivery.failed(&why)
}

/// The number at the start of `text`, 0 when there is none (C's `atol`).
fn atol(text: &str) -> i64 {
    let text = text.trim_start();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+').unwrap_or(text)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    sign * digits[..end].parse::<i64>().unwrap_or(0)
}

/// The recipient's mailbox and owner from the tables, then the delivery
/// (`deliver_mailbox`): None when the recipient has no mailbox.
fn deliver_mailbox(delivery: &Delivery) -> Option<i32> {
    let settings = delivery.settings;
    if !settings.mailbox_base.starts_with('/') {
        log::msg_fatal!(
            "do not specify relative pathname: virtual_mailbox_base = {}",
            settings.mailbox_base
        );
    }
    let found = match delivery.find(&settings.mailbox_maps) {
        Ok(Some(found)) => found,
        Ok(None) => return None,
        Err(e) => {
            log::msg_warn!(
                "table {}: lookup {}: {e}",
                settings.mailbox_maps.title(),
                delivery.user
            );
            return Some(config_error(delivery));
        }
    };
    let mailbox = format!("{}/{found}", settings.mailbox_base);
    let min_uid = settings.minimum_uid;
    let uid = match owner_id(delivery, &settings.uid_maps, "uid", &|n| n >= min_uid) {
        Ok(uid) => uid,
        Err(status) => return Some(status),
    };
    let gid = match owner_id(delivery, &settings.gid_maps, "gid", &|n| n > 0) {
        Ok(gid) => gid,
        Err(status) => return Some(status),
    };
    let ids = (uid, gid);
    if log::verbose() > 0 {
        log::msg_info!(
            "deliver_mailbox[1]: set user_attr: {mailbox}, uid = {}, gid = {}",
            ids.0,
            ids.1
        );
    }
    Some(if mailbox.ends_with('/') {
        deliver_maildir(delivery, &mailbox, ids)
    } else {
        deliver_mailbox_file(delivery, &mailbox, ids)
    })
}

/// The mailbox owner's uid or gid (`what`) from `maps`, if `ok` accepts it; else the
/// recipient's status after a logged configuration error.
fn owner_id(
    delivery: &Delivery,
    maps: &Maps,
    what: &str,
    ok: &dyn Fn(i64) -> bool,
) -> Result<u32, i32> {
    let Ok(Some(value)) = delivery.find(maps) else {
        log::msg_warn!("recipient {}: not found in {}", delivery.user, maps.title());
        return Err(config_error(delivery));
    };
    let n = atol(&value);
    if !ok(n) {
        log::msg_warn!(
            "recipient {}: bad {what} {value} in {}",
            delivery.user,
            maps.title()
        );
        return Err(config_error(delivery));
    }
    Ok(n as u32)
}

/// What a copy's outcome means for the recipient: a corrupt queue file waits, a failure
/// is deferred or bounced with `prefix` before its reason, success is `delivered`.
fn outcome(delivery: &Delivery, copied: Copied, prefix: &str, delivered: &str) -> i32 {
    match copied {
        Copied::Corrupt => DEL_STAT_DEFER,
        Copied::Failed { why, .. } => delivery.failed(&Why {
            reason: format!("{prefix}{}", why.reason),
            ..why
        }),
        Copied::Ok => delivery.sent(delivered),
    }
}

/// Delivers to a maildir (`deliver_maildir`).
fn deliver_maildir(delivery: &Delivery, maildir: &str, ids: (u32, u32)) -> i32 {
    let starttime = global::msg_stats::now();
    if trace_only(delivery.request.flags) {
        return delivery.sent("delivers to maildir");
    }
    let flags =
        MAIL_COPY_TOFILE | MAIL_COPY_RETURN_PATH | MAIL_COPY_DELIVERED | MAIL_COPY_ORIG_RCPT;
    let request = delivery.request;
    let src = (
        request.file(),
        request.path.as_str(),
        request.data_offset as u64,
    );
    let args = delivery.copy_args(flags);
    let copied = global::maildir::maildir_write(maildir, &args, src, ids, starttime, "4.2.0");
    outcome(delivery, copied, "", "delivered to maildir")
}

/// Delivers to a UNIX-style mailbox, as the recipient (`deliver_mailbox_file`).
fn deliver_mailbox_file(delivery: &Delivery, mailbox: &str, (uid, gid): (u32, u32)) -> i32 {
    if trace_only(delivery.request.flags) {
        return delivery.sent("delivers to mailbox");
    }
    let settings = delivery.settings;
    let request = delivery.request;
    let become_user = |ids: (u32, u32)| {
        if let Err(e) = sys::user::set_eugid(ids.0, ids.1) {
            log::msg_fatal!("{e}");
        }
    };
    // Written as the recipient, so that quotas apply.
    become_user((uid, gid));
    let opened = global::mbox_open::mbox_open(
        mailbox,
        0o600,
        None,
        settings.lock_mask,
        &settings.lock_conf,
        "4.2.0",
    );
    let copied = match opened {
        Err(why) => Copied::Failed {
            broken_pipe: false,
            why,
        },
        Ok(mut mbox) => {
            let file = mbox.take_file();
            let failure = |status: &str, reason: String| Copied::Failed {
                broken_pipe: false,
                why: Why::new(status, "", reason),
            };
            match &mbox.st {
                meta if !meta.file_type().is_file() => {
                    drop(file);
                    log::msg_warn!(
                        "recipient {}: destination {mailbox} is not a regular file",
                        delivery.rcpt.address
                    );
                    failure("5.3.5", "mail system configuration error".to_string())
                }
                meta if settings.strict_mbox_owner && meta.uid() != uid => {
                    log::msg_warn!(
                        "specify \"strict_mailbox_ownership = no\" to ignore mailbox ownership mismatch"
                    );
                    failure(
                        "4.2.0",
                        format!("destination {mailbox} is not owned by recipient"),
                    )
                }
                _ => mail_copy(
                    &delivery.copy_args(MAIL_COPY_MBOX),
                    request.file(),
                    &request.path,
                    request.data_offset as u64,
                    Dest::File(file),
                ),
            }
        }
    };
    become_user(settings.owner);
    let prefix = format!("delivery failed to mailbox {mailbox}: ");
    outcome(delivery, copied, &prefix, "delivered to mailbox")
}

#[cfg(test)]
mod tests {
    use super::atol;

    #[test]
    fn numbers_as_atol_reads_them() {
        assert_eq!(atol("1001"), 1001);
        assert_eq!(atol(" 65534 trailing"), 65534);
        assert_eq!(atol("-5"), -5);
        assert_eq!(atol("nobody"), 0);
    }
}
