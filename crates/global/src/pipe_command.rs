//! Runs a delivery command with the message on its standard input, as a given user, with a
//! time limit, and maps its exit status to a delivery status (enhanced code and text).
//!
//! Postfix counterpart: `src/global/pipe_command.c`, with `util/exec_command.c` (run a
//! command line without a shell when it has no shell magic) and `global/sys_exits.c` (the
//! sendmail exit codes and their enhanced status codes).
//!
//! The command's standard output and standard error are one pipe; the first
//! [`OUTPUT_LIMIT`] bytes go into the bounce or defer text, as Postfix's do. The time limit
//! covers everything: feeding the message, reading the output and waiting for the exit.
//! When it runs out, the command and everything it started (its own session) get SIGKILL,
//! and the delivery bounces: a command that hangs would hang again on retry.
//!
//! A command that exits non-zero decides the status: an RFC 3463 code at the start of its
//! output first, else the sendmail exit code (`<sysexits.h>`, e.g. 75 EX_TEMPFAIL defers),
//! else a bounce "Command died with status N".

use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use sys::nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// How much command output is kept for the delivery status text (`VSTREAM_BUFSIZE`).
pub const OUTPUT_LIMIT: usize = 4096;

/// The command search path every command gets (`_PATH_DEFPATH` on Linux).
pub const DEFAULT_PATH: &str = "/usr/bin:/bin";

/// The shell for command lines with shell magic (`_PATH_BSHELL`).
const BSHELL: &str = "/bin/sh";

/// What to run.
#[derive(Debug, Clone, Copy)]
pub enum Program<'a> {
    /// A command line: split and run directly when it has no shell magic, else given to
    /// `/bin/sh -c` (or to [`Args::shell`] when set, whatever the line holds).
    Line(&'a str),
    /// An argument vector, run as it is (pipe(8)'s `argv=`).
    Argv(&'a [String]),
}

/// Everything about one command run (Postfix's `CA_PIPE_CMD_*` arguments).
#[derive(Debug, Clone)]
pub struct Args<'a> {
    /// The command.
    pub program: Program<'a>,
    /// The user to run as; never 0 (root).
    pub uid: u32,
    /// The group to run as; never 0.
    pub gid: u32,
    /// Seconds the whole run may take (command_time_limit, or pipe's own limit).
    pub time_limit: u64,
    /// Variables to set, after `export` and PATH.
    pub env: Vec<(String, String)>,
    /// The variables kept from this process's environment (export_environment: `NAME` or
    /// `NAME=value`); None keeps them all.
    pub export: Option<Vec<String>>,
    /// The shell for [`Program::Line`] (local_command_shell), split on white space; the
    /// command line is its last argument.
    pub shell: Option<&'a str>,
    /// The working directory, entered as the user (inside `chroot` when set).
    pub cwd: Option<&'a Path>,
    /// The root directory the command runs in (pipe(8)'s `chroot=`), entered as root
    /// before the ids change.
    pub chroot: Option<&'a Path>,
}

/// Why a delivery did not succeed (Postfix's `dsb_unix`: status, diagnostic text, reason).
/// The diagnostic type is always `x-unix`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Why {
    /// The enhanced status code, e.g. `4.3.0`.
    pub status: String,
    /// The diagnostic text for the DSN (the command output, or the sysexits text).
    pub dtext: String,
    /// The reason for the log line and the bounce text.
    pub reason: String,
}

impl Why {
    /// A status with its diagnostic text and reason.
    pub fn new(status: &str, dtext: &str, reason: String) -> Why {
        Why {
            status: status.to_string(),
            dtext: dtext.to_string(),
            reason,
        }
    }
}

/// How copying the message into the command went (the caller's `mail_copy`).
#[derive(Debug)]
pub enum Copied {
    /// Everything was written.
    Ok,
    /// The queue file is corrupt.
    Corrupt,
    /// Reading the queue file or writing to the command failed; `broken_pipe` when the
    /// write failed because the command stopped reading (that alone is no failure).
    Failed {
        /// The write failed with EPIPE.
        broken_pipe: bool,
        /// The copy's own description ("error writing message: ...").
        why: Why,
    },
}

