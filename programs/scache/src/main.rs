//! scache - the shared connection cache: open sessions handed from one SMTP client process
//! to the next.
//!
//! Postfix counterpart: `scache/scache.c`. A delivery agent that finished a transaction
//! with a server passes the open connection's descriptor to this service under an
//! endpoint name (`save_endp`: transport, address and port) and binds a logical
//! destination (transport, domain, port) to that endpoint (`save_dest`); the next agent
//! asks for an endpoint (`find_endp`) or a destination (`find_dest`) and receives the
//! descriptor with the properties it needs to take the session over. Everything is kept
//! for at most connection_cache_ttl_limit seconds. Every connection_cache_status_update_time,
//! and when the process exits, scache logs its hit and miss counts and peak sizes
//! (`statistics: domain lookup hits=1 miss=2 success=33%`).
//!
//! The protocol is the null-terminated attribute protocol, and a descriptor travels as
//! Postfix sends one on Linux (CANT_WRITE_BEFORE_SENDING_FD, MUST_READ_AFTER_SENDING_FD):
//! the receiving side first writes a `dummy` attribute list, so that no stream data sits
//! in front of the descriptor message, and the side that received a descriptor confirms
//! with another `dummy` list before the sender closes its copy. master.cf:
//! `scache unix - - n - 1 scache` (a single process).

mod cache;

use cache::{Cache, Stats};
use ipc::{Attrs, Flavor};
use server::multi::{Client, Service};
use server::single::Stream;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use global::scache_clnt::{
    ATTR_DUMMY, ATTR_LABEL, ATTR_PROP, ATTR_TTL, PROTO_SCACHE, SCACHE_STAT_BAD as STAT_BAD,
    SCACHE_STAT_FAIL as STAT_FAIL, SCACHE_STAT_OK as STAT_OK,
};

struct Scache {
    cache: Cache,
    stats: Stats,
    ttl_limit: i64,
    status_interval: i64,
    /// When the statistics are next logged.
    next_status: i64,
    /// The limit on waiting for a client's descriptor (ipc_timeout).
    ipc_timeout: Duration,
}

/// The attribute values of a request, when the names are exactly `names` in this order
/// (Postfix's strict attr_scan), the request name first.
fn values<'a>(request: &'a Attrs, names: &[&str]) -> Option<Vec<&'a str>> {
    if request.len() != names.len() + 1 {
        return None;
    }
    request
        .iter()
        .skip(1)
        .zip(names)
        .map(|((name, value), want)| {
            (name == want.as_bytes())
                .then(|| std::str::from_utf8(value).ok())
                .flatten()
        })
        .collect()
}

/// A time-to-live as Postfix scans an int attribute: positive, or the request is bad.
fn ttl(text: &str) -> Option<i64> {
    text.parse::<u32>()
        .ok()
        .map(|v| v as i32 as i64)
        .filter(|&t| t > 0)
}

fn unix(client: &Client) -> Option<&UnixStream> {
    match client.io.get_ref() {
        Stream::Unix(s) => Some(s),
        _ => None,
    }
}

impl Scache {
    fn save_endp(&mut self, client: &mut Client, request: &Attrs) -> bool {
        let Some((ttl, label, prop)) = values(request, &[ATTR_TTL, ATTR_LABEL, ATTR_PROP])
            .and_then(|v| Some((ttl(v[0])?, v[1].to_string(), v[2].to_string())))
        else {
            log::msg_warn!("scache_save_endp_service: bad or missing request parameter");
            return client.send(Flavor::Null, &Attrs::new().int(mail_status(), STAT_BAD));
        };
        // Nothing may precede the descriptor on the stream: the client waits for this.
        if !client.send(Flavor::Null, &Attrs::new().str(ATTR_DUMMY, "")) {
            return false;
        }
        let fd = unix(client).ok_or_else(no_unix).and_then(|s| {
            sys::fdpass::read_wait(s.as_raw_fd(), self.ipc_timeout)?;
            sys::fdpass::recv_fd(s)
        });
        let fd = match fd {
            Ok(fd) => fd,
            Err(e) => {
                log::msg_warn!(
                    "scache_save_endp_service: unable to receive file descriptor: {}",
                    sys::os_error(&e)
                );
                return client.send(Flavor::Null, &Attrs::new().int(mail_status(), STAT_FAIL));
            }
        };
        let now = cache::now();
        self.cache
            .save_endp(now + ttl.min(self.ttl_limit), &label, &prop, fd);
        let ok = client.send(Flavor::Null, &Attrs::new().int(mail_status(), STAT_OK));
        self.stats.sizes(&self.cache);
        ok
    }

