//! The t-31 fixture: a queue built by a mail system, then two copies of it, one for
//! Postfix's tools and one for ours, each with its own main.cf.

use e2e::{IRONPOST_DAEMONS, Instance, program, wait_until};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where Debian keeps Postfix's daemons.
const POSTFIX_LIBEXEC: &str = "/usr/lib/postfix/sbin";
/// The queues the tools look at, and the log directories.
const QUEUES: [&str; 11] = [
    "maildrop", "incoming", "active", "deferred", "hold", "defer", "bounce", "trace", "flush",
    "saved", "corrupt",
];

/// The messages, by marker: sender, recipients, how old they are made (seconds), and where
/// they end up.
const MESSAGES: [(&str, &str, &[&str], i64, &str); 6] = [
    (
        "m1",
        "a@e2e.test",
        &["u1@relay.e2e.test", "u2@relay.e2e.test"],
        180,
        "deferred",
    ),
    ("m2", "<>", &["x@a.relay.e2e.test"], 420, "deferred"),
    (
        "m3",
        "\"b c\"@e2e.test",
        &[
            "y@bb.relay.e2e.test",
            "z@bb.relay.e2e.test",
            "w@ccc.relay.e2e.test",
        ],
        3600,
        "deferred",
    ),
    (
        "m4",
        "a@e2e.test",
        &["v1@relay.e2e.test", "v2@dddd.relay.e2e.test"],
        3 * 86400,
        "hold",
    ),
    (
        "m5",
        "a@e2e.test",
        &["t1@eeeee.relay.e2e.test"],
        1200,
        "incoming",
    ),
    ("m6", "a@e2e.test", &["t2@a.relay.e2e.test"], 7200, "active"),
];

/// Which tool.
#[derive(Debug, Clone, Copy)]
pub enum Run {
    Postqueue,
    Postcat,
    Postsuper,
    Qshape,
    /// qshape on a terminal (through script(1)): redrawn every -N messages.
    QshapeTty,
}

/// What a run printed and left.
#[derive(Debug, PartialEq, Eq)]
pub struct Out {
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// For postsuper: the queue afterwards, `path mode` per entry.
    pub tree: Vec<String>,
}

pub struct Fixture {
    mx: Instance,
    ids: Vec<String>,
}

fn records(bytes: &[u8]) -> Vec<(usize, u8, usize, usize)> {
    // (offset, type, data start, data length)
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        let kind = bytes[at];
        at += 1;
        let (mut len, mut shift) = (0usize, 0);
        while at < bytes.len() {
            let b = bytes[at];
            at += 1;
            len |= usize::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        out.push((start, kind, at, len));
        at += len;
        if kind == b'E' {
            break;
        }
    }
    out
}

/// The first recipient of a queue file.
fn first_recipient(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    records(&bytes)
        .into_iter()
        .find(|r| r.1 == b'R')
        .map(|(_, _, at, len)| String::from_utf8_lossy(&bytes[at..at + len]).into_owned())
}

/// The queue ID of the file under `dir` whose first recipient is `rcpt`.
pub fn queue_file_for(dir: &Path, rcpt: &str) -> Option<String> {
    let mut files = Vec::new();
    files_under(dir, &mut files);
    files
        .into_iter()
        .find(|p| first_recipient(p).as_deref() == Some(rcpt))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
}

