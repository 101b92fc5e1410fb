//! The client of the address verification service: what is known about an address
//! (`query`), and what a probe found (`update`).
//!
//! Postfix counterparts: `global/verify_clnt.c` and `verify_clnt.h`. The service is
//! `private/$address_verify_service_name`; it announces its protocol, then answers one
//! null-terminated attribute list per request over a connection the client keeps
//! (Postfix's clnt_stream: closed after ipc_idle seconds unused or ipc_ttl seconds old).
//! A query's answer has two statuses: the request's (`VRFY_STAT_*`: did the service
//! understand) and the address's (`DEL_RCPT_STAT_*`: deliverable, undeliverable, or a
//! probe in progress). smtpd's reject_unverified_recipient polls a query while a probe is
//! in progress ([`VerifyClient::query_poll`], address_verify_poll_count and
//! address_verify_poll_delay). The delivery agents' update after a probe is
//! [`crate::verify::verify_append`], which uses [`update_once`]'s exchange.

use crate::clnt_stream::{ClntStream, protocol_error};
use crate::deliver_request::{DEL_RCPT_STAT_BOUNCE, DEL_RCPT_STAT_DEFER, DEL_RCPT_STAT_OK};
use ipc::{Attrs, mail_attr};
use std::time::Duration;
use util::eight_bit::to_bytes;

/// The request to look an address up (`VRFY_REQ_QUERY`).
pub const VRFY_REQ_QUERY: &str = "query";
/// The request to record a probe's result (`VRFY_REQ_UPDATE`).
pub const VRFY_REQ_UPDATE: &str = "update";
/// The request was served (`VRFY_STAT_OK`).
pub const VRFY_STAT_OK: i32 = 0;
/// The request failed (`VRFY_STAT_FAIL`).
pub const VRFY_STAT_FAIL: i32 = -1;
/// The request was malformed (`VRFY_STAT_BAD`).
pub const VRFY_STAT_BAD: i32 = -2;
/// No result yet: a probe is on its way (`DEL_RCPT_STAT_TODO`).
pub const DEL_RCPT_STAT_TODO: i32 = 3;
/// The attribute with an address status (`MAIL_ATTR_ADDR_STATUS`).
pub const ATTR_ADDR_STATUS: &str = "recipient_status";

/// The name of an address status as the verify service logs and stores it, and as
/// verify_clnt's test program prints it: deliverable, undeliverable, or None for a probe
/// in progress or an unknown status (Postfix's `verify_stat2name`).
pub fn stat2name(addr_status: i32) -> Option<&'static str> {
    match addr_status {
        DEL_RCPT_STAT_OK => Some("deliverable"),
        DEL_RCPT_STAT_DEFER | DEL_RCPT_STAT_BOUNCE => Some("undeliverable"),
        _ => None,
    }
}

/// What the service said about an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `VRFY_STAT_*`: whether the request was served.
    pub request_status: i32,
    /// `DEL_RCPT_STAT_*`: what is known about the address.
    pub addr_status: i32,
    /// The text that goes with it ("Address verification in progress", a delivery
    /// agent's reason).
    pub why: String,
}

/// A connection to the verify service that is kept between requests.
pub struct VerifyClient {
    /// The service and the kept connection.
    pub stream: ClntStream,
}

impl VerifyClient {
    /// A client of `private/<service>`; it connects at the first request.
    pub fn new(
        service: &str,
        timeout: Duration,
        idle_limit: Duration,
        ttl_limit: Duration,
    ) -> Self {
        VerifyClient {
            stream: ClntStream::new(
                service,
                crate::verify::PROTO_VERIFY,
                timeout,
                idle_limit,
                ttl_limit,
            ),
        }
    }

    /// The client main.cf describes: address_verify_service_name, ipc_timeout,
    /// ipc_idle and ipc_ttl.
    pub fn from_config(config: &params::Config) -> Result<Self, params::ConfigError> {
        use params::decl::process::{IPC_IDLE, IPC_TIMEOUT, IPC_TTL};
        let secs = |p| config.time(p).map(|t| Duration::from_secs(t.max(1) as u64));
        Ok(VerifyClient::new(
            &config.str(&params::decl::cleanup::ADDRESS_VERIFY_SERVICE_NAME)?,
            secs(&IPC_TIMEOUT)?,
            secs(&IPC_IDLE)?,
            secs(&IPC_TTL)?,
        ))
    }

