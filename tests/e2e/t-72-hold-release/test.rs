//! Hold and release in a running system, bounce_queue_lifetime and always_bcc: each
//! scenario runs on ironpost's whole system (its master, daemons, postsuper) and on
//! Postfix 3.7's (its own master, daemons and postsuper), and the normalised log lines
//! of the daemons that handle the mail and what was delivered must be the same.
//!
//! 1. A header_checks HOLD action puts a message in hold/; the queue manager leaves it
//!    there across a deferred-queue scan (`postfix flush`); `postsuper -H ID` moves it to
//!    deferred/ and the next scan delivers it (Postfix: cleanup/cleanup_message.c's HOLD,
//!    postsuper/postsuper.c's -H, qmgr/qmgr_scan.c).
//!    `postsuper -h` on a deferred message likewise keeps it from a scan after the
//!    relay is back, until `postsuper -H`.
//! 2. bounce_queue_lifetime = 0 with a large maximal_queue_lifetime: a null-sender
//!    message that the relay defers expires at its first deferral (Postfix:
//!    qmgr/qmgr_active.c picks var_dsn_queue_time for a null sender); a message with a
//!    sender stays deferred.
//! 3. always_bcc: cleanup adds the copy's recipient (an alias, so its delivery logs
//!    orig_to); both copies are delivered.

#[path = "../t-23-qmgr/harness.rs"]
#[allow(dead_code)]
mod harness;

use e2e::{Instance, System, wait_until};
use harness::{FAR, USER, lines_of, queue_files, queue_ids, wait_count, wait_queue};
use std::process::Output;

/// The processes whose log lines are compared: everything a message passes through.
const PROCESSES: [&str; 8] = [
    "pickup",
    "cleanup",
    "qmgr",
    "postsuper",
    "virtual",
    "smtp",
    "bounce",
    "error",
];

/// An instance of `system`'s daemons with the relay and a second virtual mailbox
/// (the always_bcc copy's); its name is as long on both sides, since bounce notices
/// wrap the instance's directory name.
fn instance(name: &str, system: System) -> Option<Instance> {
    let mx = match system {
        System::Ironpost => Instance::new(&format!("{name}-ours"))?,
        System::Postfix => Instance::with_daemons(&format!("{name}-pfix"), &[])?,
    };
    mx.write(
        "etc/vmailbox",
        "user@vmail.e2e.test vmail.e2e.test/user/\n\
         bcc@vmail.e2e.test vmail.e2e.test/bcc/\n",
    );
    // ironpost's postsuper in @DIR@/sbin on its side; Postfix's keeps /usr/sbin.
    if system == System::Ironpost {
        mx.install_commands();
    }
    Some(mx)
}

fn start(mx: &mut Instance, system: System) {
    match system {
        System::Ironpost => mx.start(),
        System::Postfix => mx.start_postfix(),
    }
}

/// `postsuper ARGS` of `system` on the instance (named by MAIL_CONFIG), which must
/// succeed.
fn postsuper(mx: &Instance, system: System, args: &[&str]) -> Output {
    let program = match system {
        System::Ironpost => mx.dir.join("sbin/postsuper"),
        System::Postfix => "/usr/sbin/postsuper".into(),
    };
    let out = mx.run_with_input(program, args, b"");
    assert!(
        out.status.success(),
        "{system:?} postsuper {args:?}: {}\nlog:\n{}",
        String::from_utf8_lossy(&out.stderr),
        mx.log()
    );
    out
}

