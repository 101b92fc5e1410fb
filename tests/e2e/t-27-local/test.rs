//! local: the same mail through ironpost's local delivery agent and Postfix's, in the
//! same harness (ironpost's master, qmgr, cleanup...; only the local agent differs):
//! a UNIX mailbox in mail_spool_directory, a maildir, an alias to two users, an
//! :include: file (its recipients are forwarded through cleanup), a .forward file
//! (forward_path), an alias to a command, a command that fails with EX_NOUSER (the
//! sender gets a bounce), an unknown user, an address extension, a Delivered-To: loop,
//! and `sendmail -bv` (nothing is delivered); local_delivery_status_filter defers an
//! unknown user and rewords a delivery. Compared after queue IDs, dates and delays
//! are normalised: the local agent's log lines, the delivered mailbox and maildir files
//! (the headers local adds: Return-Path, X-Original-To, Delivered-To), the command's
//! input, and the queue (empty in both).

#[allow(dead_code)]
#[path = "../t-23-qmgr/harness.rs"]
mod harness;

mod agent;

use agent::{Agent, both, normalise, notice_fields, set_mode, settle};
use e2e::Instance;
use harness::{USER, lines_of, queue_files, wait_count};

/// An instance with ironpost's daemons, and ironpost's or Postfix's local agent, set up
/// for local delivery: aliases, a spool directory, .forward files and an output
/// directory that default_privs (nobody) may write.
fn instance(name: &str, agent: Agent, spool: &str) -> Option<Instance> {
    let mx = agent::instance(name, agent, "local")?;
    for dir in ["spool", "forward"] {
        std::fs::create_dir_all(mx.dir.join(dir)).unwrap();
    }
    set_mode(&mx.dir.join("spool"), 0o1777);
    mx.set_main_cf("alias_maps", "hash:@DIR@/etc/aliases");
    mx.set_main_cf("mail_spool_directory", &format!("@DIR@/{spool}"));
    mx.set_main_cf("forward_path", "@DIR@/forward/${user}.forward");
    mx.set_main_cf("recipient_delimiter", "+");
    aliases(
        &mx,
        "team: nobody, postfix\n\
         listed: :include:@DIR@/etc/include.list\n\
         cmd: \"|/bin/sh -c 'cat > @DIR@/out/cmd.txt'\"\n\
         fail: \"|/bin/sh -c 'echo no such person; exit 67'\"\n",
    );
    mx.write("etc/include.list", "# the list\nnobody\n");
    mx.write("forward/postfix.forward", "nobody+fwd\n");
    mx.install_commands();
    Some(mx)
}

/// Writes the alias file and builds it with Postfix's postalias.
fn aliases(mx: &Instance, text: &str) {
    mx.write("etc/aliases", &mx.expand(text));
    let built = std::process::Command::new("/usr/sbin/postalias")
        .arg("-c")
        .arg(mx.etc())
        .arg(format!("hash:{}/etc/aliases", mx.dir.display()))
        .status()
        .unwrap();
    assert!(built.success(), "postalias");
}

