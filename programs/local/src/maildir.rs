//! Maildir delivery: the message is written to `tmp/` under a unique name, then linked
//! into `new/`; missing maildir directories are made.
//!
//! Postfix counterpart: `local/maildir.c` (`deliver_maildir`). The names are Postfix's:
//! `tmp/<seconds>.P<pid>.<hostname>` while writing, `new/<seconds>.V<dev>I<inode>M<usec>.
//! <hostname>` when done. Everything happens with the recipient's rights.

use crate::Local;
use crate::mailbox::{copy_to, finish_copy, not_copied, set_eugid};
use crate::settings::deliver_hdr;
use crate::state::{State, UserAttr};
use global::mail_copy::{self, mbox_dsn};
use global::pipe_command::Copied;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};

/// Delivers to the maildir at `path` (which ends in `/`).
pub fn deliver_maildir(local: &mut Local, mut state: State, usr_attr: UserAttr, path: &str) -> i32 {
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
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
    let (newdir, tmpdir, curdir) = (
        format!("{path}new/"),
        format!("{path}tmp/"),
        format!("{path}cur/"),
    );
    let hostname = sys::hostname().unwrap_or_else(|_| settings.myhostname.clone());
    let secs = start.as_secs();
    let tmpfile = format!("{tmpdir}{secs}.P{}.{hostname}", std::process::id());
    set_eugid(usr_attr.uid, usr_attr.gid);
    let create = || {
        std::fs::File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmpfile)
    };
    let mut copied = not_copied();
    let mut errno = 0;
    let opened = create().or_else(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            make_dirs(&tmpdir).and_then(|()| create())
        } else {
            Err(e)
        }
    });
    match opened {
        Err(e) => {
            errno = e.raw_os_error().unwrap_or(0);
            state.simple(
                mbox_dsn(errno, "5.2.0"),
                format!("create maildir file {tmpfile}: {}", sys::os_error(&e)),
            );
        }
        Ok(file) => {
            let meta = match file.metadata() {
                Ok(meta) => meta,
                Err(e) => log::msg_fatal!("fstat {tmpfile}: {}", sys::os_error(&e)),
            };
            let newfile = format!(
                "{newdir}{secs}.V{:x}I{:x}M{}.{hostname}",
                meta.dev(),
                meta.ino(),
                start.subsec_micros()
            );
            copied = copy_to(local, &state, &file, copy_flags, &tmpfile);
            drop(file);
            if matches!(copied, Copied::Ok) {
                let linked = std::fs::hard_link(&tmpfile, &newfile).or_else(|e| {
                    if e.kind() == std::io::ErrorKind::NotFound {
                        let _ = make_dirs(&curdir);
                        make_dirs(&newdir).and_then(|()| std::fs::hard_link(&tmpfile, &newfile))
                    } else {
                        Err(e)
                    }
                });
                if let Err(e) = linked {
                    errno = e.raw_os_error().unwrap_or(0);
                    state.simple(
                        mbox_dsn(errno, "5.2.0"),
                        format!("create maildir file {newfile}: {}", sys::os_error(&e)),
                    );
                    copied = not_copied();
                }
            }
            if let Err(e) = std::fs::remove_file(&tmpfile) {
                log::msg_warn!("remove {tmpfile}: {}", sys::os_error(&e));
            }
        }
    }
    set_eugid(settings.owner.0, settings.owner.1);
    if let Copied::Failed { why, .. } = &copied
        && errno == sys::libc::EACCES
    {
        let reason = if why.status.is_empty() {
            &state.msg_attr.why.reason
        } else {
            &why.reason
        };
        log::msg_warn!(
            "maildir access problem for UID/GID={}/{}: {reason}",
            usr_attr.uid,
            usr_attr.gid
        );
        log::msg_warn!("perhaps you need to create the maildirs in advance");
    }
    let done = "delivered to maildir".to_string();
    finish_copy(
        local,
        state,
        copied,
        "maildir delivery failed: ",
        done,
        |local, state| local.defer_or_bounce(&state),
    )
}

/// Makes a directory and its parents, mode 0700 (`make_dirs`).
fn make_dirs(path: &str) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}
