//! A helper process of a test (a scripted SMTP server, smtp-sink) that must not outlive
//! it: killed and reaped when dropped, however the test ends.

use std::process::Child;

/// The process, killed when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
