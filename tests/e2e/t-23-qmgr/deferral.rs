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

/// The ages given to the messages of the backoff scenario, in seconds in the queue.
/// Postfix's qmgr makes each wait its age after a failed attempt, within
/// minimal_backoff_time (300s) and maximal_backoff_time (4000s): 300, 1800, 3600, 4000
/// and 4000 seconds. The 1800s one is a file of Postfix before 2.3, with no create
/// time: its age is its arrival time's.
const AGES: [i64; 5] = [120, 1800, 3600, 3 * 3600, 5 * 86400];
/// The age given by the arrival time alone.
const LEGACY_AGE: i64 = 1800;

/// Moves a queue file's `create_time` attribute `secs` back: Postfix's qmgr takes the
/// message's time in the queue from it, not from the arrival time (the T record, left
/// alone, so that a queue manager reading the wrong one is caught). With `legacy`, the
/// arrival time is moved instead and the attribute renamed to one qmgr ignores, as in
/// a file without it. The new time has as many digits as the old, so the file keeps
/// its length and offsets; its time stamp is kept. Returns the time the message's age is counted from.
fn age_queue_file(path: &std::path::Path, secs: i64, legacy: bool) -> i64 {
    fn earlier(text: &str, secs: i64) -> String {
        let aged = (text.parse::<i64>().unwrap() - secs).to_string();
        assert_eq!(aged.len(), text.len(), "{text} - {secs}");
        aged
    }
    let mut file = std::fs::read(path).unwrap();
    let (mut at, mut edited, mut since) = (0, 0, 0);
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
        let new = match (kind, text.split_once(['=', ' '])) {
            (b'A', Some(("create_time", sec))) if legacy => Some(format!("xreate_time={sec}")),
            (b'A', Some(("create_time", sec))) => {
                since = earlier(sec, secs).parse().unwrap();
                Some(format!("create_time={since}"))
            }
            (b'T', Some((sec, usec))) if legacy => {
                since = earlier(sec, secs).parse().unwrap();
                Some(format!("{since} {usec}"))
            }
            _ => None,
        };
        if let Some(new) = new {
            file[pos..pos + len].copy_from_slice(new.as_bytes());
            edited += 1;
        }
        at = pos + len;
    }
    let want = if legacy { 2 } else { 1 };
    assert_eq!(
        edited,
        want,
        "no create_time or T record in {}",
        path.display()
    );
    // The time stamp (the next try, in the future) is kept, so that only the flush
    // makes the next attempt, not the deferred queue scan of the restarted qmgr.
    let stamp = std::fs::metadata(path).unwrap().modified().unwrap();
    std::fs::write(path, file).unwrap();
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| {
            f.set_times(
                std::fs::FileTimes::new()
                    .set_accessed(stamp)
                    .set_modified(stamp),
            )
        })
        .unwrap();
    since
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The minimal and maximal backoff times of a run.
type Backoff = (i64, i64);

/// A message's next try after a failed attempt at `attempt`, as Postfix's
/// qmgr_active_done_3_generic() sets it: its age then, at most the maximal backoff
/// time, then at least the minimal.
fn next_try(since: i64, attempt: i64, (min, max): Backoff) -> i64 {
    attempt + (attempt - since).min(max).max(min)
}

/// Five deferred messages made 2 minutes, half an hour (by the arrival time alone), 1
/// hour, 3 hours and 5 days old; after a second failed attempt (the relay is down: a
/// 4xx), each deferred file's time stamp (the next try) must be [`next_try`] for an
/// attempt between the restart and the look at the files. By age: the wait, how far
/// in the future the next try is when the files are looked at.
fn backoff_by_age(qmgr: Qmgr, backoff: Backoff) -> Option<Vec<(i64, i64)>> {
    let mut mx = instance(&format!("t-23-backoff-{}-{}", backoff.0, backoff.1), qmgr)?;
    mx.set_main_cf("minimal_backoff_time", &format!("{}s", backoff.0));
    mx.set_main_cf("maximal_backoff_time", &format!("{}s", backoff.1));
    // The 5-day-old message must not expire.
    mx.set_main_cf("maximal_queue_lifetime", "10d");
    mx.start();
    for age in AGES {
        sendmail(&mx, USER, FAR, &format!("t23-age-{age}s"));
    }
    wait_count(&mx, "status=deferred", AGES.len(), 60);
    wait_queue(&mx, "deferred", AGES.len());
    mx.postfix(&["stop"]);
    let mut ages = BTreeMap::new();
    for (id, path) in queue_files(&mx, "deferred") {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let age = *AGES
            .iter()
            .find(|age| text.contains(&format!("t23-age-{age}s")))
            .unwrap_or_else(|| panic!("{id}: which message?"));
        let since = age_queue_file(&path, age, age == LEGACY_AGE);
        ages.insert(id, (age, since));
    }
    assert_eq!(ages.len(), AGES.len());
    let before = unix_now();
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
    let after = unix_now();
    let mut out = Vec::new();
    for (id, path) in queue_files(&mx, "deferred") {
        let (age, since) = ages[&id];
        let at = std::fs::metadata(path).unwrap().mtime();
        let (earliest, latest) = (
            next_try(since, before, backoff),
            next_try(since, after, backoff),
        );
        if !(earliest..=latest).contains(&at) {
            mx.keep_for_inspection();
            panic!(
                "{qmgr:?}: a message {age}s old is tried again in {}s, not {}..={}s",
                at - after,
                earliest - after,
                latest - after
            );
        }
        out.push((age, at - after));
    }
    out.sort();
    Some(out)
}

#[test]
fn a_deferred_message_waits_by_its_age_as_with_postfix() {
    let Some((ours, postfix)) = both(|qmgr| backoff_by_age(qmgr, (300, 4000))) else {
        return;
    };
    same_waits(&ours, &postfix);
}

/// maximal_backoff_time below minimal_backoff_time: every message waits the minimal
/// time, as the maximal is applied first.
#[test]
fn a_maximal_backoff_below_the_minimal_gives_the_minimal_as_with_postfix() {
    let Some((ours, postfix)) = both(|qmgr| backoff_by_age(qmgr, (1000, 500))) else {
        return;
    };
    for (age, wait) in &ours {
        assert!((990..=1000).contains(wait), "{age}s old: {wait}s");
    }
    same_waits(&ours, &postfix);
}

/// The two runs' waits differ only by the seconds each took.
fn same_waits(ours: &[(i64, i64)], postfix: &[(i64, i64)]) {
    assert_eq!(ours.len(), AGES.len());
    for (ours, postfix) in ours.iter().zip(postfix) {
        assert_eq!(ours.0, postfix.0);
        assert!(
            (ours.1 - postfix.1).abs() <= 10,
            "ours {ours:?} vs postfix {postfix:?}"
        );
    }
}