/// The outcome of a command run (`PIPE_STAT_*`).
#[derive(Debug, PartialEq, Eq)]
pub enum Status {
    /// The command took the message; its output, made printable.
    Ok(String),
    /// Try again later.
    Defer(Why),
    /// The message was not acceptable, or the command ran out of time.
    Bounce(Why),
    /// The queue file is corrupt.
    Corrupt,
}

/// A sendmail exit code's enhanced status code and text (`sys_exits_detail`).
pub fn sys_exits_detail(code: i32) -> (&'static str, String) {
    let known = match code {
        64 => ("5.3.0", "command line usage error"),
        65 => ("5.6.0", "data format error"),
        66 => ("5.3.0", "cannot open input"),
        67 => ("5.1.1", "user unknown"),
        68 => ("5.1.2", "host name unknown"),
        69 => ("5.3.0", "service unavailable"),
        70 => ("5.3.0", "internal software error"),
        71 => ("4.3.0", "system resource problem"),
        72 => ("5.3.0", "critical OS file missing"),
        73 => ("5.2.0", "can't create user output file"),
        74 => ("5.3.0", "input/output error"),
        75 => ("4.3.0", "temporary failure"),
        76 => ("5.5.0", "remote error in protocol"),
        77 => ("5.7.0", "permission denied"),
        78 => ("5.3.5", "local configuration error"),
        _ => return ("5.3.0", format!("unknown mail system error {code}")),
    };
    (known.0, known.1.to_string())
}

/// Whether `code` is one of the sendmail exit codes (`SYS_EXITS_CODE`).
fn sys_exits_code(code: i32) -> bool {
    (64..=78).contains(&code)
}

/// The `copy` argument of [`pipe_command`] for a queued message: the content of queue
/// file `src` (at `path`) from `offset`, as `mail_copy` writes it.
pub fn from_queue<'a>(
    args: &'a crate::mail_copy::CopyArgs<'a>,
    src: &'a std::fs::File,
    path: &'a str,
    offset: u64,
) -> impl FnOnce(&mut dyn Write) -> Copied + 'a {
    move |out| {
        crate::mail_copy::mail_copy(args, src, path, offset, crate::mail_copy::Dest::Stream(out))
    }
}

/// Runs the command, feeds it the message through `copy`, and returns the outcome.
pub fn pipe_command(args: &Args<'_>, copy: impl FnOnce(&mut dyn Write) -> Copied) -> Status {
    assert!(
        args.uid != 0 && args.gid != 0,
        "pipe_command: privileged uid or gid"
    );
    let shown = match args.program {
        Program::Line(line) => line.to_string(),
        Program::Argv(argv) => argv.first().cloned().unwrap_or_default(),
    };
    let deadline = Deadline::new(args.time_limit);
    let mut child = match spawn(args) {
        Ok(child) => child,
        Err(Spawned::Fork(e)) => {
            log::msg_warn!("fork: {}", sys::os_error(&e));
            return Status::Defer(Why::new(
                "4.3.0",
                &sys_exits_detail(71).1,
                format!("Delivery failed: {}", sys::os_error(&e)),
            ));
        }
        // The command never ran: report it as Postfix's child does, which logs the
        // failure and exits with EX_TEMPFAIL.
        Err(Spawned::Exec(output)) => return exit_status(&shown, 75, &output, false),
    };
    let stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let copied = {
        let mut pipe = TimedPipe {
            pipe: stdin,
            deadline: &deadline,
        };
        let mut buffered = io::BufWriter::with_capacity(OUTPUT_LIMIT, &mut pipe);
        let copied = copy(&mut buffered);
        match buffered.flush() {
            Err(e) if matches!(copied, Copied::Ok) => Copied::Failed {
                broken_pipe: e.kind() == io::ErrorKind::BrokenPipe,
                why: Why::new(
                    "5.3.0",
                    &sys_exits_detail(74).1,
                    format!("error writing message: {}", sys::os_error(&e)),
                ),
            },
            _ => copied,
        }
        // The command's input closes here, so that it sees the end of the message.
    };
    let output = read_output(stdout, &deadline);
    if deadline.expired() {
        kill_session(&child, args.uid, args.gid);
    }
    let wait_status = wait_or_kill(&mut child, &deadline, (args.uid, args.gid));
    if deadline.expired() {
        let dtext = if output.is_empty() {
            sys_exits_detail(70).1
        } else {
            output.clone()
        };
        return Status::Bounce(Why::new(
            "5.3.0",
            &dtext,
            format!(
                "Command time limit exceeded: \"{shown}\"{}",
                with_output(&output)
            ),
        ));
    }
    if let Some(signal) = wait_status.signal() {
        let dtext = if output.is_empty() {
            sys_exits_detail(70).1
        } else {
            output.clone()
        };
        return Status::Defer(Why::new(
            "4.3.0",
            &dtext,
            format!(
                "Command died with signal {signal}: \"{shown}\"{}",
                with_output(&output)
            ),
        ));
    }
    let code = wait_status.code().unwrap_or(0);
    if code != 0 {
        return exit_status(&shown, code, &output, true);
    }
    match copied {
        Copied::Corrupt => Status::Corrupt,
        Copied::Failed {
            broken_pipe: false,
            mut why,
        } => {
            why.reason = format!("Command failed: {}: \"{shown}\"", why.reason);
            Status::Bounce(why)
        }
        Copied::Ok | Copied::Failed { .. } => Status::Ok(output),
    }
}

