//! The subcommands that start, stop and inspect the running mail system.
//!
//! Postfix counterpart: the `start`, `start-fg`, `stop`, `abort`, `reload`, `status`,
//! `flush` and `check` cases of `postfix-script`, with the same log lines and exit codes. Whether the
//! mail system runs is decided by the master's lock on `pid/master.pid`, as `master -t`
//! decides it.

use crate::check::{self, Paths};
use crate::layout::{self, Ids};
use log::Severity;
use params::Config;
use std::fs::OpenOptions;
use std::io::Read;
use std::process::Command;
use std::time::Duration;

/// What the subcommands need.
pub struct Control<'a> {
    /// main.cf.
    pub config: &'a Config,
    /// Directories and accounts.
    pub paths: &'a Paths,
    /// Numeric ids.
    pub ids: &'a Ids,
}

fn info(text: &str) {
    log::write(Severity::Info, text);
}

/// A postfix-script fatal: logged, a pause as after any fatal, exit status 1.
pub fn fatal(text: &str) -> i32 {
    log::write(Severity::Fatal, text);
    std::thread::sleep(Duration::from_secs(1));
    1
}

impl Control<'_> {
    /// The master's pid when a master holds the lock.
    fn running(&self) -> Option<u32> {
        let path = self.paths.queue.join("pid/master.pid");
        let mut file = OpenOptions::new().read(true).write(true).open(&path).ok()?;
        if file.try_lock().is_ok() {
            return None;
        }
        let mut text = String::new();
        file.read_to_string(&mut text).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    fn master(&self) -> std::path::PathBuf {
        self.paths.daemons.join("master")
    }

    fn checks(&self) -> Result<(), String> {
        check::fatal_checks(self.config, self.paths, self.ids)?;
        for warning in check::warnings(self.paths, self.ids) {
            log::write(Severity::Warning, &warning);
        }
        Ok(())
    }

    /// `start` and `start-fg`.
    pub fn start(&self, foreground: bool) -> i32 {
        if self.running().is_some() {
            return fatal("the Postfix mail system is already running");
        }
        let quick = self.paths.queue.join("quick-start");
        if quick.exists() {
            let _ = std::fs::remove_file(quick);
        } else if let Err(e) = self.checks() {
            log::write(Severity::Fatal, &e);
            return fatal("Postfix integrity check failed!");
        }
        info("starting the Postfix mail system");
        if !foreground {
            return match Command::new(self.master()).arg("-w").status() {
                Ok(s) if s.success() => 0,
                _ => fatal("mail system startup failed"),
            };
        }
        if std::process::id() == 1 {
            use std::os::unix::process::CommandExt;
            let error = Command::new(self.master()).arg("-i").exec();
            log::write(Severity::Warning, &format!("exec master: {error}"));
            return fatal("cannot start-fg the master daemon");
        }
        match Command::new(self.master()).arg("-s").status() {
            Ok(s) => s.code().unwrap_or(1),
            Err(_) => fatal("cannot start-fg the master daemon"),
        }
    }

    /// `stop`: SIGTERM, then up to five seconds, then SIGKILL to the process group.
    pub fn stop(&self) -> i32 {
        let Some(pid) = self.running() else {
            return fatal("the Postfix mail system is not running");
        };
        info("stopping the Postfix mail system");
        let _ = sys::process::kill(pid, sys::signals::SIGTERM);
        for _ in 0..5 {
            if self.running().is_none() {
                return 0;
            }
            info("waiting for the Postfix mail system to terminate");
            std::thread::sleep(Duration::from_secs(1));
        }
        log::write(
            Severity::Warning,
            "stopping the Postfix mail system with force",
        );
        let _ = sys::nix::sys::signal::killpg(
            sys::nix::unistd::Pid::from_raw(pid as i32),
            sys::nix::sys::signal::Signal::SIGKILL,
        );
        0
    }

    /// `abort`.
    pub fn abort(&self) -> i32 {
        let Some(pid) = self.running() else {
            return fatal("the Postfix mail system is not running");
        };
        info("aborting the Postfix mail system");
        let _ = sys::process::kill(pid, sys::signals::SIGTERM);
        0
    }

    /// `reload`: the master re-reads main.cf and master.cf.
    pub fn reload(&self) -> i32 {
        let Some(pid) = self.running() else {
            return fatal("the Postfix mail system is not running");
        };
        info("refreshing the Postfix mail system");
        let _ = sys::process::kill(pid, sys::signals::SIGHUP);
        0
    }

    /// `reload -n`: what a reload would do, without doing it (see dryrun.rs).
    pub fn reload_dry_run(&self) -> i32 {
        crate::dryrun::run(self.config, self.paths, self.running())
    }

    /// `postfix flush`: as postfix-script does, `postqueue -f` from the queue directory,
    /// which asks the queue manager to try deferred mail now. postqueue is the one in
    /// command_directory (Postfix's, until ironpost has its own).
    pub fn flush(&self) -> i32 {
        if std::env::set_current_dir(&self.paths.queue).is_err() {
            return fatal(&format!(
                "no Postfix queue directory {}!",
                self.paths.queue.display()
            ));
        }
        let commands = match self.config.str(&params::decl::install::COMMAND_DIRECTORY) {
            Ok(dir) => dir,
            Err(e) => return fatal(&e.message),
        };
        let postqueue = std::path::Path::new(&commands).join("postqueue");
        match Command::new(&postqueue).arg("-f").status() {
            Ok(status) => status.code().unwrap_or(1),
            Err(e) => fatal(&format!("{}: {}", postqueue.display(), sys::os_error(&e))),
        }
    }

    /// `status`.
    pub fn status(&self) -> i32 {
        match self.running() {
            Some(pid) => {
                info(&format!("the Postfix mail system is running: PID: {pid}"));
                0
            }
            None => {
                info("the Postfix mail system is not running");
                1
            }
        }
    }

    /// `check`.
    pub fn check(&self) -> i32 {
        match self.checks() {
            Ok(()) => 0,
            Err(e) => fatal(&e),
        }
    }

    /// `set-permissions` and `upgrade-configuration`.
    pub fn set_permissions(&self) -> i32 {
        match layout::create(&self.paths.queue, &self.paths.data, self.ids, true) {
            Ok(()) => 0,
            Err(e) => fatal(&e),
        }
    }
}
