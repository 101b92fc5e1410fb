//! Mail flow control: with no queue manager to hand out tokens, a cleanup connection
//! finds none in the master's flow pipe and is served only after `in_flow_delay`, with
//! ironpost's cleanup as with Postfix's (single_server.c's MAIL_SERVER_IN_FLOW_DELAY);
//! with a queue manager that keeps up, no cleanup ever finds the pipe empty.

use crate::durability::MESSAGE;
use crate::harness::{Pair, raw_cleanup};
use e2e::Instance;
use std::time::{Duration, Instant};

#[test]
fn without_tokens_a_connection_waits_in_flow_delay() {
    let Some(pair) = Pair::new("t-20-flow", "in_flow_delay = 2s", &[]) else {
        return;
    };
    for mx in [&pair.ours, &pair.theirs] {
        let start = Instant::now();
        let (_, status, _) = raw_cleanup(mx, 114, MESSAGE, false);
        assert_eq!(status, 0);
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(1900),
            "{}: served after {took:?}, before in_flow_delay",
            mx.dir.display()
        );
    }
}

/// Messages sent, by clients at once, in the test below: more than the 100 tokens the
/// queue manager stocks at start, so that only the tokens it gives back keep cleanup fed.
const FLOW_MESSAGES: usize = 400;
const FLOW_CLIENTS: usize = 20;

/// While mail flows, the queue manager gives a token back for every message it takes from
/// incoming/ and never empties the pipe to count it (qmgr.c's end of qmgr_loop counts
/// with FIONREAD), so no cleanup connection waits `in_flow_delay`: cleanup -v logs every
/// take, and none comes back empty. Giving one token back per batch of messages, or
/// taking them all to count them, both showed here as empty takes (and in the benchmark
/// as a third fewer messages per second than Postfix at less CPU).
#[test]
fn the_queue_manager_keeps_cleanup_supplied_while_mail_flows() {
    if !e2e::have("smtp-source") {
        testkit::skip("smtp-source is not installed (Debian's postfix package)");
        return;
    }
    let Some(mut mx) = Instance::new("t-20-flow-qmgr") else {
        return;
    };
    mx.replace_master_cf_line(
        |l| l.starts_with("cleanup "),
        "cleanup   unix  n       -       n       -       0       cleanup -v",
    );
    mx.start();
    // smtp-source: a load that comes faster than Python's clients, so that the queue
    // manager takes several messages per pass.
    let out = std::process::Command::new("smtp-source")
        .args([
            "-s",
            &FLOW_CLIENTS.to_string(),
            "-m",
            &FLOW_MESSAGES.to_string(),
        ])
        .args([
            "-l",
            "4096",
            "-f",
            "load@e2e.test",
            "-t",
            "user@vmail.e2e.test",
        ])
        .arg(format!("127.0.0.1:{}", mx.smtp_port))
        .output()
        .expect("smtp-source");
    assert!(out.status.success(), "smtp-source: {out:?}");
    let delivered = e2e::wait_until(60, || {
        mx.log().matches("status=sent").count() >= FLOW_MESSAGES
    });
    assert!(delivered, "not all {FLOW_MESSAGES} messages were delivered");
    let log = mx.log();
    let takes: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split("mail_flow_get: ").nth(1))
        .collect();
    assert!(
        takes.len() >= FLOW_MESSAGES,
        "cleanup -v logged {} token takes for {FLOW_MESSAGES} messages",
        takes.len()
    );
    let empty = takes.iter().filter(|t| **t == "1 0").count();
    assert_eq!(empty, 0, "{empty} of {} takes found no token", takes.len());
}
