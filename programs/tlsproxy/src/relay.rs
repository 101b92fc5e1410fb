//! One accepted client-role connection: the passed descriptor, the handshake, the TLS
//! context sent back, then plaintext relayed both ways until either side ends.
//!
//! Postfix counterpart: `tlsp_get_fd_event()`, `tlsp_client_start_pre_handshake()`,
//! `tlsp_post_handshake()`, `tlsp_strategy()` and the timeout handling of
//! `tlsp_ciphertext_event()` in `tlsproxy/tlsproxy.c`, and `tlsp_state_free()` in
//! `tlsproxy/tlsproxy_state.c` (the `TLS handshake failed for service=... peer=...` and
//! `DISCONNECT ...` lines).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::proto::{self, Request, StartProps};

/// How long the client has to pass its descriptor (`TLSP_INIT_TIMEOUT`).
const INIT_TIMEOUT: Duration = Duration::from_secs(100);

/// The relay's buffer: one TLS record's worth of plaintext and more.
const BUFSIZE: usize = 32 * 1024;

/// What a thread needs to serve one connection.
pub struct Job {
    pub plaintext: UnixStream,
    pub request: Request,
    pub start: StartProps,
    pub engine: Arc<tls::ClientTls>,
    /// The process's sessions, when the client keeps sessions at all.
    pub sessions: Option<tls::sessions::SessionCache>,
}

/// `tlsp_state_free()` before the handshake completed.
pub fn failed(request: &Request) {
    log::msg_info!(
        "TLS handshake failed for service={} peer={}",
        request.serverid,
        request.remote_endpt
    );
    disconnect(request);
}

fn disconnect(request: &Request) {
    log::msg_info!("DISCONNECT {}", request.remote_endpt);
}

fn seconds(n: i32) -> Option<Duration> {
    Some(Duration::from_secs(n.max(1) as u64))
}

impl Job {
    pub fn run(self) {
        let request = &self.request;
        let fd = sys::fdpass::read_wait(self.plaintext.as_raw_fd(), INIT_TIMEOUT)
            .and_then(|()| sys::fdpass::recv_fd(&self.plaintext));
        let tcp = match fd {
            Ok(fd) => TcpStream::from(fd),
            Err(e) => {
                log::msg_warn!(
                    "tlsp_get_fd_event: receive remote SMTP peer file descriptor: {}",
                    sys::os_error(&e)
                );
                failed(request);
                return;
            }
        };
        let Some(level) = proto::client_level(self.start.tls_level) else {
            failed(request);
            return;
        };
        let handshake = seconds(request.handshake_timeout);
        if tcp.set_read_timeout(handshake).is_err() || tcp.set_write_timeout(handshake).is_err() {
            failed(request);
            return;
        }
        let start = &self.start;
        let props = tls::StartProps {
            level,
            peer: &start.namaddr,
            host: &start.host,
            nexthop: &start.nexthop,
            matches: &start.matches,
            protocols: &start.protocols,
            cipher_grade: &start.cipher_grade,
            cipher_exclusions: &start.cipher_exclusions,
            servername: &start.sni,
            dane: start.dane.as_ref(),
            log_untrusted: start.dane.is_some(),
        };
        let mut tls = match self.engine.connect_cached(
            tcp,
            &props,
            self.sessions.as_ref().map(|s| (s, start.serverid.as_str())),
            &mut |sev, text| log::write(sev, text),
        ) {
            Ok(tls) => tls,
            Err(_) => {
                failed(request);
                return;
            }
        };
        let mut plaintext = self.plaintext;
        if request.flags & proto::FLAG_SEND_CONTEXT != 0 {
            let context = proto::context(tls.summary(), start.tls_level, &start.namaddr);
            if let Err(e) = ipc::attr::write(&mut plaintext, ipc::Flavor::Null, &context) {
                log::msg_warn!("cannot send TLS context: {}", sys::os_error(&e));
                disconnect(request);
                return;
            }
        }
        // Postfix's safety timeout: the client's own timeouts are the real ones.
        let session = seconds(request.session_timeout.saturating_add(10));
        let tcp = tls.get_ref();
        if tcp.set_read_timeout(session).is_err() || tcp.set_write_timeout(session).is_err() {
            disconnect(request);
            return;
        }
        relay(
            &mut plaintext,
            &mut tls,
            session.unwrap_or_default(),
            request,
        );
        disconnect(request);
    }
}

/// Moves plaintext both ways until either side ends, an error, or `timeout` without
/// traffic.
fn relay(
    plaintext: &mut UnixStream,
    tls: &mut tls::ClientStream<TcpStream>,
    timeout: Duration,
    request: &Request,
) {
    let mut buf = vec![0u8; BUFSIZE];
    let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
    loop {
        if tls.has_pending() {
            let got = tls.read(&mut buf).map(Some);
            if !to_plaintext(plaintext, got, &buf, request) {
                return;
            }
            continue;
        }
        let (plain_ready, cipher_ready) = {
            let mut fds = [
                PollFd::new(plaintext.as_fd(), PollFlags::POLLIN),
                PollFd::new(tls.get_ref().as_fd(), PollFlags::POLLIN),
            ];
            match poll(
                &mut fds,
                PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
            ) {
                Ok(0) => {
                    log::msg_warn!("ciphertext read/write timeout for {}", request.remote_endpt);
                    return;
                }
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => {
                    log::msg_warn!("poll: {}", e.desc());
                    return;
                }
            }
            let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
            (ready(&fds[0]), ready(&fds[1]))
        };
        if plain_ready {
            match plaintext.read(&mut buf) {
                Ok(0) | Err(_) => {
                    // The client is done (or gone): end the TLS session cleanly.
                    let _ = tls.shutdown();
                    return;
                }
                Ok(n) => {
                    if tls.write_all(&buf[..n]).and_then(|()| tls.flush()).is_err() {
                        log::msg_warn!("ciphertext read/write error for {}", request.remote_endpt);
                        return;
                    }
                }
            }
        }
        if cipher_ready {
            let got = tls.read_ready(&mut buf);
            if !to_plaintext(plaintext, got, &buf, request) {
                return;
            }
        }
    }
}

/// What one read from the TLS side `got` into `buf`, to the client; false when the
/// relay is over.
fn to_plaintext(
    plaintext: &mut UnixStream,
    got: std::io::Result<Option<usize>>,
    buf: &[u8],
    request: &Request,
) -> bool {
    match got {
        Ok(None) => true,
        Ok(Some(0)) => {
            let _ = plaintext.shutdown(Shutdown::Write);
            false
        }
        Ok(Some(n)) => plaintext.write_all(&buf[..n]).is_ok(),
        Err(e) => {
            let word = match e.kind() {
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => "timeout",
                _ => "error",
            };
            log::msg_warn!("ciphertext read/write {word} for {}", request.remote_endpt);
            false
        }
    }
}
