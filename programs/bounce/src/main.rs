//! bounce - the bounce, defer and trace services: per-message delivery logs and the
//! notices made from them.
//!
//! Postfix counterpart: `bounce/bounce.c`. One program serves three master.cf entries
//! (`bounce`, `defer`, `trace`); the service name is the queue directory that holds its
//! logs. On each connection the service announces `delivery_status_protocol`, reads one
//! request (`nrequest` and its attributes), executes it and answers `status` (0 for
//! success):
//!
//! - APPEND: a delivery agent, cleanup or the queue manager adds a recipient's status to
//!   the message's log (log_file.rs);
//! - FLUSH: a non-delivery notice from the bounce log (or an expiry notice from the defer
//!   log), then the log is removed; VERP: the same, one notice per recipient;
//! - WARN: a delay warning from the defer log, which stays;
//! - TRACE: a delivery report (`sendmail -bv`, `sendmail -v`) or DSN SUCCESS notice from
//!   the trace log;
//! - ONE: a non-delivery notice for one recipient, without a log.
//!
//! Notices go to the cleanup service as new mail (post.rs) and are logged as
//! `QUEUEID: sender non-delivery notification: NEWID`. A request with the CLEAN flag
//! removes its log if it fails, so that no half-reported recipient stays behind.
//! `bounce -SVndump_templates` and `-SVnexpand_templates` print the templates, raw and
//! expanded, for `postconf -t` and `postconf -b`.
//!
//! master.cf: `bounce unix - - y - 0 bounce` (and the same for defer and trace: a
//! single-client service without a process limit).

mod compose;
mod idna;
mod log_file;
mod notify;
mod post;
mod settings;
mod template;
#[cfg(test)]
mod tests;

use global::bounce::{
    BOUNCE_CMD_APPEND, BOUNCE_CMD_FLUSH, BOUNCE_CMD_ONE, BOUNCE_CMD_TRACE, BOUNCE_CMD_VERP,
    BOUNCE_CMD_WARN, BOUNCE_FLAG_CLEAN, PROTO_BOUNCE,
};
use ipc::{Attrs, Flavor, mail_attr};
use log_file::{Dsn, Recipient};
use notify::{Request, Service};
use server::single::Stream;
use std::io::{BufReader, Write};
use std::sync::Mutex;

/// The attributes of a notice request, in the order Postfix reads them.
const NOTIFY_ATTRS: &[&str] = &[
    "flags",
    "queue_name",
    "queue_id",
    "encoding",
    "smtputf8",
    "sender",
    "envelope_id",
    "ret_flags",
];
/// A recipient's attributes (`rcpb_scan`).
const RCPT_ATTRS: &[&str] = &[
    "original_recipient",
    "recipient",
    "offset",
    "dsn_orig_rcpt",
    "notify_flags",
];
/// A status's attributes (`dsb_scan`).
const DSN_ATTRS: &[&str] = &[
    "status",
    "diag_type",
    "diag_text",
    "mta_type",
    "mta_mname",
    "action",
    "reason",
];

/// The log a CLEAN request would leave half-made if this process died now.
static CLEANUP_PATH: Mutex<Option<String>> = Mutex::new(None);

/// Removes the registered log (on a fatal error, or when the request failed).
fn remove_registered_log() {
    let path = CLEANUP_PATH.lock().ok().and_then(|mut p| p.take());
    if let Some(path) = path
        && let Err(e) = std::fs::remove_file(&path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        log::msg_warn!("remove {path}: {}", sys::os_error(&e));
    }
}

/// SIGTERM (`postfix stop`, a master that goes away) in the middle of a CLEAN request
/// removes its log before the process ends with the signal's number, as Postfix's
/// `bounce_cleanup_sig` does. A thread of its own waits for the signal, which every
/// other thread keeps blocked; the handler's work is not signal-safe.
fn remove_log_on_sigterm() {
    use sys::nix::sys::signal::{SigSet, Signal};
    let mut term = SigSet::empty();
    term.add(Signal::SIGTERM);
    if let Err(errno) = term.thread_block() {
        log::msg_fatal!("sigprocmask: {errno}");
    }
    let waiter = std::thread::Builder::new()
        .name("sigterm".into())
        .spawn(move || {
            let _ = SigSet::all().thread_block();
            while term.wait().is_err() {}
            remove_registered_log();
            sys::exit_now(Signal::SIGTERM as i32)
        });
    if let Err(e) = waiter {
        log::msg_fatal!("thread: {e}");
    }
}

