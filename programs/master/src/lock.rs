//! The master's lock files: one instance per configuration.
//!
//! Postfix counterpart: the lock handling in `master/master.c`. `$queue_directory/pid/
//! master.pid` holds the master's pid (right-aligned in 32 columns, as Postfix writes it)
//! and is locked for as long as the master lives; `postfix status` and `master -t` test
//! that lock. `$data_directory/master.lock` is the same for the data directory, made as the
//! mail owner.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Opens, locks and fills one lock file; the error is the fatal text.
pub fn take(path: &Path) -> Result<File, String> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .open(path)
        .map_err(|e| format!("open lock file {}: {}", path.display(), sys::os_error(&e)))?;
    file.try_lock().map_err(|_| {
        format!(
            "open lock file {}: unable to set exclusive lock: Resource temporarily unavailable",
            path.display()
        )
    })?;
    let text = format!("{:>32}\n", std::process::id());
    file.set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| file.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot update lock file {}: {e}", path.display()))?;
    Ok(file)
}

/// `master -t`: 0 when no master holds the lock (or there is no lock file), 1 otherwise.
pub fn test(config_dir: &Path) -> i32 {
    let Ok(config) = params::Config::load(config_dir) else {
        return 1;
    };
    let Ok(queue) = config.str(&params::decl::install::QUEUE_DIRECTORY) else {
        return 1;
    };
    let path = Path::new(&queue).join("pid/master.pid");
    let Ok(file) = OpenOptions::new().read(true).write(true).open(&path) else {
        return 0;
    };
    match file.try_lock() {
        Ok(()) => 0,
        Err(_) => 1,
    }
}
