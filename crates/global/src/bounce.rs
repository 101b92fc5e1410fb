//! The status clients' configuration, and the client of the bounce service: a
//! recipient that cannot be delivered.
//!
//! Postfix counterparts: `global/bounce.c` (`bounce_append`, `bounce_one`,
//! `bounce_flush`, `bounce_flush_verp`) and the `var_*_service` settings that
//! `global/mail_params.c` gives every status client. The bounce, defer and trace
//! services speak `delivery_status_protocol`, one request per connection
//! (mail_command_client). A failed recipient goes to the message's bounce log, or, for
//! an address probe, to the verify service (`DEL_REQ_FLAG_MTA_VRFY`) or the trace
//! service (`DEL_REQ_FLAG_USR_VRFY`) instead; with `DEL_REQ_FLAG_RECORD` (sendmail -v)
//! it also goes to the trace log. When the bounce or trace service fails the recipient
//! is deferred instead, unless the caller asked for `BOUNCE_FLAG_CLEAN` (cleanup, which
//! then rejects the whole message). With soft_bounce a bounce is a deferral that says
//! `SOFTBOUNCE`. The return value is Postfix's: 0 when the recipient is dealt with, -1
//! when it stays in the queue. An agent's delivery status filter (dsn_filter.rs) may
//! replace the status first: a bounce it makes 4.x.x is deferred, and the other way round.

use crate::deliver_request::{DEL_REQ_FLAG_MTA_VRFY, DEL_REQ_FLAG_RECORD, DEL_REQ_FLAG_USR_VRFY};
use crate::dsn_print::{Dsn, dsn_print};
use crate::log_adhoc::{LogForm, log_adhoc};
use crate::mail_command_client::mail_command_client;
use crate::msg_stats::MsgStats;
use crate::rcpt_print::{Recipient, rcpt_print};
use ipc::{Attrs, mail_attr};
use params::decl::cleanup::{ADDRESS_VERIFY_SERVICE_NAME, BOUNCE_SERVICE_NAME, TRACE_SERVICE_NAME};
use std::time::Duration;
use util::eight_bit::to_bytes;

/// Append a recipient's status to a per-message log (`BOUNCE_CMD_APPEND`).
pub const BOUNCE_CMD_APPEND: i32 = 0;
/// Send the log to the sender and remove it (`BOUNCE_CMD_FLUSH`).
pub const BOUNCE_CMD_FLUSH: i32 = 1;
/// Send a delay warning, keep the log (`BOUNCE_CMD_WARN`).
pub const BOUNCE_CMD_WARN: i32 = 2;
/// Send the log VERP style (`BOUNCE_CMD_VERP`).
pub const BOUNCE_CMD_VERP: i32 = 3;
/// Send a notice about one recipient (`BOUNCE_CMD_ONE`).
pub const BOUNCE_CMD_ONE: i32 = 4;
/// Send the delivery report (`BOUNCE_CMD_TRACE`).
pub const BOUNCE_CMD_TRACE: i32 = 5;

/// No flags (`BOUNCE_FLAG_NONE`, also `BOUNCE_FLAG_KEEP`).
pub const BOUNCE_FLAG_NONE: i32 = 0;
/// Remove the log when the request fails (`BOUNCE_FLAG_CLEAN`).
pub const BOUNCE_FLAG_CLEAN: i32 = 1 << 0;
/// Mark the recipients done in the queue file (`BOUNCE_FLAG_DELRCPT`).
pub const BOUNCE_FLAG_DELRCPT: i32 = 1 << 1;

/// The relay of a status that no agent delivered (`NO_RELAY_AGENT`).
pub const NO_RELAY_AGENT: &str = "none";

/// The protocol the bounce, defer and trace services announce.
pub const PROTO_BOUNCE: &str = "delivery_status_protocol";

/// What every status client needs to know.
pub struct StatusConf {
    /// `bounce_service_name`.
    pub bounce_service: String,
    /// `defer_service_name`.
    pub defer_service: String,
    /// `trace_service_name`.
    pub trace_service: String,
    /// `address_verify_service_name`.
    pub verify_service: String,
    /// `flush_service_name`.
    pub flush_service: String,
    /// Where the private services' sockets are: `private`, relative to the queue
    /// directory (the daemons' working directory).
    pub private_dir: String,
    /// Where the public services' sockets are: `public`.
    pub public_dir: String,
    /// `ipc_timeout`.
    pub ipc_timeout: Duration,
    /// `soft_bounce`.
    pub soft_bounce: bool,
    /// `address_verify_negative_cache`.
    pub verify_neg_cache: bool,
    /// `fast_flush_domains`: whose deferred mail the flush service hears about.
    pub flush_domains: crate::match_list::MatchList,
    /// How the status line is written.
    pub log: LogForm,
    /// The agent's delivery status filter, if it has one (`bounce_client_init`).
    pub filter: Option<crate::dsn_filter::DsnFilter>,
}

