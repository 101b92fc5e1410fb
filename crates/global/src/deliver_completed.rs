//! Marking a recipient done in the queue file.
//!
//! Postfix counterpart: `global/deliver_completed.c`. The recipient's record type
//! byte, at the offset the queue manager sent, becomes `REC_TYPE_DONE` in place: the
//! queue manager skips done recipients when it reads the file again, and removes the
//! file when none is left. Offset -1 means "no record" (a recipient the agent made up);
//! an offset that cannot be a record's is a bug. A failed update is fatal, so that the
//! master restarts the agent and the queue manager retries, rather than deliver twice.

use crate::record::rec_type;
use std::fs::File;
use std::os::unix::fs::FileExt;

/// Marks the recipient at `offset` of queue file `fp` (at `path`) done.
pub fn deliver_completed(fp: &File, path: &str, offset: i64) {
    if offset == -1 {
        return;
    }
    if offset <= 0 {
        log::msg_panic!("deliver_completed: bad offset {offset}");
    }
    if let Err(e) = fp.write_all_at(&[rec_type::DONE], offset as u64) {
        log::msg_fatal!("update queue file {path}: {}", sys::os_error(&e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_type_becomes_done() {
        let dir = crate::scratch_dir("deliver-completed");
        let path = dir.join("qf");
        std::fs::write(&path, b"C....R\x03a@bR\x03c@dE\0").unwrap();
        let fp = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        deliver_completed(&fp, "qf", 10);
        deliver_completed(&fp, "qf", -1);
        assert_eq!(std::fs::read(&path).unwrap(), b"C....R\x03a@bD\x03c@dE\0");
    }
}
