//! Writing one message into a maildir, as the recipient.
//!
//! Postfix counterparts: the shared body of `local/maildir.c` and `virtual/maildir.c`
//! (`deliver_maildir`), with `util/make_dirs.c`. The message is written as the
//! recipient (so that quotas apply) to `tmp/SECONDS.PPID.HOST`, then linked to
//! `new/SECONDS.VDEVIINODEMUSEC.HOST` (device and inode in hexadecimal: unique even
//! when process IDs are reused within a second) and removed from tmp/. Missing tmp/,
//! new/ and cur/ directories are made on the way, mode 0700. The callers decide what
//! the outcome means: local treats a failure as permanent by default, virtual as
//! temporary (the maildir location is the administrator's).

use crate::mail_copy::{CopyArgs, Dest, mail_copy, mbox_dsn};
use crate::msg_stats::Tv;
use crate::pipe_command::{Copied, Why};
use std::fs::File;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};

/// Writes the message to maildir `path` (ending in `/`) as `uid`/`gid` (when this
/// process may change its ids), with the times of `starttime` in the file names;
/// `def_dsn` is the status of a failure that the system error does not decide. A
/// failure's reason starts with "maildir delivery failed: ".
pub fn maildir_write(
    path: &str,
    args: &CopyArgs,
    src: (&File, &str, u64),
    (uid, gid): (u32, u32),
    starttime: Tv,
    def_dsn: &str,
) -> Copied {
    let saved = (sys::geteuid(), sys::getegid());
    let switch = saved != (uid, gid) && (saved.0 == 0 || sys::getuid() == 0);
    if switch && let Err(e) = sys::user::set_eugid(uid, gid) {
        log::msg_fatal!("{e}");
    }
    let (copied, errno) = write_as_user(path, args, src, starttime, def_dsn);
    if switch && let Err(e) = sys::user::set_eugid(saved.0, saved.1) {
        log::msg_fatal!("{e}");
    }
    match copied {
        Copied::Failed { broken_pipe, why } => {
            if errno == sys::libc::EACCES {
                log::msg_warn!(
                    "maildir access problem for UID/GID={uid}/{gid}: {}",
                    why.reason
                );
                log::msg_warn!("perhaps you need to create the maildirs in advance");
            }
            Copied::Failed {
                broken_pipe,
                why: Why {
                    reason: format!("maildir delivery failed: {}", why.reason),
                    ..why
                },
            }
        }
        other => other,
    }
}

/// The work done as the recipient: the outcome and the system error of a failure.
fn write_as_user(
    path: &str,
    args: &CopyArgs,
    (src, src_path, offset): (&File, &str, u64),
    starttime: Tv,
    def_dsn: &str,
) -> (Copied, i32) {
    // Looked up once per process, as Postfix's get_hostname(): a uname() per delivery
    // otherwise.
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let host = HOST.get_or_init(|| sys::hostname().unwrap_or_else(|_| "localhost".to_string()));
    let (tmpdir, newdir, curdir) = (
        format!("{path}tmp/"),
        format!("{path}new/"),
        format!("{path}cur/"),
    );
    let tmpfile = format!("{tmpdir}{}.P{}.{host}", starttime.0, std::process::id());
    let create = || {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmpfile)
    };
    let failure = |e: &io::Error, file: &str| {
        let errno = e.raw_os_error().unwrap_or(0);
        let why = Why::new(
            mbox_dsn(errno, def_dsn),
            "",
            format!("create maildir file {file}: {}", sys::os_error(e)),
        );
        (
            Copied::Failed {
                broken_pipe: false,
                why,
            },
            errno,
        )
    };
    let dst = match create() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => make_dirs(&tmpdir).and_then(|()| create()),
        other => other,
    };
    let dst = match dst {
        Ok(dst) => dst,
        Err(e) => return failure(&e, &tmpfile),
    };
    let meta = match dst.metadata() {
        Ok(meta) => meta,
        Err(e) => log::msg_fatal!("fstat {tmpfile}: {}", sys::os_error(&e)),
    };
    let newfile = format!(
        "{newdir}{}.V{:x}I{:x}M{}.{host}",
        starttime.0,
        meta.dev(),
        meta.ino(),
        starttime.1
    );
    let mut outcome = (mail_copy(args, src, src_path, offset, Dest::File(dst)), 0);
    if let (Copied::Ok, _) = outcome {
        let linked = match std::fs::hard_link(&tmpfile, &newfile) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let _ = make_dirs(&curdir);
                make_dirs(&newdir).and_then(|()| std::fs::hard_link(&tmpfile, &newfile))
            }
            other => other,
        };
        if let Err(e) = linked {
            outcome = failure(&e, &newfile);
        }
    }
    if let Err(e) = std::fs::remove_file(&tmpfile) {
        log::msg_warn!("remove {tmpfile}: {}", sys::os_error(&e));
    }
    outcome
}

