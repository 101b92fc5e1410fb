//! t-60: the postmaster's copy of a notice names the saved SMTP session transcripts of
//! the message (issue 13 §5; an ironpost extension, docs/TRANSCRIPTS.md).
//!
//! The next hop (smtp-sink) refuses the recipient with a 550; its address is in
//! smtp_transcript_peer_list, so ironpost's SMTP client saves the session, and with
//! notify_classes = bounce the postmaster gets a copy of the non-delivery notice. The
//! copy must carry a `Session transcript: PATH` line whose file exists and holds the
//! refused dialogue; the sender's notice must name no transcript (it may hold other
//! parties' words, and the path is local). The timeline (`posttrace ID`) points at the
//! same file. Without a transcript the postmaster copy is Postfix's: t-29 compares it.
//! Postfix's bounce service beside ironpost's SMTP client is unaffected: its notices name
//! no transcript, and the file is saved all the same. A 4xx with notify_classes = delay:
//! the postmaster's delay warning names the transcript, the sender's does not.

#[path = "../t-29-bounce/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../t-23-qmgr/harness.rs"]
mod qmgr_harness;

use e2e::child::KillOnDrop;
use harness::*;
use std::process::{Command, Stdio};

/// smtp-sink refusing RCPT TO: with `-f` (a hard 550) or `-r` (its soft 4xx).
fn refusing_relay(mx: &e2e::Instance, how: &str) -> KillOnDrop {
    let child = Command::new("/usr/sbin/smtp-sink")
        .args(["-u", "nobody", how, "RCPT", "-B"])
        .arg("550 5.1.1 Recipient address rejected: User unknown")
        .arg(format!("127.0.0.1:{}", mx.sink_port))
        .arg("10")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("smtp-sink");
    let child = KillOnDrop(child);
    assert!(
        e2e::wait_until(30, || {
            std::net::TcpStream::connect(("127.0.0.1", mx.sink_port)).is_ok()
        }),
        "smtp-sink {how} never listened on 127.0.0.1:{}",
        mx.sink_port
    );
    child
}

/// The paths the `Session transcript: PATH` lines of `notice` name.
fn named_transcripts(notice: &str) -> Vec<String> {
    notice
        .lines()
        .filter_map(|l| l.strip_prefix("Session transcript: "))
        .map(str::to_string)
        .collect()
}

/// What a run with `bounce`'s bounce service left: the instance, the bounced message's
/// queue id, the postmaster's copy and the sender's notice.
struct Run {
    mx: e2e::Instance,
    id: String,
    copy: String,
    sender: String,
}

/// A message to the refusing relay, with its SMTP session saved and notify_classes =
/// bounce (the postmaster's copy to the virtual user, as t-29 has it).
fn run(name: &str, bounce: Bounce) -> Option<Run> {
    let mut mx = instance(name, bounce)?;
    let _relay = refusing_relay(&mx, "-f");
    mx.set_main_cf("notify_classes", "bounce, resource, software");
    mx.set_main_cf("bounce_notice_recipient", USER);
    mx.set_main_cf("smtp_transcript_peer_list", "127.0.0.1");
    mx.start();
    sendmail(&mx, USER, FAR, "t60-remote");
    // The message and the two notices.
    wait_count(&mx, ": removed", 3, 60);
    let log = mx.log();
    let id = log
        .lines()
        .find(|l| l.contains(&format!("to=<{FAR}>")) && l.contains("status=bounced"))
        .and_then(|l| l.split(": ").nth(1))
        .unwrap_or_else(|| panic!("no bounced delivery:\n{log}"))
        .to_string();
    let messages = mx.mailbox();
    let (copies, senders): (Vec<&String>, Vec<&String>) = messages
        .iter()
        .filter(|m| m.contains("multipart/report"))
        .partition(|m| m.contains("Subject: Postmaster Copy: Undelivered Mail"));
    assert_eq!((copies.len(), senders.len()), (1, 1), "{messages:#?}");
    Some(Run {
        id,
        copy: copies[0].clone(),
        sender: senders[0].clone(),
        mx,
    })
}

