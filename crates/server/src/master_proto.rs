//! The child side of the master status protocol.
//!
//! Postfix counterpart: `master/master_proto.[hc]`. A daemon writes a fixed-size record
//! `{ int pid; unsigned generation; int availability; }` in host byte order on descriptor 5
//! when it takes a client (0) and when it is free again (1). The master treats it as gossip.
//! The same descriptor tells the daemon that the master went away: it becomes readable (end
//! of file) when the master's end is closed.

use std::os::fd::RawFd;

/// The status descriptor.
pub const STATUS_FD: RawFd = 5;
/// The first listen descriptor.
pub const LISTEN_FD: RawFd = 6;
/// The flow-control pipe (read end).
pub const FLOW_READ: RawFd = 3;
/// The flow-control pipe (write end).
pub const FLOW_WRITE: RawFd = 4;

/// The environment variable with the master's generation number (octal), which the
/// daemon echoes in its status records (`MASTER_GEN_NAME`).
pub const GENERATION_ENV: &str = "GENERATION";

/// This process is busy with a client.
pub const TAKEN: i32 = 0;
/// This process is idle.
pub const AVAIL: i32 = 1;

/// The status record, as bytes.
pub fn record(pid: u32, generation: u32, availability: i32) -> [u8; 12] {
    let mut out = [0u8; 12];
    out[0..4].copy_from_slice(&(pid as i32).to_ne_bytes());
    out[4..8].copy_from_slice(&generation.to_ne_bytes());
    out[8..12].copy_from_slice(&availability.to_ne_bytes());
    out
}

/// Parses a status record.
pub fn parse(bytes: &[u8; 12]) -> (u32, u32, i32) {
    let pid = i32::from_ne_bytes(bytes[0..4].try_into().unwrap_or_default());
    let generation = u32::from_ne_bytes(bytes[4..8].try_into().unwrap_or_default());
    let availability = i32::from_ne_bytes(bytes[8..12].try_into().unwrap_or_default());
    (pid as u32, generation, availability)
}

/// Tells the master this process is busy or free; false if the master is gone.
pub fn notify(generation: u32, availability: i32) -> bool {
    // getpid() once: a multi-client daemon notifies twice per request, and its pid does
    // not change (Postfix keeps it in var_pid for the same reason).
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let bytes = record(*PID.get_or_init(std::process::id), generation, availability);
    let ok = matches!(sys::process::write_fd(STATUS_FD, &bytes), Ok(12));
    if log::verbose() > 0 {
        log::msg_info!("master_notify: status {availability}");
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let bytes = record(1234, 0o17, AVAIL);
        assert_eq!(parse(&bytes), (1234, 0o17, AVAIL));
    }
}
