//! postfix - start, stop, reload and check the mail system.
//!
//! Postfix counterparts: `postfix/postfix.c` and `conf/postfix-script`. `postfix [-c
//! config_dir] [-Dv] command`, where command is `start`, `start-fg`, `stop`, `abort`,
//! `reload`, `status`, `check`, `set-permissions`, `upgrade-configuration`, `flush`, or
//! ironpost's `prepare-chroot`. `-D` runs every daemon under `debugger_command` (start
//! only); `-v` makes every daemon verbose. Messages are Postfix's and are logged under
//! `postfix/postfix-script`, and shown on a terminal, as Postfix's postlog shows them.
//!
//! `reload -n` (or `reload --dry-run`) shows what a reload would change and break without
//! doing it (dryrun.rs).
//!
//! `prepare-chroot` copies into the queue directory what chrooted daemons read from /etc
//! (resolv.conf, hosts, services, nsswitch.conf, localtime...) and the name-service
//! libraries, as Debian's configure-instance.sh does; `postfix check` then compares those
//! copies with the originals.

mod check;
mod chroot;
mod control;
mod dryrun;
mod layout;
mod prologue;

use params::Config;
use params::decl::install::{
    COMMAND_DIRECTORY, DAEMON_DIRECTORY, DATA_DIRECTORY, MAIL_OWNER, QUEUE_DIRECTORY, SETGID_GROUP,
};
use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let program = args
        .first()
        .map_or("postfix", |a| a.rsplit('/').next().unwrap_or(a))
        .to_string();
    log::init(Box::new(log::Stderr::new(&program)));
    if sys::getuid() != 0 {
        log::msg_error!("to submit mail, use the Postfix sendmail command");
        log::msg_fatal!("the postfix command is reserved for the superuser");
    }
    let usage = || -> ! { log::msg_fatal!("usage: {program} [-c config_dir] [-Dv] command") };
    let (opts, rest) = util::getopt::parse(&program, "c:Dv", &args[1..]).unwrap_or_else(|e| {
        eprintln!("{e}");
        usage()
    });
    for opt in opts {
        match opt.letter {
            'c' => {
                let dir = opt.value.unwrap_or_default();
                if !dir.starts_with('/') {
                    log::msg_fatal!("-c requires absolute pathname");
                }
                sys::setenv(params::env::CONF_ENV, dir.as_ref());
            }
            'D' => sys::setenv(params::env::CONF_ENV_DEBUG, "".as_ref()),
            'v' => {
                log::raise_verbose(1);
                sys::setenv(params::env::CONF_ENV_VERB, "".as_ref());
            }
            _ => usage(),
        }
    }
    let Some(command) = rest.first().cloned() else {
        usage()
    };

    let config_dir = params::config::config_directory(None);
    let config = Config::load(&config_dir).unwrap_or_else(|e| global::fatal_config(e));
    // Postfix's postfix command dies of it while it reads main.cf, before logging to
    // maillog_file; so it is said on a terminal only.
    if let Some(why) = prologue::foreign_interface(&config) {
        log::retain_sinks(|_| false);
        if sys::isatty(2) {
            log::add_sink(Box::new(log::Stderr::new(&program)));
        }
        log::msg_fatal!("{why}");
    }
    let text = |p| config.str(p).unwrap_or_else(|e| global::fatal_config(e));
    warn_compatibility(&config);
    let paths = check::Paths {
        config: config_dir.clone(),
        queue: PathBuf::from(text(&QUEUE_DIRECTORY)),
        data: PathBuf::from(text(&DATA_DIRECTORY)),
        daemons: PathBuf::from(text(&DAEMON_DIRECTORY)),
        mail_owner: text(&MAIL_OWNER),
        setgid_group: text(&SETGID_GROUP),
    };
    sys::setenv(params::env::CONF_ENV, config_dir.as_os_str());
    sys::setenv("PATH", "/bin:/usr/bin:/sbin:/usr/sbin".as_ref());
    for dir in [text(&COMMAND_DIRECTORY), text(&DAEMON_DIRECTORY)] {
        if let Err(e) = std::env::set_current_dir(&dir) {
            log::msg_fatal!("chdir({dir}): {}", sys::os_error(&e));
        }
    }
    if let Err(e) = std::env::set_current_dir(&paths.queue) {
        log::msg_fatal!("chdir({}): {}", paths.queue.display(), sys::os_error(&e));
    }

    // From here on, speak as postfix-script does: to the log, and to a terminal.
    let tag = global::mail_task::mail_task(&config, "postfix-script");
    log::retain_sinks(|_| false);
    if sys::isatty(2) {
        log::add_sink(Box::new(log::Stderr::new(&tag)));
    }
    // Written directly: start, stop and reload happen while postlogd may not be running.
    if let Err(e) =
        global::maillog_client::init(&config, &tag, global::maillog_client::Fallback::Direct)
    {
        global::fatal_config(e);
    }
    // postfix-script's first postconf command reads master.cf: every command but
    // ironpost's dry-run (which reports such errors itself) stops when it does not parse,
    // with postconf's words on standard error and the script's in the log.
    let dry_run = command == "reload" && rest[1..].iter().any(|a| a == "-n" || a == "--dry-run");
    if !dry_run && let Some(why) = prologue::master_cf_error(&paths.config) {
        let postconf = PathBuf::from(text(&COMMAND_DIRECTORY)).join("postconf");
        eprintln!("{}: fatal: {why}", postconf.display());
        std::process::exit(control::fatal(&format!(
            "cannot execute {}!",
            postconf.display()
        )));
    }
    let ids = layout::Ids {
        owner: sys::user::by_name(&paths.mail_owner)
            .map(|a| (a.uid, a.gid))
            .unwrap_or_else(|| log::msg_fatal!("unknown mail_owner account: {}", paths.mail_owner)),
        setgid_gid: sys::user::group_id(&paths.setgid_group)
            .unwrap_or_else(|| log::msg_fatal!("unknown setgid_group: {}", paths.setgid_group)),
    };
    let ctl = control::Control {
        config: &config,
        paths: &paths,
        ids: &ids,
    };
    let status = match command.as_str() {
        "start" => ctl.start(false),
        "start-fg" => ctl.start(true),
        "stop" => ctl.stop(),
        "abort" => ctl.abort(),
        // ironpost's dry-run (see dryrun.rs); any other word after reload is ignored, as
        // postfix-script ignores it.
        "reload" if dry_run => ctl.reload_dry_run(),
        "reload" => ctl.reload(),
        "status" => ctl.status(),
        "check" => ctl.check(),
        "set-permissions" | "upgrade-configuration" => ctl.set_permissions(),
        "flush" => ctl.flush(),
        "prepare-chroot" => chroot::prepare(&paths.queue),
        other => {
            log::write(
                log::Severity::Fatal,
                &format!(
                    "unknown command: '{other}'. Usage: postfix start (or stop, reload, abort, flush, check, status, set-permissions, upgrade-configuration, logrotate)"
                ),
            );
            1
        }
    };
    std::process::exit(status);
}

/// Postfix's reminder when compatibility_level keeps old defaults.
fn warn_compatibility(config: &Config) {
    let level = config
        .str(&params::decl::identity::COMPATIBILITY_LEVEL)
        .unwrap_or_default();
    let parts: Vec<u32> = level.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    let current = (
        parts.first().copied().unwrap_or(0),
        parts.get(1).copied().unwrap_or(0),
    );
    if current < (3, 6) {
        log::msg_info!("Postfix is using backwards-compatible default settings");
        log::msg_info!("See http://www.postfix.org/COMPATIBILITY_README.html for details");
        log::msg_info!(
            "To disable backwards compatibility use \"postconf compatibility_level=3.6\" and \"postfix reload\""
        );
    }
}
