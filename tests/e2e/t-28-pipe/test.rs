//! pipe: the same mail through ironpost's pipe delivery agent and Postfix's, in the
//! same harness (ironpost's master, qmgr, cleanup...; only the pipe agent differs).
//! A master.cf service runs a shell script as nobody with `flags=DORX.>` and argv
//! macros (`${sender}`, `${recipient}`, `${user}`, `${extension}`, `${domain}`,
//! `${nexthop}`, `${queue_id}`, `${size}`); the script keeps its arguments and input,
//! exits 75 (EX_TEMPFAIL) while a flag file exists and 67 (EX_NOUSER) for one user.
//! The temporary failure defers (deferred/, status=deferred) and delivers after the
//! flag goes and the queue is flushed; EX_NOUSER bounces with the command output in
//! the DSN; an oversized message bounces with size=; filter_time_limit kills a command
//! that sleeps; a second service (`flags=Rq`, `eol=\r\n`, `null_sender=`) gets two
//! recipients in one run; `sendmail -bv` reports "delivers to command";
//! pipe_delivery_status_filter turns EX_NOUSER's bounce into a deferral and rewords a
//! delivery; `chroot=` and `directory=` run the command in a jail made of /bin/sh and
//! /bin/cat (a missing jail defers, the child's fatal record logged). Compared after
//! queue IDs, dates and delays are normalised: pipe's log lines, what the command
//! received (arguments and input, with the headers pipe adds), the bounces' DSN fields,
//! and the queue.

#[allow(dead_code)]
#[path = "../t-23-qmgr/harness.rs"]
mod harness;

#[path = "../t-27-local/agent.rs"]
mod agent;

use agent::{Agent, both, normalise, notice_fields, set_mode, settle};
use e2e::Instance;
use harness::{USER, lines_of, wait_count, wait_queue};

/// Adds the pipe `services` (master.cf lines, @DIR@ expanded) to the instance's
/// master.cf.
fn add_services(mx: &Instance, services: &str) {
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write("etc/master.cf", &(master_cf + &mx.expand(services)));
}

