//! postdrop - the set-gid helper that puts mail submitted with sendmail into the maildrop
//! queue.
//!
//! Postfix counterpart: `postdrop/postdrop.c` (3.7). sendmail runs
//! `$command_directory/postdrop -r [-v...]`; postdrop (set-gid to the postdrop group, so
//! that it can write `maildrop/`, which users cannot) reads main.cf, checks that the user
//! may submit mail (authorized_submit_users), creates a queue file in `maildrop/` and
//! tells sendmail its queue ID, then copies the record stream from standard input to the
//! file, checking every record (see `copy.rs`) and each sender (local_login_sender_maps).
//! On success the file is fsynced and marked complete, pickup is woken up through
//! `public/$pickup_service_name`, and sendmail gets the status. The attribute protocol on
//! standard output is Postfix's (`protocol`, `queue_id`, then `status`, `reason`), so
//! Postfix's sendmail and ours work with either postdrop.
//!
//! Because it runs with privileges a user does not have, postdrop trusts nothing the user
//! controls: a configuration directory other than the default one (`-c`, `MAIL_CONFIG`) is
//! accepted from a user other than root only when the default main.cf lists it in
//! alternate_config_directories or multi_instance_directories; the environment is cut
//! down to import_environment; `-v` works for root only; the process name is always
//! `postdrop`. A file that is not complete is removed on a fatal error and on SIGHUP,
//! SIGINT, SIGQUIT and SIGTERM (the status is then the signal number); when the input
//! stops before its end, the file is removed and postdrop exits quietly with status 0.
//!
//! Messages go to standard error as `postdrop: warning: ...` and to syslog or
//! maillog_file as `postfix/postdrop[pid]: ...`.

mod acl;
mod copy;

use copy::{Copy, Ending};
use global::cleanup_user::{STAT_OK, STAT_SIZE, STAT_WRITE};
use global::mail_proto::TRIGGER_REQ_WAKEUP;
use global::mail_queue::{self, Layout, QueueFile};
use global::maillog_client::{self, Fallback};
use ipc::{Attrs, Flavor, mail_attr};
use params::Config;
use params::decl::address::{OWNER_REQUEST_SPECIAL, RECIPIENT_DELIMITER};
use params::decl::identity::SMTPUTF8_ENABLE;
use params::decl::install::QUEUE_DIRECTORY;
use params::decl::queue::DOUBLE_BOUNCE_SENDER;
use params::decl::smtpd::{LINE_LENGTH_LIMIT, MESSAGE_SIZE_LIMIT};
use params::decl::submission::{
    AUTHORIZED_SUBMIT_USERS, EMPTY_ADDRESS_LOCAL_LOGIN_SENDER_MAPS_LOOKUP_KEY,
    LOCAL_LOGIN_SENDER_MAPS, PICKUP_SERVICE_NAME, TRIGGER_TIMEOUT,
};
use params::env::{CONF_ENV, LOG_TAG_ENV};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The name postdrop logs under, whatever argv[0] says: the user chooses argv[0].
const POSTDROP: &str = "postdrop";
/// Extra permissions of a maildrop file: readable by pickup, which runs as the mail
/// owner, and by the owner's own tools.
const MAILDROP_MODE: u32 = 0o444;

/// The queue file to remove if postdrop dies before it is complete. Shared with the
/// signal thread and the fatal-error sink; taken (set to None) by whoever removes it and
/// when the file is complete.
static INCOMPLETE: Mutex<Option<String>> = Mutex::new(None);

fn incomplete() -> std::sync::MutexGuard<'static, Option<String>> {
    // Cleanup must work even after a panic elsewhere.
    INCOMPLETE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes the incomplete queue file, if any. Logs nothing: it runs from a fatal error
/// and on signals.
fn remove_incomplete() {
    let path = incomplete().take();
    if let Some(path) = path {
        let _ = std::fs::remove_file(path);
    }
}

/// A log sink that removes the incomplete queue file after a fatal or panic record has
/// been logged (Postfix's `msg_cleanup()` handler).
struct CleanupOnFatal;

impl log::Sink for CleanupOnFatal {
    fn write(&mut self, severity: log::Severity, _text: &str) {
        if severity >= log::Severity::Fatal {
            remove_incomplete();
        }
    }
}

/// What postdrop needs from main.cf.
struct Settings {
    queue_directory: String,
    line_limit: usize,
    message_limit: i64,
    submit_acl: String,
    sender_check: acl::SenderCheck,
    pickup_service: String,
    trigger_timeout: Duration,
    layout: Layout,
}