    fn find_endp(&mut self, client: &mut Client, request: &Attrs) -> bool {
        let Some(label) = values(request, &[ATTR_LABEL]).map(|v| v[0].to_string()) else {
            log::msg_warn!("scache_find_endp_service: bad or missing request parameter");
            return client.send(Flavor::Null, &not_found(STAT_BAD, 1));
        };
        let Some((prop, fd)) = self.cache.find_endp(&label) else {
            self.stats.endp_miss += 1;
            return client.send(Flavor::Null, &not_found(STAT_FAIL, 1));
        };
        let reply = Attrs::new()
            .int(mail_status(), STAT_OK)
            .str(ATTR_PROP, &prop);
        let ok = self.hand_over(client, &reply, fd, "scache_find_endp_service");
        self.stats.endp_hits += 1;
        ok
    }

    fn save_dest(&mut self, client: &mut Client, request: &Attrs) -> bool {
        let Some((ttl, dest, prop, endp)) =
            values(request, &[ATTR_TTL, ATTR_LABEL, ATTR_PROP, ATTR_LABEL]).and_then(|v| {
                Some((
                    ttl(v[0])?,
                    v[1].to_string(),
                    v[2].to_string(),
                    v[3].to_string(),
                ))
            })
        else {
            log::msg_warn!("scache_save_dest_service: bad or missing request parameter");
            return client.send(Flavor::Null, &Attrs::new().int(mail_status(), STAT_BAD));
        };
        let now = cache::now();
        self.cache
            .save_dest(now + ttl.min(self.ttl_limit), &dest, &prop, &endp);
        let ok = client.send(Flavor::Null, &Attrs::new().int(mail_status(), STAT_OK));
        self.stats.sizes(&self.cache);
        ok
    }

    fn find_dest(&mut self, client: &mut Client, request: &Attrs) -> bool {
        let Some(label) = values(request, &[ATTR_LABEL]).map(|v| v[0].to_string()) else {
            log::msg_warn!("scache_find_dest_service: bad or missing request parameter");
            return client.send(Flavor::Null, &not_found(STAT_BAD, 2));
        };
        let Some((dest_prop, endp_prop, fd)) = self.cache.find_dest(&label) else {
            self.stats.dest_miss += 1;
            return client.send(Flavor::Null, &not_found(STAT_FAIL, 2));
        };
        let reply = Attrs::new()
            .int(mail_status(), STAT_OK)
            .str(ATTR_PROP, &dest_prop)
            .str(ATTR_PROP, &endp_prop);
        let ok = self.hand_over(client, &reply, fd, "scache_find_dest_service");
        self.stats.dest_hits += 1;
        ok
    }

