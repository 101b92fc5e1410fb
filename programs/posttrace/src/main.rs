//! posttrace - the timeline of one message: every logged event across processes.
//!
//! Postfix counterpart: none (the Howto's grep for a queue id, repeated for every queue
//! id it leads to). `posttrace [-c config_dir] [-j] [-l logfile] [-s since] [-u until]
//! [-i] what`: `what` is a queue id, a Message-ID (`<...>`, or any text with -i), or a
//! sender or recipient address (with -s/-u for a time range: a log stamp, HH:MM[:SS]
//! today, or an age such as 2h). It prints each event in order with its meaning
//! (delays=a/b/c/d in words, deferrals with their reason and when they were tried
//! again), and follows the message into the queue ids of its bounces, notices and
//! forwarded copies (crates/triage timeline.rs). The log is `-l`, else maillog_file, else
//! the syslog file; the whole log is read. A message still in the deferred queue gets its
//! next retry time from the queue file's time, which the queue manager sets to it. `-j`
//! prints JSON. Exit 0 when a message was found, 1 otherwise.

use params::Config;
use params::decl::install::QUEUE_DIRECTORY;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use triage::cli::{self, year_seconds};
use triage::logline;
use triage::timeline::{self, Query};

fn usage(myname: &str) -> ! {
    log::msg_fatal!(
        "usage: {myname} [-c config_dir] [-i (message-id)] [-j (JSON)] [-l logfile] [-s since] [-u until] queue_id|<message-id>|address"
    )
}

/// The deferred queue file of `id` (hashed or not), and its time: the next retry.
fn deferred_mtime(queue: &Path, id: &str) -> Option<u64> {
    fn find(dir: &Path, id: &str) -> Option<PathBuf> {
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let path = entry.path();
            if entry.file_name() == id {
                return Some(path);
            }
            if entry.file_type().is_ok_and(|t| t.is_dir())
                && let Some(found) = find(&path, id)
            {
                return Some(found);
            }
        }
        None
    }
    let file = find(&queue.join("deferred"), id)?;
    Some(year_seconds(std::fs::metadata(file).ok()?.mtime()))
}

fn main() {
    let argv0 = std::env::args()
        .next()
        .unwrap_or_else(|| "posttrace".into());
    log::init(Box::new(log::Stderr::new(&argv0)));
    let args = cli::args();
    let (opts, operands) = match util::getopt::parse(&argv0, "c:ijl:s:u:", &args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            usage(&argv0)
        }
    };
    let [what] = operands.as_slice() else {
        usage(&argv0)
    };
    let now = cli::now();
    let when = |v: &str| {
        logline::parse_user_time(v, now).unwrap_or_else(|| {
            eprintln!("{argv0}: bad time: {v}");
            usage(&argv0)
        })
    };
    let (mut config_dir, mut message_id, mut json, mut log_file) = (None, false, false, None);
    let (mut since, mut until) = (None, None);
    for opt in opts {
        let value = opt.value.unwrap_or_default();
        match opt.letter {
            'c' => config_dir = Some(PathBuf::from(value)),
            'i' => message_id = true,
            'j' => json = true,
            'l' => log_file = Some(PathBuf::from(value)),
            's' => since = Some(when(&value)),
            'u' => until = Some(when(&value)),
            _ => usage(&argv0),
        }
    }
    let query = if message_id || what.starts_with('<') {
        Query::MessageId(what.clone())
    } else if logline::is_queue_id(what) {
        Query::QueueId(what.clone())
    } else {
        Query::Address {
            address: what.trim_matches(['<', '>']).to_string(),
            since,
            until,
        }
    };
    let config_dir = params::config::config_directory(config_dir.as_deref());
    // Without a configuration (a log copied elsewhere) the log alone is used.
    let config = Config::load(&config_dir).ok();
    let log_file = cli::log_file(log_file, config.as_ref())
        .unwrap_or_else(|| log::msg_fatal!("no log file found: give one with -l"));
    let bytes = std::fs::read(&log_file).unwrap_or_else(|e| {
        log::msg_fatal!("cannot read {}: {}", log_file.display(), sys::os_error(&e))
    });
    let lines = logline::parse_log(&String::from_utf8_lossy(&bytes));
    let queue = config
        .as_ref()
        .and_then(|c| c.str(&QUEUE_DIRECTORY).ok())
        .map(PathBuf::from);
    let next_retry = |id: &str| queue.as_deref().and_then(|q| deferred_mtime(q, id));
    let traces = timeline::trace(&lines, &query, &next_retry);
    if json {
        print!("{}", timeline::json(&traces));
    } else {
        print!("{}", timeline::text(&traces));
    }
    std::process::exit(if traces.is_empty() { 1 } else { 0 });
}
