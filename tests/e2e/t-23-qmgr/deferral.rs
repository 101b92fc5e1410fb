//! Deferred mail: deferred/ with the defer log and the retry time (by the message's age in
//! the queue, within the minimal and maximal backoff times), postfix flush, the
//! deferred queue scan, expiry, delay warnings, and recovery of active/ after a restart.

use crate::harness::*;
use e2e::wait_until;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;

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
    sendmail(&mx, USER, FAR, "t23-defer");
    wait_count(&mx, "status=deferred", 1, 60);
    wait_queue(&mx, "deferred", 1);
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
    let Some((ours, postfix)) = both(deferral) else {
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
    sendmail(&mx, USER, FAR, "t23-retry");
    wait_count(&mx, "status=deferred", 1, 60);
    mx.start_sink();
    wait_count(&mx, ": removed", 1, 30);
    assert!(sunk(&mx).iter().any(|m| m.contains("t23-retry")));
    assert_eq!(mx.log().matches("(queue active)").count(), 2);
}

/// maximal_queue_lifetime = 0 and the relay down: the first deferral expires the
/// message, the defer service returns it to the sender; the normalised lines.
fn expiry(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-expire", qmgr)?;
    mx.set_main_cf("maximal_queue_lifetime", "0");
    mx.start();
    sendmail(&mx, USER, FAR, "t23-expire");
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
    let Some((ours, postfix)) = both(expiry) else {
        return;
    };
    assert_line(&ours, "status=expired, returned to sender");
    assert_eq!(ours, postfix);
}

/// A message left in active/ (the queue manager died while delivering it) is
/// delivered after a restart; the normalised lines of the second run.
fn recovery(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-recover", qmgr)?;
    mx.start();
    sendmail(&mx, USER, FAR, "t23-recover");
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
    let Some((ours, postfix)) = both(recovery) else {
        return;
    };
    assert_eq!(ours, postfix);
}

/// delay_warning_time reached at the first deferral: the sender gets one "delayed
/// mail" notice, and the warning time in the deferred file is marked sent (-1) so
/// that the next attempt sends none; the normalised lines and the W record's text.
fn delay_warning(qmgr: Qmgr) -> Option<(String, Vec<String>)> {
    let mut mx = instance("t-23-warn", qmgr)?;
    mx.set_main_cf("delay_warning_time", "1s");
    mx.start();
    sendmail(&mx, USER, FAR, "t23-warn");
    // The notice is delivered and removed; the message waits in deferred/.
    wait_count(&mx, ": removed", 1, 60);
    wait_queue(&mx, "deferred", 1);
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
    wait_queue(&mx, "deferred", 1);
    let (_, path) = queue_files(&mx, "deferred").into_iter().next().unwrap();
    let file = std::fs::read(path).unwrap();
    let at = file.iter().position(|&b| b == b'W').expect("a W record");
    let warn = String::from_utf8_lossy(&file[at + 2..at + 17]).into_owned();
    Some((warn, lines_of(&mx, &["qmgr", "smtp", "bounce", "virtual"])))
}