/// ". Command output: TEXT", or nothing when the command said nothing.
fn with_output(output: &str) -> String {
    if output.is_empty() {
        String::new()
    } else {
        format!(". Command output: {output}")
    }
}

/// The outcome of a non-zero exit: the output's own status code, else the sendmail exit
/// code's, else a bounce. `ran` is false when the command could not be started.
fn exit_status(shown: &str, code: i32, output: &str, ran: bool) -> Status {
    if ran && crate::dsn_util::dsn_valid(output) > 0 {
        let (status, text) = crate::dsn_util::dsn_split("5.3.0", output);
        let why = Why::new(status, text, text.to_string());
        return if status.starts_with('4') {
            Status::Defer(why)
        } else {
            Status::Bounce(why)
        };
    }
    let (status, text) = sys_exits_detail(code);
    let dtext = if output.is_empty() { &text } else { output };
    if sys_exits_code(code) {
        let why = Why::new(status, dtext, format!("{text}{}", with_output(output)));
        if status.starts_with('4') {
            Status::Defer(why)
        } else {
            Status::Bounce(why)
        }
    } else {
        Status::Bounce(Why::new(
            status,
            dtext,
            format!(
                "Command died with status {code}: \"{shown}\"{}",
                with_output(output)
            ),
        ))
    }
}

/// Why a command did not start.
enum Spawned {
    /// No process (fork failed).
    Fork(io::Error),
    /// The process could not become the command (the child's fatal record is logged);
    /// what its output showed.
    Exec(String),
}

/// Starts the command as the user, in a session of its own (so that the whole of it can
/// be killed), with the message pipe as standard input and one pipe for standard output
/// and error.
fn spawn(args: &Args<'_>) -> Result<Child, Spawned> {
    let (argv, fallback) = match args.program {
        Program::Argv(argv) => (argv.to_vec(), None),
        Program::Line(line) => match args.shell.filter(|s| !s.trim().is_empty()) {
            Some(shell) => {
                let mut argv: Vec<String> = shell.split_whitespace().map(String::from).collect();
                argv.push(line.to_string());
                (argv, None)
            }
            None => match direct_argv(line) {
                // A command name that is not found may be a shell built-in.
                Some(argv) => (argv, Some(shell_argv(line))),
                None => (shell_argv(line), None),
            },
        },
    };
    match start(args, &argv) {
        Err(e)
            if e.kind() == io::ErrorKind::NotFound
                && fallback.is_some()
                && !argv[0].contains('/') =>
        {
            let shell = fallback.expect("checked");
            start(args, &shell).map_err(|e| exec_error(args, &shell[0], &e))
        }
        Err(e) => Err(exec_error(args, &argv[0], &e)),
        Ok(child) => Ok(child),
    }
}

/// The argument vector of a command line without shell magic, None when it needs a shell
/// (exec_command's test: only these characters, and not only blanks).
fn direct_argv(line: &str) -> Option<Vec<String>> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "!@%-_=+:,./ \t".contains(c);
    if line.chars().all(plain) && !line.trim_matches([' ', '\t']).is_empty() {
        Some(
            line.split([' ', '\t'])
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect(),
        )
    } else {
        None
    }
}

