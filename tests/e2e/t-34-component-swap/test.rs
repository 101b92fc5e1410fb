//! Component swap, both ways: ironpost's smtpd and cleanup run under Postfix 3.7's own
//! master (started by Postfix's postfix command, with Postfix's qmgr, postlogd and
//! delivery agents around them), and Postfix's smtpd hands mail to ironpost's cleanup
//! under ironpost's master. In each, a message sent over SMTP reaches the mailbox, the
//! processes are the ones meant, and the log lines of smtpd, cleanup, qmgr and the
//! delivery agent are those of an all-Postfix system for the same message (pids, queue
//! ids, times and delays aside). The interfaces crossed are master's (master.cf, the
//! status pipe, the listen sockets: Postfix's master_proto.h) and the cleanup protocol
//! (Postfix's cleanup_user.h and smtpd/smtpd.c's use of it).

use e2e::{IRONPOST_DAEMONS, Instance};
use std::path::{Path, PathBuf};

/// Where Debian's Postfix keeps its daemons.
const POSTFIX_DAEMONS: &str = "/usr/lib/postfix/sbin";

/// Who starts the system.
#[derive(Clone, Copy, PartialEq)]
enum Master {
    Postfix,
    Ironpost,
}

/// Starts `mx` under `master` and sends it one message to the virtual mailbox user.
fn run(mx: &mut Instance, master: Master, marker: &str) {
    match master {
        Master::Postfix => mx.start_postfix(),
        Master::Ironpost => mx.start(),
    }
    mx.send_local(marker);
    // qmgr's "removed" is the message's last line.
    mx.wait_log(": removed", 20);
    // smtpd's disconnect line comes after QUIT, which smtplib sends after the 250.
    mx.wait_log("disconnect from", 10);
    let mailbox = mx.mailbox();
    assert_eq!(mailbox.len(), 1, "{mailbox:?}");
    assert!(mailbox[0].contains(&format!("Subject: {marker}")));
}

/// The program a running daemon of `mx` executes.
fn exe(mx: &Instance, name: &str) -> PathBuf {
    let pids = if name == "master" {
        mx.master_pid().into_iter().collect()
    } else {
        mx.daemons(name)
    };
    let pid = pids
        .first()
        .unwrap_or_else(|| panic!("no {name} running:\n{}", mx.log()));
    std::fs::read_link(format!("/proc/{pid}/exe")).unwrap()
}

/// The log lines of the programs a message passes through, with what differs from run
/// to run replaced: the time and host prefix, pids, queue ids and every number.
fn message_lines(mx: &Instance) -> Vec<String> {
    let mut lines: Vec<String> = mx
        .log()
        .lines()
        .filter_map(|l| l.split_once(" postfix/"))
        .map(|(_, rest)| rest)
        .filter(|l| {
            ["smtpd[", "cleanup[", "qmgr[", "virtual["]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(|l| {
            let masked = e2e::smtpd_log::normalize(l);
            let mut out = String::new();
            let mut digits = false;
            for c in masked.chars() {
                if c.is_ascii_digit() {
                    if !digits {
                        out.push('N');
                    }
                    digits = true;
                } else {
                    digits = false;
                    out.push(c);
                }
            }
            // delays=a/b/c/d has '.'-separated numbers of any shape; one token suffices.
            out.replace("N.N", "N")
        })
        .collect();
    // Different processes write concurrently: compare as a set, in one order.
    lines.sort();
    lines
}

/// Nothing alarming in the log. (Postfix's postfix-script warns that the e2e daemon
/// directory's symlinks to Debian's daemons leave the directory: that is the test set-up.)
fn no_trouble(mx: &Instance) {
    let log = mx.log();
    let trouble: Vec<&str> = log
        .lines()
        .filter(|l| !l.contains(" postfix/postfix-script["))
        .filter(|l| {
            [" warning: ", " error: ", " fatal: ", " panic: "]
                .iter()
                .any(|w| l.contains(w))
        })
        .collect();
    assert!(trouble.is_empty(), "{trouble:#?}");
}

/// Nothing alarming in `mx`'s log, and its message's lines are `reference`'s.
fn like_postfix(mx: &Instance, reference: &[String]) {
    no_trouble(mx);
    let ours = message_lines(mx);
    if ours != reference {
        mx.keep_for_inspection();
    }
    assert_eq!(
        ours, reference,
        "log lines differ from an all-Postfix system's"
    );
}

/// An all-Postfix system's lines for the same message: the reference. (Each test makes
/// its own, named `name`: the tests of one binary run in parallel, in one process.)
fn postfix_reference(name: &str) -> Option<Vec<String>> {
    let mut mx = Instance::with_daemons(name, &[])?;
    run(&mut mx, Master::Postfix, "t34");
    let lines = message_lines(&mx);
    // connect, client=, message-id=, disconnect, from=, to=, removed.
    assert_eq!(lines.len(), 7, "{lines:#?}");
    Some(lines)
}

#[test]
fn ironpost_smtpd_and_cleanup_under_postfix_master() {
    let Some(reference) = postfix_reference("t-34-postfix-a") else {
        return;
    };
    let Some(mut mx) = Instance::with_daemons("t-34-ours-under-theirs", &["smtpd", "cleanup"])
    else {
        return;
    };
    run(&mut mx, Master::Postfix, "t34");
    assert_eq!(
        exe(&mx, "master"),
        Path::new(POSTFIX_DAEMONS).join("master")
    );
    assert_eq!(exe(&mx, "qmgr"), Path::new(POSTFIX_DAEMONS).join("qmgr"));
    assert_eq!(exe(&mx, "smtpd"), mx.dir.join("libexec/smtpd"));
    assert_eq!(exe(&mx, "cleanup"), mx.dir.join("libexec/cleanup"));
    like_postfix(&mx, &reference);
}

#[test]
fn postfix_smtpd_with_ironpost_cleanup_under_ironpost_master() {
    let Some(reference) = postfix_reference("t-34-postfix-b") else {
        return;
    };
    let daemons: Vec<&str> = IRONPOST_DAEMONS
        .iter()
        .copied()
        .filter(|d| *d != "smtpd")
        .collect();
    let Some(mut mx) = Instance::with_daemons("t-34-theirs-under-ours", &daemons) else {
        return;
    };
    run(&mut mx, Master::Ironpost, "t34");
    assert_eq!(exe(&mx, "master"), mx.dir.join("libexec/master"));
    assert_eq!(exe(&mx, "smtpd"), Path::new(POSTFIX_DAEMONS).join("smtpd"));
    assert_eq!(exe(&mx, "cleanup"), mx.dir.join("libexec/cleanup"));
    like_postfix(&mx, &reference);
}
