//! One recipient through the delivery switch: loop and duplicate checks, the address
//! split into user and extension, then aliases, .forward and the mailbox.
//!
//! Postfix counterpart: `local/recipient.c` (`deliver_recipient`, `deliver_switch`).

use crate::Local;
use crate::state::{State, UserAttr, exp_type};
use global::ext_prop;

/// Delivers one recipient; the status of the status clients (0: dealt with).
pub fn deliver_recipient(local: &mut Local, mut state: State, usr_attr: UserAttr) -> i32 {
    state.level += 1;
    state.log("deliver_recipient");
    // Loops that nothing else breaks, such as :include: files that include each other.
    if state.level > 100 {
        log::msg_warn!(
            "recipient nesting limit exceeded for {}",
            state.msg_attr.rcpt.address
        );
        state.simple("5.4.6", "recipient nesting limit exceeded".into());
        return local.bounce_append(&state);
    }
    if local.dup_filter.been_here(&format!(
        "recipient {} {}",
        state.level, state.msg_attr.rcpt.address
    )) {
        return 0;
    }
    // A copy of this message was already delivered to this address: a forwarding loop.
    if local.loop_info.find(&state.msg_attr.rcpt.address) {
        let reason = format!("mail forwarding loop for {}", state.msg_attr.rcpt.address);
        state.simple("5.4.6", reason);
        return local.bounce_workaround(state);
    }
    // Forwarded mail keeps the address it was forwarded for.
    if state.msg_attr.delivered.is_none() {
        state.msg_attr.delivered = Some(state.msg_attr.rcpt.address.clone());
    }
    let folded = dict::casefold(&state.msg_attr.rcpt.address);
    let (mut localpart, domain) = match folded.rfind('@') {
        Some(at) => (folded[..at].to_string(), Some(folded[at + 1..].to_string())),
        None => {
            log::msg_warn!("no @ in recipient address: {folded}");
            (folded.clone(), None)
        }
    };
    let mut user = localpart.clone();
    let mut extension = None;
    if !local.settings.rcpt_delim.is_empty()
        && let Some((u, ext)) = local.split_local(&localpart)
    {
        // An invalid extension is dropped from the local part (Postfix 2.7.1 and later).
        if ext.contains('/') {
            log::msg_warn!(
                "{}: address with illegal extension: {localpart}",
                local.request.queue_id
            );
            localpart = u.clone();
        } else {
            extension = Some(ext);
        }
        user = u;
    }
    state.msg_attr.local = localpart;
    state.msg_attr.domain = domain;
    state.msg_attr.user = user;
    state.msg_attr.unmatched = extension.clone();
    state.msg_attr.extension = extension;
    if state.msg_attr.user.is_empty() {
        let reason = format!("null username in \"{}\"", state.msg_attr.rcpt.address);
        state.simple("5.1.3", reason);
        return local.bounce_append(&state);
    }
    deliver_switch(local, state, usr_attr)
}

/// Aliases first (with and without the extension), then forwarding or .forward and the
/// mailbox (`deliver_switch`).
fn deliver_switch(local: &mut Local, mut state: State, usr_attr: UserAttr) -> i32 {
    state.level += 1;
    state.log("deliver_switch");
    // \user: no alias or .forward expansion.
    if state.msg_attr.rcpt.address.starts_with('\\') {
        let a = &mut state.msg_attr;
        a.rcpt.address.remove(0);
        if a.local.starts_with('\\') {
            a.local.remove(0);
        }
        if a.user.starts_with('\\') {
            a.user.remove(0);
        }
        return match crate::mailbox::deliver_mailbox(local, state.clone(), usr_attr.clone()) {
            Some(status) => status,
            None => crate::unknown::deliver_unknown(local, state, usr_attr),
        };
    }
    state.msg_attr.unmatched = None;
    let name = state.msg_attr.local.clone();
    if let Some(status) = crate::alias::deliver_alias(local, state.clone(), usr_attr.clone(), &name)
    {
        return status;
    }
    if let Some(extension) = state.msg_attr.extension.clone() {
        if local.settings.ext_prop_mask & ext_prop::ALIAS != 0 {
            state.msg_attr.unmatched = Some(extension.clone());
        }
        let user = state.msg_attr.user.clone();
        if let Some(status) =
            crate::alias::deliver_alias(local, state.clone(), usr_attr.clone(), &user)
        {
            return status;
        }
        state.msg_attr.unmatched = Some(extension);
    }
    // Mail for a local address that an owner- alias or a .forward file leads to goes
    // back through cleanup, so that each recipient has its own queue file record.
    if let Some(owner) = &state.msg_attr.owner
        && dict::casefold(owner) != dict::casefold(&state.msg_attr.user)
    {
        return crate::forward::deliver_indirect(local, state);
    }
    // Recipients in :include: files are always forwarded.
    if state.msg_attr.exp_type == exp_type::INCL {
        return crate::forward::deliver_indirect(local, state);
    }
    if local.settings.stat_home_dir {
        match local.lookup_user(&mut state) {
            Err(status) => return status,
            Ok(Some(pw)) => {
                let home = std::path::Path::new(&pw.dir);
                let stat = sys::user::as_effective(pw.uid, pw.gid, || std::fs::metadata(home));
                let stat = stat.unwrap_or_else(|e| log::msg_fatal!("{e}"));
                if let Err(e) = stat {
                    let reason = format!(
                        "cannot access home directory {}: {}",
                        pw.dir,
                        sys::os_error(&e)
                    );
                    state.simple("4.3.0", reason);
                    return local.defer_append(&state);
                }
            }
            Ok(None) => {}
        }
    }
    if let Some(status) =
        crate::dotforward::deliver_dotforward(local, state.clone(), usr_attr.clone())
    {
        return status;
    }
    match crate::mailbox::deliver_mailbox(local, state.clone(), usr_attr.clone()) {
        Some(status) => status,
        None => crate::unknown::deliver_unknown(local, state, usr_attr),
    }
}
