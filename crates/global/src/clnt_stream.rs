//! A connection to a private service that a client keeps between requests.
//!
//! Postfix counterparts: `global/clnt_stream.c` and `util/auto_clnt.c`. The client
//! connects at its first request, checks the protocol the service announces, and keeps
//! the connection; before a request, one unused for ipc_idle seconds or open for ipc_ttl
//! seconds is closed and made anew, so that a service can exit or be restarted. After a
//! failed exchange the caller drops it ([`ClntStream::recover`]) and tries again.

use ipc::{Attrs, Flavor, mail_attr};
use std::io::{BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Where and how to reach the service, and the connection while there is one.
pub struct ClntStream {
    /// Where the service's socket is: `private`, relative to the queue directory.
    pub dir: String,
    /// The service's name.
    pub service: String,
    /// The protocol the service announces.
    pub proto: &'static str,
    /// The limit on each read and write.
    pub timeout: Duration,
    /// ipc_idle.
    pub idle_limit: Duration,
    /// ipc_ttl.
    pub ttl_limit: Duration,
    conn: Option<Conn>,
}

/// One open connection.
pub struct Conn {
    reader: BufReader<UnixStream>,
    opened: Instant,
    used: Instant,
}

/// The error for a reply that is not what the protocol says.
pub fn protocol_error() -> std::io::Error {
    std::io::Error::from_raw_os_error(sys::libc::EPROTO)
}

impl ClntStream {
    /// A client of `private/<service>` speaking `proto`; it connects when first used.
    pub fn new(
        service: &str,
        proto: &'static str,
        timeout: Duration,
        idle_limit: Duration,
        ttl_limit: Duration,
    ) -> ClntStream {
        ClntStream {
            dir: "private".to_string(),
            service: service.to_string(),
            proto,
            timeout,
            idle_limit,
            ttl_limit,
            conn: None,
        }
    }

    /// The live connection, made anew when there is none or it is past its limits
    /// (`clnt_stream_access`).
    pub fn access(&mut self) -> std::io::Result<&mut Conn> {
        let now = Instant::now();
        if self.conn.as_ref().is_some_and(|c| {
            now.duration_since(c.used) >= self.idle_limit
                || now.duration_since(c.opened) >= self.ttl_limit
        }) {
            self.conn = None;
        }
        if self.conn.is_none() {
            let stream = crate::mail_connect::connect(&self.dir, &self.service, self.timeout)?;
            let mut reader = BufReader::new(stream);
            match ipc::attr::read(&mut reader, Flavor::Null)? {
                Some(hello) if hello.get_str(mail_attr::PROTO) == Ok(self.proto) => {}
                _ => return Err(protocol_error()),
            }
            self.conn = Some(Conn {
                reader,
                opened: now,
                used: now,
            });
        }
        let conn = self.conn.as_mut().ok_or_else(protocol_error)?;
        conn.used = now;
        Ok(conn)
    }

    /// Drops the connection after a failure (`clnt_stream_recover`).
    pub fn recover(&mut self) {
        self.conn = None;
    }
}

impl Conn {
    /// Sends one attribute list.
    pub fn send(&mut self, attrs: &Attrs) -> std::io::Result<()> {
        let mut writer = self.reader.get_ref();
        ipc::attr::write(&mut writer, Flavor::Null, attrs)?;
        writer.flush()
    }

    /// Reads one attribute list; the end of input is an error.
    pub fn receive(&mut self) -> std::io::Result<Attrs> {
        ipc::attr::read(&mut self.reader, Flavor::Null)?.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "unexpected end of input")
        })
    }

    /// A request and its reply.
    pub fn exchange(&mut self, request: &Attrs) -> std::io::Result<Attrs> {
        self.send(request)?;
        self.receive()
    }

    /// The socket, for passing descriptors (nothing may sit in the read buffer then).
    pub fn socket(&self) -> &UnixStream {
        self.reader.get_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn a_connection_is_kept_and_renewed_when_idle() {
        let dir = crate::scratch_dir("clnt-stream");
        let listener = UnixListener::bind(dir.join("svc")).unwrap();
        let server = std::thread::spawn(move || {
            let mut accepted = 0;
            for stream in listener.incoming().take(2) {
                let stream = stream.unwrap();
                accepted += 1;
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut out = stream;
                let hello = Attrs::new().str(mail_attr::PROTO, "test_protocol");
                ipc::attr::write(&mut out, Flavor::Null, &hello).unwrap();
                while let Ok(Some(req)) = ipc::attr::read(&mut reader, Flavor::Null) {
                    ipc::attr::write(&mut out, Flavor::Null, &req).unwrap();
                }
            }
            accepted
        });
        let mut clnt = ClntStream::new(
            "svc",
            "test_protocol",
            Duration::from_secs(5),
            Duration::from_millis(200),
            Duration::from_secs(100),
        );
        clnt.dir = dir.display().to_string();
        let ping = Attrs::new().str("x", "1");
        for _ in 0..3 {
            assert_eq!(clnt.access().unwrap().exchange(&ping).unwrap(), ping);
        }
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(clnt.access().unwrap().exchange(&ping).unwrap(), ping);
        clnt.recover();
        assert_eq!(server.join().unwrap(), 2);
        let _ = std::fs::remove_dir_all(dir);
    }
}
