//! postsuper - queue maintenance for the superuser.
//!
//! Postfix counterpart: `postsuper/postsuper.c` (3.7). `postsuper [-psSv] [-c config_dir]
//! [-d id] [-e id] [-f id] [-h id] [-H id] [-r id] [queue...]`: each id may be `ALL`
//! (every message of the queues) or `-` (ids on standard input, one a line). The repairs
//! (`-p`, `-s`, `-S`; `-s -p` when nothing is asked) run first over the queues, twice when
//! queue file names had to change to match their inode numbers; then the other operations
//! run in the order given, over the queues named (by default defer, bounce, maildrop,
//! incoming, active, deferred, hold, flush). Each operation logs per message and ends with
//! a summary line (`Deleted: 2 messages`). postsuper runs as root only, and does its work
//! as the mail owner, so that it can do no more than the daemons it works beside.

mod mass;
mod ops;

use global::mail_queue::{self, Layout};
use mass::Mass;
use ops::{Counts, One};
use params::Config;
use params::decl::install::{MAIL_OWNER, QUEUE_DIRECTORY};
use std::io::BufRead;

const GETOPT_LIST: &str = "c:d:e:f:h:H:pr:sSv";

/// The default queues: the log directories first, so that a message renamed to match its
/// inode finds its logs where they belong.
const DEFAULT_QUEUES: [&str; 8] = [
    mail_queue::DEFER,
    mail_queue::BOUNCE,
    mail_queue::MAILDROP,
    mail_queue::INCOMING,
    mail_queue::ACTIVE,
    mail_queue::DEFERRED,
    mail_queue::HOLD,
    mail_queue::FLUSH,
];

/// Whether repairs changed names: set by the signal and fatal handlers' warning.
static RENAMES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn main() {
    sys::umask(0o022);
    if std::env::var_os(params::env::CONF_ENV_VERB).is_some() {
        log::set_verbose(1);
    }
    let argv0 = std::env::args()
        .next()
        .unwrap_or_else(|| "postsuper".into());
    let name = match argv0.rsplit_once('/') {
        Some((_, tail)) if !tail.is_empty() => tail.to_string(),
        _ => argv0.clone(),
    };
    log::init(Box::new(log::Stderr::new(&name)));
    if global::mail_conf_checkdir::untrusted() {
        log::msg_fatal!("this postfix command must not run as a set-uid process");
    }
    if sys::getuid() != 0 {
        log::msg_fatal!("use of this command is reserved for the superuser");
    }
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (opts, operands) = match util::getopt::parse(&name, GETOPT_LIST, &args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            usage(&name)
        }
    };
    let mut action = 0u32;
    let pick = |value: &Option<String>, all: u32, one: u32| {
        if value.as_deref() == Some("ALL") {
            all
        } else {
            one
        }
    };
    for opt in &opts {
        match opt.letter {
            'c' => {
                let dir = opt.value.as_deref().unwrap_or("");
                if !dir.starts_with('/') {
                    log::msg_fatal!("-c requires absolute pathname");
                }
                sys::setenv(params::env::CONF_ENV, std::ffi::OsStr::new(dir));
            }
            'd' => action |= pick(&opt.value, mass::DELETE_ALL, mass::DELETE_ONE),
            'e' => action |= pick(&opt.value, mass::EXPIRE_ALL, mass::EXPIRE_ONE),
            'f' => action |= pick(&opt.value, mass::EXP_REL_ALL, mass::EXP_REL_ONE),
            'h' => action |= pick(&opt.value, mass::HOLD_ALL, mass::HOLD_ONE),
            'H' => action |= pick(&opt.value, mass::RELEASE_ALL, mass::RELEASE_ONE),
            'p' => action |= mass::PURGE,
            'r' => action |= pick(&opt.value, mass::REQUEUE_ALL, mass::REQUEUE_ONE),
            'S' => action |= mass::STRUCT_RED | mass::STRUCT,
            's' => action |= mass::STRUCT,
            'v' => log::raise_verbose(1),
            _ => usage(&name),
        }
    }

    let config_dir = params::config::config_directory(None);
    let mut config = Config::load(&config_dir).unwrap_or_else(|e| global::fatal_config(e));
    config.process_name = name.clone();
    if let Err(e) = global::mail_conf_checkdir::update_env(&config) {
        global::fatal_config(e);
    }
    let tag = global::mail_task::mail_task(&config, &name);
    if let Err(e) =
        global::maillog_client::init(&config, &tag, global::maillog_client::Fallback::WriteFile)
    {
        global::fatal_config(e);
    }
    let queue_dir = config
        .str(&QUEUE_DIRECTORY)
        .unwrap_or_else(|e| global::fatal_config(e));
    if let Err(e) = std::env::set_current_dir(&queue_dir) {
        log::msg_fatal!("chdir {queue_dir}: {}", sys::os_error(&e));
    }
    let layout = Layout::from_config(&config).unwrap_or_else(|e| global::fatal_config(e));
    let owner = config
        .str(&MAIL_OWNER)
        .unwrap_or_else(|e| global::fatal_config(e));
    let Some(account) = sys::user::by_name(&owner) else {
        log::msg_fatal!("unknown mail_owner: {owner}");
    };
    // The queue belongs to the mail owner: files and directories made here must be its,
    // and a compromised queue must not lead root elsewhere.
    if let Err(e) = sys::user::set_ugid(account.uid, account.gid) {
        log::msg_fatal!("{e}");
    }
    if let Err(e) = sys::signals::on_termination(warn_incomplete) {
        log::msg_fatal!("signal handling: {}", sys::os_error(&e));
    }
    log::set_fatal_cleanup(warn_incomplete);

    if action == 0 {
        action = mass::STRUCT | mass::PURGE;
    }
    let queues: Vec<String> = if operands.is_empty() {
        DEFAULT_QUEUES.iter().map(|q| q.to_string()).collect()
    } else {
        operands
    };
    let mut counts = Counts::default();
    if action & mass::FOR_REPAIR != 0 {
        Mass {
            layout: &layout,
            counts: &mut counts,
        }
        .run(&queues, action & mass::FOR_REPAIR);
        // Files renamed to NEWID#FIX are finished by a second pass.
        if counts.inode_mismatch > 0 {
            Mass {
                layout: &layout,
                counts: &mut counts,
            }
            .run(&queues, action & mass::FOR_REPAIR);
        }
    }
    note_renames(&counts);
    if action & mass::BY_QUEUE_ID != 0 && (counts.inode_mismatch > 0 || counts.inode_fixed > 0) {
        log::msg_error!("QUEUE FILE NAMES WERE CHANGED TO MATCH INODE NUMBERS");
        log::msg_fatal!("CHECK YOUR QUEUE IDS AND RE-ISSUE THE COMMAND");
    }

    // The other operations, in the order given.
    for opt in &opts {
        let Some(value) = opt.value.as_deref() else {
            continue;
        };
        let all = match opt.letter {
            'd' => mass::DELETE_ALL,
            'e' => mass::EXPIRE_ALL,
            'f' => mass::EXP_REL_ALL,
            'h' => mass::HOLD_ALL,
            'H' => mass::RELEASE_ALL,
            'r' => mass::REQUEUE_ALL,
            _ => continue,
        };
        let one = |ops: &mut One<'_>, id: &str| match opt.letter {
            'd' => ops.delete(id),
            'e' => ops.expire(id),
            'f' => ops.expire_release(id),
            'h' => ops.hold(id),
            'H' => ops.release(id),
            _ => ops.requeue(id),
        };
        if value == "ALL" {
            Mass {
                layout: &layout,
                counts: &mut counts,
            }
            .run(&queues, all);
        } else {
            let mut ops = One {
                layout: &layout,
                queues: &queues,
                counts: &mut counts,
            };
            if value == "-" {
                for line in std::io::stdin().lock().split(b'\n') {
                    let Ok(line) = line else { break };
                    one(&mut ops, &String::from_utf8_lossy(&line));
                }
            } else {
                one(&mut ops, value);
            }
        }
    }

    report(action, &counts);
    std::process::exit(0);
}

