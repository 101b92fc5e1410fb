//! postqueue - the user's side of queue control: list the queue, flush it.
//!
//! Postfix counterpart: `postqueue/postqueue.c` (3.7). Installed set-gid to the postdrop
//! group, so that any user can reach the `public/` services:
//!
//! - `-p` (what mailq and sendmail -bp run) lists the queue in Postfix's columns, `-j` as
//!   JSON lines, both from the showq service (authorized_mailq_users). When the mail
//!   system is down, root gets the listing from `$daemon_directory/showq -u -S` run
//!   directly, with a warning; other users get an error.
//! - `-f` asks the queue manager to retry all deferred mail now (triggers `F`, `A`, `D`,
//!   `I`) and wakes up pickup; `-s site` asks the flush service to deliver the mail queued
//!   for a site in fast_flush_domains; `-i id` asks it to deliver one message
//!   (authorized_flush_users).
//!
//! root and the mail_owner pass both access lists. The process name is always
//! `postqueue`; -v works for root only; the environment is cut down to
//! import_environment; a configuration directory named by a user is checked as postdrop
//! checks it. Every fatal error exits with EX_UNAVAILABLE, as Postfix's cleanup handler
//! makes it.

mod showq_client;

use global::mail_queue;
use ipc::{Attrs, mail_attr};
use params::Config;
use params::decl::install::{DAEMON_DIRECTORY, MAIL_OWNER, QUEUE_DIRECTORY};
use params::decl::queue_tools::{
    AUTHORIZED_FLUSH_USERS, AUTHORIZED_MAILQ_USERS, SHOWQ_SERVICE_NAME,
};
use std::io::{BufReader, Write};
use std::time::Duration;

const POSTQUEUE: &str = "postqueue";
/// `EX_UNAVAILABLE` from sysexits.h.
const EX_UNAVAILABLE: i32 = 69;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    MailqList,
    JsonList,
    FlushQueue,
    FlushSite(String),
    FlushFile(String),
}

fn usage() -> ! {
    log::msg_fatal!(
        "usage: postqueue -f | postqueue -i queueid | postqueue -j | postqueue -p | postqueue -s site"
    )
}

/// What postqueue needs from main.cf.
struct Settings {
    config: Config,
    owner_uid: Option<u32>,
    mail_name: String,
}

impl Settings {
    fn str(&self, param: &'static params::def::Param) -> String {
        self.config
            .str(param)
            .unwrap_or_else(|e| global::fatal_config(e))
    }

    fn timeout(&self) -> Duration {
        let secs = self
            .config
            .time(&params::decl::process::IPC_TIMEOUT)
            .unwrap_or_else(|e| global::fatal_config(e));
        Duration::from_secs(secs as u64)
    }

    /// Exits unless the real user may do this: root and the mail owner always may.
    fn check_acl(&self, param: &'static params::def::Param, what: &str) {
        let uid = sys::getuid();
        if uid == 0 || Some(uid) == self.owner_uid {
            return;
        }
        if let Some(name) =
            global::user_acl::check_user_acl_byuid(param.name, &self.str(param), uid)
        {
            log::msg_fatal!("User {name}({uid}) is not allowed to {what}");
        }
    }
}

