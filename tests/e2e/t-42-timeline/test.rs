//! posttrace on real instances (ironpost's, and Postfix 3.7's with its own master, so
//! that the timeline is read from a log Postfix itself wrote): a message deferred because
//! the relay is down (its next retry read from the deferred queue file), delivered after
//! the relay comes up and the queue is flushed, and a message bounced by the local
//! delivery agent (an unknown user) whose non-delivery notice is followed to its own
//! queue id, found by queue id, Message-ID and address, as text and JSON, and from a
//! copy of the log alone.

use e2e::{Instance, System, howto_doc};
use std::process::Command;

#[test]
fn ironpost_timeline() {
    if let Some(mut mx) = Instance::new("t-42") {
        // One delivery at a time to a destination: the first failure marks the relay
        // dead, so that the message docs/DEBUG_README.md shows is deferred the same way
        // on every run.
        mx.set_main_cf("default_destination_concurrency_limit", "1");
        mx.start();
        timeline(&mut mx, System::Ironpost);
    }
}

#[test]
fn postfix_timeline() {
    if let Some(mut mx) = Instance::with_daemons("t-42-postfix", &[]) {
        ctl(&mx, System::Postfix, &["start"]);
        mx.wait_log("daemon started -- version", 20);
        timeline(&mut mx, System::Postfix);
    }
}

/// `postfix ARGS`, ours or Postfix's.
fn ctl(mx: &Instance, system: System, args: &[&str]) {
    mx.postfix_of(system, args);
}

/// posttrace's exit code and output.
fn trace(config: &std::path::Path, args: &[&str]) -> (i32, String) {
    e2e::exit_and_output(
        Command::new(e2e::program("posttrace"))
            .arg("-c")
            .arg(config)
            .args(args),
    )
}

/// The queue id of the log line that has `needle`.
fn queue_id_of(mx: &Instance, needle: &str) -> String {
    e2e::queue_id_of(&mx.log(), needle)
}

/// The value of `field` (such as `size=`) on the first log line of queue id `id` that has it.
fn queue_line_field(mx: &Instance, id: &str, field: &str) -> String {
    let log = mx.log();
    let line = log
        .lines()
        .find(|l| l.contains(&format!(" {id}: ")) && l.contains(field))
        .unwrap_or_else(|| panic!("no {field} for {id} in\n{log}"));
    let value = line.split(field).nth(1).unwrap();
    value.split([',', ' ']).next().unwrap().to_string()
}

fn check(mx: &Instance, report: &str, wanted: &[&str]) {
    for w in wanted {
        if !report.contains(w) {
            mx.keep_for_inspection();
            panic!("no {w:?} in the timeline:\n{report}\nlog:\n{}", mx.log());
        }
    }
}

