//! Mail flow control: with no queue manager to hand out tokens, a cleanup connection
//! finds none in the master's flow pipe and is served only after `in_flow_delay`, with
//! ironpost's cleanup as with Postfix's (single_server.c's MAIL_SERVER_IN_FLOW_DELAY).

use crate::durability::MESSAGE;
use crate::harness::{Pair, raw_cleanup};
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
