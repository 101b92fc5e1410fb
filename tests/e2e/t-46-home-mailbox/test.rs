//! home_mailbox: delivery by the local agent into a real user's home directory, with
//! ironpost's local and with Postfix's in the same harness (ironpost's master, qmgr,
//! cleanup...; only the local agent differs). The test makes the user (useradd, a
//! private home under /tmp/ironpost-e2e) and sends it two messages, to its bare name
//! and to its full address. `home_mailbox = Maildir/` and `home_mailbox = Mailbox`
//! (a UNIX mailbox in the home directory) must give the same files: where they are
//! (maildir file names reduced to their form), who owns them, their modes, and what is
//! in them (the Return-Path:, X-Original-To: and Delivered-To: headers local adds, the
//! From_ line), and the same delivery lines, `(delivered to maildir)` and
//! `(delivered to mailbox)`.

#[allow(dead_code)]
#[path = "../t-23-qmgr/harness.rs"]
mod harness;

#[allow(dead_code)]
#[path = "../t-27-local/agent.rs"]
mod agent;

use agent::{Agent, both, normalise, set_mode, settle};
use e2e::Instance;
use e2e::delivered::maildir_name_form;
use harness::{USER, lines_of};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A local account the test made, removed when the test ends.
struct User {
    name: &'static str,
    uid: u32,
    gid: u32,
    home: PathBuf,
}

impl User {
    /// Makes account `name` (or points an account left by an earlier run at the new
    /// home): no password, no shell, its home a fresh directory it owns.
    fn create(name: &'static str) -> User {
        // A directory of its own per user: the tests run in parallel.
        let home = PathBuf::from(format!(
            "/tmp/ironpost-e2e/t-46-{name}-{}/home",
            std::process::id()
        ));
        std::fs::create_dir_all(home.parent().unwrap()).unwrap();
        set_mode(home.parent().unwrap(), 0o755);
        let (uid, gid) = e2e::account::local_user(name, &home);
        let user = User {
            name,
            uid,
            gid,
            home,
        };
        user.empty_home();
        user
    }

    /// Gives the user an empty home directory (mode 755, its own).
    fn empty_home(&self) {
        let _ = std::fs::remove_dir_all(&self.home);
        std::fs::create_dir(&self.home).unwrap();
        std::os::unix::fs::chown(&self.home, Some(self.uid), Some(self.gid)).unwrap();
        set_mode(&self.home, 0o755);
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(self.name).status();
        let _ = std::fs::remove_dir_all(self.home.parent().unwrap());
    }
}

/// A file or directory under the home directory: path (maildir file names reduced to
/// their form), normalised content, mode, and whether the user and its group own it.
type Entry = (String, String, u32, bool);

/// What one run produced: the files in the home directory and local's lines.
type Outcome = (Vec<Entry>, Vec<String>);

/// Everything under the user's home directory, sorted.
fn home_files(mx: &Instance, user: &User) -> Vec<Entry> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            out.push(path.clone());
            if path.is_dir() {
                walk(&path, out);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&user.home, &mut paths);
    let mut files: Vec<Entry> = paths
        .iter()
        .map(|path| {
            let relative = path.strip_prefix(&user.home).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(path).unwrap();
            let shown = match relative.rsplit_once('/') {
                Some((dir, name)) if dir.ends_with("new") || dir.ends_with("cur") => {
                    format!("{dir}/{}", maildir_name_form(name))
                }
                _ => relative,
            };
            let content = if meta.is_dir() {
                String::new()
            } else {
                normalise(mx, &std::fs::read_to_string(path).unwrap())
            };
            let owned = meta.uid() == user.uid && meta.gid() == user.gid;
            (shown, content, meta.mode() & 0o7777, owned)
        })
        .collect();
    files.sort();
    files
}