impl StatusConf {
    /// The settings in main.cf.
    pub fn from_config(config: &params::Config) -> Result<StatusConf, params::ConfigError> {
        let str = |param| config.str(param);
        Ok(StatusConf {
            bounce_service: str(&BOUNCE_SERVICE_NAME)?,
            defer_service: str(&params::decl::qmgr::DEFER_SERVICE_NAME)?,
            trace_service: str(&TRACE_SERVICE_NAME)?,
            verify_service: str(&ADDRESS_VERIFY_SERVICE_NAME)?,
            flush_service: str(&params::decl::smtpd::FLUSH_SERVICE_NAME)?,
            private_dir: "private".to_string(),
            public_dir: "public".to_string(),
            ipc_timeout: Duration::from_secs(
                config.time(&params::decl::process::IPC_TIMEOUT)?.max(1) as u64,
            ),
            soft_bounce: config.bool(&params::decl::queue::SOFT_BOUNCE)?,
            verify_neg_cache: config
                .bool(&params::decl::delivery::ADDRESS_VERIFY_NEGATIVE_CACHE)?,
            flush_domains: crate::match_list::from_parameter(
                config,
                &params::decl::smtpd::FAST_FLUSH_DOMAINS,
                &[crate::match_list::Matcher::Hostname],
            )?,
            log: LogForm::from_config(config)?,
            filter: None,
        })
    }

    /// Makes the tables in `maps` (parameter `title`, e.g.
    /// virtual_delivery_status_filter) the delivery status filter (`bounce_client_init`).
    pub fn bounce_client_init(&mut self, title: &str, maps: &str) -> Result<(), String> {
        if !maps.trim().is_empty() {
            let filter = crate::dsn_filter::DsnFilter::create(title, maps);
            self.filter = Some(filter.map_err(|e| e.to_string())?);
        }
        Ok(())
    }

    /// The filter's replacement for `dsn`, if any.
    pub(crate) fn filtered(&self, dsn: &Dsn) -> Option<Dsn> {
        self.filter.as_ref()?.lookup(dsn)
    }

    /// A failure's status after the filter, and whether the filter moved it to the
    /// other class (`other`: '4' for a bounce that must be deferred, '5' for a
    /// deferral that must bounce).
    pub(crate) fn filtered_failure(&self, dsn: Dsn, other: char) -> (Dsn, bool) {
        match self.filtered(&dsn) {
            Some(res) => {
                let moved = res.status.starts_with(other);
                (res, moved)
            }
            None => (dsn, false),
        }
    }

    /// One request to private service `name`: its status, or -1 after a logged failure.
    pub(crate) fn command(&self, name: &str, request: &Attrs) -> i32 {
        mail_command_client(
            &self.private_dir,
            name,
            PROTO_BOUNCE,
            request,
            self.ipc_timeout,
        )
    }
}

/// What a notice about the whole message needs (the `queue, id, encoding, smtputf8,
/// sender, dsn_envid, dsn_ret` arguments of Postfix's flush and one-recipient calls).
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    /// The queue the file is in.
    pub queue: &'a str,
    /// The queue ID.
    pub id: &'a str,
    /// `encoding` attribute (`8bit`, `7bit` or empty).
    pub encoding: &'a str,
    /// The SMTPUTF8 flags.
    pub smtputf8: i32,
    /// The envelope sender, who gets the notice.
    pub sender: &'a str,
    /// DSN ENVID.
    pub dsn_envid: &'a str,
    /// DSN RET.
    pub dsn_ret: i32,
}

impl Envelope<'_> {
    /// `attrs` followed by the message's attributes, in Postfix's order.
    pub(crate) fn print(&self, attrs: Attrs) -> Attrs {
        attrs
            .str("queue_name", self.queue)
            .str(mail_attr::QUEUEID, self.id)
            .str(mail_attr::ENCODING, self.encoding)
            .int("smtputf8", self.smtputf8)
            .bytes("sender", &to_bytes(self.sender))
            .bytes(mail_attr::DSN_ENVID, &to_bytes(self.dsn_envid))
            .int(mail_attr::DSN_RET, self.dsn_ret)
    }
}

