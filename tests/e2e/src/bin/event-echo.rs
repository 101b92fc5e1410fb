//! event-echo - a test daemon on the event skeleton, for tests/e2e/t-16-event-server.
//!
//! Each client gets `<pid> echo <line>` for each line it sends, `<pid> passed
//! name=value...` first when it came through a `pass` endpoint, and `timeout` when it says
//! nothing for three seconds; `quit` or end of file ends it. With the argument `drain`,
//! the process finishes its clients after the master goes away.

use server::event::{Events, Ready, Service, Token};
use server::single::Stream;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

const CLIENT_TIMEOUT: Duration = Duration::from_secs(3);

struct Client {
    stream: Stream,
    fd: RawFd,
    pending: Vec<u8>,
}

#[derive(Default)]
struct Echo {
    clients: HashMap<Token, Client>,
    next: Token,
    drain: bool,
}

fn fd_of(stream: &Stream) -> RawFd {
    match stream {
        Stream::Tcp(s) => s.as_raw_fd(),
        Stream::Unix(s) => s.as_raw_fd(),
        Stream::Passed { socket, .. } => socket.as_raw_fd(),
        Stream::Stdio(..) => 0,
    }
}

impl Echo {
    fn close(&mut self, events: &mut Events, token: Token) {
        if let Some(client) = self.clients.remove(&token) {
            events.disable(client.fd);
            events.cancel_timer(token);
            events.disconnect();
        }
    }
}

impl Service for Echo {
    fn connected(&mut self, _: &mut server::Daemon, events: &mut Events, mut stream: Stream) {
        self.next += 1;
        let token = self.next;
        if let Stream::Passed { attrs, .. } = &stream {
            let list: Vec<String> = attrs
                .iter()
                .map(|(n, v)| format!("{}={}", ipc::attr::escaped(n), ipc::attr::escaped(v)))
                .collect();
            let hello = format!("{} passed {}\n", std::process::id(), list.join(" "));
            let _ = stream.write_all(hello.as_bytes());
        }
        let fd = fd_of(&stream);
        events.enable_read(fd, token);
        events.request_timer(token, CLIENT_TIMEOUT);
        self.clients.insert(
            token,
            Client {
                stream,
                fd,
                pending: Vec::new(),
            },
        );
    }

    fn ready(&mut self, _: &mut server::Daemon, events: &mut Events, token: Token, what: Ready) {
        let Some(client) = self.clients.get_mut(&token) else {
            return;
        };
        if what == Ready::Timer {
            let _ = client.stream.write_all(b"timeout\n");
            self.close(events, token);
            return;
        }
        let mut buf = [0u8; 512];
        let n = client.stream.read(&mut buf).unwrap_or(0);
        if n == 0 {
            self.close(events, token);
            return;
        }
        client.pending.extend_from_slice(&buf[..n]);
        let mut quit = false;
        while let Some(end) = client.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = client.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            if line == "quit" {
                quit = true;
                break;
            }
            let reply = format!("{} echo {line}\n", std::process::id());
            let _ = client.stream.write_all(reply.as_bytes());
        }
        if quit {
            self.close(events, token);
        } else {
            events.request_timer(token, CLIENT_TIMEOUT);
        }
    }

    fn drain(&mut self, _: &mut server::Daemon) -> bool {
        self.drain
    }
}

fn main() {
    // "drain" (an argument of this test service) is this service's own.
    let mut daemon = server::Daemon::start(server::Requirements {
        arguments: true,
        ..Default::default()
    });
    let drain = daemon.args.iter().any(|a| a == "drain");
    daemon.enter_jail();
    server::event::serve(
        daemon,
        Echo {
            drain,
            ..Default::default()
        },
    )
}
