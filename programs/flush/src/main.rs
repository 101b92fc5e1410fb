//! flush - the fast flush service: deferred mail by destination, for ETRN and
//! `postqueue -s`/`-i`.
//!
//! Postfix counterpart: `flush/flush.c` (`flush_service()`, `flush_request_receive()`).
//! A client connects to `public/flush`; the service announces
//! `protocol=queue_flush_protocol` and reads one request: `add` (site, queue_id: the
//! defer service logs a deferred message for its destination), `send_site` (site: ETRN,
//! `postqueue -s`), `send_file` (queue_id: `postqueue -i`), `rfrsh` (refresh logs that
//! nobody read for `fast_flush_refresh_time`) or `purge` (refresh every log), and answers
//! `status` (`FLUSH_STAT_*`). The master's wakeup (`1000?` in master.cf) arrives as a bare
//! trigger byte and means `rfrsh`. Logs are kept only for destinations in
//! `fast_flush_domains` (logfile.rs has the per-destination logs).
//!
//! master.cf: `flush unix n - y 1000? 0 flush` (a single-client service).

mod logfile;

use global::flush_clnt::{STAT_BAD, STAT_DENY, STAT_FAIL, STAT_OK};
use global::match_list::{MatchList, Matcher};
use ipc::{Attrs, Flavor, mail_attr};
use logfile::{How, Logs};
use server::single::Stream;
use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

/// The protocol the service announces.
const PROTOCOL: &str = "queue_flush_protocol";

/// What the service needs, read before the jail.
struct Flush {
    /// `fast_flush_domains`.
    domains: MatchList,
    /// The logs and the queue.
    logs: Logs,
    /// `fast_flush_refresh_time`.
    refresh: i64,
    /// `ipc_timeout`.
    ipc_timeout: Duration,
}

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements {
        unlimited: true,
        ..Default::default()
    });
    let flush = settings(&daemon.config).unwrap_or_else(|e| global::fatal_config(e));
    daemon.enter_jail();
    let mut flush = flush;
    server::single::serve(daemon, |_, stream| flush.service(stream))
}

fn settings(config: &params::Config) -> Result<Flush, params::ConfigError> {
    use params::decl::queue::{FAST_FLUSH_PURGE_TIME, FAST_FLUSH_REFRESH_TIME};
    let domains = global::match_list::from_parameter(
        config,
        &params::decl::smtpd::FAST_FLUSH_DOMAINS,
        &[Matcher::Hostname],
    )?;
    Ok(Flush {
        domains,
        logs: Logs {
            layout: global::mail_queue::Layout::from_config(config)?,
            purge: config.time(&FAST_FLUSH_PURGE_TIME)?,
            queue_service: config.str(&params::decl::cleanup::QUEUE_SERVICE_NAME)?,
        },
        refresh: config.time(&FAST_FLUSH_REFRESH_TIME)?,
        ipc_timeout: Duration::from_secs(config.time(&params::decl::process::IPC_TIMEOUT)? as u64),
    })
}

/// One request as read: the request name and its attributes.
enum Request {
    /// A master trigger (`W`) or an unknown short request.
    Trigger(Vec<u8>),
    /// An attribute-list request.
    List(Attrs),
}

