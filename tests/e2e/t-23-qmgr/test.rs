//! qmgr: mail submitted with sendmail and SMTP goes through ironpost's queue manager to
//! Postfix's delivery agents (virtual, smtp to smtp-sink, discard), a recipient the
//! virtual agent does not know is bounced through Postfix's bounce service, a message
//! for a relay that is down is deferred (deferred/, the defer log, the retry time as the
//! file's time stamp) and delivered after `postfix flush`, and a message left in active/
//! by a crash is delivered after a restart. Each scenario also runs with Postfix's qmgr
//! in the same harness: the queue manager's log lines (`from=...(queue active)`,
//! `removed`) and the agents' status lines (which depend on what the delivery request
//! carried: recipients, original recipients, offsets, time stamps) must be equal after
//! queue IDs, sizes, delays and ports are normalised.

use e2e::{IRONPOST_DAEMONS, Instance, wait_until};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;

/// Whose queue manager an instance runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Qmgr {
    Ours,
    Postfix,
}

fn instance(name: &str, qmgr: Qmgr) -> Option<Instance> {
    let mut daemons: Vec<&str> = IRONPOST_DAEMONS.to_vec();
    if qmgr == Qmgr::Ours {
        daemons.push("qmgr");
    }
    let suffix = if qmgr == Qmgr::Ours {
        "ours"
    } else {
        "postfix"
    };
    let mx = Instance::with_daemons(&format!("{name}-{suffix}"), &daemons)?;
    mx.write(
        "etc/transport",
        &mx.expand(
            "relay.e2e.test smtp:[127.0.0.1]:@SINK_PORT@\n\
             discard.e2e.test discard:\n",
        ),
    );
    mx.install_commands();
    Some(mx)
}

