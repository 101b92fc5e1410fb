//! Connecting to another Postfix service by class and name (`public/cleanup`).
//!
//! Postfix counterpart: `global/mail_connect.c`. The service's socket is
//! `$queue_directory/<class>/<name>`; daemons run with the queue directory as their
//! working directory (also inside the chroot jail), so the path is relative.
//! `connect_wait` keeps trying, every ten seconds, with Postfix's warnings, and gives up
//! with a fatal error after the tenth failure.

use std::os::unix::net::UnixStream;
use std::time::Duration;

/// How long to wait between attempts.
const RETRY_DELAY: Duration = Duration::from_secs(10);
/// Attempts that fail with a warning before the next failure is fatal.
const RETRIES: u32 = 10;

/// Connects to `class/name`, with `ipc_timeout` on reads and writes.
pub fn connect(class: &str, name: &str, ipc_timeout: Duration) -> std::io::Result<UnixStream> {
    let path = format!("{class}/{name}");
    match UnixStream::connect(&path) {
        Ok(stream) => {
            if log::verbose() > 0 {
                log::msg_info!("connect to subsystem {path}");
            }
            stream.set_read_timeout(Some(ipc_timeout))?;
            stream.set_write_timeout(Some(ipc_timeout))?;
            Ok(stream)
        }
        Err(e) => {
            if log::verbose() > 0 {
                log::msg_info!("connect to subsystem {path}: {}", sys::os_error(&e));
            }
            Err(e)
        }
    }
}

/// Connects to `class/name`, retrying as Postfix's `mail_connect_wait` does.
pub fn connect_wait(class: &str, name: &str, ipc_timeout: Duration) -> UnixStream {
    let mut count = 0;
    loop {
        match connect(class, name, ipc_timeout) {
            Ok(stream) => return stream,
            Err(e) => {
                count += 1;
                let why = sys::os_error(&e);
                if count > RETRIES {
                    log::msg_fatal!("connect #{count} to subsystem {class}/{name}: {why}");
                }
                log::msg_warn!("connect #{count} to subsystem {class}/{name}: {why}");
                std::thread::sleep(RETRY_DELAY);
            }
        }
    }
}
