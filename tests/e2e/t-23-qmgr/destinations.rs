//! Destinations and transports: concurrency limits, the initial concurrency, the
//! transport process limit, a dead destination, an unreachable transport.

use crate::harness::*;
use e2e::wait_until;

/// A relay that is down with an initial concurrency of 1: the first failure makes the
/// destination dead, and the next message for it is deferred without a connection
/// attempt ("delivery temporarily suspended"); the normalised lines.
fn dead_destination(qmgr: Qmgr, feedback_debug: bool) -> Option<Vec<String>> {
    let name = if feedback_debug {
        "t-23-deaddbg"
    } else {
        "t-23-dead"
    };
    let mut mx = instance(name, qmgr)?;
    mx.set_main_cf("smtp_initial_destination_concurrency", "1");
    if feedback_debug {
        mx.set_main_cf("destination_concurrency_feedback_debug", "yes");
    }
    mx.start();
    sendmail(&mx, USER, FAR, "t23-dead-1");
    wait_count(&mx, "status=deferred", 1, 60);
    sendmail(&mx, USER, FAR, "t23-dead-2");
    wait_count(&mx, "status=deferred", 2, 60);
    wait_queue(&mx, "deferred", 2);
    assert_eq!(
        mx.log().matches("Connection refused)").count(),
        2,
        "one connection attempt, then the suspended destination:\n{}",
        mx.log()
    );
    Some(lines_of(&mx, &["qmgr", "smtp", "retry", "error"]))
}

#[test]
fn a_dead_destination_defers_without_trying_as_with_postfix() {
    let Some((ours, postfix)) = both(|q| dead_destination(q, false)) else {
        return;
    };
    assert_line(&ours, "delivery temporarily suspended");
    assert_eq!(ours, postfix);
}

#[test]
fn feedback_debug_lines_are_postfix_s() {
    let Some((ours, postfix)) = both(|q| dead_destination(q, true)) else {
        return;
    };
    assert_line(&ours, "qmgr_queue_throttle: queue ");
    assert_eq!(ours, postfix);
}

/// A transport with no master.cf service: the agent cannot be reached, the message is
/// deferred with "mail transport unavailable"; the normalised lines.
fn missing_transport(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-notransport", qmgr)?;
    mx.write("etc/transport", "nowhere.e2e.test nosuch:\n");
    mx.start();
    sendmail(&mx, USER, "a@nowhere.e2e.test", "t23-nosuch");
    wait_count(&mx, "status=deferred", 1, 60);
    wait_queue(&mx, "deferred", 1);
    Some(lines_of(&mx, &["qmgr", "retry", "error"]))
}

#[test]
fn an_unreachable_transport_defers_as_with_postfix() {
    let Some((ours, postfix)) = both(missing_transport) else {
        return;
    };
    assert_eq!(ours, postfix);
}

/// A pipe command that records how many copies of it run at once (in `DIR/conc/max`)
/// and takes a second per message.
const SLOW_SH: &str = "\
exec 9>>@DIR@/conc/lock
flock 9
n=$(cat @DIR@/conc/n 2>/dev/null || echo 0)
n=$((n + 1))
echo $n > @DIR@/conc/n
m=$(cat @DIR@/conc/max 2>/dev/null || echo 0)
if [ $n -gt $m ]; then echo $n > @DIR@/conc/max; fi
date +%s >> @DIR@/conc/starts
flock -u 9
cat > /dev/null
sleep 1
flock 9
n=$(cat @DIR@/conc/n)
echo $((n - 1)) > @DIR@/conc/n
flock -u 9
";

/// Six messages for one destination of a transport limited to `limit` parallel
/// deliveries per destination and `maxproc` agents in master.cf; the most deliveries
/// seen at once and the normalised pipe lines.
fn concurrency(qmgr: Qmgr, limit: &str, maxproc: &str) -> Option<(u32, Vec<String>)> {
    slow(qmgr, limit, maxproc, &[], 6).map(|(max, lines, _)| (max, lines))
}

/// `count` messages through the slow transport with `settings` added to main.cf: the
/// most deliveries seen at once, the normalised pipe lines, and the start times (s).
fn slow(
    qmgr: Qmgr,
    limit: &str,
    maxproc: &str,
    settings: &[(&str, &str)],
    count: usize,
) -> Option<(u32, Vec<String>, Vec<u64>)> {
    let tag = if settings.is_empty() { "" } else { "-rate" };
    let mut mx = instance(&format!("t-23-conc{limit}-{maxproc}{tag}"), qmgr)?;
    std::fs::create_dir_all(mx.dir.join("conc")).unwrap();
    let chown = std::process::Command::new("chown")
        .arg("nobody")
        .arg(mx.dir.join("conc"))
        .status()
        .unwrap();
    assert!(chown.success());
    mx.write("etc/slow.sh", &mx.expand(SLOW_SH));
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write(
        "etc/master.cf",
        &mx.expand(&format!(
            "{master_cf}slow unix - n n - {maxproc} pipe\n  user=nobody argv=/bin/sh @DIR@/etc/slow.sh\n"
        )),
    );
    mx.write("etc/transport", &mx.expand("slow.e2e.test slow:\n"));
    mx.set_main_cf("slow_destination_concurrency_limit", limit);
    for (name, value) in settings {
        mx.set_main_cf(name, value);
    }
    mx.start();
    for n in 0..count {
        sendmail(&mx, "root", "a@slow.e2e.test", &format!("t23-conc-{n}"));
    }
    wait_count(&mx, ": removed", count, 60);
    let max = std::fs::read_to_string(mx.dir.join("conc/max")).unwrap();
    let starts = std::fs::read_to_string(mx.dir.join("conc/starts")).unwrap();
    Some((
        max.trim().parse().unwrap(),
        lines_of(&mx, &["pipe", "slow"]),
        starts.lines().map(|l| l.trim().parse().unwrap()).collect(),
    ))
}