/// `sh -c LINE`.
fn shell_argv(line: &str) -> Vec<String> {
    vec![BSHELL.to_string(), "-c".to_string(), line.to_string()]
}

/// What a failed start looks like: a fork failure, or the text the child would have
/// printed before exiting (Postfix's child logs with its program name to the output).
fn exec_error(args: &Args<'_>, program: &str, error: &io::Error) -> Spawned {
    if matches!(
        error.raw_os_error(),
        Some(libc_errno::EAGAIN | libc_errno::ENOMEM)
    ) {
        return Spawned::Fork(io::Error::from_raw_os_error(
            error.raw_os_error().unwrap_or(0),
        ));
    }
    // The jail is entered first, then the ids change, then the working directory (inside
    // the jail); the first of them that is unusable is the failure the child reports.
    let inside = |cwd: &Path| match args.chroot {
        Some(root) => root.join(cwd.strip_prefix("/").unwrap_or(cwd)),
        None => cwd.to_path_buf(),
    };
    let why = sys::os_error(error);
    let (text, to_output) = match (args.chroot, args.cwd) {
        (Some(root), _) if !root.is_dir() => (format!("chroot({}): {why}", root.display()), false),
        (_, Some(cwd)) if std::fs::metadata(inside(cwd)).is_err() => (
            format!(
                "cannot change directory to \"{}\" for uid={} gid={}: {why}",
                cwd.display(),
                args.uid,
                args.gid,
            ),
            false,
        ),
        // pipe_command's own exec (an argument vector, a configured shell), else
        // exec_command's (a command line run directly or by /bin/sh).
        _ => match args.program {
            Program::Argv(_) => (format!("pipe_command: execvp {program}: {why}"), true),
            Program::Line(_) if args.shell.is_some_and(|s| !s.trim().is_empty()) => {
                (format!("pipe_command: execvp {program}: {why}"), true)
            }
            Program::Line(_) if program == BSHELL => (format!("execl {BSHELL}: {why}"), true),
            Program::Line(_) => (format!("execvp {program}: {why}"), true),
        },
    };
    // Postfix's child reports it with msg_fatal: to the log, and, once it has made its
    // standard error the command's output just before the exec, there too.
    log::write(log::Severity::Fatal, &text);
    if !to_output {
        return Spawned::Exec(String::new());
    }
    let name = std::env::args()
        .next()
        .map(|a| a.rsplit('/').next().unwrap_or_default().to_string())
        .unwrap_or_default();
    Spawned::Exec(printable_output(
        format!("{name}: fatal: {text}\n").as_bytes(),
    ))
}

/// The errno values the fork failure test needs.
mod libc_errno {
    pub const EAGAIN: i32 = sys::libc::EAGAIN;
    pub const ENOMEM: i32 = sys::libc::ENOMEM;
}

/// One attempt to start `argv`.
fn start(args: &Args<'_>, argv: &[String]) -> io::Result<Child> {
    let (out_read, out_write) = io::pipe()?;
    // The output is read only after the message is written: a command that says more
    // than the pipe holds gets a write error rather than waiting for us (Postfix sets
    // the same non-blocking mode on the command's end).
    {
        use std::os::fd::AsRawFd;
        sys::process::non_blocking(out_write.as_raw_fd(), true)?;
    }
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(out_write.try_clone()?)
        .stderr(out_write)
        .env_clear()
        .envs(environment(args))
        .process_group(0);
    // Only root can become someone else; a test run by a user runs the command as itself.
    let root = sys::getuid() == 0;
    if let Some(dir) = args.chroot {
        // The jail comes before the ids change and the working directory after it,
        // which the ordinary settings (ids, then directory, then our code) cannot do.
        sys::user::ChildJail::new(dir, args.uid, args.gid, args.cwd)?.before_exec(&mut command);
    } else {
        if root {
            command.uid(args.uid).gid(args.gid);
        }
        if let Some(cwd) = args.cwd {
            command.current_dir(cwd);
        }
    }
    // A delivery agent runs as the mail system owner with root as its real user; the
    // child changes ids before the exec, which takes an effective root, as Postfix's child
    // regains it in set_ugid().
    let saved = (sys::geteuid(), sys::getegid());
    let regain = root && saved.0 != 0;
    if regain {
        sys::user::set_eugid(0, 0).map_err(|e| io::Error::other(e.to_string()))?;
    }
    let spawned = command.spawn();
    if regain && let Err(e) = sys::user::set_eugid(saved.0, saved.1) {
        log::msg_fatal!("{e}");
    }
    let mut child = spawned?;
    // The parent's copies of the write end are gone with `command`, so that the output
    // reaches end-of-file when the command and its offspring are done.
    drop(command);
    child.stdout = Some(pipe_reader_to_stdout(out_read)?);
    Ok(child)
}

