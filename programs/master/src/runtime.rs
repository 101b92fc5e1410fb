//! The master's life: start-up, the event loop, reload and termination.
//!
//! Postfix counterparts: `master/master.c` (start-up order, lock files, log lines),
//! `master_conf.c` (reload: added, removed and changed services), `master_service.c`,
//! `master_sig.c` (signals), `master_flow.c` (the flow-control pipe every daemon shares).

use crate::Flags;
use crate::spawn::{ChildEnv, Children, Serv, status_channel};
use params::Config;
use params::decl::identity::MYHOSTNAME;
use params::decl::install::{DATA_DIRECTORY, MAIL_OWNER, QUEUE_DIRECTORY};
use params::decl::logging::{MAILLOG_FILE, POSTLOG_SERVICE_NAME};
use server::master_ent::{self as ent, Service};
use server::{Interest, Poller};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The master's state.
struct Master {
    config_dir: PathBuf,
    config: Config,
    /// The main.cf text `config` was parsed from.
    main_cf_text: String,
    data_directory: String,
    crash_dir: PathBuf,
    flags: Flags,
    servs: Vec<Serv>,
    children: Children,
    env: ChildEnv,
    owner: (u32, u32),
    flow: (OwnedFd, OwnedFd),
    next_id: u64,
    /// The signal pipe, every service's status pipe, and the endpoints of the services
    /// that need a new daemon for their next client (Postfix's `master_avail_listen`),
    /// each registered once, so that a wait costs the same however many services
    /// master.cf has.
    poller: Poller,
    /// The services whose endpoints are in `poller`, by id.
    listening: Vec<u64>,
}

/// How long the loop may sleep, so that timers are never late by more than this.
const TICK: Duration = Duration::from_millis(500);

fn fatal_config(e: params::ConfigError) -> ! {
    global::fatal_config(e)
}

/// Reads main.cf; fatal on error. Returns the text it was parsed from, which the master
/// keeps a copy of (see `keep_loaded`).
fn load_config(dir: &std::path::Path) -> (Config, String) {
    let path = dir.join("main.cf");
    // Parsed from the very text that is kept; a file that cannot be read is left to
    // Config::load, for its error text.
    let Ok(bytes) = std::fs::read(&path) else {
        let config = Config::load(dir).unwrap_or_else(|e| fatal_config(e));
        return (config, String::new());
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let main = params::main_cf::MainCf::parse(&path, &text).unwrap_or_else(|e| {
        fatal_config(params::ConfigError {
            warnings: Vec::new(),
            message: e.to_string(),
        })
    });
    let mut config = Config::new(dir, main);
    config.process_name = "master".to_string();
    (config, text)
}

/// Writes the copies of what was loaded, aside and renamed into place, as mail_owner
/// (data_directory's owner). A failure costs only the dry-run's list of changes.
fn keep_loaded(data_directory: &str, owner: (u32, u32), main_cf: &str, master_cf: &str) {
    for (name, text) in [
        (ent::LOADED_MAIN_CF, main_cf),
        (ent::LOADED_MASTER_CF, master_cf),
    ] {
        let path = PathBuf::from(data_directory).join(name);
        let aside = path.with_extension("tmp");
        let result = crate::listen::as_owner(owner, || {
            std::fs::write(&aside, text).and_then(|()| std::fs::rename(&aside, &path))
        });
        if let Err(e) = result {
            log::msg_warn!(
                "cannot save a copy of the loaded configuration in {}: {}",
                path.display(),
                sys::os_error(&e)
            );
        }
    }
}

/// Makes `$data_directory/crash`, where daemons leave crash reports (server::CRASH_DIRECTORY),
/// owned by mail_owner and private to it: reports hold log records and client names.
fn make_crash_directory(data_directory: &str, owner: (u32, u32)) -> PathBuf {
    let dir = PathBuf::from(data_directory).join(server::CRASH_DIRECTORY);
    let made = crate::listen::as_owner(owner, || {
        use std::os::unix::fs::DirBuilderExt;
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
            _ => Ok(()),
        }
    });
    if let Err(e) = made {
        log::msg_warn!(
            "mkdir {}: {}: no crash reports",
            dir.display(),
            sys::os_error(&e)
        );
    }
    dir
}

