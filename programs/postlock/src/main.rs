//! postlock - runs a command with a mail folder locked.
//!
//! Postfix counterpart: `postlock/postlock.c` (3.7). `postlock [-c config_dir] [-l
//! lock_style] [-v] folder command...` opens the folder for appending (creating it, mode
//! 0600, when missing), locks it the way the local delivery agent does
//! (`mailbox_delivery_lock`, or the `-l` styles: flock, fcntl, dotlock), runs the command,
//! and releases the lock when the command ends; the exit status is the command's. A
//! failure before the command runs exits with EX_TEMPFAIL (75), so that callers can tell
//! "locked, try later" from the command's own failures.

use global::mbox_conf::{LockConf, mbox_lock_mask};
use params::Config;
use params::decl::delivery::MAILBOX_DELIVERY_LOCK;

/// `EX_TEMPFAIL` from sysexits.h.
const EX_TEMPFAIL: i32 = 75;

fn fatal(args: std::fmt::Arguments<'_>) -> ! {
    log::fatal_status(EX_TEMPFAIL, args)
}

fn usage(name: &str) -> ! {
    fatal(format_args!(
        "usage: {name} [-c config_dir] [-l lock_style] [-v] folder command..."
    ))
}

fn main() {
    sys::umask(0o022);
    if std::env::var_os(params::env::CONF_ENV_VERB).is_some() {
        log::set_verbose(1);
    }
    let name = std::env::args().next().unwrap_or_else(|| "postlock".into());
    log::init(Box::new(log::Stderr::new(&name)));
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (opts, operands) = match util::getopt::parse(&name, "c:l:v", &args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            usage(&name)
        }
    };
    let mut lock_style = None;
    for opt in opts {
        match (opt.letter, opt.value) {
            ('c', Some(dir)) => sys::setenv(params::env::CONF_ENV, std::ffi::OsStr::new(&dir)),
            ('l', Some(style)) => lock_style = Some(style),
            ('v', _) => log::raise_verbose(1),
            _ => usage(&name),
        }
    }
    let [folder, command @ ..] = operands.as_slice() else {
        usage(&name)
    };
    if command.is_empty() {
        usage(&name);
    }
    let config_dir = params::config::config_directory(None);
    let config = Config::load(&config_dir).unwrap_or_else(|e| config_fatal(e));
    if let Err(e) = global::mail_conf_checkdir::update_env(&config) {
        config_fatal(e);
    }
    let styles = match lock_style {
        Some(style) => style,
        None => config
            .str(&MAILBOX_DELIVERY_LOCK)
            .unwrap_or_else(|e| config_fatal(e)),
    };
    let lock_mask = mbox_lock_mask(MAILBOX_DELIVERY_LOCK.name, &styles)
        .unwrap_or_else(|e| fatal(format_args!("{e}")));
    let lock_conf = LockConf::from_config(&config).unwrap_or_else(|e| config_fatal(e));
    let mbox = global::mbox_open::mbox_open(folder, 0o600, None, lock_mask, &lock_conf, "5.2.0")
        .unwrap_or_else(|why| fatal(format_args!("open file {folder}: {}", why.reason)));

    // The lock is held (by this process and its open file) while the command runs.
    let status = std::process::Command::new(&command[0])
        .args(&command[1..])
        .status();
    drop(mbox);
    match status {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => {
            // Postfix's child reports its failed exec and exits 1.
            log::fatal_status(
                1,
                format_args!("execvp {}: {}", command[0], sys::os_error(&e)),
            )
        }
    }
}

/// A configuration error: its warnings, then fatal with EX_TEMPFAIL.
fn config_fatal(error: params::ConfigError) -> ! {
    for warning in &error.warnings {
        log::msg_warn!("{warning}");
    }
    fatal(format_args!("{}", error.message))
}
