//! Maildir delivery for a local recipient or a /file/name/ ending in `/`.
//!
//! Postfix counterpart: `local/maildir.c` (`deliver_maildir`). What is local's own is
//! here: the probe's answer, the Delivered-To: address, the header mask and the status
//! (a failure is permanent unless the system error says otherwise). Writing the file,
//! as the recipient, under Postfix's names is global::maildir's, which virtual shares.

use crate::Local;
use crate::mailbox::{copy_args, finish_copy};
use crate::settings::deliver_hdr;
use crate::state::{State, UserAttr};
use global::mail_copy;

/// Delivers to the maildir at `path` (which ends in `/`).
pub fn deliver_maildir(local: &mut Local, mut state: State, usr_attr: UserAttr, path: &str) -> i32 {
    let starttime = global::msg_stats::now();
    state.level += 1;
    state.log("deliver_maildir");
    if global::deliver_request::trace_only(local.request.flags) {
        state.simple("2.0.0", "delivers to maildir".into());
        return local.sent(&state);
    }
    let settings = local.settings;
    if !settings.frozen_delivered {
        state.msg_attr.delivered = Some(state.msg_attr.rcpt.address.clone());
    }
    let mut copy_flags = mail_copy::MAIL_COPY_TOFILE
        | mail_copy::MAIL_COPY_RETURN_PATH
        | mail_copy::MAIL_COPY_ORIG_RCPT;
    if settings.deliver_hdr_mask & deliver_hdr::FILE != 0 {
        copy_flags |= mail_copy::MAIL_COPY_DELIVERED;
    }
    let request = local.request;
    let src = (
        request.file(),
        request.path.as_str(),
        request.data_offset as u64,
    );
    let copied = global::maildir::maildir_write(
        path,
        &copy_args(local, &state, copy_flags),
        src,
        (usr_attr.uid, usr_attr.gid),
        starttime,
        "5.2.0",
    );
    let done = "delivered to maildir".to_string();
    // maildir_write's reason already says "maildir delivery failed: ".
    finish_copy(local, state, copied, "", done, |local, state| {
        local.defer_or_bounce(&state)
    })
}
