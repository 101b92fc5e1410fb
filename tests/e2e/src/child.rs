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

/// Spawns `command`, a server that prints the line "ready" on its standard output once
/// it serves, and waits for that line; None when it cannot run or ends without it.
pub fn spawn_ready(command: &mut std::process::Command) -> Option<KillOnDrop> {
    let mut child = command.stdout(std::process::Stdio::piped()).spawn().ok()?;
    let stdout = child.stdout.take().expect("a pipe");
    let server = KillOnDrop(child);
    let mut ready = String::new();
    let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut ready);
    (ready.trim() == "ready").then_some(server)
}