impl Flush {
    /// One client (`flush_service`).
    fn service(&mut self, stream: Stream) {
        let mut reader = BufReader::new(stream);
        let hello = Attrs::new().str(mail_attr::PROTO, PROTOCOL);
        let writer = reader.get_mut();
        if ipc::attr::write(writer, Flavor::Null, &hello)
            .and_then(|()| writer.flush())
            .is_err()
        {
            return;
        }
        let status = match self.receive(&mut reader) {
            None => STAT_BAD,
            Some(Request::Trigger(request)) => {
                if request == b"W" || request == b"rfrsh" {
                    self.reply(reader.get_mut(), STAT_OK);
                    self.logs.refresh(self.refresh);
                }
                return;
            }
            Some(Request::List(attrs)) => match attrs.get_str(mail_attr::REQ).unwrap_or("") {
                "add" => match (attrs.get_str("site"), attrs.get_str(mail_attr::QUEUEID)) {
                    (Ok(site), Ok(id)) if global::mail_queue::id_ok(id) => self.add(site, id),
                    _ => STAT_BAD,
                },
                "send_site" => match attrs.get_str("site") {
                    Ok(site) => self.send_site(site),
                    Err(_) => STAT_BAD,
                },
                "send_file" => match attrs.get_str(mail_attr::QUEUEID) {
                    Ok(id) => self.logs.send_file(id),
                    Err(_) => STAT_BAD,
                },
                "rfrsh" | "purge" => {
                    self.reply(reader.get_mut(), STAT_OK);
                    let purge = attrs.get_str(mail_attr::REQ) == Ok("purge");
                    self.logs.refresh(if purge { 0 } else { self.refresh });
                    return;
                }
                // Postfix's service answers nothing to a request it does not know.
                _ => return,
            },
        };
        self.reply(reader.get_mut(), status);
    }

    fn reply(&self, writer: &mut impl Write, status: i32) {
        let reply = Attrs::new().int(mail_attr::STATUS, status);
        let _ = ipc::attr::write(writer, Flavor::Null, &reply).and_then(|()| writer.flush());
    }

    /// Reads the request: a master trigger is at most two bytes (the request and a null),
    /// anything longer is an attribute list (`flush_request_receive`).
    fn receive(&self, reader: &mut BufReader<Stream>) -> Option<Request> {
        if let Err(e) = reader.get_ref().set_read_timeout(Some(self.ipc_timeout)) {
            log::msg_warn!("cannot set a read timeout: {}", sys::os_error(&e));
        }
        let available = match reader.fill_buf() {
            Ok(buffer) => buffer.len(),
            Err(e) => {
                log::msg_warn!(
                    "timeout while waiting for data from client: {}",
                    sys::os_error(&e)
                );
                return None;
            }
        };
        if available <= 2 {
            let mut request = Vec::new();
            if let Err(e) = reader.read_until(0, &mut request) {
                log::msg_warn!(
                    "end-of-input while reading request from client: {}",
                    sys::os_error(&e)
                );
                return None;
            }
            if request.last() == Some(&0) {
                request.pop();
            }
            return Some(Request::Trigger(request));
        }
        match ipc::attr::read(reader, Flavor::Null) {
            Ok(Some(attrs)) => Some(Request::List(attrs)),
            _ => None,
        }
    }

    /// Whether `site` may have a log; a list error is a failure status.
    fn eligible(&self, site: &str) -> Result<bool, i32> {
        self.domains.matches(&[site]).map_err(|e| {
            log::msg_warn!("{e}");
            STAT_FAIL
        })
    }

    /// `add site queue_id` (`flush_add_service`).
    fn add(&self, site: &str, id: &str) -> i32 {
        if log::verbose() > 0 {
            log::msg_info!("flush_add_service: site {site} queue_id {id}");
        }
        match self.eligible(site) {
            Ok(true) => {}
            Ok(false) => return STAT_DENY,
            Err(status) => return status,
        }
        match logfile::site_to_path(site) {
            Some(path) => self.logs.add(&path, id),
            None => STAT_DENY,
        }
    }

    /// `send_site site` (`flush_send_service`).
    fn send_site(&self, site: &str) -> i32 {
        if log::verbose() > 0 {
            log::msg_info!("flush_send_service: site {site}");
        }
        match self.eligible(site) {
            Ok(true) => {}
            Ok(false) => return STAT_DENY,
            Err(status) => return status,
        }
        match logfile::site_to_path(site) {
            Some(path) => self.logs.send_path(&path, How::UnthrottleBefore),
            None => STAT_DENY,
        }
    }
}