/// A status of class `class` as the client sends it: a malformed or wrong-class code
/// becomes `fallback`, with Postfix's warning naming `caller`.
pub(crate) fn checked_status(caller: &str, dsn: &Dsn, class: char, fallback: &str) -> Dsn {
    let mut dsn = dsn.clone();
    if !dsn.status.starts_with(class) || crate::dsn_util::dsn_valid(&dsn.status) == 0 {
        log::msg_warn!("{caller}: ignoring dsn code \"{}\"", dsn.status);
        dsn.status = fallback.to_string();
    }
    dsn
}

/// What every request to the bounce, defer and trace services starts with: the
/// command (`BOUNCE_CMD_*`) and the flags.
pub(crate) fn request(command: i32, flags: i32) -> Attrs {
    Attrs::new()
        .int("nrequest", command)
        .int(mail_attr::FLAGS, flags)
}

/// The request that adds `rcpt` and its status to a log of message `id`
/// (`BOUNCE_CMD_APPEND`, which bounce_append, defer_append and trace_append send).
pub(crate) fn append_request(flags: i32, id: &str, rcpt: &Recipient, dsn: &Dsn) -> Attrs {
    let head = request(BOUNCE_CMD_APPEND, flags).str(mail_attr::QUEUEID, id);
    dsn_print(rcpt_print(head, rcpt), dsn)
}

/// A recipient that cannot be delivered goes to the bounce log (`bounce_append`).
pub fn bounce_append(
    conf: &StatusConf,
    flags: i32,
    id: &str,
    stats: &MsgStats,
    rcpt: &Recipient,
    relay: &str,
    dsn: &Dsn,
) -> i32 {
    let dsn = checked_status("bounce_append", dsn, '5', "5.0.0");
    match conf.filtered_failure(dsn, '4') {
        (dsn, false) => bounce_append_intern(conf, flags, id, stats, rcpt, relay, &dsn),
        (res, true) => crate::defer::defer_append_intern(conf, flags, id, stats, rcpt, relay, &res),
    }
}

/// The answer to an address probe, if this is one: the verify service (for
/// `DEL_REQ_FLAG_MTA_VRFY`) or the trace service (`DEL_REQ_FLAG_USR_VRFY`) gets the
/// recipient with `vrfy_stat`, as `deliverable` when that is `DEL_RCPT_STAT_OK` (sent)
/// and `undeliverable` otherwise (bounce, defer).
pub(crate) fn probe_answer(
    conf: &StatusConf,
    flags: i32,
    id: &str,
    stats: &MsgStats,
    rcpt: &Recipient,
    relay: &str,
    dsn: &Dsn,
    vrfy_stat: i32,
) -> Option<i32> {
    let answer = || Dsn {
        action: if vrfy_stat == crate::deliver_request::DEL_RCPT_STAT_OK {
            "deliverable"
        } else {
            "undeliverable"
        }
        .to_string(),
        ..dsn.clone()
    };
    if flags & DEL_REQ_FLAG_MTA_VRFY != 0 {
        let dsn = answer();
        return Some(crate::verify::verify_append(
            conf, id, stats, rcpt, relay, &dsn, vrfy_stat,
        ));
    }
    if flags & DEL_REQ_FLAG_USR_VRFY != 0 {
        let dsn = answer();
        return Some(crate::trace::trace_append(
            conf, flags, id, stats, rcpt, relay, &dsn,
        ));
    }
    None
}

/// `bounce_append` after the status check.
pub(crate) fn bounce_append_intern(
    conf: &StatusConf,
    flags: i32,
    id: &str,
    stats: &MsgStats,
    rcpt: &Recipient,
    relay: &str,
    dsn: &Dsn,
) -> i32 {
    let stat = crate::deliver_request::DEL_RCPT_STAT_BOUNCE;
    if let Some(status) = probe_answer(conf, flags, id, stats, rcpt, relay, dsn, stat) {
        return status;
    }
    // Pretending that we cannot bounce: no defer log where the bounce log would go.
    if conf.soft_bounce && flags & BOUNCE_FLAG_CLEAN != 0 {
        return -1;
    }
    let mut my_dsn = dsn.clone();
    let (service, log_status) = if conf.soft_bounce {
        my_dsn.status.replace_range(..1, "4");
        my_dsn.action = "delayed".to_string();
        (&conf.defer_service, "SOFTBOUNCE")
    } else {
        my_dsn.action = "failed".to_string();
        (&conf.bounce_service, "bounced")
    };
    let request = append_request(flags, id, rcpt, &my_dsn);
    recorded_or_deferred(conf, flags, id, stats, rcpt, relay, &my_dsn, || {
        conf.command(service, &request) == 0
    })
    .map_or_else(
        |status| status,
        |()| {
            log_adhoc(&conf.log, id, stats, rcpt, relay, &my_dsn, log_status);
            if conf.soft_bounce { -1 } else { 0 }
        },
    )
}