/// Submits a message with a fixed Message-Id (cleanup's own would hold the time).
fn submit(mx: &Instance, args: &[&str], marker: &str) {
    let message = format!(
        "From: {USER}\nTo: {USER}\nSubject: {marker}\nMessage-Id: <{marker}@e2e.test>\n\n\
         body {marker}\n"
    );
    let out = mx.sendmail(args, &message);
    assert!(
        out.status.success(),
        "sendmail: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The messages in the virtual mailbox `user`'s new/, normalised, sorted.
fn delivered(mx: &Instance, user: &str) -> Vec<String> {
    let ids = queue_ids(&mx.log());
    let new = mx.dir.join("vmail/vmail.e2e.test").join(user).join("new");
    let mut out: Vec<String> = std::fs::read_dir(new)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|text| e2e::delivered::normalise(mx, &ids, &text))
        .collect();
    out.sort();
    out
}

/// What a scenario shows: the normalised log lines at each step and the messages
/// delivered in the end.
#[derive(Debug, PartialEq)]
struct Run {
    steps: Vec<Vec<String>>,
    delivered: Vec<String>,
}

/// Runs `scenario` on ironpost's system, then on Postfix's, and asserts that both show
/// the same. When the mixed system cannot run here, Instance's constructor has marked
/// the test skipped and nothing is compared.
fn compare(scenario: impl Fn(System) -> Option<Run>) {
    let Some(ours) = scenario(System::Ironpost) else {
        return;
    };
    let Some(postfix) = scenario(System::Postfix) else {
        return;
    };
    assert_eq!(ours, postfix, "ironpost (left) and Postfix (right) differ");
}

/// Case 1: HOLD, a deferred scan that leaves the message alone, `postsuper -H`, delivery.
fn hold_and_release(system: System) -> Option<Run> {
    let mut mx = instance("t-72-hold", system)?;
    mx.write(
        "etc/header_checks",
        "/^Subject: t72-hold/ HOLD held by the test\n",
    );
    mx.set_main_cf("header_checks", "regexp:@DIR@/etc/header_checks");
    start(&mut mx, system);
    submit(&mx, &[USER], "t72-hold");
    wait_count(&mx, ": hold: header Subject: t72-hold", 1, 30);
    wait_queue(&mx, "hold", 1);
    let held = lines_of(&mx, &PROCESSES);
    // A deferred-queue scan: the held message stays where it is, nothing is delivered.
    mx.postfix_of(system, &["flush"]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(queue_files(&mx, "hold").len(), 1, "{system:?}: left hold/");
    assert!(delivered(&mx, "user").is_empty(), "{system:?}: delivered");
    let scanned = lines_of(&mx, &PROCESSES);
    let (id, _) = queue_files(&mx, "hold").into_iter().next().unwrap();
    postsuper(&mx, system, &["-H", &id]);
    wait_count(&mx, "released from hold", 1, 10);
    assert!(
        queue_files(&mx, "hold").is_empty(),
        "{system:?}: still held"
    );
    mx.postfix_of(system, &["flush"]);
    wait_count(&mx, ": removed", 1, 30);
    let delivered = delivered(&mx, "user");
    assert_eq!(delivered.len(), 1, "{system:?}: {delivered:?}");
    Some(Run {
        steps: vec![held, scanned, lines_of(&mx, &PROCESSES)],
        delivered,
    })
}

#[test]
fn a_held_message_stays_until_postsuper_releases_it_as_with_postfix() {
    compare(hold_and_release);
}

/// Case 1b: `postsuper -h` on a deferred message: a deferred-queue scan leaves it
/// alone though the relay is back; `postsuper -H` and a scan deliver it.
fn hold_deferred(system: System) -> Option<Run> {
    let mut mx = instance("t-72-hdef", system)?;
    start(&mut mx, system);
    submit(&mx, &[FAR], "t72-hdef");
    wait_count(&mx, "status=deferred", 1, 60);
    wait_queue(&mx, "deferred", 1);
    let (id, _) = queue_files(&mx, "deferred").into_iter().next().unwrap();
    postsuper(&mx, system, &["-h", &id]);
    wait_queue(&mx, "hold", 1);
    assert!(
        queue_files(&mx, "deferred").is_empty(),
        "{system:?}: deferred"
    );
    mx.start_sink();
    mx.postfix_of(system, &["flush"]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(queue_files(&mx, "hold").len(), 1, "{system:?}: left hold/");
    assert!(
        harness::sunk(&mx).is_empty(),
        "{system:?}: relayed while held"
    );
    let held = lines_of(&mx, &PROCESSES);
    postsuper(&mx, system, &["-H", &id]);
    mx.postfix_of(system, &["flush"]);
    wait_count(&mx, ": removed", 1, 30);
    let sunk = harness::sunk(&mx);
    assert!(
        sunk.iter().any(|m| m.contains("body t72-hdef")),
        "{system:?}: {sunk:?}"
    );
    Some(Run {
        steps: vec![held, lines_of(&mx, &PROCESSES)],
        delivered: Vec::new(),
    })
}

#[test]
fn a_deferred_message_put_on_hold_waits_for_its_release_as_with_postfix() {
    compare(hold_deferred);
}

/// Case 2: a null-sender message that the (absent) relay defers, with
/// bounce_queue_lifetime = 0: expired at its first deferral; a message with a sender,
/// deferred alike, stays in deferred/ (maximal_queue_lifetime is far).
fn null_sender_expiry(system: System) -> Option<Run> {
    let mut mx = instance("t-72-bql", system)?;
    mx.set_main_cf("bounce_queue_lifetime", "0");
    mx.set_main_cf("maximal_queue_lifetime", "5d");
    start(&mut mx, system);
    submit(&mx, &["-f", "<>", FAR], "t72-bql");
    wait_count(&mx, "status=expired", 1, 60);
    wait_count(&mx, ": removed", 1, 30);
    submit(&mx, &["-f", USER, FAR], "t72-bql-sender");
    wait_count(&mx, "status=deferred", 2, 60);
    wait_queue(&mx, "deferred", 1);
    if !wait_until(20, || {
        ["active", "incoming"]
            .iter()
            .all(|q| queue_files(&mx, q).is_empty())
    }) {
        mx.keep_for_inspection();
        panic!("{system:?}: queue not empty:\n{}", mx.log());
    }
    // Whatever notice there is has had its time to be logged.
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(mx.log().matches("status=expired").count(), 1);
    Some(Run {
        steps: vec![lines_of(&mx, &PROCESSES)],
        delivered: delivered(&mx, "user"),
    })
}

#[test]
fn a_null_sender_message_expires_after_bounce_queue_lifetime_as_with_postfix() {
    compare(null_sender_expiry);
}

/// Case 3: always_bcc adds a recipient (an alias of a mailbox); both copies are
/// delivered.
fn always_bcc(system: System) -> Option<Run> {
    let mut mx = instance("t-72-bcc", system)?;
    // The copy's address is an alias: its delivery logs orig_to and its
    // X-Original-To: names the always_bcc address.
    mx.set_main_cf("always_bcc", "copies@vmail.e2e.test");
    mx.write("etc/valias", "copies@vmail.e2e.test bcc@vmail.e2e.test\n");
    mx.set_main_cf("virtual_alias_maps", "texthash:@DIR@/etc/valias");
    start(&mut mx, system);
    submit(&mx, &[USER], "t72-bcc");
    wait_count(&mx, ": removed", 1, 30);
    let mut copies = delivered(&mx, "user");
    copies.extend(delivered(&mx, "bcc"));
    assert_eq!(copies.len(), 2, "{system:?}: {copies:?}");
    let lines = lines_of(&mx, &PROCESSES);
    harness::assert_line(&lines, "orig_to=<copies@vmail.e2e.test>");
    Some(Run {
        steps: vec![lines],
        delivered: copies,
    })
}

#[test]
fn always_bcc_delivers_a_copy_as_with_postfix() {
    compare(always_bcc);
}
