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
//! the syslog file; the whole log is read. `-l` may be given more than once, e.g. the logs
//! of this system and of the next hop it relays to, whose `queued as` copy is then traced
//! there too. A message still in the deferred queue gets its
//! next retry time from the queue file's time, which the queue manager sets to it. `-j`
//! prints JSON. `-t` prints instead the saved SMTP session transcripts of the message and
//! the queue ids it leads to (an ironpost extension: smtpd_transcript_peer_list,
//! smtp_transcript_peer_list), found through the log's `ID: transcript=path` lines and by
//! name in transcript_directory. Exit 0 when a message (or with -t a transcript) was
//! found, 1 otherwise.

use params::Config;
use params::decl::install::QUEUE_DIRECTORY;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use triage::cli::{self, year_seconds};
use triage::logline;
use triage::timeline::{self, Query};

fn usage(myname: &str) -> ! {
    log::msg_fatal!(
        "usage: {myname} [-c config_dir] [-i (message-id)] [-j (JSON)] [-l logfile] [-s since] [-t (transcripts)] [-u until] queue_id|<message-id>|address"
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
    let (opts, operands) = match util::getopt::parse(&argv0, "c:ijl:s:tu:", &args) {
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
    let (mut config_dir, mut message_id, mut json) = (None, false, false);
    let mut log_files: Vec<PathBuf> = Vec::new();
    let (mut since, mut until, mut transcripts) = (None, None, false);
    for opt in opts {
        let value = opt.value.unwrap_or_default();
        match opt.letter {
            'c' => config_dir = Some(PathBuf::from(value)),
            'i' => message_id = true,
            'j' => json = true,
            'l' => log_files.push(PathBuf::from(value)),
            's' => since = Some(when(&value)),
            't' => transcripts = true,
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
    if log_files.is_empty() {
        log_files.extend(cli::log_file(None, config.as_ref()));
    }
    if log_files.is_empty() {
        log::msg_fatal!("no log file found: give one with -l");
    }
    // The logs one after the other, as one: line numbers keep each log's order.
    let mut text = String::new();
    for log_file in &log_files {
        let bytes = std::fs::read(log_file).unwrap_or_else(|e| {
            log::msg_fatal!("cannot read {}: {}", log_file.display(), sys::os_error(&e))
        });
        text.push_str(&String::from_utf8_lossy(&bytes));
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
    }
    let lines = logline::parse_log(&text);
    let queue = config
        .as_ref()
        .and_then(|c| c.str(&QUEUE_DIRECTORY).ok())
        .map(PathBuf::from);
    let next_retry = |id: &str| queue.as_deref().and_then(|q| deferred_mtime(q, id));
    let traces = timeline::trace(&lines, &query, &next_retry);
    if transcripts {
        let directory = config
            .as_ref()
            .and_then(|c| c.str(&params::decl::transcript::TRANSCRIPT_DIRECTORY).ok());
        let found = transcript_files(&traces, directory.as_deref());
        for path in &found {
            match std::fs::read(path) {
                Ok(text) => {
                    println!("==> {} <==", path.display());
                    print!("{}", String::from_utf8_lossy(&text));
                }
                Err(e) => log::msg_warn!("cannot read {}: {}", path.display(), sys::os_error(&e)),
            }
        }
        if found.is_empty() {
            eprintln!("{argv0}: no saved transcript for {what}");
        }
        std::process::exit(if found.is_empty() { 1 } else { 0 });
    }
    if json {
        print!("{}", timeline::json(&traces));
    } else {
        print!("{}", timeline::text(&traces));
    }
    std::process::exit(if traces.is_empty() { 1 } else { 0 });
}

/// The transcripts of the traced queue ids: those the log names (`ID: transcript=path`),
/// then those in `directory` whose file name carries one of the ids (`..._ID1,ID2`).
fn transcript_files(traces: &[timeline::Trace], directory: Option<&str>) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    let mut add = |path: PathBuf| {
        if path.is_file() && !found.contains(&path) {
            found.push(path);
        }
    };
    for event in traces.iter().flat_map(|t| &t.events) {
        if let Some(path) = event.line.message().strip_prefix("transcript=") {
            add(PathBuf::from(path));
        }
    }
    let mut named: Vec<PathBuf> = directory
        .and_then(|d| std::fs::read_dir(d).ok())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let ids = name.rsplit('_').next().unwrap_or("");
            traces
                .iter()
                .any(|t| ids.split(',').any(|id| id == t.queue_id))
        })
        .map(|entry| entry.path())
        .collect();
    named.sort();
    for path in named {
        add(path);
    }
    found
}
