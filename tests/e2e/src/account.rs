//! A system account for a test: made with useradd, or, when an earlier run left it, pointed
//! at the test's new home with usermod (useradd refuses an existing name).
//!
//! Postfix counterpart: none (test support). The local delivery agent looks users up in
//! the system's passwd database, so a test of .forward files or home mailboxes needs a
//! real account; it has no password and no shell.

use std::path::Path;
use std::process::Command;

/// Makes account `name` with home directory `home` (not created here); its uid and gid.
pub fn local_user(name: &str, home: &Path) -> (u32, u32) {
    let home_text = home.display().to_string();
    let exists = Command::new("id")
        .arg(name)
        .output()
        .unwrap()
        .status
        .success();
    let made = if exists {
        Command::new("usermod")
            .args(["-d", &home_text, name])
            .status()
    } else {
        Command::new("useradd")
            .args(["-M", "-d", &home_text, "-s", "/usr/sbin/nologin", name])
            .status()
    };
    assert!(made.unwrap().success(), "useradd/usermod {name}");
    let id = |flag: &str| -> u32 {
        let out = Command::new("id").args([flag, name]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    (id("-u"), id("-g"))
}
