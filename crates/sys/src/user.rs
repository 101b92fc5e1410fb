//! Accounts and privileges: user lookup, chroot and privilege drop.
//!
//! Postfix counterpart: `util/chroot_uid.c`, `util/set_ugid.c` and `util/set_eugid.c`. The
//! order is Postfix's: look the user up while the password file is still visible, change
//! groups, enter the jail, then give up root. Every change is checked: a process that
//! believes it dropped privileges but did not is worse than one that stops, so each
//! function returns the failure with Postfix's text and the caller ends the process with
//! it (`fatal: setuid(1001): Operation not permitted`), as Postfix's `msg_fatal` does.

use nix::unistd::{Gid, Group, Uid, User};
use std::ffi::CString;
use std::fmt;
use std::io;
use std::path::Path;

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The login name.
    pub name: String,
    /// The user id.
    pub uid: u32,
    /// The primary group id.
    pub gid: u32,
    /// The home directory.
    pub home: String,
    /// The comment field (the full name, in its first part).
    pub gecos: String,
}

/// Looks up a user by name.
pub fn by_name(name: &str) -> Option<Account> {
    let user = User::from_name(name).ok().flatten()?;
    Some(Account {
        name: user.name,
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
        home: user.dir.to_string_lossy().into_owned(),
        gecos: user.gecos.to_string_lossy().into_owned(),
    })
}

/// Looks up a user by id.
pub fn by_uid(uid: u32) -> Option<Account> {
    let user = User::from_uid(Uid::from_raw(uid)).ok().flatten()?;
    by_name(&user.name)
}

/// Looks up a group id by name.
pub fn group_id(name: &str) -> Option<u32> {
    Group::from_name(name)
        .ok()
        .flatten()
        .map(|g| g.gid.as_raw())
}

/// Why a privilege change failed.
#[derive(Debug)]
pub enum PrivilegeError {
    /// The account to become does not exist.
    UnknownUser(String),
    /// A system call failed: the call as Postfix's message writes it (`setgid(1001)`,
    /// `set_eugid: seteuid(0)`) and the system's reason.
    Call {
        /// The call, with its arguments.
        call: String,
        /// Why it failed.
        error: io::Error,
    },
}

impl fmt::Display for PrivilegeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrivilegeError::UnknownUser(name) => write!(f, "unknown user: {name}"),
            PrivilegeError::Call { call, error } => {
                write!(f, "{call}: {}", crate::os_error(error))
            }
        }
    }
}

impl std::error::Error for PrivilegeError {}

/// Runs one privilege call; on failure, names it as `call()` does.
fn checked(result: nix::Result<()>, call: impl FnOnce() -> String) -> Result<(), PrivilegeError> {
    result.map_err(|errno| PrivilegeError::Call {
        call: call(),
        error: io::Error::from(errno),
    })
}

/// Makes root the effective user again when it is not (a set-uid root program that gave it
/// up); `prefix` starts the call's name in the error, as in the caller's Postfix message.
fn regain_root(prefix: &str) -> Result<(), PrivilegeError> {
    if Uid::effective().is_root() {
        return Ok(());
    }
    checked(nix::unistd::seteuid(Uid::from_raw(0)), || {
        format!("{prefix}seteuid(0)")
    })
}

/// Makes `gid` the only supplementary group, so that none of root's groups stays.
fn only_group(gid: u32, call: impl FnOnce() -> String) -> Result<(), PrivilegeError> {
    checked(nix::unistd::setgroups(&[Gid::from_raw(gid)]), call)
}

