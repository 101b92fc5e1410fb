//! postreport - the problem report the Debugging Howto asks for, in one command.
//!
//! Postfix counterpart: none in Postfix itself; DEBUG_README's "Reporting problems" lists
//! what to send (and points at the third-party postfinger script). `postreport [-a]
//! [-c config_dir] [-l logfile] [-n count] [-C lines] [-q count]` prints, in this order:
//! the version (`mail_version`), the system type, `postconf -n`, `postconf -Mf`, the first
//! `-n` (10) warning/error/fatal/panic lines of the log with `-C` (2) lines of context (the
//! log is `-l`, else `maillog_file`, else the syslog file Debian's rsyslog writes), the
//! number of messages in each queue and, when there are at least `-q` (100) of them, the
//! queue shape as qshape shows it. `-a` anonymises addresses and host names as the Howto
//! asks (see [`anonymise`]).
//!
//! postconf and qshape are run from `command_directory`, as Postfix's own scripts run its
//! commands: their output is what a helper expects to read, and this program stays free of
//! another program's code.

mod anonymise;
mod problems;

use params::Config;
use params::decl::install::{COMMAND_DIRECTORY, MAIL_VERSION, QUEUE_DIRECTORY};
use params::decl::logging::MAILLOG_FILE;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where syslog puts mail logging when maillog_file is not used: Debian's rsyslog first,
/// then the other names the Howto mentions.
const SYSLOG_FILES: [&str; 3] = ["/var/log/mail.log", "/var/log/maillog", "/var/log/mail"];

/// The queues counted, in Postfix's order.
const QUEUES: [&str; 5] = [
    global::mail_queue::MAILDROP,
    global::mail_queue::INCOMING,
    global::mail_queue::ACTIVE,
    global::mail_queue::DEFERRED,
    global::mail_queue::HOLD,
];

struct Options {
    anonymise: bool,
    log_file: Option<PathBuf>,
    problems: usize,
    context: usize,
    queue_threshold: u64,
}

fn usage(myname: &str) -> ! {
    log::msg_fatal!(
        "usage: {myname} [-a (anonymise)] [-c config_dir] [-l logfile] [-n problem_lines] [-C context_lines] [-q queue_threshold]"
    )
}

fn number(myname: &str, letter: char, value: &str) -> u64 {
    value.parse().unwrap_or_else(|_| {
        eprintln!("{myname}: bad -{letter} value: {value}");
        usage(myname)
    })
}

fn main() {
    let argv0 = std::env::args()
        .next()
        .unwrap_or_else(|| "postreport".into());
    log::init(Box::new(log::Stderr::new(&argv0)));
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (opts, operands) = match util::getopt::parse(&argv0, "ac:C:l:n:q:", &args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            usage(&argv0)
        }
    };
    if !operands.is_empty() {
        usage(&argv0);
    }
    let mut options = Options {
        anonymise: false,
        log_file: None,
        problems: 10,
        context: 2,
        queue_threshold: 100,
    };
    let mut config_dir = None;
    for opt in opts {
        let value = opt.value.unwrap_or_default();
        match opt.letter {
            'a' => options.anonymise = true,
            'c' => config_dir = Some(PathBuf::from(value)),
            'C' => options.context = number(&argv0, 'C', &value) as usize,
            'l' => options.log_file = Some(PathBuf::from(value)),
            'n' => options.problems = number(&argv0, 'n', &value) as usize,
            'q' => options.queue_threshold = number(&argv0, 'q', &value),
            _ => usage(&argv0),
        }
    }
    let config_dir = params::config::config_directory(config_dir.as_deref());
    let config = match Config::load(&config_dir) {
        Ok(config) => config,
        Err(e) => log::msg_fatal!("{e}"),
    };
    let report = report(&config, &options);
    let report = if options.anonymise {
        anonymise::Anonymiser::new(local_names()).text(&report)
    } else {
        report
    };
    print!("{report}");
}

/// This host's names as syslog writes them (without dots, so the word rules would miss
/// them): the full node name and its first label.
fn local_names() -> Vec<String> {
    let Ok(host) = sys::hostname() else {
        return Vec::new();
    };
    let short = host.split('.').next().unwrap_or("").to_string();
    vec![host, short]
}

/// A parameter's value, or the error text in its place: a report shows what it can.
fn value(config: &Config, param: &'static params::Param) -> String {
    config
        .str(param)
        .unwrap_or_else(|e| format!("(unavailable: {e})"))
}

/// One section heading.
fn heading(out: &mut String, title: &str) {
    out.push_str(&format!("\n=== {title} ===\n"));
}