impl Settings {
    fn from_config(config: &Config) -> Settings {
        let fatal = |e: params::ConfigError| -> ! { global::fatal_config(e) };
        let str = |param| config.str(param).unwrap_or_else(|e| fatal(e));
        Settings {
            queue_directory: str(&QUEUE_DIRECTORY),
            line_limit: config.int(&LINE_LENGTH_LIMIT).unwrap_or_else(|e| fatal(e)) as usize,
            message_limit: config.int(&MESSAGE_SIZE_LIMIT).unwrap_or_else(|e| fatal(e)),
            submit_acl: str(&AUTHORIZED_SUBMIT_USERS),
            sender_check: acl::SenderCheck {
                maps: str(&LOCAL_LOGIN_SENDER_MAPS),
                delimiters: str(&RECIPIENT_DELIMITER),
                null_sender: str(&EMPTY_ADDRESS_LOCAL_LOGIN_SENDER_MAPS_LOOKUP_KEY),
                double_bounce_sender: str(&DOUBLE_BOUNCE_SENDER),
                owner_request_special: config
                    .bool(&OWNER_REQUEST_SPECIAL)
                    .unwrap_or_else(|e| fatal(e)),
                utf8: config.bool(&SMTPUTF8_ENABLE).unwrap_or_else(|e| fatal(e)),
            },
            pickup_service: str(&PICKUP_SERVICE_NAME),
            trigger_timeout: Duration::from_secs(
                config.time(&TRIGGER_TIMEOUT).unwrap_or_else(|e| fatal(e)) as u64,
            ),
            layout: Layout::from_config(config).unwrap_or_else(|e| fatal(e)),
        }
    }
}