fn main() {
    sys::umask(0o022);
    if global::mail_conf_checkdir::untrusted() {
        sys::unsetenv(params::env::LOG_TAG_ENV);
    }
    // The user chooses argv[0]: the name is ours.
    log::init(Box::new(log::Stderr::new(POSTQUEUE)));
    log::set_fatal_cleanup(|| sys::exit_now(EX_UNAVAILABLE));
    log::add_sink(Box::new(log::Syslog::new(
        &format!("postfix/{POSTQUEUE}"),
        log::Facility::MAIL,
    )));

    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (opts, operands) = match util::getopt::parse(POSTQUEUE, "c:fi:jps:v", &args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            usage()
        }
    };
    let mut mode = None;
    let mut set_mode = |new: Mode| {
        if mode.is_some() {
            usage();
        }
        mode = Some(new);
    };
    for opt in opts {
        match (opt.letter, opt.value) {
            ('c', Some(dir)) => sys::setenv(params::env::CONF_ENV, std::ffi::OsStr::new(&dir)),
            ('f', _) => set_mode(Mode::FlushQueue),
            ('i', Some(id)) => set_mode(Mode::FlushFile(id)),
            ('j', _) => set_mode(Mode::JsonList),
            ('p', _) => set_mode(Mode::MailqList),
            ('s', Some(site)) => set_mode(Mode::FlushSite(site)),
            // Verbose logging could show a user what they may not see.
            ('v', _) if sys::geteuid() == 0 => log::raise_verbose(1),
            ('v', _) => {}
            _ => usage(),
        }
    }
    if !operands.is_empty() {
        usage();
    }

    let config_dir = global::mail_conf_checkdir::checked_config_directory();
    let mut config = Config::load(&config_dir).unwrap_or_else(|e| global::fatal_config(e));
    config.process_name = POSTQUEUE.to_string();
    let tag = global::mail_task::mail_task(&config, POSTQUEUE);
    if let Err(e) =
        global::maillog_client::init(&config, &tag, global::maillog_client::Fallback::WriteFile)
    {
        global::fatal_config(e);
    }
    if let Err(e) = global::mail_dict::init(&config) {
        global::fatal_config(e);
    }
    if let Err(e) = global::clean_env::clean_env(&config) {
        global::fatal_config(e);
    }
    let owner = config
        .str(&MAIL_OWNER)
        .unwrap_or_else(|e| global::fatal_config(e));
    let settings = Settings {
        owner_uid: sys::user::by_name(&owner).map(|a| a.uid),
        mail_name: config
            .str(&params::decl::identity::MAIL_NAME)
            .unwrap_or_else(|e| global::fatal_config(e)),
        config,
    };
    let queue_dir = settings.str(&QUEUE_DIRECTORY);
    if let Err(e) = std::env::set_current_dir(&queue_dir) {
        log::msg_fatal!("chdir {queue_dir}: {}", sys::os_error(&e));
    }
    sys::signals::ignore(sys::signals::SIGPIPE);

    if let Some(Mode::FlushSite(site)) = &mode {
        let bad = if site.starts_with('[') {
            !util::valid_hostname::valid_mailhost_literal(site)
        } else {
            !util::valid_hostname::valid_hostname(site)
        };
        if bad {
            log::msg_fatal!(
                "Cannot flush mail queue - invalid destination: \"{}{}\"",
                head(site),
                if site.len() > 100 { "..." } else { "" }
            );
        }
    }
    if let Some(Mode::FlushFile(id)) = &mode
        && !mail_queue::id_ok(id)
    {
        log::msg_fatal!(
            "Cannot flush queue ID - invalid name: \"{}{}\"",
            head(id),
            if id.len() > 100 { "..." } else { "" }
        );
    }
    match mode {
        None => usage(),
        Some(Mode::MailqList) => show_queue(&settings, false),
        Some(Mode::JsonList) => show_queue(&settings, true),
        Some(Mode::FlushQueue) => flush_queue(&settings),
        Some(Mode::FlushSite(site)) => flush_site(&settings, &site),
        Some(Mode::FlushFile(id)) => flush_file(&settings, &id),
    }
    std::process::exit(0);
}

/// The first 100 bytes of `text` (`%.100s`), cut at a character boundary.
fn head(text: &str) -> &str {
    let mut end = text.len().min(100);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Lists the queue through the showq service or, for root when the mail system is down,
/// through showq run directly.
fn show_queue(settings: &Settings, json: bool) {
    settings.check_acl(&AUTHORIZED_MAILQ_USERS, "view the mail queue");
    let service = settings.str(&SHOWQ_SERVICE_NAME);
    let long_ids = settings
        .config
        .bool(&params::decl::queue::ENABLE_LONG_QUEUE_IDS)
        .unwrap_or_else(|e| global::fatal_config(e));
    let utf8 = settings
        .config
        .bool(&params::decl::identity::SMTPUTF8_ENABLE)
        .unwrap_or_else(|e| global::fatal_config(e));
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match global::mail_connect::connect("public", &service, settings.timeout()) {
        Ok(stream) => {
            let mut showq = showq_client::Stream::new(BufReader::new(stream), utf8);
            showq_client_run(&mut showq, &mut out, json, long_ids);
        }
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(sys::libc::EACCES) | Some(sys::libc::EPERM)
            ) =>
        {
            log::msg_fatal!(
                "Connect to the {} {service} service: {}",
                settings.mail_name,
                sys::os_error(&e)
            );
        }
        Err(e) if sys::geteuid() == 0 => {
            log::msg_warn!(
                "Mail system is down -- accessing queue directly (Connect to the {} {service} service: {})",
                settings.mail_name,
                sys::os_error(&e)
            );
            let showq_path = format!("{}/{service}", settings.str(&DAEMON_DIRECTORY));
            let mut command = std::process::Command::new(&showq_path);
            command.args(["-u", "-S"]);
            for _ in 0..log::verbose() {
                command.arg("-v");
            }
            let child = command
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .spawn();
            let status = match child {
                Err(_) => None,
                Ok(mut child) => {
                    if let Some(pipe) = child.stdout.take() {
                        let mut showq = showq_client::Stream::new(BufReader::new(pipe), utf8);
                        showq_client_run(&mut showq, &mut out, json, long_ids);
                    }
                    child.wait().ok()
                }
            };
            if !status.is_some_and(|s| s.success()) {
                log::msg_fatal!("Error running {showq_path}");
            }
        }
        Err(e) => {
            log::msg_fatal!(
                "Queue report unavailable - mail system is down (Connect to the {} {service} service: {})",
                settings.mail_name,
                sys::os_error(&e)
            );
        }
    }
}

