//! pipe - delivers mail to an external command named in master.cf.
//!
//! Postfix counterpart: `pipe/pipe.c`. The queue manager sends a delivery request; the
//! service's master.cf attributes (`flags=`, `user=`, `size=`, `eol=`, `null_sender=`,
//! `directory=`, `chroot=`, `argv=`) say how. The command runs as `user=` (in the
//! `chroot=` jail, from `directory=` inside it, when given) with the message on its
//! standard input and `${sender}`, `${recipient}` and the other macros expanded in its
//! arguments; one run serves every recipient of the request (an argument with a
//! per-recipient macro is repeated), so `transport_destination_recipient_limit = 1` gives
//! one run per recipient. The exit status decides: 0 delivered, a sendmail code
//! (`<sysexits.h>`) or an RFC 3463 code in the output defers or bounces, anything else
//! bounces. Each recipient is logged with the one delivery line, `relay=` the service,
//! after pipe_delivery_status_filter.
//! With an address probe (`sendmail -bv`, address verification) nothing runs: the
//! answer is "delivers to command: argv[0]".

mod argv;
mod attr;

use global::bounce::{StatusConf, bounce_append};
use global::defer::defer_append;
use global::deliver_completed::deliver_completed;
use global::deliver_request::{DEL_REQ_FLAG_SUCCESS, DeliverRequest, trace_flags, trace_only};
use global::dsn_print::Dsn;
use global::mail_copy::{self, CopyArgs};
use global::pipe_command::{self, Args, Program, Status, Why};
use params::Config;
use std::collections::HashMap;

/// What main.cf says, read once before the jail.
struct Settings {
    /// The status clients' configuration (also the log line's form).
    status: StatusConf,
    /// Where queue files are.
    layout: global::mail_queue::Layout,
    /// `<service>_time_limit`, else command_time_limit.
    time_limit: u64,
    /// export_environment.
    export: Vec<String>,
    /// The recipient_delimiter rules for `${user}` and `${extension}`.
    addr: global::addr_context::AddrContext,
    /// config_directory, for the unknown-macro warning.
    config_dir: String,
    /// enable_original_recipient.
    enable_orcpt: bool,
    /// mail_owner's uid and gid.
    owner: (u32, u32),
    /// mail_owner's name.
    owner_name: String,
    /// setgid_group's name and gid.
    setgid: (String, u32),
}

impl Settings {
    fn from_config(config: &Config, service: &str) -> Result<Settings, params::ConfigError> {
        use params::decl::install::{EXPORT_ENVIRONMENT, MAIL_OWNER, SETGID_GROUP};
        let owner_name = config.str(&MAIL_OWNER)?;
        let owner = sys::user::by_name(&owner_name)
            .map(|a| (a.uid, a.gid))
            .ok_or_else(|| {
                config_error(format!(
                    "file {}/main.cf: parameter mail_owner: unknown user name value: {owner_name}",
                    config.config_directory.display()
                ))
            })?;
        let setgid_name = config.str(&SETGID_GROUP)?;
        let setgid = sys::user::group_id(&setgid_name).unwrap_or(u32::MAX);
        let mut status = StatusConf::from_config(config)?;
        let filter = &params::decl::delivery::PIPE_DELIVERY_STATUS_FILTER;
        status
            .bounce_client_init(filter.name, &config.str(filter)?)
            .map_err(config_error)?;
        Ok(Settings {
            status,
            layout: global::mail_queue::Layout::from_config(config)?,
            time_limit: service_time_limit(config, service)?,
            export: config.list(&EXPORT_ENVIRONMENT)?,
            addr: global::addr_context::AddrContext::from_config(config)?,
            config_dir: config.config_directory.display().to_string(),
            enable_orcpt: config.bool(&params::decl::cleanup::ENABLE_ORIGINAL_RECIPIENT)?,
            owner,
            owner_name,
            setgid: (setgid_name, setgid),
        })
    }
}

/// `<service>_time_limit` when main.cf sets it, else command_time_limit (Postfix's
/// `get_mail_conf_time2(service, "_time_limit", ...)`).
fn service_time_limit(config: &Config, service: &str) -> Result<u64, params::ConfigError> {
    use params::decl::local::COMMAND_TIME_LIMIT;
    let name = format!("{service}_time_limit");
    match config
        .raw(&name)
        .filter(|_| config.explicit(&name).is_some())
    {
        Some(text) => {
            let value = config.expand(&text)?;
            match util::conv::time(&value, b's') {
                Some(n) if n >= 1 => Ok(n as u64),
                _ => Err(config_error(format!(
                    "parameter {name}: bad time value or unit: {value}"
                ))),
            }
        }
        None => Ok(config.time(&COMMAND_TIME_LIMIT)? as u64),
    }
}

