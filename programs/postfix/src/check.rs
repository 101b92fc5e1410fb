//! `postfix check`: what must be right before the mail system starts, and what looks wrong.
//!
//! Postfix counterpart: the `check-fatal` and `check-warn` parts of `postfix-script`.
//! Fatal: missing directories that cannot be created, a missing master.cf, unknown programs
//! in master.cf, `maillog_file` without a postlog service. Warnings, in Postfix's words:
//! ownership and modes of the queue, configuration and data directories, and chroot files
//! that differ from the system's (`.../etc/resolv.conf and /etc/resolv.conf differ`), which
//! is how a stale jail shows up (DEBUG_README, "Don't use chroot").

use crate::layout::{self, Ids, Owner};
use params::Config;
use params::master_cf::MasterCf;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The parts of the system a check looks at.
pub struct Paths {
    /// The configuration directory.
    pub config: PathBuf,
    /// The queue directory.
    pub queue: PathBuf,
    /// The data directory.
    pub data: PathBuf,
    /// The daemon directory.
    pub daemons: PathBuf,
    /// The mail owner's name.
    pub mail_owner: String,
    /// The set-gid group's name.
    pub setgid_group: String,
}

/// `check-fatal`: creates missing directories and checks what would stop the system.
/// The error is the fatal text.
pub fn fatal_checks(config: &Config, paths: &Paths, ids: &Ids) -> Result<(), String> {
    layout::create(&paths.queue, &paths.data, ids, false)
        .map_err(|e| format!("unable to create missing queue directories: {e}"))?;
    let master_path = paths.config.join("master.cf");
    if !master_path.is_file() {
        return Err(format!("no {} file found", master_path.display()));
    }
    let master = MasterCf::read(&master_path)?;
    let maillog_file = config
        .str(&params::decl::logging::MAILLOG_FILE)
        .map_err(|e| e.message)?;
    let has_postlog = master
        .entries
        .iter()
        .any(|e| e.service() == "postlog" && e.kind() == "unix-dgram");
    if !maillog_file.is_empty() && !has_postlog {
        return Err(
            "missing 'postlog' service in master.cf - run 'postfix upgrade-configuration'"
                .to_string(),
        );
    }
    queue_access(paths, ids)
}

/// The queues postsuper's structure check scans, in its order (postsuper/postsuper.c).
const SCANNED_QUEUES: [&str; 8] = [
    "defer", "bounce", "maildrop", "incoming", "active", "deferred", "hold", "flush",
];

/// The queue integrity check that Postfix's postfix-script has postsuper do at start-up:
/// as mail_owner, every queue directory and its hashed subdirectories must open. A queue
/// the daemons cannot read (a restore that left it owned by root) stops the start instead
/// of leaving mail to hang. The error is postsuper's text. (ironpost's postsuper will take
/// this over.)
pub fn queue_access(paths: &Paths, ids: &Ids) -> Result<(), String> {
    let (uid, gid) = ids.owner;
    let scan = || {
        SCANNED_QUEUES
            .iter()
            .try_for_each(|queue| scan_dir(&paths.queue, Path::new(queue)))
    };
    sys::user::as_effective(uid, gid, scan).unwrap_or_else(|e| log::msg_fatal!("{e}"))
}