fn showq_client_run<R: std::io::BufRead>(
    showq: &mut showq_client::Stream<R>,
    out: &mut impl Write,
    json: bool,
    long_ids: bool,
) {
    let result = showq.protocol("mail_queue_list_protocol").and_then(|()| {
        if json {
            showq_client::json(showq, out)
        } else {
            showq_client::compat(showq, out, long_ids)
        }
    });
    if result.is_err() {
        let _ = out.flush();
        log::msg_fatal!("malformed showq server response");
    }
}

/// `postqueue -f`: retry all deferred mail now, and pick up the maildrop queue.
fn flush_queue(settings: &Settings) {
    settings.check_acl(&AUTHORIZED_FLUSH_USERS, "flush the mail queue");
    let timeout = Duration::from_secs(
        settings
            .config
            .time(&params::decl::submission::TRIGGER_TIMEOUT)
            .unwrap_or_else(|e| global::fatal_config(e)) as u64,
    );
    // Dead destinations forgotten, every deferred file due, both queues scanned.
    let qmgr = settings.str(&params::decl::cleanup::QUEUE_SERVICE_NAME);
    if !global::mail_trigger::mail_trigger("public", &qmgr, b"FADI", timeout) {
        log::msg_fatal!("Cannot flush mail queue - mail system is down");
    }
    let pickup = settings.str(&params::decl::submission::PICKUP_SERVICE_NAME);
    if !global::mail_trigger::mail_trigger(
        "public",
        &pickup,
        &[global::mail_proto::TRIGGER_REQ_WAKEUP],
        timeout,
    ) {
        log::msg_fatal!("Cannot flush mail queue - mail system is down");
    }
}

/// One request to the flush service (Postfix's `mail_command_client`, which warns about
/// the stage that failed): its status, -1 on failure.
fn flush_request(settings: &Settings, request: &Attrs) -> i32 {
    let service = settings.str(&params::decl::smtpd::FLUSH_SERVICE_NAME);
    global::mail_command_client::mail_command_client(
        "public",
        &service,
        "queue_flush_protocol",
        request,
        settings.timeout(),
    )
}

/// `postqueue -s site`: ask the flush service for the site's mail, if the site is in
/// fast_flush_domains.
fn flush_site(settings: &Settings, site: &str) {
    settings.check_acl(&AUTHORIZED_FLUSH_USERS, "flush the mail queue");
    if log::verbose() > 0 {
        log::msg_info!("flush_send_site: site {site}");
    }
    let domains = &params::decl::smtpd::FAST_FLUSH_DOMAINS;
    let eligible = if settings.str(domains).trim().is_empty() {
        Ok(false)
    } else {
        global::match_list::from_parameter(
            &settings.config,
            domains,
            &[global::match_list::Matcher::Hostname],
        )
        .map_err(|e| global::fatal_config(e))
        .and_then(|list| list.matches(&[site]))
    };
    let status = match eligible {
        Ok(true) => flush_request(
            settings,
            &Attrs::new()
                .str(mail_attr::REQ, "send_site")
                .str("site", site),
        ),
        Ok(false) => global::flush_clnt::STAT_DENY,
        Err(_) => global::flush_clnt::STAT_FAIL,
    };
    if log::verbose() > 0 {
        log::msg_info!("flush_send_site: site {site} status {status}");
    }
    match status {
        0 => {}
        global::flush_clnt::STAT_BAD => log::msg_fatal!("Invalid request: \"{site}\""),
        global::flush_clnt::STAT_FAIL => {
            log::msg_fatal!("Cannot flush mail queue - mail system is down")
        }
        global::flush_clnt::STAT_DENY => {
            log::msg_fatal!("Flush service is not configured for destination \"{site}\"")
        }
        other => log::msg_fatal!("Unknown flush server reply status {other}"),
    }
}

/// `postqueue -i id`: ask the flush service to deliver one message.
fn flush_file(settings: &Settings, id: &str) {
    settings.check_acl(&AUTHORIZED_FLUSH_USERS, "flush the mail queue");
    if log::verbose() > 0 {
        log::msg_info!("flush_send_file: queue_id {id}");
    }
    let status = flush_request(
        settings,
        &Attrs::new()
            .str(mail_attr::REQ, "send_file")
            .str(mail_attr::QUEUEID, id),
    );
    if log::verbose() > 0 {
        log::msg_info!("flush_send_file: queue_id {id} status {status}");
    }
    match status {
        0 => {}
        global::flush_clnt::STAT_BAD => log::msg_fatal!("Invalid request: \"{id}\""),
        global::flush_clnt::STAT_FAIL => {
            log::msg_fatal!("Cannot flush mail queue - mail system is down")
        }
        other => log::msg_fatal!("Unexpected flush server reply status {other}"),
    }
}