/// A configuration error with Postfix's text.
fn config_error(message: String) -> params::ConfigError {
    params::ConfigError {
        warnings: Vec::new(),
        message,
    }
}

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements {
        privileged: true,
        arguments: true,
        ..Default::default()
    });
    let service = daemon.service_name.clone();
    let settings =
        Settings::from_config(&daemon.config, &service).unwrap_or_else(|e| global::fatal_config(e));
    let args = daemon.args.clone();
    daemon.enter_jail();
    // Root only when a command starts; the rest runs as the mail system owner.
    if let Err(e) = sys::user::set_eugid(settings.owner.0, settings.owner.1) {
        log::msg_fatal!("{e}");
    }
    // The attributes are checked at the first delivery, as Postfix does.
    let mut attr: Option<attr::Attr> = None;
    server::single::serve(daemon, move |_, stream| {
        global::deliver_request::deliver_request_serve(stream, &settings.layout, |request| {
            let attr = attr.get_or_insert_with(|| {
                let forbid = attr::Forbidden {
                    owner: (&settings.owner_name, settings.owner.0, settings.owner.1),
                    setgid: (&settings.setgid.0, settings.setgid.1),
                };
                attr::parse(&args, &attr::System, &forbid)
                    .unwrap_or_else(|e| log::msg_fatal!("{e}"))
            });
            deliver_message(&settings, &service, attr, request)
        });
    })
}

/// How one request ended for the recipients, before the status clients are told.
enum Outcome {
    /// The command took the message (its output, trimmed).
    Ok(String),
    /// Defer or bounce, by the status class.
    Failed(Why),
    /// The queue file is corrupt: the queue manager will move it aside.
    Corrupt,
}

/// Delivers one request (`deliver_message`); the status for the queue manager.
fn deliver_message(
    settings: &Settings,
    service: &str,
    attr: &attr::Attr,
    request: &DeliverRequest,
) -> i32 {
    if log::verbose() > 0 {
        log::msg_info!("deliver_message: from <{}>", request.sender);
    }
    if request.nexthop.is_empty() {
        log::msg_fatal!("empty nexthop hostname");
    }
    let rcpts = &request.rcpt_list;
    let config_error = || {
        Outcome::Failed(Why::new(
            "4.3.5",
            "",
            "mail system configuration error".into(),
        ))
    };
    // One Delivered-To: or X-Original-To: header cannot name several recipients.
    for (on, flag) in [(attr.flags.delivered, 'D'), (attr.flags.orig_rcpt, 'O')] {
        if on && rcpts.len() > 1 {
            let status = eval_status(settings, service, attr, request, config_error());
            log::msg_warn!("pipe flag `{flag}' requires {service}_destination_recipient_limit = 1");
            return status;
        }
    }
    if attr.size_limit != 0 && request.data_size as u64 > attr.size_limit {
        if log::verbose() > 0 {
            log::msg_info!(
                "deliver_message: too big: size_limit = {}, request->data_size = {}",
                attr.size_limit,
                request.data_size
            );
        }
        let why = Why::new("5.2.3", "", "message too large".into());
        return eval_status(settings, service, attr, request, Outcome::Failed(why));
    }
    if trace_only(request.flags) {
        let text = format!("delivers to command: {}", attr.command[0]);
        return report_sent(settings, service, request, &Dsn::simple("2.0.0", &text));
    }
    if attr.flags.delivered {
        let rcpt = &rcpts[0];
        let seen =
            global::delivered_hdr::DeliveredHdr::init(request.file(), request.data_offset as u64);
        if seen.find(&rcpt.address) {
            let why = Why::new(
                "5.4.6",
                "",
                format!("mail forwarding loop for {}", rcpt.address),
            );
            return eval_status(settings, service, attr, request, Outcome::Failed(why));
        }
    }
    let sender = if request.sender.is_empty() {
        attr.null_sender.clone()
    } else {
        request.sender.clone()
    };
    let macros = message_macros(request, attr, &sender);
    let list: Vec<argv::Rcpt> = rcpts
        .iter()
        .map(|r| argv::Rcpt {
            address: &r.address,
            orig_addr: &r.orig_addr,
        })
        .collect();
    let split = |local: &str| -> Option<(String, String)> {
        settings.addr.with(|c| {
            global::mail_addr_find::split_localpart(local, c)
                .map(|(user, ext)| (user.to_string(), ext.to_string()))
        })
    };
    let command = match argv::expand(
        service,
        &settings.config_dir,
        &attr.command,
        &macros,
        &list,
        attr.flags,
        &split,
    ) {
        Ok(command) => command,
        Err(warning) => {
            log::msg_warn!("{warning}");
            return eval_status(settings, service, attr, request, config_error());
        }
    };
    let outcome = run_command(settings, attr, request, &sender, &command);
    eval_status(settings, service, attr, request, outcome)
}

