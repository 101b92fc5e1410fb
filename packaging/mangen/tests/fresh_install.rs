//! Issue 12's acceptance, on a fresh machine: a Debian bookworm root made by debootstrap
//! (minbase: what apt needs and nothing else) gets the package scripts/package builds, the
//! way an administrator installs it (its Depends with apt, then `dpkg -i`, and man-db for
//! the pages). Then, as a user would: `postfix start`, a user with a Maildir, a message
//! sent with swaks to port 25, the message read in ~user/Maildir/new and its delivery
//! (`status=sent`) in the mail log, `man 5 postconf` and `man ironpost`, `postfix stop`.
//!
//! There is no systemd in a chroot, so the mail system is started with `postfix start`,
//! which is what the package's unit runs. There is no syslog daemon either (a fresh
//! bookworm logs to the journal, and there is no journal here): the log goes to
//! maillog_file through the postlog service, Postfix's way of logging without syslog
//! (MAILLOG_README). Everything runs chrooted inside private mount and network
//! namespaces: the host's /etc, its mail system and its port 25 are never touched. The
//! debootstrapped root is kept as a tar archive in the target directory, so a rerun only
//! unpacks it; CI makes it once per run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SUITE: &str = "bookworm";
const MIRROR: &str = "http://deb.debian.org/debian";
/// The environment of every command in the root: a login's, not the test's (no cargo or
/// IRONPOST_ variables leak into the installed system).
const ENVIRONMENT: [(&str, &str); 5] = [
    (
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ),
    ("HOME", "/root"),
    ("LANG", "C.UTF-8"),
    ("DEBIAN_FRONTEND", "noninteractive"),
    ("TERM", "dumb"),
];
/// A bound on each step, so that a hung download or daemon fails the test instead of
/// hanging it.
const STEP_SECONDS: &str = "900";

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The standard output of a command that must succeed; on failure, both outputs.
fn succeeded(what: &str, out: Output) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    succeeded(&format!("{program} {args:?}"), out)
}

/// tar in `directory`, owners kept as numbers: the root's accounts are not the host's.
fn tar(directory: &Path, operation: &[&str]) {
    let mut args = vec!["-C", directory.to_str().unwrap(), "--numeric-owner"];
    args.extend(operation);
    run("tar", &args);
}

/// Cargo's target directory: the test binary is target/<profile>/deps/<name>, wherever
/// CARGO_TARGET_DIR put target.
fn target_directory() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// Mount points at or under `dir`, as this process sees them.
fn mounts_under(dir: &Path) -> Vec<String> {
    let dir = dir.to_string_lossy();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(str::to_string))
        .filter(|m| m == &*dir || m.starts_with(&format!("{dir}/")))
        .collect()
}