fn timeline(mx: &mut Instance, system: System) {
    // Deferred: the relay is not up yet.
    mx.send(
        mx.smtp_port,
        "user@vmail.e2e.test",
        "someone@relay.e2e.test",
        "t42a",
    )
    .unwrap();
    mx.wait_log("status=deferred", 30);
    let id = queue_id_of(mx, "to=<someone@relay.e2e.test>");
    // The delivery agent logs the deferral before the queue manager moves the file.
    let deferred = mx.dir.join("queue/deferred");
    assert!(e2e::wait_until(10, || {
        e2e::load::files_under(&deferred)
            .iter()
            .any(|f| f.file_name().is_some_and(|n| n == id.as_str()))
    }));
    // For docs/DEBUG_README.md, a message submitted with sendmail, deferred the same way:
    // its timeline is the same from one run to the next, which an SMTP session's is not
    // (smtpd's disconnect line races the queue manager's first line).
    let local = (system == System::Ironpost).then(|| {
        let out = mx.sendmail(
            &["-f", "user@vmail.e2e.test", "someone@relay.e2e.test"],
            "Subject: t42c\n\nbody\n",
        );
        assert!(out.status.success(), "{out:?}");
        assert!(e2e::wait_until(30, || mx
            .log()
            .matches("status=deferred")
            .count()
            >= 2));
        queue_id_of(mx, "uid=0 from=<user@vmail.e2e.test>")
    });
    let (code, report) = trace(&mx.etc(), &[&id]);
    assert_eq!(code, 0, "{report}");
    check(
        mx,
        &report,
        &[
            &format!("=== {id} (asked for) ==="),
            "connect from localhost[127.0.0.1]",
            "accepted the message from localhost[127.0.0.1]",
            "the queue manager moved it to the active queue: sender <user@vmail.e2e.test>",
            "deferred (will be tried again), status 4.4.1: connect to 127.0.0.1[127.0.0.1]",
            "still queued: next retry at ",
            "s setting up the delivery (connection, DNS, HELO, TLS)",
            "state: still queued, next retry at ",
        ],
    );

    // Delivered once the relay listens and the queue is flushed.
    mx.start_sink();
    // The document's message goes first and alone, so that its timeline is the same on
    // every run.
    if let Some(local) = &local {
        let out = mx.command("postqueue", &["-i", local]);
        assert!(out.status.success(), "{out:?}");
        mx.wait_log(&format!("{local}: removed"), 30);
    }
    ctl(mx, system, &["flush"]);
    mx.wait_log("status=sent", 30);
    mx.wait_log(&format!("{id}: removed"), 30);
    let (_, report) = trace(&mx.etc(), &[&id]);
    check(
        mx,
        &report,
        &[
            "tried again at ",
            "delivered, status 2.0.0",
            "state: removed from the queue",
        ],
    );
    // The timeline docs/DEBUG_README.md shows.
    if let Some(local) = local {
        // The size varies with the length of the queue id in the Received: header.
        let size = queue_line_field(mx, &local, "size=");
        let (_, shown) = howto_doc::typed(mx, "posttrace", &[&local]);
        let context = howto_doc::Context::of(mx).with(size, "365");
        howto_doc::check("posttrace", &context, &shown);
    }

    // Bounced by local (smtpd takes any local name without local_recipient_maps); the
    // notice goes to the (virtual) sender.
    mx.set_main_cf("local_recipient_maps", "");
    ctl(mx, system, &["reload"]);
    std::thread::sleep(std::time::Duration::from_secs(1));
    mx.send(
        mx.smtp_port,
        "user@vmail.e2e.test",
        "nosuchuser@mail.e2e.test",
        "t42b",
    )
    .unwrap();
    mx.wait_log("sender non-delivery notification: ", 30);
    let bounced = queue_id_of(mx, "to=<nosuchuser@mail.e2e.test>");
    let notice = mx
        .log()
        .lines()
        .find_map(|l| {
            l.split(&format!("{bounced}: sender non-delivery notification: "))
                .nth(1)
                .map(|s| s.trim().to_string())
        })
        .unwrap();
    mx.wait_log(&format!("{notice}: removed"), 30);
    let message_id = mx
        .log()
        .lines()
        .find_map(|l| {
            l.split(&format!("{bounced}: message-id="))
                .nth(1)
                .map(String::from)
        })
        .unwrap();
    let by_id = trace(&mx.etc(), &[&bounced]);
    let by_message_id = trace(&mx.etc(), &[&message_id]);
    let by_address = trace(&mx.etc(), &["-s", "1h", "nosuchuser@mail.e2e.test"]);
    assert_eq!(by_id, by_message_id);
    assert_eq!(by_id, by_address);
    check(
        mx,
        &by_id.1,
        &[
            "local to <nosuchuser@mail.e2e.test> via local: bounced (a non-delivery notice goes to the sender), status 5.1.1: unknown user: \"nosuchuser\"",
            &format!("non-delivery notice to the sender: new queue id {notice} (traced below)"),
            &format!("=== {notice} (non-delivery notice to the sender of {bounced}) ==="),
            "the queue manager moved it to the active queue: sender <>",
            "to <user@vmail.e2e.test> via virtual: delivered",
        ],
    );
    let (_, json) = trace(&mx.etc(), &["-j", &bounced]);
    assert!(
        json.starts_with(&format!(
            "[{{\"queue_id\":\"{bounced}\",\"origin\":\"asked for\""
        )),
        "{json}"
    );
    assert!(
        json.contains(&format!("{{\"queue_id\":\"{notice}\"")),
        "{json}"
    );

    // From a copy of the log alone, without the configuration.
    let copy = mx.dir.join("maillog-copy");
    std::fs::write(&copy, mx.log()).unwrap();
    let (code, alone) = trace(
        &mx.dir.join("no-such-config"),
        &["-l", copy.to_str().unwrap(), &bounced],
    );
    assert_eq!((code, alone), by_id);
    let (code, _) = trace(&mx.etc(), &["NOSUCHID1"]);
    assert_eq!(code, 1);
}
