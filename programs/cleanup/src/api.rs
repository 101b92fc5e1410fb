//! A message's queue file from start to commit: open, then finish or remove.
//!
//! Postfix counterpart: `cleanup/cleanup_api.c` (`cleanup_open`, `cleanup_flush`) with
//! the file part of `global/mail_stream.c` (`mail_stream_finish_file`). The commit order
//! is what makes a status 0 mean "safe on disk": the size record is completed, what is
//! buffered is written, the file is marked complete (mode u=rwx, so the queue manager will
//! take it) and fsynced, and only then is the queue manager woken and the status
//! returned. A message that failed, or that is discarded, is removed instead.

use crate::init::Settings;
use crate::out::QueueSink;
use crate::state::{FLAG_END_SEEN, State};
use global::cleanup_user::{FLAG_DISCARD, FLAG_HOLD, STAT_BAD, STAT_RCPT, STAT_SIZE, STAT_WRITE};
use global::mail_queue::{self, QueueError, QueueFile};
use std::io;

/// Creates the queue file in the incoming queue (`cleanup_open`), and removes delivery
/// logs a former message with the same queue ID left behind (mailq would show them).
pub fn open(settings: &Settings) -> Result<QueueFile, OpenError> {
    let file = QueueFile::create(&settings.layout, mail_queue::INCOMING, 0)?;
    if log::verbose() > 0 {
        log::msg_info!("cleanup_open: open {}", file.path());
    }
    for queue in [mail_queue::DEFER, mail_queue::BOUNCE, mail_queue::TRACE] {
        let path = settings.layout.path(queue, file.id());
        match std::fs::remove_file(&path) {
            Ok(()) => log::msg_warn!("{queue}: removed spurious {} log", file.id()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                let error = format!("{queue}: remove {} log: {}", file.id(), sys::os_error(&e));
                file.abandon();
                return Err(OpenError::Log(error));
            }
        }
    }
    Ok(file)
}

/// Why no queue file could be opened; each is fatal for the process.
#[derive(Debug)]
pub enum OpenError {
    /// The file could not be made.
    Queue(QueueError),
    /// A spurious log could not be removed.
    Log(String),
}

impl From<QueueError> for OpenError {
    fn from(e: QueueError) -> OpenError {
        OpenError::Queue(e)
    }
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Queue(e) => write!(f, "{e}"),
            OpenError::Log(text) => f.write_str(text),
        }
    }
}

/// The last checks and the final size record, before the commit or removal (the first
/// half of `cleanup_flush`).
pub fn settle<W: QueueSink>(state: &mut State<'_, W>) {
    // These errors count only when every record was seen.
    if state.out_ok() {
        if state.recip.is_none() {
            state.errs |= STAT_RCPT;
        }
        if state.flags & FLAG_END_SEEN == 0 {
            state.errs |= STAT_BAD;
        }
    }
    // A discard rule means success for the client.
    if state.flags & FLAG_DISCARD != 0 {
        state.errs = 0;
    }
    if state.out_ok() {
        state.final_update();
    }
}

/// Completes the message (`cleanup_flush`): commits the queue file, or removes it, and
/// returns the status for the client.
pub fn flush(mut state: State<'_, QueueFile>) -> u32 {
    settle(&mut state);
    if state.can_bounce() {
        state.bounce();
    }
    let settings = state.settings;
    let queue_id = state.queue_id.clone();
    let discard = state.flags & FLAG_DISCARD != 0;
    let hold = state.flags & FLAG_HOLD != 0;
    let trace_path = state.trace_path.take();
    let file = state.dst.into_inner();
    let path = file.path().to_string();
    let mut errs = state.errs;
    let committed = errs == 0 && !discard;
    if committed {
        errs = commit(settings, file, &queue_id, &path, hold);
    } else {
        file.abandon();
    }
    if errs != 0 || discard {
        if let Some(trace) = &trace_path {
            let _ = std::fs::remove_file(trace);
        }
        let current = if committed && hold {
            settings.layout.path(mail_queue::HOLD, &queue_id)
        } else {
            path
        };
        if let Err(e) = std::fs::remove_file(&current) {
            log::msg_warn!("remove {current}: {}", sys::os_error(&e));
        }
    }
    crate::incomplete::forget();
    if log::verbose() > 0 {
        log::msg_info!("cleanup_flush: status {errs}");
    }
    errs
}

/// Makes the queue file count: to the hold queue if asked, then complete and on disk
/// (`mail_stream_finish_file`), then the queue manager is woken. Returns the status.
fn commit(settings: &Settings, file: QueueFile, queue_id: &str, path: &str, hold: bool) -> u32 {
    if hold {
        // Moved before it is marked complete, or the queue manager could take it.
        let target = settings.layout.path(mail_queue::HOLD, queue_id);
        if let Err(e) = rename(path, &target) {
            log::msg_fatal!(
                "{queue_id}: rename {path} to {target}: {}",
                sys::os_error(&e)
            );
        }
        crate::incomplete::note(&target);
        // Mail that skips the incoming queue does not wait for the queue manager: its
        // flow token goes back (it was taken when the connection was accepted).
        server::mail_flow::put(1);
    }
    if let Err(e) = file.finish() {
        return if e.raw_os_error() == Some(sys::libc::EFBIG) {
            STAT_SIZE
        } else {
            STAT_WRITE
        };
    }
    if !hold {
        global::mail_trigger::mail_trigger(
            "public",
            &settings.queue_service,
            &[global::mail_proto::TRIGGER_REQ_WAKEUP],
            settings.trigger_timeout,
        );
    }
    0
}

/// Renames a queue file, making the target's hashed subdirectories if need be
/// (`mail_queue_rename`).
fn rename(from: &str, to: &str) -> io::Result<()> {
    match std::fs::rename(from, to) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            mail_queue::mkdirs(to)?;
            std::fs::rename(from, to)
        }
        other => other,
    }
}