#[test]
fn a_delay_warning_is_sent_once_as_with_postfix() {
    let Some((ours, postfix)) = both(delay_warning) else {
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

/// `postsuper -e` on a deferred message, then `postfix flush`: it is returned to the
/// sender with its defer log as the reason ("force-expired"); the normalised lines.
fn force_expiry(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-force-expire", qmgr)?;
    mx.start();
    sendmail(&mx, USER, FAR, "t23-force");
    wait_count(&mx, "status=deferred", 1, 60);
    wait_queue(&mx, "deferred", 1);
    let (id, _) = queue_files(&mx, "deferred").into_iter().next().unwrap();
    let out = mx.run_with_input(mx.dir.join("sbin/postsuper"), &["-e", &id], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    mx.postfix(&["flush"]);
    // The message and the notice.
    wait_count(&mx, ": removed", 2, 60);
    assert!(mx.mailbox().iter().any(|m| m.contains("t23-force")));
    Some(lines_of(
        &mx,
        &["qmgr", "smtp", "bounce", "virtual", "postsuper"],
    ))
}

#[test]
fn postsuper_e_returns_a_message_as_with_postfix() {
    let Some((ours, postfix)) = both(force_expiry) else {
        return;
    };
    assert_line(&ours, "status=force-expired, returned to sender");
    assert_eq!(ours, postfix);
}

/// `postqueue -i` on a deferred message once the relay is back: delivered at once; the
/// normalised lines.
fn deliver_one(qmgr: Qmgr) -> Option<Vec<String>> {
    let mut mx = instance("t-23-postqueue-i", qmgr)?;
    mx.start();
    sendmail(&mx, USER, FAR, "t23-one");
    wait_count(&mx, "status=deferred", 1, 60);
    wait_queue(&mx, "deferred", 1);
    let (id, _) = queue_files(&mx, "deferred").into_iter().next().unwrap();
    mx.start_sink();
    let out = mx.run_with_input(mx.dir.join("sbin/postqueue"), &["-i", &id], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_count(&mx, ": removed", 1, 60);
    assert!(sunk(&mx).iter().any(|m| m.contains("t23-one")));
    Some(lines_of(&mx, &["qmgr", "smtp"]))
}

#[test]
fn postqueue_i_delivers_one_message_at_once_as_with_postfix() {
    let Some((ours, postfix)) = both(deliver_one) else {
        return;
    };
    assert_eq!(ours, postfix);
}

/// The ages given to the messages of the backoff scenario (seconds in the queue) and
/// the wait Postfix's qmgr gives each after a failed attempt: the age itself, within
/// minimal_backoff_time (300s) and maximal_backoff_time (4000s).
const AGES: [(i64, i64); 4] = [
    (120, 300),
    (3600, 3600),
    (3 * 3600, 4000),
    (5 * 86400, 4000),
];

/// Moves a queue file's `create_time` attribute `secs` back: Postfix's qmgr takes the
/// message's time in the queue from it, not from the arrival time (the T record, left
/// alone, so that a queue manager reading the wrong one is caught). The new time has as
/// many digits as the old, so the file keeps its length and offsets.
fn age_queue_file(path: &std::path::Path, secs: i64) {
    fn earlier(text: &str, secs: i64) -> String {
        let aged = (text.parse::<i64>().unwrap() - secs).to_string();
        assert_eq!(aged.len(), text.len(), "{text} - {secs}");
        aged
    }
    let mut file = std::fs::read(path).unwrap();
    let (mut at, mut edited) = (0, 0);
    // The envelope records up to the content (M); each is a type, a length in 7-bit
    // groups (low first) and the data.
    while file[at] != b'M' {
        let kind = file[at];
        let (mut len, mut shift, mut pos) = (0usize, 0, at + 1);
        loop {
            let b = file[pos];
            len |= usize::from(b & 0x7f) << shift;
            shift += 7;
            pos += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        let text = String::from_utf8_lossy(&file[pos..pos + len]).into_owned();
        if let Some(sec) = text.strip_prefix("create_time=").filter(|_| kind == b'A') {
            let new = format!("create_time={}", earlier(sec, secs));
            file[pos..pos + len].copy_from_slice(new.as_bytes());
            edited += 1;
        }
        at = pos + len;
    }
    assert_eq!(edited, 1, "no create_time record in {}", path.display());
    std::fs::write(path, file).unwrap();
}

/// Four deferred messages made 2 minutes, 1 hour, 3 hours and 5 days old; after a
/// second failed attempt (the relay is down: a 4xx), how far in the future each
/// deferred file's time stamp (the next try) is, by age.
fn backoff_by_age(qmgr: Qmgr) -> Option<Vec<(i64, i64)>> {
    let mut mx = instance("t-23-backoff", qmgr)?;
    // The 5-day-old message must not expire.
    mx.set_main_cf("maximal_queue_lifetime", "10d");
    mx.start();
    for (age, _) in AGES {
        sendmail(&mx, USER, FAR, &format!("t23-age-{age}s"));
    }
    wait_count(&mx, "status=deferred", AGES.len(), 60);
    wait_queue(&mx, "deferred", AGES.len());
    mx.postfix(&["stop"]);
    let mut ages = BTreeMap::new();
    for (id, path) in queue_files(&mx, "deferred") {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let (age, _) = AGES
            .iter()
            .find(|(age, _)| text.contains(&format!("t23-age-{age}s")))
            .unwrap_or_else(|| panic!("{id}: which message?"));
        age_queue_file(&path, *age);
        ages.insert(id, *age);
    }
    assert_eq!(ages.len(), AGES.len());
    mx.start();
    mx.postfix(&["flush"]);
    wait_count(&mx, "status=deferred", 2 * AGES.len(), 60);
    let settled = || {
        queue_files(&mx, "deferred").len() == AGES.len()
            && queue_files(&mx, "active").is_empty()
            && queue_files(&mx, "incoming").is_empty()
    };
    if !wait_until(20, settled) {
        mx.keep_for_inspection();
        panic!("not all deferred again:\n{}", mx.log());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut out: Vec<(i64, i64)> = queue_files(&mx, "deferred")
        .into_iter()
        .map(|(id, path)| (ages[&id], std::fs::metadata(path).unwrap().mtime() - now))
        .collect();
    out.sort();
    Some(out)
}

#[test]
fn a_deferred_message_waits_by_its_age_as_with_postfix() {
    let Some((ours, postfix)) = both(backoff_by_age) else {
        return;
    };
    // Each next try is the expected wait from the time of the attempt; a few seconds
    // of slack for the time between the attempt and the look at the files.
    for (who, waits) in [("ours", &ours), ("postfix", &postfix)] {
        for ((age, wait), (expected_age, expected)) in waits.iter().zip(AGES) {
            assert_eq!(*age, expected_age);
            assert!(
                (expected - 10..=expected + 1).contains(wait),
                "{who}: a message {age}s old waits {wait}s, not {expected}s: ours {ours:?}, postfix {postfix:?}"
            );
        }
    }
    for (ours, postfix) in ours.iter().zip(&postfix) {
        assert!((ours.1 - postfix.1).abs() <= 10, "{ours:?} vs {postfix:?}");
    }
}
