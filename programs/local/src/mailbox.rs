//! Mailbox delivery: a per-user mailbox_transport, mailbox_transport, a per-user
//! mailbox_command, mailbox_command, a maildir or a UNIX mailbox file (in the home
//! directory as home_mailbox says, else in mail_spool_directory).
//!
//! Postfix counterpart: `local/mailbox.c` (`deliver_mailbox`, `deliver_mailbox_file`).
//! A mailbox file is opened with the spool directory's rights (root for a directory
//! only root may write, the recipient's group for a group-writable one) and given to
//! the recipient when it is created; the message is appended with From_ line,
//! Return-Path:, X-Original-To: and Delivered-To:, and a mailbox that the recipient
//! does not own is refused with strict_mailbox_ownership.

use crate::Local;
use crate::settings::deliver_hdr;
use crate::state::{State, UserAttr};
use global::dsn_print::Dsn;
use global::mail_copy::{self, CopyArgs, Dest};
use global::mbox_open::mbox_open;
use global::pipe_command::Copied;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

/// Delivers to the user's mailbox; None when the user does not exist.
pub fn deliver_mailbox(local: &mut Local, mut state: State, _usr_attr: UserAttr) -> Option<i32> {
    state.level += 1;
    state.log("deliver_mailbox");
    if local
        .dup_filter
        .been_here(&format!("mailbox {}", state.msg_attr.local))
    {
        return Some(0);
    }
    let user = state.msg_attr.user.clone();
    if let Some(maps) = &local.tables.mbox_transport {
        match maps.find(&user, false) {
            Ok(Some(transport)) => {
                state.msg_attr.rcpt.offset = -1;
                return Some(crate::pass::deliver_pass_all(local, &transport, &state));
            }
            Ok(None) => {}
            Err(_) => {
                state.simple("4.3.0", "table lookup failure".into());
                return Some(local.defer_append(&state));
            }
        }
    }
    if !local.settings.mailbox_transport.is_empty() {
        state.msg_attr.rcpt.offset = -1;
        let transport = local.settings.mailbox_transport.clone();
        return Some(crate::pass::deliver_pass_all(local, &transport, &state));
    }
    let pw = match local.lookup_user(&mut state) {
        Err(status) => return Some(status),
        Ok(None) => return None,
        Ok(Some(pw)) => pw,
    };
    let usr_attr = UserAttr::of(&pw);
    let settings = local.settings;
    let map_command = match &local.tables.mbox_command {
        Some(maps) => match maps.find(&user, false) {
            Ok(found) => found,
            Err(_) => {
                state.simple("4.3.0", "table lookup failure".into());
                return Some(local.defer_append(&state));
            }
        },
        None => None,
    };
    let status = if let Some(command) = map_command {
        crate::command::deliver_command(local, state, usr_attr, &command)
    } else if !settings.mailbox_command.is_empty() {
        let command = settings.mailbox_command.clone();
        crate::command::deliver_command(local, state, usr_attr, &command)
    } else if settings.home_mailbox.ends_with('/') {
        let home = usr_attr.home.clone().unwrap_or_default();
        let path = format!("{home}/{}", settings.home_mailbox);
        crate::maildir::deliver_maildir(local, state, usr_attr, &path)
    } else if settings.mail_spool_dir.ends_with('/') {
        let path = format!("{}{}/", settings.mail_spool_dir, state.msg_attr.user);
        crate::maildir::deliver_maildir(local, state, usr_attr, &path)
    } else {
        deliver_mailbox_file(local, state, usr_attr)
    };
    Some(status)
}

/// Appends to a UNIX-style mailbox file (`deliver_mailbox_file`).
fn deliver_mailbox_file(local: &mut Local, mut state: State, usr_attr: UserAttr) -> i32 {
    state.level += 1;
    state.log("deliver_mailbox_file");
    if global::deliver_request::trace_only(local.request.flags) {
        state.simple("2.0.0", "delivers to mailbox".into());
        return local.sent(&state);
    }
    let settings = local.settings;
    if !settings.frozen_delivered {
        state.msg_attr.delivered = Some(state.msg_attr.rcpt.address.clone());
    }
    let home = usr_attr.home.clone().unwrap_or_default();
    let (spool_dir, mailbox) = if !settings.home_mailbox.is_empty() {
        (None, format!("{home}/{}", settings.home_mailbox))
    } else {
        let dir = settings.mail_spool_dir.clone();
        let mailbox = format!("{dir}/{}", state.msg_attr.user);
        (Some(dir), mailbox)
    };
    // Whose rights open the mailbox: the user's, unless the spool directory is writable
    // only by root (root's) or by a group (the user with that group).
    let (spool_uid, spool_gid) = match spool_dir.as_ref().and_then(|d| std::fs::metadata(d).ok()) {
        Some(st) if st.permissions().mode() & 0o002 == 0 => {
            if st.permissions().mode() & 0o020 != 0 {
                (usr_attr.uid, st.gid())
            } else {
                (0, 0)
            }
        }
        _ => (usr_attr.uid, usr_attr.gid),
    };
    let chown = (spool_uid != usr_attr.uid).then_some((usr_attr.uid, usr_attr.gid));
    if log::verbose() > 0 {
        log::msg_info!(
            "spool_uid/gid {spool_uid}/{spool_gid} chown_uid/gid {}/{}",
            chown.map_or(-1, |c| c.0 as i64),
            chown.map_or(-1, |c| c.1 as i64)
        );
    }
    let mut copy_flags = mail_copy::MAIL_COPY_MBOX;
    if settings.deliver_hdr_mask & deliver_hdr::FILE == 0 {
        copy_flags &= !mail_copy::MAIL_COPY_DELIVERED;
    }
    let mut copied = not_copied();
    let mut end = 0;
    set_eugid(spool_uid, spool_gid);
    let opened = mbox_open(
        &mailbox,
        0o600,
        chown,
        settings.lock_mask,
        &settings.lock_conf,
        "5.2.0",
    );
    match opened {
        Err(why) => state.msg_attr.why = Dsn::from(&why),
        Ok(mut mp) => {
            let switch = spool_uid != usr_attr.uid || spool_gid != usr_attr.gid;
            if switch {
                set_eugid(usr_attr.uid, usr_attr.gid);
            }
            if !mp.st.is_file() {
                state.simple(
                    "5.2.0",
                    format!("destination {mailbox} is not a regular file"),
                );
            } else if settings.strict_mbox_owner && mp.st.uid() != usr_attr.uid {
                state.simple(
                    "4.2.0",
                    format!("destination {mailbox} is not owned by recipient"),
                );
                log::msg_warn!(
                    "specify \"strict_mailbox_ownership = no\" to ignore mailbox ownership mismatch"
                );
            } else {
                let file = mp.take_file();
                end = file.metadata().map_or(0, |m| m.len());
                copied = copy_to(local, &state, file, copy_flags);
            }
            if switch {
                set_eugid(spool_uid, spool_gid);
            }
            // The kernel locks went with the file; the dot-lock goes now (mbox_release).
            drop(mp);
        }
    }
    set_eugid(settings.owner.0, settings.owner.1);
    let failed = format!(
        "cannot update mailbox {mailbox} for user {}. ",
        state.msg_attr.user
    );
    if settings.biff && matches!(copied, Copied::Ok) {
        let logname = &state.msg_attr.user;
        biff_notify(&format!(
            "{}@{end}",
            usr_attr.logname.as_deref().unwrap_or(logname)
        ));
    }
    let done = "delivered to mailbox".to_string();
    finish_copy(local, state, copied, &failed, done, |local, state| {
        local.defer_or_bounce(&state)
    })
}