/// Starts the master and runs it until it is told to stop.
pub fn run(config_dir: PathBuf, flags: Flags, wait: bool) -> ! {
    let monitor = wait.then(|| {
        sys::process::fork_and_wait_for_child(Duration::from_secs(100))
            .unwrap_or_else(|e| log::msg_fatal!("fork: {e}"))
    });
    if flags.detach {
        if let Err(e) = sys::process::null_stdio(flags.keep_stdout) {
            log::msg_fatal!("open /dev/null: {e}");
        }
        if !flags.init_mode
            && !flags.debug
            && sys::process::setsid().is_err()
            && !sys::process::is_group_leader()
        {
            log::msg_fatal!("unable to set session and process group ID");
        }
    }
    let (config, main_cf_text) = load_config(&config_dir);
    if let Err(e) = global::clean_env::clean_env(&config) {
        fatal_config(e);
    }
    let env_base = setup_logging(&config);
    let queue_directory = config
        .str(&QUEUE_DIRECTORY)
        .unwrap_or_else(|e| fatal_config(e));
    if let Err(e) = std::env::set_current_dir(&queue_directory) {
        log::msg_fatal!("chdir {queue_directory}: {}", sys::os_error(&e));
    }
    let owner_name = config.str(&MAIL_OWNER).unwrap_or_else(|e| fatal_config(e));
    let owner = sys::user::by_name(&owner_name)
        .map(|a| (a.uid, a.gid))
        .unwrap_or_else(|| log::msg_fatal!("unknown mail_owner account: {owner_name}"));
    let _pid_lock = crate::lock::take(std::path::Path::new("pid/master.pid"))
        .unwrap_or_else(|e| log::msg_fatal!("{e}"));
    let data_directory = config
        .str(&DATA_DIRECTORY)
        .unwrap_or_else(|e| fatal_config(e));
    let _data_lock = crate::listen::as_owner(owner, || {
        crate::lock::take(&PathBuf::from(&data_directory).join("master.lock"))
    })
    .unwrap_or_else(|e| log::msg_fatal!("{e}"));
    let crash_dir = make_crash_directory(&data_directory, owner);
    if flags.debug {
        global::debug_process::run(&config);
    }
    let signals = sys::signals::SignalPipe::install(&[
        sys::signals::SIGHUP,
        sys::signals::SIGCHLD,
        sys::signals::SIGTERM,
        sys::signals::SIGINT,
        sys::signals::SIGQUIT,
    ])
    .unwrap_or_else(|e| log::msg_fatal!("signal setup: {e}"));
    let flow =
        sys::nix::unistd::pipe().unwrap_or_else(|e| log::msg_fatal!("master_flow_init: pipe: {e}"));
    let _ = sys::process::non_blocking(flow.0.as_raw_fd(), true);
    let _ = sys::process::non_blocking(flow.1.as_raw_fd(), true);
    let mut master = Master {
        config_dir,
        config,
        main_cf_text,
        data_directory,
        crash_dir,
        flags,
        servs: Vec::new(),
        children: Children::default(),
        env: ChildEnv { base: env_base },
        owner,
        flow,
        next_id: 0,
        poller: Poller::new(),
        listening: Vec::new(),
    };
    master.configure();
    log::msg_info!(
        "daemon started -- version {}, configuration {}",
        params::install::MAIL_VERSION,
        master.config_dir.display()
    );
    if let Some(fd) = monitor {
        let _ = sys::process::write_fd(fd.as_raw_fd(), b"\0");
    }
    master.event_loop(&signals)
}

/// Logging, and the environment daemons inherit so that they log the same way; returns
/// that environment.
fn setup_logging(config: &Config) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    let tag = global::mail_task::mail_task(config, "master");
    if let Err(e) =
        global::maillog_client::init(config, &tag, global::maillog_client::Fallback::WriteFile)
    {
        fatal_config(e);
    }
    let file = config.str(&MAILLOG_FILE).unwrap_or_default();
    if file.is_empty() {
        sys::unsetenv("POSTLOG_SERVICE");
        sys::unsetenv("POSTLOG_HOSTNAME");
    } else {
        let queue = config.str(&QUEUE_DIRECTORY).unwrap_or_default();
        let service = config.str(&POSTLOG_SERVICE_NAME).unwrap_or_default();
        sys::setenv(
            "POSTLOG_SERVICE",
            format!("{queue}/public/{service}").as_ref(),
        );
        let host = config.str(&MYHOSTNAME).unwrap_or_default();
        sys::setenv("POSTLOG_HOSTNAME", host.as_ref());
    }
    std::env::vars_os().collect()
}