/// After a bounce request (`sent` tells whether the service took it): Ok when it and
/// the trace record that `DEL_REQ_FLAG_RECORD` asks for were written; else the
/// recipient is deferred with "4.3.0 bounce or trace service failure" (the status of
/// that), or -1 for a `BOUNCE_FLAG_CLEAN` caller.
fn recorded_or_deferred(
    conf: &StatusConf,
    flags: i32,
    id: &str,
    stats: &MsgStats,
    rcpt: &Recipient,
    relay: &str,
    dsn: &Dsn,
    sent: impl FnOnce() -> bool,
) -> Result<(), i32> {
    if sent()
        && (flags & DEL_REQ_FLAG_RECORD == 0
            || crate::trace::trace_append(conf, flags, id, stats, rcpt, relay, dsn) == 0)
    {
        return Ok(());
    }
    if flags & BOUNCE_FLAG_CLEAN != 0 {
        return Err(-1);
    }
    let failure = Dsn {
        status: "4.3.0".to_string(),
        reason: format!(
            "{} or {} service failure",
            conf.bounce_service, conf.trace_service
        ),
        ..dsn.clone()
    };
    Err(crate::defer::defer_append_intern(
        conf, flags, id, stats, rcpt, relay, &failure,
    ))
}

/// A recipient that cannot be delivered gets a notice of its own, now, instead of
/// going to the bounce log (`bounce_one`: the error agent for single-recipient
/// mail, and sendmail -bv).
pub fn bounce_one(
    conf: &StatusConf,
    flags: i32,
    msg: &Envelope,
    stats: &MsgStats,
    rcpt: &Recipient,
    relay: &str,
    dsn: &Dsn,
) -> i32 {
    let id = msg.id;
    let dsn = match conf.filtered_failure(checked_status("bounce_one", dsn, '5', "5.0.0"), '4') {
        (dsn, false) => dsn,
        (res, true) => {
            return crate::defer::defer_append_intern(conf, flags, id, stats, rcpt, relay, &res);
        }
    };
    let stat = crate::deliver_request::DEL_RCPT_STAT_BOUNCE;
    if let Some(status) = probe_answer(conf, flags, id, stats, rcpt, relay, &dsn, stat) {
        return status;
    }
    if conf.soft_bounce {
        return bounce_append_intern(conf, flags, id, stats, rcpt, relay, &dsn);
    }
    let my_dsn = Dsn {
        action: "failed".to_string(),
        ..dsn
    };
    let head = msg.print(request(BOUNCE_CMD_ONE, flags));
    let request = dsn_print(rcpt_print(head, rcpt), &my_dsn);
    match recorded_or_deferred(conf, flags, id, stats, rcpt, relay, &my_dsn, || {
        conf.command(&conf.bounce_service, &request) == 0
    }) {
        Ok(()) => {
            log_adhoc(&conf.log, id, stats, rcpt, relay, &my_dsn, "bounced");
            0
        }
        Err(status) => status,
    }
}

/// Has the bounce service send the bounce log to the sender and remove it
/// (`bounce_flush`, or `bounce_flush_verp` with VERP delimiters): 0 when sent.
pub fn bounce_flush(conf: &StatusConf, flags: i32, msg: &Envelope, verp: Option<&str>) -> i32 {
    // Pretending that we cannot bounce: no notice.
    if conf.soft_bounce {
        return -1;
    }
    let command = if verp.is_some() {
        BOUNCE_CMD_VERP
    } else {
        BOUNCE_CMD_FLUSH
    };
    let mut request = msg.print(request(command, flags));
    if let Some(delims) = verp {
        request = request.str("verp_delimiters", delims);
    }
    if conf.command(&conf.bounce_service, &request) == 0 {
        return 0;
    }
    if flags & BOUNCE_FLAG_CLEAN == 0 {
        log::msg_info!("{}: status=deferred (bounce failed)", msg.id);
    }
    -1
}

#[cfg(test)]
mod tests {
    //! The status clients against fake services: what each one asks of which service.

