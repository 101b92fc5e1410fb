//! Running services: starting daemons, tracking them, and learning from their exits.
//!
//! Postfix counterparts: `master/master_spawn.c`, `master_status.c`, `master_avail.c`.
//! A service has a status channel (a socket pair); each daemon writes "taken"/"available"
//! records on its end, descriptor 5. The master listens on a service's endpoints only while
//! none of its daemons is available and the process limit allows another, so an idle daemon
//! accepts the next client itself. A daemon that exits abnormally is logged; one that dies
//! before it ever served is a sign of a broken command or configuration, and the service is
//! throttled for `service_throttle_time`.

use server::master_ent::Service;
use server::master_proto::{self, AVAIL, FLOW_READ, FLOW_WRITE, LISTEN_FD, STATUS_FD, TAKEN};
use std::collections::HashMap;
use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// One service at run time.
pub struct Serv {
    /// A number that identifies this service across reloads.
    pub id: u64,
    /// Its definition.
    pub spec: Service,
    /// Its endpoints.
    pub listen: Vec<OwnedFd>,
    /// The master's end of the status channel.
    pub status_read: OwnedFd,
    /// The daemons' end, handed to each as descriptor 5.
    pub status_write: OwnedFd,
    /// Daemons waiting for a client.
    pub avail: u32,
    /// All daemons of this service.
    pub total: u32,
    /// No new daemons until then, after a start-up failure.
    pub throttled_until: Option<Instant>,
    /// The next wakeup trigger.
    pub next_wakeup: Option<Instant>,
    /// When the process-limit warning was last given.
    pub busy_warned: Option<Instant>,
    /// Start daemons with `-o stress=yes` until then.
    pub stress_until: Option<Instant>,
    /// Removed by a reload; its daemons are being stopped.
    pub deleted: bool,
    /// Bumped by each reload that keeps the service: daemons of an earlier epoch were
    /// told to finish, so their exits say nothing about the service's health.
    pub epoch: u32,
    /// Daemons in a row that ended normally, early, having served nothing.
    pub early_exits: u32,
}

/// One daemon.
pub struct Proc {
    /// The service's id.
    pub serv: u64,
    /// Its generation, as passed in GENERATION.
    pub generation: u32,
    /// Clients served.
    pub use_count: u32,
    /// Whether it said it is available.
    pub avail: bool,
    /// The service's epoch when it was started.
    pub epoch: u32,
    /// When it was started.
    pub started: Instant,
}

/// Daemons in a row that may end early having served nothing before the master calls it a
/// loop: one such exit is normal (a table changed), several in a row are a bug that would
/// otherwise spin silently.
pub const EARLY_EXIT_LIMIT: u32 = 5;

/// A new status channel: (master end, daemon end).
pub fn status_channel() -> Result<(OwnedFd, OwnedFd), String> {
    use sys::nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
    let (read, write) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| format!("pipe: {}", e.desc()))?;
    let _ = sys::process::non_blocking(read.as_raw_fd(), true);
    Ok((read, write))
}

impl Serv {
    /// Whether the process limit allows `count` daemons.
    pub fn limit_ok(&self, count: u32) -> bool {
        self.spec.max_proc == 0 || count < self.spec.max_proc
    }

    /// Whether the master should watch the endpoints (Postfix's `master_avail_listen`).
    pub fn should_listen(&mut self, now: Instant) -> bool {
        if self.deleted || self.throttled_until.is_some_and(|t| t > now) || self.avail > 0 {
            return false;
        }
        if self.limit_ok(self.total) {
            return true;
        }
        if self.spec.stress_arg.is_some()
            && self
                .busy_warned
                .is_none_or(|t| now.duration_since(t) > Duration::from_secs(1000))
        {
            self.busy_warned = Some(now);
            log::msg_warn!(
                "service \"{}\" ({}) has reached its process limit \"{}\": new clients may experience noticeable delays",
                self.spec.ext_name,
                self.spec.name,
                self.spec.max_proc
            );
            log::msg_warn!(
                "to avoid this condition, increase the process count in master.cf or reduce the service time per client"
            );
            log::msg_warn!(
                "see http://www.postfix.org/STRESS_README.html for examples of stress-adapting configuration settings"
            );
        }
        false
    }

    /// Stops starting daemons for a while.
    pub fn throttle(&mut self, now: Instant) {
        if self.throttled_until.is_none() {
            self.throttled_until = Some(now + Duration::from_secs(self.spec.throttle_delay));
            if log::verbose() > 0 {
                log::msg_info!("throttling command {}", self.spec.path.display());
            }
        }
    }
}

