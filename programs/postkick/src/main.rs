//! postkick - sends a trigger request to a Postfix service.
//!
//! Postfix counterpart: `postkick/postkick.c` (3.7). `postkick [-c config_dir] [-v] class
//! service request` writes `request` to the service's endpoint `class/service` under the
//! queue directory (a FIFO or a UNIX socket, whichever it is): the way scripts wake up the
//! queue manager (`postkick public qmgr D`) or pickup (`postkick public pickup W`).
//! Exit status 1 with a warning when the service cannot be reached.

use params::Config;
use params::decl::install::QUEUE_DIRECTORY;
use std::time::Duration;

fn usage(name: &str) -> ! {
    log::msg_fatal!("usage: {name} [-c config_dir] [-v] class service request")
}

fn main() {
    if std::env::var_os(params::env::CONF_ENV_VERB).is_some() {
        log::set_verbose(1);
    }
    let argv0 = std::env::args().next().unwrap_or_else(|| "postkick".into());
    let name = match argv0.rsplit_once('/') {
        Some((_, tail)) if !tail.is_empty() => tail.to_string(),
        _ => argv0.clone(),
    };
    log::init(Box::new(log::Stderr::new(&name)));
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (opts, operands) = match util::getopt::parse(&name, "c:v", &args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            usage(&name)
        }
    };
    for opt in opts {
        match (opt.letter, opt.value) {
            ('c', Some(dir)) => sys::setenv(params::env::CONF_ENV, std::ffi::OsStr::new(&dir)),
            ('v', _) => log::raise_verbose(1),
            _ => usage(&name),
        }
    }
    let [class, service, request] = operands.as_slice() else {
        usage(&name)
    };
    let config_dir = params::config::config_directory(None);
    let mut config = Config::load(&config_dir).unwrap_or_else(|e| global::fatal_config(e));
    config.process_name = name;
    if let Err(e) = global::mail_conf_checkdir::update_env(&config) {
        global::fatal_config(e);
    }
    let queue_dir = config
        .str(&QUEUE_DIRECTORY)
        .unwrap_or_else(|e| global::fatal_config(e));
    if let Err(e) = std::env::set_current_dir(&queue_dir) {
        log::msg_fatal!("chdir {queue_dir}: {}", sys::os_error(&e));
    }
    let timeout = Duration::from_secs(
        config
            .time(&params::decl::submission::TRIGGER_TIMEOUT)
            .unwrap_or_else(|e| global::fatal_config(e)) as u64,
    );
    // The trigger is written and the endpoint closed before this returns: nothing is left
    // to drain.
    if !global::mail_trigger::mail_trigger(class, service, request.as_bytes(), timeout) {
        log::msg_warn!(
            "Cannot contact class {class} service {service} - perhaps the mail system is down"
        );
        std::process::exit(1);
    }
    std::process::exit(0);
}
