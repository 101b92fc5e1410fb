//! Opening a file that someone else may control, without being fooled by links.
//!
//! Postfix counterpart: `util/safe_open.c` (the "existing file" case). The file is opened
//! without following a final symbolic link and without blocking on a FIFO, and must be a
//! single-link non-directory whose status is the same by name and by descriptor, so that
//! nobody swapped it between the directory scan (or the `stat` of a trigger FIFO) and the
//! open. pickup reads maildrop files this way, and the FIFO trigger writes this way.

use std::fs::File;
use std::io::{self, ErrorKind};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// How the file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// For reading (pickup's maildrop files).
    Read,
    /// For writing (a trigger FIFO).
    Write,
}

/// Why a file was not opened.
#[derive(Debug)]
pub struct Refused {
    /// Postfix's text (`cannot open file: No such file or directory`, `file has 2 hard
    /// links`).
    pub why: String,
    /// The error behind it: the system's when the open failed (for `%m` and its kind),
    /// else one of the kind Postfix's errno would have, whose text is `why` without the
    /// "cannot open file" framing.
    pub error: io::Error,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.why)
    }
}

impl std::error::Error for Refused {}

impl From<Refused> for io::Error {
    fn from(refused: Refused) -> io::Error {
        refused.error
    }
}

/// Opens an existing file, refusing links and files swapped under us.
pub fn open_existing(path: &Path, access: Access) -> Result<File, Refused> {
    let refused = |why: String, kind: ErrorKind| {
        Err(Refused {
            error: io::Error::new(kind, why.clone()),
            why,
        })
    };
    let file = match File::options()
        .read(access == Access::Read)
        .write(access == Access::Write)
        .custom_flags(sys::libc::O_NONBLOCK | sys::libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(file) => file,
        Err(error) => {
            return Err(Refused {
                why: format!("cannot open file: {}", sys::os_error(&error)),
                error,
            });
        }
    };
    let by_fd = match file.metadata() {
        Ok(meta) => meta,
        Err(e) => log::msg_fatal!("{}: bad open file status: {e}", path.display()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_files_open_and_others_are_refused_with_postfix_text() {
        let dir = crate::scratch_dir("safe-open");
        let plain = dir.join("plain");
        std::fs::write(&plain, "x").unwrap();
        assert!(open_existing(&plain, Access::Read).is_ok());

        let missing = open_existing(&dir.join("missing"), Access::Read).unwrap_err();
        assert_eq!(missing.why, "cannot open file: No such file or directory");
        assert_eq!(missing.error.kind(), ErrorKind::NotFound);

        std::fs::hard_link(&plain, dir.join("second")).unwrap();
        let linked = open_existing(&plain, Access::Read).unwrap_err();
        assert_eq!(linked.why, "file has 2 hard links");
        assert_eq!(linked.error.kind(), ErrorKind::PermissionDenied);
        assert_eq!(sys::os_error(&linked.error), "file has 2 hard links");

        std::os::unix::fs::symlink(dir.join("second"), dir.join("link")).unwrap();
        let link = open_existing(&dir.join("link"), Access::Write).unwrap_err();
        assert!(link.why.starts_with("cannot open file: "), "{}", link.why);

        // A directory has several links on most file systems, so that check answers first.
        assert!(open_existing(&dir, Access::Read).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
