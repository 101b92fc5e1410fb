//! virtual: ironpost's virtual delivery agent against Postfix's in the same harness
//! (ironpost's master, queue manager and the rest; Postfix's bounce). The same mail goes
//! to a maildir (with an address extension and a recipient in upper case), a UNIX-style
//! mailbox (fcntl and dot-locked), a catch-all `@domain` maildir, an unknown user
//! (bounced, 5.1.1), a user whose uid is below virtual_minimum_uid (deferred, 4.3.5, with
//! the warning), a mailbox that would grow past virtual_mailbox_limit (bounced, 5.2.2,
//! nothing left half-written), a mailbox root owns (deferred: strict_mailbox_ownership),
//! the administrator's link to /dev/null (bounced: not a regular file) and a mailbox
//! whose dot-lock is held (deferred, then
//! delivered after the lock goes and the queue is flushed); `sendmail -bv` asks what would
//! happen, and so does the address verification service (its probes deliver nothing).
//! `sendmail -v` delivers and reports. Postfix's own queue manager drives our agent as
//! well (the component swap).
//! The agents' log lines, the queue manager's and the bounce service's, the
//! delivered messages (headers added: Return-Path, X-Original-To, Delivered-To, the
//! From_ line), the maildir file names' form and the queue must be equal after queue
//! IDs, delays, dates and ports are normalised.

#[path = "../t-23-qmgr/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "../t-25-discard-error/verify.rs"]
mod verify;

use e2e::delivered::maildir_name_form;
use e2e::{IRONPOST_DAEMONS, Instance, wait_until};
use harness::{USER, assert_line, lines_of, queue_files, queue_ids, wait_count, wait_queue};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Whose virtual agent an instance runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Agent {
    Ours,
    Postfix,
}