/// Optionally enters `root` and becomes `user`, as Postfix's `chroot_uid()`: the primary
/// group and the user's supplementary groups (initgroups, while the group file is still
/// visible), the jail, then the user id.
pub fn chroot_uid(root: Option<&Path>, user: Option<&str>) -> Result<(), PrivilegeError> {
    let account = match user {
        Some(name) => {
            Some(by_name(name).ok_or_else(|| PrivilegeError::UnknownUser(name.to_string()))?)
        }
        None => None,
    };
    if let Some(a) = &account {
        checked(nix::unistd::setgid(Gid::from_raw(a.gid)), || {
            format!("setgid({})", a.gid)
        })?;
        // A name found in the password file has no NUL byte; should one appear anyway,
        // initgroups fails as it would on a name it cannot find.
        let name = CString::new(a.name.clone())
            .map_err(|_| nix::errno::Errno::EINVAL)
            .and_then(|name| nix::unistd::initgroups(&name, Gid::from_raw(a.gid)));
        checked(name, || "initgroups".to_string())?;
    }
    if let Some(root) = root {
        checked(nix::unistd::chroot(root), || {
            format!("chroot({})", root.display())
        })?;
        checked(nix::unistd::chdir("/"), || "chdir(/)".to_string())?;
    }
    if let Some(a) = &account {
        checked(nix::unistd::setuid(Uid::from_raw(a.uid)), || {
            format!("setuid({})", a.uid)
        })?;
    }
    Ok(())
}

/// The jail and ids a command takes between fork and exec: Postfix's pipe_command child
/// with a root directory (`chroot_uid(root, 0)`, then `set_ugid(uid, gid)`, then the
/// working directory, inside the jail). Everything is made ready before the fork, so that
/// [`ChildJail::enter`] only makes system calls (a forked copy of a threaded process may
/// not allocate).
#[derive(Debug)]
pub struct ChildJail {
    root: CString,
    uid: u32,
    gid: u32,
    cwd: Option<CString>,
}

impl ChildJail {
    /// A jail at `root` for a command run as `uid`/`gid` in `cwd` (a path inside the jail).
    pub fn new(root: &Path, uid: u32, gid: u32, cwd: Option<&Path>) -> io::Result<ChildJail> {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| {
            CString::new(p.as_os_str().as_bytes())
                .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
        };
        Ok(ChildJail {
            root: c(root)?,
            uid,
            gid,
            cwd: cwd.map(c).transpose()?,
        })
    }

    /// Makes `command`'s child enter the jail and become the user for good just before
    /// the exec, after everything `command` itself sets up. A failure makes `spawn()`
    /// fail with its errno, which is all the parent learns.
    pub fn before_exec(self, command: &mut std::process::Command) {
        use std::os::unix::process::CommandExt;
        // SAFETY: enter() makes system calls only, on what new() prepared.
        unsafe {
            command.pre_exec(move || self.enter());
        }
    }

    /// Enters the jail and becomes the user for good; only in a child between fork and
    /// exec (or a process that wants to become the command's).
    pub fn enter(&self) -> io::Result<()> {
        let ok = |rc: libc::c_int| {
            if rc == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        };
        // SAFETY: plain system calls on C strings and a one-element array this struct
        // owns; nothing is allocated.
        unsafe {
            if libc::geteuid() != 0 {
                ok(libc::seteuid(0))?;
            }
            ok(libc::chroot(self.root.as_ptr()))?;
            ok(libc::chdir(c"/".as_ptr()))?;
            ok(libc::setgid(self.gid))?;
            ok(libc::setgroups(1, &self.gid))?;
            ok(libc::setuid(self.uid))?;
            if let Some(cwd) = &self.cwd {
                ok(libc::chdir(cwd.as_ptr()))?;
            }
        }
        Ok(())
    }
}

/// Becomes `uid`/`gid` for good (real, effective and saved ids), with `gid` as the only
/// supplementary group: Postfix's `set_ugid()`. It needs no group file, so it works inside
/// a jail. A process that is not root regains root first, as Postfix's does (a set-uid
/// root program); without it that first step fails.
pub fn set_ugid(uid: u32, gid: u32) -> Result<(), PrivilegeError> {
    regain_root("")?;
    checked(nix::unistd::setgid(Gid::from_raw(gid)), || {
        format!("setgid({gid})")
    })?;
    only_group(gid, || format!("setgroups(1, &{gid})"))?;
    checked(nix::unistd::setuid(Uid::from_raw(uid)), || {
        format!("setuid({uid})")
    })
}

/// Sets the effective user and group ids, with `egid` as the only supplementary group:
/// Postfix's `set_eugid()`. The real and saved ids stay, so root can come back.
pub fn set_eugid(euid: u32, egid: u32) -> Result<(), PrivilegeError> {
    regain_root("set_eugid: ")?;
    checked(nix::unistd::setegid(Gid::from_raw(egid)), || {
        format!("set_eugid: setegid({egid})")
    })?;
    only_group(egid, || format!("set_eugid: setgroups({egid})"))?;
    if euid != 0 {
        checked(nix::unistd::seteuid(Uid::from_raw(euid)), || {
            format!("set_eugid: seteuid({euid})")
        })?;
    }
    Ok(())
}

