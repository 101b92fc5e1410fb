//! The end-to-end harness: a private mail system in a temporary directory, on loopback.
//!
//! Each test builds an instance under `/tmp/ironpost-e2e/<name>-<pid>/`: `etc/` (main.cf,
//! master.cf, tables), `libexec/` (the daemon directory), `queue/`, `data/`, `log/maillog`,
//! `vmail/` (virtual mailboxes) and `sink/` (mail received by the relay). The daemon
//! directory holds ironpost's programs (master, postlogd, ...) and, for every daemon
//! ironpost does not have yet, Postfix 3.7's from Debian's package: the "mixed system" in
//! which each ironpost daemon is tested beside Postfix's others. Commands are ironpost's
//! (`postfix`, `postconf`). Clients are real: Python's smtplib, and Postfix's smtp-sink as
//! the remote server.
//!
//! Tests need root (the master runs as root and daemons drop to `postfix`) and Debian's
//! postfix package; without them a test is skipped through `testkit::skip` (counted as
//! skipped by scripts/test, a failure under IRONPOST_REQUIRE_ORACLE=1), never passed.
//! The programs a test runs are this workspace's, built for this test process (see
//! [`program`]): `cargo test` alone never runs stale ones.
//! The instance is stopped and its processes killed when the value is dropped; the
//! directory is kept when a test fails, for a look at the log.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Debian's Postfix's `postfix` command.
const POSTFIX_COMMAND: &str = "/usr/sbin/postfix";

/// Which mail system's `postfix` command runs an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    /// ironpost's.
    Ironpost,
    /// Debian's Postfix 3.7.
    Postfix,
}

/// Where Debian's Postfix keeps its daemons.
const POSTFIX_DAEMONS: &str = "/usr/lib/postfix/sbin";

/// ironpost programs that replace Postfix's in the daemon directory.
pub const IRONPOST_DAEMONS: [&str; 23] = [
    "master",
    "postlogd",
    "anvil",
    "proxymap",
    "trivial-rewrite",
    "pickup",
    "cleanup",
    "smtpd",
    "qmgr",
    "bounce",
    "discard",
    "error",
    "local",
    "virtual",
    "pipe",
    "smtp",
    "lmtp",
    "showq",
    "flush",
    "verify",
    "scache",
    "tlsmgr",
    "tlsproxy",
];

/// An ironpost program, built from the current sources for this test process.
pub use testkit::program;

/// The program a daemon runs: lmtp is the SMTP client under another name, as in
/// Postfix's daemon directory.
pub fn program_of(daemon: &str) -> &str {
    match daemon {
        "lmtp" => "smtp",
        other => other,
    }
}

pub mod account;
pub mod child;
pub mod client;
pub mod delivered;
pub mod dns;
pub mod dovecot;
pub mod howto_doc;
pub mod load;
pub mod smtpd_log;
pub mod starttls;
pub mod syslog;

/// Whether the mixed system can run here; when it cannot, the calling test is skipped (see
/// `testkit::skip`) and should return.
#[track_caller]
pub fn mixed_system_possible() -> bool {
    testkit::require_root() && testkit::require_postfix_program(&format!("{POSTFIX_DAEMONS}/smtpd"))
}

/// A port nobody listens on right now, on any address: tests listen on 127.0.0.1, on
/// other 127.0.0.x addresses and on the wildcard address, and a port taken from
/// 127.0.0.1 alone could be bound on one of those already. It is chosen below the
/// kernel's ephemeral range (net.ipv4.ip_local_port_range), so that no outgoing
/// connection takes it as its source port before the test binds it, and never twice in
/// one test process.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    // mta-bench keeps 10000-10099; start above it.
    const LOW: u16 = 11000;
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    if ephemeral > LOW + 1000 {
        let span = u32::from(ephemeral - LOW);
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            ^ std::process::id().wrapping_mul(2_654_435_761);
        for step in 0..span {
            let port = LOW + ((seed.wrapping_add(step)) % span) as u16;
            if !given.contains(&port) && std::net::TcpListener::bind(("0.0.0.0", port)).is_ok() {
                given.insert(port);
                return port;
            }
        }
    }
    let port = std::net::TcpListener::bind("0.0.0.0:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    given.insert(port);
    port
}

/// A private mail system.
pub struct Instance {
    /// Its directory.
    pub dir: PathBuf,
    /// The port of its SMTP server.
    pub smtp_port: u16,
    /// The port of the relay it sends to.
    pub sink_port: u16,
    sink: Option<Child>,
    keep: bool,
    /// The command line the instance's commands run through (see [`Instance::run_through`]).
    through: Vec<String>,
}

