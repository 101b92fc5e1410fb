//! The message's time stamps as the delivery agents expect them: the binary `MSG_STATS`
//! structure, base64-encoded, in the `time` attribute.
//!
//! Postfix counterparts: `global/msg_stats.h` and `global/msg_stats_print.c`. The agents
//! take the structure's bytes as they are (Postfix sends it as `ATTR_TYPE_DATA`), so it
//! is laid out as the C compiler lays it out on this machine: five `struct timeval`
//! (incoming arrival, active arrival, agent hand-off, connection set-up done, delivery
//! done), then an `int` reuse count, padded to the alignment of `long`. The agents fill
//! in the last three; they compute `delays=a/b/c/d` from them.

/// Seconds and microseconds.
pub type Tv = (i64, i64);

/// The structure's bytes for a message that arrived at `incoming` and entered the
/// active queue at `active`.
pub fn encode(incoming: Tv, active: Tv) -> Vec<u8> {
    let long = size_of::<std::ffi::c_long>();
    let mut bytes = Vec::with_capacity(5 * 2 * long + long);
    for (sec, usec) in [incoming, active, (0, 0), (0, 0), (0, 0)] {
        push_long(&mut bytes, sec);
        push_long(&mut bytes, usec);
    }
    bytes.extend_from_slice(&0i32.to_ne_bytes());
    // Padding to the structure's alignment (that of long).
    while bytes.len() % long != 0 {
        bytes.push(0);
    }
    bytes
}

fn push_long(bytes: &mut Vec<u8>, value: i64) {
    bytes.extend_from_slice(&(value as std::ffi::c_long).to_ne_bytes());
}

/// Base64 with padding, as Postfix's `base64_encode` writes it.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_encoding() {
        let bytes = encode((1, 2), (3, 4));
        assert_eq!(bytes.len(), 88);
        assert_eq!(&bytes[..8], &1i64.to_ne_bytes());
        assert_eq!(&bytes[24..32], &4i64.to_ne_bytes());
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(base64(b"fooba"), "Zm9vYmE=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
