//! Opening a file that someone else may control, without being fooled by links.
//!
//! Postfix counterpart: `util/safe_open.c` (the "existing file" case). The file is opened
//! without following a final symbolic link and without blocking on a FIFO, and must be a
//! single-link non-directory whose status is the same by name and by descriptor, so that
//! nobody swapped it between the directory scan and the open.

use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};

/// Why a file was not opened: Postfix's text, and the kind of error behind it.
pub struct Refused {
    /// The text (`cannot open file: No such file or directory`, `file has 2 hard links`).
    pub why: String,
    /// The error kind (NotFound and PermissionDenied matter to the caller).
    pub kind: ErrorKind,
}

/// Opens an existing file for reading.
pub fn open_existing(path: &str) -> Result<File, Refused> {
    let refused = |why: String, kind: ErrorKind| Err(Refused { why, kind });
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(file) => file,
        Err(e) => {
            return refused(format!("cannot open file: {}", sys::os_error(&e)), e.kind());
        }
    };
    let by_fd = match file.metadata() {
        Ok(meta) => meta,
        Err(e) => log::msg_fatal!("{path}: bad open file status: {e}"),
    };
    if by_fd.nlink() != 1 {
        return refused(
            format!("file has {} hard links", by_fd.nlink()),
            ErrorKind::PermissionDenied,
        );
    }
    if by_fd.is_dir() {
        return refused("file is a directory".into(), ErrorKind::Other);
    }
    let by_name = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) => {
            return refused(
                format!("file status changed unexpectedly: {}", sys::os_error(&e)),
                ErrorKind::PermissionDenied,
            );
        }
    };
    if by_name.file_type().is_symlink() {
        return refused(
            "file is a symbolic link".into(),
            ErrorKind::PermissionDenied,
        );
    }
    if by_fd.dev() != by_name.dev()
        || by_fd.ino() != by_name.ino()
        || by_fd.nlink() != by_name.nlink()
        || by_fd.mode() != by_name.mode()
    {
        return refused(
            "file status changed unexpectedly".into(),
            ErrorKind::PermissionDenied,
        );
    }
    Ok(file)
}
