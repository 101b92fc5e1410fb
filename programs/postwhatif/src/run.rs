//! Running a daemon in what-if mode and reading its answers.
//!
//! Postfix counterpart: none (the daemons' side is global::whatif). The daemon is
//! `$daemon_directory/<program>`, as the master would start it, with `-W`, the `-o`
//! settings and the question; it writes attribute lists (`kind=...`) on its standard
//! output and exits. A daemon that does not answer in time (a service it asks is down) is
//! killed, and the question is answered as an error.

use ipc::{Attrs, Flavor};
use std::io::{BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a daemon may take: it may wait for a service (trivial-rewrite) or DNS.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What a daemon said.
pub struct Answers {
    /// Its answers in order, log records included.
    pub lists: Vec<Attrs>,
    /// Its exit status (None: killed or not started).
    pub status: Option<i32>,
    /// Why it did not answer, when it did not.
    pub problem: Option<String>,
}

impl Answers {
    /// The answers of `kind`.
    pub fn of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Attrs> + 'a {
        self.lists
            .iter()
            .filter(move |a| a.get_str("kind").ok() == Some(kind))
    }

    /// The log records, in order.
    pub fn log(&self) -> impl Iterator<Item = &str> {
        self.of("log").filter_map(|a| a.get_str("text").ok())
    }
}

/// Runs `program` from `daemon_directory` with `config_dir` as its configuration.
pub fn run(
    daemon_directory: &str,
    config_dir: &Path,
    program: &str,
    overrides: &[String],
    question: &[String],
) -> Answers {
    let path = Path::new(daemon_directory).join(program);
    let child = Command::new(&path)
        .arg(global::whatif::OPTION)
        .args(overrides)
        .args(question)
        .env("MAIL_CONFIG", config_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            return Answers {
                lists: Vec::new(),
                status: None,
                problem: Some(format!("execute {}: {}", path.display(), sys::os_error(&e))),
            };
        }
    };
    let stdout = child.stdout.take().expect("a pipe");
    let reader = std::thread::spawn(move || read_all(stdout));
    let deadline = Instant::now() + TIMEOUT;
    let mut problem = None;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.code(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                problem = Some(format!(
                    "{program} did not answer within {} seconds",
                    TIMEOUT.as_secs()
                ));
                break None;
            }
        }
    };
    let lists = reader.join().unwrap_or_default();
    Answers {
        lists,
        status,
        problem,
    }
}

/// Every attribute list on `input` until its end.
fn read_all(input: impl Read) -> Vec<Attrs> {
    let mut input = BufReader::new(input);
    let mut lists = Vec::new();
    while let Ok(Some(list)) = ipc::attr::read(&mut input, Flavor::Plain) {
        lists.push(list);
    }
    lists
}