fn main() {
    let uid = sys::getuid();
    sys::umask(0o022);
    // Postfix makes sure descriptors 0, 1 and 2 are open before anything else is; the
    // Rust runtime already did that (with /dev/null) before main.
    let untrusted = global::mail_conf_checkdir::untrusted();
    if untrusted {
        // Postfix reads the log tag from the environment only when it can trust it.
        sys::unsetenv(LOG_TAG_ENV);
    }
    log::init(Box::new(log::Stderr::new(POSTDROP)));
    let early_tag = match std::env::var(LOG_TAG_ENV) {
        Ok(tag) if !tag.is_empty() => format!("{tag}/{POSTDROP}"),
        _ => format!("postfix/{POSTDROP}"),
    };
    log::add_sink(Box::new(log::Syslog::new(&early_tag, log::Facility::MAIL)));

    // Options. The configuration directory goes through the environment, so that one
    // check covers -c and MAIL_CONFIG.
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (opts, _) = match util::getopt::parse(POSTDROP, "c:rv", &args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            log::msg_fatal!("usage: {POSTDROP} [-c config_dir] [-v]");
        }
    };
    for opt in opts {
        match (opt.letter, opt.value) {
            ('c', Some(dir)) => sys::setenv(CONF_ENV, std::ffi::OsStr::new(&dir)),
            // The record protocol is the only one; -r is accepted for compatibility.
            ('r', _) => {}
            // Verbose logging could show a user what they may not see.
            ('v', _) if sys::geteuid() == 0 => log::raise_verbose(1),
            _ => {}
        }
    }

    // Configuration.
    let config_dir = global::mail_conf_checkdir::checked_config_directory();
    let mut config = Config::load(&config_dir).unwrap_or_else(|e| global::fatal_config(e));
    config.process_name = POSTDROP.to_string();
    let tag = global::mail_task::mail_task(&config, POSTDROP);
    if let Err(e) = maillog_client::init(&config, &tag, Fallback::Drop) {
        global::fatal_config(e);
    }
    let settings = Settings::from_config(&config);

    // A runaway process must not fill the disk; not a defence against a determined user.
    if settings.message_limit > 0 {
        limit_file_size(settings.message_limit as u64);
    }
    if let Err(e) = global::clean_env::clean_env(&config) {
        global::fatal_config(e);
    }
    if let Err(e) = std::env::set_current_dir(&settings.queue_directory) {
        log::msg_fatal!("chdir {}: {}", settings.queue_directory, sys::os_error(&e));
    }
    if log::verbose() > 0 {
        log::msg_info!("chdir {}", settings.queue_directory);
    }

    // From here on an incomplete file must not survive us.
    sys::signals::ignore(sys::signals::SIGPIPE);
    sys::signals::ignore(sys::signals::SIGXFSZ);
    if let Err(e) = sys::signals::on_termination(remove_incomplete) {
        log::msg_fatal!("signal handling: {}", sys::os_error(&e));
    }
    log::add_sink(Box::new(CleanupOnFatal));

    if let Err(e) = global::mail_dict::init(&config) {
        global::fatal_config(e);
    }
    if let Some(name) = global::user_acl::check_user_acl_byuid(
        AUTHORIZED_SUBMIT_USERS.name,
        &settings.submit_acl,
        uid,
    ) {
        log::msg_fatal!("User {name}({uid}) is not allowed to submit mail");
    }

    // The arrival time is ours, not the caller's.
    let start = now();
    let mut file = QueueFile::create(&settings.layout, mail_queue::MAILDROP, MAILDROP_MODE)
        .unwrap_or_else(|e| log::msg_fatal!("{e}"));
    *incomplete() = Some(file.path().to_string());
    reply(
        &Attrs::new()
            .str(mail_attr::PROTO, mail_attr::PROTO_POSTDROP)
            .str(mail_attr::QUEUEID, file.id()),
    );

    let mut check_sender =
        |sender: &[u8], reason: &mut String| settings.sender_check.check(uid, sender, reason);
    let mut copy = Copy {
        uid,
        line_limit: settings.line_limit,
        check_sender: &mut check_sender,
    };
    let ending = copy.run(&mut std::io::stdin().lock(), &mut file, start);
    let (mut status, reason, write_error) = match ending {
        Err(fatal) => log::msg_fatal!("{fatal}"),
        Ok(Ending::Canceled) => {
            // The client gave up: no file, no answer.
            file.abandon();
            let path = incomplete().take();
            if let Some(path) = path {
                match std::fs::remove_file(&path) {
                    Err(e) => {
                        log::msg_warn!("uid={uid}: remove {path}: {}", sys::os_error(&e))
                    }
                    Ok(()) if log::verbose() > 0 => log::msg_info!("remove {path}"),
                    Ok(()) => {}
                }
            }
            std::process::exit(0);
        }
        Ok(Ending::Done {
            status,
            reason,
            write_error,
        }) => (status, reason, write_error),
    };
    if status != STAT_OK {
        // Refused. Postfix 3.7 leaves such a file behind (never complete, so never
        // picked up); it is removed here.
        file.abandon();
        remove_incomplete();
    } else {
        let finished = match write_error {
            Some(e) => {
                file.abandon();
                Err(e)
            }
            None => file.finish(),
        };
        match finished {
            Ok(()) => {
                // Complete: from now on the file is pickup's, even if we are killed.
                incomplete().take();
                global::mail_trigger::mail_trigger(
                    "public",
                    &settings.pickup_service,
                    &[TRIGGER_REQ_WAKEUP],
                    settings.trigger_timeout,
                );
            }
            Err(e) => {
                status = if e.raw_os_error() == Some(sys::libc::EFBIG) {
                    STAT_SIZE
                } else {
                    STAT_WRITE
                };
                log::msg_warn!("uid={uid}: {}", sys::os_error(&e));
                remove_incomplete();
            }
        }
    }
    let reason = if status != STAT_OK {
        reason
    } else {
        String::new()
    };
    reply(
        &Attrs::new()
            .int(mail_attr::STATUS, status as i32)
            .str(mail_attr::WHY, &reason),
    );
    // Like Postfix, the status is the exit code too (truncated by the system to 8 bits).
    std::process::exit(status as i32);
}

/// Sends one attribute list to the client. A client that went away is not our problem.
fn reply(attrs: &Attrs) {
    let _ = ipc::attr::write(&mut std::io::stdout().lock(), Flavor::Null, attrs);
}

/// Seconds and microseconds since the epoch.
fn now() -> (u64, u32) {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (since.as_secs(), since.subsec_micros())
}

/// Lowers the file size limit to `limit` bytes unless it is lower already (Postfix's
/// `set_file_limit`); writes past it fail with EFBIG (SIGXFSZ is ignored).
fn limit_file_size(limit: u64) {
    use sys::nix::sys::resource::{Resource, getrlimit, setrlimit};
    let errno_text = |errno: sys::nix::errno::Errno| {
        sys::os_error(&std::io::Error::from_raw_os_error(errno as i32))
    };
    let current = match getrlimit(Resource::RLIMIT_FSIZE) {
        Ok((soft, _)) => soft,
        Err(errno) => log::msg_fatal!("getrlimit: {}", errno_text(errno)),
    };
    if current > limit
        && let Err(errno) = setrlimit(Resource::RLIMIT_FSIZE, limit, limit)
    {
        log::msg_fatal!("setrlimit: {}", errno_text(errno));
    }
}
