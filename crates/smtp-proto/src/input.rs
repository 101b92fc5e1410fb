//! The client input buffer: every byte the client sends, after TLS, passes through here.
//!
//! Postfix counterpart: the read buffer of smtpd's `VSTREAM` (`util/vstream.c`). The session
//! reads from its socket into an [`Input`] and the protocol readers
//! ([`CommandReader`](crate::CommandReader), [`DataReader`](crate::DataReader),
//! [`BdatReader`](crate::BdatReader)) take bytes from it; what they leave is what the client
//! sent ahead of the server's reply, which is what improper-pipelining detection looks at
//! ([`Input::pending`]). STARTTLS discards it ([`Input::purge`]), as Postfix does with
//! `vstream_fpurge()`, so that plaintext sent before the handshake is never read as if it
//! came over TLS.
//!
//! The buffer holds only what the session put in: readers copy at most one line
//! (`line_length_limit` bytes) out of it, so reading more from the socket when a reader says
//! it needs input, a buffer's worth at a time, keeps memory bounded.

/// Bytes received from the client and not yet read by the protocol core.
#[derive(Debug, Default, Clone)]
pub struct Input {
    buf: Vec<u8>,
    start: usize,
    closed: bool,
}

impl Input {
    /// An empty buffer.
    pub fn new() -> Input {
        Input::default()
    }

    /// Appends bytes that arrived from the client.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.start == self.buf.len() {
            self.buf.clear();
        } else if self.start > 0 {
            self.buf.drain(..self.start);
        }
        self.start = 0;
        self.buf.extend_from_slice(bytes);
    }

    /// Records that the client closed its side: no more bytes will come.
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// Whether the client closed its side (there may still be unread bytes).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The bytes received and not yet read: input that the client sent ahead of the
    /// server's reply.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Discards every unread byte (STARTTLS: nothing sent in plaintext before the
    /// handshake may be read afterwards).
    pub fn purge(&mut self) {
        self.buf.clear();
        self.start = 0;
    }

    /// Marks `n` pending bytes as read.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.buf.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_is_what_was_not_consumed() {
        let mut input = Input::new();
        input.push(b"NOOP\r\nQUIT\r\n");
        input.consume(6);
        assert_eq!(input.pending(), b"QUIT\r\n");
        input.push(b"x");
        assert_eq!(input.pending(), b"QUIT\r\nx");
        input.purge();
        assert!(input.pending().is_empty());
        input.consume(5);
        assert!(input.pending().is_empty());
    }
}
