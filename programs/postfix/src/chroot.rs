//! `postfix prepare-chroot`: give chrooted daemons the system files they read.
//!
//! Postfix counterpart: none in Postfix itself; Debian's `configure-instance.sh` and
//! Postfix's `examples/chroot-setup/LINUX2` do this. A daemon in the jail resolves names,
//! looks up services and formats local time from files under the queue directory, so
//! without these copies a chrooted service fails in ways that are hard to see (DEBUG_README,
//! "Don't use chroot"). `postfix check` warns when a copy differs from the original.

use std::path::Path;

/// Files copied from / into the jail when they exist.
const FILES: [&str; 7] = [
    "etc/localtime",
    "etc/services",
    "etc/resolv.conf",
    "etc/hosts",
    "etc/host.conf",
    "etc/nsswitch.conf",
    "etc/nss_mdns.config",
];

/// Library name prefixes the C library loads at run time for name service.
const LIBRARIES: [&str; 3] = ["libgcc_s", "libnss", "libresolv"];

fn copy(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(to);
    std::fs::copy(from, to)?;
    Ok(())
}

/// Copies the files into `queue`; returns the exit status.
pub fn prepare(queue: &Path) -> i32 {
    let mut copied = 0;
    let mut failures = Vec::new();
    for file in FILES {
        let source = Path::new("/").join(file);
        if source.is_file() {
            match copy(&source, &queue.join(file)) {
                Ok(()) => copied += 1,
                Err(e) => failures.push(format!("{}: {e}", queue.join(file).display())),
            }
        }
    }
    let zoneinfo = queue.join("usr/lib/zoneinfo");
    let _ = std::fs::create_dir_all(&zoneinfo);
    let _ = std::fs::remove_file(zoneinfo.join("localtime"));
    let _ = std::os::unix::fs::symlink("/etc/localtime", zoneinfo.join("localtime"));
    let mut lib_dirs = vec![Path::new("/lib").to_path_buf()];
    if let Ok(entries) = std::fs::read_dir("/lib") {
        lib_dirs.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    }
    for dir in lib_dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if LIBRARIES.iter().any(|l| name.starts_with(l)) && name.contains(".so") {
                let source = entry.path();
                let Ok(relative) = source.strip_prefix("/") else {
                    continue;
                };
                match copy(&source, &queue.join(relative)) {
                    Ok(()) => copied += 1,
                    Err(e) => failures.push(format!("{}: {e}", queue.join(relative).display())),
                }
            }
        }
    }
    for device in ["dev/random", "dev/urandom"] {
        let source = Path::new("/").join(device);
        let target = queue.join(device);
        if let Ok(meta) = std::fs::metadata(&source) {
            let _ = std::fs::create_dir_all(queue.join("dev"));
            let _ = std::fs::remove_file(&target);
            let rdev = std::os::unix::fs::MetadataExt::rdev(&meta);
            if sys::nix::sys::stat::mknod(
                &target,
                sys::nix::sys::stat::SFlag::S_IFCHR,
                sys::nix::sys::stat::Mode::from_bits_truncate(0o666),
                rdev,
            )
            .is_err()
            {
                failures.push(format!("{}: cannot create device", target.display()));
            }
        }
    }
    for failure in &failures {
        log::write(log::Severity::Warning, failure);
    }
    log::write(
        log::Severity::Info,
        &format!(
            "prepared the chroot jail in {}: {copied} files",
            queue.display()
        ),
    );
    if failures.is_empty() { 0 } else { 1 }
}
