//! Edits of a queue file in place: a record killed, the delay warning marked sent.
//!
//! Postfix counterparts: `qmgr_message_kill_record()` and `qmgr_message_update_warn()`
//! in `qmgr/qmgr_message.c`. Both overwrite bytes of a file in active/ without changing
//! its length (the type byte of a record; a fixed-width `W` record), and sync them, so
//! that a report or warning already sent is not sent again after a crash.

use global::mail_queue::{ACTIVE, Layout};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};

/// Overwrites bytes of a queue file in place and syncs them.
fn write_at(path: &str, offset: i64, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::options().write(true).open(path)?;
    file.seek(SeekFrom::Start(offset.max(0) as u64))?;
    file.write_all(bytes)?;
    file.sync_data()
}

/// Marks the delay warning of `id` sent: the `W` record at `offset` says -1, in the
/// same fixed width (`qmgr_message_update_warn`).
pub fn update_warn(layout: &Layout, id: &str, offset: i64) {
    let mut record = Vec::new();
    let written = global::record::rec_put(
        &mut record,
        global::record::rec_type::WARN,
        format!("{:>15}", -1).as_bytes(),
    );
    let path = layout.path(ACTIVE, id);
    if let Err(e) = written.and_then(|()| write_at(&path, offset, &record)) {
        log::msg_fatal!("update queue file {path}: {}", sys::os_error(&e));
    }
}

/// Turns the record at `offset` of `id` into a killed one: the type byte becomes `K`
/// (`qmgr_message_kill_record`).
pub fn kill_record(layout: &Layout, id: &str, offset: i64) {
    let path = layout.path(ACTIVE, id);
    if let Err(e) = write_at(&path, offset, &[global::record::rec_type::KILL]) {
        log::msg_fatal!("qmgr_message_kill_record: {path}: {}", sys::os_error(&e));
    }
}
