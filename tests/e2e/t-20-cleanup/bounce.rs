//! A local submission that cleanup refuses is bounced by cleanup itself, as Postfix's
//! cleanup does (cleanup_bounce.c): pickup asks for it (CLEANUP_FLAG_BOUNCE), a header
//! check rejects the message, cleanup hands each recipient to Postfix's bounce service,
//! logs `status=bounced`, has the notice sent to the sender and answers success, so that
//! the maildrop file goes away. The log lines and the non-delivery notice (queued through
//! the same cleanup) must equal those of Postfix's cleanup.

use crate::harness::{Pair, cleanup_log_since, normalize_stamp, normalized, queued, sendmail};
use e2e::{Instance, wait_until};

/// The queue ID of the rejected message: the one cleanup logged `reject:` for.
fn rejected_id(mx: &Instance, mark: usize) -> String {
    let mut id = None;
    wait_until(10, || {
        id = mx.log().get(mark..).and_then(|log| {
            log.lines()
                .filter(|l| l.contains("/cleanup[") && l.contains(": reject: "))
                .find_map(|l| Some(l.split_once("]: ")?.1.split_once(": ")?.0.to_string()))
        });
        id.is_some()
    });
    id.unwrap_or_else(|| panic!("no reject line; log:\n{}", mx.log()))
}

#[test]
fn refused_local_submissions_bounce_as_with_postfix_s_cleanup() {
    let Some(pair) = Pair::new(
        "t-20-bounce",
        "header_checks = regexp:@DIR@/etc/header_checks\n",
        &[(
            "etc/header_checks",
            "/^Subject: t20-bounce/ REJECT 5.7.1 go away\n",
        )],
    ) else {
        return;
    };
    let mut seen = Vec::new();
    for mx in [&pair.ours, &pair.theirs] {
        let mark = mx.log().len();
        sendmail(
            mx,
            &[
                "-f",
                "sender@e2e.test",
                "user@vmail.e2e.test",
                "other@e2e.test",
            ],
            "Subject: t20-bounce\nTo: user@vmail.e2e.test\n\nbody\n",
        );
        let old_id = rejected_id(mx, mark);
        // The notice, queued through the same cleanup.
        let (new_id, notice) = queued(mx, "Undelivered Mail Returned to Sender");
        let ok = wait_until(10, || {
            mx.leftovers_in_maildrop().is_empty()
                && !mx.dir.join("queue/incoming").join(&old_id).exists()
        });
        if !ok {
            pair.keep();
            panic!("the refused message stayed; log:\n{}", mx.log());
        }
        // Both recipients' status lines, and the notice's own message-id line.
        wait_until(5, || {
            let log = cleanup_log_since(mx, mark, &old_id);
            let bounced = log.iter().filter(|l| l.contains("status=bounced")).count();
            bounced == 2
                && log
                    .iter()
                    .any(|l| l.starts_with(&format!("{new_id}: message-id")))
        });
        let stamp = |text: &str| {
            // The notice's boundary and dates hold the refused message's ID and times.
            let text = text.replace(&old_id, "OLDID");
            match text.find("OLDID.") {
                Some(at) => {
                    let end = text[at + 6..].find('/').map_or(text.len(), |i| at + 6 + i);
                    format!("{}OLDID.TIME{}", &text[..at], &text[end..])
                }
                None if text.starts_with("N Arrival-Date: ") => "N Arrival-Date: DATE".to_string(),
                None => normalize_stamp(&text, "OLDID"),
            }
        };
        let notice: Vec<String> = normalized(&notice, &new_id)
            .iter()
            .map(|r| stamp(r))
            .collect();
        let log: Vec<String> = cleanup_log_since(mx, mark, &old_id)
            .iter()
            .map(|l| normalize_stamp(&l.replace(&new_id, "NEWID"), "NEWID"))
            .map(|l| stamp(&l))
            .collect();
        seen.push((log, notice));
    }
    if seen[0] != seen[1] {
        pair.keep();
    }
    assert_eq!(seen[0].0, seen[1].0, "cleanup's log lines");
    assert_eq!(seen[0].1, seen[1].1, "the non-delivery notice");
    assert!(
        seen[0]
            .0
            .iter()
            .any(|l| l.contains("status=bounced (go away)")),
        "{:?}",
        seen[0].0
    );
}