const MAIN_CF: &str = "\
compatibility_level = 3.6
queue_directory = @DIR@/queue
data_directory = @DIR@/data
daemon_directory = @DIR@/libexec
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.e2e.test
mydomain = e2e.test
mydestination = $myhostname, localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
maillog_file = @DIR@/log/maillog
maillog_file_prefixes = @DIR@
alias_maps =
alias_database =
virtual_mailbox_domains = vmail.e2e.test
virtual_mailbox_maps = texthash:@DIR@/etc/vmailbox
virtual_mailbox_base = @DIR@/vmail
virtual_uid_maps = static:@UID@
virtual_gid_maps = static:@GID@
relay_domains = relay.e2e.test
transport_maps = texthash:@DIR@/etc/transport
";

impl Instance {
    /// Prepares an instance with ironpost's master and daemons; None when the mixed
    /// system cannot run here (the test is skipped and should return).
    #[track_caller]
    pub fn new(name: &str) -> Option<Instance> {
        Instance::with_daemons(name, &IRONPOST_DAEMONS)
    }

    /// Prepares an instance whose daemon directory has ironpost's `daemons` and Postfix's
    /// for everything else (Postfix's master too, when `daemons` lacks "master"); None
    /// when the mixed system cannot run here (the test is skipped and should return).
    #[track_caller]
    pub fn with_daemons(name: &str, daemons: &[&str]) -> Option<Instance> {
        if !mixed_system_possible() {
            return None;
        }
        // Built first: a build that fails leaves no half-made instance behind.
        let built: Vec<PathBuf> = daemons.iter().map(|d| program(program_of(d))).collect();
        let dir = PathBuf::from(format!("/tmp/ironpost-e2e/{name}-{}", std::process::id()));
        // The tests of one file run as threads of one process: two live instances of one
        // name would share a directory and break each other at random.
        assert!(
            LIVE.lock().unwrap().insert(dir.clone()),
            "instance name {name} is already in use by another test of this file"
        );
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["etc", "libexec", "queue", "data", "log", "vmail", "sink"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let nobody = account("nobody");
        let _ = Command::new("chown")
            .arg("nobody")
            .arg(dir.join("vmail"))
            .status();
        let _ = Command::new("chown")
            .arg("postfix")
            .arg(dir.join("data"))
            .status();
        for entry in std::fs::read_dir(POSTFIX_DAEMONS).unwrap().flatten() {
            let name = entry.file_name();
            if daemons.iter().any(|d| *d == name.to_string_lossy()) {
                continue;
            }
            std::os::unix::fs::symlink(entry.path(), dir.join("libexec").join(&name)).unwrap();
        }
        for (daemon, path) in daemons.iter().zip(&built) {
            std::fs::copy(path, dir.join("libexec").join(daemon)).unwrap();
        }
        let instance = Instance {
            smtp_port: free_port(),
            sink_port: free_port(),
            dir,
            sink: None,
            keep: false,
            through: Vec::new(),
        };
        let main_cf = instance
            .expand(MAIN_CF)
            .replace("@UID@", &nobody.0.to_string())
            .replace("@GID@", &nobody.1.to_string());
        instance.write("etc/main.cf", &main_cf);
        let stock = include_str!("../../../conf/master.cf");
        let master_cf = stock.replace(
            "smtp      inet  n       -       n       -       -       smtpd",
            "127.0.0.1:@SMTP_PORT@ inet n - n - - smtpd",
        );
        instance.write("etc/master.cf", &instance.expand(&master_cf));
        instance.write("etc/vmailbox", "user@vmail.e2e.test vmail.e2e.test/user/\n");
        instance.write(
            "etc/transport",
            &instance.expand("relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n"),
        );
        Some(instance)
    }

    /// Replaces @DIR@, @SMTP_PORT@ and @SINK_PORT@.
    pub fn expand(&self, text: &str) -> String {
        text.replace("@DIR@", &self.dir.display().to_string())
            .replace("@SMTP_PORT@", &self.smtp_port.to_string())
            .replace("@SINK_PORT@", &self.sink_port.to_string())
    }

    /// Writes a file under the instance directory.
    /// The file is written aside and renamed into place, so a daemon of a running system
    /// never reads it half-written.
    pub fn write(&self, relative: &str, text: &str) {
        let path = self.dir.join(relative);
        let aside = path.with_extension("e2e-tmp");
        std::fs::write(&aside, text).unwrap();
        std::fs::rename(aside, path).unwrap();
    }

    /// The configuration directory.
    pub fn etc(&self) -> PathBuf {
        self.dir.join("etc")
    }

    /// Appends settings to main.cf.
    pub fn add_main_cf(&self, text: &str) {
        let old = std::fs::read_to_string(self.etc().join("main.cf")).unwrap();
        self.write("etc/main.cf", &(old + &self.expand(text)));
    }

    /// Sets main.cf parameter `name` to `value` (after @...@ expansion), replacing an
    /// earlier setting: Postfix's programs warn about a parameter set twice.
    pub fn set_main_cf(&self, name: &str, value: &str) {
        let path = self.etc().join("main.cf");
        let old = std::fs::read_to_string(&path).unwrap();
        let mut text: String = old
            .lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_none_or(|rest| !rest.trim_start().starts_with('='))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        text.push_str(&format!("{name} = {}\n", self.expand(value)));
        self.write("etc/main.cf", &text);
    }

    /// Makes `@DIR@/sbin` the command directory, with ironpost's sendmail, postdrop and
    /// postqueue (set-gid postdrop, as installed) and postsuper; sendmail finds postdrop
    /// and postqueue there. Returns the path of postdrop.
    pub fn install_commands(&self) -> PathBuf {
        let sbin = self.dir.join("sbin");
        std::fs::create_dir_all(&sbin).unwrap();
        for name in ["sendmail", "postdrop"] {
            std::fs::copy(program(name), sbin.join(name)).unwrap();
        }
        let postdrop = sbin.join("postdrop");
        let chown = Command::new("chown")
            .arg("root:postdrop")
            .arg(&postdrop)
            .status()
            .unwrap();
        assert!(chown.success());
        std::fs::set_permissions(&postdrop, std::fs::Permissions::from_mode(0o2755)).unwrap();
        // postqueue is set-gid postdrop, as installed.
        for name in ["postqueue", "postsuper"] {
            std::fs::copy(program(name), sbin.join(name)).unwrap();
        }
        let postqueue = sbin.join("postqueue");
        let chown = Command::new("chown")
            .arg("root:postdrop")
            .arg(&postqueue)
            .status()
            .unwrap();
        assert!(chown.success());
        std::fs::set_permissions(&postqueue, std::fs::Permissions::from_mode(0o2755)).unwrap();
        self.set_main_cf("command_directory", "@DIR@/sbin");
        postdrop
    }

    /// Runs the instance's commands (`postfix start`, `reload`, `stop`, ... of both
    /// systems) as arguments of `prefix` (after @...@ expansion), e.g. `unshare --mount`
    /// and a script that sets up the namespace and runs its arguments: the master starts
    /// there, and its daemons live there.
    pub fn run_through(&mut self, prefix: &[&str]) {
        self.through = prefix.iter().map(|word| self.expand(word)).collect();
    }

    /// `program`, or the [`Instance::run_through`] prefix with `program` as an argument.
    pub fn runner(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let Some((first, rest)) = self.through.split_first() else {
            return Command::new(program);
        };
        let mut command = Command::new(first);
        command.args(rest).arg(program);
        command
    }

    /// Runs an ironpost command with `-c` pointing at this instance.
    pub fn command(&self, name: &str, args: &[&str]) -> Output {
        self.runner(program(name))
            .arg("-c")
            .arg(self.etc())
            .args(args)
            .env_remove("MAIL_CONFIG")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// `postfix ARGS`, which must succeed.
    pub fn postfix(&self, args: &[&str]) -> Output {
        let out = self.command("postfix", args);
        assert!(
            out.status.success(),
            "postfix {args:?} failed: {}\nlog:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        out
    }

    /// `postfix ARGS` with `system`'s command (Postfix's runs Postfix's master), which
    /// must succeed.
    pub fn postfix_of(&self, system: System, args: &[&str]) -> Output {
        if system == System::Ironpost {
            return self.postfix(args);
        }
        let out = self
            .runner(POSTFIX_COMMAND)
            .arg("-c")
            .arg(self.etc())
            .args(args)
            .env_remove("MAIL_CONFIG")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "Postfix's postfix {args:?} failed: {}\nlog:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        out
    }

    /// Starts the mail system with Postfix's own command and master (the control in a
    /// differential test) and waits until the master says so.
    pub fn start_postfix(&self) {
        self.postfix_of(System::Postfix, &["start"]);
        self.wait_log("daemon started -- version", 20);
    }

    /// Starts the mail system and waits until the master says so.
    pub fn start(&mut self) {
        self.postfix(&["start"]);
        self.wait_log("daemon started -- version", 10);
    }

    /// Starts smtp-sink as the relay on `sink_port`, keeping each message in `sink/`.
    pub fn start_sink(&mut self) {
        self.start_sink_with(&[]);
    }

    /// [`start_sink`](Self::start_sink) with more smtp-sink options (`-f RCPT -B reply`
    /// to refuse recipients with a reply of one's own, for one).
    pub fn start_sink_with(&mut self, options: &[&str]) {
        let template = format!("{}/sink/msg.%H%M%S.", self.dir.display());
        let child = Command::new("/usr/sbin/smtp-sink")
            .args(["-u", "nobody", "-d", &template])
            .args(options)
            .arg(format!("127.0.0.1:{}", self.sink_port))
            .arg("10")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("smtp-sink");
        self.sink = Some(child);
        let _ = Command::new("chown")
            .arg("nobody")
            .arg(self.dir.join("sink"))
            .status();
        wait_until(5, || {
            std::net::TcpStream::connect(("127.0.0.1", self.sink_port)).is_ok()
        });
    }

    /// The mail log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log/maillog")).unwrap_or_default()
    }

    /// Waits until the log contains `needle`; fails the test after `secs`.
    pub fn wait_log(&self, needle: &str, secs: u64) {
        if !wait_until(secs, || self.log().contains(needle)) {
            self.keep_for_inspection();
            panic!("no \"{needle}\" in the log after {secs}s:\n{}", self.log());
        }
    }

    /// Keeps the directory after the test.
    pub fn keep_for_inspection(&self) {
        let marker = self.dir.join("KEPT-FOR-INSPECTION");
        let _ = std::fs::write(marker, "");
    }

    /// Sends one message with Python's smtplib; returns smtplib's error text on failure.
    pub fn send(&self, port: u16, from: &str, to: &str, marker: &str) -> Result<(), String> {
        let script = "import smtplib, sys\n\
            port, sender, rcpt, marker = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]\n\
            msg = 'From: <%s>\\r\\nTo: <%s>\\r\\nSubject: %s\\r\\n\\r\\nbody %s\\r\\n' % (sender, rcpt, marker, marker)\n\
            s = smtplib.SMTP('127.0.0.1', port, timeout=30)\n\
            s.sendmail(sender, [rcpt], msg)\n\
            s.quit()\n";
        let out = Command::new("python3")
            .args(["-c", script, &port.to_string(), from, to, marker])
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Submits `message` with Postfix's sendmail (through postdrop, the maildrop queue
    /// and pickup) as root, to `recipients`; returns sendmail's output.
    pub fn sendmail(&self, args: &[&str], message: &str) -> Output {
        self.run_with_input("/usr/sbin/sendmail", args, message.as_bytes())
    }

    /// Runs `program ARGS` with MAIL_CONFIG naming this instance and `input` on its
    /// standard input (a program that stops reading early is not an error here).
    pub fn run_with_input(
        &self,
        program: impl AsRef<std::ffi::OsStr>,
        args: &[&str],
        input: &[u8],
    ) -> Output {
        let mut child = Command::new(program)
            .args(args)
            .env("MAIL_CONFIG", self.etc())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the program to run");
        let _ = child.stdin.take().expect("a pipe").write_all(input);
        child.wait_with_output().unwrap()
    }

    /// The messages delivered to the virtual mailbox user so far.
    pub fn mailbox(&self) -> Vec<String> {
        let new = self.dir.join("vmail/vmail.e2e.test/user/new");
        let mut out: Vec<String> = std::fs::read_dir(new)
            .map(|dir| {
                dir.flatten()
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// The files waiting in the maildrop queue.
    pub fn leftovers_in_maildrop(&self) -> Vec<String> {
        std::fs::read_dir(self.dir.join("queue/maildrop"))
            .map(|dir| {
                dir.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sends one message to the local (virtual mailbox) user through the SMTP service.
    pub fn send_local(&self, marker: &str) {
        if let Err(e) = self.send(
            self.smtp_port,
            "a@example.org",
            "user@vmail.e2e.test",
            marker,
        ) {
            self.keep_for_inspection();
            panic!("sending {marker} failed: {e}\nlog:\n{}", self.log());
        }
    }

    /// Replaces the first master.cf line for which `select` is true with `new` (after
    /// @...@ expansion).
    pub fn replace_master_cf_line(&self, select: impl Fn(&str) -> bool, new: &str) {
        let master_cf = std::fs::read_to_string(self.etc().join("master.cf")).unwrap();
        let old = master_cf
            .lines()
            .find(|l| select(l))
            .expect("a matching master.cf line")
            .to_string();
        self.write(
            "etc/master.cf",
            &master_cf.replacen(&old, &self.expand(new), 1),
        );
    }

    /// The pid of the master, from its pid file.
    pub fn master_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("queue/pid/master.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Running daemons of this instance started as `name` (children of its master).
    pub fn daemons(&self, name: &str) -> Vec<u32> {
        let Some(master) = self.master_pid() else {
            return Vec::new();
        };
        processes()
            .into_iter()
            .filter(|p| p.ppid == master && p.argv0 == name)
            .map(|p| p.pid)
            .collect()
    }

    /// Processes whose working directory or program lies in this instance.
    pub fn leftovers(&self) -> Vec<String> {
        let dir = self.dir.display().to_string();
        processes()
            .into_iter()
            .filter(|p| p.cwd.starts_with(&dir) || p.exe.starts_with(&dir))
            .map(|p| format!("{} {}", p.pid, p.argv0))
            .collect()
    }
}

/// The directories of the instances alive in this process.
static LIVE: std::sync::Mutex<std::collections::BTreeSet<PathBuf>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.command("postfix", &["stop"]);
        if let Some(mut sink) = self.sink.take() {
            let _ = sink.kill();
            let _ = sink.wait();
        }
        for leftover in self.leftovers() {
            if let Some(pid) = leftover.split(' ').next() {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        let kept =
            self.keep || self.dir.join("KEPT-FOR-INSPECTION").exists() || std::thread::panicking();
        if !kept {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("instance kept in {}", self.dir.display());
        }
        if let Ok(mut live) = LIVE.lock() {
            live.remove(&self.dir);
        }
    }
}

/// Polls `check` every 100 ms for up to `secs`.
pub fn wait_until(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if check() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs one of the mail system's commands (without MAIL_CONFIG: `-c` or the instance's
/// own environment names the configuration) and returns its exit code (-1 when a signal
/// ended it) and its standard output.
pub fn exit_and_output(command: &mut Command) -> (i32, String) {
    let out = command.env_remove("MAIL_CONFIG").output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The queue id of the first line of `log` that has `needle`.
pub fn queue_id_of(log: &str, needle: &str) -> String {
    let line = log
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle} in\n{log}"));
    let after = line.split("]: ").nth(1).unwrap();
    after.split(':').next().unwrap().to_string()
}

/// Whether `tool` (a command name looked up in PATH, or a path) can be run here: the
/// tests that need a tool outside Postfix skip (testkit::skip) without it.
pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v '{tool}'")])
        .stdout(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A user's uid and gid.
fn account(name: &str) -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&name))
                .then(|| (f[2].parse().unwrap_or(65534), f[3].parse().unwrap_or(65534)))
        })
        .unwrap_or((65534, 65534))
}

/// One process, as /proc shows it.
pub struct Process {
    /// Its id.
    pub pid: u32,
    /// Its parent.
    pub ppid: u32,
    /// argv[0].
    pub argv0: String,
    /// Its working directory.
    pub cwd: String,
    /// Its program file.
    pub exe: String,
}

/// Every process.
pub fn processes() -> Vec<Process> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let base = entry.path();
        let stat = std::fs::read_to_string(base.join("stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let cmdline = std::fs::read(base.join("cmdline")).unwrap_or_default();
        let argv0 = cmdline
            .split(|b| *b == 0)
            .next()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .unwrap_or_default();
        let link = |n: &str| {
            std::fs::read_link(base.join(n))
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        out.push(Process {
            pid,
            ppid,
            argv0,
            cwd: link("cwd"),
            exe: link("exe"),
        });
    }
    out
}

/// The records of a queue file or record stream, as (type, data): the reverse of
/// [`record`], also written without global::record.
pub fn records_of(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some((&kind, rest)) = bytes.split_first() {
        let (mut len, mut shift, mut at) = (0usize, 0, 0);
        loop {
            let b = rest[at];
            at += 1;
            len |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        out.push((kind, rest[at..at + len].to_vec()));
        bytes = &rest[at + len..];
    }
    out
}

/// One queue file record as Postfix writes it: the type, the length in 7-bit groups
/// (least significant first, the high bit saying more follow), the data. Written here
/// independently of global::record, so that tests do not check ironpost with itself.
pub fn record(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    let mut len = data.len();
    loop {
        let mut b = (len & 0x7f) as u8;
        len >>= 7;
        if len != 0 {
            b |= 0x80;
        }
        out.push(b);
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(data);
    out
}