/// The uid of `nobody`, who owns the virtual mailboxes.
fn nobody_uid() -> String {
    let out = std::process::Command::new("id")
        .args(["-u", "nobody"])
        .output()
        .expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// An instance with the test's mailbox tables and the chosen virtual agent.
fn instance(name: &str, agent: Agent) -> Option<Instance> {
    instance_with(name, agent, IRONPOST_DAEMONS.to_vec())
}

/// The same with ironpost's `daemons` (the virtual agent's choice added; Postfix's on the
/// Postfix side, whatever the suite's daemon list holds).
fn instance_with(name: &str, agent: Agent, daemons: Vec<&str>) -> Option<Instance> {
    let mut daemons: Vec<&str> = daemons.into_iter().filter(|d| *d != "virtual").collect();
    let suffix = match agent {
        Agent::Ours => {
            daemons.push("virtual");
            "ours"
        }
        // As long as "ours": bounce notices wrap the instance's directory name.
        Agent::Postfix => "pfix",
    };
    let mx = Instance::with_daemons(&format!("{name}-{suffix}"), &daemons)?;
    mx.write(
        "etc/vmailbox",
        "user@vmail.e2e.test vmail.e2e.test/user/\n\
         mbox@vmail.e2e.test vmail.e2e.test/mbox\n\
         mbox2@vmail.e2e.test vmail.e2e.test/mbox2\n\
         full@vmail.e2e.test vmail.e2e.test/full\n\
         locked@vmail.e2e.test vmail.e2e.test/locked\n\
         lowuid@vmail.e2e.test vmail.e2e.test/lowuid/\n\
         rootbox@vmail.e2e.test vmail.e2e.test/rootbox\n\
         null@vmail.e2e.test rootdir/null\n\
         @catch.e2e.test catch.e2e.test/all/\n",
    );
    let uid = nobody_uid();
    mx.write(
        "etc/vuid",
        &format!("lowuid@vmail.e2e.test 5\n@vmail.e2e.test {uid}\n@catch.e2e.test {uid}\n"),
    );
    mx.set_main_cf("virtual_uid_maps", "texthash:@DIR@/etc/vuid");
    mx.set_main_cf("virtual_mailbox_domains", "vmail.e2e.test, catch.e2e.test");
    mx.set_main_cf("recipient_delimiter", "+");
    mx.set_main_cf("message_size_limit", "20000");
    mx.set_main_cf("virtual_mailbox_limit", "20000");
    mx.set_main_cf("deliver_lock_attempts", "2");
    mx.install_commands();
    // The domain directories exist, the recipient's; the mailboxes are made on delivery.
    for domain in ["vmail.e2e.test", "catch.e2e.test"] {
        let dir = mx.dir.join("vmail").join(domain);
        std::fs::create_dir_all(&dir).unwrap();
        let chown = std::process::Command::new("chown")
            .arg("nobody")
            .arg(&dir)
            .status()
            .unwrap();
        assert!(chown.success());
    }
    Some(mx)
}

fn both<T>(scenario: impl Fn(Agent) -> Option<T>) -> Option<(T, T)> {
    Some((scenario(Agent::Ours)?, scenario(Agent::Postfix)?))
}

fn sendmail(mx: &Instance, args: &[&str], subject: &str) {
    let message = format!("From: {USER}\nSubject: {subject}\n\nFrom the body of {subject}\n");
    let out = mx.sendmail(args, &message);
    assert!(
        out.status.success(),
        "sendmail: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A delivered message or mailbox with what differs between runs replaced.
fn normalised(mx: &Instance, text: &str) -> String {
    e2e::delivered::normalise(mx, &queue_ids(&mx.log()), text)
}

/// Delivered files: path, content, mode and owner.
type Files = Vec<(String, String, u32, u32)>;

/// Every file under `vmail/`: (path relative to it with maildir file names reduced to
/// their form, normalised content, mode, owner), sorted.
fn mail_files(mx: &Instance) -> Files {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.push(path.clone());
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    use std::os::unix::fs::MetadataExt;
    let base = mx.dir.join("vmail");
    let mut paths = Vec::new();
    walk(&base, &mut paths);
    let mut files: Files = paths
        .iter()
        .map(|path| {
            let relative = path.strip_prefix(&base).unwrap().display().to_string();
            let meta = std::fs::metadata(path).unwrap();
            let shown = match relative.rsplit_once("/new/") {
                Some((dir, name)) => format!("{dir}/new/{}", maildir_name_form(name)),
                None => relative,
            };
            let content = if meta.is_dir() {
                String::new()
            } else {
                normalised(mx, &std::fs::read_to_string(path).unwrap())
            };
            (shown, content, meta.mode() & 0o7777, meta.uid())
        })
        .collect();
    files.sort();
    files
}

/// Deliveries of every kind; (lines, mail files, deferred queue files).
/// The verify service's answers (status, text) and the log lines of a probe run.
type Probes = (Vec<(i32, String)>, Vec<String>);

fn deliveries(agent: Agent) -> Option<(Vec<String>, Files, usize)> {
    let mut mx = instance("t-26-deliver", agent)?;
    // Nearly full: the next message would pass virtual_mailbox_limit.
    let full = mx.dir.join("vmail/vmail.e2e.test/full");
    std::fs::write(&full, "x".repeat(19_900)).unwrap();
    let chown = std::process::Command::new("chown")
        .arg("nobody")
        .arg(&full)
        .status();
    assert!(chown.unwrap().success());
    // A mailbox the recipient may write but does not own (strict_mailbox_ownership).
    let rootbox = mx.dir.join("vmail/vmail.e2e.test/rootbox");
    std::fs::write(&rootbox, "").unwrap();
    std::fs::set_permissions(&rootbox, std::fs::Permissions::from_mode(0o666)).unwrap();
    // The administrator's link to /dev/null, in a directory only root may change.
    let rootdir = mx.dir.join("vmail/rootdir");
    std::fs::create_dir(&rootdir).unwrap();
    std::fs::set_permissions(&rootdir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("/dev/null", rootdir.join("null")).unwrap();
    // Someone holds the dot-lock of this mailbox.
    let lock = mx.dir.join("vmail/vmail.e2e.test/locked.lock");
    std::fs::write(&lock, "").unwrap();
    mx.start();
    sendmail(&mx, &["-f", USER, "user+ext@vmail.e2e.test"], "t26-maildir");
    sendmail(&mx, &["-f", USER, "USER@vmail.e2e.test"], "t26-upper");
    sendmail(&mx, &["-f", USER, "mbox@vmail.e2e.test"], "t26-mbox");
    sendmail(
        &mx,
        &["-f", "", "mbox2@vmail.e2e.test"],
        "t26-mbox-null-sender",
    );
    sendmail(&mx, &["-f", USER, "anyone@catch.e2e.test"], "t26-catchall");
    sendmail(&mx, &["-f", USER, "nosuch@vmail.e2e.test"], "t26-unknown");
    sendmail(&mx, &["-f", USER, "lowuid@vmail.e2e.test"], "t26-lowuid");
    sendmail(&mx, &["-f", USER, "full@vmail.e2e.test"], "t26-full");
    sendmail(&mx, &["-f", USER, "locked@vmail.e2e.test"], "t26-locked");
    sendmail(&mx, &["-f", USER, "rootbox@vmail.e2e.test"], "t26-rootbox");
    sendmail(&mx, &["-f", USER, "null@vmail.e2e.test"], "t26-null");
    // Eight delivered or bounced, three bounce notices; lowuid, locked and rootbox wait.
    wait_count(&mx, ": removed", 11, 90);
    wait_queue(&mx, "deferred", 3);
    std::fs::remove_file(&lock).unwrap();
    let flushed = std::process::Command::new("/usr/sbin/postqueue")
        .args(["-c", &mx.etc().display().to_string(), "-f"])
        .status()
        .unwrap();
    assert!(flushed.success());
    wait_count(&mx, "status=sent (delivered to mailbox)", 3, 90);
    // The second attempts for the low uid and the mailbox root owns were made and logged.
    wait_count(&mx, "bad uid 5 in", 2, 90);
    wait_count(&mx, "is not owned by recipient)", 2, 90);
    if !wait_until(30, || queue_files(&mx, "deferred").len() == 2) {
        mx.keep_for_inspection();
        panic!("{}", mx.log());
    }
    let full_after = std::fs::read_to_string(&full).unwrap();
    assert_eq!(full_after.len(), 19_900, "the full mailbox changed");
    Some((
        lines_of(&mx, &["virtual", "qmgr", "bounce"]),
        mail_files(&mx),
        queue_files(&mx, "deferred").len(),
    ))
}

#[test]
fn mailboxes_and_maildirs_as_with_postfix_s_virtual() {
    let Some((ours, postfix)) = both(deliveries) else {
        return;
    };
    let lines = &ours.0;
    for needle in [
        "postfix/virtual: QUEUEID: to=<user+ext@vmail.e2e.test>, relay=virtual, delay=N, \
         delays=N, dsn=2.0.0, status=sent (delivered to maildir)",
        "to=<mbox@vmail.e2e.test>, relay=virtual, delay=N, delays=N, dsn=2.0.0, \
         status=sent (delivered to mailbox)",
        "to=<nosuch@vmail.e2e.test>, relay=virtual, delay=N, delays=N, dsn=5.1.1, \
         status=bounced (unknown user: \"nosuch@vmail.e2e.test\")",
        "warning: recipient lowuid@vmail.e2e.test: bad uid 5 in virtual_uid_maps",
        "dsn=4.3.5, status=deferred (mail system configuration error)",
        "dsn=5.2.2, status=bounced (delivery failed to mailbox DIR/vmail/vmail.e2e.test/full: \
         error writing message: File too large)",
        "dsn=4.2.0, status=deferred (delivery failed to mailbox \
         DIR/vmail/vmail.e2e.test/rootbox: destination DIR/vmail/vmail.e2e.test/rootbox \
         is not owned by recipient)",
        "warning: specify \"strict_mailbox_ownership = no\" to ignore mailbox ownership mismatch",
        "warning: recipient null@vmail.e2e.test: destination DIR/vmail/rootdir/null \
         is not a regular file",
        "dsn=5.3.5, status=bounced (delivery failed to mailbox DIR/vmail/rootdir/null: \
         mail system configuration error)",
        "dsn=4.2.0, status=deferred (delivery failed to mailbox \
         DIR/vmail/vmail.e2e.test/locked: unable to create lock file \
         DIR/vmail/vmail.e2e.test/locked.lock: File exists)",
    ] {
        assert_line(lines, needle);
    }
    let files = &ours.1;
    assert!(
        files
            .iter()
            .any(|(path, content, _, _)| path == "vmail.e2e.test/mbox2"
                && content.starts_with("From MAILER-DAEMON  DATE\nReturn-Path: <>\n")
                && content.contains("\n>From the body of t26-mbox-null-sender\n")),
        "{files:#?}"
    );
    assert_eq!(ours.2, 2);
    assert_eq!(ours.0, postfix.0);
    for (a, b) in ours.1.iter().zip(&postfix.1) {
        assert_eq!(a, b, "the first difference between the mail files");
    }
    assert_eq!(ours.1, postfix.1);
    assert_eq!(ours.2, postfix.2);
}

/// `sendmail -bv` for a maildir, a mailbox and an unknown user: the lines and the
/// reports; nothing is delivered.
fn probes(agent: Agent) -> Option<(Vec<String>, Vec<String>)> {
    let mut mx = instance("t-26-probe", agent)?;
    mx.start();
    for rcpt in [
        "user@vmail.e2e.test",
        "mbox@vmail.e2e.test",
        "nosuch@vmail.e2e.test",
    ] {
        sendmail(&mx, &["-bv", "-f", USER, rcpt], "probe");
    }
    // Three probes, three reports.
    wait_count(&mx, ": removed", 6, 60);
    assert!(!mx.dir.join("vmail/vmail.e2e.test/mbox").exists());
    let mut reports: Vec<String> = mx.mailbox().iter().map(|m| normalised(&mx, m)).collect();
    reports.sort();
    assert_eq!(reports.len(), 3, "{reports:#?}");
    Some((lines_of(&mx, &["virtual", "qmgr", "bounce"]), reports))
}

#[test]
fn probes_deliver_nothing_as_with_postfix_s_virtual() {
    let Some((ours, postfix)) = both(probes) else {
        return;
    };
    for needle in [
        "to=<user@vmail.e2e.test>, relay=virtual, delay=N, delays=N, dsn=2.0.0, \
         status=deliverable (delivers to maildir)",
        "to=<mbox@vmail.e2e.test>, relay=virtual, delay=N, delays=N, dsn=2.0.0, \
         status=deliverable (delivers to mailbox)",
        "status=undeliverable (unknown user: \"nosuch@vmail.e2e.test\")",
    ] {
        assert_line(&ours.0, needle);
    }
    assert_eq!(ours, postfix);
}

/// The verify service's probes of a maildir, a mailbox and an unknown user: (the
/// answers, the lines); nothing is delivered.
fn verify_probes(agent: Agent) -> Option<Probes> {
    let mut mx = instance("t-26-verify", agent)?;
    mx.start();
    let addresses = [
        "user@vmail.e2e.test",
        "mbox@vmail.e2e.test",
        "nosuch@vmail.e2e.test",
    ];
    let answers = addresses.iter().map(|a| verify::settled(&mx, a)).collect();
    wait_count(&mx, ": removed", 3, 60);
    assert!(mx.mailbox().is_empty());
    assert!(!mx.dir.join("vmail/vmail.e2e.test/mbox").exists());
    Some((answers, lines_of(&mx, &["virtual", "qmgr", "bounce"])))
}

#[test]
fn verify_probes_are_answered_as_by_postfix_s_virtual() {
    let Some((ours, postfix)) = both(verify_probes) else {
        return;
    };
    assert_eq!(
        ours.0,
        [
            (0, "delivers to maildir".to_string()),
            (0, "delivers to mailbox".to_string()),
            (2, "unknown user: \"nosuch@vmail.e2e.test\"".to_string()),
        ]
    );
    assert_eq!(ours, postfix);
}

/// Postfix's queue manager driving the virtual agent (the component swap): a maildir, a
/// mailbox and an unknown user; (lines, mail files).
fn under_postfix_qmgr(agent: Agent) -> Option<(Vec<String>, Files)> {
    let daemons = IRONPOST_DAEMONS
        .iter()
        .copied()
        .filter(|d| *d != "qmgr")
        .collect();
    let mut mx = instance_with("t-26-swap", agent, daemons)?;
    mx.start();
    sendmail(
        &mx,
        &["-f", USER, "user@vmail.e2e.test"],
        "t26-swap-maildir",
    );
    sendmail(&mx, &["-f", USER, "mbox@vmail.e2e.test"], "t26-swap-mbox");
    sendmail(
        &mx,
        &["-f", USER, "nosuch@vmail.e2e.test"],
        "t26-swap-unknown",
    );
    // Three messages and a bounce notice.
    wait_count(&mx, ": removed", 4, 60);
    Some((
        lines_of(&mx, &["virtual", "qmgr", "bounce"]),
        mail_files(&mx),
    ))
}

#[test]
fn postfix_s_queue_manager_drives_our_virtual_as_its_own() {
    let Some((ours, postfix)) = both(under_postfix_qmgr) else {
        return;
    };
    assert_line(
        &ours.0,
        "to=<mbox@vmail.e2e.test>, relay=virtual, delay=N, delays=N, dsn=2.0.0, \
         status=sent (delivered to mailbox)",
    );
    assert_eq!(ours, postfix);
}

/// `sendmail -v` to a mailbox: delivered, and the sender gets the delivery report;
/// (lines, mail files).
fn record(agent: Agent) -> Option<(Vec<String>, Files)> {
    let mut mx = instance("t-26-record", agent)?;
    mx.start();
    sendmail(
        &mx,
        &["-v", "-f", USER, "mbox@vmail.e2e.test"],
        "t26-record",
    );
    // The message and the report.
    wait_count(&mx, ": removed", 2, 60);
    Some((
        lines_of(&mx, &["virtual", "qmgr", "bounce"]),
        mail_files(&mx),
    ))
}

#[test]
fn sendmail_v_delivers_and_reports_as_with_postfix_s_virtual() {
    let Some((ours, postfix)) = both(record) else {
        return;
    };
    assert!(
        ours.1
            .iter()
            .any(|(path, content, _, _)| path.contains("/user/new/")
                && content.contains("Action: delivered")
                && content.contains("delivery via virtual: delivered to mailbox")),
        "{:#?}",
        ours.1
    );
    assert_eq!(ours, postfix);
}

/// virtual_delivery_status_filter: an unknown user is deferred instead (4.7.1), a
/// maildir delivery is logged with other words; (lines, deferred files).
fn status_filter(agent: Agent) -> Option<(Vec<String>, usize)> {
    let mut mx = instance("t-26-filter", agent)?;
    mx.write(
        "etc/dsn_filter",
        "/^5\\.1\\.1 unknown user: (.*)/ 4.7.1 no mailbox yet for $1\n\
         /^2\\.0\\.0 delivered to maildir$/ 2.0.0 stored in the maildir\n",
    );
    mx.set_main_cf(
        "virtual_delivery_status_filter",
        "regexp:@DIR@/etc/dsn_filter",
    );
    mx.start();
    sendmail(
        &mx,
        &["-f", USER, "user@vmail.e2e.test"],
        "t26-filter-maildir",
    );
    sendmail(
        &mx,
        &["-f", USER, "nosuch@vmail.e2e.test"],
        "t26-filter-unknown",
    );
    wait_count(&mx, ": removed", 1, 60);
    wait_queue(&mx, "deferred", 1);
    Some((
        lines_of(&mx, &["virtual", "qmgr", "bounce"]),
        queue_files(&mx, "deferred").len(),
    ))
}

#[test]
fn the_delivery_status_filter_rewrites_as_with_postfix_s_virtual() {
    let Some((ours, postfix)) = both(status_filter) else {
        return;
    };
    for needle in [
        "to=<user@vmail.e2e.test>, relay=virtual, delay=N, delays=N, dsn=2.0.0, \
         status=sent (stored in the maildir)",
        "to=<nosuch@vmail.e2e.test>, relay=virtual, delay=N, delays=N, dsn=4.7.1, \
         status=deferred (no mailbox yet for \"nosuch@vmail.e2e.test\")",
    ] {
        assert_line(&ours.0, needle);
    }
    assert_eq!(ours, postfix);
}
