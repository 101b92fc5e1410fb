//! postlogd - the logging service behind `maillog_file`.
//!
//! Postfix counterpart: `postlogd/postlogd.c`. Every program formats its own records
//! (`Mmm DD HH:MM:SS host program[pid]: text`) and sends each as one datagram to
//! `$queue_directory/public/postlog`; postlogd appends them, one line each, to
//! `maillog_file`. The file is opened before the chroot jail, so it may lie outside it;
//! `/dev/stdout` works under `postfix start-fg`. postlogd's own records go straight to the
//! file, never through itself. It runs as a solitary service (process limit 1) and never
//! exits for max_use.
//!
//! master.cf: `postlog unix-dgram n - n - 1 postlogd`.

use params::decl::logging::{MAILLOG_FILE, POSTLOGD_WATCHDOG_TIMEOUT};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements {
        solitary: true,
        logwriter: true,
        watchdog: Some(&POSTLOGD_WATCHDOG_TIMEOUT),
        ..Default::default()
    });
    let path = daemon
        .config
        .str(&MAILLOG_FILE)
        .unwrap_or_else(|e| global::fatal_config(e));
    let mut file = (!path.is_empty()).then(|| open_log(&path));
    if let Some(f) = &file {
        // postlogd must not send its own records to itself.
        log::retain_sinks(|s| s.is_stderr());
        log::add_sink(Box::new(OwnRecords {
            file: f
                .try_clone()
                .unwrap_or_else(|e| log::msg_fatal!("dup logfile: {e}")),
            inner: log::MaillogFile::new(
                &format!("postfix/{}", daemon.process_name),
                &daemon
                    .config
                    .str(&params::decl::identity::MYHOSTNAME)
                    .unwrap_or_default(),
                None,
                None,
            ),
        }));
    }
    daemon.enter_jail();
    daemon.max_use = 0;
    let mut lines = Vec::new();
    server::dgram::serve(daemon, move |_, records| match file.as_mut() {
        Some(f) => write_batch(f, &mut lines, records),
        None => {
            for record in records {
                log::msg_info!("{}", String::from_utf8_lossy(strip_prefix(record)));
            }
        }
    })
}

/// Opens the log for appending, as Postfix's `logwriter_open_or_die`.
fn open_log(path: &str) -> File {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .open(path)
        .unwrap_or_else(|e| log::msg_fatal!("open logfile '{path}': {}", sys::os_error(&e)))
}

/// Appends one record and its newline in a single write.
fn write_record(file: &mut File, record: &[u8]) {
    write_batch(file, &mut Vec::with_capacity(record.len() + 1), &[record]);
}

/// Appends the records of one wakeup, each on a line of its own, in a single write (a
/// write per record was half of postlogd's system calls under load). The lines keep the
/// order in which the records arrived; `lines` is the buffer, kept between batches.
fn write_batch(file: &mut File, lines: &mut Vec<u8>, records: &[&[u8]]) {
    lines.clear();
    for record in records {
        lines.extend_from_slice(record);
        lines.push(b'\n');
    }
    let _ = file.write_all(lines);
}

/// Without a maillog_file, records are passed on to syslog without the time, host and tag
/// that the client put in front (syslog adds its own).
fn strip_prefix(record: &[u8]) -> &[u8] {
    let text = record;
    let mut fields = 0;
    let mut i = 0;
    while i < text.len() && fields < 5 {
        while i < text.len() && text[i] == b' ' {
            i += 1;
        }
        while i < text.len() && text[i] != b' ' {
            i += 1;
        }
        fields += 1;
    }
    text[i.min(text.len())..].trim_ascii_start()
}

/// postlogd's own records, written to the file directly.
struct OwnRecords {
    file: File,
    inner: log::MaillogFile,
}

impl log::Sink for OwnRecords {
    fn write(&mut self, severity: log::Severity, text: &str) {
        let line = self.inner.format(severity, text);
        write_record(&mut self.file, line.as_bytes());
    }
}
