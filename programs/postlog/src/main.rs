//! postlog - log a record from a shell script, as Postfix's postlog(1) does.
//!
//! Postfix counterpart: `postlog/postlog.c` (3.7). `postlog [-iv] [-c config_dir]
//! [-p priority] [-t tag] [text...]` logs the text, or each line of standard input, with the
//! given severity (`info`, `warn`, `error`, `fatal`, `panic`) under the tag
//! `$syslog_name/postlog` or `-t tag`. Records go where the configuration sends everything
//! else: syslog, or `maillog_file` (written directly when postlogd is not running). Standard
//! error also gets a copy when it is a terminal. After a fatal or panic record the command
//! pauses a second, like the programs it speaks for, and exits 0.

use global::maillog_client::{self, Fallback};
use log::Severity;
use std::io::BufRead;
use std::path::PathBuf;

/// The name postlog always logs under, whatever argv[0] says.
const POSTLOG: &str = "postlog";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    sys::umask(0o022);
    // Until main.cf is read, records go to syslog under the default tag, as in Postfix.
    let early_tag = format!("postfix/{POSTLOG}");
    log::init(Box::new(log::Syslog::new(&early_tag, log::Facility::MAIL)));
    if sys::isatty(2) {
        log::add_sink(Box::new(log::Stderr::new(&early_tag)));
    }
    let (opts, text) = match util::getopt::parse(POSTLOG, "c:ip:t:v", &args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            log::msg_fatal!(
                "usage: {POSTLOG} [-c config_dir] [-i] [-p priority] [-t tag] [-v] [text]"
            );
        }
    };
    let mut config_dir = None;
    let mut severity = Severity::Info;
    let mut tag = None;
    for opt in opts {
        match (opt.letter, opt.value) {
            ('c', dir) => config_dir = dir.map(PathBuf::from),
            ('p', Some(level)) => {
                severity = Severity::from_name(&level.to_ascii_lowercase())
                    .unwrap_or_else(|| log::msg_fatal!("bad severity: \"{level}\""));
            }
            ('t', value) => tag = value,
            ('v', _) => log::raise_verbose(1),
            _ => {}
        }
    }
    let dir = params::config::config_directory(config_dir.as_deref());
    let config = params::Config::load(&dir).unwrap_or_else(|e| global::fatal_config(e));
    let tag = match tag {
        // The tag comes from the user: keep it printable.
        Some(t) => t
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect(),
        None => global::mail_task::mail_task(&config, POSTLOG),
    };
    if sys::isatty(2) {
        log::retain_sinks(|s| !s.is_stderr());
        log::add_sink(Box::new(log::Stderr::new(&tag)));
    }
    if let Err(e) = maillog_client::init(&config, &tag, Fallback::WriteFile) {
        global::fatal_config(e);
    }
    if text.is_empty() {
        let stdin = std::io::stdin();
        for line in stdin.lock().split(b'\n') {
            let Ok(line) = line else { break };
            log::write(severity, &String::from_utf8_lossy(&line));
        }
    } else {
        log::write(severity, &text.join(" "));
    }
    if severity >= Severity::Fatal {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