#[test]
fn a_destination_concurrency_limit_holds_as_with_postfix() {
    let Some(((ours, our_lines), (postfix, postfix_lines))) = both(|q| concurrency(q, "2", "-"))
    else {
        return;
    };
    assert_eq!((ours, postfix), (2, 2));
    assert_eq!(our_lines.len(), 6, "{our_lines:#?}");
    assert_eq!(our_lines, postfix_lines);
}

#[test]
fn a_new_destination_starts_at_the_initial_concurrency_as_with_postfix() {
    // Below a limit of 20, six messages at once meet initial_destination_concurrency (5).
    let Some(((ours, _), (postfix, _))) = both(|q| concurrency(q, "20", "-")) else {
        return;
    };
    assert_eq!((ours, postfix), (5, 5));
}

#[test]
fn a_transport_process_limit_holds_as_with_postfix() {
    // master.cf allows one slow agent: one delivery at a time, whatever the window.
    let Some(((ours, _), (postfix, _))) = both(|q| concurrency(q, "20", "1")) else {
        return;
    };
    assert_eq!((ours, postfix), (1, 1));
}

#[test]
fn a_destination_rate_delay_spaces_deliveries_as_with_postfix() {
    // A rate delay makes the destination take one delivery at a time, with a pause
    // after each: three one-second deliveries with a two-second delay start at least
    // three seconds apart.
    let rate = [("slow_destination_rate_delay", "2s")];
    let Some(((ours, our_lines, our_starts), (postfix, postfix_lines, postfix_starts))) =
        both(|q| slow(q, "20", "-", &rate, 3))
    else {
        return;
    };
    assert_eq!((ours, postfix), (1, 1));
    for starts in [&our_starts, &postfix_starts] {
        assert_eq!(starts.len(), 3);
        for pair in starts.windows(2) {
            assert!(pair[1] - pair[0] >= 2, "starts {starts:?}");
        }
    }
    assert_eq!(our_lines, postfix_lines);
}

/// A pipe command that appends its recipient to `DIR/order/log` and takes a while.
const ORDER_SH: &str = "\
cat > /dev/null
echo \"$1\" >> @DIR@/order/log
sleep 0.3
";

/// A message to 16 recipients of a one-at-a-time transport, then, once its first
/// delivery has started, a message to one: the order in which the recipients were
/// delivered.
fn preemption(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-preempt", qmgr)?;
    std::fs::create_dir_all(mx.dir.join("order")).unwrap();
    let chown = std::process::Command::new("chown")
        .arg("nobody")
        .arg(mx.dir.join("order"))
        .status()
        .unwrap();
    assert!(chown.success());
    mx.write("etc/order.sh", &mx.expand(ORDER_SH));
    let master_cf = std::fs::read_to_string(mx.etc().join("master.cf")).unwrap();
    mx.write(
        "etc/master.cf",
        &mx.expand(&format!(
            "{master_cf}order unix - n n - 1 pipe\n  user=nobody argv=/bin/sh @DIR@/etc/order.sh ${{recipient}}\n"
        )),
    );
    mx.write("etc/transport", &mx.expand("order.e2e.test order:\n"));
    // One recipient per delivery: the big message is 16 entries.
    mx.set_main_cf("order_destination_recipient_limit", "1");
    mx.start();
    let big: Vec<String> = (1..=16)
        .map(|n| format!("b{n:02}@order.e2e.test"))
        .collect();
    let mut args = vec!["-f", "root"];
    args.extend(big.iter().map(String::as_str));
    let out = mx.sendmail(&args, "Subject: big\n\nbig\n");
    assert!(out.status.success());
    let log = mx.dir.join("order/log");
    assert!(
        wait_until(30, || std::fs::read_to_string(&log)
            .is_ok_and(|t| !t.is_empty())),
        "no delivery started:\n{}",
        mx.log()
    );
    sendmail(&mx, "root", "small@order.e2e.test", "t23-small");
    wait_count(&mx, ": removed", 2, 60);
    Some(
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

#[test]
fn a_small_message_preempts_a_big_one_as_with_postfix() {
    let Some((ours, postfix)) = both(preemption) else {
        return;
    };
    assert_eq!(ours.len(), 17, "{ours:?}");
    let small = ours.iter().position(|r| r == "small@order.e2e.test");
    assert!(small.is_some_and(|p| p < 16), "not preempted: {ours:?}");
    assert_eq!(ours, postfix);
}