/// The command: it records its arguments and input under out/, named after its first
/// argument (the recipient's user), and fails as the flag files say.
const SCRIPT: &str = "#!/bin/sh
out=@DIR@/out/$1
printf '%s\\n' \"$@\" > $out.args
cat > $out.input
if [ -e @DIR@/out/tempfail ]; then echo 'try again later'; exit 75; fi
if [ \"$1\" = nouser ]; then echo \"no user $1 here\"; exit 67; fi
if [ \"$1\" = sleepy ]; then echo asleep; sleep 30; fi
exit 0
";

fn instance(name: &str, agent: Agent) -> Option<Instance> {
    let mx = agent::instance(name, agent, "pipe")?;
    mx.write("etc/filter.sh", &mx.expand(SCRIPT));
    set_mode(&mx.etc().join("filter.sh"), 0o755);
    mx.write(
        "etc/transport",
        &mx.expand(
            "relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n\
             pipe.e2e.test filter:pipe-nexthop.e2e.test\n\
             multi.e2e.test multi:\n",
        ),
    );
    add_services(
        &mx,
        "filter unix - n n - - pipe\n  \
         flags=DORX.> user=nobody size=4000 argv=@DIR@/etc/filter.sh ${user} \
         ${extension} ${domain} ${nexthop} ${sender} ${recipient} ${queue_id} ${size}\n\
         multi unix - n n - - pipe\n  \
         flags=Rq eol=\\r\\n null_sender=nobody-sent-it user=nobody \
         argv=@DIR@/etc/filter.sh multi ${sender} ${original_recipient} ${recipient}\n",
    );
    mx.set_main_cf("recipient_delimiter", "+");
    mx.set_main_cf("filter_destination_recipient_limit", "1");
    mx.set_main_cf("filter_time_limit", "2s");
    mx.install_commands();
    Some(mx)
}

fn sendmail(mx: &Instance, to: &str, marker: &str, padding: usize) {
    let message = format!(
        "From: {USER}\nTo: {to}\nSubject: {marker}\n\nbody {marker}\n.dot\nFrom here\n{}",
        "x".repeat(padding)
    );
    let out = mx.sendmail(&["-f", USER, to], &message);
    assert!(
        out.status.success(),
        "sendmail: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the command received, file by file.
fn received(mx: &Instance) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(mx.dir.join("out"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name() != "tempfail")
        .map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            (
                e.file_name().to_string_lossy().into_owned(),
                normalise(mx, &text),
            )
        })
        .collect();
    files.sort();
    files
}

/// The DSN fields of the bounces the sender got.
fn bounces(mx: &Instance) -> Vec<String> {
    let mut out: Vec<String> = mx
        .mailbox()
        .iter()
        .filter(|m| m.contains("Undelivered Mail Returned to Sender"))
        .map(|m| notice_fields(m))
        .collect();
    out.sort();
    out
}

/// What one run produced.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    deferred_lines: Vec<String>,
    final_lines: Vec<String>,
    received: Vec<(String, String)>,
    bounces: Vec<String>,
}

fn deliveries(name: &str, agent: Agent) -> Option<Outcome> {
    let mut mx = instance(name, agent)?;
    mx.start();
    // First the command fails temporarily: the message waits in deferred/.
    mx.write("out/tempfail", "");
    sendmail(&mx, "later+box@pipe.e2e.test", "t28-later", 0);
    wait_queue(&mx, "deferred", 1);
    let deferred_lines = lines_of(&mx, &["pipe"]);
    std::fs::remove_file(mx.dir.join("out/tempfail")).unwrap();
    mx.postfix(&["flush"]);
    wait_count(&mx, ": removed", 1, 60);
    sendmail(&mx, "Joe+Ext@pipe.e2e.test", "t28-plain", 0);
    sendmail(&mx, "nouser@pipe.e2e.test", "t28-nouser", 0);
    sendmail(&mx, "big@pipe.e2e.test", "t28-big", 5000);
    sendmail(&mx, "sleepy@pipe.e2e.test", "t28-sleepy", 0);
    // Two recipients, one run of the multi service; a null sender.
    let message = "Subject: t28-multi\n\nbody t28-multi\n";
    let out = mx.sendmail(
        &["-f", "", "\"a b\"@multi.e2e.test", "c@multi.e2e.test"],
        message,
    );
    assert!(out.status.success());
    // 6 messages and 3 bounces.
    settle(&mx, 9);
    let outcome = Outcome {
        deferred_lines,
        final_lines: lines_of(&mx, &["pipe"]),
        received: received(&mx),
        bounces: bounces(&mx),
    };
    // eol=\r\n, which the normalised text (split into lines) does not show.
    let multi = std::fs::read(mx.dir.join("out/multi.input")).unwrap_or_default();
    let crlf = multi.windows(2).any(|w| w == b"\r\n");
    let args = std::fs::read_to_string(mx.dir.join("out/multi.args")).unwrap_or_default();
    let quoted = args.contains("\"a b\"@multi.e2e.test\n") && args.contains("nobody-sent-it");
    if !crlf
        || !quoted
        || outcome.bounces.len() != 3
        || !outcome.received.iter().any(|(n, _)| n == "Joe.input")
    {
        mx.keep_for_inspection();
        panic!("{outcome:#?}\n{}", mx.log());
    }
    Some(outcome)
}

#[test]
fn pipe_deliveries_equal_postfix_pipe() {
    let Some(ours) = deliveries("t-28-pipe", Agent::Ours) else {
        return;
    };
    let Some(postfix) = deliveries("t-28-pipe", Agent::Postfix) else {
        return;
    };
    assert_eq!(
        ours.deferred_lines, postfix.deferred_lines,
        "the deferral differs"
    );
    assert_eq!(
        ours.final_lines, postfix.final_lines,
        "pipe's log lines differ"
    );
    assert_eq!(
        ours.received, postfix.received,
        "what the command got differs"
    );
    assert_eq!(ours.bounces, postfix.bounces, "the bounces differ");
    // What the flags and macros gave, as Postfix's pipe gave it too.
    let file = |name: &str| {
        ours.received
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, text)| text.clone())
            .unwrap_or_default()
    };
    let input = file("Joe.input");
    for wanted in [
        "Return-Path: <user@vmail.e2e.test>",
        "X-Original-To: Joe+Ext@pipe.e2e.test",
        "Delivered-To: Joe+Ext@pipe.e2e.test",
        "..dot",
        ">From here",
    ] {
        assert!(input.contains(wanted), "no {wanted:?} in {input}");
    }
    let args = file("Joe.args");
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(
        args[..7],
        [
            "Joe",
            "Ext",
            "pipe.e2e.test",
            "pipe-nexthop.e2e.test",
            "user@vmail.e2e.test",
            "Joe+Ext@pipe.e2e.test",
            "QUEUEID"
        ]
    );
    assert!(args[7].parse::<u32>().is_ok(), "size {:?}", args[7]);
}