/// Two messages to `user`, delivered as `home_mailbox` says, one after the other.
fn deliver(agent: Agent, user: &User, home_mailbox: &str) -> Option<Outcome> {
    let mut mx = agent::instance(&format!("t-46-{}", user.name), agent, "local")?;
    user.empty_home();
    std::fs::create_dir_all(mx.dir.join("spool")).unwrap();
    mx.set_main_cf("mail_spool_directory", "@DIR@/spool");
    mx.set_main_cf("home_mailbox", home_mailbox);
    mx.install_commands();
    mx.start();
    let full = format!("{}@mail.e2e.test", user.name);
    for (n, to) in [user.name, full.as_str()].into_iter().enumerate() {
        let marker = format!("t46-{n}");
        let message =
            format!("From: {USER}\nTo: {to}\nSubject: {marker}\n\nbody {marker}\nFrom here\n");
        let out = mx.sendmail(&["-f", USER, to], &message);
        assert!(out.status.success(), "sendmail");
        settle(&mx, n + 1);
    }
    let outcome = (home_files(&mx, user), lines_of(&mx, &["local"]));
    if outcome.0.is_empty()
        || std::fs::read_dir(mx.dir.join("spool"))
            .unwrap()
            .next()
            .is_some()
    {
        mx.keep_for_inspection();
        panic!("nothing in the home directory, or mail in the spool: {outcome:#?}");
    }
    Some(outcome)
}

/// Makes the user `name`, delivers to it with `home_mailbox` through ironpost's local
/// and Postfix's, and checks that both did the same; the user (removed when dropped)
/// and what ironpost's did, or None when the test is skipped.
fn equal_deliveries(name: &'static str, home_mailbox: &str) -> Option<(User, Outcome)> {
    // useradd needs root: the test is skipped before it when the system cannot run.
    if !e2e::mixed_system_possible() {
        return None;
    }
    let user = User::create(name);
    let (ours, postfix) = both(|agent| deliver(agent, &user, home_mailbox))?;
    assert_eq!(ours, postfix);
    Some((user, ours))
}

#[test]
fn home_maildir_deliveries_equal_postfix_local() {
    let Some((user, ours)) = equal_deliveries("ipt46maildir", "Maildir/") else {
        return;
    };
    let (files, lines) = &ours;
    let name = user.name;
    for needle in [
        format!(
            "local: QUEUEID: to=<{name}@mail.e2e.test>, orig_to=<{name}>, relay=local, \
             delay=N, delays=N, dsn=2.0.0, status=sent (delivered to maildir)"
        ),
        format!(
            "local: QUEUEID: to=<{name}@mail.e2e.test>, relay=local, delay=N, delays=N, \
             dsn=2.0.0, status=sent (delivered to maildir)"
        ),
    ] {
        harness::assert_line(lines, &needle);
    }
    let new: Vec<&Entry> = files
        .iter()
        .filter(|f| f.0.starts_with("Maildir/new/"))
        .collect();
    assert_eq!(new.len(), 2, "{files:#?}");
    for (_, content, mode, owned) in new {
        assert!(*owned && *mode == 0o600, "{files:#?}");
        assert!(
            content.starts_with("Return-Path: <user@vmail.e2e.test>\n"),
            "{content}"
        );
        assert!(
            content.contains(&format!("Delivered-To: {name}@mail.e2e.test\n")),
            "{content}"
        );
    }
}

#[test]
fn home_mbox_deliveries_equal_postfix_local() {
    let Some((user, ours)) = equal_deliveries("ipt46mbox", "Mailbox") else {
        return;
    };
    let (files, lines) = &ours;
    let name = user.name;
    harness::assert_line(
        lines,
        &format!(
            "local: QUEUEID: to=<{name}@mail.e2e.test>, relay=local, delay=N, delays=N, \
             dsn=2.0.0, status=sent (delivered to mailbox)"
        ),
    );
    let [(path, content, mode, owned)] = &files[..] else {
        panic!("{files:#?}");
    };
    assert_eq!((path.as_str(), *mode, *owned), ("Mailbox", 0o600, true));
    assert_eq!(
        content.matches("From user@vmail.e2e.test  DATE\n").count(),
        2,
        "{content}"
    );
    assert_eq!(content.matches("\n>From here\n").count(), 2, "{content}");
    assert_eq!(
        content
            .matches(&format!("Delivered-To: {name}@mail.e2e.test\n"))
            .count(),
        2,
        "{content}"
    );
}