/// Opens `dir` (relative to `queue`) and every directory below it, as postsuper's
/// `scan_dir_push` does.
fn scan_dir(queue: &Path, dir: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(queue.join(dir)).map_err(|e| {
        format!(
            "scan_dir_push: open directory {}: {}",
            dir.display(),
            sys::os_error(&e)
        )
    })?;
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            scan_dir(queue, &dir.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// master.cf services whose program is not in the daemon directory: they would fail at
/// start-up and be throttled.
pub fn program_warnings(paths: &Paths) -> Vec<String> {
    let master_path = paths.config.join("master.cf");
    let Ok(master) = MasterCf::read(&master_path) else {
        return Vec::new();
    };
    master
        .entries
        .iter()
        .filter_map(|entry| {
            let command = entry.argv.first().map_or("", String::as_str);
            let program = paths.daemons.join(command);
            (!is_executable(&program)).then(|| {
                format!(
                    "{}: line {}: service {}/{}: program {} is not an executable file",
                    master_path.display(),
                    entry.line,
                    entry.service(),
                    entry.kind(),
                    program.display()
                )
            })
        })
        .collect()
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
}

/// `check-warn`: warnings about ownership, modes and the chroot jail.
pub fn warnings(paths: &Paths, ids: &Ids) -> Vec<String> {
    let mut out = Vec::new();
    let show = |p: &Path| p.display().to_string();
    for dir in [paths.queue.join("."), paths.queue.join("pid")] {
        if let Ok(m) = std::fs::metadata(&dir) {
            if m.uid() != 0 {
                out.push(format!("not owned by root: {}", show(&dir)));
            }
            if m.mode() & 0o022 != 0 {
                out.push(format!("group or other writable: {}", show(&dir)));
            }
        }
    }
    for path in walk(&paths.config.join(".")) {
        if let Ok(m) = std::fs::symlink_metadata(&path) {
            if m.uid() != 0 {
                out.push(format!("not owned by root: {}", show(&path)));
            }
            if !m.file_type().is_symlink() && m.mode() & 0o022 != 0 {
                out.push(format!("group or other writable: {}", show(&path)));
            }
        }
    }
    for path in walk(&paths.data.join(".")) {
        if layout::owner_of(&path).is_some_and(|uid| uid != ids.owner.0) {
            out.push(format!(
                "not owned by {}: {}",
                paths.mail_owner,
                show(&path)
            ));
        }
    }
    for d in layout::QUEUE
        .iter()
        .filter(|d| d.owner == Owner::MailOwner && d.path != "maildrop")
    {
        for path in walk(&paths.queue.join(d.path)) {
            let Ok(m) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let special = m.file_type().is_socket() || m.file_type().is_fifo();
            if !special && m.uid() != ids.owner.0 {
                out.push(format!(
                    "not owned by {}: {}",
                    paths.mail_owner,
                    show(&path)
                ));
            }
        }
    }
    let maildrop = paths.queue.join("maildrop");
    if layout::owner_of(&maildrop).is_some_and(|uid| uid != ids.owner.0) {
        out.push(format!(
            "not owned by {}: {}",
            paths.mail_owner,
            show(&maildrop)
        ));
    }
    for dir in [paths.queue.join("public"), maildrop] {
        if std::fs::metadata(&dir).is_ok_and(|m| m.gid() != ids.setgid_gid) {
            out.push(format!(
                "not owned by group {}: {}",
                paths.setgid_group,
                show(&dir)
            ));
        }
    }
    out.extend(program_warnings(paths));
    out.extend(chroot_service_warnings(paths));
    out.extend(jail_warnings(&paths.queue));
    for path in walk(&paths.queue.join("corrupt")) {
        if path.is_file() {
            out.push(format!("damaged message: {}", show(&path)));
        }
    }
    out
}

/// Chrooted services whose jail lacks the files daemons read: ironpost's pointer at the
/// cause of "unknown" client names and failing lookups (DEBUG_README, chroot).
pub fn chroot_service_warnings(paths: &Paths) -> Vec<String> {
    let Ok(master) = MasterCf::read(&paths.config.join("master.cf")) else {
        return Vec::new();
    };
    let needed = [
        "etc/hosts",
        "etc/resolv.conf",
        "etc/services",
        "etc/nsswitch.conf",
        "etc/localtime",
    ];
    let missing: Vec<&str> = needed
        .into_iter()
        .filter(|f| Path::new("/").join(f).exists() && !paths.queue.join(f).exists())
        .collect();
    if missing.is_empty() {
        return Vec::new();
    }
    master
        .entries
        .iter()
        .filter(|e| e.fields[4] == "y")
        .map(|e| {
            format!(
                "service {}/{} runs chrooted in {} but {} is missing there: run \"postfix prepare-chroot\", or set its chroot column to n and run \"postfix reload\"",
                e.service(),
                e.kind(),
                paths.queue.display(),
                missing.join(", ")
            )
        })
        .collect()
}

/// Files of the chroot jail that are not root's or differ from the system's copies.
pub fn jail_warnings(queue: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for top in ["bin", "etc", "lib", "sbin", "usr"] {
        let base = queue.join(top);
        if !base.is_dir() {
            continue;
        }
        for path in walk(&base) {
            let Ok(relative) = path.strip_prefix(queue) else {
                continue;
            };
            if layout::owner_of(&path).is_some_and(|uid| uid != 0) {
                out.push(format!(
                    "not owned by root: {}",
                    queue.join(relative).display()
                ));
            }
            let system = Path::new("/").join(relative);
            if path.is_file()
                && system.is_file()
                && std::fs::read(&path).ok() != std::fs::read(&system).ok()
            {
                out.push(format!(
                    "{} and {} differ",
                    queue.join(relative).display(),
                    system.display()
                ));
            }
        }
    }
    out
}

/// Every path under `root`, root first, in name order.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.to_path_buf()];
    let Ok(meta) = std::fs::symlink_metadata(root) else {
        return Vec::new();
    };
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(root)
            .map(|it| it.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        for entry in entries {
            out.extend(walk(&entry));
        }
    }
    out
}

use std::os::unix::fs::FileTypeExt;