/// Holds the output pipe where [`Child`] keeps its standard output.
fn pipe_reader_to_stdout(reader: io::PipeReader) -> io::Result<std::process::ChildStdout> {
    Ok(std::process::ChildStdout::from(std::os::fd::OwnedFd::from(
        reader,
    )))
}

/// The command's environment: the exported part of ours, PATH, then `env`.
fn environment(args: &Args<'_>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = match &args.export {
        None => std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect(),
        Some(names) => names
            .iter()
            .filter_map(|item| match item.split_once('=') {
                Some((name, value)) => Some((name.to_string(), value.to_string())),
                None => std::env::var(item).ok().map(|v| (item.clone(), v)),
            })
            .collect(),
    };
    let mut set = |name: &str, value: &str| {
        env.retain(|(k, _)| k != name);
        env.push((name.to_string(), value.to_string()));
    };
    set("PATH", DEFAULT_PATH);
    for (name, value) in &args.env {
        set(name, value);
    }
    env
}

/// The end of the time limit, and whether it was reached.
struct Deadline {
    end: Instant,
    expired: std::cell::Cell<bool>,
}

impl Deadline {
    fn new(seconds: u64) -> Deadline {
        Deadline {
            end: Instant::now() + Duration::from_secs(seconds),
            expired: std::cell::Cell::new(false),
        }
    }

    /// Time left; zero once the limit was reached.
    fn left(&self) -> Duration {
        if self.expired.get() {
            return Duration::ZERO;
        }
        self.end.saturating_duration_since(Instant::now())
    }

    /// Notes that a step ran out of time, with Postfix's warning the first time.
    fn expire(&self, step: &str) {
        if !self.expired.replace(true) {
            log::msg_warn!("{step} time limit exceeded");
        }
    }

    fn expired(&self) -> bool {
        self.expired.get()
    }

    /// Waits until `fd` is ready for `flags`; false when the time ran out.
    fn wait(&self, fd: impl AsFd, flags: PollFlags, step: &str) -> bool {
        loop {
            let left = self.left();
            if left.is_zero() {
                self.expire(step);
                return false;
            }
            let mut fds = [PollFd::new(fd.as_fd(), flags)];
            let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
            match poll(&mut fds, timeout) {
                Ok(0) => continue,
                Ok(_) => return true,
                Err(sys::nix::errno::Errno::EINTR) => continue,
                Err(_) => return true,
            }
        }
    }
}

/// The command's input, with the time limit on every write.
struct TimedPipe<'a> {
    pipe: std::process::ChildStdin,
    deadline: &'a Deadline,
}

impl Write for TimedPipe<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self
            .deadline
            .wait(&self.pipe, PollFlags::POLLOUT, "pipe_command_write: write")
        {
            return Err(io::Error::from(io::ErrorKind::TimedOut));
        }
        self.pipe.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Up to [`OUTPUT_LIMIT`] bytes of output, tabs and newlines made spaces and other