/// The component swap: Postfix's queue manager sends the requests to ironpost's pipe.
#[test]
fn under_postfix_qmgr_pipe_deliveries_equal_postfix_pipe() {
    let Some(swapped) = deliveries("t-28-swap", Agent::OursUnderPostfixQmgr) else {
        return;
    };
    let Some(postfix) = deliveries("t-28-swap", Agent::Postfix) else {
        return;
    };
    assert_eq!(swapped, postfix);
}

/// `sendmail -bv`: "delivers to command", nothing runs.
fn verify(agent: Agent) -> Option<Vec<String>> {
    let mut mx = instance("t-28-bv", agent)?;
    mx.start();
    let out = mx.sendmail(&["-bv", "-f", USER, "joe@pipe.e2e.test"], "");
    assert!(out.status.success());
    wait_count(&mx, ": removed", 2, 60);
    assert!(received(&mx).is_empty(), "-bv ran the command");
    Some(lines_of(&mx, &["pipe"]))
}

#[test]
fn sendmail_bv_reports_as_postfix_pipe() {
    let Some((ours, postfix)) = both(verify) else {
        return;
    };
    assert_eq!(ours, postfix);
    assert!(
        ours.iter()
            .any(|l| l.contains("status=deliverable (delivers to command: DIR/etc/filter.sh)")),
        "{ours:#?}"
    );
}

/// A conditional macro (`${nexthop?x}`) is not a name pipe knows: a configuration
/// error, logged, and the mail waits (4.3.5).
fn conditional(agent: Agent) -> Option<Vec<String>> {
    let mut mx = instance("t-28-cond", agent)?;
    mx.write("etc/transport", "cond.e2e.test cond:\n");
    add_services(
        &mx,
        "cond unix - n n - - pipe\n  user=nobody argv=/bin/true ${nexthop?x}\n",
    );
    mx.start();
    sendmail(&mx, "x@cond.e2e.test", "t28-cond", 0);
    wait_queue(&mx, "deferred", 1);
    Some(lines_of(&mx, &["pipe"]))
}

#[test]
fn conditional_macros_are_refused_as_by_postfix_pipe() {
    let Some((ours, postfix)) = both(conditional) else {
        return;
    };
    assert_eq!(ours, postfix);
    assert!(
        ours.iter()
            .any(|l| l.contains("unknown macro name: \"nexthop?x\"")),
        "{ours:#?}"
    );
}

/// pipe_delivery_status_filter: EX_NOUSER (5.1.1) is deferred instead (4.1.1), and a
/// delivery is logged with other words; pipe's and qmgr's lines, the deferred files.
fn status_filter(agent: Agent) -> Option<(Vec<String>, usize)> {
    let mut mx = instance("t-28-filter", agent)?;
    mx.write(
        "etc/dsn_filter",
        "/^5\\.1\\.1 (.*)/ 4.1.1 not yet: $1\n\
         /^2\\.0\\.0 delivered via (.*)/ 2.0.0 handed to $1\n",
    );
    mx.set_main_cf("pipe_delivery_status_filter", "regexp:@DIR@/etc/dsn_filter");
    mx.start();
    sendmail(&mx, "joe@pipe.e2e.test", "t28-filter-plain", 0);
    sendmail(&mx, "nouser@pipe.e2e.test", "t28-filter-nouser", 0);
    wait_count(&mx, ": removed", 1, 60);
    wait_queue(&mx, "deferred", 1);
    Some((
        lines_of(&mx, &["pipe", "qmgr"]),
        harness::queue_files(&mx, "deferred").len(),
    ))
}

#[test]
fn the_delivery_status_filter_rewrites_as_with_postfix_pipe() {
    let Some((ours, postfix)) = both(status_filter) else {
        return;
    };
    for needle in [
        "to=<joe@pipe.e2e.test>, relay=filter, delay=N, delays=N, dsn=2.0.0, \
         status=sent (handed to filter service)",
        "to=<nouser@pipe.e2e.test>, relay=filter, delay=N, delays=N, dsn=4.1.1, \
         status=deferred (not yet: user unknown. Command output: no user nouser here )",
    ] {
        harness::assert_line(&ours.0, needle);
    }
    assert_eq!(ours.1, 1, "the EX_NOUSER message is not deferred");
    assert_eq!(ours, postfix);
}