    /// Asks what is known about `addr` (`verify_clnt_query`), trying every second until
    /// the service answers, as Postfix does; the watchdog ends a wait that is too long.
    pub fn query(&mut self, addr: &str) -> Answer {
        let request = Attrs::new()
            .str(mail_attr::REQ, VRFY_REQ_QUERY)
            .bytes(mail_attr::ADDR, &to_bytes(addr));
        let mut count = 0;
        loop {
            count += 1;
            match self.exchange(&request) {
                Ok(reply) => {
                    if let (Some(request_status), Some(addr_status), Some(why)) = (
                        reply.get_int(mail_attr::STATUS),
                        reply.get_int(ATTR_ADDR_STATUS),
                        reply.get_bytes(mail_attr::WHY),
                    ) {
                        return Answer {
                            request_status,
                            addr_status,
                            why: String::from_utf8_lossy(why).into_owned(),
                        };
                    }
                    self.trouble(&protocol_error(), count > 1);
                }
                Err(e) => self.trouble(&e, count > 1),
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// Queries `addr`, asking again up to `poll_count` times in all, `poll_delay` apart,
    /// while the answer is "probe in progress" (smtpd's loop around the query, with
    /// address_verify_poll_count and address_verify_poll_delay).
    pub fn query_poll(&mut self, addr: &str, poll_count: i32, poll_delay: Duration) -> Answer {
        let mut count = 0;
        loop {
            let answer = self.query(addr);
            count += 1;
            if answer.request_status != VRFY_STAT_OK
                || answer.addr_status != DEL_RCPT_STAT_TODO
                || count >= poll_count
            {
                return answer;
            }
            std::thread::sleep(poll_delay);
        }
    }

    /// Records what a probe found about `addr` (`verify_clnt_update`), trying every
    /// second until the service answers: the service's `VRFY_STAT_*`.
    pub fn update(&mut self, addr: &str, addr_status: i32, why: &str) -> i32 {
        let request = update_request(addr, addr_status, why);
        loop {
            match self.exchange(&request) {
                Ok(reply) => match reply.get_int(mail_attr::STATUS) {
                    Some(status) => return status,
                    None => self.trouble(&protocol_error(), false),
                },
                Err(e) => self.trouble(&e, false),
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// Postfix's warning after a failed exchange: quiet for the first failure of a
    /// connection the service closed (EPIPE) or that is not there yet (ENOENT).
    fn trouble(&mut self, e: &std::io::Error, again: bool) {
        self.stream.recover();
        let quiet = matches!(
            e.raw_os_error(),
            Some(sys::libc::EPIPE | sys::libc::ENOENT) | None
        );
        if log::verbose() > 0 || again || !quiet {
            log::msg_warn!(
                "problem talking to service {}: {}",
                self.stream.service,
                sys::os_error(e)
            );
        }
    }

    /// One request and its reply over the kept connection.
    fn exchange(&mut self, request: &Attrs) -> std::io::Result<Attrs> {
        self.stream.access()?.exchange(request)
    }
}

/// An update request (`verify_clnt_update`'s attributes).
fn update_request(addr: &str, addr_status: i32, why: &str) -> Attrs {
    Attrs::new()
        .str(mail_attr::REQ, VRFY_REQ_UPDATE)
        .bytes(mail_attr::ADDR, &to_bytes(addr))
        .int(ATTR_ADDR_STATUS, addr_status)
        .bytes(mail_attr::WHY, &to_bytes(why))
}

/// One update over a connection of its own, for a delivery agent that reports one probe
/// and goes on: the service's status, or the error to retry on.
pub fn update_once(
    dir: &str,
    service: &str,
    timeout: Duration,
    addr: &str,
    addr_status: i32,
    why: &str,
) -> std::io::Result<i32> {
    let mut stream = ClntStream::new(
        service,
        crate::verify::PROTO_VERIFY,
        timeout,
        timeout,
        timeout,
    );
    stream.dir = dir.to_string();
    stream
        .access()?
        .exchange(&update_request(addr, addr_status, why))?
        .get_int(mail_attr::STATUS)
        .ok_or_else(protocol_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipc::Flavor;
    use std::io::BufReader;
    use std::os::unix::net::UnixListener;

    #[test]
    fn status_names() {
        assert_eq!(stat2name(DEL_RCPT_STAT_OK), Some("deliverable"));
        assert_eq!(stat2name(DEL_RCPT_STAT_DEFER), Some("undeliverable"));
        assert_eq!(stat2name(DEL_RCPT_STAT_BOUNCE), Some("undeliverable"));
        assert_eq!(stat2name(DEL_RCPT_STAT_TODO), None);
    }

    /// A fake service: announces the protocol, then answers each request with the next
    /// reply, recording the requests.
    fn fake_service(
        dir: &std::path::Path,
        replies: Vec<Attrs>,
    ) -> std::thread::JoinHandle<Vec<Attrs>> {
        let listener = UnixListener::bind(dir.join("verify")).unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut out = stream;
            let hello = Attrs::new().str(mail_attr::PROTO, crate::verify::PROTO_VERIFY);
            ipc::attr::write(&mut out, Flavor::Null, &hello).unwrap();
            let mut seen = Vec::new();
            for reply in replies {
                seen.push(ipc::attr::read(&mut reader, Flavor::Null).unwrap().unwrap());
                ipc::attr::write(&mut out, Flavor::Null, &reply).unwrap();
            }
            seen
        })
    }

    #[test]
    fn polling_stops_at_an_answer_and_keeps_the_connection() {
        let dir = crate::scratch_dir("verify-clnt-poll");
        let todo = Attrs::new()
            .int(mail_attr::STATUS, VRFY_STAT_OK)
            .int(ATTR_ADDR_STATUS, DEL_RCPT_STAT_TODO)
            .str(mail_attr::WHY, "Address verification in progress");
        let done = Attrs::new()
            .int(mail_attr::STATUS, VRFY_STAT_OK)
            .int(ATTR_ADDR_STATUS, DEL_RCPT_STAT_BOUNCE)
            .str(mail_attr::WHY, "unknown user");
        let service = fake_service(&dir, vec![todo, done]);
        let mut client = VerifyClient::new(
            "verify",
            Duration::from_secs(5),
            Duration::from_secs(5),
            Duration::from_secs(100),
        );
        client.stream.dir = dir.display().to_string();
        let answer = client.query_poll("u@example.com", 3, Duration::from_millis(10));
        assert_eq!(
            answer,
            Answer {
                request_status: VRFY_STAT_OK,
                addr_status: DEL_RCPT_STAT_BOUNCE,
                why: "unknown user".into()
            }
        );
        let seen = service.join().unwrap();
        let query = Attrs::new()
            .str(mail_attr::REQ, "query")
            .str(mail_attr::ADDR, "u@example.com");
        assert_eq!(seen, vec![query.clone(), query]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn one_update_on_its_own_connection() {
        let dir = crate::scratch_dir("verify-clnt-update");
        let ok = Attrs::new().int(mail_attr::STATUS, VRFY_STAT_OK);
        let service = fake_service(&dir, vec![ok]);
        let status = update_once(
            &dir.display().to_string(),
            "verify",
            Duration::from_secs(5),
            "u@example.com",
            DEL_RCPT_STAT_OK,
            "250 2.1.5 Ok",
        )
        .unwrap();
        assert_eq!(status, VRFY_STAT_OK);
        let seen = service.join().unwrap();
        assert_eq!(
            seen,
            vec![
                Attrs::new()
                    .str(mail_attr::REQ, "update")
                    .str(mail_attr::ADDR, "u@example.com")
                    .int(ATTR_ADDR_STATUS, 0)
                    .str(mail_attr::WHY, "250 2.1.5 Ok")
            ]
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