    /// Sends the reply and then the descriptor, in Postfix's Linux order: the client's
    /// dummy before the descriptor, another after it. The cache's copy is closed whatever
    /// happens; a failure is logged and the client connection is kept, as Postfix does.
    fn hand_over(
        &mut self,
        client: &mut Client,
        reply: &Attrs,
        fd: std::os::fd::OwnedFd,
        myname: &str,
    ) -> bool {
        if !client.send(Flavor::Null, reply) {
            return false;
        }
        let dummy = |client: &mut Client| {
            client
                .receive(Flavor::Null)
                .filter(|a| a.names_are(&[ATTR_DUMMY]))
                .ok_or_else(|| std::io::Error::from_raw_os_error(sys::libc::EPROTO))
        };
        let sent = dummy(client)
            .and_then(|_| unix(client).ok_or_else(no_unix))
            .and_then(|s| sys::fdpass::send_fd(s, fd.as_raw_fd()))
            .and_then(|()| dummy(client).map(|_| ()));
        if let Err(e) = sent {
            log::msg_warn!(
                "{myname}: cannot send file descriptor: {}",
                sys::os_error(&e)
            );
        }
        drop(fd);
        true
    }

    /// Logs the statistics, if there is anything to say, and starts a new interval
    /// (Postfix's `scache_status_dump`).
    fn status_dump(&mut self) {
        for line in self.stats.take_lines() {
            log::msg_info!("{line}");
        }
        self.stats.start = cache::now();
    }
}

/// A miss or bad request reply: the status and `props` empty properties.
fn not_found(status: i32, props: usize) -> Attrs {
    (0..props).fold(Attrs::new().int(mail_status(), status), |a, _| {
        a.str(ATTR_PROP, "")
    })
}

fn mail_status() -> &'static str {
    ipc::mail_attr::STATUS
}

fn no_unix() -> std::io::Error {
    std::io::Error::from_raw_os_error(sys::libc::ENOTSOCK)
}

impl Service for Scache {
    fn connected(&mut self, _daemon: &mut server::Daemon, client: &mut Client) {
        client.announce(Flavor::Null, PROTO_SCACHE);
    }

    fn request(&mut self, _daemon: &mut server::Daemon, client: &mut Client) -> bool {
        let Some(request) = client.receive(Flavor::Null) else {
            return false;
        };
        let Some((name, what)) = request.get(0) else {
            return false;
        };
        if name != ipc::mail_attr::REQ.as_bytes() {
            return false;
        }
        match what {
            b"save_dest" => self.save_dest(client, &request),
            b"find_dest" => self.find_dest(client, &request),
            b"save_endp" => self.save_endp(client, &request),
            b"find_endp" => self.find_endp(client, &request),
            other => {
                log::msg_warn!(
                    "unrecognized request: \"{}\", ignored",
                    String::from_utf8_lossy(other)
                );
                client.send(Flavor::Null, &Attrs::new().int(mail_status(), STAT_BAD))
            }
        }
    }

    fn tick(&mut self, _daemon: &mut server::Daemon) -> Option<Duration> {
        let now = cache::now();
        self.cache.expire(now);
        if now >= self.next_status {
            self.status_dump();
            self.next_status = now + self.status_interval;
        }
        // Bindings live for seconds; look at them every second, as Postfix's one-second
        // event timers would fire.
        Some(Duration::from_secs(1))
    }

    fn exiting(&mut self, _daemon: &mut server::Daemon) {
        self.status_dump();
    }
}

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements {
        solitary: true,
        ..Default::default()
    });
    let seconds = |p| {
        daemon
            .config
            .time(p)
            .unwrap_or_else(|e| global::fatal_config(e))
    };
    let ttl_limit = seconds(&params::decl::verify::CONNECTION_CACHE_TTL_LIMIT);
    let status_interval = seconds(&params::decl::verify::CONNECTION_CACHE_STATUS_UPDATE_TIME);
    let ipc_timeout = seconds(&params::decl::process::IPC_TIMEOUT);
    daemon.enter_jail();
    // Clients come and go all the time; only max_idle ends the process (Postfix disables
    // the use limit).
    daemon.max_use = 0;
    let now = cache::now();
    let scache = Scache {
        cache: Cache::default(),
        stats: Stats::new(now),
        ttl_limit,
        status_interval,
        next_status: now + status_interval,
        ipc_timeout: Duration::from_secs(ipc_timeout as u64),
    };
    server::multi::serve(daemon, scache)
}
