//! The line reader for what a Dovecot auth server sends: bytes in, whole lines out, each
//! bounded in length.
//!
//! Postfix counterpart: `vstring_get_nonl()` on the auth stream in
//! `xsasl/xsasl_dovecot_server.c`, which has no bound: a server (or whatever answers on
//! the socket) could make smtpd grow a line without limit. Here a line longer than
//! [`MAX_LINE`] is an error and the connection is dropped. Sans-I/O so that the fuzz
//! target drives it exactly as the connection does.

/// The longest line accepted, without its newline. Dovecot's own limit for auth client
/// lines is 16 KiB; challenges (GSSAPI, SCRAM) stay well below it.
pub const MAX_LINE: usize = 16 * 1024;

/// A line longer than [`MAX_LINE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong;

/// Collects bytes and hands out the complete lines among them.
#[derive(Debug, Default)]
pub struct LineReader {
    buf: Vec<u8>,
}

impl LineReader {
    /// An empty reader.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes read from the server.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete line without its newline, `None` when no full line is buffered,
    /// or [`TooLong`] as soon as the buffered line exceeds [`MAX_LINE`] (the reader is
    /// then useless: the connection must go).
    pub fn next_line(&mut self) -> Result<Option<Vec<u8>>, TooLong> {
        match self.buf.iter().position(|&b| b == b'\n') {
            Some(end) if end <= MAX_LINE => {
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                Ok(Some(line))
            }
            Some(_) => Err(TooLong),
            None if self.buf.len() > MAX_LINE => Err(TooLong),
            None => Ok(None),
        }
    }

    /// Whether bytes of an incomplete line are buffered.
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_across_pushes() {
        let mut r = LineReader::new();
        r.push(b"VERSION\t1\t2\nME");
        assert_eq!(r.next_line(), Ok(Some(b"VERSION\t1\t2".to_vec())));
        assert_eq!(r.next_line(), Ok(None));
        r.push(b"CH\tPLAIN\n\n");
        assert_eq!(r.next_line(), Ok(Some(b"MECH\tPLAIN".to_vec())));
        assert_eq!(r.next_line(), Ok(Some(Vec::new())));
        assert!(!r.has_partial());
    }

    #[test]
    fn bounded() {
        let mut r = LineReader::new();
        r.push(&vec![b'x'; MAX_LINE]);
        assert_eq!(r.next_line(), Ok(None));
        r.push(b"\n");
        assert_eq!(r.next_line().unwrap().unwrap().len(), MAX_LINE);
        r.push(&vec![b'x'; MAX_LINE + 1]);
        assert_eq!(r.next_line(), Err(TooLong));
    }
}