/// Removes a directory that held a root, but never through a mount point: a mount left
/// over (it should not be: every mount is made in a private namespace) would lead the
/// removal into the host's /proc or /dev.
fn remove_root_directory(dir: &Path) {
    if !dir.exists() {
        return;
    }
    let mounts = mounts_under(dir);
    assert!(mounts.is_empty(), "still mounted, not removed: {mounts:?}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// The pristine root: debootstrap's minbase, archived once into the target directory.
/// debootstrap runs in a private mount namespace, so the /proc and /sys it mounts in the
/// root vanish with it, even when it is interrupted.
fn pristine_root(target: &Path) -> PathBuf {
    let archive = target.join(format!("fresh-root-{SUITE}.tar"));
    if archive.exists() {
        return archive;
    }
    let build = target.join(format!("fresh-root-{SUITE}.new"));
    remove_root_directory(&build);
    run(
        "timeout",
        &[
            STEP_SECONDS,
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "debootstrap",
            "--variant=minbase",
            SUITE,
            build.to_str().unwrap(),
            MIRROR,
        ],
    );
    let partial = archive.with_extension("tar.new");
    tar(&build, &["-cf", partial.to_str().unwrap(), "."]);
    std::fs::rename(&partial, &archive).unwrap();
    remove_root_directory(&build);
    archive
}

/// The test's directory (the package, the root); removed at the end, whatever happened.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        // Not while a failed assertion is unwinding into another one.
        if mounts_under(&self.0).is_empty() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A process holding private mount (and, if asked, network) namespaces, and the root
/// chrooted into inside them. Dropping it kills whatever still runs in the root (the
/// master and its daemons, after a failed assertion) and the holder: with their last
/// process gone the namespaces and every mount made in them go too.
struct Sandbox {
    holder: Child,
    root: PathBuf,
}

impl Sandbox {
    fn new(root: &Path, network: bool) -> Sandbox {
        let mut unshare = Command::new("unshare");
        unshare.args(["--mount", "--propagation", "private"]);
        if network {
            unshare.arg("--net");
        }
        let holder = unshare
            .args(["sleep", "infinity"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let sandbox = Sandbox {
            holder,
            root: root.to_path_buf(),
        };
        // The namespaces exist once unshare has become sleep.
        let pid = sandbox.holder.id();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::read_link(format!("/proc/{pid}/exe"))
            .is_ok_and(|exe| !exe.ends_with("sleep"))
        {
            assert!(Instant::now() < deadline, "unshare did not start sleep");
            std::thread::sleep(Duration::from_millis(20));
        }
        let proc = root.join("proc");
        sandbox.host(&["mount", "-t", "proc", "proc", proc.to_str().unwrap()]);
        if network {
            sandbox.host(&["ip", "link", "set", "lo", "up"]);
        }
        sandbox
    }

    fn command(&self, args: &[&str]) -> Command {
        let pid = self.holder.id().to_string();
        let mut command = Command::new("timeout");
        command
            .args([
                STEP_SECONDS,
                "nsenter",
                "--target",
                &pid,
                "--mount",
                "--net",
            ])
            .args(args)
            .stdin(Stdio::null());
        command
    }

    /// A host program run in the namespaces (not in the root).
    fn host(&self, args: &[&str]) -> String {
        succeeded(&format!("{args:?}"), self.command(args).output().unwrap())
    }

    /// A command run in the root, as root logged in there would.
    fn output(&self, args: &[&str]) -> Output {
        let mut command = self.command(&["chroot", self.root.to_str().unwrap()]);
        command.args(args).env_clear().envs(ENVIRONMENT);
        command.output().unwrap()
    }

    fn chroot(&self, args: &[&str]) -> String {
        succeeded(&format!("in the root: {args:?}"), self.output(args))
    }

    /// Processes whose root directory is the sandbox's root.
    fn processes_in_root(&self) -> Vec<u32> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read_link(format!("/proc/{pid}/root")).is_ok_and(|r| r == self.root)
            })
            .collect()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        for _ in 0..50 {
            let left = self.processes_in_root();
            if left.is_empty() {
                break;
            }
            for pid in left {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .output();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// Waits for `ready` to give something, at most `seconds`.
fn wait_for<T>(seconds: u64, what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if let Some(found) = ready() {
            return found;
        }
        assert!(Instant::now() < deadline, "waited {seconds}s for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Sends a message with swaks to port 25 on the sandbox's loopback, as a user tries out
/// a new mail system.
fn send(sandbox: &Sandbox, to: &str, subject: &str) {
    sandbox.host(&[
        "swaks",
        "--server",
        "127.0.0.1",
        "--port",
        "25",
        "--from",
        "root@localhost",
        "--to",
        to,
        "--header",
        &format!("Subject: {subject}"),
        "--body",
        "Read in the Maildir.",
    ]);
}

/// The message in a Maildir's new/, once delivered there.
fn new_message(maildir: &Path) -> String {
    let new = maildir.join("new");
    wait_for(30, &format!("a message in {}", new.display()), || {
        let file = std::fs::read_dir(&new).ok()?.flatten().next()?;
        std::fs::read_to_string(file.path()).ok()
    })
}

/// The package names of a Depends field, as apt takes them: the first of alternatives,
/// without version constraints.
fn depends_names(depends: &str) -> Vec<String> {
    depends
        .split(',')
        .filter_map(|d| d.split('|').next())
        .filter_map(|d| d.split('(').next())
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
        .collect()
}

#[test]
fn depends_names_drop_versions_and_alternatives() {
    assert_eq!(
        depends_names("libc6 (>= 2.34), libssl3, adduser | passwd\n"),
        ["libc6", "libssl3", "adduser"]
    );
}

#[test]
fn the_package_installs_and_delivers_on_a_fresh_debian() {
    if !testkit::require_root() {
        return;
    }
    for program in [
        "debootstrap",
        "unshare",
        "nsenter",
        "chroot",
        "ip",
        "tar",
        "dpkg-deb",
        "swaks",
    ] {
        if !have(program) {
            testkit::skip(format!("{program} is not installed"));
            return;
        }
    }
    let top = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let archive = pristine_root(&target_directory());

    let scratch = Scratch(
        std::env::temp_dir().join(format!("ironpost-fresh-install-{}", std::process::id())),
    );
    remove_root_directory(&scratch.0);
    let built = run(
        top.join("scripts/package").to_str().unwrap(),
        &[scratch.0.join("package").to_str().unwrap()],
    );
    let deb = PathBuf::from(built.trim());
    let root = scratch.0.join("root");
    std::fs::create_dir_all(&root).unwrap();
    tar(&root, &["-xf", archive.to_str().unwrap()]);
    // The root as a freshly installed machine has it: a resolver that works, and (as in
    // Debian's container images) no service started by a package's installation.
    std::fs::copy("/etc/resolv.conf", root.join("etc/resolv.conf")).unwrap();
    let policy = root.join("usr/sbin/policy-rc.d");
    std::fs::write(&policy, "#!/bin/sh\nexit 101\n").unwrap();
    run("chmod", &["755", policy.to_str().unwrap()]);
    let inside_deb = format!("/tmp/{}", deb.file_name().unwrap().to_str().unwrap());
    std::fs::copy(&deb, root.join(inside_deb.trim_start_matches('/'))).unwrap();

    // The installation, with the network (apt downloads the Depends).
    {
        let install = Sandbox::new(&root, false);
        install.chroot(&["apt-get", "-qq", "update"]);
        let depends = run("dpkg-deb", &["-f", deb.to_str().unwrap(), "Depends"]);
        let mut packages = vec!["apt-get", "-qq", "-y", "--no-install-recommends", "install"];
        let depends = depends_names(&depends);
        packages.extend(depends.iter().map(String::as_str));
        packages.push("man-db");
        install.chroot(&packages);
        install.chroot(&["dpkg", "-i", &inside_deb]);
        let status = install.chroot(&["dpkg-query", "-W", "-f", "${Status}", "ironpost"]);
        assert_eq!(status, "install ok installed");
    }

    // The use, with nothing but loopback.
    let sandbox = Sandbox::new(&root, true);
    sandbox.chroot(&["adduser", "--disabled-password", "--gecos", "", "alice"]);
    sandbox.chroot(&[
        "postconf",
        "-e",
        "home_mailbox = Maildir/",
        "maillog_file = /var/log/mail.log",
    ]);
    sandbox.chroot(&["postfix", "check"]);
    sandbox.chroot(&["postfix", "start"]);
    let subject = format!("fresh install {}", std::process::id());
    send(&sandbox, "alice@localhost", &subject);
    let message = new_message(&root.join("home/alice/Maildir"));
    assert!(
        message.contains(&format!("Subject: {subject}\n")),
        "{message}"
    );
    assert!(message.contains("Read in the Maildir."), "{message}");
    assert!(
        message.starts_with("Return-Path: <root@localhost>\n"),
        "{message}"
    );
    // The aliases the package set up: postmaster is root, whose mail goes to its Maildir.
    send(&sandbox, "postmaster@localhost", &subject);
    let message = new_message(&root.join("root/Maildir"));
    assert!(
        message.contains("X-Original-To: postmaster@localhost\n"),
        "{message}"
    );

    let log = root.join("var/log/mail.log");
    let delivered = wait_for(30, "the delivery in /var/log/mail.log", || {
        let text = std::fs::read_to_string(&log).ok()?;
        text.lines()
            .find(|l| {
                l.contains(" postfix/local[")
                    && l.contains("to=<alice@localhost>")
                    && l.contains(" status=sent (delivered to maildir)")
            })
            .map(str::to_string)
    });
    assert!(delivered.contains("relay=local"), "{delivered}");

    let page = sandbox.chroot(&["man", "-P", "cat", "5", "postconf"]);
    assert!(page.contains("myhostname (default:"), "{page}");
    let page = sandbox.chroot(&["man", "-P", "cat", "ironpost"]);
    assert!(page.to_lowercase().contains("ironpost"), "{page}");

    sandbox.chroot(&["postfix", "stop"]);
    wait_for(30, "the mail system to stop", || {
        (!sandbox.output(&["postfix", "status"]).status.success()).then_some(())
    });
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.lines().any(|l| l.contains("daemon started"))
            && text.lines().any(|l| l.contains("terminating on signal 15")),
        "{text}"
    );
}