fn report(config: &Config, options: &Options) -> String {
    let mut out = String::from("ironpost problem report (postreport)\n");
    heading(&mut out, "version");
    out.push_str(&format!(
        "mail_version = {}\n",
        value(config, &MAIL_VERSION)
    ));
    heading(&mut out, "system");
    out.push_str(&system_type());

    let commands = PathBuf::from(value(config, &COMMAND_DIRECTORY));
    let config_dir = config.config_directory.to_string_lossy().into_owned();
    for flags in ["-n", "-Mf"] {
        heading(&mut out, &format!("postconf {flags}"));
        out.push_str(&run(
            &commands.join("postconf"),
            &["-c", &config_dir, flags],
        ));
    }

    let log_file = options.log_file.clone().or_else(|| {
        let maillog = value(config, &MAILLOG_FILE);
        if !maillog.is_empty() && !maillog.starts_with("/dev/") {
            return Some(PathBuf::from(maillog));
        }
        SYSLOG_FILES.iter().map(PathBuf::from).find(|p| p.exists())
    });
    log_section(&mut out, log_file.as_deref(), options);

    let queue_dir = PathBuf::from(value(config, &QUEUE_DIRECTORY));
    heading(&mut out, "queue");
    let mut total = 0;
    let mut counts = Vec::new();
    for queue in QUEUES {
        match count_files(&queue_dir.join(queue)) {
            Ok(n) => {
                total += n;
                counts.push(format!("{queue} {n}"));
            }
            Err(e) => counts.push(format!("{queue} ({})", sys::os_error(&e))),
        }
    }
    out.push_str(&format!("{} (total {total})\n", counts.join(", ")));
    if total >= options.queue_threshold {
        // QSHAPE_README's two views: what is being delivered now, and what waits.
        for queues in [["incoming", "active"].as_slice(), ["deferred"].as_slice()] {
            heading(&mut out, &format!("qshape {}", queues.join(" ")));
            let mut args = vec!["-c", config_dir.as_str()];
            args.extend_from_slice(queues);
            out.push_str(&run(&commands.join("qshape"), &args));
        }
    } else {
        out.push_str(&format!(
            "(queue shape shown from {} messages on; -q changes this)\n",
            options.queue_threshold
        ));
    }
    out
}

/// The system type: the kernel as `uname -srm` prints it, and the distribution.
fn system_type() -> String {
    let mut out = run(Path::new("uname"), &["-srm"]);
    if let Ok(release) = std::fs::read_to_string("/etc/os-release")
        && let Some(name) = release.lines().find_map(|l| l.strip_prefix("PRETTY_NAME="))
    {
        out.push_str(name.trim_matches('"'));
        out.push('\n');
    }
    out
}

/// The first problems of the log, or why there are none to show.
fn log_section(out: &mut String, log_file: Option<&Path>, options: &Options) {
    let Some(path) = log_file else {
        heading(out, "log");
        out.push_str("(no log file found: give one with -l)\n");
        return;
    };
    heading(
        out,
        &format!(
            "log {}: first {} warning/error/fatal/panic lines, {} lines of context",
            path.display(),
            options.problems,
            options.context
        ),
    );
    match std::fs::read(path) {
        Ok(bytes) => {
            let lines: Vec<String> = String::from_utf8_lossy(&bytes)
                .lines()
                .map(String::from)
                .collect();
            let (text, count) = problems::first_problems(&lines, options.problems, options.context);
            out.push_str(&text);
            out.push_str(&format!(
                "({count} problem lines in {} log lines)\n",
                lines.len()
            ));
        }
        Err(e) => out.push_str(&format!("(cannot read: {})\n", sys::os_error(&e))),
    }
}

/// Runs a command and returns what it printed, standard error after standard output (a
/// warning from postconf belongs in the report), and a note when it failed.
fn run(program: &Path, args: &[&str]) -> String {
    match Command::new(program)
        .args(args)
        .env_remove(params::env::CONF_ENV)
        .output()
    {
        Ok(output) => {
            let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            if !output.status.success() {
                text.push_str(&format!(
                    "({} exited with {})\n",
                    program.display(),
                    output.status
                ));
            }
            text
        }
        Err(e) => format!(
            "(cannot run {}: {})\n",
            program.display(),
            sys::os_error(&e)
        ),
    }
}

/// The number of files in a queue directory and its hashed subdirectories.
fn count_files(dir: &Path) -> std::io::Result<u64> {
    let mut count = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            count += count_files(&entry.path())?;
        } else if kind.is_file() {
            count += 1;
        }
    }
    Ok(count)
}