/// unprintable characters underscores, as Postfix's bounce text shows them.
fn read_output(mut out: std::process::ChildStdout, deadline: &Deadline) -> String {
    let mut buf = Vec::with_capacity(OUTPUT_LIMIT);
    let mut chunk = [0u8; OUTPUT_LIMIT];
    while buf.len() < OUTPUT_LIMIT {
        if !deadline.wait(&out, PollFlags::POLLIN, "pipe_command_read: read") {
            break;
        }
        match out.read(&mut chunk[..OUTPUT_LIMIT - buf.len()]) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    printable_output(&buf)
}

/// Postfix's `translit(buf, "\t\n", "  ")` then `printable(buf, '_')`, keeping UTF-8.
fn printable_output(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.chars()
        .map(|c| match c {
            '\t' | '\n' => ' ',
            '\u{fffd}' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect()
}

/// Kills the command and its offspring (its session).
/// Kills as the command's own user, as Postfix's `kill_command` does: the agent's
/// effective user (the mail system owner) may not signal it, and root could signal
/// anything a recycled process id names.
fn kill_session(child: &Child, uid: u32, gid: u32) {
    let pid = sys::nix::unistd::Pid::from_raw(child.id() as i32);
    let kill = sys::nix::sys::signal::Signal::SIGKILL;
    let saved = (sys::geteuid(), sys::getegid());
    // An effective root (a test) may signal it as it is.
    let switch = sys::getuid() == 0 && saved.0 != 0 && saved.0 != uid;
    if switch && let Err(e) = sys::user::set_eugid(uid, gid) {
        log::msg_fatal!("{e}");
    }
    if sys::nix::sys::signal::killpg(pid, kill).is_err()
        && let Err(e) = sys::nix::sys::signal::kill(pid, kill)
    {
        log::msg_warn!("cannot kill process (group) {pid}: {}", e.desc());
    }
    if switch && let Err(e) = sys::user::set_eugid(saved.0, saved.1) {
        log::msg_fatal!("{e}");
    }
}

/// Waits for the command's exit within the time left; past it, kills and reaps it.
fn wait_or_kill(
    child: &mut Child,
    deadline: &Deadline,
    ids: (u32, u32),
) -> std::process::ExitStatus {
    // The command's offspring may go on after it closed its output; give it only the
    // time left, then a second, as Postfix's timed_waitpid does.
    let limit = if deadline.expired() {
        Duration::from_secs(1)
    } else {
        deadline.left()
    };
    let end = Instant::now() + limit;
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status,
            Ok(None) if Instant::now() < end => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Ok(None) => {
                deadline.expire("pipe_command_wait_or_kill: child wait");
                kill_session(child, ids.0, ids.1);
                return child.wait().unwrap_or_else(|e| {
                    log::msg_fatal!("wait: {}", sys::os_error(&e));
                });
            }
            Err(e) => log::msg_fatal!("wait: {}", sys::os_error(&e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// nobody's ids when root runs the tests, else our own.
    fn ids() -> (u32, u32) {
        if sys::getuid() == 0 {
            let nobody = sys::user::by_name("nobody").expect("nobody");
            (nobody.uid, nobody.gid)
        } else {
            (sys::geteuid(), sys::getegid())
        }
    }

    fn args(program: Program<'_>, limit: u64) -> Args<'_> {
        let (uid, gid) = ids();
        Args {
            program,
            uid,
            gid,
            time_limit: limit,
            env: vec![("EXTENSION".into(), "ext".into())],
            export: Some(vec!["TZ".into(), "MAIL_CONFIG=/x".into()]),
            shell: None,
            cwd: Some(Path::new("/")),
            chroot: None,
        }
    }

    fn message(text: &'static str) -> impl FnOnce(&mut dyn Write) -> Copied {
        move |w| match w.write_all(text.as_bytes()) {
            Ok(()) => Copied::Ok,
            Err(e) => Copied::Failed {
                broken_pipe: e.kind() == io::ErrorKind::BrokenPipe,
                why: Why::new("5.3.0", "input/output error", format!("error writing: {e}")),
            },
        }
    }

    fn run(line: &str, limit: u64) -> Status {
        pipe_command(
            &args(Program::Line(line), limit),
            message("Subject: x\n\nbody\n"),
        )
    }

    #[test]
    fn success_passes_the_message_and_keeps_the_output() {
        assert_eq!(run("cat", 10), Status::Ok("Subject: x  body ".into()));
        let argv = vec!["/bin/sh".to_string(), "-c".into(), "wc -l".into()];
        let status = pipe_command(&args(Program::Argv(&argv), 10), message("a\nb\nc\n"));
        assert_eq!(status, Status::Ok("3 ".into()));
    }

    #[test]
    fn environment_is_exported_and_set() {
        assert_eq!(
            run(
                "echo \"$PATH $EXTENSION $MAIL_CONFIG $HOME\"; cat >/dev/null",
                10
            ),
            Status::Ok("/usr/bin:/bin ext /x  ".into())
        );
    }

    #[test]
    fn runs_as_the_user() {
        let (uid, _) = ids();
        assert_eq!(run("id -u", 10), Status::Ok(format!("{uid} ")));
    }

    #[test]
    fn sysexits_codes_defer_or_bounce() {
        let Status::Defer(why) = run("exit 75", 10) else {
            panic!("75 defers")
        };
        assert_eq!(
            why,
            Why::new("4.3.0", "temporary failure", "temporary failure".into())
        );
        let Status::Bounce(why) = run("echo no such user >&2; exit 67", 10) else {
            panic!("67 bounces")
        };
        assert_eq!(why.status, "5.1.1");
        assert_eq!(why.dtext, "no such user ");
        assert_eq!(why.reason, "user unknown. Command output: no such user ");
    }

    #[test]
    fn other_codes_bounce_with_the_command() {
        let Status::Bounce(why) = run("exit 3", 10) else {
            panic!("3 bounces")
        };
        assert_eq!(why.status, "5.3.0");
        assert_eq!(why.reason, "Command died with status 3: \"exit 3\"");
        assert_eq!(why.dtext, "unknown mail system error 3");
    }

    #[test]
    fn output_status_code_wins() {
        let Status::Defer(why) = run("echo 4.2.2 mailbox full; exit 1", 10) else {
            panic!("4.x.x defers")
        };
        assert_eq!(
            why,
            Why::new("4.2.2", "mailbox full ", "mailbox full ".into())
        );
    }

    #[test]
    fn signals_defer() {
        let Status::Defer(why) = run("kill -TERM $$", 10) else {
            panic!("a signal defers")
        };
        assert_eq!(why.reason, "Command died with signal 15: \"kill -TERM $$\"");
    }

    #[test]
    fn time_limit_bounces_and_kills_the_offspring() {
        let started = Instant::now();
        let Status::Bounce(why) = run("sleep 30 & sleep 30", 1) else {
            panic!("a timeout bounces")
        };
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(why.status, "5.3.0");
        assert_eq!(
            why.reason,
            "Command time limit exceeded: \"sleep 30 & sleep 30\""
        );
    }

    #[test]
    fn a_command_that_reads_nothing_succeeds() {
        assert_eq!(run("true", 10), Status::Ok(String::new()));
    }

    #[test]
    fn missing_programs_defer_with_the_exec_error() {
        let Status::Defer(why) = run("/nonexistent/program", 10) else {
            panic!("exec failure defers")
        };
        assert_eq!(why.status, "4.3.0");
        assert!(
            why.reason
                .starts_with("temporary failure. Command output: ")
                && why
                    .reason
                    .ends_with(": fatal: execvp /nonexistent/program: No such file or directory "),
            "{}",
            why.reason
        );
        // A name not found on PATH goes to the shell (it may be a built-in).
        let Status::Bounce(why) = run("nonexistent-program-x", 10) else {
            panic!("the shell's 127 bounces")
        };
        assert!(why.reason.starts_with("Command died with status 127"));
    }

    #[test]
    fn direct_or_shell() {
        assert_eq!(
            direct_argv("/usr/bin/procmail -a x"),
            Some(vec!["/usr/bin/procmail".into(), "-a".into(), "x".into()])
        );
        assert_eq!(direct_argv("cat > /tmp/x"), None);
        assert_eq!(direct_argv("  "), None);
    }

    #[test]
    fn output_is_cut_at_the_limit() {
        let Status::Bounce(why) = run("head -c 10000 /dev/zero | tr '\\0' a; exit 1", 10) else {
            panic!("1 bounces")
        };
        assert_eq!(why.dtext.len(), OUTPUT_LIMIT);
    }

    #[test]
    fn a_command_that_says_too_much_is_not_waited_for() {
        // 200 KB of output, more than a pipe holds, before the message is read.
        let started = Instant::now();
        let line = "head -c 200000 /dev/zero; cat >/dev/null; exit 0";
        assert!(matches!(run(line, 30), Status::Ok(_)));
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_configured_shell_runs_the_line() {
        let mut args = args(Program::Line("echo $0"), 10);
        args.shell = Some("/bin/sh -c");
        let status = pipe_command(&args, message(""));
        assert_eq!(status, Status::Ok("/bin/sh ".into()));
    }

    #[test]
    fn output_is_made_printable() {
        assert_eq!(printable_output(b"a\tb\nc\x01d\xffe"), "a b c_d_e");
    }
}