/// Moves the arrival time (the T record's seconds, same width) back by `age` seconds.
fn age(path: &Path, age: i64) {
    let mut bytes = std::fs::read(path).unwrap();
    let (_, _, at, len) = records(&bytes)
        .into_iter()
        .find(|r| r.1 == b'T')
        .expect("a time record");
    let text = String::from_utf8_lossy(&bytes[at..at + len]).into_owned();
    let (secs, rest) = text.split_once(' ').unwrap_or((&text, ""));
    let old: i64 = secs.parse().unwrap();
    let new = format!("{:0width$}", old - age, width = secs.len());
    let data = if rest.is_empty() {
        new
    } else {
        format!("{new} {rest}")
    };
    assert_eq!(data.len(), len);
    bytes[at..at + len].copy_from_slice(data.as_bytes());
    // Rewrite in place: the inode (and so the queue ID) stays.
    std::fs::write(path, bytes).unwrap();
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn tree(queue_dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(base).unwrap().display().to_string();
            // Copies have inodes of their own: a short queue ID's inode part differs
            // between them once -s has renamed files to match their inodes.
            let rel: Vec<String> = rel
                .split('/')
                .map(|part| {
                    let id = part.len() >= 8
                        && part
                            .bytes()
                            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b));
                    if id {
                        format!("{}+INODE", &part[..5])
                    } else {
                        part.to_string()
                    }
                })
                .collect();
            out.push(format!("{} {:o}", rel.join("/"), meta.mode() & 0o7777));
            if meta.is_dir() {
                walk(base, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    for q in QUEUES {
        walk(queue_dir, &queue_dir.join(q), &mut out);
    }
    out.sort();
    out
}

fn copy_tree(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

impl Fixture {
    /// Builds the queue with Postfix's daemons, or with ironpost's (`ironpost`); None when
    /// the mixed system cannot run here (the test is skipped).
    #[track_caller]
    pub fn build(name: &str, ironpost: bool) -> Option<Fixture> {
        let daemons: &[&str] = if ironpost { &IRONPOST_DAEMONS } else { &[] };
        let mut mx = Instance::with_daemons(name, daemons)?;
        // Built now: the comparisons use them.
        for p in ["postqueue", "postcat", "postsuper", "qshape", "showq"] {
            program(p);
        }
        mx.write(
            "etc/transport",
            &mx.expand(
                "relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n\
                 .relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n",
            ),
        );
        let sendmail: PathBuf = if ironpost {
            mx.install_commands();
            mx.dir.join("sbin/sendmail")
        } else {
            PathBuf::from("/usr/sbin/sendmail")
        };
        mx.start();
        let submit = |marker: &str, from: &str, to: &[&str]| {
            // A header longer than a record: continued text records.
            let long = "x".repeat(3000);
            let message = format!(
                "From: {from}\nTo: {}\nSubject: {marker}\nX-Long: {long}\n\nbody {marker}\n\nsecond paragraph\n",
                to.join(", ")
            );
            let mut args = vec!["-f", from];
            args.extend_from_slice(to);
            let out = mx.run_with_input(&sendmail, &args, message.as_bytes());
            assert!(
                out.status.success(),
                "sendmail: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        for (marker, from, to, _, _) in MESSAGES {
            submit(marker, from, to);
        }
        let rcpts: usize = MESSAGES.iter().map(|m| m.2.len()).sum();
        if !wait_until(90, || mx.log().matches("status=deferred").count() >= rcpts) {
            mx.keep_for_inspection();
            panic!("not all deferred; log:\n{}", mx.log());
        }
        let queue = mx.dir.join("queue");
        let deferred = || {
            let mut files = Vec::new();
            files_under(&queue.join("deferred"), &mut files);
            files
        };
        assert!(wait_until(30, || deferred().len() == MESSAGES.len()));
        mx.postfix(&["stop"]);
        assert!(wait_until(30, || mx.leftovers().is_empty()));

        // Put each message where it belongs, with its age.
        let mut ids = Vec::new();
        for (_, _, to, secs, place) in MESSAGES {
            let path = deferred()
                .into_iter()
                .find(|p| first_recipient(p).as_deref() == Some(to[0]))
                .expect("the message's queue file");
            let id = path.file_name().unwrap().to_string_lossy().into_owned();
            age(&path, secs);
            if place != "deferred" {
                std::fs::rename(&path, queue.join(place).join(&id)).unwrap();
            }
            ids.push(id);
        }
        // m2 is force-expired.
        let expired = deferred()
            .into_iter()
            .find(|p| p.ends_with(&ids[1]))
            .unwrap();
        std::fs::set_permissions(&expired, std::fs::Permissions::from_mode(0o710)).unwrap();
        // One message waits in maildrop: the system is down.
        submit("m7", "a@e2e.test", &["m7@relay.e2e.test"]);
        copy_tree(&queue, &mx.dir.join("snapshot"));
        let fx = Fixture { mx, ids };
        std::fs::create_dir_all(fx.mx.dir.join("libexec-ours")).unwrap();
        std::fs::copy(program("showq"), fx.mx.dir.join("libexec-ours/showq")).unwrap();
        fx.configure("");
        Some(fx)
    }

    /// The queue IDs of m1..m6.
    pub fn ids(&self) -> Vec<String> {
        self.ids.clone()
    }

    fn cfg(&self, side: char) -> PathBuf {
        self.mx.dir.join(format!("cfg{side}"))
    }

    fn queue_dir(&self, side: char) -> PathBuf {
        self.mx.dir.join(format!("q{side}"))
    }

    /// The queue directory Postfix's tools use.
    pub fn queue_dir_a(&self) -> PathBuf {
        self.queue_dir('A')
    }

    /// Fresh queue copies and main.cf files with `extra` settings.
    fn configure(&self, extra: &str) {
        for side in ['A', 'B'] {
            let libexec = if side == 'A' {
                PathBuf::from(POSTFIX_LIBEXEC)
            } else {
                self.mx.dir.join("libexec-ours")
            };
            std::fs::create_dir_all(self.cfg(side)).unwrap();
            std::fs::write(
                self.cfg(side).join("main.cf"),
                format!(
                    "compatibility_level = 3.6\nqueue_directory = {}\ndaemon_directory = {}\n\
                     mail_owner = postfix\nsetgid_group = postdrop\nmyhostname = mail.e2e.test\n\
                     mydomain = e2e.test\ninet_protocols = ipv4\n{}",
                    self.queue_dir(side).display(),
                    libexec.display(),
                    extra.replace("@CFG@", &self.cfg(side).display().to_string())
                ),
            )
            .unwrap();
            // qshape runs Postfix's postconf, which wants a master.cf.
            std::fs::write(self.cfg(side).join("master.cf"), "").unwrap();
            copy_tree(&self.mx.dir.join("snapshot"), &self.queue_dir(side));
        }
    }

    /// Empty `@CFG@/maillog` files that the mail owner may write: postsuper logs after
    /// it has become the mail owner, and without postlogd it writes the file itself.
    pub fn prepare_maillog(&self) {
        for side in ['A', 'B'] {
            let path = self.cfg(side).join("maillog");
            std::fs::write(&path, "").unwrap();
            let status = Command::new("chown")
                .arg("postfix")
                .arg(&path)
                .status()
                .unwrap();
            assert!(status.success());
        }
    }

    /// The records a side's tool wrote to `@CFG@/maillog`, without the time stamp, host
    /// and process id; the file is emptied.
    pub fn maillog(&self, side: char) -> Vec<String> {
        let path = self.cfg(side).join("maillog");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let _ = std::fs::remove_file(&path);
        text.lines()
            .map(|line| {
                let (head, rest) = line.split_once("]: ").unwrap_or(("", line));
                let program = head.rsplit(' ').next().unwrap_or("");
                let program = program.split('[').next().unwrap_or("");
                format!("{program}: {rest}")
            })
            .collect()
    }

    /// The message files of the snapshot.
    pub fn queue_files(&self) -> Vec<String> {
        let mut files = Vec::new();
        for q in ["maildrop", "incoming", "active", "deferred", "hold"] {
            files_under(&self.mx.dir.join("snapshot").join(q), &mut files);
        }
        let mut names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        names.sort();
        names
    }

    fn run_one(&self, run: Run, side: char, args: &[&str], input: &[u8]) -> Out {
        let (postfix, ours) = match run {
            Run::Postqueue => ("/usr/sbin/postqueue", program("postqueue")),
            Run::Postcat => ("/usr/sbin/postcat", program("postcat")),
            Run::Postsuper => ("/usr/sbin/postsuper", program("postsuper")),
            Run::Qshape | Run::QshapeTty => ("/usr/sbin/qshape", program("qshape")),
        };
        let path = if side == 'A' {
            PathBuf::from(postfix)
        } else {
            ours
        };
        let mut command = if matches!(run, Run::QshapeTty) {
            let line = format!("{} {}", path.display(), args.join(" "));
            let mut c = Command::new("script");
            c.args(["-qc", &line, "/dev/null"]).env("TERM", "xterm");
            c
        } else {
            let mut c = Command::new(&path);
            c.args(args);
            c
        };
        let mut child = command
            .env("MAIL_CONFIG", self.cfg(side))
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("TZ", "UTC")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write;
            let _ = child.stdin.take().unwrap().write_all(input);
        }
        let out = child.wait_with_output().unwrap();
        // The program's own path is in some messages (qshape's $0): the same for both.
        let norm = |bytes: &[u8]| {
            String::from_utf8_lossy(bytes)
                .replace(&path.display().to_string(), "PROGRAM")
                .replace(&self.queue_dir(side).display().to_string(), "QUEUE")
                .replace(&self.cfg(side).display().to_string(), "CONFIG")
        };
        Out {
            status: out.status.code(),
            stdout: norm(&out.stdout),
            stderr: norm(&out.stderr),
            tree: Vec::new(),
        }
    }

    /// Postfix's tool and ours on the current copies.
    pub fn both(&self, run: Run, args: &[&str], input: &[u8]) -> (Out, Out) {
        (
            self.run_one(run, 'A', args, input),
            self.run_one(run, 'B', args, input),
        )
    }

    /// Both on fresh copies; with the queues left behind.
    pub fn both_fresh(&self, run: Run, args: &[&str], input: &[u8]) -> (Out, Out) {
        self.both_fresh_with(run, args, input, "")
    }

    /// Both on fresh copies with `extra` main.cf settings; with the queues left behind.
    pub fn both_fresh_with(
        &self,
        run: Run,
        args: &[&str],
        input: &[u8],
        extra: &str,
    ) -> (Out, Out) {
        self.configure(extra);
        let (mut a, mut b) = self.both(run, args, input);
        a.tree = tree(&self.queue_dir('A'));
        b.tree = tree(&self.queue_dir('B'));
        (a, b)
    }

    /// `postqueue -p` through our showq daemon in the running system (no queue manager
    /// or pickup, so that nothing moves).
    pub fn live_listing(&self) -> String {
        let mx = &self.mx;
        for service in ["qmgr", "pickup"] {
            mx.replace_master_cf_line(
                |l| l.starts_with(&format!("{service} ")),
                &format!("#{service} disabled"),
            );
        }
        let showq = mx.dir.join("libexec/showq");
        let _ = std::fs::remove_file(&showq);
        std::fs::copy(program("showq"), &showq).unwrap();
        // The live queue must be the snapshot: start from it.
        copy_tree(&mx.dir.join("snapshot"), &mx.dir.join("queue"));
        let status = Command::new(program("postfix"))
            .args(["-c"])
            .arg(mx.etc())
            .arg("start")
            .status()
            .unwrap();
        assert!(status.success());
        let started = |mx: &Instance| mx.log().matches("daemon started -- version").count();
        assert!(wait_until(10, || started(mx) >= 2), "{}", mx.log());
        // The master creates the service sockets before it logs that it started.
        let out = Command::new(program("postqueue"))
            .arg("-p")
            .env("MAIL_CONFIG", mx.etc())
            .env("TZ", "UTC")
            .output()
            .unwrap();
        let _ = Command::new(program("postfix"))
            .arg("-c")
            .arg(mx.etc())
            .arg("stop")
            .status();
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            mx.log()
        );
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