/// The daemons, by pid.
#[derive(Default)]
pub struct Children {
    /// Every live daemon.
    pub procs: HashMap<u32, Proc>,
    generation: u32,
}

/// The environment every daemon gets, besides GENERATION.
pub struct ChildEnv {
    /// The master's (cleaned) environment.
    pub base: Vec<(OsString, OsString)>,
}

impl Children {
    /// Starts one daemon for `serv`.
    pub fn spawn(&mut self, serv: &mut Serv, env: &ChildEnv, flow: (RawFd, RawFd), now: Instant) {
        self.generation = self.generation.wrapping_add(1);
        let generation = self.generation;
        let mut fds = vec![
            (flow.0, FLOW_READ),
            (flow.1, FLOW_WRITE),
            (serv.status_write.as_raw_fd(), STATUS_FD),
        ];
        for (n, fd) in serv.listen.iter().enumerate() {
            fds.push((fd.as_raw_fd(), LISTEN_FD + n as RawFd));
        }
        let mut argv = serv.spec.argv.clone();
        if let Some(i) = serv.spec.stress_arg {
            let stressed = serv.stress_until.is_some_and(|t| t > now);
            argv[i] = if stressed { "stress=yes" } else { "stress=" }.to_string();
        }
        let mut child_env = env.base.clone();
        child_env.push((
            master_proto::GENERATION_ENV.into(),
            format!("{generation:o}").into(),
        ));
        let path = serv.spec.path.display().to_string();
        let spawned = sys::process::spawn(
            &sys::process::Spawn {
                program: &serv.spec.path,
                argv: &argv,
                env: &child_env,
                fds: &fds,
            },
            |e| {
                // As in Postfix, the child says why, pauses as after any fatal, and exits 1;
                // the master then throttles the service.
                log::write(
                    log::Severity::Fatal,
                    &format!("master_spawn: exec {path}: {}", sys::os_error(e)),
                );
                std::thread::sleep(Duration::from_secs(1));
            },
        );
        match spawned {
            Ok(pid) => {
                if log::verbose() > 0 {
                    log::msg_info!("spawn command {}; pid {pid}", serv.spec.path.display());
                }
                self.procs.insert(
                    pid,
                    Proc {
                        serv: serv.id,
                        generation,
                        use_count: 0,
                        avail: true,
                        epoch: serv.epoch,
                        started: now,
                    },
                );
                serv.total += 1;
                serv.avail += 1;
            }
            Err(e) => {
                // Postfix forks first and fails in the child; the effect is the same: the
                // service is throttled until the problem is fixed.
                log::msg_warn!("process {} pid 0 exit status 1", serv.spec.path.display());
                log::msg_warn!("master_spawn: exec {}: {e}", serv.spec.path.display());
                log::msg_warn!(
                    "{}: bad command startup -- throttling",
                    serv.spec.path.display()
                );
                serv.throttle(now);
            }
        }
    }