/// Makes `root` a jail in which /bin/sh and /bin/cat run: the two programs and the
/// libraries ldd names, at their own paths, and a `work` directory anyone may write.
fn prepare_jail(root: &std::path::Path) {
    let mut files = vec!["/bin/sh".to_string(), "/bin/cat".to_string()];
    for program in ["/bin/sh", "/bin/cat"] {
        let out = std::process::Command::new("ldd")
            .arg(program)
            .output()
            .unwrap();
        for word in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            if word.starts_with('/') {
                files.push(word.to_string());
            }
        }
    }
    for file in files {
        // The real file (a link like /bin/sh -> dash is copied as what it names).
        let inside = root.join(file.trim_start_matches('/'));
        std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
        std::fs::copy(&file, &inside).unwrap();
    }
    std::fs::create_dir_all(root.join("work")).unwrap();
    set_mode(&root.join("work"), 0o1777);
}

/// Files the command wrote: name and normalised text.
type Written = Vec<(String, String)>;

/// chroot= and directory=: the command runs in a jail made of /bin/sh and /bin/cat (it
/// sees only the jail), as nobody, in the jail's /work; a service whose jail does not
/// exist defers, and so do one whose directory= is not in its jail and one whose
/// command is not there. pipe's lines, what the command saw and wrote.
fn jailed(agent: Agent) -> Option<(Vec<String>, Written)> {
    let mut mx = instance("t-28-chroot", agent)?;
    let jail = mx.dir.join("jail");
    prepare_jail(&jail);
    mx.write(
        "jail/script",
        "read first\n\
         echo \"$first\" > $1.first\n\
         cat > $1.input\n\
         echo /* > $1.root\n\
         echo $PWD > $1.pwd\n",
    );
    mx.write(
        "etc/transport",
        "jail.e2e.test jailed:\nnojail.e2e.test nojail:\nnodir.e2e.test nodir:\nnoexec.e2e.test noexec:\n",
    );
    add_services(
        &mx,
        "jailed unix - n n - - pipe\n  \
         flags=R user=nobody chroot=@DIR@/jail directory=/work \
         argv=/bin/sh /script ${user}\n\
         nojail unix - n n - - pipe\n  \
         user=nobody chroot=@DIR@/no-such-jail argv=/bin/sh /script ${user}\n\
         nodir unix - n n - - pipe\n  \
         user=nobody chroot=@DIR@/jail directory=/nowhere argv=/bin/sh /script ${user}\n\
         noexec unix - n n - - pipe\n  \
         user=nobody chroot=@DIR@/jail argv=/bin/nothing ${user}\n",
    );
    mx.start();
    sendmail(&mx, "joe@jail.e2e.test", "t28-jailed", 0);
    sendmail(&mx, "ann@nojail.e2e.test", "t28-nojail", 0);
    sendmail(&mx, "bob@nodir.e2e.test", "t28-nodir", 0);
    sendmail(&mx, "cy@noexec.e2e.test", "t28-noexec", 0);
    wait_count(&mx, ": removed", 1, 60);
    wait_queue(&mx, "deferred", 3);
    let mut files: Vec<(String, String)> = std::fs::read_dir(jail.join("work"))
        .unwrap()
        .flatten()
        .map(|e| {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            (
                e.file_name().to_string_lossy().into_owned(),
                normalise(&mx, &text),
            )
        })
        .collect();
    files.sort();
    Some((lines_of(&mx, &["pipe"]), files))
}

#[test]
fn chroot_and_directory_run_the_command_in_its_jail_as_postfix_pipe() {
    let Some((ours, postfix)) = both(jailed) else {
        return;
    };
    let file = |name: &str| {
        ours.1
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, text)| text.clone())
            .unwrap_or_default()
    };
    assert_eq!(file("joe.pwd"), "/work\n", "{ours:#?}");
    assert_eq!(
        file("joe.root"),
        "/bin /lib /lib64 /script /work\n",
        "{ours:#?}"
    );
    assert_eq!(file("joe.first"), "Return-Path: <user@vmail.e2e.test>\n");
    assert!(file("joe.input").contains("body t28-jailed"), "{ours:#?}");
    harness::assert_line(
        &ours.0,
        "pipe: fatal: chroot(DIR/no-such-jail): No such file or directory",
    );
    harness::assert_line(&ours.0, "dsn=4.3.0, status=deferred (temporary failure)");
    harness::assert_line(
        &ours.0,
        "status=deferred (temporary failure. Command output: pipe: fatal: pipe_command: \
         execvp /bin/nothing: No such file or directory )",
    );
    assert_eq!(ours, postfix);
}
