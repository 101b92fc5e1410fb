//! One connection to the Dovecot auth server: UNIX socket or `inet:host:port`, every
//! connect, read and write bounded by a timeout, lines read through [`LineReader`].
//!
//! Postfix counterpart: the `unix_connect()`/`inet_connect()` call and the stream set-up
//! of `xsasl_dovecot_server_connect()` (`xsasl/xsasl_dovecot_server.c`), with its
//! `AUTH_TIMEOUT` of 10 seconds, "so that we can produce accurate diagnostics instead of
//! getting killed by the watchdog timer". A relative socket path (Postfix's default
//! `private/auth`) is relative to the queue directory, where smtpd runs.

use crate::line::LineReader;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Postfix's AUTH_TIMEOUT.
pub const TIMEOUT: Duration = Duration::from_secs(10);

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

/// Where the auth server is: smtpd_sasl_path and the directory a relative path is in.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// smtpd_sasl_path as configured: `private/auth`, `/abs/path`, `unix:path` or
    /// `inet:host:port`. Log texts show it as it is written.
    pub path: String,
    /// The directory a relative UNIX path is taken from (the queue directory); `None`:
    /// the current directory, where smtpd already is.
    pub base_dir: Option<PathBuf>,
    /// The time limit of each connect, read and write.
    pub timeout: Duration,
}

impl Endpoint {
    /// An endpoint with Postfix's timeout.
    pub fn new(path: &str, base_dir: Option<&Path>) -> Self {
        Endpoint {
            path: path.to_string(),
            base_dir: base_dir.map(Path::to_path_buf),
            timeout: TIMEOUT,
        }
    }

    fn unix_path(&self, path: &str) -> PathBuf {
        match &self.base_dir {
            Some(base) if !path.starts_with('/') => base.join(path),
            _ => PathBuf::from(path),
        }
    }
}

/// `host:port` or `[host]:port` as Postfix's `host_port()` splits it.
fn host_port(text: &str) -> io::Result<(String, u16)> {
    let bad = || io::Error::new(io::ErrorKind::InvalidInput, "bad host:port syntax");
    let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Ok((host.to_string(), port.parse().map_err(|_| bad())?))
}

fn tcp_connect(text: &str, timeout: Duration) -> io::Result<TcpStream> {
    let (host, port) = host_port(text)?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "host not found");
    for addr in (host.as_str(), port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A connected auth stream.
pub struct Conn {
    stream: Stream,
    reader: LineReader,
}

impl Conn {
    /// Connects to `endpoint`.
    pub fn open(endpoint: &Endpoint) -> io::Result<Conn> {
        let path = endpoint.path.as_str();
        let stream = match path.strip_prefix("inet:") {
            Some(hostport) => {
                let s = tcp_connect(hostport, endpoint.timeout)?;
                s.set_read_timeout(Some(endpoint.timeout))?;
                s.set_write_timeout(Some(endpoint.timeout))?;
                Stream::Tcp(s)
            }
            None => {
                let unix = path.strip_prefix("unix:").unwrap_or(path);
                // A UNIX connect does not wait for the server to accept, only (with a
                // full backlog) for room in its queue, which the timeouts below do not
                // cover; Dovecot's auth service keeps a large backlog.
                let s = UnixStream::connect(endpoint.unix_path(unix))?;
                s.set_read_timeout(Some(endpoint.timeout))?;
                s.set_write_timeout(Some(endpoint.timeout))?;
                Stream::Unix(s)
            }
        };
        Ok(Conn {
            stream,
            reader: LineReader::new(),
        })
    }

    /// Sends `text` whole.
    pub fn send(&mut self, text: &str) -> io::Result<()> {
        match &mut self.stream {
            Stream::Unix(s) => s.write_all(text.as_bytes()),
            Stream::Tcp(s) => s.write_all(text.as_bytes()),
        }
    }

    /// The next line. `Err` for end of file, a timeout, an I/O error or a line over the
    /// length bound: Postfix treats each as the end of the stream.
    pub fn read_line(&mut self) -> io::Result<Vec<u8>> {
        let mut chunk = [0u8; 4096];
        loop {
            match self.reader.next_line() {
                Ok(Some(line)) => return Ok(line),
                Ok(None) => {}
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "line too long from the auth server",
                    ));
                }
            }
            let n = match &mut self.stream {
                Stream::Unix(s) => s.read(&mut chunk),
                Stream::Tcp(s) => s.read(&mut chunk),
            };
            match n {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => self.reader.push(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ports() {
        assert_eq!(
            host_port("localhost:12345").unwrap(),
            ("localhost".into(), 12345)
        );
        assert_eq!(host_port("[::1]:7").unwrap(), ("::1".into(), 7));
        assert!(host_port("nohost").is_err());
        assert!(host_port("h:x").is_err());
    }

    #[test]
    fn relative_paths() {
        let e = Endpoint::new("private/auth", Some(Path::new("/var/spool/postfix")));
        assert_eq!(
            e.unix_path("private/auth"),
            Path::new("/var/spool/postfix/private/auth")
        );
        assert_eq!(e.unix_path("/run/auth"), Path::new("/run/auth"));
    }
}