/// Copies the message into an open file, which it closes (the caller's `mail_copy`
/// with its COPY_ATTR).
pub fn copy_to(local: &Local, state: &State, file: std::fs::File, flags: u32) -> Copied {
    let request = local.request;
    mail_copy::mail_copy(
        &copy_args(local, state, flags),
        request.file(),
        &request.path,
        request.data_offset as u64,
        Dest::File(file),
    )
}

/// What mail_copy adds for this delivery (Postfix's `COPY_ATTR`): the envelope sender,
/// the original recipient and the Delivered-To: address.
pub fn copy_args<'a>(local: &Local, state: &'a State, flags: u32) -> CopyArgs<'a> {
    let a = &state.msg_attr;
    CopyArgs {
        sender: &a.sender,
        orig_rcpt: &a.rcpt.orig_addr,
        delivered: a.delivered.as_deref().unwrap_or(&a.rcpt.address),
        flags,
        eol: "\n",
        enable_orcpt: local.settings.enable_orcpt,
        owner: local.settings.owner,
    }
}

/// Changes the effective ids (`set_eugid`), fatal on failure as in Postfix.
pub fn set_eugid(uid: u32, gid: u32) {
    if sys::getuid() != 0 {
        return;
    }
    if let Err(e) = sys::user::set_eugid(uid, gid) {
        log::msg_fatal!("{e}");
    }
}

/// Nothing was written yet (`MAIL_COPY_STAT_WRITE`): the reason is in the state.
pub fn not_copied() -> Copied {
    Copied::Failed {
        broken_pipe: false,
        why: global::pipe_command::Why::default(),
    }
}

/// The status of a copy to a file: a corrupt queue file leaves the recipient for the
/// queue manager; a failure gets `failed` in front of its reason and goes to
/// `on_failure`; success is reported with `done`.
pub fn finish_copy(
    local: &mut Local,
    mut state: State,
    copied: Copied,
    failed: &str,
    done: String,
    on_failure: impl FnOnce(&mut Local, State) -> i32,
) -> i32 {
    match copied {
        Copied::Corrupt => -1,
        Copied::Failed { why, .. } => {
            if !why.status.is_empty() {
                state.msg_attr.why = Dsn::from(&why);
            }
            let why = &mut state.msg_attr.why;
            why.reason = format!("{failed}{}", why.reason);
            on_failure(local, state)
        }
        Copied::Ok => {
            state.simple("2.0.0", done);
            local.sent(&state)
        }
    }
}

/// Tells the biff service (comsat) on this host that `user@offset` has new mail
/// (`biff_notify`): one datagram, with its terminating null byte, to the biff/udp port.
/// Nobody may be listening; that is no error.
fn biff_notify(text: &str) {
    let port = biff_port().unwrap_or(512);
    let Ok(socket) = std::net::UdpSocket::bind(("127.0.0.1", 0)) else {
        return;
    };
    let mut datagram = text.as_bytes().to_vec();
    datagram.push(0);
    let _ = socket.send_to(&datagram, ("127.0.0.1", port));
}

/// The biff/udp port from /etc/services (`getservbyname("biff", "udp")`).
fn biff_port() -> Option<u16> {
    let services = std::fs::read_to_string("/etc/services").ok()?;
    services.lines().find_map(|line| {
        let mut fields = line.split('#').next()?.split_whitespace();
        let name = fields.next()?;
        let (port, proto) = fields.next()?.split_once('/')?;
        let aliases: Vec<&str> = fields.collect();
        ((name == "biff" || aliases.contains(&"biff")) && proto == "udp")
            .then(|| port.parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn biff_is_a_udp_service() {
        if std::path::Path::new("/etc/services").exists() {
            assert_eq!(super::biff_port(), Some(512));
        }
        // Nobody listens: no error either way.
        super::biff_notify("nobody@0");
    }
}