    /// Reads the status records waiting on a service's channel and updates availability.
    pub fn read_status(&mut self, serv: &mut Serv) {
        // Children write one 12-byte record at a time, and writes of up to PIPE_BUF bytes
        // to a pipe are atomic, so a read returns whole records. One read takes all that
        // wait (a read per record, until one failed with EAGAIN, was about half of the
        // master's system calls under load); a read that does not fill the buffer emptied
        // the pipe, and poll reports the next record.
        const RECORD: usize = 12;
        let fd = serv.status_read.as_raw_fd();
        let mut buf = [0u8; RECORD * 64];
        loop {
            let n = match sys::process::read_fd(fd, &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let mut records = buf[..n].chunks_exact(RECORD);
            for record in &mut records {
                let mut bytes = [0u8; RECORD];
                bytes.copy_from_slice(record);
                self.status_record(serv, &bytes);
            }
            let partial = records.remainder();
            if !partial.is_empty() {
                let mut bytes = [0u8; RECORD];
                bytes[..partial.len()].copy_from_slice(partial);
                let (pid, _, _) = master_proto::parse(&bytes);
                log::msg_warn!(
                    "service {}({}): child (pid {pid}) sent partial status update ({} bytes)",
                    serv.spec.ext_name,
                    serv.spec.name,
                    partial.len()
                );
                return;
            }
            if n < buf.len() {
                return;
            }
        }
    }

    /// One status record: a child of `serv` became busy or available.
    fn status_record(&mut self, serv: &mut Serv, bytes: &[u8; 12]) {
        let (pid, generation, avail) = master_proto::parse(bytes);
        if log::verbose() > 0 {
            log::msg_info!("master_status_event: pid {pid} gen {generation} avail {avail}");
        }
        let Some(proc) = self.procs.get_mut(&pid) else {
            return;
        };
        if proc.generation != generation {
            log::msg_info!("ignoring status update from child pid {pid} generation {generation}");
            return;
        }
        if proc.serv != serv.id || proc.avail == (avail == AVAIL) {
            return;
        }
        match avail {
            AVAIL => {
                proc.use_count += 1;
                serv.early_exits = 0;
                proc.avail = true;
                serv.avail += 1;
            }
            TAKEN => {
                proc.avail = false;
                serv.avail = serv.avail.saturating_sub(1);
            }
            other => log::msg_warn!(
                "master_status_event: ignoring unknown status: {other} allegedly from pid: {pid}"
            ),
        }
    }

    /// Collects ended daemons, logs abnormal ends, throttles on start-up failures.
    pub fn reap(&mut self, servs: &mut [Serv], now: Instant, crash_dir: &Path) {
        while let Some((pid, exit)) = sys::process::reap() {
            if log::verbose() > 0 {
                log::msg_info!("master_reap_child: pid {pid}");
            }
            let Some(proc) = self.procs.remove(&pid) else {
                continue;
            };
            let Some(serv) = servs.iter_mut().find(|s| s.id == proc.serv) else {
                continue;
            };
            let path = serv.spec.path.display().to_string();
            let abnormal = match exit {
                sys::process::Exit::Status(0) => false,
                sys::process::Exit::Status(code) => {
                    log::msg_warn!("process {path} pid {pid} exit status {code}");
                    true
                }
                sys::process::Exit::Signal(signal) => {
                    if !(serv.deleted && signal == sys::signals::SIGTERM) {
                        log::msg_warn!("process {path} pid {pid} killed by signal {signal}");
                    }
                    true
                }
            };
            if abnormal && let Some(report) = crash_report(crash_dir, pid, now - proc.started) {
                // Postfix's warning above stays as it is, for the log parsers that know
                // it; the report gets a warning of its own, so that the Howto's first
                // step (grep for warnings) shows it (docs/CRASH_REPORTS.md).
                log::msg_warn!(
                    "crash report for process {path} pid {pid}: {}",
                    report.display()
                );
            }
            if abnormal && proc.use_count == 0 && serv.throttled_until.is_none() && !serv.deleted {
                log::msg_warn!("{path}: bad command startup -- throttling");
                serv.throttle(now);
            }
            if !abnormal && left_early(serv, &proc, now) {
                serv.early_exits += 1;
                if serv.early_exits >= EARLY_EXIT_LIMIT && serv.throttled_until.is_none() {
                    log::msg_warn!(
                        "{path}: {} processes in a row exited before serving a request -- throttling",
                        serv.early_exits
                    );
                    serv.early_exits = 0;
                    serv.throttle(now);
                }
            }
            serv.total = serv.total.saturating_sub(1);
            if proc.avail {
                serv.avail = serv.avail.saturating_sub(1);
            }
        }
    }

    /// Sends SIGTERM to every daemon of a service.
    pub fn kill_service(&self, id: u64) {
        for (pid, proc) in &self.procs {
            if proc.serv == id {
                let _ = sys::process::kill(*pid, sys::signals::SIGTERM);
            }
        }
    }

    /// Whether a service still has daemons.
    pub fn has_children(&self, id: u64) -> bool {
        self.procs.values().any(|p| p.serv == id)
    }
}

/// The crash report daemon `pid` left (log::crash names it `<service>.<pid>.<time>`),
/// written during its life of `age`: pids are reused, reports stay.
fn crash_report(dir: &Path, pid: u32, age: Duration) -> Option<PathBuf> {
    let born = SystemTime::now()
        .checked_sub(age + Duration::from_secs(2))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let pid = pid.to_string();
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // Service names may hold dots ("127.0.0.1:2525"): count from the right.
            name.rsplit('.').nth(1) == Some(pid.as_str())
        })
        .filter(|entry| {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= born)
        })
        .map(|entry| entry.path())
        .max()
}

/// Whether a daemon that exited with status 0 left before its time: it served no request,
/// its service was not reloaded or removed meanwhile, and its idle time had not run out.
fn left_early(serv: &Serv, proc: &Proc, now: Instant) -> bool {
    proc.use_count == 0
        && !serv.deleted
        && proc.epoch == serv.epoch
        && now.duration_since(proc.started) < Duration::from_secs(serv.spec.max_idle)
}
