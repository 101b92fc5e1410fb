//! The user's .forward file: the first file of forward_path that exists replaces the
//! mailbox with the addresses, files and commands it lists.
//!
//! Postfix counterpart: `local/dotforward.c` (`deliver_dotforward`). The file is read
//! with the user's rights; it must be a regular file owned by the user or root and not
//! world-writable, or it is ignored with a warning. Delivery problems of what it lists
//! are reported to the user (the owner attribute), and its commands and files run with
//! the user's rights.

use crate::Local;
use crate::state::{State, UserAttr, exp_type};
use crate::token::as_user;
use global::dsn_mask::{NOTIFY_NEVER, NOTIFY_SUCCESS};
use global::ext_prop;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

/// Delivers to the user's .forward file; None when there is none (deliver to the
/// mailbox instead).
pub fn deliver_dotforward(local: &mut Local, mut state: State, _usr_attr: UserAttr) -> Option<i32> {
    state.level += 1;
    state.log("deliver_dotforward");
    if local.settings.forward_path.is_empty() {
        return None;
    }
    let pw = match local.lookup_user(&mut state) {
        Err(status) => return Some(status),
        Ok(None) => return None,
        Ok(Some(pw)) => pw,
    };
    if !local.settings.frozen_delivered {
        state.msg_attr.delivered = Some(state.msg_attr.rcpt.address.clone());
    }
    // The user's own rights from here on (`SET_USER_ATTR`).
    let usr_attr = UserAttr::of(&pw);
    state.msg_attr.exp_type = exp_type::FWD;
    state.msg_attr.owner = Some(state.msg_attr.user.clone());
    let mut found = None;
    for pattern in util::tokens::split(&local.settings.forward_path, util::tokens::COMMA_SPACE) {
        let expanded = crate::expand::local_expand(
            pattern,
            &state,
            &usr_attr,
            Some(&local.settings.fwd_exp_filter),
            &local.settings.rcpt_delim,
        );
        let Ok(expanded) = expanded else { continue };
        if expanded.undefined {
            continue;
        }
        let path = expanded.text.clone();
        let meta = as_user(usr_attr.uid, usr_attr.gid, || {
            std::fs::symlink_metadata(&path)
        });
        if log::verbose() > 0 {
            log::msg_info!(
                "deliver_dotforward: path {path} expand_status {} look_status {}",
                u8::from(expanded.undefined),
                if meta.is_ok() { 0 } else { -1 }
            );
        }
        if let Ok(meta) = meta {
            if expanded.extension_matched || local.settings.ext_prop_mask & ext_prop::FORWARD == 0 {
                state.msg_attr.unmatched = None;
            }
            found = Some((path, meta));
            break;
        }
    }
    let (path, meta) = found?;
    if local.request.flags & global::deliver_request::DEL_REQ_FLAG_MTA_VRFY != 0 {
        state.simple("2.0.0", format!("forward via file: {path}"));
        return Some(local.sent(&state));
    }
    let mut forward_found = false;
    let mut status = 0;
    if !local.dup_filter.been_here(&format!("forward {path}")) {
        state.msg_attr.exp_from = Some(state.msg_attr.local.clone());
        if !meta.is_file() {
            log::msg_warn!("file {path} is not a regular file");
        } else if meta.uid() != 0 && meta.uid() != usr_attr.uid {
            log::msg_warn!("file {path} has bad owner uid {}", meta.uid());
        } else if meta.permissions().mode() & 0o002 != 0 {
            log::msg_warn!("file {path} is world writable");
        } else {
            match as_user(usr_attr.uid, usr_attr.gid, || std::fs::File::open(&path)) {
                Err(e) => log::msg_warn!("cannot open file {path}: {}", sys::os_error(&e)),
                Ok(file) => {
                    let mut addr_count = 0;
                    let saved_notify = state.msg_attr.rcpt.dsn_notify;
                    state.msg_attr.rcpt.dsn_notify = if saved_notify == NOTIFY_SUCCESS {
                        NOTIFY_NEVER
                    } else {
                        saved_notify & !NOTIFY_SUCCESS
                    };
                    status = crate::token::deliver_token_stream(
                        local,
                        state.clone(),
                        usr_attr,
                        file,
                        &path,
                        Some(&mut addr_count),
                    );
                    if addr_count > 0 {
                        forward_found = true;
                        local.dup_filter.been_here(&format!("forward-done {path}"));
                        if status == 0 && saved_notify & NOTIFY_SUCCESS != 0 {
                            state.msg_attr.rcpt.dsn_notify = saved_notify;
                            local.trace_expanded(&mut state, "expanded");
                        }
                    }
                }
            }
        }
    } else if local.dup_filter.check(&format!("forward-done {path}")) {
        forward_found = true;
    }
    forward_found.then_some(status)
}
