//! `postfix flush` tries deferred mail now, as postfix-script's `postqueue -f` does: a
//! message deferred because the relay was down goes out as soon as the relay is up and
//! the administrator flushes, instead of after minimal_backoff_time.

use e2e::{Instance, wait_until};

#[test]
fn flush_delivers_deferred_mail() {
    let Some(mut mx) = Instance::new("t-14") else {
        return;
    };
    mx.start();
    // The relay (smtp-sink) is not running yet: the message is deferred.
    mx.send(
        mx.smtp_port,
        "a@example.org",
        "x@relay.e2e.test",
        "t14-deferred",
    )
    .unwrap();
    assert!(
        wait_until(20, || mx.log().contains("status=deferred")),
        "not deferred; log:\n{}",
        mx.log()
    );
    mx.start_sink();
    let out = mx.postfix(&["flush"]);
    assert!(out.status.success());
    assert!(
        wait_until(20, || mx
            .log()
            .contains("to=<x@relay.e2e.test>, relay=127.0.0.1")
            && mx.log().contains("status=sent")),
        "flush did not deliver; log:\n{}",
        mx.log()
    );
    mx.postfix(&["stop"]);
}
