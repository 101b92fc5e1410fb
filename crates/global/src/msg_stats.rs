//! A message's time stamps on its way through the system (Postfix's `MSG_STATS`), as
//! the queue manager sends them to a delivery agent.
//!
//! Postfix counterparts: `global/msg_stats.h` and `global/msg_stats_scan.c`. The queue
//! manager sends the C structure's bytes base64-encoded in the `time` attribute: five
//! `struct timeval` (incoming arrival, active arrival, agent hand-off, connection set-up
//! done, delivery done) and an `int` reuse count, padded to the alignment of `long`, as
//! the compiler lays it out on this machine. An agent fills in the hand-off time when
//! it reads the request; log_adhoc computes `delay=` and `delays=a/b/c/d` from them.

/// Seconds and microseconds.
pub type Tv = (i64, i64);

/// The time stamps; (0, 0) means "not stamped".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MsgStats {
    /// When the message entered the incoming queue.
    pub incoming_arrival: Tv,
    /// When the queue manager moved it to the active queue.
    pub active_arrival: Tv,
    /// When a delivery agent received the request.
    pub agent_handoff: Tv,
    /// When a network client had set up its connection.
    pub conn_setup_done: Tv,
    /// When the delivery was done (for all recipients of a multi-recipient delivery).
    pub deliver_done: Tv,
    /// How often a cached connection was reused.
    pub reuse_count: i32,
}

/// The size of `long` in the C structure.
const LONG: usize = size_of::<std::ffi::c_long>();
/// The structure's size: five timevals and an int, padded to the alignment of long.
pub const SIZE: usize = (5 * 2 * LONG + 4).div_ceil(LONG) * LONG;

impl MsgStats {
    /// The structure's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(SIZE);
        for (sec, usec) in self.stamps() {
            bytes.extend_from_slice(&(sec as std::ffi::c_long).to_ne_bytes());
            bytes.extend_from_slice(&(usec as std::ffi::c_long).to_ne_bytes());
        }
        bytes.extend_from_slice(&self.reuse_count.to_ne_bytes());
        bytes.resize(SIZE, 0);
        bytes
    }

    /// The structure from its bytes; None when the size is not the structure's (Postfix:
    /// "size mis-match").
    pub fn decode(bytes: &[u8]) -> Option<MsgStats> {
        if bytes.len() != SIZE {
            return None;
        }
        let long = |i: usize| {
            let mut b = [0u8; LONG];
            b.copy_from_slice(&bytes[i * LONG..(i + 1) * LONG]);
            // long is 64 bits here; the conversion is for 32-bit systems.
            #[allow(clippy::useless_conversion)]
            i64::from(std::ffi::c_long::from_ne_bytes(b))
        };
        let tv = |i: usize| (long(2 * i), long(2 * i + 1));
        let mut count = [0u8; 4];
        count.copy_from_slice(&bytes[10 * LONG..10 * LONG + 4]);
        Some(MsgStats {
            incoming_arrival: tv(0),
            active_arrival: tv(1),
            agent_handoff: tv(2),
            conn_setup_done: tv(3),
            deliver_done: tv(4),
            reuse_count: i32::from_ne_bytes(count),
        })
    }

    fn stamps(&self) -> [Tv; 5] {
        [
            self.incoming_arrival,
            self.active_arrival,
            self.agent_handoff,
            self.conn_setup_done,
            self.deliver_done,
        ]
    }
}

/// The time now as a timeval.
pub fn now() -> Tv {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (now.as_secs() as i64, i64::from(now.subsec_micros()))
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 with padding, as Postfix's `base64_encode` writes it.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The bytes of base64 text (`base64_decode`); None for text that is not base64.
pub fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    let value = |c: u8| ALPHABET.iter().position(|&a| a == c).map(|v| v as u32);
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for quad in text.chunks(4) {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || quad[..4 - pad].contains(&b'=') {
            return None;
        }
        let mut n = 0u32;
        for &c in &quad[..4 - pad] {
            n = n << 6 | value(c)?;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_round_trip() {
        let stats = MsgStats {
            incoming_arrival: (1, 2),
            active_arrival: (3, 4),
            reuse_count: 7,
            ..MsgStats::default()
        };
        let bytes = stats.encode();
        assert_eq!(bytes.len(), 88);
        assert_eq!(&bytes[24..32], &4i64.to_ne_bytes());
        assert_eq!(MsgStats::decode(&bytes), Some(stats));
        assert_eq!(MsgStats::decode(&bytes[1..]), None);
    }

    #[test]
    fn base64_both_ways() {
        assert_eq!(base64_encode(b"foob"), "Zm9vYg==");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        for data in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            b"fooba",
            b"\xff\x00\x80",
        ] {
            assert_eq!(
                base64_decode(base64_encode(data).as_bytes()).as_deref(),
                Some(data)
            );
        }
        assert_eq!(base64_decode(b"Zm9"), None);
        assert_eq!(base64_decode(b"Z=9v"), None);
        assert_eq!(base64_decode(b"Zm9*"), None);
    }
}