/// The request's macros (`dict_update` before `expand_argv`).
fn message_macros(
    request: &DeliverRequest,
    attr: &attr::Attr,
    sender: &str,
) -> HashMap<&'static str, String> {
    let sender = if !sender.is_empty() && attr.flags.quote_local {
        rfc822::quote::quote_822_local(sender, rfc822::quote::QuoteFlags::DEFAULT)
    } else {
        sender.to_string()
    };
    let nexthop = if attr.flags.fold_host {
        dict::casefold(&request.nexthop)
    } else {
        request.nexthop.clone()
    };
    [
        ("sender", sender),
        ("nexthop", nexthop),
        ("size", request.data_size.to_string()),
        ("client_address", request.client_addr.clone()),
        ("client_helo", request.client_helo.clone()),
        ("client_hostname", request.client_name.clone()),
        ("client_port", request.client_port.clone()),
        ("client_protocol", request.client_proto.clone()),
        ("sasl_method", request.sasl_method.clone()),
        ("sasl_username", request.sasl_username.clone()),
        ("sasl_sender", request.sasl_sender.clone()),
        ("queue_id", request.queue_id.clone()),
        ("envid", request.dsn_envid.clone()),
    ]
    .into_iter()
    .collect()
}

/// Runs the command with the message on its input.
fn run_command(
    settings: &Settings,
    attr: &attr::Attr,
    request: &DeliverRequest,
    sender: &str,
    command: &[String],
) -> Outcome {
    let f = attr.flags;
    let copy_flags = [
        (f.blank, mail_copy::MAIL_COPY_BLANK),
        (f.delivered, mail_copy::MAIL_COPY_DELIVERED),
        (f.from, mail_copy::MAIL_COPY_FROM),
        (f.orig_rcpt, mail_copy::MAIL_COPY_ORIG_RCPT),
        (f.return_path, mail_copy::MAIL_COPY_RETURN_PATH),
        (f.dot, mail_copy::MAIL_COPY_DOT),
        (f.quote, mail_copy::MAIL_COPY_QUOTE),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .fold(mail_copy::MAIL_COPY_NONE, |all, (_, flag)| all | flag);
    let rcpt = &request.rcpt_list[0];
    let copy = CopyArgs {
        sender,
        orig_rcpt: &rcpt.orig_addr,
        delivered: &rcpt.address,
        flags: copy_flags,
        eol: &attr.eol,
        enable_orcpt: settings.enable_orcpt,
        owner: settings.owner,
    };
    let args = Args {
        program: Program::Argv(command),
        uid: attr.uid,
        gid: attr.gid,
        time_limit: settings.time_limit,
        env: Vec::new(),
        export: Some(settings.export.clone()),
        shell: None,
        cwd: attr.exec_dir.as_deref().map(std::path::Path::new),
        chroot: attr.chroot_dir.as_deref().map(std::path::Path::new),
    };
    let offset = request.data_offset as u64;
    let copy = pipe_command::from_queue(&copy, request.file(), &request.path, offset);
    let status = pipe_command::pipe_command(&args, copy);
    match status {
        Status::Ok(output) => Outcome::Ok(output.trim_end().to_string()),
        Status::Defer(why) | Status::Bounce(why) => Outcome::Failed(why),
        Status::Corrupt => Outcome::Corrupt,
    }
}

/// The status of every recipient, reported (`eval_command_status`).
fn eval_status(
    settings: &Settings,
    service: &str,
    attr: &attr::Attr,
    request: &DeliverRequest,
    outcome: Outcome,
) -> i32 {
    match outcome {
        Outcome::Ok(output) => {
            let shown = if output.is_empty() {
                String::new()
            } else {
                format!(" ({})", truncate(&output, 100))
            };
            let dsn = Dsn {
                action: if attr.flags.final_delivery {
                    "delivered"
                } else {
                    "relayed"
                }
                .to_string(),
                ..Dsn::simple("2.0.0", &format!("delivered via {service} service{shown}"))
            };
            report_sent(settings, service, request, &dsn)
        }
        Outcome::Failed(why) => {
            let dsn = Dsn::from(&why);
            let flags = trace_flags(request.flags);
            let mut result = 0;
            for rcpt in &request.rcpt_list {
                let conf = &settings.status;
                let (id, stats) = (&request.queue_id, &request.msg_stats);
                let status = if dsn.status.starts_with('4') {
                    defer_append(conf, flags, id, stats, rcpt, service, &dsn)
                } else {
                    bounce_append(conf, flags, id, stats, rcpt, service, &dsn)
                };
                if status == 0 {
                    deliver_completed(request.file(), &request.path, rcpt.offset);
                }
                result |= status;
            }
            result
        }
        Outcome::Corrupt => -1,
    }
}

/// Every recipient delivered with `dsn` (or, for a probe, deliverable).
fn report_sent(settings: &Settings, service: &str, request: &DeliverRequest, dsn: &Dsn) -> i32 {
    let mut result = 0;
    for rcpt in &request.rcpt_list {
        let status = global::sent::sent(
            &settings.status,
            trace_flags(request.flags),
            &request.queue_id,
            &request.msg_stats,
            rcpt,
            service,
            dsn,
        );
        if status == 0 && request.flags & DEL_REQ_FLAG_SUCCESS != 0 {
            deliver_completed(request.file(), &request.path, rcpt.offset);
        }
        result |= status;
    }
    result
}

/// At most `max` characters of `text` (`%.100s`).
fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}
