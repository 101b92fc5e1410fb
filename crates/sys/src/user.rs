//! Accounts and privileges: user lookup, chroot and privilege drop.
//!
//! Postfix counterpart: `util/chroot_uid.c` and `util/set_ugid.c`. The order is Postfix's:
//! look the user up while the password file is still visible, change groups, enter the
//! jail, then give up root. The error texts are Postfix's.

use nix::unistd::{Gid, Group, Uid, User};
use std::ffi::CString;
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

/// Optionally enters `root` and becomes `user`, as Postfix's `chroot_uid()`. The error is
/// the fatal text.
pub fn chroot_uid(root: Option<&Path>, user: Option<&str>) -> Result<(), String> {
    let account = match user {
        Some(name) => Some(by_name(name).ok_or_else(|| format!("unknown user: {name}"))?),
        None => None,
    };
    if let Some(a) = &account {
        nix::unistd::setgid(Gid::from_raw(a.gid))
            .map_err(|e| format!("setgid({}): {}", a.gid, e.desc()))?;
        let name = CString::new(a.name.clone()).map_err(|_| "bad user name".to_string())?;
        nix::unistd::initgroups(&name, Gid::from_raw(a.gid))
            .map_err(|e| format!("initgroups: {}", e.desc()))?;
    }
    if let Some(root) = root {
        nix::unistd::chroot(root)
            .map_err(|e| format!("chroot({}): {}", root.display(), e.desc()))?;
        nix::unistd::chdir("/").map_err(|e| format!("chdir(/): {}", e.desc()))?;
    }
    if let Some(a) = &account {
        nix::unistd::setuid(Uid::from_raw(a.uid))
            .map_err(|e| format!("setuid({}): {}", a.uid, e.desc()))?;
    }
    Ok(())
}

/// Becomes `uid`/`gid` for good, with `gid` as the only supplementary group (Postfix's
/// `set_ugid()`; it works inside a jail, where the group file is out of reach). The error
/// is the fatal text.
pub fn set_ugid(uid: u32, gid: u32) -> Result<(), String> {
    nix::unistd::setgid(Gid::from_raw(gid)).map_err(|e| format!("setgid({gid}): {}", e.desc()))?;
    if Uid::effective().is_root() {
        nix::unistd::setgroups(&[Gid::from_raw(gid)])
            .map_err(|e| format!("setgroups(1, &{gid}): {}", e.desc()))?;
    }
    nix::unistd::setuid(Uid::from_raw(uid)).map_err(|e| format!("setuid({uid}): {}", e.desc()))
}

/// Runs `f` with the effective user and group set to `uid`/`gid`, then returns to root.
/// Postfix's `set_eugid()`/`set_ugid()` pair: files and sockets made inside belong to the
/// mail owner. Without root it just runs `f`.
pub fn as_effective<T>(uid: u32, gid: u32, f: impl FnOnce() -> T) -> T {
    if !Uid::effective().is_root() {
        return f();
    }
    let _ = nix::unistd::setegid(Gid::from_raw(gid));
    let _ = nix::unistd::seteuid(Uid::from_raw(uid));
    let out = f();
    let _ = nix::unistd::seteuid(Uid::from_raw(0));
    let _ = nix::unistd::setegid(Gid::from_raw(0));
    out
}