    use super::*;
    use crate::match_list::{ListFlags, MatchList, Matcher};
    use ipc::Flavor;
    use std::io::BufReader;
    use std::os::unix::net::UnixListener;
    use std::sync::{Arc, Mutex};

    /// The requests the fake services received, by service name, in order.
    type Seen = Arc<Mutex<Vec<(String, Attrs)>>>;

    /// Fake services `names` in a scratch directory: each announces `proto` (the verify
    /// service its own), records every request and answers `status`; a name not listed
    /// has no socket.
    fn services(what: &str, names: &[(&str, i32)], flush: &str) -> (StatusConf, Seen) {
        let dir = crate::scratch_dir(what);
        let seen: Seen = Arc::default();
        for (name, status) in names {
            let listener = UnixListener::bind(dir.join(name)).unwrap();
            let (name, status, seen) = (name.to_string(), *status, seen.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let proto = match name.as_str() {
                        "verify" => crate::verify::PROTO_VERIFY,
                        "flush" => "queue_flush_protocol",
                        _ => PROTO_BOUNCE,
                    };
                    let mut writer = &stream;
                    let hello = Attrs::new().str(mail_attr::PROTO, proto);
                    if ipc::attr::write(&mut writer, Flavor::Null, &hello).is_err() {
                        continue;
                    }
                    let mut reader = BufReader::new(&stream);
                    if let Ok(Some(request)) = ipc::attr::read(&mut reader, Flavor::Null) {
                        seen.lock().unwrap().push((name.clone(), request));
                        let reply = Attrs::new().int(mail_attr::STATUS, status);
                        let _ = ipc::attr::write(&mut writer, Flavor::Null, &reply);
                    }
                }
            });
        }
        let class = dir.to_str().unwrap().to_string();
        let conf = StatusConf {
            bounce_service: "bounce".into(),
            defer_service: "defer".into(),
            trace_service: "trace".into(),
            verify_service: "verify".into(),
            flush_service: "flush".into(),
            private_dir: class.clone(),
            public_dir: class,
            ipc_timeout: Duration::from_secs(5),
            soft_bounce: false,
            verify_neg_cache: true,
            flush_domains: MatchList::new(
                "fast_flush_domains",
                ListFlags::default(),
                flush,
                &[Matcher::Hostname],
            ),
            log: LogForm {
                addr_form: crate::info_log_addr_form::AddrForm::External,
                delay_max_res: 2,
            },
            filter: None,
        };
        (conf, seen)
    }

    /// (service, nrequest or request, status, action, reason) of each request seen.
    fn summary(seen: &Seen) -> Vec<(String, String, String, String, String)> {
        seen.lock()
            .unwrap()
            .iter()
            .map(|(name, a)| {
                let get = |n: &str| a.get_str(n).unwrap_or("").to_string();
                let kind = a
                    .get_int("nrequest")
                    .map_or_else(|| get("request"), |n| n.to_string());
                (
                    name.clone(),
                    kind,
                    get("status"),
                    get("action"),
                    get("reason"),
                )
            })
            .collect()
    }

    fn rcpt() -> Recipient {
        Recipient {
            offset: 300,
            address: "user@example.com".into(),
            orig_addr: "alias@example.com".into(),
            ..Recipient::default()
        }
    }

    fn row(
        name: &str,
        kind: &str,
        status: &str,
        action: &str,
        reason: &str,
    ) -> (String, String, String, String, String) {
        (
            name.into(),
            kind.into(),
            status.into(),
            action.into(),
            reason.into(),
        )
    }

    #[test]
    fn a_bounce_goes_to_the_bounce_log_and_the_report() {
        let (conf, seen) = services("bounce-append", &[("bounce", 0), ("trace", 0)], "");
        let stats = MsgStats::default();
        let dsn = Dsn::simple("5.1.1", "no such user");
        let flags = DEL_REQ_FLAG_RECORD;
        let status = bounce_append(&conf, flags, "4ABC", &stats, &rcpt(), "local", &dsn);
        assert_eq!(status, 0);
        assert_eq!(
            summary(&seen),
            [
                row("bounce", "0", "5.1.1", "failed", "no such user"),
                row(
                    "trace",
                    "0",
                    "5.1.1",
                    "failed",
                    "delivery via local: no such user"
                ),
            ]
        );
        let request = &seen.lock().unwrap()[0].1;
        let names: Vec<&[u8]> = request.names().collect();
        assert_eq!(
            &names[..5],
            [
                &b"nrequest"[..],
                b"flags",
                b"queue_id",
                b"original_recipient",
                b"recipient"
            ]
        );
        assert_eq!(request.get_str("offset"), Ok("300"));
    }

    #[test]
    fn a_bad_status_code_and_soft_bounce() {
        let (mut conf, seen) = services("bounce-soft", &[("defer", 0)], "");
        conf.soft_bounce = true;
        let stats = MsgStats::default();
        let dsn = Dsn::simple("4.1.1", "wrong class");
        let status = bounce_append(&conf, 0, "4ABC", &stats, &rcpt(), "local", &dsn);
        // Deferred instead: the status stays in the queue.
        assert_eq!(status, -1);
        assert_eq!(
            summary(&seen),
            [row("defer", "0", "4.0.0", "delayed", "wrong class")]
        );
        // A clean request is not even made.
        let flags = BOUNCE_FLAG_CLEAN;
        assert_eq!(
            bounce_append(&conf, flags, "4ABC", &stats, &rcpt(), "local", &dsn),
            -1
        );
        assert_eq!(summary(&seen).len(), 1);
    }

    #[test]
    fn a_bounce_service_failure_defers() {
        let (conf, seen) = services("bounce-fails", &[("bounce", 1), ("defer", 0)], "");
        let stats = MsgStats::default();
        let dsn = Dsn::simple("5.1.1", "no such user");
        let status = bounce_append(&conf, 0, "4ABC", &stats, &rcpt(), "local", &dsn);
        assert_eq!(status, -1);
        assert_eq!(
            summary(&seen),
            [
                row("bounce", "0", "5.1.1", "failed", "no such user"),
                row(
                    "defer",
                    "0",
                    "4.3.0",
                    "delayed",
                    "bounce or trace service failure"
                ),
            ]
        );
    }

    #[test]
    fn probes_go_to_the_verify_and_trace_services() {
        let (conf, seen) = services("bounce-probe", &[("verify", 0), ("trace", 0)], "");
        let stats = MsgStats::default();
        let dsn = Dsn::simple("5.1.1", "no such user");
        let mta = DEL_REQ_FLAG_MTA_VRFY;
        assert_eq!(
            bounce_append(&conf, mta, "4ABC", &stats, &rcpt(), "local", &dsn),
            0
        );
        let usr = DEL_REQ_FLAG_USR_VRFY;
        let defer = Dsn::simple("4.2.0", "busy");
        assert_eq!(
            crate::defer::defer_append(&conf, usr, "4ABC", &stats, &rcpt(), "local", &defer),
            0
        );
        let seen_rows = summary(&seen);
        assert_eq!(seen_rows[0].1, "update");
        assert_eq!(seen_rows[1].1, "update");
        let verify = seen.lock().unwrap();
        // The original address, then the final one, each with the bounce status.
        assert_eq!(verify[0].1.get_str("address"), Ok("alias@example.com"));
        assert_eq!(verify[1].1.get_str("address"), Ok("user@example.com"));
        assert_eq!(verify[1].1.get_int("recipient_status"), Some(2));
        drop(verify);
        assert_eq!(
            seen_rows[2],
            row(
                "trace",
                "0",
                "4.2.0",
                "undeliverable",
                "delivery via local: busy"
            )
        );
    }

    #[test]
    fn delivered_with_notify_success_and_a_flush_domain() {
        let (conf, seen) = services(
            "bounce-sent",
            &[("trace", 0), ("defer", 0), ("flush", 0)],
            "example.com",
        );
        let stats = MsgStats::default();
        let mut notify = rcpt();
        notify.dsn_notify = crate::dsn_mask::NOTIFY_SUCCESS;
        let dsn = Dsn::simple("2.0.0", "delivered to mailbox");
        let status = crate::sent::sent(&conf, 0, "4ABC", &stats, &notify, "local", &dsn);
        assert_eq!(status, 0);
        let later = Dsn::simple("4.4.1", "connection refused");
        let status = crate::defer::defer_append(&conf, 0, "4ABC", &stats, &rcpt(), "smtp", &later);
        assert_eq!(status, -1);
        assert_eq!(
            summary(&seen),
            [
                row(
                    "trace",
                    "0",
                    "2.0.0",
                    "delivered",
                    "delivery via local: delivered to mailbox"
                ),
                row("defer", "0", "4.4.1", "delayed", "connection refused"),
                row("flush", "add", "", "", ""),
            ]
        );
        assert_eq!(seen.lock().unwrap()[2].1.get_str("site"), Ok("example.com"));
    }
}