fn sendmail(mx: &Instance, from: &str, to: &str, marker: &str) {
    let message = format!("From: {from}\nTo: {to}\nSubject: {marker}\n\nbody {marker}\n");
    let out = mx.sendmail(&["-f", from, to], &message);
    assert!(
        out.status.success(),
        "sendmail: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Waits until the log has `count` lines containing `needle`.
fn wait_count(mx: &Instance, needle: &str, count: usize, secs: u64) {
    if !wait_until(secs, || mx.log().matches(needle).count() >= count) {
        mx.keep_for_inspection();
        panic!(
            "fewer than {count} \"{needle}\" after {secs}s; log:\n{}",
            mx.log()
        );
    }
}

/// The queue IDs in the order the log first names them.
fn queue_ids(log: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for line in log.lines() {
        let Some((_, rest)) = line.split_once("]: ") else {
            continue;
        };
        let Some((id, _)) = rest.split_once(": ") else {
            continue;
        };
        let is_id = (8..=16).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase());
        if is_id && !ids.iter().any(|known| known == id) {
            ids.push(id.to_string());
        }
    }
    ids
}

/// The log lines of `process` (`qmgr`, `virtual`...) about mail, with what differs
/// between two runs replaced: queue IDs, sizes, delays, the instance's ports and
/// directory. Sorted, since deliveries run in parallel.
fn lines_of(mx: &Instance, processes: &[&str]) -> Vec<String> {
    let log = mx.log();
    let ids = queue_ids(&log);
    let mut out = Vec::new();
    for line in log.lines() {
        let Some((head, rest)) = line.split_once("]: ") else {
            continue;
        };
        let Some(process) = head.rsplit(' ').next().and_then(|p| p.split('[').next()) else {
            continue;
        };
        if !processes.iter().any(|p| process == format!("postfix/{p}")) {
            continue;
        }
        let mut text = format!("{process}: {rest}");
        for id in &ids {
            text = text.replace(id.as_str(), "QUEUEID");
        }
        text = text
            .replace(&mx.dir.display().to_string(), "DIR")
            .replace(&mx.sink_port.to_string(), "SINKPORT")
            .replace(&mx.smtp_port.to_string(), "SMTPPORT");
        out.push(normalise_numbers(&text));
    }
    out.sort();
    out
}

/// `size=N`, `delay=N` and `delays=a/b/c/d` with their numbers replaced.
fn normalise_numbers(text: &str) -> String {
    text.split(", ")
        .map(|field| {
            for key in ["size=", "delay=", "delays="] {
                if field.starts_with(key) {
                    return format!("{key}N");
                }
            }
            field.to_string()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The messages relayed to smtp-sink so far.
fn sunk(mx: &Instance) -> Vec<String> {
    std::fs::read_dir(mx.dir.join("sink"))
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The files of `queue` (hashed subdirectories included), by queue ID.
fn queue_files(mx: &Instance, queue: &str) -> BTreeMap<String, std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut BTreeMap<String, std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.insert(entry.file_name().to_string_lossy().into_owned(), path);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&mx.dir.join("queue").join(queue), &mut out);
    out
}

/// The deliveries scenario; returns the normalised qmgr and agent lines.
fn deliveries(qmgr: Qmgr) -> Option<(Vec<String>, Vec<String>)> {
    let mut mx = instance("t-23-deliver", qmgr)?;
    mx.start_sink();
    mx.start();
    sendmail(
        &mx,
        "user@vmail.e2e.test",
        "user@vmail.e2e.test",
        "t23-virtual",
    );
    sendmail(&mx, "root", "someone@discard.e2e.test", "t23-discard");
    if let Err(e) = mx.send(
        mx.smtp_port,
        "a@example.org",
        "far@relay.e2e.test",
        "t23-relay",
    ) {
        mx.keep_for_inspection();
        panic!("SMTP: {e}\n{}", mx.log());
    }
    // An unknown virtual user: the virtual agent bounces, the bounce service returns
    // the message to the sender, whose mailbox is the virtual user's.
    sendmail(
        &mx,
        "user@vmail.e2e.test",
        "nobody@vmail.e2e.test",
        "t23-bounce",
    );
    // Five messages: four submitted, one non-delivery notice.
    wait_count(&mx, ": removed", 5, 60);
    let mailbox = mx.mailbox();
    assert!(
        mailbox.iter().any(|m| m.contains("body t23-virtual")),
        "{mailbox:?}"
    );
    assert!(
        mailbox
            .iter()
            .any(|m| m.contains("Undelivered Mail Returned to Sender")
                && m.contains("nobody@vmail.e2e.test")),
        "no bounce in {mailbox:?}"
    );
    assert!(
        sunk(&mx).iter().any(|m| m.contains("t23-relay")),
        "nothing relayed"
    );
    for queue in ["active", "incoming", "deferred"] {
        assert!(
            queue_files(&mx, queue).is_empty(),
            "{queue} not empty:\n{}",
            mx.log()
        );
    }
    Some((
        lines_of(&mx, &["qmgr"]),
        lines_of(&mx, &["virtual", "smtp", "discard", "bounce"]),
    ))
}

#[test]
fn deliveries_and_bounces_log_as_with_postfix_qmgr() {
    let Some((ours, our_agents)) = deliveries(Qmgr::Ours) else {
        return;
    };
    let Some((postfix, postfix_agents)) = deliveries(Qmgr::Postfix) else {
        return;
    };
    assert_eq!(ours, postfix, "qmgr lines differ");
    assert_eq!(our_agents, postfix_agents, "agent lines differ");
    assert_eq!(ours.iter().filter(|l| l.ends_with(": removed")).count(), 5);
}

/// What the deferral scenario shows: the normalised lines before and after the flush,
/// and how far in the future the deferred file's time stamp was.
struct Deferral {
    lines_deferred: Vec<String>,
    lines_flushed: Vec<String>,
    retry_in: i64,
}

fn deferral(qmgr: Qmgr) -> Option<Deferral> {
    let mut mx = instance("t-23-defer", qmgr)?;
    mx.start();
    // The relay is down: smtp defers, qmgr moves the message to deferred/.
    sendmail(
        &mx,
        "user@vmail.e2e.test",
        "far@relay.e2e.test",
        "t23-defer",
    );
    wait_count(&mx, "status=deferred", 1, 60);
    if !wait_until(20, || queue_files(&mx, "deferred").len() == 1) {
        mx.keep_for_inspection();
        panic!("nothing in deferred/:\n{}", mx.log());
    }
    let deferred = queue_files(&mx, "deferred");
    let (id, path) = deferred.iter().next().unwrap();
    assert!(
        queue_files(&mx, "defer").contains_key(id),
        "no defer log for {id}"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let retry_in = std::fs::metadata(path).unwrap().mtime() - now;
    let lines_deferred = lines_of(&mx, &["qmgr", "smtp"]);
    // The relay comes back; postfix flush (postqueue -f) delivers at once.
    mx.start_sink();
    mx.postfix(&["flush"]);
    wait_count(&mx, ": removed", 1, 60);
    assert!(sunk(&mx).iter().any(|m| m.contains("t23-defer")));
    assert!(queue_files(&mx, "defer").is_empty(), "defer log left");
    Some(Deferral {
        lines_deferred,
        lines_flushed: lines_of(&mx, &["qmgr", "smtp"]),
        retry_in,
    })
}

#[test]
fn a_deferred_message_waits_in_deferred_and_goes_out_on_flush_as_with_postfix() {
    let Some(ours) = deferral(Qmgr::Ours) else {
        return;
    };
    let Some(postfix) = deferral(Qmgr::Postfix) else {
        return;
    };
    assert_eq!(ours.lines_deferred, postfix.lines_deferred);
    assert_eq!(ours.lines_flushed, postfix.lines_flushed);
    // minimal_backoff_time (300s) from now, as Postfix sets it; a few seconds of slack
    // for the time the test took.
    for (who, retry) in [("ours", ours.retry_in), ("postfix", postfix.retry_in)] {
        assert!((290..=301).contains(&retry), "{who}: retry in {retry}s");
    }
}

/// maximal_queue_lifetime = 0 and the relay down: the first deferral expires the
/// message, the defer service returns it to the sender; the normalised lines.
fn expiry(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-expire", qmgr)?;
    mx.set_main_cf("maximal_queue_lifetime", "0");
    mx.start();
    sendmail(
        &mx,
        "user@vmail.e2e.test",
        "far@relay.e2e.test",
        "t23-expire",
    );
    // The message and the notice to its sender.
    wait_count(&mx, ": removed", 2, 60);
    let mailbox = mx.mailbox();
    assert!(
        mailbox
            .iter()
            .any(|m| m.contains("Undelivered Mail Returned to Sender") && m.contains("t23-expire")),
        "no notice in {mailbox:?}"
    );
    for queue in ["active", "deferred", "defer"] {
        assert!(queue_files(&mx, queue).is_empty(), "{queue} not empty");
    }
    Some(lines_of(&mx, &["qmgr", "smtp", "bounce", "virtual"]))
}

#[test]
fn an_expired_message_is_returned_as_with_postfix() {
    let Some(ours) = expiry(Qmgr::Ours) else {
        return;
    };
    let Some(postfix) = expiry(Qmgr::Postfix) else {
        return;
    };
    assert!(
        ours.iter()
            .any(|l| l.ends_with("status=expired, returned to sender")),
        "{ours:#?}"
    );
    assert_eq!(ours, postfix);
}

/// A message left in active/ (the queue manager died while delivering it) is
/// delivered after a restart; the normalised lines of the second run.
fn recovery(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-recover", qmgr)?;
    mx.start();
    sendmail(
        &mx,
        "user@vmail.e2e.test",
        "far@relay.e2e.test",
        "t23-recover",
    );
    if !wait_until(30, || queue_files(&mx, "deferred").len() == 1) {
        mx.keep_for_inspection();
        panic!("nothing deferred:\n{}", mx.log());
    }
    mx.postfix(&["stop"]);
    let (id, path) = queue_files(&mx, "deferred").into_iter().next().unwrap();
    std::fs::rename(path, mx.dir.join("queue/active").join(&id)).unwrap();
    let before = mx.log().len();
    mx.start_sink();
    mx.start();
    if !wait_until(30, || mx.log()[before..].contains(": removed")) {
        mx.keep_for_inspection();
        panic!("not delivered after the restart:\n{}", mx.log());
    }
    assert!(sunk(&mx).iter().any(|m| m.contains("t23-recover")));
    let after: Vec<String> = lines_of(&mx, &["qmgr", "smtp"]);
    Some(after)
}

#[test]
fn a_message_left_in_active_is_delivered_after_a_restart_as_with_postfix() {
    let Some(ours) = recovery(Qmgr::Ours) else {
        return;
    };
    let Some(postfix) = recovery(Qmgr::Postfix) else {
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
    let mut mx = instance(&format!("t-23-conc{limit}-{maxproc}"), qmgr)?;
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
    mx.start();
    for n in 0..6 {
        sendmail(&mx, "root", "a@slow.e2e.test", &format!("t23-conc-{n}"));
    }
    wait_count(&mx, ": removed", 6, 60);
    let max = std::fs::read_to_string(mx.dir.join("conc/max")).unwrap();
    Some((
        max.trim().parse().unwrap(),
        lines_of(&mx, &["pipe", "slow"]),
    ))
}

#[test]
fn a_destination_concurrency_limit_holds_as_with_postfix() {
    let Some((ours, our_lines)) = concurrency(Qmgr::Ours, "2", "-") else {
        return;
    };
    let Some((postfix, postfix_lines)) = concurrency(Qmgr::Postfix, "2", "-") else {
        return;
    };
    assert_eq!((ours, postfix), (2, 2));
    assert_eq!(our_lines.len(), 6, "{our_lines:#?}");
    assert_eq!(our_lines, postfix_lines);
}

#[test]
fn a_new_destination_starts_at_the_initial_concurrency_as_with_postfix() {
    // Below a limit of 20, six messages at once meet initial_destination_concurrency (5).
    let Some((ours, _)) = concurrency(Qmgr::Ours, "20", "-") else {
        return;
    };
    let Some((postfix, _)) = concurrency(Qmgr::Postfix, "20", "-") else {
        return;
    };
    assert_eq!((ours, postfix), (5, 5));
}

/// A relay that is down with an initial concurrency of 1: the first failure makes the
/// destination dead, and the next message for it is deferred without a connection
/// attempt ("delivery temporarily suspended"); the normalised lines.
fn dead_destination(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-dead", qmgr)?;
    mx.set_main_cf("smtp_initial_destination_concurrency", "1");
    mx.start();
    sendmail(
        &mx,
        "user@vmail.e2e.test",
        "far@relay.e2e.test",
        "t23-dead-1",
    );
    wait_count(&mx, "status=deferred", 1, 60);
    sendmail(
        &mx,
        "user@vmail.e2e.test",
        "far@relay.e2e.test",
        "t23-dead-2",
    );
    wait_count(&mx, "status=deferred", 2, 60);
    if !wait_until(20, || queue_files(&mx, "deferred").len() == 2) {
        mx.keep_for_inspection();
        panic!("not both deferred:\n{}", mx.log());
    }
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
    let Some(ours) = dead_destination(Qmgr::Ours) else {
        return;
    };
    let Some(postfix) = dead_destination(Qmgr::Postfix) else {
        return;
    };
    assert!(
        ours.iter()
            .any(|l| l.contains("delivery temporarily suspended")),
        "{ours:#?}"
    );
    assert_eq!(ours, postfix);
}

/// `sendmail -v`: the message is delivered and the trace service mails the sender a
/// delivery report when the queue manager is done; the normalised lines.
fn record(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-record", qmgr)?;
    mx.start();
    let message = "From: user@vmail.e2e.test\nSubject: t23-record\n\nbody t23-record\n";
    let out = mx.sendmail(
        &["-v", "-f", "user@vmail.e2e.test", "user@vmail.e2e.test"],
        message,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The message and the report.
    wait_count(&mx, ": removed", 2, 60);
    let mailbox = mx.mailbox();
    assert!(mailbox.iter().any(|m| m.contains("body t23-record")));
    assert!(
        mailbox
            .iter()
            .any(|m| m.contains("Subject: Mail Delivery Status Report")),
        "no report in {mailbox:?}"
    );
    Some(lines_of(&mx, &["qmgr", "virtual", "bounce"]))
}

#[test]
fn sendmail_v_gets_its_delivery_report_as_with_postfix() {
    let Some(ours) = record(Qmgr::Ours) else {
        return;
    };
    let Some(postfix) = record(Qmgr::Postfix) else {
        return;
    };
    assert_eq!(ours, postfix);
}

/// A deferred message is tried again once its retry time has come, without a flush
/// (queue_run_delay and minimal_backoff_time of 2s).
#[test]
fn a_deferred_message_is_retried_on_the_deferred_queue_scan() {
    let Some(mut mx) = instance("t-23-retry", Qmgr::Ours) else {
        return;
    };
    mx.set_main_cf("queue_run_delay", "2s");
    mx.set_main_cf("minimal_backoff_time", "2s");
    mx.start();
    sendmail(
        &mx,
        "user@vmail.e2e.test",
        "far@relay.e2e.test",
        "t23-retry",
    );
    wait_count(&mx, "status=deferred", 1, 60);
    mx.start_sink();
    wait_count(&mx, ": removed", 1, 30);
    assert!(sunk(&mx).iter().any(|m| m.contains("t23-retry")));
    assert_eq!(mx.log().matches("(queue active)").count(), 2);
}

/// With `-v` the queue manager says what it does (triggers, feeds, deliveries, the end
/// of each message); cleanup finds a flow control token for each message.
#[test]
fn verbose_logging_and_flow_control_tokens() {
    let Some(mut mx) = instance("t-23-verbose", Qmgr::Ours) else {
        return;
    };
    mx.replace_master_cf_line(|l| l.starts_with("qmgr "), "qmgr unix n - n 300 1 qmgr -v");
    mx.replace_master_cf_line(
        |l| l.starts_with("cleanup "),
        "cleanup unix n - n - 0 cleanup -v",
    );
    mx.start();
    for n in 0..3 {
        sendmail(
            &mx,
            "root",
            "user@vmail.e2e.test",
            &format!("t23-verbose-{n}"),
        );
        wait_count(&mx, ": removed", n + 1, 30);
    }
    let log = mx.log();
    for needle in [
        "postfix/qmgr",
        "qmgr_active_feed: queue incoming",
        "qmgr_deliver: site `vmail.e2e.test'",
        "qmgr_active_done: ",
        "resolve_clnt: `root@mail.e2e.test' `user@vmail.e2e.test' -> `virtual'",
        "mail_flow_put: ",
    ] {
        assert!(log.contains(needle), "no \"{needle}\" in:\n{log}");
    }
    assert_eq!(
        log.matches("mail_flow_get: 1 1").count(),
        3,
        "a token for each message:\n{log}"
    );
}

/// The type byte of the record that holds `trace_flags=` in `file`.
fn trace_flags_record_type(file: &[u8]) -> Option<u8> {
    let at = file.windows(12).position(|w| w == b"trace_flags=")?;
    // Type byte, one length byte (the record is short), then the data.
    at.checked_sub(2).map(|i| file[i])
}

/// `sendmail -v` for a relay that is down: the report of the first attempt is mailed,
/// and the trace flags record is killed in the deferred file so that the next attempt
/// sends none; the record type and the normalised lines.
fn record_deferred(qmgr: Qmgr) -> Option<(u8, Vec<String>)> {
    let mut mx = instance("t-23-record-defer", qmgr)?;
    mx.start();
    let message = "From: user@vmail.e2e.test\nSubject: t23-rd\n\nbody t23-rd\n";
    let out = mx.sendmail(
        &["-v", "-f", "user@vmail.e2e.test", "far@relay.e2e.test"],
        message,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The report is delivered and removed; the message waits in deferred/.
    wait_count(&mx, ": removed", 1, 60);
    if !wait_until(20, || queue_files(&mx, "deferred").len() == 1) {
        mx.keep_for_inspection();
        panic!("nothing deferred:\n{}", mx.log());
    }
    let (_, path) = queue_files(&mx, "deferred").into_iter().next().unwrap();
    let kind = trace_flags_record_type(&std::fs::read(path).unwrap()).expect("trace_flags");
    Some((kind, lines_of(&mx, &["qmgr", "smtp", "bounce", "virtual"])))
}

#[test]
fn sendmail_v_reports_the_first_attempt_only_as_with_postfix() {
    let Some(ours) = record_deferred(Qmgr::Ours) else {
        return;
    };
    let Some(postfix) = record_deferred(Qmgr::Postfix) else {
        return;
    };
    assert_eq!(ours.0, b'K', "trace flags record not killed");
    assert_eq!(ours, postfix);
}

#[test]
fn a_transport_process_limit_holds_as_with_postfix() {
    // master.cf allows one slow agent: one delivery at a time, whatever the window.
    let Some((ours, _)) = concurrency(Qmgr::Ours, "20", "1") else {
        return;
    };
    let Some((postfix, _)) = concurrency(Qmgr::Postfix, "20", "1") else {
        return;
    };
    assert_eq!((ours, postfix), (1, 1));
}

/// delay_warning_time reached at the first deferral: the sender gets one "delayed
/// mail" notice, and the warning time in the deferred file is marked sent (-1) so
/// that the next attempt sends none; the normalised lines and the W record's text.
fn delay_warning(qmgr: Qmgr) -> Option<(String, Vec<String>)> {
    let mut mx = instance("t-23-warn", qmgr)?;
    mx.set_main_cf("delay_warning_time", "1s");
    mx.start();
    sendmail(&mx, "user@vmail.e2e.test", "far@relay.e2e.test", "t23-warn");
    // The notice is delivered and removed; the message waits in deferred/.
    wait_count(&mx, ": removed", 1, 60);
    if !wait_until(20, || queue_files(&mx, "deferred").len() == 1) {
        mx.keep_for_inspection();
        panic!("nothing deferred:\n{}", mx.log());
    }
    let mailbox = mx.mailbox();
    assert!(
        mailbox
            .iter()
            .any(|m| m.contains("Delayed Mail (still being retried)")),
        "no warning in {mailbox:?}"
    );
    // Another attempt sends no second warning.
    mx.postfix(&["flush"]);
    wait_count(&mx, "status=deferred", 2, 30);
    if !wait_until(20, || queue_files(&mx, "deferred").len() == 1) {
        panic!("not deferred again:\n{}", mx.log());
    }
    let (_, path) = queue_files(&mx, "deferred").into_iter().next().unwrap();
    let file = std::fs::read(path).unwrap();
    let at = file.iter().position(|&b| b == b'W').expect("a W record");
    let warn = String::from_utf8_lossy(&file[at + 2..at + 17]).into_owned();
    Some((warn, lines_of(&mx, &["qmgr", "smtp", "bounce", "virtual"])))
}

#[test]
fn a_delay_warning_is_sent_once_as_with_postfix() {
    let Some(ours) = delay_warning(Qmgr::Ours) else {
        return;
    };
    let Some(postfix) = delay_warning(Qmgr::Postfix) else {
        return;
    };
    assert_eq!(ours.0.trim(), "-1");
    assert_eq!(
        ours.1
            .iter()
            .filter(|l| l.contains("sender delay notification"))
            .count(),
        1
    );
    assert_eq!(ours, postfix);
}

/// Mail for the local double-bounce address is dropped with Postfix's status line; the
/// normalised lines of the queue manager and the discard agent.
fn double_bounce(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-2bounce", qmgr)?;
    mx.start();
    sendmail(
        &mx,
        "user@vmail.e2e.test",
        "double-bounce@mail.e2e.test",
        "t23-2b",
    );
    wait_count(&mx, ": removed", 1, 60);
    assert!(
        queue_files(&mx, "bounce").is_empty(),
        "bounced:\n{}",
        mx.log()
    );
    Some(lines_of(&mx, &["qmgr", "discard"]))
}

#[test]
fn mail_for_the_double_bounce_address_is_dropped_as_with_postfix() {
    let Some(ours) = double_bounce(Qmgr::Ours) else {
        return;
    };
    let Some(postfix) = double_bounce(Qmgr::Postfix) else {
        return;
    };
    // The one known difference: Postfix's qmgr logs the line itself, ours has the
    // discard agent log it, with the same text.
    let mut ours: Vec<String> = ours
        .iter()
        .map(|l| l.replacen("postfix/discard: ", "postfix/qmgr: ", 1))
        .collect();
    ours.sort();
    assert!(
        ours.iter()
            .any(|l| l.ends_with("status=sent (undeliverable postmaster notification discarded)")),
        "{ours:#?}"
    );
    assert_eq!(ours, postfix);
}

/// A transport with no master.cf service: the agent cannot be reached, the message is
/// deferred with "mail transport unavailable"; the normalised lines.
fn missing_transport(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-notransport", qmgr)?;
    mx.write("etc/transport", "nowhere.e2e.test nosuch:\n");
    mx.start();
    sendmail(
        &mx,
        "user@vmail.e2e.test",
        "a@nowhere.e2e.test",
        "t23-nosuch",
    );
    wait_count(&mx, "status=deferred", 1, 60);
    if !wait_until(20, || queue_files(&mx, "deferred").len() == 1) {
        mx.keep_for_inspection();
        panic!("nothing deferred:\n{}", mx.log());
    }
    Some(lines_of(&mx, &["qmgr", "retry", "error"]))
}

#[test]
fn an_unreachable_transport_defers_as_with_postfix() {
    let Some(ours) = missing_transport(Qmgr::Ours) else {
        return;
    };
    let Some(postfix) = missing_transport(Qmgr::Postfix) else {
        return;
    };
    assert_eq!(ours, postfix);
}

/// A header_checks REDIRECT: the message goes to the redirect address only; the
/// normalised lines.
fn redirect(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-redirect", qmgr)?;
    mx.write(
        "etc/header_checks",
        "/^Subject: t23-redirect/ REDIRECT user@vmail.e2e.test\n",
    );
    mx.set_main_cf("header_checks", "regexp:@DIR@/etc/header_checks");
    mx.start();
    let message = "From: root\nSubject: t23-redirect\n\nbody t23-redirect\n";
    let out = mx.sendmail(
        &[
            "-f",
            "root",
            "far@relay.e2e.test",
            "someone@discard.e2e.test",
        ],
        message,
    );
    assert!(out.status.success());
    wait_count(&mx, ": removed", 1, 60);
    assert!(mx.mailbox().iter().any(|m| m.contains("body t23-redirect")));
    Some(lines_of(&mx, &["qmgr", "virtual", "smtp", "discard"]))
}

#[test]
fn a_redirected_message_goes_to_the_redirect_address_only_as_with_postfix() {
    let Some(ours) = redirect(Qmgr::Ours) else {
        return;
    };
    let Some(postfix) = redirect(Qmgr::Postfix) else {
        return;
    };
    assert_eq!(
        ours.iter().filter(|l| l.contains(" to=<")).count(),
        1,
        "{ours:#?}"
    );
    assert_eq!(ours, postfix);
}

/// content_filter: every recipient goes to the filter's transport and next hop (here
/// the relay); the normalised lines.
fn content_filter(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-filter", qmgr)?;
    mx.set_main_cf("content_filter", "smtp:[127.0.0.1]:@SINK_PORT@");
    mx.start_sink();
    mx.start();
    sendmail(&mx, "root", "user@vmail.e2e.test", "t23-filter");
    wait_count(&mx, ": removed", 1, 60);
    assert!(sunk(&mx).iter().any(|m| m.contains("t23-filter")));
    assert!(mx.mailbox().is_empty());
    Some(lines_of(&mx, &["qmgr", "smtp", "virtual"]))
}

#[test]
fn a_content_filter_gets_every_recipient_as_with_postfix() {
    let Some(ours) = content_filter(Qmgr::Ours) else {
        return;
    };
    let Some(postfix) = content_filter(Qmgr::Postfix) else {
        return;
    };
    assert_eq!(ours, postfix);
}