fn main() {
    log::set_fatal_cleanup(remove_registered_log);
    let mut daemon = server::Daemon::start(server::Requirements {
        unlimited: true,
        ..Default::default()
    });
    let settings =
        settings::Settings::from_config(&daemon.config).unwrap_or_else(|e| global::fatal_config(e));
    // The template file is read before the jail, as Postfix does.
    let mut templates = template::Templates::from_file(&settings.template_file);
    // Not services: the dumps behind postconf -t and -b.
    match daemon.service_name.as_str() {
        "dump_templates" => {
            print_and_exit(&templates.dump(settings.std_from));
        }
        "expand_templates" => {
            print_and_exit(&templates.expand(&settings, &daemon.config));
        }
        _ => {}
    }
    if !global::mail_queue::name_ok(&daemon.service_name) {
        log::msg_fatal!("malformed service name: {}", daemon.service_name);
    }
    daemon.enter_jail();
    remove_log_on_sigterm();
    let mut service = Service {
        settings,
        templates,
    };
    server::single::serve(daemon, |daemon, stream| {
        bounce_service(&mut service, &daemon.config, &daemon.service_name, stream)
    })
}

fn print_and_exit(text: &str) -> ! {
    let mut out = std::io::stdout();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    std::process::exit(0)
}

/// One client, one request (`bounce_service`).
fn bounce_service(
    service: &mut Service,
    config: &params::Config,
    service_name: &str,
    stream: Stream,
) {
    let timeout = service.settings.ipc_timeout;
    if let Stream::Unix(socket) = &stream {
        let _ = socket.set_read_timeout(Some(timeout));
        let _ = socket.set_write_timeout(Some(timeout));
    }
    // How Postfix names the stream in warnings: the service socket, or standard input.
    let client_name = match &stream {
        Stream::Stdio(..) => "unknown_stream".to_string(),
        _ => format!("{service_name} socket"),
    };
    let mut client = BufReader::new(stream);
    let hello = Attrs::new().str(mail_attr::PROTO, PROTO_BOUNCE);
    let _ = ipc::attr::write(client.get_mut(), Flavor::Null, &hello)
        .and_then(|()| client.get_mut().flush());
    let status = match ipc::attr::read(&mut client, Flavor::Null) {
        Ok(Some(request)) => dispatch(service, config, service_name, &client_name, &request),
        _ => {
            log::msg_warn!("malformed request");
            -1
        }
    };
    let reply = Attrs::new().int(mail_attr::STATUS, status);
    let replied = ipc::attr::write(client.get_mut(), Flavor::Null, &reply)
        .and_then(|()| client.get_mut().flush());
    // A failed CLEAN request, or one whose client did not hear the answer, leaves no log.
    let registered = CLEANUP_PATH.lock().is_ok_and(|p| p.is_some());
    if registered {
        if status != 0 || replied.is_err() {
            remove_registered_log();
        }
        if let Ok(mut path) = CLEANUP_PATH.lock() {
            *path = None;
        }
    }
}

/// Reads the request code and executes the request.
fn dispatch(
    service: &mut Service,
    config: &params::Config,
    service_name: &str,
    client_name: &str,
    request: &Attrs,
) -> i32 {
    let Some(command) = request.get_int("nrequest") else {
        log::msg_warn!("malformed request");
        return -1;
    };
    let expected: Vec<&str> = match command {
        BOUNCE_CMD_APPEND => [&["flags", "queue_id"][..], RCPT_ATTRS, DSN_ATTRS].concat(),
        BOUNCE_CMD_VERP => [NOTIFY_ATTRS, &["verp_delimiters"][..]].concat(),
        BOUNCE_CMD_ONE => [NOTIFY_ATTRS, RCPT_ATTRS, DSN_ATTRS].concat(),
        _ => NOTIFY_ATTRS.to_vec(),
    };
    // Postfix's attribute reader names the first one that is missing.
    if let Some(missing) = expected
        .iter()
        .find(|name| request.get_bytes(name).is_none())
    {
        log::msg_warn!("missing attribute {missing} in input from {client_name}");
        log::msg_warn!("malformed request");
        return -1;
    }
    match command {
        BOUNCE_CMD_APPEND => append(service, service_name, request),
        BOUNCE_CMD_FLUSH | BOUNCE_CMD_WARN | BOUNCE_CMD_TRACE | BOUNCE_CMD_VERP
        | BOUNCE_CMD_ONE => {
            let Some(req) = notify_request(service, config, service_name, request, command) else {
                return -1;
            };
            match command {
                BOUNCE_CMD_FLUSH => service.notify(&req),
                BOUNCE_CMD_WARN => service.warn(&req),
                BOUNCE_CMD_TRACE => service.trace(&req),
                BOUNCE_CMD_VERP => {
                    let delims = string(request, "verp_delimiters");
                    if delims.chars().count() != 2 {
                        log::msg_warn!("malformed verp delimiter string: {delims}");
                        return -1;
                    }
                    service.verp(&req, &delims)
                }
                _ => {
                    if service_name != "bounce" {
                        log::msg_warn!(
                            "wrong service name \"{service_name}\" for one-recipient bouncing"
                        );
                        return -1;
                    }
                    let (Some(rcpt), Some(dsn)) = (recipient(request), dsn(request)) else {
                        log::msg_warn!("malformed request");
                        return -1;
                    };
                    service.one(&req, rcpt, dsn)
                }
            }
        }
        other => {
            log::msg_warn!("unknown command: {other}");
            -1
        }
    }
}