fn usage(name: &str) -> ! {
    log::msg_fatal!(
        "usage: {name} [-c config_dir] [-d queue_id (delete)] [-e queue_id (expire)] [-f queue_id (expire and/or un-hold)] [-h queue_id (hold)] [-H queue_id (un-hold)] [-p (purge temporary files)] [-r queue_id (requeue)] [-s (structure fix)] [-S (redundant structure fix)][-v (verbose)] [queue...]"
    )
}

/// The summary lines.
fn report(action: u32, c: &Counts) {
    let plural = |n: u32| if n != 1 { "s" } else { "" };
    if action & (mass::REQUEUE_ONE | mass::REQUEUE_ALL) != 0 {
        log::msg_info!("Requeued: {} message{}", c.requeued, plural(c.requeued));
    }
    if action & (mass::DELETE_ONE | mass::DELETE_ALL) != 0 {
        log::msg_info!("Deleted: {} message{}", c.deleted, plural(c.deleted));
    }
    if action & (mass::EXPIRE_ONE | mass::EXPIRE_ALL | mass::EXP_REL_ONE | mass::EXP_REL_ALL) != 0 {
        log::msg_info!("Force-expired: {} message{}", c.expired, plural(c.expired));
    }
    if action & (mass::HOLD_ONE | mass::HOLD_ALL) != 0 {
        log::msg_info!("Placed on hold: {} message{}", c.held, plural(c.held));
    }
    if action & (mass::RELEASE_ONE | mass::RELEASE_ALL | mass::EXP_REL_ONE | mass::EXP_REL_ALL) != 0
    {
        log::msg_info!(
            "Released from hold: {} message{}",
            c.released,
            plural(c.released)
        );
    }
    if c.inode_fixed > 0 {
        log::msg_info!(
            "Renamed to match inode number: {} message{}",
            c.inode_fixed,
            plural(c.inode_fixed)
        );
    }
    if c.inode_mismatch > 0 || c.inode_fixed > 0 {
        log::msg_warn!("QUEUE FILE NAMES WERE CHANGED TO MATCH INODE NUMBERS");
    }
}

/// Remembers for the interrupt warning that names were changed.
fn note_renames(c: &Counts) {
    if c.inode_mismatch > 0 || c.inode_fixed > 0 || c.position_mismatch > 0 {
        RENAMES.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Said when postsuper stops before a repair is done, so that it is run again.
fn warn_incomplete() {
    if RENAMES.load(std::sync::atomic::Ordering::SeqCst) {
        log::msg_warn!("OPERATION INCOMPLETE -- RERUN COMMAND TO FIX THE QUEUE FIRST");
    }
}