/// Runs `f` with the effective user and group set to `uid`/`gid`, then restores the ids
/// it had: Postfix's `SAVE_AND_SET_EUGID()` ... `RESTORE_SAVED_EUGID()`. Files and sockets
/// made inside belong to that user. A process that is not root just runs `f` (it could
/// not make them anyone else's). Either change failing is an error; `f`'s result is then
/// lost, and the caller must end the process, as Postfix's fatal `set_eugid()` would.
pub fn as_effective<T>(uid: u32, gid: u32, f: impl FnOnce() -> T) -> Result<T, PrivilegeError> {
    if !Uid::effective().is_root() {
        return Ok(f());
    }
    let saved = (Uid::effective().as_raw(), Gid::effective().as_raw());
    set_eugid(uid, gid)?;
    let out = f();
    set_eugid(saved.0, saved.1)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `check` in a child process (privilege changes must not touch the test
    /// runner) and returns its exit status: 0 when every assertion held, 1 with the
    /// failure on stderr otherwise.
    fn in_child(check: impl FnOnce() -> Result<(), String>) -> i32 {
        // SAFETY: the child only makes system calls, formats a message and _exits; it
        // never returns into the test harness.
        match unsafe { nix::unistd::fork() }.expect("fork") {
            nix::unistd::ForkResult::Child => {
                let status = match check() {
                    Ok(()) => 0,
                    Err(why) => {
                        eprintln!("{why}");
                        1
                    }
                };
                crate::exit_now(status)
            }
            nix::unistd::ForkResult::Parent { child } => {
                match nix::sys::wait::waitpid(child, None).expect("waitpid") {
                    nix::sys::wait::WaitStatus::Exited(_, status) => status,
                    other => panic!("child ended with {other:?}"),
                }
            }
        }
    }

    fn expect<T: PartialEq + fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
        if got == want {
            Ok(())
        } else {
            Err(format!("{what}: got {got:?}, want {want:?}"))
        }
    }

    /// Real, effective and saved ids.
    type Triple = (u32, u32, u32);

    /// The ids and supplementary groups of this process, as the kernel has them.
    struct Ids {
        uids: Triple,
        gids: Triple,
        groups: Vec<u32>,
    }

    fn ids() -> Ids {
        let u = nix::unistd::getresuid().expect("getresuid");
        let g = nix::unistd::getresgid().expect("getresgid");
        let groups = nix::unistd::getgroups().expect("getgroups");
        Ids {
            uids: (u.real.as_raw(), u.effective.as_raw(), u.saved.as_raw()),
            gids: (g.real.as_raw(), g.effective.as_raw(), g.saved.as_raw()),
            groups: groups.iter().map(|g| g.as_raw()).collect(),
        }
    }

    fn nobody() -> Account {
        by_name("nobody").expect("the nobody account")
    }

    /// A child that is not root (root drops to nobody first): every way back up fails,
    /// with Postfix's text.
    fn changes_fail_without_root() -> Result<(), String> {
        let nobody = nobody();
        if Uid::effective().is_root() {
            set_ugid(nobody.uid, nobody.gid).map_err(|e| e.to_string())?;
        }
        let refused = |result: Result<(), PrivilegeError>| match result {
            Ok(()) => "succeeded".to_string(),
            Err(e) => e.to_string(),
        };
        expect(
            "set_eugid",
            refused(set_eugid(0, 0)),
            "set_eugid: seteuid(0): Operation not permitted".into(),
        )?;
        expect(
            "set_ugid",
            refused(set_ugid(0, 0)),
            "seteuid(0): Operation not permitted".into(),
        )?;
        expect(
            "chroot_uid",
            refused(chroot_uid(Some(Path::new("/")), None)),
            "chroot(/): Operation not permitted".into(),
        )?;
        expect(
            "chroot_uid user",
            refused(chroot_uid(None, Some("root"))),
            "setgid(0): Operation not permitted".into(),
        )?;
        expect(
            "as_effective",
            as_effective(0, 0, || 7).map_err(|e| e.to_string()),
            Ok(7),
        )
    }

    #[test]
    fn without_root_privilege_changes_fail() {
        assert_eq!(in_child(changes_fail_without_root), 0);
    }

    #[test]
    fn unknown_users_are_named() {
        let e = chroot_uid(None, Some("no-such-user-here")).unwrap_err();
        assert_eq!(e.to_string(), "unknown user: no-such-user-here");
    }

    /// Runs `check` with the nobody account in a child that is root; without root the
    /// child checks instead that the privilege changes fail, so the test is never empty.
    fn as_root_in_child(check: impl FnOnce(Account) -> Result<(), String>) -> i32 {
        in_child(|| {
            if Uid::effective().is_root() {
                check(nobody())
            } else {
                changes_fail_without_root()
            }
        })
    }

    #[test]
    fn root_drops_to_nobody_and_back() {
        let status = as_root_in_child(|nobody| {
            // As the user for a moment: effective ids and the group list change, the real
            // and saved ids stay root's so that root comes back.
            let inside = as_effective(nobody.uid, nobody.gid, ids).map_err(|e| e.to_string())?;
            expect("effective uids", inside.uids, (0, nobody.uid, 0))?;
            expect("effective gids", inside.gids.1, nobody.gid)?;
            expect("groups inside", inside.groups, vec![nobody.gid])?;
            let back = ids();
            expect("uids after", back.uids, (0, 0, 0))?;
            expect("egid after", back.gids.1, 0)?;
            // For good: nothing of root is left, not even a supplementary group.
            set_ugid(nobody.uid, nobody.gid).map_err(|e| e.to_string())?;
            let dropped = ids();
            expect(
                "uids dropped",
                dropped.uids,
                (nobody.uid, nobody.uid, nobody.uid),
            )?;
            expect(
                "gids dropped",
                dropped.gids,
                (nobody.gid, nobody.gid, nobody.gid),
            )?;
            expect("groups dropped", dropped.groups, vec![nobody.gid])?;
            changes_fail_without_root()
        });
        assert_eq!(status, 0);
    }

    #[test]
    fn chroot_uid_takes_the_users_groups() {
        let status = as_root_in_child(|nobody| {
            chroot_uid(Some(Path::new("/")), Some("nobody")).map_err(|e| e.to_string())?;
            let Ids { uids, gids, groups } = ids();
            expect("uids", uids, (nobody.uid, nobody.uid, nobody.uid))?;
            expect("gids", gids, (nobody.gid, nobody.gid, nobody.gid))?;
            // initgroups: the primary group and the user's groups from the group file,
            // and none of root's.
            expect("primary group listed", groups.contains(&nobody.gid), true)?;
            expect("root's group gone", groups.contains(&0), false)
        });
        assert_eq!(status, 0);
    }

    #[test]
    fn a_child_jail_is_the_root_then_the_user_then_the_directory() {
        let root = std::env::temp_dir().join(format!("sys-child-jail-{}", std::process::id()));
        std::fs::create_dir_all(root.join("work")).unwrap();
        std::fs::write(root.join("marker"), "inside").unwrap();
        let status = in_child(|| {
            let nobody = nobody();
            let jail = ChildJail::new(&root, nobody.uid, nobody.gid, Some(Path::new("/work")))
                .map_err(|e| e.to_string())?;
            if !Uid::effective().is_root() {
                let e = jail.enter().unwrap_err();
                return expect("not root", e.raw_os_error(), Some(libc::EPERM));
            }
            jail.enter().map_err(|e| e.to_string())?;
            let Ids { uids, gids, groups } = ids();
            expect("uids", uids, (nobody.uid, nobody.uid, nobody.uid))?;
            expect("gids", gids, (nobody.gid, nobody.gid, nobody.gid))?;
            expect("groups", groups, vec![nobody.gid])?;
            let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
            expect("directory", cwd, std::path::PathBuf::from("/work"))?;
            let marker = std::fs::read_to_string("/marker").map_err(|e| e.to_string())?;
            expect("the jail's root", marker.as_str(), "inside")
        });
        let _ = std::fs::remove_dir_all(&root);
        assert_eq!(status, 0);
    }
}
