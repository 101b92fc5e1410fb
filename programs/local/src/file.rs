//! Delivery to a /file/name listed in an alias, :include: or .forward file: appended as
//! a UNIX mailbox, or a maildir when the name ends in `/`.
//!
//! Postfix counterpart: `local/file.c` (`deliver_file`). The file is written with the
//! rights of whoever listed it (default_privs for root-owned aliases), only where
//! allow_mail_to_files allows it; an executable file is refused.

use crate::Local;
use crate::mailbox::{copy_to, finish_copy, not_copied, set_eugid};
use crate::settings::deliver_hdr;
use crate::state::{State, UserAttr};
use global::dsn_print::Dsn;
use global::mail_copy;
use global::mbox_conf::MBOX_DOT_LOCK_MAY_FAIL;
use global::mbox_open::mbox_open;
use std::os::unix::fs::PermissionsExt;

/// Appends the message to `path` (`deliver_file`).
pub fn deliver_file(
    local: &mut Local,
    mut state: State,
    mut usr_attr: UserAttr,
    path: &str,
) -> i32 {
    state.level += 1;
    state.log("deliver_file");
    if local
        .dup_filter
        .been_here(&format!("file {} {path}", usr_attr.uid))
    {
        return 0;
    }
    let settings = local.settings;
    if settings.file_deliver_mask & state.msg_attr.exp_type == 0 {
        state.simple("5.7.1", "mail to file is restricted".into());
        return local.bounce_workaround(state);
    }
    if global::deliver_request::trace_only(local.request.flags) {
        state.simple("2.0.0", format!("delivers to file: {path}"));
        return local.sent(&state);
    }
    if usr_attr.uid == 0 {
        usr_attr.uid = settings.default_ids.0;
    }
    if usr_attr.gid == 0 {
        usr_attr.gid = settings.default_ids.1;
    }
    if path.ends_with('/') {
        return crate::maildir::deliver_maildir(local, state, usr_attr, path);
    }
    if log::verbose() > 0 {
        log::msg_info!("deliver_file ({},{}): {path}", usr_attr.uid, usr_attr.gid);
    }
    let mut copy_flags = mail_copy::MAIL_COPY_MBOX;
    if settings.deliver_hdr_mask & deliver_hdr::FILE == 0 {
        copy_flags &= !mail_copy::MAIL_COPY_DELIVERED;
    }
    let mut copied = not_copied();
    set_eugid(usr_attr.uid, usr_attr.gid);
    // The directory may not let the user make a lock file: then the kernel locks do.
    let lock_style = settings.lock_mask | MBOX_DOT_LOCK_MAY_FAIL;
    match mbox_open(path, 0o600, None, lock_style, &settings.lock_conf, "5.2.0") {
        Err(why) => state.msg_attr.why = Dsn::from(&why),
        Ok(mut mp) => {
            let st = &mp.st;
            if st.is_file() && st.permissions().mode() & 0o111 != 0 {
                state.simple("5.7.1", "file is executable".into());
            } else {
                // A device or FIFO is written to, not appended to and cut back.
                let flags = if st.is_file() {
                    copy_flags
                } else {
                    copy_flags & !mail_copy::MAIL_COPY_TOFILE
                };
                copied = copy_to(local, &state, mp.take_file(), flags);
            }
            drop(mp);
        }
    }
    set_eugid(settings.owner.0, settings.owner.1);
    let failed = format!("cannot append message to file {path}: ");
    let done = format!("delivered to file: {path}");
    finish_copy(local, state, copied, &failed, done, |local, state| {
        local.bounce_workaround(state)
    })
}