fn sendmail(mx: &Instance, args: &[&str], to: &str, marker: &str) {
    let message = format!(
        "From: {USER}\nTo: {to}\nSubject: {marker}\n\nbody {marker}\nFrom the start of a line\n"
    );
    let mut all = vec!["-f", USER];
    all.extend_from_slice(args);
    all.push(to);
    let out = mx.sendmail(&all, &message);
    assert!(
        out.status.success(),
        "sendmail: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The mailbox file of `user` in the spool directory, or its maildir messages.
fn delivered(mx: &Instance, spool: &str, user: &str) -> Vec<String> {
    let path = mx.dir.join(spool).join(user);
    if path.is_dir() {
        let mut messages: Vec<String> = std::fs::read_dir(path.join("new"))
            .map(|d| {
                d.flatten()
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .map(|m| normalise(mx, &m))
                    .collect()
            })
            .unwrap_or_default();
        messages.sort();
        messages
    } else {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        // Messages arrive in parallel: compare them as a set.
        let mut messages: Vec<String> = text
            .split("\nFrom ")
            .filter(|m| !m.is_empty())
            // The blank line after each message belongs to whichever came last.
            .map(|m| {
                normalise(
                    mx,
                    &format!("From {}", m.trim_start_matches("From ").trim_end()),
                )
            })
            .collect();
        messages.sort();
        messages
    }
}

/// What one run produced.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    local_lines: Vec<String>,
    nobody: Vec<String>,
    postfix: Vec<String>,
    command_input: String,
    bounce: Vec<String>,
}

/// The deliveries scenario with mailboxes in `spool` (`spool` for files, `spool/` for
/// maildirs).
fn deliveries(name: &str, agent: Agent, spool: &str) -> Option<Outcome> {
    let mut mx = instance(name, agent, spool)?;
    if name.ends_with("-flock") {
        mx.set_main_cf("mailbox_delivery_lock", "flock, dotlock");
    }
    mx.start();
    sendmail(&mx, &[], "nobody", "t27-plain");
    sendmail(&mx, &[], "team", "t27-team");
    sendmail(&mx, &[], "listed", "t27-include");
    sendmail(&mx, &[], "postfix", "t27-forward");
    sendmail(&mx, &[], "cmd", "t27-command");
    sendmail(&mx, &[], "fail", "t27-fail");
    sendmail(&mx, &[], "nosuchuser", "t27-unknown");
    sendmail(&mx, &[], "nobody+ext", "t27-extension");
    // A copy that was already delivered to nobody: a forwarding loop.
    let looped = format!(
        "Delivered-To: nobody@mail.e2e.test\nFrom: {USER}\nSubject: t27-loop\n\nbody t27-loop\n"
    );
    let out = mx.sendmail(&["-f", USER, "nobody"], &looped);
    assert!(out.status.success());
    // 9 messages, 3 forwarded copies (the :include: file, postfix's .forward, once
    // directly and once through team), 3 bounces (fail, unknown, loop).
    settle(&mx, 15);
    let command_input = std::fs::read_to_string(mx.dir.join("out/cmd.txt")).unwrap_or_default();
    if !command_input.contains("body t27-command") {
        mx.keep_for_inspection();
        panic!("command got {command_input:?}\n{}", mx.log());
    }
    let outcome = Outcome {
        local_lines: lines_of(&mx, &["local"]),
        nobody: delivered(&mx, spool.trim_end_matches('/'), "nobody"),
        postfix: delivered(&mx, spool.trim_end_matches('/'), "postfix"),
        command_input: normalise(&mx, &command_input),
        bounce: mx
            .mailbox()
            .iter()
            .filter(|m| m.contains("Undelivered Mail Returned to Sender"))
            .map(|m| notice_fields(m))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    assert!(
        outcome
            .nobody
            .iter()
            .any(|m| m.contains("body t27-include")),
        "no :include: delivery in {:#?}\n{}",
        outcome.nobody,
        mx.log()
    );
    assert_eq!(
        outcome.bounce.len(),
        3,
        "{:#?}\n{}",
        outcome.bounce,
        mx.log()
    );
    Some(outcome)
}

fn compare(spool: &str) {
    let name = if spool.ends_with('/') {
        "t-27-maildir"
    } else {
        "t-27-mbox"
    };
    let Some(ours) = deliveries(name, Agent::Ours, spool) else {
        return;
    };
    let Some(postfix) = deliveries(name, Agent::Postfix, spool) else {
        return;
    };
    assert_eq!(
        ours.local_lines, postfix.local_lines,
        "local's log lines differ"
    );
    assert_eq!(ours.nobody, postfix.nobody, "nobody's mailbox differs");
    assert_eq!(ours.postfix, postfix.postfix, "postfix's mailbox differs");
    assert_eq!(
        ours.command_input, postfix.command_input,
        "the command's input differs"
    );
    assert_eq!(ours.bounce, postfix.bounce, "the bounces differ");
}

#[test]
fn mbox_deliveries_equal_postfix_local() {
    compare("spool");
}

#[test]
fn maildir_deliveries_equal_postfix_local() {
    compare("spool/");
}

/// The same deliveries with flock() and dot-locks instead of fcntl() and dot-locks.
#[test]
fn flock_deliveries_equal_postfix_local() {
    let Some((ours, postfix)) = both(|agent| deliveries("t-27-flock", agent, "spool")) else {
        return;
    };
    assert_eq!(ours, postfix);
}

/// The component swap: Postfix's queue manager sends the requests to ironpost's local.
#[test]
fn under_postfix_qmgr_deliveries_equal_postfix_local() {
    let Some(swapped) = deliveries("t-27-swap", Agent::OursUnderPostfixQmgr, "spool") else {
        return;
    };
    let Some(postfix) = deliveries("t-27-swap", Agent::Postfix, "spool") else {
        return;
    };
    assert_eq!(swapped, postfix);
}

/// `sendmail -bv`: every step reports what it would do; nothing is delivered.
fn verify(agent: Agent) -> Option<(Vec<String>, Vec<String>)> {
    let mut mx = instance("t-27-bv", agent, "spool")?;
    mx.start();
    for to in ["nobody", "team", "cmd", "listed", "postfix", "nosuchuser"] {
        let out = mx.sendmail(&["-bv", "-f", USER, to], "");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Six probes and six reports.
    wait_count(&mx, ": removed", 12, 60);
    assert!(!mx.dir.join("spool/nobody").exists(), "-bv delivered");
    assert!(!mx.dir.join("out/cmd.txt").exists(), "-bv ran the command");
    let reports: Vec<String> = mx
        .mailbox()
        .iter()
        .filter(|m| m.contains("Mail Delivery Status Report"))
        .flat_map(|m| {
            m.lines()
                .filter(|l| {
                    l.contains("delivers to")
                        || l.starts_with("Action:")
                        || l.contains("forwards to")
                })
                .map(|l| normalise(&mx, l))
                .collect::<Vec<_>>()
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    Some((lines_of(&mx, &["local"]), reports))
}

#[test]
fn sendmail_bv_reports_as_postfix_local() {
    let Some((ours, postfix)) = both(verify) else {
        return;
    };
    assert_eq!(ours, postfix);
    assert!(
        ours.0
            .iter()
            .any(|l| l.contains("status=deliverable (delivers to mailbox)")),
        "{:#?}",
        ours.0
    );
}

/// The mailbox command: it keeps the environment local gives it and the message.
const DELIVER_SH: &str = "#!/bin/sh
out=@DIR@/out/$USER-$EXTENSION
env | grep -E '^(HOME|LOGNAME|USER|SENDER|RECIPIENT|LOCAL|SHELL|DOMAIN|EXTENSION|ORIGINAL_RECIPIENT|ENVID|CLIENT_[A-Z]*|SASL_[A-Z]*)=' | sort > $out.env
cat > $out.mail
";

/// Files by name, with their normalised text.
type Files = Vec<(String, String)>;

/// The files under out/, normalised, by name.
fn out_files(mx: &Instance) -> Files {
    let mut files: Vec<(String, String)> = std::fs::read_dir(mx.dir.join("out"))
        .unwrap()
        .flatten()
        .map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, normalise(mx, &text))
        })
        .collect();
    files.sort();
    files
}

/// mailbox_command (with the environment it gets), luser_relay, an owner- alias (the
/// list's sender), an alias to a /file/name, a command in an :include: file (not
/// allowed by default), mailbox_transport_maps (handed to the discard agent), and DSN
/// NOTIFY=SUCCESS through an alias; the lines of local and discard, the files, and the
/// notices the sender got.
fn policies(agent: Agent) -> Option<(Vec<String>, Files, Vec<String>)> {
    let mut mx = instance("t-27-policies", agent, "spool")?;
    mx.write("etc/deliver.sh", &mx.expand(DELIVER_SH));
    set_mode(&mx.etc().join("deliver.sh"), 0o755);
    mx.set_main_cf("mailbox_command", "@DIR@/etc/deliver.sh");
    mx.set_main_cf("luser_relay", "nobody+$user");
    mx.set_main_cf("mailbox_transport_maps", "inline:{postfix=discard:}");
    aliases(
        &mx,
        "list: nobody+list, @DIR@/out/list.file\n\
         owner-list: postfix\n\
         restricted: :include:@DIR@/etc/cmd.list\n",
    );
    mx.write("etc/cmd.list", "|/bin/true\n");
    // postfix's mail goes to mailbox_transport_maps, not to its .forward.
    std::fs::remove_file(mx.dir.join("forward/postfix.forward")).unwrap();
    mx.start();
    sendmail(&mx, &[], "nobody+ext", "t27-command");
    sendmail(&mx, &[], "stranger", "t27-luser");
    sendmail(&mx, &[], "list", "t27-list");
    sendmail(&mx, &[], "restricted", "t27-restricted");
    sendmail(&mx, &[], "postfix", "t27-transport");
    sendmail(&mx, &["-N", "success,failure"], "nobody", "t27-notify");
    // 6 messages, the restricted command's bounce and the success notice.
    settle(&mx, 8);
    let notices: Vec<String> = mx
        .mailbox()
        .iter()
        .map(|m| notice_fields(m))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    Some((
        lines_of(&mx, &["local", "discard"]),
        out_files(&mx),
        notices,
    ))
}

#[test]
fn mailbox_command_luser_relay_owner_and_transports_equal_postfix_local() {
    let Some((ours, postfix)) = both(policies) else {
        return;
    };
    assert_eq!(ours.0, postfix.0, "log lines differ");
    assert_eq!(ours.1, postfix.1, "the files differ");
    assert_eq!(ours.2, postfix.2, "the notices differ");
    assert!(
        ours.1.iter().any(|(name, _)| name == "nobody-ext.env"),
        "{:#?}",
        ours.1
    );
    for wanted in [
        "passing <postfix@mail.e2e.test> to transport=discard",
        "(mail to command is restricted)",
        "status=sent (delivered to file: DIR/out/list.file)",
    ] {
        assert!(
            ours.0.iter().any(|l| l.contains(wanted)),
            "no {wanted:?} in {:#?}",
            ours.0
        );
    }
}

/// Failures: an executable file, a command past command_time_limit, a mailbox the
/// recipient does not own (deferred), a failing command in a list with an owner- alias
/// (the notice goes to the owner), and `sendmail -v` (a delivery report); local's lines,
/// the notices (to the sender and to the owner) and the deferred queue.
/// What the failures scenario shows: local's lines, the sender's notices, the owner's
/// notices, and how many messages wait in deferred/.
#[derive(Debug, PartialEq, Eq)]
struct Failures {
    lines: Vec<String>,
    sender: Vec<String>,
    owner: Vec<String>,
    deferred: usize,
}

fn failures(agent: Agent) -> Option<Failures> {
    let mut mx = instance("t-27-failures", agent, "spool")?;
    mx.set_main_cf("command_time_limit", "2s");
    aliases(
        &mx,
        "exe: @DIR@/out/exe.file\n\
         slow: \"|/bin/sleep 30\"\n\
         ml: \"|/bin/sh -c 'exit 1'\"\n\
         owner-ml: nobody\n",
    );
    // An executable file that default_privs (nobody) may write.
    mx.write("out/exe.file", "");
    set_mode(&mx.dir.join("out/exe.file"), 0o777);
    // postfix's mailbox belongs to nobody, though postfix may write it.
    mx.write("spool/postfix", "");
    set_mode(&mx.dir.join("spool/postfix"), 0o666);
    let chown = std::process::Command::new("chown")
        .arg("nobody")
        .arg(mx.dir.join("spool/postfix"))
        .arg(mx.dir.join("out/exe.file"))
        .status()
        .unwrap();
    assert!(chown.success());
    std::fs::remove_file(mx.dir.join("forward/postfix.forward")).unwrap();
    mx.start();
    sendmail(&mx, &[], "exe", "t27-exe");
    sendmail(&mx, &[], "slow", "t27-slow");
    sendmail(&mx, &[], "ml", "t27-owner");
    sendmail(&mx, &[], "postfix", "t27-notowner");
    sendmail(&mx, &["-v"], "nobody", "t27-record");
    // 4 delivered or bounced, 3 notices, 1 report; postfix's mail waits.
    wait_count(&mx, ": removed", 8, 90);
    harness::wait_queue(&mx, "deferred", 1);
    let mut sender: Vec<String> = mx.mailbox().iter().map(|m| notice_fields(m)).collect();
    sender.sort();
    let mut owner: Vec<String> = delivered(&mx, "spool", "nobody")
        .iter()
        .filter(|m| m.contains("Undelivered Mail"))
        .map(|m| notice_fields(m))
        .collect();
    owner.sort();
    let deferred = queue_files(&mx, "deferred").len();
    Some(Failures {
        lines: lines_of(&mx, &["local"]),
        sender,
        owner,
        deferred,
    })
}

#[test]
fn failures_equal_postfix_local() {
    let Some((ours, postfix)) = both(failures) else {
        return;
    };
    assert_eq!(ours.lines, postfix.lines, "log lines differ");
    assert_eq!(ours.sender, postfix.sender, "the sender's notices differ");
    assert_eq!(ours.owner, postfix.owner, "the owner's notices differ");
    assert_eq!((ours.deferred, postfix.deferred), (1, 1));
    for wanted in [
        "file is executable)",
        "Command time limit exceeded",
        "is not owned by recipient",
    ] {
        assert!(
            ours.lines.iter().any(|l| l.contains(wanted)),
            "no {wanted:?} in {:#?}",
            ours.lines
        );
    }
    assert_eq!(
        ours.owner.len(),
        1,
        "no notice to the owner: {:#?}",
        ours.owner
    );
}

/// mailbox_size_limit: a delivery that would make the mailbox too large fails with
/// "File too large" (5.2.2, mailbox full), and the mailbox is cut back to its old size;
/// local's lines, the bounce, and the mailbox size.
fn mailbox_full(agent: Agent) -> Option<(Vec<String>, Vec<String>, u64)> {
    let mut mx = instance("t-27-full", agent, "spool")?;
    mx.set_main_cf("message_size_limit", "4000");
    mx.set_main_cf("mailbox_size_limit", "4000");
    mx.write("spool/nobody", &"x".repeat(3899).replace("x\n", "\n\n"));
    let chown = std::process::Command::new("chown")
        .arg("nobody")
        .arg(mx.dir.join("spool/nobody"))
        .status()
        .unwrap();
    assert!(chown.success());
    mx.start();
    sendmail(&mx, &[], "nobody", "t27-full");
    settle(&mx, 2);
    let bounces: Vec<String> = mx.mailbox().iter().map(|m| notice_fields(m)).collect();
    let size = std::fs::metadata(mx.dir.join("spool/nobody"))
        .unwrap()
        .len();
    Some((lines_of(&mx, &["local"]), bounces, size))
}

#[test]
fn a_full_mailbox_bounces_as_with_postfix_local() {
    let Some((ours, postfix)) = both(mailbox_full) else {
        return;
    };
    assert_eq!(ours, postfix);
    assert_eq!(ours.2, 3899, "the mailbox was not cut back");
    assert!(
        ours.0.iter().any(|l| l.contains("dsn=5.2.2")),
        "{:#?}",
        ours.0
    );
}

/// fallback_transport: a recipient that is neither an alias nor a user is handed to
/// another transport (discard here), which logs the delivery; local's and discard's
/// lines.
fn fallback(agent: Agent) -> Option<Vec<String>> {
    let mut mx = instance("t-27-fallback", agent, "spool")?;
    mx.set_main_cf("fallback_transport", "discard:fallback.e2e.test");
    mx.start();
    sendmail(&mx, &[], "stranger+ext", "t27-fallback");
    sendmail(&mx, &[], "nobody", "t27-known");
    settle(&mx, 2);
    Some(lines_of(&mx, &["local", "discard"]))
}

#[test]
fn fallback_transport_equals_postfix_local() {
    let Some((ours, postfix)) = both(fallback) else {
        return;
    };
    assert_eq!(ours, postfix);
    assert!(
        ours.iter()
            .any(|l| l.contains("passing <stranger+ext@mail.e2e.test> to transport=discard")),
        "{ours:#?}"
    );
}

/// local_delivery_status_filter: an unknown user is deferred instead of bounced (5.1.1
/// becomes 4.1.1) and a mailbox delivery is logged with other words; local's and qmgr's
/// lines and the deferred files.
fn status_filter(agent: Agent) -> Option<(Vec<String>, usize)> {
    let mut mx = instance("t-27-filter", agent, "spool")?;
    mx.write(
        "etc/dsn_filter",
        "/^5\\.1\\.1 unknown user: (.*)/ 4.1.1 no such user yet: $1\n\
         /^2\\.0\\.0 delivered to mailbox$/ 2.0.0 stored in the mailbox\n",
    );
    mx.set_main_cf(
        "local_delivery_status_filter",
        "regexp:@DIR@/etc/dsn_filter",
    );
    mx.start();
    sendmail(&mx, &[], "nobody", "t27-filter-mailbox");
    sendmail(&mx, &[], "stranger", "t27-filter-unknown");
    wait_count(&mx, ": removed", 1, 60);
    harness::wait_queue(&mx, "deferred", 1);
    Some((
        lines_of(&mx, &["local", "qmgr"]),
        queue_files(&mx, "deferred").len(),
    ))
}

#[test]
fn the_delivery_status_filter_rewrites_as_with_postfix_local() {
    let Some((ours, postfix)) = both(status_filter) else {
        return;
    };
    for needle in [
        "to=<nobody@mail.e2e.test>, orig_to=<nobody>, relay=local, delay=N, delays=N, \
         dsn=2.0.0, status=sent (stored in the mailbox)",
        "to=<stranger@mail.e2e.test>, orig_to=<stranger>, relay=local, delay=N, delays=N, \
         dsn=4.1.1, status=deferred (no such user yet: \"stranger\")",
    ] {
        harness::assert_line(&ours.0, needle);
    }
    assert_eq!(ours.1, 1, "the unknown user's message is not deferred");
    assert_eq!(ours, postfix);
}