/// Makes `dir` and its missing parents, mode 0700 (`make_dirs`).
fn make_dirs(dir: &str) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail_copy::{MAIL_COPY_DELIVERED, MAIL_COPY_RETURN_PATH, MAIL_COPY_TOFILE};
    use crate::record::{rec_put, rec_type};

    fn args() -> CopyArgs<'static> {
        CopyArgs {
            sender: "s@example.com",
            orig_rcpt: "",
            delivered: "u@example.com",
            flags: MAIL_COPY_TOFILE | MAIL_COPY_RETURN_PATH | MAIL_COPY_DELIVERED,
            eol: "\n",
            enable_orcpt: true,
            owner: (sys::geteuid(), sys::getegid()),
        }
    }

    #[test]
    fn a_message_lands_in_new_with_postfix_s_file_name() {
        let dir = crate::scratch_dir("maildir");
        let qf = dir.join("qf");
        let mut data = Vec::new();
        rec_put(&mut data, rec_type::NORM, b"Subject: hi").unwrap();
        rec_put(&mut data, rec_type::XTRA, b"").unwrap();
        std::fs::write(&qf, data).unwrap();
        let src = File::open(&qf).unwrap();
        let maildir = format!("{}/Maildir/", dir.display());
        let ids = (sys::geteuid(), sys::getegid());
        let copied = maildir_write(
            &maildir,
            &args(),
            (&src, "qf", 0),
            ids,
            (1_700_000_000, 42),
            "4.2.0",
        );
        assert!(matches!(copied, Copied::Ok), "{copied:?}");
        let names: Vec<String> = std::fs::read_dir(format!("{maildir}new"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 1);
        let host = sys::hostname().unwrap();
        assert!(names[0].starts_with("1700000000.V"), "{}", names[0]);
        assert!(names[0].ends_with(&format!("M42.{host}")), "{}", names[0]);
        assert!(std::fs::metadata(format!("{maildir}cur")).unwrap().is_dir());
        assert_eq!(
            std::fs::read_dir(format!("{maildir}tmp")).unwrap().count(),
            0
        );
        let text = std::fs::read_to_string(format!("{maildir}new/{}", names[0])).unwrap();
        assert_eq!(
            text,
            "Return-Path: <s@example.com>\nDelivered-To: u@example.com\nSubject: hi\n"
        );
    }

    #[test]
    fn a_maildir_that_cannot_be_made_fails_with_the_default_status() {
        let dir = crate::scratch_dir("maildir-fail");
        std::fs::write(dir.join("file"), "").unwrap();
        let src = File::open(dir.join("file")).unwrap();
        let maildir = format!("{}/file/Maildir/", dir.display());
        let ids = (sys::geteuid(), sys::getegid());
        let copied = maildir_write(&maildir, &args(), (&src, "qf", 0), ids, (1, 2), "5.2.0");
        match copied {
            Copied::Failed { why, .. } => {
                assert_eq!(why.status, "5.2.0");
                assert!(
                    why.reason.starts_with(&format!(
                        "maildir delivery failed: create maildir file {maildir}tmp/1.P"
                    )),
                    "{}",
                    why.reason
                );
                assert!(why.reason.ends_with(": Not a directory"), "{}", why.reason);
            }
            other => panic!("{other:?}"),
        }
    }
}