impl Master {
    /// Reads master.cf and reconciles the running services with it (start-up and reload).
    fn configure(&mut self) {
        let (specs, master_cf_text) =
            ent::read(&self.config, log::verbose() > 0, self.flags.detach)
                .unwrap_or_else(|e| log::msg_fatal!("{e}"));
        keep_loaded(
            &self.data_directory,
            self.owner,
            &self.main_cf_text,
            &master_cf_text,
        );
        for serv in &mut self.servs {
            serv.deleted = true;
        }
        let mut seen: Vec<(String, ent::Kind)> = Vec::new();
        for spec in specs {
            let key = (spec.name.clone(), spec.kind);
            if seen.contains(&key) {
                log::msg_warn!(
                    "duplicate master.cf entry for service \"{}\" ({}) -- using the last entry",
                    spec.ext_name,
                    spec.name
                );
            }
            seen.push(key.clone());
            match self
                .servs
                .iter()
                .position(|s| (s.spec.name.clone(), s.spec.kind) == key && !s.listen.is_empty())
            {
                Some(i) => self.restart(i, spec),
                None => self.start(spec),
            }
        }
        let now = Instant::now();
        for serv in self.servs.iter_mut().filter(|s| s.deleted) {
            // Removed services: their daemons are stopped, their endpoints closed. The
            // daemons hold copies of the endpoints, which keep them in the epoll set
            // after our close: they leave it first.
            listen(&self.poller, &mut self.listening, serv, false);
            serv.listen.clear();
            serv.throttled_until = Some(now + Duration::from_secs(3600 * 24 * 365));
            self.children.kill_service(serv.id);
        }
        self.drop_finished();
    }

    /// Forgets the services removed from master.cf whose last daemon has gone.
    fn drop_finished(&mut self) {
        let children = &self.children;
        for serv in &self.servs {
            if serv.deleted && !children.has_children(serv.id) {
                self.poller.delete(serv.status_read.as_raw_fd());
            }
        }
        self.servs
            .retain(|s| !s.deleted || children.has_children(s.id));
    }

    fn start(&mut self, spec: Service) {
        let listen =
            crate::listen::open(&spec, self.owner).unwrap_or_else(|e| log::msg_fatal!("{e}"));
        let (status_read, status_write) =
            status_channel().unwrap_or_else(|e| log::msg_fatal!("{e}"));
        self.next_id += 1;
        let mut serv = Serv {
            id: self.next_id,
            spec,
            listen,
            status_read,
            status_write,
            avail: 0,
            total: 0,
            throttled_until: None,
            next_wakeup: None,
            busy_warned: None,
            stress_until: None,
            deleted: false,
            epoch: 0,
            early_exits: 0,
        };
        schedule_wakeup(&mut serv, Instant::now());
        self.poller.add(
            serv.status_read.as_raw_fd(),
            Interest::Read,
            status_data(serv.id),
        );
        self.servs.push(serv);
    }

    /// A service that is still configured: take the new settings, keep the endpoints, and
    /// give it a new status channel, which tells its old daemons to finish and exit.
    fn restart(&mut self, index: usize, spec: Service) {
        let (status_read, status_write) =
            status_channel().unwrap_or_else(|e| log::msg_fatal!("{e}"));
        let serv = &mut self.servs[index];
        serv.deleted = false;
        serv.spec = spec;
        // The endpoints may now be wanted or not: the next turn registers them anew.
        listen(&self.poller, &mut self.listening, serv, false);
        self.poller.delete(serv.status_read.as_raw_fd());
        self.poller.add(
            status_read.as_raw_fd(),
            Interest::Read,
            status_data(serv.id),
        );
        serv.status_read = status_read;
        serv.status_write = status_write;
        serv.epoch = serv.epoch.wrapping_add(1);
        serv.early_exits = 0;
        serv.next_wakeup = None;
        schedule_wakeup(serv, Instant::now());
    }

    fn reload(&mut self) {
        log::msg_info!(
            "reload -- version {}, configuration {}",
            params::install::MAIL_VERSION,
            self.config_dir.display()
        );
        (self.config, self.main_cf_text) = load_config(&self.config_dir);
        self.env.base = setup_logging(&self.config);
        self.configure();
    }

    fn terminate(&mut self, signal: i32) -> ! {
        sys::signals::ignore(sys::signals::SIGTERM);
        // postlogd is about to go too: write the last records ourselves.
        let tag = global::mail_task::mail_task(&self.config, "master");
        let _ = global::maillog_client::init(
            &self.config,
            &tag,
            global::maillog_client::Fallback::Direct,
        );
        for pid in self.children.procs.keys() {
            let _ = sys::process::kill(*pid, sys::signals::SIGTERM);
        }
        if sys::process::is_group_leader() {
            let _ = sys::process::kill_group(sys::signals::SIGTERM);
        }
        log::msg_info!("terminating on signal {signal}");
        if self.flags.init_mode {
            std::process::exit(0);
        }
        sys::process::die_by(signal)
    }

    fn run_timers(&mut self, now: Instant) {
        for serv in &mut self.servs {
            if serv.throttled_until.is_some_and(|t| t <= now) && !serv.deleted {
                serv.throttled_until = None;
                if log::verbose() > 0 {
                    log::msg_info!("throttle released for command {}", serv.spec.path.display());
                }
            }
            if serv.next_wakeup.is_some_and(|t| t <= now) {
                if serv.throttled_until.is_none() {
                    if log::verbose() > 0 {
                        log::msg_info!("master_wakeup_timer_event: service {}", serv.spec.name);
                    }
                    crate::wakeup::trigger(serv, self.owner);
                }
                serv.next_wakeup = Some(now + Duration::from_secs(u64::from(serv.spec.wakeup)));
            }
        }
    }