#[test]
fn the_postmaster_copy_names_the_transcript_and_the_sender_notice_does_not() {
    let Some(Run {
        mx,
        id,
        copy,
        sender,
    }) = run("t-60-dsn", Bounce::Ours)
    else {
        return;
    };
    // The postmaster's copy: one transcript, the SMTP client's, in transcript_directory,
    // named after the bounced message, after the recipient's line and before the
    // delivery status part.
    let named = named_transcripts(&copy);
    assert_eq!(named.len(), 1, "{copy}");
    let path = &named[0];
    let directory = format!("{}/queue/transcript/", mx.dir.display());
    assert!(
        path.starts_with(&directory) && path.contains("_smtp_127.0.0.1_") && path.ends_with(&id),
        "{path}"
    );
    let line = copy.find("Session transcript: ").unwrap();
    assert!(
        copy.find("<far@relay.e2e.test>: host 127.0.0.1").unwrap() < line,
        "{copy}"
    );
    assert!(line < copy.find("Reporting-MTA: ").unwrap(), "{copy}");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(text.contains(&format!("< RCPT TO:<{FAR}>")), "{text}");
    assert!(
        text.contains("> 550 5.1.1 Recipient address rejected: User unknown"),
        "{text}"
    );

    // The sender's notice names none.
    assert!(named_transcripts(&sender).is_empty(), "{sender}");
    assert!(!sender.contains("/transcript/"), "{sender}");

    // The timeline points at the same file.
    let trace = mx.command("posttrace", &[&id]);
    let timeline = String::from_utf8_lossy(&trace.stdout);
    assert!(
        timeline.contains(&format!(
            "smtp saved the SMTP session's transcript in {path}"
        )),
        "{timeline}"
    );
}

/// Postfix's bounce service with ironpost's SMTP client saving the session: nothing new
/// passes between them (the transcript is found by its name, which carries the queue
/// id), so the notices are Postfix's own, without a transcript line, and the file is
/// there all the same.
#[test]
fn postfix_s_bounce_is_unaffected_by_saved_transcripts() {
    let Some(Run {
        mx,
        id,
        copy,
        sender,
    }) = run("t-60-pfbounce", Bounce::Postfix)
    else {
        return;
    };
    assert!(named_transcripts(&copy).is_empty(), "{copy}");
    assert!(named_transcripts(&sender).is_empty(), "{sender}");
    let directory = mx.dir.join("queue/transcript");
    let saved: Vec<String> = std::fs::read_dir(&directory)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        saved
            .iter()
            .any(|n| n.contains("_smtp_") && n.ends_with(&id)),
        "{saved:?}"
    );
}

/// A delay warning (notify_classes = delay, delay_warning_time reached at the first
/// deferral, the relay putting the recipient off with a 4xx): the postmaster's warning
/// names the transcript as the copy of a non-delivery notice does; the sender's does not.
#[test]
fn the_postmaster_delay_warning_names_the_transcript() {
    let Some(mut mx) = instance("t-60-delay", Bounce::Ours) else {
        return;
    };
    let _relay = refusing_relay(&mx, "-r");
    mx.set_main_cf("notify_classes", "delay, resource, software");
    mx.set_main_cf("delay_notice_recipient", USER);
    mx.set_main_cf("delay_warning_time", "1s");
    mx.set_main_cf("smtp_transcript_peer_list", "127.0.0.1");
    mx.start();
    sendmail(&mx, USER, FAR, "t60-delay");
    mx.wait_log("postmaster delay notification", 60);
    mx.wait_log("sender delay notification", 60);
    wait_count(&mx, ": removed", 2, 60);
    let messages = mx.mailbox();
    let (warnings, senders): (Vec<&String>, Vec<&String>) = messages
        .iter()
        .filter(|m| m.contains("multipart/report"))
        .partition(|m| m.contains("Subject: Postmaster Warning: Delayed Mail"));
    assert_eq!((warnings.len(), senders.len()), (1, 1), "{messages:#?}");
    let named = named_transcripts(warnings[0]);
    assert_eq!(named.len(), 1, "{}", warnings[0]);
    let text = std::fs::read_to_string(&named[0]).unwrap_or_else(|e| panic!("{}: {e}", named[0]));
    assert!(text.contains(&format!("< RCPT TO:<{FAR}>")), "{text}");
    assert!(text.contains("> 4"), "{text}");
    assert!(named_transcripts(senders[0]).is_empty(), "{}", senders[0]);
}