/// A string attribute with what cannot go into a log or a notice made harmless
/// (Postfix's `VS_NEUTER`: control characters become '?').
fn string(request: &Attrs, name: &str) -> String {
    let bytes = request.get_bytes(name).unwrap_or_default();
    String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The recipient attributes (`rcpb_scan`).
fn recipient(request: &Attrs) -> Option<Recipient> {
    request.get_bytes("recipient")?;
    let offset = string(request, "offset");
    Some(Recipient {
        address: string(request, "recipient"),
        orig_addr: string(request, "original_recipient"),
        offset: offset.trim().parse().ok()?,
        dsn_orcpt: string(request, "dsn_orig_rcpt"),
        dsn_notify: request.get_int("notify_flags")?,
    })
}

/// The status attributes (`dsb_scan`).
fn dsn(request: &Attrs) -> Option<Dsn> {
    request.get_bytes("status")?;
    request.get_bytes("action")?;
    request.get_bytes("reason")?;
    Some(Dsn {
        status: string(request, "status"),
        action: string(request, "action"),
        reason: string(request, "reason"),
        dtype: string(request, "diag_type"),
        dtext: string(request, "diag_text"),
        mtype: string(request, "mta_type"),
        mname: string(request, "mta_mname"),
    })
}

/// An APPEND request (`bounce_append_proto`).
fn append(service: &Service, service_name: &str, request: &Attrs) -> i32 {
    let queue_id = string(request, mail_attr::QUEUEID);
    let (Some(flags), Some(rcpt), Some(dsn)) = (
        request.get_int(mail_attr::FLAGS),
        recipient(request),
        dsn(request),
    ) else {
        log::msg_warn!("malformed request");
        return -1;
    };
    if !global::mail_queue::id_ok(&queue_id) {
        log::msg_warn!(
            "malformed queue id: {}",
            util::printable::printable(&queue_id, false)
        );
        return -1;
    }
    if log::verbose() > 0 {
        log::msg_info!(
            "bounce_append_proto: flags=0x{flags:x} service={service_name} id={queue_id} org_to={} to={} off={} dsn_org={}, notif=0x{:x} stat={} act={} why={}",
            rcpt.orig_addr,
            rcpt.address,
            rcpt.offset,
            rcpt.dsn_orcpt,
            rcpt.dsn_notify,
            dsn.status,
            dsn.action,
            dsn.reason
        );
    }
    let path = log_file::path(&service.settings.layout, service_name, &queue_id);
    if flags & BOUNCE_FLAG_CLEAN != 0
        && let Ok(mut registered) = CLEANUP_PATH.lock()
    {
        *registered = Some(path.clone());
    }
    log_file::append(
        &path,
        service.settings.oldlog_compat,
        service_name,
        &queue_id,
        &rcpt,
        &dsn,
    );
    0
}

/// The attributes of a FLUSH, WARN, TRACE, VERP or ONE request
/// (`bounce_notify_proto`); None after a logged warning.
fn notify_request<'a>(
    service: &Service,
    config: &'a params::Config,
    service_name: &str,
    request: &Attrs,
    command: i32,
) -> Option<Request<'a>> {
    let (Some(flags), Some(smtputf8), Some(dsn_ret)) = (
        request.get_int(mail_attr::FLAGS),
        request.get_int("smtputf8"),
        request.get_int(mail_attr::DSN_RET),
    ) else {
        log::msg_warn!("malformed request");
        return None;
    };
    let req = Request {
        config,
        flags,
        service: service_name.to_string(),
        queue_name: string(request, "queue_name"),
        queue_id: string(request, mail_attr::QUEUEID),
        encoding: string(request, mail_attr::ENCODING),
        smtputf8,
        sender: string(request, "sender"),
        dsn_envid: string(request, mail_attr::DSN_ENVID),
        dsn_ret,
    };
    if !global::mail_queue::name_ok(&req.queue_name) {
        log::msg_warn!(
            "malformed queue name: {}",
            util::printable::printable(&req.queue_name, false)
        );
        return None;
    }
    if !global::mail_queue::id_ok(&req.queue_id) {
        log::msg_warn!(
            "malformed queue id: {}",
            util::printable::printable(&req.queue_id, false)
        );
        return None;
    }
    log::work::queue_id(&req.queue_id);
    if log::verbose() > 0 {
        log::msg_info!(
            "bounce_notify_proto: flags=0x{:x} service={service_name} queue={} id={} encoding={} smtputf8={} sender={} envid={} ret=0x{:x}",
            req.flags,
            req.queue_name,
            req.queue_id,
            req.encoding,
            req.smtputf8,
            req.sender,
            req.dsn_envid,
            req.dsn_ret
        );
    }
    if flags & BOUNCE_FLAG_CLEAN != 0
        && command != BOUNCE_CMD_ONE
        && let Ok(mut registered) = CLEANUP_PATH.lock()
    {
        *registered = Some(log_file::path(
            &service.settings.layout,
            service_name,
            &req.queue_id,
        ));
    }
    Some(req)
}