    fn event_loop(&mut self, signals: &sys::signals::SignalPipe) -> ! {
        let started = Instant::now();
        self.poller.add(signals.fd(), Interest::Read, SIGNAL_DATA);
        loop {
            let now = Instant::now();
            if self
                .flags
                .exit_after
                .is_some_and(|d| now.duration_since(started) >= d)
            {
                log::msg_info!("master exit time has arrived");
                self.terminate(sys::signals::SIGTERM);
            }
            self.run_timers(now);
            let timeout = self
                .servs
                .iter()
                .flat_map(|s| [s.next_wakeup, s.throttled_until])
                .flatten()
                .map(|t| t.saturating_duration_since(now))
                .min()
                .unwrap_or(TICK)
                .min(TICK);
            // The endpoints of services that need a new daemon for their next client are
            // watched; the others not (a system call only when that changes).
            for serv in &mut self.servs {
                let want = serv.should_listen(now);
                listen(&self.poller, &mut self.listening, serv, want);
            }
            let mut ready: Vec<Watch> = self
                .poller
                .wait(Some(now + timeout))
                .map(|data| match data {
                    SIGNAL_DATA => Watch::Signal,
                    _ if data % 2 == 0 => Watch::Status(data / 2),
                    _ => Watch::Listen(data / 2),
                })
                .collect();
            // Signals first (a reload changes the services), as they always came.
            ready.sort_by_key(|w| !matches!(w, Watch::Signal));
            let now = Instant::now();
            let mut spawned = Vec::new();
            for watch in ready {
                match watch {
                    Watch::Signal => {
                        for signal in signals.take() {
                            match signal {
                                sys::signals::SIGHUP => self.reload(),
                                sys::signals::SIGCHLD => {
                                    self.children.reap(&mut self.servs, now, &self.crash_dir);
                                    self.drop_finished();
                                }
                                other => self.terminate(other),
                            }
                        }
                    }
                    Watch::Status(id) => {
                        if let Some(serv) = self.servs.iter_mut().find(|s| s.id == id) {
                            self.children.read_status(serv);
                        }
                    }
                    Watch::Listen(id) => {
                        if !spawned.contains(&id) {
                            spawned.push(id);
                        }
                    }
                }
            }
            for id in spawned {
                let flow = (self.flow.0.as_raw_fd(), self.flow.1.as_raw_fd());
                let Some(serv) = self.servs.iter_mut().find(|s| s.id == id) else {
                    continue;
                };
                if !serv.should_listen(now) {
                    continue;
                }
                if serv.spec.stress_arg.is_some() && !serv.limit_ok(serv.total + 1) {
                    serv.stress_until = Some(now + Duration::from_secs(1000));
                }
                self.children.spawn(serv, &self.env, flow, now);
                if serv.spec.conditional_wakeup && serv.next_wakeup.is_none() {
                    serv.next_wakeup = Some(now + Duration::from_secs(u64::from(serv.spec.wakeup)));
                    if log::verbose() > 0 {
                        log::msg_info!("start conditional timer for {}", serv.spec.name);
                    }
                }
            }
        }
    }
}

/// What a ready descriptor is; services by id, as a reload renumbers their places.
#[derive(Clone, Copy)]
enum Watch {
    Signal,
    Status(u64),
    Listen(u64),
}

/// The epoll numbers: the signal pipe's, and a service's status pipe (even) and endpoints
/// (odd) after its id (ids start at 1).
const SIGNAL_DATA: u64 = 0;

fn status_data(id: u64) -> u64 {
    id * 2
}

fn listen_data(id: u64) -> u64 {
    id * 2 + 1
}

/// Puts a service's endpoints into the epoll set or takes them out, when that changes.
fn listen(poller: &Poller, listening: &mut Vec<u64>, serv: &Serv, want: bool) {
    let have = listening.iter().position(|&id| id == serv.id);
    match (have, want) {
        (None, true) => {
            for fd in &serv.listen {
                poller.add(fd.as_raw_fd(), Interest::Read, listen_data(serv.id));
            }
            listening.push(serv.id);
        }
        (Some(i), false) => {
            for fd in &serv.listen {
                poller.delete(fd.as_raw_fd());
            }
            listening.swap_remove(i);
        }
        _ => {}
    }
}

/// The first wakeup of a service: at once, as in Postfix (none for a `?` service until its
/// first daemon starts).
fn schedule_wakeup(serv: &mut Serv, now: Instant) {
    if serv.spec.wakeup > 0 && !serv.spec.conditional_wakeup {
        serv.next_wakeup = Some(now);
    }
}
